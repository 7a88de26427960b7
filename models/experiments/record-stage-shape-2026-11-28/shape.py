"""Each DS1 out-of-fold beat's shape against its record's typical beat: the beat-context vector
(``ecg_core.dataset.context_from_rows``: rhythm, then template features) of the test rows of
the five DS1 folds, in the order ``../record-stage-2026-11-28/oof.py`` wrote them.

Run from the repository root (about 2 min on 2 cores):
    python models/experiments/record-stage-shape-2026-11-28/shape.py \
        --oof data/record-stage-oof.npz --out data/record-stage-shape.npz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.dataset import context_from_rows  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--oof", required=True)
    ap.add_argument("--data", default=str(ROOT / "data" / "aami-bp-leads"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from ecg_core.dataset import load_split

    z = np.load(args.oof)
    contexts, records = [], []
    for protocol in DS1_CV_PROTOCOLS:
        _, _, rows = load_split(args.data, "test", protocol, size=(64, 64))
        contexts.append(context_from_rows(rows, args.data))
        records.append(np.array([r["record"] for r in rows]))
        print(protocol, len(rows), flush=True)
    context = np.concatenate(contexts)
    record = np.concatenate(records)
    if not np.array_equal(record, z["record"]):
        raise SystemExit("The rows are not in the order of the out-of-fold file.")
    if not np.allclose(context[:, :5], z["rhythm"], equal_nan=True):
        raise SystemExit("The rhythm features differ from the out-of-fold file's.")
    np.savez_compressed(args.out, context=context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
