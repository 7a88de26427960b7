"""Validation figures of an 8-class cross-validation run: each fold network on its own
fold's validation records only (no test fold is read), pooled over the five folds.

    python models/experiments/two-lead-8-2026-12-06/score.py RUNS DATA NAME \
        [both|one] [val|test]

RUNS holds ``fold1`` ... ``fold5`` (each with ``ecgnet.keras``), as ``cross-validate --out``
writes them (``RUNS_A+RUNS_B``: each beat's probabilities averaged over the runs' fold
networks); DATA is the build they were trained on (validation is its drawing 0, the MLII
drawing, as in every build). Writes ``NAME.json`` beside this script: pooled accuracy, per
class Se/+P with the number of validation records (a record that is a validation record of
several folds counts once per fold), the macro Se over the classes with at least 3, and the
same per fold. With ``both`` (RULE-both-leads.md), each validation beat is read on its drawing
0 and its drawing 1 (the other lead) and the two probability vectors averaged. A last
argument ``test`` reads the test folds instead (only after a decision).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.__main__ import _labels_for, _split_probabilities  # noqa: E402
from ecg_core.dataset import (dataset_codes, load_images, load_split,  # noqa: E402
                              read_manifest)
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import CV_PROTOCOLS  # noqa: E402


def figures(y, call, records, codes):
    """Accuracy, per-class Se/+P/beats/records and macro Se over classes in >= 3 records."""
    cm = np.zeros((len(codes), len(codes)), int)
    np.add.at(cm, (y, call), 1)
    per = {}
    for i, c in enumerate(codes):
        per[c] = {"Se": float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None,
                  "P+": float(cm[i, i] / cm[:, i].sum()) if cm[:, i].sum() else None,
                  "beats": int(cm[i].sum()),
                  "records": len({r for r, t in zip(records, y) if t == i})}
    kept = [v["Se"] for v in per.values() if v["records"] >= 3]
    return {"n": int(len(y)), "accuracy": float((y == call).mean()),
            "macro_se_3plus": float(np.mean(kept)), "classes_3plus": len(kept),
            "per_class": per}


def main() -> None:
    runs, data, name = sys.argv[1], sys.argv[2], sys.argv[3]
    both = len(sys.argv) > 4 and sys.argv[4] == "both"
    split = sys.argv[5] if len(sys.argv) > 5 else "val"
    second = {}
    if both:  # drawing 1 of each beat, keyed by its drawing 0 image
        for row in read_manifest(data):
            if str(row.get("drawing")) == "1":
                second[row["image"].replace("_d1.png", ".png")] = row
    ys, calls, recs, folds = [], [], [], {}
    codes = None
    for protocol in CV_PROTOCOLS:
        p = 0.0
        members = runs.split("+")  # RUNS_A+RUNS_B: the mean of the runs' fold networks
        for run in members:
            clf = Classifier.load(f"{run}/{protocol}/ecgnet.keras")
            codes = list(clf.class_codes)
            x, y, rows = load_split(data, split, protocol, size=clf.input_size)
            q = _split_probabilities(clf, x, rows, data_dir=data)
            if both:
                rows1 = [second[row["image"]] for row in rows]
                x1 = load_images([str(Path(data) / row["image"]) for row in rows1],
                                 size=clf.input_size)
                q = (q + _split_probabilities(clf, x1, rows1, data_dir=data)) / 2
            p = p + q / len(members)
        y = _labels_for(clf, y, dataset_codes(data))
        r = [f"{protocol}/{row.get('database', '')}/{row.get('record', '')}" for row in rows]
        folds[protocol] = figures(y, p.argmax(1), r, codes)
        ys.append(y)
        calls.append(p.argmax(1))
        recs += r
        print(protocol, len(y), f"{folds[protocol]['accuracy']:.4f}", file=sys.stderr)
    out = figures(np.concatenate(ys), np.concatenate(calls), recs, codes)
    out["folds"] = folds
    out["runs"], out["data"] = runs, data
    path = Path(__file__).with_name(f"{name}.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{name}: accuracy {100 * out['accuracy']:.2f}, macro Se over "
          f"{out['classes_3plus']} classes {100 * out['macro_se_3plus']:.2f}")
    for c, v in out["per_class"].items():
        se = "n/a" if v["Se"] is None else f"{100 * v['Se']:.1f}"
        pp = "n/a" if v["P+"] is None else f"{100 * v['P+']:.1f}"
        print(f"  {c}: Se {se} +P {pp} beats {v['beats']} records {v['records']}")


if __name__ == "__main__":
    main()
