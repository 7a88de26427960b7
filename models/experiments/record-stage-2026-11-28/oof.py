"""Out-of-fold outputs of the five DS1 fold networks (``../ds1-cv-2026-11-28/``), with what the
record-context stage reads: each DS1 beat scored by the fold network that never saw its patient,
the network's own outputs (no class-mix shift, no temperature), the same outputs with the fold's
class-mix shift at a = 0.25 (the committed reading), the beat's rhythm features and its record.

Run from the repository root (about 5 min on 2 cores):
    python models/experiments/record-stage-2026-11-28/oof.py --out data/record-stage-oof.npz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.dataset import context_from_rows, load_split, rhythm_from_rows  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default=str(ROOT / "data" / "runs-cv-ds1"))
    ap.add_argument("--data", default=str(ROOT / "data" / "aami-bp-leads"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out: dict[str, list] = {"y": [], "raw": [], "committed": [], "rhythm": [], "record": []}
    for protocol in DS1_CV_PROTOCOLS:
        clf = Classifier.load(Path(args.runs) / protocol / "ecgnet.keras")
        clf.temperature, clf.class_shift = 1.0, None
        x, y, rows = load_split(args.data, "test", protocol, size=clf.input_size)
        context = context_from_rows(rows, args.data)
        raw = np.concatenate([clf.predict_canonical(x[i:i + 512], context[i:i + 512])
                              for i in range(0, len(x), 512)])
        ratio = class_mix_log_ratio(clf.card, args.data)[0]
        out["y"].append(y)
        out["raw"].append(raw)
        out["committed"].append(shift_probabilities(raw, 0.25 * ratio).astype(np.float32))
        out["rhythm"].append(rhythm_from_rows(rows))
        out["record"].append(np.array([r["record"] for r in rows]))
        print(protocol, len(y), flush=True)
    np.savez_compressed(args.out, codes=np.array(clf.class_codes),
                        **{k: np.concatenate(v) for k, v in out.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
