"""A look, before any rule: are the ventricular beats the committed reading misses (read N
or S) marked by a QRS unlike the record's typical QRS, as the normal beats are not?

DS1 only (22 records), beats as built, each read by the committed reading (E2, shift, R95,
AF-fold) from the cross-validation outputs that never saw its patient. Writes measure.json.

    python models/experiments/unlike-qrs-2026-12-05/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import beat_snr_db, record_readings  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "atrial_measure", EXPERIMENTS / "atrial-activity-2026-12-05" / "measure.py")
_m = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_m)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())


def committed():
    """DS1-OOF under the committed reading: labels, probabilities, records, samples, codes,
    QRS similarity, SNR (dB)."""
    y, p, names, samples, codes, signals = _m.committed_reading()  # E2, shift, R95
    q, sim, snr = p.copy(), np.full(len(y), np.nan), np.full(len(y), np.nan)
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        # R95 is already applied; AF-fold as committed, and the similarity R95 used
        got = record_readings(p[idx], sig, samples[idx], fs, codes,
                              dominant_qrs={"threshold": 2.0},  # measures, changes nothing
                              af_fold=CARD["af_fold"])
        q[idx], sim[idx] = got.probabilities, got.qrs_similarity
        snr[idx] = beat_snr_db(sig, samples[idx], fs)
    return y, q, names, samples, codes, sim, snr


def main() -> int:
    y, q, names, samples, codes, sim, snr = committed()
    pred = q.argmax(axis=1)
    n, s, v = codes.index("N"), codes.index("S"), codes.index("V")
    pv = q[:, v]
    groups = {"V beats read N or S": (y == v) & np.isin(pred, [n, s]),
              "V beats read V": (y == v) & (pred == v),
              "N beats read N": (y == n) & (pred == n),
              "S beats read N or S": (y == s) & np.isin(pred, [n, s])}
    qs = [5, 10, 25, 50, 75, 90]
    out = {"similarity quantiles 5/10/25/50/75/90 (n)": {
        k: [round(float(x), 3) for x in np.nanpercentile(sim[m], qs)] + [int(m.sum())]
        for k, m in groups.items()},
        "p(V) quantiles (n)": {k: [round(float(x), 3) for x in np.nanpercentile(pv[m], qs)]
                               + [int(m.sum())] for k, m in groups.items()}}
    grid = {}
    for t in (0.0, 0.2, 0.3, 0.4, 0.5):
        for pmin in (0.0, 0.05, 0.1, 0.2):
            cand = np.isin(pred, [n, s]) & (sim < t) & (pv >= pmin)
            clean = cand & (snr >= 18)
            grid[f"sim<{t} pV>={pmin}"] = {
                "V found": int((cand & (y == v)).sum()),
                "non-V called V": int((cand & (y != v)).sum()),
                "with SNR >= 18 dB: V found": int((clean & (y == v)).sum()),
                "with SNR >= 18 dB: non-V": int((clean & (y != v)).sum())}
    out["promote to V where"] = grid
    missed = groups["V beats read N or S"]
    out["missed V by record"] = {r: int((missed & (names == r)).sum())
                                 for r in sorted(set(names[missed]))}
    out["V beats"] = int((y == v).sum())
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
