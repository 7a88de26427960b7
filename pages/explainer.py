"""Explainer: how a CNN reads a heartbeat, computed live on a real beat and the trained model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ecg_core.canonical import IMAGE_EXTENSIONS, MAX_IMAGE_BYTES, decode_image
from ecg_core.classes import BY_CODE
from ecg_core.errors import ImageDecodeError
from ecg_core.explanation import (KERNELS, conv_cell, conv_layers, conv_output_size, convolve2d,
                                  feature_maps, layer_table, map_agreement, mean_map, pool2d,
                                  same_padding, tile_channels, tiles_exactly)
from pages.common import (cam_overlay, choose_model, example_files, get_classifier,
                          grad_cam_maps, keras_model, megabytes, notice)

st.title("Explainer: how a CNN reads a heartbeat")
notice()
st.markdown(
    "Every picture and number on this page is computed from a real ECG beat image and from "
    "the trained model, step by step: the pixels, a convolution, padding and stride, pooling, "
    "the model's layers, its feature maps and a Grad-CAM saliency map.")

clf = get_classifier(choose_model())
if clf is None:
    st.stop()

examples = example_files()
left, right = st.columns(2)
names = list(examples)
default = next((i for i, n in enumerate(names) if n.startswith("PVC/")), 0)
limit = megabytes(MAX_IMAGE_BYTES)
upload = right.file_uploader(f"...or upload a beat image (up to {limit:.0f} MB)",
                             type=[e.lstrip(".") for e in IMAGE_EXTENSIONS], key="explain_up",
                             max_upload_size=int(limit))
picked = left.selectbox("Example beat", names, index=default, disabled=upload is not None,
                        help="Remove the uploaded image to pick an example again."
                        if upload is not None else None) if names else None
if upload is not None:
    left.info(f"Showing your upload, **{upload.name}**; remove it to return to the examples.")
    name, data = upload.name, upload.getvalue()
elif picked is not None:
    name, data = picked, examples[picked].read_bytes()
else:
    st.info("No example images found; upload a beat image.")
    st.stop()
try:
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"The file is over the {limit:.0f} MB limit.")
    gray = decode_image(data)
    image = clf.canonical(gray)
except ImageDecodeError as exc:
    st.error(f"**{name}**: {exc}")
    st.stop()
x = image.astype(np.float64) / 255.0  # what the model's first layer receives (Rescaling)


def heatmap(z, title="", colorscale="gray", zmin=None, zmax=None, height=360, text=False,
            zmid=None):
    """A matrix as an image-like heatmap: square cells, axes tight on the matrix (no empty
    margins), row 0 at the top; ``zmid`` centres a diverging colour scale on that value."""
    z = np.asarray(z)
    fig = go.Figure(go.Heatmap(z=z, colorscale=colorscale, zmin=zmin, zmax=zmax, zmid=zmid,
                               texttemplate="%{z:.2f}" if text else None,
                               hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>"))
    fig.update_layout(title=title or None, height=height, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(range=[-0.5, z.shape[1] - 0.5], constrain="domain"),
                      yaxis=dict(range=[z.shape[0] - 0.5, -0.5], scaleanchor="x",
                                 constrain="domain"))
    return fig


# 1. Pixels -------------------------------------------------------------------------------
st.header("1. Pixels")
st.markdown(
    f"To the network an image is a matrix of numbers. This beat, **{name}**, was brought to "
    f"the model's *canonical form*: grayscale, trace bright on black, a plot's frame and grid "
    f"erased if it has them, cropped to the trace, "
    f"resized to {image.shape[0]} x {image.shape[1]} px, then divided by 255 (values 0-1). "
    "The canonical form lets images drawn by other tools (margins, colours, line widths, "
    "white or dark backgrounds) look alike to the model. Zoom in and hover to read values.")
c1, c2 = st.columns([1, 2])
c1.image((gray * 255).astype("uint8"), caption="as uploaded (grayscale)", width="stretch")
c2.plotly_chart(heatmap(x, "canonical image: pixel values"), width="stretch", key="pixels")

# 2. Convolution --------------------------------------------------------------------------
st.header("2. Convolution")
st.markdown(
    "A convolutional layer slides a small kernel over the image. At each position it "
    "multiplies the kernel by the pixels under it, element by element, and adds the products "
    "(and a bias): one output value. As in Keras, the kernel is not flipped "
    "(cross-correlation). A trained network learns its kernels; here you pick one.")
k1, k2 = st.columns([1, 2])
with k1:
    kname = st.selectbox("Kernel", [*KERNELS, "Custom 3x3"])
    if kname == "Custom 3x3":
        edited = st.data_editor(pd.DataFrame(np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]],
                                                      dtype=float), columns=["a", "b", "c"]),
                                key="custom_kernel", hide_index=True)
        kernel = np.nan_to_num(edited.to_numpy(dtype=float))
    else:
        kernel = KERNELS[kname]
        st.dataframe(pd.DataFrame(kernel).round(3), hide_index=True)
    bias = st.slider("Bias", -1.0, 1.0, 0.0, 0.05)
    relu = st.checkbox("Apply ReLU, max(0, x)", value=False)
conv = convolve2d(x, kernel, "valid", 1, bias, relu)
with k2:
    st.plotly_chart(heatmap(conv, f"{kname}: {conv.shape[0]} x {conv.shape[1]} output "
                            "('valid', stride 1)", colorscale="RdBu", height=380, zmid=0.0),
                    width="stretch", key="conv")
st.markdown("**One output value, worked out.** Pick a cell of the output:")
r_col, c_col = st.columns(2)
hot = np.unravel_index(int(np.argmax(np.abs(conv))), conv.shape)
row = r_col.number_input("output row", 0, conv.shape[0] - 1, int(hot[0]))
col = c_col.number_input("output column", 0, conv.shape[1] - 1, int(hot[1]))
cell = conv_cell(x, kernel, int(row), int(col), "valid", 1, bias)
w1, w2, w3 = st.columns(3)
w1.markdown("input window")
w1.dataframe(pd.DataFrame(cell["window"]).round(3), hide_index=True)
w2.markdown("kernel")
w2.dataframe(pd.DataFrame(kernel).round(3), hide_index=True)
w3.markdown("window x kernel")
w3.dataframe(pd.DataFrame(cell["products"]).round(3), hide_index=True)
st.markdown(
    f"Sum of products = **{cell['sum']:.4f}**; plus bias {bias:+.2f} = "
    f"**{cell['value']:.4f}**"
    + (f"; after ReLU = **{cell['relu']:.4f}**. " if relu else
       " (tick *Apply ReLU* to see the value after it). ")
    + "A negative bias silences weak responses once ReLU cuts everything below zero: that is "
    "how a filter becomes a detector that fires only on strong evidence.")

# 3. Padding and stride -------------------------------------------------------------------
st.header("3. Padding and stride")
st.latex(r"O = \left\lfloor \frac{W - K + 2P}{S} \right\rfloor + 1")
st.markdown(
    "for input size W, kernel K, padding P (zeros added on each side) and stride S (step "
    "between windows). Keras names two cases: **valid** (P = 0) and **same** (P chosen so "
    "that O = ceil(W / S); the padding may be one pixel larger on one side).")
p1, p2, p3, p4 = st.columns(4)
W = p1.number_input("W (input)", 1, 64, 7)
K = p2.number_input("K (kernel)", 1, 9, 3)
P = p3.number_input("P (padding)", 0, 8, 0)
S = p4.number_input("S (stride)", 1, 8, 2)
try:
    O = conv_output_size(int(W), int(K), int(P), int(S))
except ValueError as exc:
    st.error(str(exc))
    O = None
if O is not None:
    before, after = same_padding(int(W), int(K), int(S))
    st.markdown(
        f"O = floor(({W} - {K} + 2 x {P}) / {S}) + 1 = **{O}**. "
        f"Keras 'valid': O = {conv_output_size(int(W), int(K), 0, int(S)) if W >= K else 'n/a'}"
        f"; 'same': padding {before} before and {after} after, O = {-(-int(W) // int(S))}.")
    if not tiles_exactly(int(W), int(K), int(P), int(S)):
        st.warning(f"These settings do not tile the input: the last "
                   f"{(int(W) - int(K) + 2 * int(P)) % int(S)} row(s)/column(s) of the padded "
                   "input are never read by any window.")
    if W + 2 * P <= 24:
        n = int(W + 2 * P)
        grid = np.zeros((n, n))
        grid[P:P + W, P:P + W] = 1  # the input; the rest is padding
        fig = heatmap(grid, "window positions over the padded input (grey: padding)",
                      colorscale=[[0, "#dddddd"], [1, "#ffffff"]], height=420)
        pick = st.slider("highlight output position (row-major)", 0, O * O - 1, 0)
        for i in range(O):
            for j in range(O):
                r0, c0 = i * S, j * S
                chosen = (i * O + j) == pick
                fig.add_shape(type="rect", x0=c0 - 0.5, x1=c0 + K - 0.5, y0=r0 - 0.5,
                              y1=r0 + K - 0.5,
                              line=dict(color="#d62728" if chosen else "#1f77b4",
                                        width=3 if chosen else 1),
                              fillcolor="rgba(214,39,40,0.2)" if chosen else None)
        fig.update_traces(showscale=False)
        st.plotly_chart(fig, width="stretch", key="windows")

# 4. Pooling ------------------------------------------------------------------------------
st.header("4. Pooling")
st.markdown(
    "Pooling shrinks a feature map by summarising each window: **max** keeps the strongest "
    "response, **average** the mean. A 2 x 2 window with stride 2 halves each side. Worked "
    "example on a 4 x 4 map:")
demo = np.array([[1, 3, 2, 0], [4, 6, 1, 1], [0, 2, 9, 5], [1, 1, 3, 7]], dtype=float)
d1, d2, d3 = st.columns(3)
d1.markdown("feature map")
d1.dataframe(pd.DataFrame(demo.astype(int)), hide_index=True)
d2.markdown("max pooling 2 x 2")
d2.dataframe(pd.DataFrame(pool2d(demo, 2, 2, "max")), hide_index=True)
d3.markdown("average pooling 2 x 2")
d3.dataframe(pd.DataFrame(pool2d(demo, 2, 2, "average")), hide_index=True)
mode = st.radio("Pool the convolution output of section 2", ["max", "average"],
                horizontal=True)
pooled = pool2d(conv, 2, 2, mode)
st.plotly_chart(heatmap(pooled, f"{mode} pooling: {conv.shape[0]} x {conv.shape[1]} -> "
                        f"{pooled.shape[0]} x {pooled.shape[1]}", colorscale="RdBu",
                        height=320, zmid=0.0), width="stretch", key="pooled")

# 5. The trained model, layer by layer ----------------------------------------------------
st.header("5. The trained model, layer by layer")
model = keras_model(clf)  # layers and gradients need Keras (TensorFlow)
layers_info = layer_table(model)
trainable = sum(r["trainable"] for r in layers_info)
total = trainable + sum(r["non_trainable"] for r in layers_info)
table = pd.DataFrame([{
    "layer": r["name"], "kind": r["type"],
    "output (height x width x channels)": " x ".join(str(d) for d in r["output_shape"]),
    "learned parameters": r["trainable"], "running statistics": r["non_trainable"],
    "output size by the formula": r["formula"]
    + ({True: "  ✓ as Keras reports", False: "  ✗ differs from Keras", None: ""}
       [r["formula_ok"]])} for r in layers_info])
st.dataframe(table, hide_index=True, width="stretch", column_config={
    "output size by the formula": st.column_config.TextColumn(width="large"),
    "running statistics": st.column_config.NumberColumn(
        help="batch normalisation's running means and variances: kept, not trained")})
st.markdown(
    f"{total:,} parameters in all ({trainable:,} trainable; batch "
    "normalisation keeps running means and variances, which are not trained). "
    "**Flatten** lines the last feature maps up into one vector; the **dense** head weighs "
    "every value of it to score each class, and softmax turns the scores into probabilities.")

# 6. Feature maps -------------------------------------------------------------------------
st.header("6. Feature maps")
layers = conv_layers(model)
layer = st.selectbox("Convolutional layer", layers, index=0)
maps = feature_maps(model, image, layer)
st.caption(f"{layer}: {maps.shape[2]} channels of {maps.shape[0]} x {maps.shape[1]}; each "
           "channel scaled to its own range (bright = strong response).")
st.plotly_chart(heatmap(tile_channels(maps, columns=8), colorscale="Viridis", height=520),
                width="stretch", key="fmaps")

# 7. Grad-CAM -----------------------------------------------------------------------------
st.header("7. Grad-CAM")
probs = clf.predict_canonical(image)
pred = int(np.argmax(probs))
codes = list(clf.class_codes)
target = st.selectbox("Explain the class", codes, index=pred,
                      format_func=lambda c: f"{c} · {BY_CODE[c].name if c in BY_CODE else c} "
                                            f"({probs[codes.index(c)]:.1%})")
# the whole model (for an ensemble, the mean of the maps of the networks behind the class)
idx = codes.index(target)
maps = grad_cam_maps(clf, image, idx, layers[-1])
cam = mean_map(maps)
fig = go.Figure()
fig.add_trace(go.Heatmap(z=x, colorscale="gray", showscale=False, hoverinfo="skip"))
fig.add_trace(go.Heatmap(z=cam, colorscale="Jet", opacity=0.45, zmin=0, zmax=1,
                         hovertemplate="Grad-CAM %{z:.2f}<extra></extra>"))
fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10),
                  yaxis=dict(autorange="reversed", scaleanchor="x"))
st.plotly_chart(fig, width="stretch", key="gradcam")
cam_rows, cam_cols = model.get_layer(layers[-1]).output.shape[1:3]
deciding = len(maps)
st.markdown(
    f"Grad-CAM (Selvaraju et al. 2017) for **{codes[idx]}**, from layer `{layers[-1]}`: the "
    "gradient of the class score with respect to each channel, averaged over the map, "
    "weighs the channels; their weighted sum through ReLU shows where the image raised the "
    "score"
    + (f" (here the mean of the maps of the {deciding} networks that give this class its "
       "probability, each scaled to its peak)" if deciding > 1 else "")
    + f". **Caveats**: the map is coarse ({cam_rows} x {cam_cols} cells for the "
    f"{image.shape[0]} x {image.shape[1]} input, smoothed when enlarged), and on a line "
    "drawing the blank areas carry information too (where the trace is not), so the map can "
    "light up background next to the stroke. It illustrates what the network used; it is "
    "not clinical evidence.")
if deciding > 1:
    with st.expander(f"Each of the {deciding} networks' maps (what the map above averages)"):
        for i, (column, one) in enumerate(zip(st.columns(len(maps)), maps)):
            column.image(cam_overlay(image, one, 128), caption=f"network {i + 1}",
                         width="stretch")
        st.caption(f"Networks trained alike from different starting weights look at the beat "
                   f"differently; how alike their maps are, the mean correlation between "
                   f"pairs of them: {map_agreement(maps):.2f} (1 = the same map). Where they "
                   "differ, no single network's map explains the model's answer.")
