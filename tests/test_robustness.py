"""The shared-dataset drawing, the wide style family, the robustness sets, photos of paper and
calibration."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import EXCERPT_CUDB, EXCERPT_MITDB

SOURCES = {"mitdb": EXCERPT_MITDB, "cudb": EXCERPT_CUDB}


@pytest.fixture(scope="module")
def record_100():
    from ecg_core.records import read_record

    return read_record(EXCERPT_MITDB / "100")


def test_shared_dataset_preset_draws_the_recipes_geometry(record_100):
    """Plot area x 24-172.8 px, y 15.4-113.9 px; 193 samples (R +- 96 at 360 Hz) across it;
    34.7 px per mV with 0 mV at 53.0 px; the trace clipped at the plot edge."""
    from ecg_core.beats import beat_window
    from ecg_core.rendering import SHARED_DATASET_STYLE, plot_area, render_beat, render_signal

    style = SHARED_DATASET_STYLE
    assert (style.width, style.height) == (192, 128)
    x0, x1, y0, y1 = plot_area(style)
    assert (x0, x1) == pytest.approx((24.0, 172.8))
    assert (y0, y1) == pytest.approx((15.4, 113.9))
    r = int(record_100.annotations.sample[10])
    assert len(beat_window(record_100.signal, r, 360.0, style.before_s, style.after_s)) == 193
    img = render_beat(record_100.signal, r, 360.0, style)
    assert img.shape == (128, 192) and img.dtype == np.uint8
    ink = img < 200
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols.min() in (23, 24) and cols.max() in (172, 173, 174)
    # the scale: a flat segment at v mV lies at row 53.0 - 34.67 v
    for v in (-1.0, 0.0, 0.5, 1.0):
        flat = render_signal(np.full(193, v, np.float32), style)
        rows = np.flatnonzero((flat < 200).any(axis=1))
        assert abs(rows.mean() - (53.0 - 34.67 * v)) < 1.0, v
    # clipping: a 3 mV spike is cut at the top of the plot area and nothing is drawn above it
    spike = np.zeros(193, np.float32)
    spike[90:103] = np.r_[np.linspace(0, 3, 7), np.linspace(3, 0, 6)]
    spiked = render_signal(spike, style)
    above = spiked[: int(np.floor(y0)) - 1]
    assert (above == style.background_level).all()
    assert (spiked[int(np.ceil(y0)):int(np.ceil(y0)) + 3, 100:115] < 200).any()
    # a segment 3 mV below the axis leaves no ink at all in the plot area's lower part
    low = render_signal(np.full(193, -3.0, np.float32), style)
    assert (low == style.background_level).all()
    # the line is thin and mid-grey, as measured on the dataset (130-150 for most line pixels)
    assert 110 <= np.median(img[img < 200]) <= 165


def test_shared_dataset_preset_takes_the_first_channel():
    from ecg_core.rendering import SHARED_DATASET_STYLE, STYLE_PRESETS

    assert SHARED_DATASET_STYLE.first_channel
    assert STYLE_PRESETS["shared-dataset"] is SHARED_DATASET_STYLE
    assert not STYLE_PRESETS["default"].first_channel


def test_wide_styles_span_windows_scales_and_channels():
    from ecg_core.rendering import SHARED_DATASET_STYLE, wide_random_style

    rng = np.random.default_rng(0)
    styles = [wide_random_style(rng) for _ in range(2000)]
    windows = np.array([s.before_s + s.after_s for s in styles if s is not SHARED_DATASET_STYLE])
    assert windows.min() < 0.45 and windows.max() > 1.5
    assert ((windows >= 0.4 - 1e-9) & (windows <= 1.6 + 1e-9)).all()
    share = np.mean([s is SHARED_DATASET_STYLE for s in styles])
    assert 0.2 < share < 0.3
    fixed = [s for s in styles if s.y_range_mv is not None and s is not SHARED_DATASET_STYLE]
    assert 0.25 < len(fixed) / len(styles) < 0.35
    assert all(s.y_range_mv[1] > s.y_range_mv[0] for s in fixed)
    assert 0.15 < np.mean([s.first_channel for s in styles if s is not SHARED_DATASET_STYLE]) < 0.45


def test_wide_build_keeps_drawing_zero_and_draws_wider(tmp_path):
    from ecg_core.dataset import BuildConfig, build_dataset, read_manifest

    common = dict(records=["100"], max_per_class=40, drawings=2)
    build_dataset(tmp_path / "screen", mitdb=EXCERPT_MITDB,
                  config=BuildConfig(**common), progress=False)
    info = build_dataset(tmp_path / "wide", mitdb=EXCERPT_MITDB,
                         config=BuildConfig(**common, extra_styles="wide"), progress=False)
    assert info["settings"]["extra_styles"] == "wide"
    rows = read_manifest(tmp_path / "wide")
    zero = [r for r in rows if r["drawing"] in (0, "0")]
    assert zero
    for r in zero:
        assert (tmp_path / "wide" / r["image"]).read_bytes() == \
            (tmp_path / "screen" / r["image"]).read_bytes()
    extra = [r for r in rows if r["drawing"] not in (0, "0")]
    differ = sum((tmp_path / "wide" / r["image"]).read_bytes() !=
                 (tmp_path / "screen" / r["image"]).read_bytes() for r in extra)
    assert differ == len(extra)


def test_unknown_style_family_is_refused(tmp_path):
    from ecg_core.dataset import BuildConfig, build_dataset
    from ecg_core.errors import DatasetError

    with pytest.raises(DatasetError, match="style family"):
        build_dataset(tmp_path, mitdb=EXCERPT_MITDB,
                      config=BuildConfig(records=["100"], extra_styles="fancy"), progress=False)


def test_photos_of_paper_are_straightened_and_degridded(record_100):
    """A photographed beat on pink ECG paper (tilt, shadow, blur, JPEG) comes out of the
    canonical form close to the clean drawing, with no grid left and no grid warning."""
    from ecg_core.canonical import canonical_form, decode_image, image_warnings
    from ecg_core.robustness import PAPER_STYLE, photo_of_paper
    from ecg_core.rendering import render_beat

    rng = np.random.default_rng(11)
    clean_style = replace(PAPER_STYLE, paper_grid=False)
    sims = []
    for r in record_100.annotations.sample[20:32]:
        paper = render_beat(record_100.signal, int(r), 360.0, PAPER_STYLE)
        photo = canonical_form(decode_image(photo_of_paper(paper, rng)))
        clean = canonical_form(render_beat(record_100.signal, int(r), 360.0, clean_style))
        assert image_warnings(photo) == []
        a, b = photo.astype(float).ravel(), clean.astype(float).ravel()
        sims.append(np.corrcoef(a, b)[0, 1])
        # no grid left: the dark background holds no lines of ink
        assert (photo > 64).mean() < 2.5 * max((clean > 64).mean(), 1e-3)
    assert np.median(sims) > 0.6


def test_paper_skew_measures_a_known_tilt():
    import cv2

    from ecg_core.canonical import paper_skew

    grid = np.zeros((300, 400), np.uint8)
    grid[::12] = 1
    grid[:, ::12] = 1
    turn = cv2.getRotationMatrix2D((200, 150), -3.0, 1.0)
    tilted = cv2.warpAffine(grid * 255, turn, (400, 300)) > 60
    assert paper_skew(tilted) == pytest.approx(3.0, abs=0.5)
    assert paper_skew(grid.astype(bool)) == 0.0


def test_red_line_on_white_is_not_mistaken_for_paper():
    import cv2

    from ecg_core.canonical import canonical_form

    img = np.full((128, 192, 3), 255, np.uint8)
    xs = np.linspace(10, 180, 100)
    ys = 64 + 40 * np.sin(xs / 15)
    cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, (214, 39, 40), 3)
    out = canonical_form(img)
    assert (out > 128).mean() > 0.02


def test_draw_set_draws_each_set(tiny_dataset):
    from ecg_core.robustness import ROBUSTNESS_SETS, draw_set, split_rows

    rows = split_rows(tiny_dataset, "test")[:12]
    seen = {}
    for name in ROBUSTNESS_SETS:
        images, failed = draw_set(name, rows, SOURCES, size=(64, 64))
        assert images.shape == (12, 64, 64) and images.dtype == np.uint8
        assert failed == []
        assert (images.reshape(12, -1).max(axis=1) == 255).all()
        seen[name] = images
    # the sets differ from one another, and each is the same on a second draw
    assert not np.array_equal(seen["window-0.45"], seen["window-1.3"])
    assert not np.array_equal(seen["shared-dataset"], seen["window-1"])
    again, _ = draw_set("photo", rows, SOURCES, size=(64, 64))
    assert np.array_equal(again, seen["photo"])


def test_unknown_robustness_set_is_refused(tiny_dataset):
    from ecg_core.errors import DatasetError
    from ecg_core.robustness import draw_set, split_rows

    with pytest.raises(DatasetError, match="Unknown robustness set"):
        draw_set("sketch", split_rows(tiny_dataset, "test")[:2], SOURCES)


def test_evaluate_robustness_scores_the_committed_model(tiny_dataset, classifier, tmp_path):
    from ecg_core.robustness import evaluate_robustness, load_robustness, save_robustness

    result = evaluate_robustness(classifier, tiny_dataset, SOURCES, split="test",
                                 sets=["window-1", "shared-dataset"])
    assert set(result["sets"]) == {"window-1", "shared-dataset"}
    for fig in result["sets"].values():
        assert 0.0 <= fig["accuracy"] <= 1.0
        assert fig["n"] == sum(pc["support"] for pc in fig["per_class"].values())
    # the project's own look at its own window is read well
    assert result["sets"]["window-1"]["accuracy"] > 0.8
    model = tmp_path / "m.keras"
    saved = save_robustness(model, result, {"model_name": "m"})
    assert saved.name == "m.robustness.test.json"
    assert load_robustness(model, "test")["sets"]["window-1"]["n"] == result["sets"]["window-1"]["n"]
    assert load_robustness(model, "val") is None
    six = result["sets"]["shared-dataset"]["six_labels"]
    assert six["n"] == sum(pc["support"] for c, pc in
                           result["sets"]["shared-dataset"]["per_class"].items() if c != "APC")
    assert 0 <= six["accuracy"] <= 1 and "PVC" in six["recall"]
    # a later run of one set replaces that set and keeps the others
    again = evaluate_robustness(classifier, tiny_dataset, SOURCES, split="test",
                                sets=["fixed-mv"])
    save_robustness(model, again)
    assert set(load_robustness(model, "test")["sets"]) == {"window-1", "shared-dataset",
                                                           "fixed-mv"}


def test_temperature_scaling_recovers_a_known_temperature():
    from ecg_core.calibration import apply_temperature, fit_temperature, reliability

    rng = np.random.default_rng(0)
    n, k = 6000, 5
    logits = rng.normal(0, 2.0, size=(n, k))
    true_p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=p) for p in true_p])
    # an over-confident model: its logits are the true ones times 2.5
    over = apply_temperature(true_p, 1 / 2.5)
    t = fit_temperature(y, over)
    assert t == pytest.approx(2.5, rel=0.1)
    fixed = apply_temperature(over, t)
    assert (fixed.argmax(1) == over.argmax(1)).all()
    assert reliability(y, fixed)["ece"] < reliability(y, over)["ece"]
    assert reliability(y, true_p)["ece"] < 0.03
    diagram = reliability(y, fixed)
    assert sum(b["n"] for b in diagram["bins"]) == n
    with pytest.raises(ValueError):
        apply_temperature(true_p, 0.0)
    with pytest.raises(ValueError):
        fit_temperature(y[:3], over[:4])


def test_temperature_of_beats_read_twice_is_fitted_on_the_served_mean():
    """Beats read on two leads are served as the mean of the two readings, each rescaled first;
    the fitted T is the one that minimises that mean's NLL, not the raw mean's."""
    from ecg_core.calibration import (apply_temperature, calibration_card, fit_temperature,
                                      mean_reading)

    rng = np.random.default_rng(1)
    n, k = 4000, 4
    y = rng.integers(0, k, n)
    # two leads: one confident and mostly right, one soft and often wrong
    lead1 = rng.normal(0, 1, (n, k))
    lead1[np.arange(n), y] += 3.0
    lead2 = rng.normal(0, 1, (n, k))
    wrong = rng.random(n) < 0.3
    lead2[np.arange(n), np.where(wrong, (y + 1) % k, y)] += 1.0
    p1, p2 = (np.exp(v) / np.exp(v).sum(1, keepdims=True) for v in (lead1, lead2))
    readings = np.stack([p1, p2])
    readings[1, :500] = np.nan  # 500 beats with no second lead: their one reading
    served = mean_reading(readings, 1.7)
    np.testing.assert_allclose(served[:500], apply_temperature(p1[:500], 1.7), atol=1e-6)
    np.testing.assert_allclose(served[500:], (apply_temperature(p1[500:], 1.7)
                                              + apply_temperature(p2[500:], 1.7)) / 2, atol=1e-6)
    np.testing.assert_allclose(served.sum(1), 1.0, atol=1e-5)

    def nll(t):
        q = mean_reading(readings, t)
        return -np.mean(np.log(q[np.arange(n), y]))

    t = fit_temperature(y, readings)
    naive = fit_temperature(y, mean_reading(readings))  # fitted on the raw readings' mean
    assert abs(np.log(t / naive)) > 0.05
    assert nll(t) < nll(naive)
    assert nll(t) <= min(nll(t * 1.05), nll(t / 1.05))
    card = calibration_card(y, readings)
    assert card["readings"] == 2 and card["temperature"] == pytest.approx(t, rel=1e-3)
    assert card["nll_after"] == pytest.approx(nll(t), rel=1e-6)
    with pytest.raises(ValueError):
        mean_reading(np.full((2, 3, k), np.nan))
    with pytest.raises(ValueError):
        fit_temperature(y[:10], readings)


def test_classifier_applies_the_cards_temperature(classifier):
    from ecg_core.calibration import apply_temperature
    from ecg_core.model import Classifier

    x = np.zeros((2, *classifier.input_size), np.uint8)
    x[:, 30:34, :] = 255
    raw = classifier.predict_canonical(x, calibrated=False)
    card = json.loads(json.dumps(classifier.card))
    card["calibration"] = {"temperature": 2.0}
    warm = Classifier(None, card, runner=classifier._runner, path=classifier.path) \
        if classifier._runner is not None else Classifier(classifier.model, card)
    assert warm.temperature == 2.0
    assert np.allclose(warm.predict_canonical(x), apply_temperature(raw, 2.0), atol=1e-6)
    assert np.allclose(warm.predict_canonical(x, calibrated=False), raw, atol=1e-6)


def test_a_lone_image_gets_the_lone_image_temperature_of_a_rhythm_model():
    """A model with a rhythm input applies the card's lone-image temperature where it is given
    no rhythm (an uploaded image) and its own temperature where it is; an image-only model has
    one temperature."""
    from ecg_core.calibration import apply_temperature
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    base = Classifier.load(ROOT / "models" / "record" / "ecgnet.keras")
    x = np.zeros((2, *base.input_size), np.uint8)
    x[:, 30:34, :] = 255
    x[1, 10:54, 30:33] = 255
    ctx = np.array([[1.0, 1.0, 0.8, 1.0, 1.0]] * 2, np.float32)
    raw_alone = base.predict_canonical(x, None, calibrated=False)
    raw_ctx = base.predict_canonical(x, ctx, calibrated=False)
    card = json.loads(json.dumps(base.card))
    card["calibration"] = {"temperature": 2.0, "lone_image": {"temperature": 0.5}}
    clf = Classifier(None, card, runner=base._runner, path=base.path)
    assert (clf.temperature, clf.lone_temperature) == (2.0, 0.5)
    np.testing.assert_allclose(clf.predict_canonical(x), apply_temperature(raw_alone, 0.5),
                               atol=1e-6)
    np.testing.assert_allclose(clf.predict_canonical(x, ctx), apply_temperature(raw_ctx, 2.0),
                               atol=1e-6)
    card["calibration"] = {"temperature": 2.0}  # none of its own: the model's temperature
    assert Classifier(None, card, runner=base._runner, path=base.path).lone_temperature == 2.0


def test_classifier_applies_the_cards_class_mix_shift_before_the_temperature(classifier):
    from ecg_core.calibration import apply_temperature, shift_probabilities
    from ecg_core.model import Classifier

    x = np.zeros((2, *classifier.input_size), np.uint8)
    x[:, 30:34, :] = 255
    raw = classifier.predict_canonical(x, calibrated=False)
    codes = classifier.class_codes
    weakest = codes[int(raw[0].argmin())]
    card = json.loads(json.dumps(classifier.card))
    card["calibration"] = {"temperature": 2.0}
    card["prior_shift"] = {"strength": 1.0, "shift": {weakest: 40.0}}
    moved = Classifier(None, card, runner=classifier._runner, path=classifier.path) \
        if classifier._runner is not None else Classifier(classifier.model, card)
    vector = np.array([40.0 if c == weakest else 0.0 for c in codes])
    assert np.array_equal(moved.class_shift, vector)
    # the shift changes the decision (here to the class the network liked least) and the
    # temperature is applied after it
    shifted = moved.predict_canonical(x, calibrated=False)
    assert np.allclose(shifted, shift_probabilities(raw, vector), atol=1e-6)
    assert codes[int(shifted[0].argmax())] == weakest
    assert np.allclose(moved.predict_canonical(x), apply_temperature(shifted, 2.0), atol=1e-6)


def test_a_faint_trace_is_flagged_and_a_clear_one_is_not(record_100):
    from ecg_core.canonical import canonical_form, image_warnings, to_gray_array
    from ecg_core.rendering import DEFAULT_STYLE, random_style, render_beat

    r = int(record_100.annotations.sample[12])
    faint = render_beat(record_100.signal, r, 360.0, replace(DEFAULT_STYLE, line_level=235))
    assert any("faint" in w for w in image_warnings(canonical_form(faint),
                                                    to_gray_array(faint)))
    rng = np.random.default_rng(3)
    for _ in range(100):  # the palest random styles are still clear
        img = render_beat(record_100.signal, r, 360.0, random_style(rng))
        assert not any("faint" in w for w in image_warnings(canonical_form(img),
                                                            to_gray_array(img)))


def test_em_prior_adaptation_recovers_a_groups_class_mix():
    """Saerens et al. (2002): exact posteriors under a 50/50 source mix, beats drawn 90/10."""
    from ecg_core.calibration import adapt_to_prior

    rng = np.random.default_rng(1)
    n = 4000
    y = (rng.random(n) < 0.1).astype(int)  # the group's mix: 90% class 0
    x = rng.normal(np.where(y == 1, 1.5, 0.0), 1.0)
    lik = np.stack([np.exp(-0.5 * x ** 2), np.exp(-0.5 * (x - 1.5) ** 2)], axis=1)
    source = np.array([0.5, 0.5])
    post = lik * source / (lik * source).sum(1, keepdims=True)
    adapted, prior = adapt_to_prior(post, source)
    assert prior[0] == pytest.approx(0.9, abs=0.03)
    assert adapted.shape == post.shape and np.allclose(adapted.sum(1), 1, atol=1e-5)
    assert (adapted.argmax(1) == y).mean() > (post.argmax(1) == y).mean() + 0.05
    # a class held at its source share keeps it; the others share the rest
    three = np.concatenate([post * 0.9, np.full((n, 1), 0.1)], axis=1)
    _, held = adapt_to_prior(three, np.array([0.45, 0.45, 0.1]), fixed=[2])
    assert held[2] == pytest.approx(0.1) and held.sum() == pytest.approx(1.0)
    assert held[0] > held[1]
    empty, same = adapt_to_prior(np.zeros((0, 2)), source)
    assert empty.shape == (0, 2) and np.allclose(same, source)
    with pytest.raises(ValueError):
        adapt_to_prior(post, np.array([1.0, 0.0]))
    with pytest.raises(ValueError):
        adapt_to_prior(post, np.array([0.3, 0.3, 0.4]))
