"""Validation figures of AAMI models on the DS1 validation records and the QT validation
records, apart (the decision rule's three figures; RULE.md beside this file).

Run from the repository root:
    python models/experiments/qt-training-2026-11-27/score.py NAME=MODEL.keras ...
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from ecg_core.dataset import dataset_codes, load_split, rhythm_from_rows  # noqa: E402
from ecg_core.evaluation import classification_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402

DATA = "data/aami-bp-qtdb"


def criterion(fig: dict) -> float:
    """(S Se + S +P + V Se + V +P) / 4."""
    s, v = fig["per_class"]["S"], fig["per_class"]["V"]
    return (s["sensitivity"] + s["precision"] + v["sensitivity"] + v["precision"]) / 4


def main(args: list[str]) -> None:
    x, y, rows = load_split(DATA, "val", "aami")
    codes = dataset_codes(DATA)
    qt = np.array([r["database"] == "qtdb" for r in rows])
    rhythm = rhythm_from_rows(rows)
    print(f"validation: {int((~qt).sum())} DS1 beats, {int(qt.sum())} QT beats of "
          f"{len({r['record'] for r in rows if r['database'] == 'qtdb'})} records")
    print("| run | QT val accuracy | QT val N Se | DS1 val accuracy | DS1 val criterion |")
    print("|---|---:|---:|---:|---:|")
    for arg in args:
        name, path = arg.split("=", 1)
        clf = Classifier.load(path)
        probs = np.concatenate([clf.predict_canonical(x[i:i + 512], rhythm[i:i + 512])
                                for i in range(0, len(x), 512)])
        q = classification_figures(y[qt], probs[qt], codes)
        d = classification_figures(y[~qt], probs[~qt], codes)
        print(f"| {name} | {100 * q['accuracy']:.2f} | "
              f"{100 * q['per_class']['N']['sensitivity']:.2f} | {100 * d['accuracy']:.2f} | "
              f"{100 * criterion(d):.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
