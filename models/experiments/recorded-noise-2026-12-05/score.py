"""Validation figures of the AAMI recipe trained with drawings of recorded noise against the
committed recipe, both by 5-fold cross-validation within DS1 (RULE.md beside this file).

1. DS1-OOF: each fold network's outputs on its fold's test records, shifted by 0.25 x that
   network's own class-mix log ratio before any temperature (the committed reading), pooled
   over the 22 patients. The baseline's fold networks are no longer on disk; their figures
   under the same reading are those recorded by ``../record-rr-cv-2026-11-28/score.py``.
   Their saved out-of-fold outputs (``../ds1-cv-2026-11-28/``) are temperature-scaled
   (``cross-validate`` pools calibrated outputs), so the committed reading cannot be
   recomputed from them; they are compared, for information, with the candidate's own saved
   outputs read the same way (both unshifted; both shifted after the temperature, each fold's
   log ratio from its recipe on the build it was trained on).
2. V-QT36: the candidate's five fold networks averaged (each with its shift) on the 36 QT
   records open to validation, from the reference beats (Record page path). The baseline's
   figures are those recorded by ``../record-rr-cv-2026-11-28/score.py``.

Writes validation.json beside this file and prints the table; then, deciding nothing, the
other readings and, per record, the normal beats read as ectopic.

Run from the repository root (about 5 min on 2 cores):
    python models/experiments/recorded-noise-2026-12-05/score.py
"""

from __future__ import annotations

import json
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
RUNS = ROOT / "data" / "runs-cv-ds1-noise"
SHIFT = 0.25
BASELINE = "baseline (committed recipe, 2026-11-28)"
CANDIDATE = "with recorded-noise drawings"
#: Training settings that make two fold networks the same recipe (the data folder aside).
RECIPE_KEYS = ("arch", "epochs", "batch_size", "learning_rate", "schedule", "patience", "seed",
               "max_train", "max_class_weight", "class_weighting", "max_train_per_class",
               "rhythm_context", "rhythm_dropout", "input_size", "prior_adjustment")


def _per_record(y: np.ndarray, p: np.ndarray, records: np.ndarray, codes) -> dict:
    """Normal beats read as each ectopic class, per record."""
    n, pred = codes.index("N"), p.argmax(axis=1)
    return {r: {c: int(((records == r) & (y == n) & (pred == codes.index(c))).sum())
                for c in codes if c != "N"} for r in sorted(set(records))}


def main() -> int:
    base = np.load(EXPERIMENTS / "ds1-cv-2026-11-28" / "ecgnet.eval.cv.test.aami-bp-leads.npz")
    base_recipe = json.loads((EXPERIMENTS / "ds1-cv-2026-11-28"
                              / "ecgnet.eval.cv.test.aami-bp-leads.json").read_text())["recipe"]
    cand = np.load(HERE / "ecgnet.eval.cv.test.aami-bp-leads-noise.npz")
    assert np.array_equal(base["y_true"], cand["y_true"])
    ys, recs, live, saved_c, saved_b, qt = [], [], [], [], [], []
    start = 0
    for protocol in DS1_CV_PROTOCOLS:
        clf = Classifier.load(RUNS / protocol / "ecgnet.keras")
        t = clf.card["training"]
        for k in RECIPE_KEYS:
            mine = list(t[k]) if isinstance(t[k], tuple) else t[k]
            assert mine == base_recipe[k], (k, t[k], base_recipe[k])
        codes = list(clf.class_codes)
        x, y, rows = load_split(NOISE_DATA, "test", protocol, size=clf.input_size)
        assert np.array_equal(base["y_true"][start:start + len(y)], y), protocol
        sl = slice(start, start + len(y))
        start += len(y)
        ratio_c = class_mix_log_ratio(clf.card, NOISE_DATA)[0]
        ratio_b = class_mix_log_ratio(clf.card, BASE_DATA)[0]
        # the committed reading: the shift on the network's outputs, no temperature
        clf.temperature = 1.0
        clf.class_shift = SHIFT * ratio_c
        context = context_from_rows(rows, NOISE_DATA)
        live.append(np.concatenate([clf.predict_canonical(x[i:i + 512], context[i:i + 512])
                                    for i in range(0, len(x), 512)]))
        # the saved (temperature-scaled) outputs of both recipes, shifted alike
        saved_c.append(shift_probabilities(cand["y_prob"][sl].astype(np.float64),
                                           SHIFT * ratio_c))
        saved_b.append(shift_probabilities(base["y_prob"][sl].astype(np.float64),
                                           SHIFT * ratio_b))
        ys.append(y)
        recs += [r["record"] for r in rows]
        qt.append(classify_database(ROOT.parent / "shared" / "qtdb", clf,
                                    records=QTDB_TRAIN + QTDB_VAL))
        print(protocol, "scored", flush=True)
    assert start == len(base["y_true"])
    y, records = np.concatenate(ys), np.array(recs)
    recorded = json.loads((EXPERIMENTS / "record-rr-cv-2026-11-28" / "validation.json")
                          .read_text())
    result = {
        "DS1-OOF": {BASELINE: recorded["DS1-OOF"]["baseline (local RR context)"],
                    CANDIDATE: ectopic_figures(y, np.concatenate(live), codes)},
        "V-QT36": {BASELINE: recorded["V-QT36"]["baseline (local RR context)"],
                   CANDIDATE: ectopic_figures(qt[0]["y_true"],
                                              np.mean([d["probabilities"] for d in qt], axis=0),
                                              codes)},
        "saved outputs, unshifted": {
            BASELINE: ectopic_figures(y, base["y_prob"].astype(np.float64), codes),
            CANDIDATE: ectopic_figures(y, cand["y_prob"].astype(np.float64), codes)},
        "saved outputs, shifted after the temperature": {
            BASELINE: ectopic_figures(y, np.concatenate(saved_b), codes),
            CANDIDATE: ectopic_figures(y, np.concatenate(saved_c), codes)},
        "normal beats read ectopic per record (saved outputs, shifted after the temperature)": {
            BASELINE: _per_record(y, np.concatenate(saved_b), records, codes),
            CANDIDATE: _per_record(y, np.concatenate(saved_c), records, codes)},
        "normal beats read ectopic per record (candidate, committed reading)":
            _per_record(y, np.concatenate(live), records, codes),
    }
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["V-QT36"][BASELINE]["accuracy"], result["V-QT36"][CANDIDATE]["accuracy"]
    checks = {
        "(1) C >= baseline + 3": [c["C"], b["C"] + 3, c["C"] >= b["C"] + 3],
        "(2) accuracy >= baseline - 0.5": [c["accuracy"], b["accuracy"] - 0.5,
                                           c["accuracy"] >= b["accuracy"] - 0.5],
        "(3) V-QT36 accuracy >= baseline - 0.5": [qc, qb - 0.5, qc >= qb - 0.5],
        "(4) S Se >= baseline - 5": [c["S Se"], b["S Se"] - 5, c["S Se"] >= b["S Se"] - 5],
        "(4) V Se >= baseline - 3": [c["V Se"], b["V Se"] - 3, c["V Se"] >= b["V Se"] - 3],
    }
    result["checks"] = checks
    result["qualifies"] = all(v[2] for v in checks.values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print(ectopic_table(result, [BASELINE, CANDIDATE], "recipe"))
    for reading in ("saved outputs, unshifted", "saved outputs, shifted after the temperature"):
        print(f"\n{reading}: " + "; ".join(
            f"{name}: accuracy {f['accuracy']:.2f}, S {f['S Se']:.1f} / {f['S +P']:.1f}, "
            f"V {f['V Se']:.1f} / {f['V +P']:.1f}, C {f['C']:.2f}"
            for name, f in result[reading].items()))
    for k, (value, bound, ok) in checks.items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
