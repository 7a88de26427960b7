"""A look, before any rule: the per-beat part of the dominant-QRS reading (a V call whose QRS
on the chosen lead has cosine >= 0.95 with the typical QRS is read again) on DS1-OOF with MLII
chosen and with the leads swapped. For the V calls it re-reads: how many are ventricular, and
how alike the typical QRS they are on both leads side by side (`two_lead_qrs_similarity`)?

DS1-OOF only (the 22 DS1 patients read by the cross-validation networks that never saw them;
their outputs come from MLII images in both settings). No QT record, no DS2 record.

    python models/experiments/dominant-qrs-per-beat-leads-2026-12-06/look.py > look.txt
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import qrs_similarity, two_lead_qrs_similarity  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "align_score", HERE.parent / "qrs-alignment-2026-12-05" / "score.py")
_a = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_a)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = CARD["qrs_alignment"]["max_shift_ms"] / 1000.0
BOUND = CARD["dominant_qrs"]["threshold"]


def main() -> int:
    y, p, names, samples, codes = _a.ds1_oof()
    v = codes.index("V")
    called = p.argmax(axis=1) == v
    rows = {False: [], True: []}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_a._m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        for swap in (False, True):
            first, second = (other, sig) if swap else (sig, other)
            one = qrs_similarity(first, samples[idx], rec.fs, ALIGN_S)
            two = two_lead_qrs_similarity(first, second, samples[idx], rec.fs, ALIGN_S)
            hit = called[idx] & (one >= BOUND)
            for i in np.flatnonzero(hit):
                rows[swap].append((name, int(y[idx][i] == v), float(one[i]), float(two[i])))
    for swap, got in rows.items():
        print(f"## {'leads swapped (second lead chosen)' if swap else 'MLII chosen'}: "
              f"{len(got)} V calls at one-lead similarity >= {BOUND}")
        true_v = np.array([r[1] for r in got], bool)
        two = np.array([r[3] for r in got])
        print(f"ventricular {true_v.sum()}, other {(~true_v).sum()}")
        print("| two-lead similarity under | ventricular | other |")
        print("|---:|---:|---:|")
        for b in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
            print(f"| {b} | {int((true_v & (two < b)).sum())} | {int((~true_v & (two < b)).sum())} |")
        per = {}
        for name, tv, _, t in got:
            per.setdefault(name, [0, 0])[0 if tv else 1] += 1
        print("per record (ventricular, other): "
              + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(per.items())))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
