"""Validation figures of the AAMI recipe with the record RR context against the committed
recipe, both by 5-fold cross-validation within DS1 (RULE.md beside this file).

1. DS1-OOF: each fold network reads its fold's test records from the built dataset, shifted
   by 0.25 x its own class-mix log ratio (the committed reading); pooled over the 22.
2. V-QT36: each recipe's five fold networks read the 36 QT validation records from the
   reference beats (Record page path), each with its shift; their probabilities averaged.

Run from the repository root (about 20 min on 2 cores):
    python models/experiments/record-rr-cv-2026-11-28/score.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_database  # noqa: E402
from ecg_core.dataset import context_from_rows, load_split  # noqa: E402
from ecg_core.evaluation import ectopic_figures as figures  # noqa: E402
from ecg_core.evaluation import ectopic_table  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

RECIPES = {"baseline (local RR context)": "data/runs-cv-ds1",
           "record RR context": "data/runs-cv-ds1-record"}


def fold_network(runs: Path, protocol: str, data: str) -> Classifier:
    clf = Classifier.load(runs / protocol / "ecgnet.keras")
    clf.temperature = 1.0
    clf.class_shift = 0.25 * class_mix_log_ratio(clf.card, data)[0]
    return clf


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "data" / "aami-bp-leads"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", default=str(Path(__file__).parent / "validation.json"))
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    args = ap.parse_args()
    result: dict = {"DS1-OOF": {}, "V-QT36": {}}
    if Path(args.out).is_file():  # a recipe scored earlier is not scored again
        result = json.loads(Path(args.out).read_text())
    for name, runs in RECIPES.items():
        if name in result["DS1-OOF"] or name not in args.recipes:
            continue
        ys, ps, qt = [], [], []
        for protocol in DS1_CV_PROTOCOLS:
            clf = fold_network(ROOT / runs, protocol, args.data)
            x, y, rows = load_split(args.data, "test", protocol, size=clf.input_size)
            context = context_from_rows(rows, args.data, template=False)
            ps.append(np.concatenate([clf.predict_canonical(x[i:i + 512], context[i:i + 512])
                                      for i in range(0, len(x), 512)]))
            ys.append(y)
            d = classify_database(Path(args.shared) / "qtdb", clf, records=QTDB_TRAIN + QTDB_VAL)
            qt.append(d["probabilities"])
            codes = tuple(clf.class_codes)
            print(name, protocol, flush=True)
        result["DS1-OOF"][name] = figures(np.concatenate(ys), np.concatenate(ps), codes)
        result["V-QT36"][name] = figures(d["y_true"], np.mean(qt, axis=0), codes)
        Path(args.out).write_text(json.dumps(result, indent=1))
    print(ectopic_table(result, [n for n in RECIPES if n in result["DS1-OOF"]], "recipe"))
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
