"""A look (disclosed) at the S beats the committed readings miss on DS1-OOF: per record, and
for beats read N, how their stretch before the QRS compares with the median stretch of the
record's S calls and of its N calls, and their RR prematurity. No DS2 or held-out QT record.

    python models/experiments/s-atrial-template-2026-12-06/look.py > look.txt
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import ATRIAL_STRETCH_S, record_readings, rr_intervals  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "align_score", HERE.parent / "qrs-alignment-2026-12-05" / "score.py")
_a = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_a)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = CARD["qrs_alignment"]["max_shift_ms"] / 1000.0


def stretches(x, pos, fs):
    first, last = (int(round(s * fs)) for s in ATRIAL_STRETCH_S)
    ok = (pos - first >= 0) & (pos - last < len(x))
    out = np.full((len(pos), first - last), np.nan)
    idx = np.flatnonzero(ok)
    out[idx] = x[pos[idx][:, None] + np.arange(-first, -last)[None]]
    return out - np.nanmean(out, axis=1, keepdims=True)


def pearson(a, t):
    t = t - t.mean()
    return (a @ t) / (np.linalg.norm(a, axis=1) * np.linalg.norm(t) + 1e-12)


def main():
    y, p, names, samples, codes = _a.ds1_oof()
    n_i, s_i, v_i = codes.index("N"), codes.index("S"), codes.index("V")
    rows = []
    print("| record | S | S read S | S read N | N read S | S calls |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_a._m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        pos = samples[idx]
        q = record_readings(p[idx], sig, pos, rec.fs, codes, dominant_qrs=CARD["dominant_qrs"],
                            af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                            other_signal=other, qrs_align_s=ALIGN_S).probabilities
        pred, yy = q.argmax(1), y[idx]
        print(f"| {name} | {(yy == s_i).sum()} | {((yy == s_i) & (pred == s_i)).sum()} | "
              f"{((yy == s_i) & (pred == n_i)).sum()} | {((yy == n_i) & (pred == s_i)).sum()} | "
              f"{(pred == s_i).sum()} |")
        st = stretches(sig, pos, rec.fs)
        prev, nxt, local = rr_intervals(pos, rec.fs)
        s_calls, n_calls = pred == s_i, pred == n_i
        good = np.isfinite(st).all(1)
        if (s_calls & good).sum() < 5:
            continue
        ts = np.median(st[s_calls & good], axis=0)
        tn = np.median(st[n_calls & good], axis=0)
        cs, cn = pearson(np.nan_to_num(st), ts), pearson(np.nan_to_num(st), tn)
        for k in np.flatnonzero(n_calls & good):
            rows.append((name, int(yy[k]), cs[k], cn[k], prev[k] / local[k], nxt[k] / local[k],
                         q[k, s_i]))
    r = np.array([x[1:] for x in rows], dtype=float)
    names_r = np.array([x[0] for x in rows])
    print("\nBeats read N in records with >= 5 S calls: P-stretch cosine to S-call and N-call "
          "medians, RR before / local, RR after / local, S probability (quantiles 10/50/90)")
    for label, cls in (("true N", n_i), ("true S", s_i), ("true V", v_i)):
        m = r[:, 0] == cls
        print(f"{label}: {m.sum()} beats")
        for j, what in enumerate(("cos S", "cos N", "RRprev/local", "RRnext/local", "P(S)")):
            print(f"  {what}: {np.round(np.nanquantile(r[m, j + 1], [0.1, 0.5, 0.9]), 3)}")
    print("\nCandidate: cos S >= a and cos S - cos N >= b and RRprev/local <= c")
    for a in (0.6, 0.7, 0.8):
        for b in (0.1, 0.2, 0.3):
            for c in (1.5, 0.95, 0.9):
                sel = (r[:, 1] >= a) & (r[:, 1] - r[:, 2] >= b) & (r[:, 3] <= c)
                tp = (sel & (r[:, 0] == s_i)).sum()
                fp = (sel & (r[:, 0] != s_i)).sum()
                per = {n: int((sel & (names_r == n)).sum()) for n in sorted(set(names_r[sel]))}
                print(f"a {a} b {b} c {c}: S found {tp}, others {fp}  {per}")


if __name__ == "__main__":
    main()
