"""Out-of-fold figures of the AAMI recipe over DS1's patients, at each class-mix shift strength.

Reads the five fold networks of `cross-validate --within ds1` (PLAN.md beside this file),
classifies each fold's test records with its own network (the network's outputs, no
temperature), shifts them by ``a`` times that fold's own class-mix log ratio
(``ecg_core.training.class_mix_log_ratio``) and pools the folds. Prints a Markdown table.

Run from the repository root:
    python models/experiments/ds1-cv-2026-11-28/shift.py [--runs data/runs-cv-ds1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.dataset import context_from_rows, load_split  # noqa: E402
from ecg_core.evaluation import classification_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS  # noqa: E402
from ecg_core.training import PRIOR_SHIFT_STRENGTHS, class_mix_log_ratio  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default=str(ROOT / "data" / "runs-cv-ds1"))
    ap.add_argument("--data", default=str(ROOT / "data" / "aami-bp-leads"))
    args = ap.parse_args()
    ys, raws, ratios, recs = [], [], [], []
    for protocol in DS1_CV_PROTOCOLS:
        clf = Classifier.load(Path(args.runs) / protocol / "ecgnet.keras")
        clf.temperature = 1.0
        x, y, rows = load_split(args.data, "test", protocol, size=clf.input_size)
        rhythm = context_from_rows(rows, args.data)
        raws.append(np.concatenate([clf.predict_canonical(x[i:i + 512], rhythm[i:i + 512])
                                    for i in range(0, len(x), 512)]))
        ys.append(y)
        recs.append(sorted({r["record"] for r in rows}))
        ratios.append(class_mix_log_ratio(clf.card, args.data)[0])
        codes = clf.class_codes
    print("Folds' test records: " + "; ".join(", ".join(r) for r in recs))
    print()
    print("| a | beats | accuracy | N Se | S Se | S +P | V Se | V +P | F Se | F +P |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    y = np.concatenate(ys)
    for a in PRIOR_SHIFT_STRENGTHS:
        p = np.concatenate([shift_probabilities(r, a * q) for r, q in zip(raws, ratios)])
        f = classification_figures(y, p, codes)
        pc = f["per_class"]
        print(f"| {a:.2f} | {len(y)} | {100 * f['accuracy']:.2f} | "
              f"{100 * pc['N']['sensitivity']:.1f} | "
              f"{100 * pc['S']['sensitivity']:.1f} | {100 * pc['S']['precision']:.1f} | "
              f"{100 * pc['V']['sensitivity']:.1f} | {100 * pc['V']['precision']:.1f} | "
              f"{100 * pc['F']['sensitivity']:.1f} | {100 * pc['F']['precision']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
