"""The record-context stage (ecg_core.record_stage): its features, its fit, and how a model that
carries one reads a real record."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.record_stage import (STAGE_FEATURES, StageError, apply_stage, feature_names,
                                   fit_stage, stage_features, stage_options)
from tests.conftest import EXCERPT_MITDB

CODES = ("N", "S", "V", "F", "Q")


def rhythm(prev_local, next_local, local_record, available=1.0):
    n = len(prev_local)
    return np.stack([prev_local, next_local, np.full(n, 0.8), np.full(n, available),
                     local_record], axis=1).astype(np.float32)


def test_features_set_each_beat_against_its_own_record():
    probs = np.array([[0.9, 0.05, 0.03, 0.01, 0.01]] * 3 + [[0.2, 0.1, 0.6, 0.05, 0.05]] * 3)
    records = ["a", "a", "a", "b", "b", "b"]
    feats = stage_features(probs, rhythm([0.7] * 6, [1.3] * 6, [1.1] * 6), records)
    assert feats.shape == (6, len(STAGE_FEATURES)) == (6, 14)
    assert np.allclose(feats[:, :5], np.log(probs))
    # every beat equals its record's typical reading: the relative features are zero, although
    # the two records' readings differ
    assert np.allclose(feats[:, 5:10], 0.0)
    assert np.allclose(feats[:, 10:], [0.7, 1.3, 1.1, 0.77])
    # one record: record b's V-leaning beats now stand out against record a's
    one = stage_features(probs, rhythm([0.7] * 6, [1.3] * 6, [1.1] * 6))
    assert (one[3:, 7] > 0).all()
    # unknown RR intervals read as 1.0 (an ordinary beat), not as 0 (extremely premature)
    unknown = stage_features(probs, rhythm([0.0] * 6, [0.0] * 6, [0.0] * 6, available=0.0))
    assert np.allclose(unknown[:, 10:], 1.0)
    # a probability of 0 (a float32 softmax reaches it) is floored, not -inf
    zero = stage_features(np.array([[1.0, 0, 0, 0, 0]]), rhythm([1.0], [1.0], [1.0]))
    assert np.isfinite(zero).all()
    with pytest.raises(StageError, match="shapes"):
        stage_features(probs, rhythm([1.0] * 5, [1.0] * 5, [1.0] * 5))


def context(rhythm_part, qrs_corr, available=1.0):
    """Beat-context vectors: rhythm features, then template features (QRS correlation given,
    beat correlation 0.9, amplitude ratio 1.1, residual 0.2)."""
    n = len(rhythm_part)
    template = np.stack([qrs_corr, np.full(n, 0.9), np.full(n, 1.1), np.full(n, 0.2),
                         np.full(n, available)], axis=1)
    return np.concatenate([rhythm_part, template], axis=1).astype(np.float32)


def test_shape_features_and_the_typical_half():
    """Six beats of one record: four normal beats alike (QRS correlation 0.99) read N, two
    ventricular beats unlike them (0.2) read V. The typical half is formed from the alike
    beats only, so it does not move when the V beats are many."""
    probs = np.array([[0.9, 0.02, 0.05, 0.02, 0.01]] * 4 + [[0.1, 0.05, 0.8, 0.04, 0.01]] * 2)
    base = rhythm([1.0] * 6, [1.0] * 6, [1.0] * 6)
    ctx = context(base, np.array([0.99, 0.99, 0.98, 0.99, 0.2, 0.2]))
    plain = stage_features(probs, ctx)
    assert plain.shape == (6, 14)  # shape features only on request
    shaped = stage_features(probs, ctx, shape=True)
    assert shaped.shape == (6, 18) == (6, len(feature_names(shape=True)))
    assert np.allclose(shaped[:, 14:], ctx[:, 5:9])
    assert np.allclose(shaped[:, :14], plain)
    # three V beats of six: the median over all beats moves halfway toward V, the typical
    # half (the three beats most like the typical beat) stays at the normal beats' reading
    probs3 = np.array([[0.9, 0.02, 0.05, 0.02, 0.01]] * 3 + [[0.1, 0.05, 0.8, 0.04, 0.01]] * 3)
    ctx3 = context(base, np.array([0.99, 0.99, 0.98, 0.2, 0.3, 0.25]))
    every = stage_features(probs3, ctx3, typical="all")
    half = stage_features(probs3, ctx3, typical="typical half")
    assert np.allclose(half[:3, 5:10], 0.0) and (half[3:, 7] > 1.5).all()
    assert (every[3:, 7] < half[3:, 7]).all()
    # no template (a record too short): the typical half falls back to every beat
    none = stage_features(probs3, context(base, np.zeros(6), available=0.0),
                          typical="typical half")
    assert np.allclose(none[:, 5:10], every[:, 5:10])
    with pytest.raises(StageError, match="10"):
        stage_features(probs, base, shape=True)
    with pytest.raises(StageError, match="Unknown typical reading"):
        stage_features(probs, ctx, typical="dominant")
    # the options travel with a fitted stage, and stages without them read as before
    y = np.array([0, 0, 0, 0, 2, 2])
    stage = fit_stage(shaped, y, CODES, shape=True, typical="typical half")
    assert stage_options(stage) == {"shape": True, "typical": "typical half"}
    assert stage["features"] == feature_names(shape=True)
    assert stage_options({}) == {"shape": False, "typical": "all"}
    assert (apply_stage(stage, stage_features(probs, ctx, shape=True, typical="typical half"))
            .argmax(1) == y).all()


def test_the_stage_learns_prematurity_the_network_missed():
    """Synthetic beats: the network cannot tell N from S, the RR intervals can."""
    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.random(n) < 0.1).astype(np.int64)  # 10% S
    probs = np.tile([0.6, 0.3, 0.05, 0.04, 0.01], (n, 1)) * rng.uniform(0.9, 1.1, (n, 1))
    probs /= probs.sum(axis=1, keepdims=True)
    prev = np.where(y == 1, rng.normal(0.65, 0.05, n), rng.normal(1.0, 0.05, n))
    nxt = np.where(y == 1, rng.normal(1.3, 0.05, n), rng.normal(1.0, 0.05, n))
    records = rng.integers(0, 20, n)
    feats = stage_features(probs, rhythm(prev, nxt, np.ones(n)), records)
    stage = fit_stage(feats[:3000], y[:3000], CODES)
    out = apply_stage(stage, feats[3000:])
    assert out.shape == (1000, 5) and out.dtype == np.float32
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)
    assert (out.argmax(axis=1) == y[3000:]).mean() > 0.98  # the network alone: 90%
    # classes with no beat in the fit are never chosen
    assert out[:, 2:].max() < 1e-6
    assert stage["beats"] == {"N": int((y[:3000] == 0).sum()), "S": int(y[:3000].sum()),
                              "V": 0, "F": 0, "Q": 0}
    assert stage["features"] == list(STAGE_FEATURES)
    # balanced weights call more beats S (higher Se, lower +P) on the same data
    balanced = fit_stage(feats[:3000], y[:3000], CODES, class_weight="balanced")
    assert (apply_stage(balanced, feats).argmax(1) == 1).sum() >= \
        (apply_stage(stage, feats).argmax(1) == 1).sum()
    with pytest.raises(StageError, match="14 features"):
        apply_stage(stage, feats[:, :10])
    with pytest.raises(StageError, match="two classes"):
        fit_stage(feats[y == 0], y[y == 0], CODES)


def test_a_model_with_a_stage_reads_a_record_through_it(tmp_path):
    """The committed AAMI model on a real record: with a stage in its card the Record path reads
    the network's own outputs through it; without one, the network's calibrated reading."""
    import json
    import shutil

    from ecg_core.analysis import classify_record
    from ecg_core.model import Classifier
    from ecg_core.records import read_record
    from tests.conftest import ROOT

    for stem in ("ecgnet.keras", "ecgnet.card.json", "ecgnet.tflite"):
        shutil.copy(ROOT / "models" / "aami" / stem, tmp_path / stem)
    card_path = tmp_path / "ecgnet.card.json"
    card = json.loads(card_path.read_text())
    card.pop("record_stage", None)
    card.pop("dominant_qrs", None)  # the stage alone (the readings of V come after it)
    card.pop("v_template", None)
    card_path.write_text(json.dumps(card))
    record = read_record(EXCERPT_MITDB / "208")
    plain = Classifier.load(tmp_path / "ecgnet.keras")
    before = classify_record(record, plain)
    # a stage that calls every beat whose reading is more V than its record's typical beat V
    k, m = len(CODES), len(STAGE_FEATURES)
    coef = np.zeros((k, m))
    coef[2, 7] = 50.0  # V: log p_V - record median
    stage = {"mean": [0.0] * m, "scale": [1.0] * m, "coef": coef.tolist(),
             "intercept": [0.0, -99.0, -1.0, -99.0, -99.0]}
    card["record_stage"] = stage
    card_path.write_text(json.dumps(card))
    staged = Classifier.load(tmp_path / "ecgnet.keras")
    assert staged.record_stage is not None
    after = classify_record(record, staged)
    assert np.array_equal(after.samples, before.samples)
    assert np.allclose(after.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert set(after.predicted) <= {"N", "V"} and "V" in after.predicted and "N" in after.predicted
    # a lone image keeps the network's reading
    x = np.zeros((1, *staged.input_size), np.uint8)
    assert np.allclose(staged.predict_canonical(x), plain.predict_canonical(x), atol=1e-6)
    # what the stage read: the network's own outputs (no shift, no temperature) of the same
    # beats, each against the record's median; V exactly where 50 (log p_V - median) > 1
    plain.class_shift, plain.temperature = None, 1.0
    raw = classify_record(record, plain).probabilities
    log_v = np.log(np.clip(raw[:, 2], 1e-6, 1.0))
    expected = np.where(50.0 * (log_v - np.median(log_v)) - 1.0 > 0, "V", "N")
    assert list(expected) == after.predicted


def test_a_stage_with_shape_features_gets_them_on_the_record_path(tmp_path):
    """A stage fitted with shape features makes the Record path form the record's typical beat
    (ecg_core.beats.template_features): here a stage that calls V every beat whose QRS
    correlates with the typical beat below 0.9, on the real excerpt of 208 (many V beats)."""
    import json
    import shutil

    from ecg_core.analysis import classify_record, model_signal
    from ecg_core.beats import BEAT_SYMBOLS, template_features
    from ecg_core.model import Classifier
    from ecg_core.records import read_record
    from tests.conftest import ROOT

    for stem in ("ecgnet.keras", "ecgnet.card.json", "ecgnet.tflite"):
        shutil.copy(ROOT / "models" / "aami" / stem, tmp_path / stem)
    card_path = tmp_path / "ecgnet.card.json"
    card = json.loads(card_path.read_text())
    k, m = len(CODES), len(feature_names(shape=True))
    coef = np.zeros((k, m))
    coef[2, 14] = -40.0  # V: low QRS correlation with the typical beat
    card["record_stage"] = {"mean": [0.0] * m, "scale": [1.0] * m, "coef": coef.tolist(),
                            "intercept": [0.0, -99.0, 36.0, -99.0, -99.0], "shape": True,
                            "typical": "all"}
    card.pop("v_template", None)  # the stage's calls as it makes them (no reading after it)
    card_path.write_text(json.dumps(card))
    clf = Classifier.load(tmp_path / "ecgnet.keras")
    record = read_record(EXCERPT_MITDB / "208")
    result = classify_record(record, clf)
    ann = record.annotations
    every = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
    corr = template_features(model_signal(record, clf), result.samples, record.fs, every)[:, 0]
    assert list(np.where(corr < 0.9, "V", "N")) == result.predicted
    assert 0 < result.predicted.count("V") < len(result.predicted)
