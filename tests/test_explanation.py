"""Explainer computations: output-shape formula against Keras, convolution and pooling by
hand, feature maps and Grad-CAM on the committed model."""

import itertools

import numpy as np
import pytest

from ecg_core.explanation import (KERNELS, conv_cell, conv_layers, conv_output_size, convolve2d,
                                  explained_network, feature_maps, grad_cam, layer_table, pool2d,
                                  same_padding, tile_channels, tiles_exactly)
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def network(classifier):
    """The network the Explainer shows: the committed model, or its first member if it is an
    ensemble."""
    return explained_network(classifier.model)[0]


def test_output_size_formula_matches_keras_for_a_range_of_settings():
    import keras

    for w, k, p, s in itertools.product((5, 8, 13), (1, 3, 5), (0, 1, 2), (1, 2, 3)):
        if w + 2 * p < k:
            with pytest.raises(ValueError):
                conv_output_size(w, k, p, s)
            continue
        inp = keras.Input((w, w, 1))
        x = keras.layers.ZeroPadding2D(p)(inp) if p else inp
        out = keras.layers.Conv2D(1, k, strides=s, padding="valid")(x)
        assert out.shape[1] == out.shape[2] == conv_output_size(w, k, p, s), (w, k, p, s)
        same = keras.layers.Conv2D(1, k, strides=s, padding="same")(inp)
        before, after = same_padding(w, k, s)
        assert same.shape[1] == (w - k + before + after) // s + 1 == -(-w // s)
    assert tiles_exactly(7, 3, 0, 2) and not tiles_exactly(8, 3, 0, 2)


def test_every_layer_of_the_committed_model_agrees_with_the_formula(network):
    rows = layer_table(network)
    checked = [r for r in rows if r["formula_ok"] is not None]
    assert len(checked) >= 4 and all(r["formula_ok"] for r in checked)
    total = sum(r["trainable"] + r["non_trainable"] for r in rows)
    assert total == network.count_params()


def test_convolution_and_cell_by_hand():
    x = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 0, 1, 0], [1, 1, 0, 2]], dtype=float)
    k = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)
    # top-left window: (1 + 0 + 2) - (0 + 3 + 1) = -1 ; top-right: (2 + 1 + 0) - (1 + 1 + 0) = 1
    # bottom-left: (0 + 2 + 1) - (3 + 1 + 0) = -1 ; bottom-right: (1 + 0 + 1) - (1 + 0 + 2) = -1
    np.testing.assert_allclose(convolve2d(x, k), [[-1, 1], [-1, -1]])
    np.testing.assert_allclose(convolve2d(x, k, bias=0.5, relu=True), [[0, 1.5], [0, 0]])
    same = convolve2d(x, k, padding="same")
    # 'same' pads one zero each side; the window at (0, 0) sees padding in its left column
    # and top row, x[0:2, 0] (weight 0) in the middle and x[0:2, 1] = 2, 1 on the right: -3
    assert same.shape == (4, 4) and same[0, 0] == -3
    assert convolve2d(x, k, padding=1, stride=2).shape == (2, 2)
    cell = conv_cell(x, k, 0, 1)
    np.testing.assert_array_equal(cell["window"], x[0:3, 1:4])
    assert cell["sum"] == 1 and cell["relu"] == 1
    assert conv_cell(x, k, 0, 0, bias=-0.5)["relu"] == 0
    with pytest.raises(IndexError):
        conv_cell(x, k, 2, 0)
    box = convolve2d(np.ones((5, 5)), KERNELS["Box blur"])
    np.testing.assert_allclose(box, np.ones((3, 3)))


def test_pooling_worked_example():
    m = np.array([[1, 3, 2, 0], [4, 6, 1, 1], [0, 2, 9, 5], [1, 1, 3, 7]], dtype=float)
    np.testing.assert_array_equal(pool2d(m, 2, 2, "max"), [[6, 2], [2, 9]])
    np.testing.assert_allclose(pool2d(m, 2, 2, "average"), [[3.5, 1.0], [1.0, 6.0]])
    assert pool2d(np.zeros((5, 5, 3)), 2).shape == (2, 2, 3)
    with pytest.raises(ValueError):
        pool2d(m, 2, 2, "median")


def test_feature_maps_and_grad_cam_on_a_real_example(classifier, network):
    image = classifier.canonical(
        __import__("ecg_core.canonical", fromlist=["decode_image"]).decode_image(
            sorted((EXAMPLES / "PVC").glob("*.png"))[0].read_bytes()))
    layers = conv_layers(network)
    first = feature_maps(network, image, layers[0])
    assert first.shape == tuple(network.get_layer(layers[0]).output.shape[1:])
    assert np.isfinite(first).all()
    tiled = tile_channels(first, columns=4)
    assert np.nanmax(tiled) <= 1 and np.nanmin(tiled) >= 0
    cam, idx = grad_cam(network, image)
    assert cam.shape == image.shape and cam.dtype == np.float32
    assert cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    assert classifier.class_codes[idx] == "PVC"  # the predicted class by default
    other, idx2 = grad_cam(network, image, class_index=0)
    assert idx2 == 0 and not np.allclose(cam, other)
    with pytest.raises(ValueError):
        feature_maps(network, image, "no_such_layer")


def test_grad_cam_points_at_pixels_the_model_uses(classifier, network):
    """Deletion check (Petsiuk et al. 2018, RISE, BMVC) over every bundled example: blanking
    the 10% of pixels that Grad-CAM rates highest must cost the predicted class more
    probability than blanking the 10% it rates lowest; and on most examples the map is
    higher on the trace than on the background."""
    from ecg_core.canonical import decode_image

    paths = sorted(EXAMPLES.glob("*/*.png"))
    drops = {"highest": 0.0, "lowest": 0.0}
    on_trace = 0
    for path in paths:
        image = classifier.canonical(decode_image(path.read_bytes()))
        cam, idx = grad_cam(network, image)  # as the Explainer shows it, with the model's
        base = classifier.predict_canonical(image)[idx]  # own probabilities
        order = np.argsort(cam.ravel(), kind="stable")
        k = image.size // 10
        for name, pixels in (("highest", order[-k:]), ("lowest", order[:k])):
            blanked = image.ravel().copy()
            blanked[pixels] = 0  # the canonical background
            drops[name] += base - classifier.predict_canonical(blanked.reshape(image.shape))[idx]
        trace = image > 64
        on_trace += bool(cam[trace].mean() > cam[~trace].mean())
    assert drops["highest"] > 5 * max(drops["lowest"], 0.01 * len(paths) / 24)
    assert on_trace > 2 * len(paths) // 3


def test_grad_cam_of_a_record_beat_explains_the_reading_with_its_own_rhythm():
    """A record's result keeps each beat's context vector; with the model's columns of it
    (Classifier.rhythm_input) each member of the committed record model, read through the
    explainer's inputs, gives what the ensemble's network read for that beat; without them
    (zeros, as for a lone image) the first network reads many beats of 208 otherwise, and
    Grad-CAM explains another score. Read in 60 s stretches, the local RR features are the
    same."""
    from ecg_core.analysis import classify_record_file, model_signal
    from ecg_core.canonical import canonical_form
    from ecg_core.model import Classifier, ensemble_members
    from ecg_core.records import read_record
    from ecg_core.rendering import render_beat
    from tests.conftest import EXCERPT_MITDB, ROOT

    clf = Classifier.load(ROOT / "models" / "record" / "ecgnet.keras", backend="keras")
    result = classify_record_file(EXCERPT_MITDB / "208", clf)
    n = len(result.samples)
    assert result.rhythm.shape == (n, 10) and result.rhythm.dtype == np.float32
    context = clf.rhythm_input(result.rhythm)
    assert context.shape == (n, 5)
    chunked = classify_record_file(EXCERPT_MITDB / "208", clf, chunk_s=60.0)
    # the local RR features alike (the record's mean RR is each stretch's own)
    np.testing.assert_allclose(chunked.rhythm[:, :4], result.rhythm[:, :4], atol=1e-6)
    signal = model_signal(read_record(EXCERPT_MITDB / "208"), clf)
    members = ensemble_members(clf.model)
    first = members[0]
    differs, maps_differ = 0, 0
    for i in range(0, n, 40):
        image = canonical_form(render_beat(signal, int(result.samples[i]), result.fs),
                               clf.input_size)
        mean = np.mean([feature_maps(m, image, "probabilities", rhythm=context[i])
                        for m in members], axis=0)
        np.testing.assert_allclose(mean, clf.network_outputs(image, result.rhythm[i]),
                                   atol=1e-5)
        read = feature_maps(first, image, "probabilities", rhythm=context[i])
        alone = feature_maps(first, image, "probabilities")
        if read.argmax() != alone.argmax():
            differs += 1
            cam, _ = grad_cam(first, image, int(read.argmax()), rhythm=context[i])
            zero, _ = grad_cam(first, image, int(read.argmax()))
            maps_differ += not np.allclose(cam, zero)
    assert differs >= 2 and maps_differ >= 1, (differs, maps_differ)
    with pytest.raises(ValueError, match="rhythm features"):
        grad_cam(first, image, rhythm=context[0][:2])


def test_grad_cam_of_an_ensemble_is_the_mean_of_the_maps_of_the_networks_behind_the_class():
    """The committed AAMI model joins 8 networks: V from 4 of them, the other classes from the
    other 4 (GuardedClass). Its Grad-CAM for a class is the mean of those networks' maps, each
    scaled to its peak first, for the ensemble's predicted class by default; it is not the
    first network's map alone."""
    from ecg_core.canonical import decode_image
    from ecg_core.explanation import deciding_networks, map_agreement, network_grad_cams
    from ecg_core.model import Classifier, ensemble_members
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras", backend="keras")
    members = ensemble_members(clf.model)
    guard = (clf.card.get("ensemble") or {}).get("guard")
    if len(members) < 2 or not guard:
        pytest.skip("the committed aami/ecgnet is not an ensemble with a guarded class")
    v = clf.class_codes.index(guard["class"])
    n_guard = int(guard["members"])
    assert deciding_networks(clf.model, v) == members[-n_guard:]
    for c in range(len(clf.class_codes)):
        if c != v:
            assert deciding_networks(clf.model, c) == members[:-n_guard]
    first = explained_network(clf.model)[0]
    assert deciding_networks(first, v) == [first]
    differs = 0
    for path in (sorted((EXAMPLES / "PVC").glob("*.png"))[:1]
                 + sorted((EXAMPLES / "NOR").glob("*.png"))[:1]):
        image = clf.canonical(decode_image(path.read_bytes()))
        rhythm = np.array([1.0, 1.0, 1.0, 0.8, 1.0], np.float32)
        cam, idx = grad_cam(clf.model, image, rhythm=rhythm)
        assert idx == int(np.argmax(clf.network_outputs(image, rhythm)))
        maps = [grad_cam(net, image, idx, rhythm=rhythm)[0]
                for net in deciding_networks(clf.model, idx)]
        each = network_grad_cams(clf.model, image, idx, rhythm=rhythm)
        assert len(each) == len(maps) == (n_guard if idx == v else len(members) - n_guard)
        for a, b in zip(each, maps):
            np.testing.assert_allclose(a, b, atol=1e-6)
        assert -1.0 <= map_agreement(each) < 0.999
        mean = np.mean(maps, axis=0)
        np.testing.assert_allclose(cam, mean / mean.max(), atol=1e-5)
        assert cam.shape == image.shape and cam.max() == pytest.approx(1.0)
        differs += not np.allclose(cam, grad_cam(first, image, idx, rhythm=rhythm)[0], atol=0.05)
    assert differs >= 1
    with pytest.raises(ValueError, match="class_index"):
        grad_cam(clf.model, image, class_index=len(clf.class_codes))


def test_map_agreement_is_the_mean_pairwise_correlation():
    from ecg_core.explanation import map_agreement

    rng = np.random.default_rng(3)
    a = rng.random((8, 8))
    assert map_agreement([a, 2 * a + 1]) == pytest.approx(1.0)
    assert map_agreement([a, -a]) == pytest.approx(-1.0)
    b = rng.random((8, 8))
    r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert map_agreement([a, b]) == pytest.approx(r)
    assert map_agreement([a, a, b]) == pytest.approx((1 + 2 * r) / 3)
    assert map_agreement([a, np.zeros((8, 8))]) == 0.0
    with pytest.raises(ValueError):
        map_agreement([a])
    with pytest.raises(ValueError):
        map_agreement([a, np.zeros((4, 4))])
