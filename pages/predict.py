"""Predict: classify uploaded ECG beat images (or bundled examples) with the CNN."""

from __future__ import annotations

import streamlit as st

from ecg_core.canonical import IMAGE_EXTENSIONS, MAX_IMAGE_BYTES, decode_image, image_warnings
from ecg_core.classes import BY_CODE
from ecg_core.errors import ImageDecodeError
from ecg_core.evaluation import new_patient_words
from ecg_core.model import class_mix_note, lone_image_words
from pages.common import (choose_model, example_files, get_classifier, megabytes,
                          new_patient_tables, notice, probability_chart, upscale)

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
limit = megabytes(MAX_IMAGE_BYTES)

model_file = choose_model()
clf = get_classifier(model_file)
if clf is None:
    st.stop()
size_text = f"{clf.input_size[0]} x {clf.input_size[1]}"
if clf.uses_rhythm:
    st.info("This model also reads the beat's RR intervals, which a lone image does not have: "
            "it classifies from the beat's shape alone here (it was trained with the rhythm "
            "of 20% of beats hidden, for this case). Supraventricular beats (S) need the "
            "rhythm; expect them to be missed." + lone_image_words(clf.card))

uploads = st.file_uploader(f"Beat images (up to {limit:.0f} MB each)",
                           type=[e.lstrip(".") for e in IMAGE_EXTENSIONS],
                           accept_multiple_files=True, max_upload_size=int(limit))
examples = example_files()
chosen = st.multiselect("...or pick bundled examples (drawn by this project from MIT-BIH)",
                        options=list(examples))

items: list[tuple[str, bytes]] = []
for up in uploads or []:
    if up.size > MAX_IMAGE_BYTES:
        st.error(f"**{up.name}**: {megabytes(up.size):.1f} MB is over the {limit:.0f} MB "
                 "limit.")
        continue
    items.append((up.name, up.getvalue()))
items += [(name, examples[name].read_bytes()) for name in chosen]

if not items:
    st.info("Upload an image or pick an example to see the prediction.")
    st.stop()

cal = clf.card.get("calibration") or {}
if cal.get("temperature"):
    st.caption(f"Probabilities are calibrated (temperature scaling, T = {cal['temperature']:.2f}, "
               f"fitted on {cal.get('n', 0):,} validation beats; expected calibration error "
               f"{100 * cal['ece_after']:.1f}% there): of the beats given 90%, about 9 in 10 "
               "are right, on images like the training drawings. The answer comes from the "
               "image alone, with no other beats of the same person.")
else:
    st.caption("This model's probabilities are not calibrated (its card has no temperature): "
               "read them as scores, not as chances.")
# a model without rhythm input reads a record's beats one image at a time: its figures on a
# new patient's record are what an image of that person's beat gets
trust = None if clf.uses_rhythm else next(iter(new_patient_tables(model_file)), None)
if trust and (words := new_patient_words(trust)):
    st.caption(f"On patients it never saw ({trust['label']}), each beat drawn from the record "
               f"and read alone, as an image is, Se/+P: {words}. For a beat of a new person, "
               "read the probabilities with these figures (every figure, with its interval, "
               "is on the Home page).")
mix_note = class_mix_note(clf.card)
if mix_note:
    st.caption(mix_note)

codes = clf.class_codes
rows = []
progress = st.progress(0.0, text="Classifying...") if len(items) > 1 else None
for n, (name, data) in enumerate(items, start=1):
    if progress is not None:
        progress.progress((n - 1) / len(items), text=f"Classifying {n} of {len(items)}...")
    try:
        gray = decode_image(data)
        canonical = clf.canonical(gray)
    except ImageDecodeError as exc:
        st.error(f"**{name}**: {exc}")
        rows.append({"image": name, "predicted": "", "confidence": None, "error": str(exc)})
        continue
    probs = clf.predict_canonical(canonical)
    best = codes[int(probs.argmax())]
    warnings = image_warnings(canonical, gray)
    rows.append({"image": name, "predicted": best, "confidence": 100 * float(probs.max()),
                 **{c: 100 * float(p) for c, p in zip(codes, probs)},
                 "warning": " ".join(warnings), "error": ""})
    with st.container(border=True):
        st.subheader(f"{name}: **{best}** · {BY_CODE[best].name} ({probs.max():.1%})")
        for text in warnings:
            st.warning(text)
        left, mid, right = st.columns([1.2, 1, 2.2])
        left.image((gray * 255).astype("uint8"), caption="as uploaded (grayscale)",
                   width="stretch")
        mid.image(upscale(canonical), caption=f"as the model sees it ({size_text})",
                  width="stretch")
        right.plotly_chart(probability_chart(probs, codes), width="stretch",
                           key=f"chart-{n}-{name}")
        st.caption(BY_CODE[best].description)
if progress is not None:
    failed = sum(1 for r in rows if r["error"])
    progress.progress(1.0, text=f"Classified {len(items) - failed} of {len(items)} images"
                      + (f"; {failed} could not be read" if failed else ""))

if len(rows) > 1:
    import pandas as pd  # only for the table of several images: a first upload does without

    st.subheader("All images")
    table = pd.DataFrame(rows)
    table = table[[c for c in ["image", "predicted", "confidence", *codes, "warning", "error"]
                   if c in table.columns]]
    percent = {c: st.column_config.NumberColumn(c, format="%.1f%%", width="small",
                                                help=f"probability of {c}" if c in codes
                                                else "probability of the predicted class")
               for c in ["confidence", *codes]}
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"image": st.column_config.TextColumn("image", width="medium"),
                                **percent})
    st.download_button("Download as CSV", table.to_csv(index=False).encode(),
                       file_name="predictions.csv", mime="text/csv",
                       help="probabilities in percent")
