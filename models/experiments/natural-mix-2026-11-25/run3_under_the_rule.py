"""Run 3 (the model committed before this experiment) put through the natural-mix rule.

Run 3 was trained and validated on the capped build (normal beats capped at 15,000 before the
split). This script shifts its validation outputs toward the class mix of the uncapped build
(its training and validation beats, as ``ecg_core.training`` takes it), for each strength of
``ecg_core.training.PRIOR_SHIFT_STRENGTHS``, and reads the validation accuracy on that mix as
the per-class Se weighted by the mix (the capped validation split holds too few normal beats
to be scored directly). The strength with the best mean of that accuracy and macro Se gives
the bars of RULE.md.

    PYTHONPATH=. python models/experiments/natural-mix-2026-11-25/run3_under_the_rule.py \\
        --model models/ecgnet.keras --capped data/beats-capped --natural data/beats-x4

(``data/beats-capped``: a build with the old default cap, ``--max-per-class 15000``.)
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ecg_core.dataset import load_split
from ecg_core.model import Classifier
from ecg_core.training import PRIOR_SHIFT_STRENGTHS, prior_log_ratio, shift_probabilities


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="run 3's ecgnet.keras")
    ap.add_argument("--capped", required=True, help="the capped build it was validated on")
    ap.add_argument("--natural", required=True, help="the uncapped build (for its class mix)")
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    codes = clf.class_codes
    card = clf.card
    weights = {i: card["training"]["class_weight"][c] for i, c in enumerate(codes)}
    drawings = card["rendering"]["drawings_per_beat"]
    trained = card["training_data"]["counts"]
    train_images = np.array([trained[c]["train"] * drawings for c in codes], dtype=float)
    natural = json.loads((Path(args.natural) / "dataset.json").read_text())["counts"]
    mix = np.array([natural[c]["train"] + natural[c]["val"] for c in codes], dtype=float)
    ratio = prior_log_ratio(train_images, weights, mix)
    x, y, _ = load_split(args.capped, "val", "beat")
    probs = np.concatenate([clf.predict_canonical(x[i:i + 512]) for i in range(0, len(x), 512)])
    share = mix / mix.sum()
    print("strength  accuracy(mix)  macro Se  mean   per-class Se")
    for a in PRIOR_SHIFT_STRENGTHS:
        pred = shift_probabilities(probs, a * ratio).argmax(axis=1)
        se = np.array([(pred[y == i] == i).mean() for i in range(len(codes))])
        acc = float(share @ se)
        print(f"{a:8.2f}  {acc:13.4f}  {se.mean():8.4f}  {(acc + se.mean()) / 2:.4f}  "
              + " ".join(f"{c} {s:.3f}" for c, s in zip(codes, se)))


if __name__ == "__main__":
    main()
