"""A look (a measurement; nothing proposed): can a bundle branch block be told from a record's
typical QRS, so that a reading of whole records could help the 8-class models on new patients
(whose cross-validation reads LBB and RBB beats at 3-5% Se)? On the 22 AAMI DS1 records only
(4 with a bundle branch block: 109 and 207 LBB, 118 and 124 RBB), with their reference beats:

1. the typical QRS's width as the V-template reading measures it (time at or above half the peak
   absolute amplitude, ``ecg_core.beats.qrs_width_s``) on MLII and the other lead, and the mean
   of the typical QRS 40-100 ms after R (the terminal deflection);
2. for six of them, the QRS duration NeuroKit2's wavelet delineation gives (``ecg_delineate``,
   method "dwt": R onsets to R offsets, median over beats).

    python models/experiments/bundle-branch-width-2026-12-06/look.py > look.txt
"""

from __future__ import annotations

import collections
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

from ecg_core.beats import BEAT_SYMBOLS, qrs_width_s, typical_qrs  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.protocols import AAMI_DS1  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

MITDB = ROOT.parent / "shared" / "mitdb"
DELINEATED = ("101", "112", "109", "118", "124", "207")


def main() -> None:
    import neurokit2 as nk

    print("| record | beats (commonest) | MLII width ms | MLII terminal mV | other lead | "
          "width ms | terminal mV | NeuroKit2 QRS ms, MLII |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    for name in AAMI_DS1:
        rec = read_record(MITDB / name, lead="MLII", annotator="atr", other_lead=True)
        ann = rec.annotations
        pos = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
        common = collections.Counter(s for s in ann.symbol if s in BEAT_SYMBOLS).most_common(3)
        cells = []
        for x in (rec.signal, rec.other_signal):
            t, typ = typical_qrs(condition_signal(x, rec.fs, "bandpass"), pos, rec.fs)
            cells += [f"{1000 * qrs_width_s(typ, rec.fs):.0f}",
                      f"{typ[(t > 0.04) & (t < 0.10)].mean():+.2f}"]
        dwt = ""
        if name in DELINEATED:
            clean = nk.ecg_clean(rec.signal, sampling_rate=int(rec.fs))
            _, waves = nk.ecg_delineate(clean, {"ECG_R_Peaks": pos},
                                        sampling_rate=int(rec.fs), method="dwt")
            d = (np.array(waves["ECG_R_Offsets"], float)
                 - np.array(waves["ECG_R_Onsets"], float)) / rec.fs * 1000
            dwt = f"{np.nanmedian(d):.0f} ({np.isfinite(d).mean():.0%} of beats)"
        print(f"| {name} | {', '.join(f'{s} {n}' for s, n in common)} | {cells[0]} | "
              f"{cells[1]} | {rec.other_lead} | {cells[2]} | {cells[3]} | {dwt} |")


if __name__ == "__main__":
    main()
