"""Addendum to PLAN.md (written after its two measurements, DS1 only): nRMSSD alone flags
ectopy-dense records (bigeminy in 119) as often as atrial fibrillation, so the randomness
tests of Dash et al. 2009 (Ann Biomed Eng 37:1701-1709) were added: a window is called
atrial fibrillation when its nRMSSD (4 longest and shortest intervals left out) exceeds t1,
its turning-point count lies within two standard deviations of a random series' (mean
(2N-4)/3, variance (16N-29)/90), and the Shannon entropy of its 16-bin RR histogram (over
log 16) exceeds t3. Prints, for windows of 32 and 64 intervals and a small grid of t1 and t3,
the share of beats in atrial fibrillation or flutter found, of the other beats flagged, of the
S beats outside those rhythms flagged, and per record the other beats flagged. Run from the
repository root:

    python models/experiments/af-context-2026-12-05/addendum.py > addendum.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2]))

import measure as M  # noqa: E402


def window_features(samples: np.ndarray, fs: float, width: int) -> np.ndarray:
    """(nRMSSD, turning-point z-score, normalised Shannon entropy) around each beat."""
    rr = np.diff(samples) / fs
    out = np.zeros((len(samples), 3))
    for i in range(len(samples)):
        lo = max(0, min(i - width // 2, len(rr) - width))
        w = rr[lo:lo + width]
        t = M._trim(w) if len(w) > 2 * M.DROP + 2 else w
        d = np.diff(t)
        nrmssd = np.sqrt(np.mean(d ** 2)) / np.mean(t) if len(d) else 0.0
        mid = w[1:-1]
        turns = np.sum(((mid > w[:-2]) & (mid > w[2:])) | ((mid < w[:-2]) & (mid < w[2:])))
        n = len(w)
        z = (turns - (2 * n - 4) / 3) / np.sqrt((16 * n - 29) / 90)
        h, _ = np.histogram(t, bins=16)
        p = h[h > 0] / h.sum()
        out[i] = (nrmssd, z, float(-(p * np.log(p)).sum() / np.log(16)))
    return out


def main() -> int:
    _, y, records, samples = M.ds1_oof_beats()
    shown = ["106", "119", "201", "203", "207", "208", "215", "223", "220", "116", "205"]
    for width in (32, 64):
        feats = np.zeros((len(y), 3))
        rhythm = np.empty(len(y), dtype=object)
        for rec in sorted(set(records)):
            m = np.flatnonzero(records == rec)
            order = m[np.argsort(samples[m])]
            rhythm[order] = M.rhythm_at(rec, samples[order])
            feats[order] = window_features(samples[order], 360.0, width)
        af = np.isin(rhythm, M.AF_RHYTHMS)
        for t1 in (0.1, 0.15):
            for t3 in (0.5, 0.6, 0.7):
                flag = (feats[:, 0] > t1) & (np.abs(feats[:, 1]) <= 2) & (feats[:, 2] > t3)
                per = {r: round(float(flag[(records == r) & ~af].mean()), 3) for r in shown}
                print(f"width {width} t1 {t1} t3 {t3}: af found {flag[af].mean():.3f}, "
                      f"others flagged {flag[~af].mean():.4f}, S outside af flagged "
                      f"{flag[(y == 1) & ~af].mean():.3f}; others flagged by record {per}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
