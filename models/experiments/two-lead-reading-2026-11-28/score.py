"""Validation figures of reading each beat on both leads (RULE.md beside this file), from the
readings written by ``readings.py``. Writes a Markdown table to stdout and every figure (with
confusion matrices) as JSON to --out.

Run from the repository root:
    python models/experiments/two-lead-reading-2026-11-28/score.py --readings data/two-lead.npz \
        --out models/experiments/two-lead-reading-2026-11-28/validation.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.evaluation import ectopic_figures as figures  # noqa: E402
from ecg_core.evaluation import ectopic_table  # noqa: E402


def readings(a: np.ndarray, b: np.ndarray, shift: np.ndarray) -> dict[str, np.ndarray]:
    """The baseline and the two candidates, each with the class-mix shift applied."""
    la, lb = (np.log(np.clip(x.astype(np.float64), 1e-6, 1.0)) for x in (a, b))
    g = np.exp((la + lb) / 2)
    return {"baseline": shift_probabilities(a, shift),
            "L1": shift_probabilities((a.astype(np.float64) + b) / 2, shift),
            "L2": shift_probabilities(g / g.sum(axis=1, keepdims=True), shift)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    z = np.load(args.readings)
    codes = tuple(str(c) for c in z["codes"])
    result: dict = {}
    for name in ("DS1-OOF", "V-QT36"):
        rows = z["set"] == name
        probs = readings(z["a"][rows], z["b"][rows], z["shift"][rows])
        result[name] = {k: figures(z["y"][rows], p, codes) for k, p in probs.items()}
        result[name]["records with two leads"] = int(len(np.unique(z["record"][rows & z["two"]])))
    print(ectopic_table(result, ("baseline", "L1", "L2"), "reading"))
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
