"""Each record's class mix: AAMI probabilities adapted per record (EM), against the plain ones.

Run: python tools/record_prior.py --stage validation --out models/experiments/record-prior-2026-11-28
     python tools/record_prior.py --stage after --out ...   (DS2 and qtdb: only after a decision)

Every beat of each record is classified on the Record page's path from its reference beat
positions (``ecg_core.analysis.classify_database``); the probabilities of the beats of one
record are then adapted to that record's class mix by ``ecg_core.calibration.adapt_to_prior``
(Saerens et al. 2002). The source mix is the mean calibrated probability over the DS1
validation beats. Writes ``<stage>.json`` (figures per set, both ways) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_database  # noqa: E402
from ecg_core.calibration import adapt_to_prior  # noqa: E402
from ecg_core.evaluation import classification_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_HELD_OUT, QTDB_VAL  # noqa: E402

DS1_VAL = ("108", "119", "124", "220")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212",
       "213", "214", "219", "221", "222", "228", "231", "232", "233", "234")


def per_record(result: dict, prior: np.ndarray, fixed=()) -> np.ndarray:
    records = np.asarray(result["records"])
    out = np.array(result["probabilities"], dtype=np.float32, copy=True)
    for name in dict.fromkeys(result["records"]):
        rows = records == name
        out[rows], _ = adapt_to_prior(result["probabilities"][rows], prior, fixed=fixed)
    return out


def figures(y: np.ndarray, p: np.ndarray, codes) -> dict:
    f = classification_figures(y, p, codes)
    pc = f["per_class"]
    crit = np.mean([pc["S"]["sensitivity"], pc["S"]["precision"],
                    pc["V"]["sensitivity"], pc["V"]["precision"]])
    return {"n": int(len(y)), "accuracy": f["accuracy"], "C": float(crit),
            **{f"{c} Se": pc[c]["sensitivity"] for c in codes if pc[c]["support"]},
            **{f"{c} +P": pc[c]["precision"] for c in codes if pc[c]["support"]},
            "support": {c: pc[c]["support"] for c in codes}, "confusion": f["confusion"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=("validation", "after"), required=True)
    ap.add_argument("--model", default=str(ROOT / "models" / "aami" / "ecgnet.keras"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    codes = clf.class_codes
    shared = Path(args.shared)
    out = Path(args.out)
    val = classify_database(shared / "mitdb", clf, records=DS1_VAL)
    prior = val["probabilities"].astype(np.float64).mean(axis=0)
    sets = {"V-DS1": (shared / "mitdb", DS1_VAL), "V-QT": (shared / "qtdb", QTDB_VAL)}
    if args.stage == "after":
        sets = {"DS2": (shared / "mitdb", DS2), "QT held out": (shared / "qtdb", QTDB_HELD_OUT),
                "QT all 54": (shared / "qtdb", None)}
    report = {"model": Path(args.model).name, "source_prior": dict(zip(codes, prior.tolist())),
              "sets": {}}
    for name, (folder, records) in sets.items():
        res = val if name == "V-DS1" else classify_database(folder, clf, records=records)
        y = res["y_true"]
        adapted = per_record(res, prior)
        fixed = [codes.index(c) for c in ("F", "Q") if c in codes]
        adapted_b = per_record(res, prior, fixed)
        report["sets"][name] = {"records": sorted(set(res["records"])),
                                "baseline": figures(y, res["probabilities"], codes),
                                "candidate": figures(y, adapted, codes),
                                "candidate B": figures(y, adapted_b, codes)}
        b = report["sets"][name]["baseline"]
        for cand in ("candidate", "candidate B"):
            c = report["sets"][name][cand]
            print(f"{name}, {cand}: {b['n']} beats; accuracy {100*b['accuracy']:.2f} -> "
                  f"{100*c['accuracy']:.2f}; C {100*b['C']:.2f} -> {100*c['C']:.2f}; " +
                  "; ".join(f"{k} {100*b[k]:.1f} -> {100*c[k]:.1f}" for k in b
                            if k.endswith(("Se", "+P"))), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.stage}.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
