"""Add the record-by-record figures to a cross-validation artifact saved before they existed.

``python -m ecg_core cross-validate`` now writes ``figures["by_record"]``
(:func:`ecg_core.evaluation.record_figures`) with every artifact. An artifact written before
holds the out-of-fold labels and probabilities (its ``.npz``) but not which record each beat
came from; the folds' test rows give that, in the order the command read them (each fold's
test split of the artifact's dataset, fold after fold). This script reads them again from the
built dataset, checks that their labels are the artifact's to the last beat, and writes the
figures into the artifact's JSON (nothing else changes)::

    python tools/cv_by_record.py models/record/ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json

Exit status 2, with one line, if the dataset is missing or its rows do not match.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("artifact", help="a cross-validation artifact's JSON (protocol cv)")
    ap.add_argument("--data", help="the built dataset (default: the artifact's own `data`)")
    args = ap.parse_args(argv)

    from ecg_core.dataset import load_split
    from ecg_core.errors import DatasetError
    from ecg_core.evaluation import record_figures
    from ecg_core.protocols import CV_PROTOCOLS, DS1_CV_PROTOCOLS

    path = Path(args.artifact)
    doc = json.loads(path.read_text())
    if doc.get("protocol") != "cv":
        print(f"error: {path.name} is not a cross-validation artifact", file=sys.stderr)
        return 2
    arrays = np.load(path.with_suffix(".npz"))
    data = Path(args.data or doc["data"])
    protocols = DS1_CV_PROTOCOLS if "DS1" in str(doc.get("model_name", "")) else CV_PROTOCOLS
    y, records = [], []
    try:
        for protocol in protocols:
            _, labels, rows = load_split(data, "test", protocol)
            y.append(labels)
            records += [f"{r.get('database', '')}/{r.get('record', '')}" for r in rows]
    except (DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    y_true = arrays["y_true"]
    if len(records) != len(y_true) or not np.array_equal(np.concatenate(y), y_true):
        print(f"error: the folds' test rows of {data} are not the artifact's beats",
              file=sys.stderr)
        return 2
    codes = list(doc["figures"]["per_class"])
    doc["figures"]["by_record"] = record_figures(y_true, arrays["y_prob"].argmax(axis=1),
                                                 records, codes)
    path.write_text(json.dumps(doc, indent=1))
    print(f"{path}: figures of {len(set(records))} records added")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
