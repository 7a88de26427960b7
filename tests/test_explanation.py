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
