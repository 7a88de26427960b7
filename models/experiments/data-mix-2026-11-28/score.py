"""Validation figures of `aami/ecgnet` with its outputs moved toward the data's class mix
(RULE.md beside this file).

Computes the shift ``r = log(pi_data / pi_train)`` as the committed model's training run had
its class mix (``ecg_core.training.class_mix_log_ratio``), classifies every labelled beat of the
DS1 validation records (V-DS1) and of the 36 QT Database records open to training and
validation (V-QT36) from its reference position (``ecg_core.analysis.classify_database``,
the network's own outputs, no temperature), and scores each strength ``a`` of the shift
``a r``. Writes a Markdown table to stdout and the figures as JSON to ``--out``.

Run from the repository root:
    python models/experiments/data-mix-2026-11-28/score.py --out FILE.json
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
from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.evaluation import classification_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.training import PRIOR_SHIFT_STRENGTHS, class_mix_log_ratio  # noqa: E402

DS1_VAL = ("108", "119", "124", "220")


def figures(y: np.ndarray, probs: np.ndarray, codes) -> dict:
    f = classification_figures(y, probs, codes)
    out = {"n": int(len(y)), "accuracy": 100 * f["accuracy"], "confusion": f["confusion"]}
    for c in codes:
        pc = f["per_class"][c]
        if pc["support"] or pc["precision"]:
            out[f"{c} n"] = int(pc["support"])
            out[f"{c} Se"] = 100 * pc["sensitivity"]
            out[f"{c} +P"] = 100 * pc["precision"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "aami" / "ecgnet.keras"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    shared = Path(args.shared)
    clf = Classifier.load(args.model)
    clf.temperature = 1.0  # the network's own outputs: the rule shifts those
    codes = clf.class_codes
    ratio, info = class_mix_log_ratio(clf.card, ROOT / clf.card["training_data"]["folder"])
    ds1 = classify_database(shared / "mitdb", clf, records=DS1_VAL)
    qt = classify_database(shared / "qtdb", clf, records=QTDB_TRAIN + QTDB_VAL)
    rows = []
    print("| a | V-DS1 acc | V-QT36 acc | S Se | S +P | V Se | V +P | C |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for a in PRIOR_SHIFT_STRENGTHS:
        p_ds1 = shift_probabilities(ds1["probabilities"], a * ratio)
        p_qt = shift_probabilities(qt["probabilities"], a * ratio)
        f_ds1 = figures(ds1["y_true"], p_ds1, codes)
        f_qt = figures(qt["y_true"], p_qt, codes)
        pooled = figures(np.concatenate([ds1["y_true"], qt["y_true"]]),
                         np.concatenate([p_ds1, p_qt]), codes)
        c = float(np.mean([f_ds1["accuracy"], f_qt["accuracy"], pooled["S Se"],
                           pooled["S +P"], pooled["V Se"], pooled["V +P"]]))
        rows.append({"a": a, "C": c, "V-DS1": f_ds1, "V-QT36": f_qt, "pooled": pooled})
        print(f"| {a:.2f} | {f_ds1['accuracy']:.2f} | {f_qt['accuracy']:.2f} | "
              f"{pooled['S Se']:.1f} | {pooled['S +P']:.1f} | {pooled['V Se']:.1f} | "
              f"{pooled['V +P']:.1f} | {c:.2f} |", flush=True)
    Path(args.out).write_text(json.dumps({"model": args.model, "shift": info, "rows": rows},
                                         indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
