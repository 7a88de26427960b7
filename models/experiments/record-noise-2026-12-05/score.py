"""Validation figures of the record-context networks trained with drawings of recorded noise,
read as the committed ``aami/ecgnet`` reads its record-context networks (E2: the V probability
from the local-context networks, the rest split as the record-context networks split it),
against the same composite with the record-context networks of 2026-11-28 (RULE.md beside this
file).

1. DS1-OOF (deciding): both composites from saved out-of-fold outputs (every recipe's pooled
   ``cross-validate`` outputs are temperature-scaled per fold, so they are read alike): ``pL``
   from ``../ds1-cv-2026-11-28/`` (local context, the same for both), ``pR`` from
   ``../record-rr-cv-2026-11-28/`` (baseline) or from this run (candidate); E2, then the
   class-mix shift at strength 0.25 with the record-context recipe's fold log ratio on the
   build it was trained on.
2. V-QT36 (deciding): the candidate's five record-context fold networks averaged (each shifted,
   no temperature) on the 36 QT records open to validation, from the reference beats (Record
   page path); the baseline's figures as recorded by ``../record-rr-cv-2026-11-28/score.py``.

Reported, deciding nothing: the record-context networks alone on DS1-OOF under the committed
reading (candidate from its networks; baseline as recorded), and per record the normal beats
read ectopic by both composites.

Run from the repository root after the cross-validation of RULE.md (about 5 min on 2 cores):
    python models/experiments/record-noise-2026-12-05/score.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_database  # noqa: E402
from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.dataset import context_from_rows, load_split  # noqa: E402
from ecg_core.evaluation import ectopic_figures, ectopic_table  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
BASE_DATA = ROOT / "data" / "aami-bp-leads"
NOISE_DATA = ROOT / "data" / "aami-bp-leads-noise"
RUNS = ROOT / "data" / "runs-cv-ds1-record-noise"
POOLED = "ecgnet.eval.cv.test.aami-bp-leads-noise"
SHIFT = 0.25
BASELINE = "E2, record-context networks of 2026-11-28"
CANDIDATE = "E2, record-context networks with recorded-noise drawings"
ALONE_B = "record-context networks alone, 2026-11-28"
ALONE_C = "record-context networks alone, with recorded-noise drawings"
#: Training settings that make two fold networks the same recipe (the data folder aside).
RECIPE_KEYS = ("arch", "epochs", "batch_size", "learning_rate", "schedule", "patience", "seed",
               "max_train", "max_class_weight", "class_weighting", "max_train_per_class",
               "rhythm_context", "rhythm_dropout", "input_size", "prior_adjustment")


def guarded(p_local: np.ndarray, p_record: np.ndarray, v: int) -> np.ndarray:
    """E2 (``ecg_core.model.build_ensemble`` with a guard, ``GuardedClass``): V from
    ``p_local``, the other classes as ``p_record`` splits them, scaled to what V leaves.
    float (n, k) each -> float64 (n, k)."""
    p_local, p_record = p_local.astype(np.float64), p_record.astype(np.float64)
    q = p_record / np.clip(1.0 - p_record[:, [v]], 1e-12, None) * (1.0 - p_local[:, [v]])
    q[:, v] = p_local[:, v]
    return q


def _per_record(y: np.ndarray, p: np.ndarray, records: np.ndarray, codes) -> dict:
    """Normal beats read as each ectopic class, per record."""
    n, pred = codes.index("N"), p.argmax(axis=1)
    return {r: {c: int(((records == r) & (y == n) & (pred == codes.index(c))).sum())
                for c in codes if c != "N"} for r in sorted(set(records))}


def _recipe(name: str) -> tuple[np.ndarray, dict]:
    stem = EXPERIMENTS / name / "ecgnet.eval.cv.test.aami-bp-leads"
    return (np.load(f"{stem}.npz")["y_prob"],
            json.loads(Path(f"{stem}.json").read_text())["recipe"])


def main() -> int:
    for ext in (".json", ".npz"):  # the pooled outputs are kept beside the rule
        shutil.copyfile(RUNS / f"{POOLED}{ext}", HERE / f"{POOLED}{ext}")
    local, local_recipe = _recipe("ds1-cv-2026-11-28")
    record_b, record_recipe = _recipe("record-rr-cv-2026-11-28")
    cand = np.load(HERE / f"{POOLED}.npz")
    y_all = cand["y_true"]
    base_y = np.load(EXPERIMENTS / "ds1-cv-2026-11-28" / "ecgnet.eval.cv.test.aami-bp-leads.npz")
    assert np.array_equal(base_y["y_true"], y_all)
    assert local_recipe["rhythm_context"] == "local" and record_recipe["rhythm_context"] == "record"
    ys, recs, live, e2_b, e2_c, qt = [], [], [], [], [], []
    start = 0
    for protocol in DS1_CV_PROTOCOLS:
        clf = Classifier.load(RUNS / protocol / "ecgnet.keras")
        t = clf.card["training"]
        for k in RECIPE_KEYS:
            mine = list(t[k]) if isinstance(t[k], tuple) else t[k]
            assert mine == record_recipe[k], (k, t[k], record_recipe[k])
        codes = list(clf.class_codes)
        v = codes.index("V")
        x, y, rows = load_split(NOISE_DATA, "test", protocol, size=clf.input_size)
        assert np.array_equal(y_all[start:start + len(y)], y), protocol
        sl = slice(start, start + len(y))
        start += len(y)
        ratio_c = class_mix_log_ratio(clf.card, NOISE_DATA)[0]
        ratio_b = class_mix_log_ratio(clf.card, BASE_DATA)[0]
        e2_b.append(shift_probabilities(guarded(local[sl], record_b[sl], v), SHIFT * ratio_b))
        e2_c.append(shift_probabilities(guarded(local[sl], cand["y_prob"][sl], v),
                                        SHIFT * ratio_c))
        # the record-context network alone, committed reading (shift, no temperature)
        clf.temperature = 1.0
        clf.class_shift = SHIFT * ratio_c
        context = context_from_rows(rows, NOISE_DATA)
        live.append(np.concatenate([clf.predict_canonical(x[i:i + 512], context[i:i + 512])
                                    for i in range(0, len(x), 512)]))
        ys.append(y)
        recs += [r["record"] for r in rows]
        qt.append(classify_database(ROOT.parent / "shared" / "qtdb", clf,
                                    records=QTDB_TRAIN + QTDB_VAL))
        print(protocol, "scored", flush=True)
    assert start == len(y_all)
    y, records = np.concatenate(ys), np.array(recs)
    recorded = json.loads((EXPERIMENTS / "record-rr-cv-2026-11-28" / "validation.json")
                          .read_text())
    result = {
        "DS1-OOF": {BASELINE: ectopic_figures(y, np.concatenate(e2_b), codes),
                    CANDIDATE: ectopic_figures(y, np.concatenate(e2_c), codes)},
        "V-QT36": {ALONE_B: recorded["V-QT36"]["record RR context"],
                   ALONE_C: ectopic_figures(qt[0]["y_true"],
                                            np.mean([d["probabilities"] for d in qt], axis=0),
                                            codes)},
        "DS1-OOF, record-context networks alone (committed reading; deciding nothing)": {
            ALONE_B: recorded["DS1-OOF"]["record RR context"],
            ALONE_C: ectopic_figures(y, np.concatenate(live), codes)},
        "normal beats read ectopic per record (composites, deciding nothing)": {
            BASELINE: _per_record(y, np.concatenate(e2_b), records, codes),
            CANDIDATE: _per_record(y, np.concatenate(e2_c), records, codes)},
    }
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["V-QT36"][ALONE_B]["accuracy"], result["V-QT36"][ALONE_C]["accuracy"]
    checks = {
        "(1) C >= baseline + 3": [c["C"], b["C"] + 3, c["C"] >= b["C"] + 3],
        "(2) accuracy >= baseline - 0.5": [c["accuracy"], b["accuracy"] - 0.5,
                                           c["accuracy"] >= b["accuracy"] - 0.5],
        "(3) V-QT36 accuracy >= baseline - 0.5": [qc, qb - 0.5, qc >= qb - 0.5],
        "(4) S Se >= baseline - 5": [c["S Se"], b["S Se"] - 5, c["S Se"] >= b["S Se"] - 5],
        "(4) V Se >= baseline - 3": [c["V Se"], b["V Se"] - 3, c["V Se"] >= b["V Se"] - 3],
    }
    result["checks"] = checks
    result["qualifies"] = all(ok for *_, ok in checks.values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    alone = "DS1-OOF, record-context networks alone (committed reading; deciding nothing)"
    for first, names in (("DS1-OOF", [BASELINE, CANDIDATE]), (alone, [ALONE_B, ALONE_C])):
        both = {first: result[first], "V-QT36": {n: result["V-QT36"][m] for n, m in
                                                 zip(names, [ALONE_B, ALONE_C])}}
        print(ectopic_table(both, names, "reading", first=first), "\n")
    for k, (value, bound, ok) in checks.items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
