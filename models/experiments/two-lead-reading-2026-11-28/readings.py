"""Each beat read on both of its record's leads (RULE.md beside this file): the network's own
outputs (no class-mix shift, no temperature) of each beat drawn on the record's chosen lead
and on its other lead, from the reference beat positions on the Record page's path
(``ecg_core.analysis.classify_record``), with the class-mix shift that reading applies.

1. DS1-OOF: each DS1 record by the fold network of ``../ds1-cv-2026-11-28/`` that never saw
   it, shifted by 0.25 x that network's class-mix log ratio.
2. V-QT36: the 36 QT training and validation records by the committed ``aami/ecgnet``, shifted
   by its card's shift.

Run from the repository root (about 10 min on 2 cores):
    python models/experiments/two-lead-reading-2026-11-28/readings.py --out data/two-lead.npz
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, scheme_of  # noqa: E402
from ecg_core.classes import symbol_map  # noqa: E402
from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402


def both_leads(clf, path):
    """(y, raw on the chosen lead, raw on the other lead or None, shift) of one record."""
    shift = clf.class_shift
    clf.class_shift, clf.temperature = None, 1.0  # the network's own outputs
    record = read_record(path, other_lead=True)
    first = classify_record(record, clf)
    second = None
    if record.other_signal is not None:
        other = dataclasses.replace(record, signal=record.other_signal, lead=record.other_lead,
                                    other_signal=record.signal, other_lead=record.lead)
        second = classify_record(other, clf)
        assert np.array_equal(first.samples, second.samples)
    mapping = symbol_map(scheme_of(clf.class_codes))
    index = {c: i for i, c in enumerate(clf.class_codes)}
    keep = np.array([s in mapping for s in first.reference], dtype=bool)
    y = np.array([index[mapping[s]] for s in first.reference if s in mapping], dtype=np.int64)
    a = first.probabilities[keep]
    b = second.probabilities[keep] if second is not None else a
    clf.class_shift = shift
    return y, a, b, second is not None, record.lead, record.other_lead


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default=str(ROOT / "data" / "runs-cv-ds1"))
    ap.add_argument("--data", default=str(ROOT / "data" / "aami-bp-leads"))
    ap.add_argument("--model", default=str(ROOT / "models" / "aami" / "ecgnet.keras"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out: dict[str, list] = {k: [] for k in ("set", "record", "y", "a", "b", "two", "shift")}

    def add(name, rec, clf, path):
        y, a, b, two, lead, other = both_leads(clf, path)
        out["set"].append(np.full(len(y), name))
        out["record"].append(np.full(len(y), rec))
        out["y"].append(y)
        out["a"].append(a)
        out["b"].append(b)
        out["two"].append(np.full(len(y), two))
        out["shift"].append(np.tile(clf.class_shift, (len(y), 1)))
        print(name, rec, lead, other, len(y), flush=True)

    for protocol in DS1_CV_PROTOCOLS:
        clf = Classifier.load(Path(args.runs) / protocol / "ecgnet.keras")
        clf.class_shift = 0.25 * class_mix_log_ratio(clf.card, args.data)[0]
        _, _, rows = load_split(args.data, "test", protocol, size=clf.input_size)
        for rec in sorted({r["record"] for r in rows}):
            add("DS1-OOF", rec, clf, Path(args.shared) / "mitdb" / rec)
    clf = Classifier.load(args.model)
    for rec in QTDB_TRAIN + QTDB_VAL:
        add("V-QT36", rec, clf, Path(args.shared) / "qtdb" / rec)
    np.savez_compressed(args.out, codes=np.array(clf.class_codes),
                        **{k: np.concatenate(v) for k, v in out.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
