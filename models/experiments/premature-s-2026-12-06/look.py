"""The look that led to RULE.md (disclosed): on DS1-OOF (the 22 DS1 patients, each read by the
cross-validation networks that never saw it) after every committed reading of whole records,
the beats still read N in a regular rhythm (not :func:`irregular_rr`): how many true S beats
among them are premature against the surrounding rhythm, followed by a longer interval, with
the usual QRS, and how many others are. Also what the S calls look like by the same measure.
Writes look.txt.

    python models/experiments/premature-s-2026-12-06/look.py
"""

from __future__ import annotations

import collections
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import irregular_rr, qrs_similarity  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "fusion_look", HERE.parent / "fusion-fold-2026-12-06" / "look.py")
_f = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_f)
_s = _f._s
REFERENCE_BEATS = 8


def rr_ratios(positions: np.ndarray, fs: float, beats: int = REFERENCE_BEATS):
    """Each beat's RR interval before it and after it over the reference RR: the median of up
    to ``beats`` intervals before the one before it and ``beats`` after the one after it
    (the beat's own two intervals left out). float64 (n,) each, NaN where undefined."""
    rr = np.diff(np.asarray(positions, dtype=np.float64)) / fs
    n = len(positions)
    pre, post, ref = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if n > 1:
        pre[1:], post[:-1] = rr, rr
    for i in range(1, n - 1):
        around = np.r_[rr[max(0, i - 1 - beats):i - 1], rr[i + 1:i + 1 + beats]]
        if len(around):
            ref[i] = np.median(around)
    return pre / ref, post / ref


def features(names, samples, align_s):
    """Per DS1-OOF beat: irregular flag, QRS similarity (aligned, MLII), pre and post ratios."""
    irr = np.zeros(len(names), bool)
    sim, pre, post = (np.full(len(names), np.nan) for _ in range(3))
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_s.SHARED / "mitdb" / name, lead="MLII", annotator=None)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        irr[idx] = irregular_rr(samples[idx], rec.fs)
        sim[idx] = qrs_similarity(sig, samples[idx], rec.fs, align_s)
        pre[idx], post[idx] = rr_ratios(samples[idx], rec.fs)
    return irr, sim, pre, post


def main() -> int:
    y, p, names, samples, codes = _s._a.ds1_oof()
    out = _f.committed(p, names, samples, codes)
    pred = out.argmax(axis=1)
    irr, sim, pre, post = features(names, samples, _s.ALIGN_S)
    n_, s_ = codes.index("N"), codes.index("S")
    base = (pred == n_) & ~irr
    lines = [f"beats read N in a regular rhythm: {int(base.sum())}, true S among them: "
             f"{int((base & (y == s_)).sum())}",
             "pre, post: the RR before / after the beat over the median of the 8 before and 8 "
             "after those; sim: QRS similarity to the typical QRS (MLII, aligned)"]
    for th in (0.75, 0.8, 0.85, 0.9):
        for pth in (1.0, 1.1):
            m = base & (pre < th) & (post > pth) & (sim >= 0.95)
            by = {codes[k]: int((m & (y == k)).sum()) for k in range(len(codes))}
            lines.append(f"pre < {th}, post > {pth}, sim >= 0.95: {int(m.sum())} beats {by}; "
                         f"S by record {collections.Counter(names[m & (y == s_)].tolist()).most_common(6)}; "
                         f"others by record {collections.Counter(names[m & (y != s_)].tolist()).most_common(6)}")
    calls = pred == s_
    for lab, m in (("S calls, true S", calls & (y == s_)), ("S calls, true N", calls & (y == n_))):
        for flag in (False, True):
            mm = m & (irr == flag)
            q = np.nanpercentile(pre[mm], [10, 25, 50, 75, 90]).round(2) if mm.any() else []
            lines.append(f"{lab}, irregular {flag}: {int(mm.sum())}, pre quartiles 10/25/50/75/90 {list(q)}")
    (HERE / "look.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
