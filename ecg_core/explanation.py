"""Explanation: what a CNN computes on a beat image, step by step.

Everything here is computed, not illustrated: the convolution and pooling of the Explainer page
run on the real image, the layer table is read from the committed model, and the feature maps
and Grad-CAM come from sub-models of it (Keras Functional API).

Conventions, as in Keras: "convolution" is cross-correlation (the kernel is not flipped);
arrays are (height, width) or (height, width, channels); ``valid`` padding adds nothing and
``same`` pads so that the output has ``ceil(W / S)`` positions.
"""

from __future__ import annotations

import math

import numpy as np

#: 3x3 kernels for the Explainer, float64. "Horizontal" Sobel responds to horizontal edges
#: (a change from top to bottom), "vertical" Sobel to vertical edges.
KERNELS: dict[str, np.ndarray] = {
    "Sobel horizontal": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "Sobel vertical": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "Sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "Box blur": np.full((3, 3), 1 / 9, dtype=np.float64),
}


def conv_output_size(w: int, k: int, p: int, s: int) -> int:
    """Output length of a convolution or pooling along one axis: floor((W - K + 2P) / S) + 1.

    Args:
        w: input size W (px), k: kernel size K, p: padding P on each side, s: stride S.

    Returns:
        The output size O.

    Raises:
        ValueError: if W, K or S is below 1, P is negative, or the kernel does not fit
            (W + 2P < K).
    """
    if w < 1 or k < 1 or s < 1 or p < 0:
        raise ValueError(f"Need W, K, S >= 1 and P >= 0; got W={w}, K={k}, P={p}, S={s}.")
    if w + 2 * p < k:
        raise ValueError(f"The kernel (K={k}) is larger than the padded input (W + 2P = "
                         f"{w + 2 * p}).")
    return (w - k + 2 * p) // s + 1


def tiles_exactly(w: int, k: int, p: int, s: int) -> bool:
    """True where the windows end exactly at the padded input's edge, (W - K + 2P) mod S = 0;
    otherwise the last ``(W - K + 2P) mod S`` rows/columns are never read."""
    return (w - k + 2 * p) % s == 0


def same_padding(w: int, k: int, s: int) -> tuple[int, int]:
    """Padding (before, after) that Keras' ``padding="same"`` adds along one axis.

    The output has ceil(W / S) positions; the total padding is max((O - 1) S + K - W, 0),
    split with the extra pixel after (TensorFlow's convention), so it can be asymmetric.
    """
    out = math.ceil(w / s)
    total = max((out - 1) * s + k - w, 0)
    return total // 2, total - total // 2


def convolve2d(image: np.ndarray, kernel: np.ndarray, padding: str | int = "valid",
               stride: int = 1, bias: float = 0.0, relu: bool = False) -> np.ndarray:
    """2-D cross-correlation of one channel with one kernel, as a Conv2D filter computes it.

    Args:
        image: float array, shape (H, W).
        kernel: float array, shape (K, K).
        padding: ``"valid"``, ``"same"`` (Keras' rule, :func:`same_padding`) or an int P of
            zeros added on every side.
        stride: step S between windows, in px.
        bias: added to every output value.
        relu: apply max(0, x) to the result.

    Returns:
        float64 array, shape (O_h, O_w) with O from :func:`conv_output_size`.

    Raises:
        ValueError: for a non-2-D image, a non-square kernel, or sizes that do not fit.
    """
    x = np.asarray(image, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"Need a 2-D image and a square kernel; got {x.shape}, {k.shape}.")
    x = _pad(x, k.shape[0], stride, padding)
    conv_output_size(x.shape[0], k.shape[0], 0, stride)  # raises if it does not fit
    conv_output_size(x.shape[1], k.shape[0], 0, stride)
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)[::stride, ::stride]
    out = np.einsum("ijkl,kl->ij", windows, k) + bias
    return np.maximum(out, 0.0) if relu else out


def _pad(x: np.ndarray, k: int, s: int, padding: str | int) -> np.ndarray:
    if padding == "valid":
        return x
    if padding == "same":
        (t, b), (lft, r) = same_padding(x.shape[0], k, s), same_padding(x.shape[1], k, s)
        return np.pad(x, ((t, b), (lft, r)))
    if isinstance(padding, (int, np.integer)) and padding >= 0:
        return np.pad(x, int(padding))
    raise ValueError(f"padding must be 'valid', 'same' or a non-negative int, not {padding!r}")


def conv_cell(image: np.ndarray, kernel: np.ndarray, row: int, col: int,
              padding: str | int = "valid", stride: int = 1, bias: float = 0.0) -> dict:
    """How one output value of :func:`convolve2d` is made: window, products and sum.

    Args:
        image, kernel, padding, stride, bias: as in :func:`convolve2d`.
        row, col: the output cell.

    Returns:
        ``{"window": (K, K) input values, "products": (K, K) window * kernel,
        "sum": float, "value": sum + bias, "relu": max(0, value), "top_left": (r, c)}`` where
        ``top_left`` is the window's position in the padded input.

    Raises:
        IndexError: if the cell lies outside the output.
    """
    k = np.asarray(kernel, dtype=np.float64)
    x = _pad(np.asarray(image, dtype=np.float64), k.shape[0], stride, padding)
    oh = conv_output_size(x.shape[0], k.shape[0], 0, stride)
    ow = conv_output_size(x.shape[1], k.shape[0], 0, stride)
    if not (0 <= row < oh and 0 <= col < ow):
        raise IndexError(f"Cell ({row}, {col}) is outside the {oh} x {ow} output.")
    r, c = row * stride, col * stride
    window = x[r:r + k.shape[0], c:c + k.shape[1]]
    products = window * k
    total = float(products.sum())
    return {"window": window, "products": products, "sum": total, "value": total + bias,
            "relu": max(0.0, total + bias), "top_left": (r, c)}


def pool2d(x: np.ndarray, size: int = 2, stride: int | None = None,
           mode: str = "max") -> np.ndarray:
    """Max or average pooling of a (H, W) or (H, W, C) array, ``valid`` padding (Keras'
    ``MaxPooling2D``/``AveragePooling2D`` default).

    Args:
        x: float array, shape (H, W) or (H, W, C).
        size: window size in px.
        stride: step (default: ``size``).
        mode: ``"max"`` or ``"average"``.

    Returns:
        float64 array, shape (O_h, O_w[, C]).

    Raises:
        ValueError: for an unknown mode or a window larger than the input.
    """
    stride = stride or size
    a = np.asarray(x, dtype=np.float64)
    conv_output_size(a.shape[0], size, 0, stride)
    conv_output_size(a.shape[1], size, 0, stride)
    win = np.lib.stride_tricks.sliding_window_view(a, (size, size), axis=(0, 1))
    win = win[::stride, ::stride]
    if mode == "max":
        return win.max(axis=(-2, -1))
    if mode == "average":
        return win.mean(axis=(-2, -1))
    raise ValueError(f"mode must be 'max' or 'average', not {mode!r}")


def layer_table(model) -> list[dict]:
    """Each layer of a Keras model: output shape, parameters, and the formula's check.

    For Conv2D and pooling layers the expected output size is computed with
    :func:`conv_output_size` (``valid``) or ceil(W / S) (``same``) from the layer's own
    settings and compared with the shape Keras reports.

    Returns:
        One dict per layer: ``name``, ``type``, ``output_shape`` (tuple, batch left out),
        ``trainable`` and ``non_trainable`` parameter counts, ``formula`` (text or ``""``:
        floor((W - K + 2P) / S) + 1 with 2P the total padding, before + after) and
        ``formula_ok`` (bool, or ``None`` where there is no formula).
    """
    rows = []
    for layer in model.layers:
        out_shape = tuple(layer.output.shape[1:])
        trainable = int(sum(np.prod(w.shape) for w in layer.trainable_weights))
        non_trainable = int(sum(np.prod(w.shape) for w in layer.non_trainable_weights))
        formula, ok = "", None
        cfg = layer.get_config()
        kind = type(layer).__name__
        if kind in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
            in_shape = tuple(layer.input.shape[1:3])
            k = cfg.get("kernel_size") or cfg.get("pool_size")
            s = cfg.get("strides") or k
            pad = cfg.get("padding", "valid")
            expected, parts = [], []
            for axis in range(2):
                w, kk, ss = int(in_shape[axis]), int(k[axis]), int(s[axis])
                before, after = same_padding(w, kk, ss) if pad == "same" else (0, 0)
                # 2P in the formula is the total padding, before + after
                o = (w - kk + before + after) // ss + 1
                expected.append(o)
                parts.append(f"floor(({w} - {kk} + {before + after}) / {ss}) + 1 = {o}")
            formula = (" x ".join(parts) if parts[0] != parts[1] else parts[0]) + \
                (f" ({pad})")
            ok = tuple(expected) == tuple(out_shape[:2])
        rows.append({"name": layer.name, "type": kind, "output_shape": out_shape,
                     "trainable": trainable, "non_trainable": non_trainable,
                     "formula": formula, "formula_ok": ok})
    return rows


def explained_network(model):
    """The network whose layers, feature maps and Grad-CAM are shown: the model itself, or
    for a seed ensemble (:func:`ecg_core.model.build_ensemble`) its first member, which reads
    the same inputs the same way (the ensemble's output is the mean of its members').

    Returns:
        ``(network, n_members)``: a Keras Functional model, and the ensemble's size (1 for a
        single network).
    """
    from .model import ensemble_members

    members = ensemble_members(model)
    return (members[0], len(members)) if members else (model, 1)


def conv_layers(model) -> list[str]:
    """Names of the model's Conv2D layers, input to output."""
    return [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"]


def _image_input(canonical: np.ndarray) -> np.ndarray:
    x = np.asarray(canonical, dtype=np.uint8)
    if x.ndim != 2:
        raise ValueError(f"Need one canonical image (H, W); got shape {x.shape}.")
    return x[None, ..., None]


def _inputs(model, canonical: np.ndarray, rhythm: np.ndarray | None):
    """The network's inputs for one image: ``rhythm`` (the model's own rhythm columns,
    :meth:`ecg_core.model.Classifier.rhythm_input`) narrowed to the network's first columns,
    as :func:`ecg_core.model.build_ensemble` gives them to a member that reads fewer; zeros
    (not available) for ``None``."""
    x = _image_input(canonical)
    if len(model.inputs) == 2:
        width = int(model.inputs[1].shape[-1])
        if rhythm is None:
            return [x, np.zeros((1, width), np.float32)]
        r = np.asarray(rhythm, np.float32).reshape(1, -1)
        if r.shape[1] < width:
            raise ValueError(f"This network takes {width} rhythm features; got {r.shape[1]}.")
        return [x, r[:, :width]]
    return [x]


def feature_maps(model, canonical: np.ndarray, layer_name: str,
                 rhythm: np.ndarray | None = None) -> np.ndarray:
    """Activations of one layer for one image, from a Functional sub-model.

    Args:
        model: a Keras Functional model (the committed classifier's ``model``).
        canonical: uint8 (H, W) canonical image.
        layer_name: a layer of ``model`` (e.g. ``"conv1"``).
        rhythm: for a network with a rhythm input, float (f,) or (1, f): the model's own
            rhythm columns (:meth:`ecg_core.model.Classifier.rhythm_input`; a member of an
            ensemble reads their first ones); default ``None``: not available (zeros).

    Returns:
        float32 array, shape (h, w, channels): the layer's output for the image.

    Raises:
        ValueError: if the layer does not exist, the image is not 2-D or ``rhythm`` is
            narrower than the network's rhythm input.
    """
    import keras

    try:
        layer = model.get_layer(layer_name)
    except ValueError as exc:
        raise ValueError(f"The model has no layer '{layer_name}'.") from exc
    sub = keras.Model(model.inputs, layer.output)
    return np.asarray(sub(_inputs(model, canonical, rhythm), training=False))[0]


def deciding_networks(model, class_index: int) -> list:
    """The networks whose probabilities give a model's probability of one class.

    For a single network, itself. For an ensemble (:func:`ecg_core.model.build_ensemble`) that
    averages its members, every member; for one whose class is decided by other networks
    (``GuardedClass``: e.g. V by the networks of one recipe, the other classes by the rest),
    the networks averaged into that class's share.

    Args:
        model: a Keras model (a network, or an ensemble built by ``build_ensemble``).
        class_index: index of the class, 0-based.

    Returns:
        list of Keras Functional models (the member networks, in their order).
    """
    from .model import ensemble_members

    members = ensemble_members(model)
    if not members:
        return [model]
    head = model.get_layer("probabilities")
    if type(head).__name__ != "GuardedClass":
        return members
    # GuardedClass([p, g]): class `index` from g, the other classes from p
    tensor = head.input[1 if class_index == head.index else 0]
    source = tensor._keras_history.operation
    feeding = source.input if type(source).__name__ == "Average" else [tensor]
    names = {t._keras_history.operation.name for t in feeding}
    return [m for m in members if m.name in names]


def _network_grad_cam(model, canonical: np.ndarray, class_index: int | None,
                      layer_name: str | None, rhythm: np.ndarray | None
                      ) -> tuple[np.ndarray, int]:
    """Grad-CAM of one network at its own resolution (unscaled), and the explained class."""
    import keras
    import tensorflow as tf

    layer_name = layer_name or conv_layers(model)[-1]
    head = model.get_layer("probabilities")
    sub = keras.Model(model.inputs, [model.get_layer(layer_name).output, head.input])
    inputs = _inputs(model, canonical, rhythm)
    kernel, bias = head.kernel, head.bias
    with tf.GradientTape() as tape:
        acts, features = sub(inputs, training=False)
        tape.watch(acts)
        logits = tf.matmul(features, kernel) + bias
        if class_index is None:
            class_index = int(tf.argmax(logits[0]))
        if not 0 <= class_index < logits.shape[-1]:
            raise ValueError(f"class_index must be in 0..{logits.shape[-1] - 1}.")
        score = logits[0, class_index]
    grads = tape.gradient(score, acts)
    weights = tf.reduce_mean(grads, axis=(1, 2))[0]  # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(acts[0] * weights, axis=-1)).numpy().astype(np.float32)
    return cam, int(class_index)


def grad_cam(model, canonical: np.ndarray, class_index: int | None = None,
             layer_name: str | None = None,
             rhythm: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Grad-CAM heatmap of one image (Selvaraju et al. 2017, "Grad-CAM: visual explanations
    from deep networks via gradient-based localization", ICCV).

    The class score is the pre-softmax logit of ``class_index`` (recomputed from the input of
    the final Dense layer ``probabilities``); its gradients with respect to a convolutional
    layer's activations are averaged over space to weight the channels; the weighted sum of
    the channels, through ReLU, is the map. It is resized to the image (bilinear) and scaled
    to [0, 1].

    For an ensemble (:func:`ecg_core.model.build_ensemble`), the map is the mean of the maps
    of the networks that give the explained class its probability (:func:`deciding_networks`),
    each scaled to [0, 1] first, as each network's probabilities weigh alike in the mean;
    then scaled to [0, 1]. By default it explains the ensemble's predicted class.

    Args:
        model: the classifier's Functional Keras model (last layer named ``probabilities``),
            or an ensemble of such networks.
        canonical: uint8 (H, W) canonical image.
        class_index: the explained class (default: the predicted one).
        layer_name: convolutional layer (default: the last Conv2D; in an ensemble, of each
            network).
        rhythm: for a network with a rhythm input, float (f,) or (1, f): the model's own
            rhythm columns (:meth:`ecg_core.model.Classifier.rhythm_input`; a member of an
            ensemble reads their first ones), so that the map explains the score the beat was
            read with; default ``None``: not available (zeros), as a lone image is read.

    Returns:
        ``(heatmap, class_index)``: float32 (H, W) in [0, 1] (all zero where no region
        raises the score), and the explained class.

    Raises:
        ValueError: for an unknown layer or class index, or ``rhythm`` narrower than the
            network's rhythm input.
    """
    import cv2

    from .model import ensemble_members

    if ensemble_members(model):
        if class_index is None:
            class_index = int(np.argmax(np.asarray(
                model(_inputs(model, canonical, rhythm), training=False))[0]))
        k = int(model.outputs[0].shape[-1])
        if not 0 <= class_index < k:
            raise ValueError(f"class_index must be in 0..{k - 1}.")
        return mean_map(network_grad_cams(model, canonical, class_index, layer_name,
                                          rhythm)), int(class_index)
    cam, class_index = _network_grad_cam(model, canonical, class_index, layer_name, rhythm)
    h, w = np.asarray(canonical).shape
    cam = cv2.resize(cam, (w, h), interpolation=cv2.INTER_LINEAR)
    peak = float(cam.max())
    return (cam / peak if peak > 0 else np.zeros_like(cam)), int(class_index)


def network_grad_cams(model, canonical: np.ndarray, class_index: int,
                      layer_name: str | None = None,
                      rhythm: np.ndarray | None = None) -> list[np.ndarray]:
    """Grad-CAM of each network behind one class (:func:`deciding_networks`), as
    :func:`grad_cam` computes it for one network: what an ensemble's map averages, to show
    where its networks agree.

    Args:
        model: a Keras model (a network, or an ensemble built by
            :func:`ecg_core.model.build_ensemble`).
        canonical: uint8 (H, W) canonical image.
        class_index: the explained class.
        layer_name: convolutional layer of each network (default: its last Conv2D).
        rhythm: as for :func:`grad_cam`.

    Returns:
        list of float32 (H, W) maps in [0, 1], one per network, in the networks' order.

    Raises:
        ValueError: as :func:`grad_cam`.
    """
    return [grad_cam(net, canonical, class_index, layer_name, rhythm)[0]
            for net in deciding_networks(model, class_index)]


def mean_map(maps: list[np.ndarray]) -> np.ndarray:
    """An ensemble's Grad-CAM map from its networks' maps (:func:`network_grad_cams`, each in
    [0, 1]): their mean, scaled to [0, 1] (all zero where every map is).

    Args:
        maps: one or more float arrays of one shape (H, W).

    Returns:
        float32 array, shape (H, W).
    """
    cam = np.mean(np.asarray(maps, dtype=np.float32), axis=0)
    peak = float(cam.max())
    return cam / peak if peak > 0 else np.zeros_like(cam)


def map_agreement(maps: list[np.ndarray]) -> float:
    """How alike several Grad-CAM maps of one image are: the mean Pearson correlation over
    every pair of maps (1 = the same map up to scale, 0 = unrelated).

    Args:
        maps: two or more float arrays of one shape (e.g. :func:`network_grad_cams`).

    Returns:
        The mean pairwise correlation; a pair where either map is constant counts 0.

    Raises:
        ValueError: for fewer than two maps, or maps of different shapes.
    """
    flat = [np.asarray(m, dtype=np.float64).ravel() for m in maps]
    if len(flat) < 2 or any(f.shape != flat[0].shape for f in flat):
        raise ValueError("map_agreement needs two or more maps of one shape")
    values = []
    for i in range(len(flat)):
        for j in range(i + 1, len(flat)):
            a, b = flat[i] - flat[i].mean(), flat[j] - flat[j].mean()
            norm = np.sqrt((a * a).sum() * (b * b).sum())
            values.append(float((a * b).sum() / norm) if norm > 0 else 0.0)
    return float(np.mean(values))


def tile_channels(maps: np.ndarray, columns: int = 8, gap: int = 1) -> np.ndarray:
    """Lay the channels of a feature map side by side, for one picture of all of them.

    Each channel is scaled to [0, 1] on its own (a channel that is constant becomes 0).

    Args:
        maps: float array, shape (h, w, channels).
        columns: channels per row.
        gap: px of NaN between tiles (drawn as blank).

    Returns:
        float32 array, shape (rows * (h + gap) - gap, columns * (w + gap) - gap), NaN in gaps.
    """
    h, w, c = maps.shape
    rows = math.ceil(c / columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, np.float32)
    for i in range(c):
        m = maps[..., i].astype(np.float32)
        lo, hi = float(m.min()), float(m.max())
        m = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, col = divmod(i, columns)
        out[r * (h + gap):r * (h + gap) + h, col * (w + gap):col * (w + gap) + w] = m
    return out
