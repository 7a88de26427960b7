"""Per record, after the decision (decides nothing): ventricular beats found and normal beats
read ectopic, by the committed recipe's fold networks and by those trained with the noisy
drawings, both read alike from their saved (temperature-scaled) out-of-fold outputs with the
class-mix shift at 0.25 applied after the temperature (score.py's third reading), from the
outputs and fold cards kept beside this file and in ../ds1-cv-2026-11-28/. Run from the repository root after score.py:
    python models/experiments/recorded-noise-2026-12-05/records.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

HERE = Path(__file__).resolve().parent
CODES = ("N", "S", "V", "F", "Q")


def main() -> int:
    base = np.load(HERE.parent / "ds1-cv-2026-11-28" / "ecgnet.eval.cv.test.aami-bp-leads.npz")
    cand = np.load(HERE / "ecgnet.eval.cv.test.aami-bp-leads-noise.npz")
    assert np.array_equal(base["y_true"], cand["y_true"])
    records, pb, pc, start = [], [], [], 0
    for protocol in DS1_CV_PROTOCOLS:
        _, y, rows = load_split(ROOT / "data" / "aami-bp-leads", "test", protocol)
        card = json.loads((HERE / f"{protocol}.card.json").read_text())
        sl = slice(start, start + len(y))
        pb.append(shift_probabilities(base["y_prob"][sl].astype(np.float64), 0.25 *
                                      class_mix_log_ratio(card, ROOT / "data" / "aami-bp-leads")[0]))
        pc.append(shift_probabilities(cand["y_prob"][sl].astype(np.float64), 0.25 *
                                      class_mix_log_ratio(card, ROOT / "data"
                                                          / "aami-bp-leads-noise")[0]))
        records += [r["record"] for r in rows]
        start += len(y)
    y, records = base["y_true"], np.array(records)
    b, c = np.concatenate(pb).argmax(1), np.concatenate(pc).argmax(1)
    n, v = CODES.index("N"), CODES.index("V")
    print("| record | V beats | V found (baseline / noisy drawings) | normal beats read ectopic "
          "(baseline / noisy drawings) |")
    print("|---|---:|---:|---:|")
    for r in sorted(set(records)):
        m = records == r
        nv = int((m & (y == v)).sum())
        print(f"| {r} | {nv} | {int((m & (y == v) & (b == v)).sum())} / "
              f"{int((m & (y == v) & (c == v)).sum())} | "
              f"{int((m & (y == n) & (b != n)).sum())} / {int((m & (y == n) & (c != n)).sum())} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
