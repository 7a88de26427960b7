"""Validation figures of two readings of both AAMI recipes' fold networks together (RULE.md
beside this file): E1, the mean of the local- and record-context networks' outputs; E2, the V
probability of the local network with the record-context network's reading among the other
classes. Baseline: the local (committed) recipe alone. Every reading is then shifted by the
fold's class-mix shift at strength 0.25.

1. DS1-OOF: each fold's two networks read that fold's test records from the built dataset;
   pooled over the 22 DS1 records.
2. V-QT36: each fold's two networks read the 36 QT validation records from the reference beats
   (Record page path); each reading's five folds averaged.

Run from the repository root (about 25 min on 2 cores):
    python models/experiments/record-context-v-guard-2026-11-28/score.py
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
from ecg_core.dataset import context_from_rows, load_split  # noqa: E402
from ecg_core.evaluation import ectopic_figures as figures  # noqa: E402
from ecg_core.evaluation import ectopic_table  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

LOCAL, RECORD = "data/runs-cv-ds1", "data/runs-cv-ds1-record"
READINGS = ("baseline (local network)", "E1: mean", "E2: V from the local network")


def combine(p_local: np.ndarray, p_record: np.ndarray, codes: tuple[str, ...]) -> dict:
    """The three readings of the two networks' outputs (float (n, k) each), before the shift."""
    v = codes.index("V")
    e2 = p_record / np.clip(1.0 - p_record[:, [v]], 1e-12, None) * (1.0 - p_local[:, [v]])
    e2[:, v] = p_local[:, v]
    return {READINGS[0]: p_local, READINGS[1]: (p_local + p_record) / 2, READINGS[2]: e2}


def fold_network(runs: str, protocol: str) -> Classifier:
    clf = Classifier.load(ROOT / runs / protocol / "ecgnet.keras")
    clf.temperature, clf.class_shift = 1.0, None  # the network's own outputs
    return clf


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "data" / "aami-bp-leads"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", default=str(Path(__file__).parent / "validation.json"))
    args = ap.parse_args()
    ds1 = {name: [] for name in READINGS}
    qt = {name: [] for name in READINGS}
    ys, qt_y = [], None
    for protocol in DS1_CV_PROTOCOLS:
        local, record = fold_network(LOCAL, protocol), fold_network(RECORD, protocol)
        codes = tuple(local.class_codes)
        shift = 0.25 * class_mix_log_ratio(local.card, args.data)[0]
        x, y, rows = load_split(args.data, "test", protocol, size=local.input_size)
        context = context_from_rows(rows, args.data, template=False)
        outs = [np.concatenate([clf.network_outputs(x[i:i + 512], context[i:i + 512])
                                for i in range(0, len(x), 512)]) for clf in (local, record)]
        for name, q in combine(*outs, codes).items():
            ds1[name].append(shift_probabilities(q, shift))
        ys.append(y)
        dbs = [classify_database(Path(args.shared) / "qtdb", clf, records=QTDB_TRAIN + QTDB_VAL)
               for clf in (local, record)]
        qt_y = dbs[0]["y_true"]
        for name, q in combine(dbs[0]["probabilities"], dbs[1]["probabilities"], codes).items():
            qt[name].append(shift_probabilities(q, shift))
        print(protocol, flush=True)
    y = np.concatenate(ys)
    result = {"DS1-OOF": {n: figures(y, np.concatenate(ds1[n]), codes) for n in READINGS},
              "V-QT36": {n: figures(qt_y, np.mean(qt[n], axis=0), codes) for n in READINGS}}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(ectopic_table(result, READINGS, "reading"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
