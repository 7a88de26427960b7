"""Validation figures of `record/ecgnet` as served (each beat read on both leads, each
reading rescaled by the card's temperature, then averaged), for RULE.md. Run from the
repository root before and after `calibrate`:

    python models/experiments/two-lead-temperature-2026-12-06/score.py NAME

Writes ``NAME.json`` beside this script: the card's temperature, accuracy, macro Se over the
classes with validation beats, ECE (15 bins) and the negative log-likelihood of the served
probabilities on the record split's validation beats.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.__main__ import _labels_for, _split_probabilities  # noqa: E402
from ecg_core.calibration import reliability  # noqa: E402
from ecg_core.dataset import dataset_codes, load_split  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402

DATA = "data/beats-one-bp-vfrr-leads"


def main() -> None:
    clf = Classifier.load(ROOT / "models" / "record" / "ecgnet.keras")
    x, y, rows = load_split(DATA, "val", "record", size=clf.input_size)
    y = _labels_for(clf, y, dataset_codes(DATA))
    p = _split_probabilities(clf, x, rows, data_dir=DATA)
    call = p.argmax(1)
    se = {c: float((call[y == i] == i).mean()) for i, c in enumerate(clf.class_codes)
          if (y == i).any()}
    out = {"temperature": clf.temperature, "n": int(len(y)),
           "accuracy": float((call == y).mean()), "macro_se": float(np.mean(list(se.values()))),
           "se": se, "ece": reliability(y, p)["ece"],
           "nll": float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))}
    Path(__file__).with_name(f"{sys.argv[1]}.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "se"}), se)


if __name__ == "__main__":
    main()
