"""RULE.md's step 1 on DS1-OOF: both candidates on the stored out-of-fold outputs of both
cross-validated recipes. Run from the repository root with ``data/aami-bp-leads`` built
(under a minute on 2 CPU cores):

    python models/experiments/irregular-fold-2026-12-05/score.py

Writes validation.json beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import irregular_rr  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "af-context-2026-12-05"))

# the measurement's reading of the DS1 out-of-fold beats, recipes and figures
from measure import CODES, RECIPES, ds1_oof_beats, figures  # noqa: E402


def flags(samples: np.ndarray, pred: np.ndarray, fs: float, skip_ventricular: bool) -> np.ndarray:
    """RULE.md's flags for one record's beats (samples sorted)."""
    if not skip_ventricular:
        return irregular_rr(samples, fs)
    judged = ~np.isin(pred, [CODES.index("V"), CODES.index("F")])
    out = np.zeros(len(samples), dtype=bool)
    if judged.sum() == 0:
        return out
    idx = np.flatnonzero(judged)
    out[idx] = irregular_rr(samples[idx], fs)
    # each V or F beat: the flag of the nearest judged beat before it (after it, at the start)
    before = np.searchsorted(idx, np.arange(len(samples)), side="right") - 1
    src = idx[np.clip(before, 0, None)]
    src[before < 0] = idx[0]
    out[~judged] = out[src[~judged]]
    return out


def main() -> int:
    rows, y, records, samples = ds1_oof_beats()
    fs = float(rows[0]["fs"])
    s, n = CODES.index("S"), CODES.index("N")
    out = {"beats": int(len(y)), "recipes": {}}
    for name, folder in RECIPES.items():
        z = np.load(HERE.parent / folder / "ecgnet.eval.cv.test.aami-bp-leads.npz")
        assert np.array_equal(z["y_true"], y)
        p = z["y_prob"].astype(np.float64)
        res = {"as read": figures(y, p)}
        for cand, skip in (("F-all", False), ("F-nonV", True)):
            flag = np.zeros(len(y), dtype=bool)
            for rec in sorted(set(records)):
                m = np.flatnonzero(records == rec)
                order = m[np.argsort(samples[m])]
                flag[order] = flags(samples[order], p[order].argmax(axis=1), fs, skip)
            q = p.copy()
            q[flag, n] += q[flag, s]
            q[flag, s] = 0.0
            res[cand] = figures(y, q)
            res[cand]["flagged"] = float(flag.mean())
            res[cand]["flagged_by_record"] = {r: round(float(flag[records == r].mean()), 3)
                                              for r in sorted(set(records))}
        out["recipes"][name] = res
    checks = {}
    for cand in ("F-all", "F-nonV"):
        ok, gains = {}, []
        for name, res in out["recipes"].items():
            a, b = res["as read"], res[cand]
            ok[name] = {"accuracy +0.5": b["accuracy"] >= a["accuracy"] + 0.005,
                        "S +P +3": b["S +P"] >= a["S +P"] + 0.03,
                        "S Se -3": b["S Se"] >= a["S Se"] - 0.03,
                        "V Se -0.5": b["V Se"] >= a["V Se"] - 0.005,
                        "V +P -0.5": b["V +P"] >= a["V +P"] - 0.005}
            gains.append(b["S +P"] - a["S +P"])
        checks[cand] = {"checks": ok, "qualifies": all(all(v.values()) for v in ok.values()),
                        "mean S +P gain": float(np.mean(gains))}
    out["checks"] = checks
    qual = [c for c in ("F-all", "F-nonV") if checks[c]["qualifies"]]
    if len(qual) == 2:
        gap = checks["F-nonV"]["mean S +P gain"] - checks["F-all"]["mean S +P gain"]
        out["chosen"] = "F-nonV" if gap > 0.005 else "F-all"
    else:
        out["chosen"] = qual[0] if qual else None
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    for name, res in out["recipes"].items():
        print(name)
        for k, v in res.items():
            print(f"  {k:8s}", {m: round(100 * x, 2) for m, x in v.items()
                                if isinstance(x, float)})
    print(json.dumps(checks, indent=1))
    print("chosen:", out["chosen"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
