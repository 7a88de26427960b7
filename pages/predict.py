"""Predict: classify uploaded ECG beat images (or bundled examples) with the CNN."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ecg_core.canonical import IMAGE_EXTENSIONS, MAX_IMAGE_BYTES, decode_image
from ecg_core.classes import BY_CODE
from ecg_core.errors import ImageDecodeError
from pages.common import (choose_model, example_files, get_classifier, notice, probability_chart,
                          upscale)

st.title("Predict: classify ECG beat images")
notice()
st.markdown(
    "Upload one or more images of **single heartbeats** (PNG, JPEG or BMP; for example from "
    "the widely shared 6-class ECG image dataset, or a screenshot of one beat), or pick "
    "bundled examples. Each image is brought to the model's canonical form (grayscale, "
    "trace bright on black, a plot's frame, grid, ticks and labels erased, cropped to the "
    "trace, resized to the model's input) before the CNN reads it. One beat per image: a "
    "strip of several beats is a record (see **Record**). Nothing you upload is written to "
    "disk.")

clf = get_classifier(choose_model())
if clf is None:
    st.stop()
size_text = f"{clf.input_size[0]} x {clf.input_size[1]}"
if clf.uses_rhythm:
    st.info("This model also reads the beat's RR intervals, which a lone image does not have: "
            "it classifies from the beat's shape alone here (it was trained with the rhythm "
            "of 20% of beats hidden, for this case). Supraventricular beats (S) need the "
            "rhythm; expect them to be missed.")

uploads = st.file_uploader("Beat images", type=[e.lstrip(".") for e in IMAGE_EXTENSIONS],
                           accept_multiple_files=True)
examples = example_files()
chosen = st.multiselect("...or pick bundled examples (drawn by this project from MIT-BIH)",
                        options=list(examples))

items: list[tuple[str, bytes]] = []
for up in uploads or []:
    if up.size > MAX_IMAGE_BYTES:
        st.error(f"**{up.name}**: {up.size / 1e6:.1f} MB is over the "
                 f"{MAX_IMAGE_BYTES / 1e6:.0f} MB limit.")
        continue
    items.append((up.name, up.getvalue()))
items += [(name, examples[name].read_bytes()) for name in chosen]

if not items:
    st.info("Upload an image or pick an example to see the prediction.")
    st.stop()

codes = clf.class_codes
rows = []
progress = st.progress(0.0, text="Classifying...") if len(items) > 1 else None
for n, (name, data) in enumerate(items, start=1):
    try:
        gray = decode_image(data)
        canonical = clf.canonical(gray)
    except ImageDecodeError as exc:
        st.error(f"**{name}**: {exc}")
        rows.append({"image": name, "predicted": "", "confidence": None, "error": str(exc)})
        continue
    probs = clf.predict_canonical(canonical)
    best = codes[int(probs.argmax())]
    rows.append({"image": name, "predicted": best, "confidence": float(probs.max()),
                 "error": "", **{c: float(p) for c, p in zip(codes, probs)}})
    with st.container(border=True):
        st.subheader(f"{name}: **{best}** · {BY_CODE[best].name} ({probs.max():.1%})")
        left, mid, right = st.columns([1.2, 1, 2.2])
        left.image((gray * 255).astype("uint8"), caption="as uploaded (grayscale)",
                   width="stretch")
        mid.image(upscale(canonical), caption=f"as the model sees it ({size_text})",
                  width="stretch")
        right.plotly_chart(probability_chart(probs, codes), width="stretch",
                           key=f"chart-{n}-{name}")
        st.caption(BY_CODE[best].description)
    if progress is not None:
        progress.progress(n / len(items), text=f"Classified {n} of {len(items)}")

if len(rows) > 1:
    st.subheader("All images")
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.ProgressColumn(c, min_value=0, max_value=1,
                                                                   format="%.3f")
                                for c in codes})
    st.download_button("Download as CSV", table.to_csv(index=False).encode(),
                       file_name="predictions.csv", mime="text/csv")
