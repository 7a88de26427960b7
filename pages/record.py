"""Record: upload a whole ECG signal, find and classify every beat, see the strip."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ecg_core.analysis import (DEFAULT_DETECTOR, DETECTORS, agreement, classify_record,
                               fibrillation_note, fibrillation_stretches, model_second_signal,
                               model_signal, noisy_stretches, premature_note, record_notes,
                               reread_note, summarise, trend, v_template_note)
from ecg_core.beats import NOISY_SNR_DB, beat_qrs, typical_qrs
from ecg_core.canonical import canonical_form
from ecg_core.classes import BY_CODE, describe_symbol
from ecg_core.errors import ECGCoreError
from ecg_core.evaluation import new_patient_percent
from ecg_core.explanation import mean_map
from ecg_core.formats import FORMAT_EXTENSIONS, read_recording_bytes
from ecg_core.records import (MAX_RECORD_BYTES, PREFERRED_LEAD, WFDB_EXTENSIONS,
                              is_preferred_lead, list_records, read_record, read_signal_csv,
                              read_uploaded_record)
from ecg_core.model import class_mix_note, model_name, training_leads
from ecg_core.rendering import render_beat
from ecg_core.report import record_report
from pages.charts import (CLASS_COLOURS, confusion_heatmap, per_class_columns, per_class_table,
                          qrs_figure, trend_figure)
from pages.common import (ROOT, cam_overlay, choose_model, example_records, get_classifier,
                          grad_cam_maps, keras_model, megabytes, new_patient_note,
                          new_patient_tables, notice, probability_chart, release_freed_memory,
                          upscale)

st.title("Record: classify every beat of an ECG")
notice()
st.markdown(
    "Pick a bundled example or upload a whole recording. Its beats are taken from the "
    "annotation file when there is one, or found by a QRS detector (XQRS by default); "
    "each beat is drawn and classified exactly like a single uploaded image. Any sampling rate from 100 to 1000 Hz is resampled to 360 Hz. Nothing you upload "
    "is kept: files live in a temporary folder only while they are read.")

model_file = choose_model()
clf = get_classifier(model_file)
if clf is None:
    st.stop()
if (patient_note := new_patient_note(model_file, clf.card)):
    st.info(patient_note)


def _local_mitdb() -> Path | None:
    for folder in (os.environ.get("ECG_MITDB"), ROOT / "data" / "mitdb",
                   ROOT.parent / "shared" / "mitdb"):
        if folder and (Path(folder) / "100.hea").is_file():
            return Path(folder)
    return None


#: Records longer than this (s) get an overview chart and a strip drawn a window at a time.
LONG_RECORD_S = 3600.0
STRIP_WINDOW_S = 300.0

SOURCES = ["Example record", "WFDB record (.hea + .dat [+ .atr], or a zip)",
           "Signal file (EDF/BDF, DICOM, HL7 aECG, SCP-ECG, Holter, watch exports, CSV/TXT)",
           "MIT-BIH database record"]
source = st.radio("Input", SOURCES, horizontal=True)


def _session_record(key: str, load):
    """The record read for ``key``, kept for the session: reruns (clicking a beat on the strip,
    ticking a box) reuse it instead of reading and resampling the signal again."""
    held = st.session_state.get("record")
    if held is None or held[0] != key:
        st.session_state["record"] = (key, load())
    return st.session_state["record"][1]


def _drawn_signal(key: str, record, clf, second: bool = False):
    """The signal this model's beats are drawn from (:func:`model_signal`; with ``second``, the
    record's second lead, :func:`model_second_signal`), kept for the session: band-passing a
    30-min record takes a fraction of a second, and every click on the strip reruns the page."""
    if clf.conditioning == "none":
        return record.other_signal if second else record.signal
    slot = "drawn_second_signal" if second else "drawn_signal"
    key = f"{key}-{record.other_lead if second else record.lead}-{clf.conditioning}"
    held = st.session_state.get(slot)
    if held is None or held[0] != key:
        st.session_state[slot] = (key, model_second_signal(record, clf) if second
                                  else model_signal(record, clf))
    return st.session_state[slot][1]


def _lead(key: str) -> str | None:
    """The lead chosen for the record ``key`` in the menu below the record (None: automatic,
    MLII where the record has it, else its first channel)."""
    return st.session_state.get(f"lead-{key}")


record = None
key = None
upload_limit = megabytes(MAX_RECORD_BYTES)
try:
    if source == SOURCES[0]:
        examples = example_records()
        names = list(examples)
        if not names:
            st.info("No bundled example records were found in this installation.")
            st.stop()
        name = st.selectbox("Example", names, format_func=lambda n: examples[n][1])
        path = examples[name][0]
        key = f"example-{name}"
        record = _session_record(f"{key}-{_lead(key)}",
                                 lambda: read_record(path, lead=_lead(key), other_lead=True))
    elif source == SOURCES[1]:
        ups = st.file_uploader(f"Record files (up to {upload_limit:.0f} MB in all)",
                               accept_multiple_files=True, key="wfdb_up",
                               type=[e.lstrip(".") for e in WFDB_EXTENSIONS] + ["zip"],
                               max_upload_size=int(upload_limit))
        if ups:
            files = {u.name: u.getvalue() for u in ups}
            key = hashlib.sha256(b"".join(files[n] for n in sorted(files))).hexdigest()
            record = _session_record(f"{key}-{_lead(key)}",
                                     lambda: read_uploaded_record(files, lead=_lead(key)))
    elif source == SOURCES[2]:
        up = st.file_uploader(f"Signal file (up to {upload_limit:.0f} MB)",
                              type=[e.lstrip(".") for e in FORMAT_EXTENSIONS] + ["txt"],
                              key="csv_up", max_upload_size=int(upload_limit),
                              help="EDF/EDF+/BDF, DICOM waveform ECG, HL7 aECG, SCP-ECG, "
                                   "ISHNE Holter, MFER, GE MUSE, Philips Sierra or Mortara XML, "
                                   "AliveCor Kardia JSON, the Apple Watch ECG export of the "
                                   "Health app, or one column of numbers. The format is told "
                                   "from the content; the ECG lead is chosen by its label (a "
                                   "menu offers the others). The settings below apply to plain "
                                   "CSV/TXT only.")
        c1, c2, c3, c4 = st.columns(4)
        fs = c1.number_input("Sampling rate (Hz)", 100.0, 1000.0, 360.0,
                             help="Ignored where a time column gives it.")
        units = c2.selectbox("Units", ["mV", "adc"],
                             format_func=lambda u: "mV" if u == "mV" else "ADC units")
        gain = c3.number_input("ADC gain (units per mV)", 1.0, 100000.0, 200.0)
        baseline = c4.number_input("ADC baseline", -100000.0, 100000.0, 0.0)
        if up is not None:
            data = up.getvalue()
            key = hashlib.sha256(data + f"{fs}{units}{gain}{baseline}".encode()).hexdigest()

            def load():
                stem = Path(up.name).stem
                found = read_recording_bytes(data, name=up.name, lead=_lead(key))
                return found if found is not None else read_signal_csv(
                    data, fs, units=units, gain=gain, baseline=baseline, name=stem)

            record = _session_record(f"{key}-{_lead(key)}", load)
    else:
        folder = _local_mitdb()
        if folder is not None:
            name = st.selectbox("MIT-BIH record", list_records(folder), index=0)
            key = f"local-{folder}-{name}"
            record = _session_record(f"{key}-{_lead(key)}",
                                     lambda: read_record(folder / name, lead=_lead(key),
                                                         other_lead=True))
        else:
            st.caption("The MIT-BIH database is not on this server (`data/mitdb`); a record "
                       "can be downloaded from PhysioNet, which needs an internet connection. "
                       "The bundled examples work without one.")
            name = st.selectbox("MIT-BIH record", ["100", "106", "119", "203", "208", "232"],
                                help="203: atrial fibrillation and flutter; 106, 119, 208: "
                                     "ventricular ectopy; 232: atrial premature beats")
            st.button("Download from PhysioNet", on_click=st.session_state.update,
                      kwargs={"download_record": True})
            if st.session_state.pop("download_record", False):
                from ecg_core.records import download_record

                with st.spinner(f"Downloading record {name} from PhysioNet..."):
                    download_record("mitdb", name, ROOT / "data" / "mitdb")
                st.rerun()
except ECGCoreError as exc:
    st.error(str(exc))
    st.stop()

if record is None:
    st.info("Pick an example or upload a record to see its beats.")
    st.stop()

leads = training_leads(clf.card)
if leads == PREFERRED_LEAD:
    lead_help = (f"This model was trained on lead {PREFERRED_LEAD}; other leads are outside its "
                 "training data, and its figures do not apply there.")
    lead_warning = (f"Lead **{record.lead}** is not {PREFERRED_LEAD}, the lead this model was "
                    "trained on: beats drawn from it look different, and the model's figures "
                    "do not apply to it.")
elif getattr(clf, "both_leads", None):
    lead_help = (f"This model learned its training beats on {leads} (mostly V1), and reads "
                 "each beat on the chosen lead and on the record's other lead; its figures "
                 f"were measured with {PREFERRED_LEAD} chosen.")
    lead_warning = (f"Lead **{record.lead}** is not {PREFERRED_LEAD}. This model's figures "
                    f"were measured with {PREFERRED_LEAD} chosen and may not hold on "
                    f"{record.lead}.")
else:
    lead_help = (f"This model learned its training beats on {leads} (mostly V1), and its "
                 f"figures were measured on {PREFERRED_LEAD}.")
    lead_warning = (f"Lead **{record.lead}** is not {PREFERRED_LEAD}. This model also learned "
                    "beats on a second lead (mostly V1), but its figures were measured on "
                    f"{PREFERRED_LEAD} and may not hold on {record.lead}.")
if len(record.channels) > 1:
    st.selectbox("Lead", record.channels, index=record.channels.index(record.lead),
                 key=f"lead-{key}", help=lead_help)
if not is_preferred_lead(record.lead):
    st.warning(lead_warning)
has_ann = record.annotations is not None
a1, a2 = st.columns(2)
use_ann = a1.checkbox("Use the annotation file's beat positions (else: detect them)",
                      value=has_ann, disabled=not has_ann)
detector = a2.selectbox("QRS detector", list(DETECTORS),
                        index=list(DETECTORS).index(DEFAULT_DETECTOR),
                        format_func=lambda d: DETECTORS[d], disabled=use_ann,
                        help="Finds the beats where they are not taken from annotations. "
                             "Measured on MIT-BIH, noise stress tests and QT database records "
                             "in docs/detectors.md.")
st.caption(f"Record **{record.name}**: {record.duration_s / 60:.1f} min, lead {record.lead}, "
           f"{record.original_fs:g} Hz -> {record.fs:g} Hz, "
           + ("with reference annotations." if has_ann else "no annotations."))

state_key = f"result-{record.name}-{key}-{record.lead}-{use_ann}-{detector}-{id(clf)}"
if state_key not in st.session_state:
    bar = st.progress(0.0, text="Finding beats...")
    try:
        with st.spinner("Classifying beats..."):
            result = classify_record(record, clf, use_annotations=use_ann, detector=detector,
                                     progress=lambda d, t: bar.progress(
                                         d / t, text=f"Classified {d} of {t} beats"))
    except ECGCoreError as exc:
        bar.empty()
        st.error(str(exc))
        st.stop()
    bar.empty()
    for k in [k for k in st.session_state if str(k).startswith("result-")]:
        del st.session_state[k]  # keep one result per session
    st.session_state[state_key] = result
    release_freed_memory()  # the beat images and batches of a long record
    st.session_state.pop("beat_no", None)
    st.session_state.pop("last_pick", None)
result = st.session_state[state_key]
# the summary (RR statistics, runs, the rhythm's irregularity: about 0.6 s for a day of beats)
# and the noisy and fibrillating stretches once per result, not on every rerun of the page
cached = st.session_state.get("record_summary")
if not cached or cached[0] != state_key:
    cached = (state_key, summarise(result), noisy_stretches(result),
              fibrillation_stretches(result))
    st.session_state["record_summary"] = cached
_, summary, noisy, fibrillating = cached
pred = np.array(result.predicted)
n_beats = len(pred)

st.header("Summary")
if result.source != "annotations":
    st.caption(f"Beat positions found by: {result.source}.")
if result.network_second_lead:
    st.caption(f"The network read every beat on lead {record.lead} and on lead "
               f"{result.network_second_lead}, and its two answers are averaged (the chosen "
               "beat below is drawn on the first).")
mix_note = class_mix_note(clf.card)
if mix_note:
    st.caption(mix_note)
m = st.columns(6)
m[0].metric("beats", f"{summary['beats']:,}", help=f"positions from {result.source}")
m[1].metric("mean heart rate", "n/a" if summary["mean_hr_bpm"] is None
            else f"{summary['mean_hr_bpm']:.0f} bpm")
m[2].metric("RR mean", "n/a" if summary["rr_mean_s"] is None
            else f"{summary['rr_mean_s']:.2f} s")
m[3].metric("RR SD", "n/a" if summary["rr_sd_s"] is None else f"{summary['rr_sd_s']:.3f} s",
            help="standard deviation of the RR intervals")
m[4].metric("ectopic beats per hour", f"{summary['ectopic_per_hour']:.0f}")
runs = summary["ventricular_runs"]
m[5].metric("ventricular runs", runs["runs_3_or_more"],
            help=f"runs of 3 or more consecutive ventricular beats; couplets: "
                 f"{runs['couplets']}; longest run: {runs['longest']} beats")
# how far to trust each count: the model's Se and +P on patients it never saw
trust = next(iter(new_patient_tables(model_file)), None)
st.dataframe([{"class": c, "name": BY_CODE[c].name if c in BY_CODE else c, "beats": n,
               **({"Se on new patients": new_patient_percent(trust, c, "sensitivity"),
                   "+P on new patients": new_patient_percent(trust, c, "precision")}
                  if trust else {})}
              for c, n in summary["per_class"].items()], hide_index=True)
if trust:
    st.caption(f"Se and +P on new patients: how `{model_name(model_file)}` read each class in "
               f"patients it never saw ({trust['label']}). Of the beats of a class there, Se "
               "is the share it found; of its calls of that class, +P is the share that were "
               "right: read the counts above with them (a dash: no such beat there, or no such "
               "call). Every figure, with its interval over patients, is on the Home page.")
readings = {reread_note(summary), fibrillation_note(summary), v_template_note(summary),
            premature_note(summary)}
for note in record_notes(summary, result.class_codes):
    # a caveat warns; what the model's readings of the record changed informs
    (st.info if note in readings else st.warning)(note)

if record.duration_s > LONG_RECORD_S:
    bin_s = 3600.0 if record.duration_s >= 4 * 3600 else 600.0
    st.subheader("Over the whole record")
    st.plotly_chart(trend_figure(trend(result, bin_s), bin_s), width="stretch", key="trend")
    st.caption("Heart rate (60 / mean RR) and the ectopic and ventricular beats the model "
               "found in each " + ("hour" if bin_s == 3600 else "10 minutes") + "; the strip "
               f"below shows {STRIP_WINDOW_S / 60:.0f} minutes around the chosen beat.")

# A beat clicked on the strip (its selection arrives with this rerun) becomes the chosen beat.
points = (st.session_state.get("strip") or {}).get("selection", {}).get("points", [])
if points and points[0].get("customdata") is not None:
    cd = points[0]["customdata"]
    clicked = int(cd[0] if isinstance(cd, (list, tuple)) else cd)
    if st.session_state.get("last_pick") != clicked and 0 <= clicked < n_beats:
        st.session_state["last_pick"] = clicked
        st.session_state["beat_no"] = clicked + 1

st.header("Strip")
chosen_no = st.number_input("Beat number (or click a beat on the strip)", 1, n_beats,
                            key="beat_no",
                            help=f"1 to {n_beats:,}; the strip moves to the chosen beat.")
chosen = int(chosen_no) - 1
sample = int(result.samples[chosen])
t_beat = sample / record.fs

# A long record (a Holter) is drawn a window at a time, at full resolution: the whole of
# 24 hours would be millions of points. A shorter one is drawn whole (~200k points at most).
if record.duration_s > LONG_RECORD_S:
    half = int(STRIP_WINDOW_S / 2 * record.fs)
    lo_i = max(0, min(sample - half, len(record.signal) - 2 * half))
    hi_i = min(len(record.signal), lo_i + 2 * half)
else:
    lo_i, hi_i = 0, len(record.signal)
t = np.arange(lo_i, hi_i) / record.fs
step = max(1, len(t) // 200_000)
fig = go.Figure(go.Scattergl(x=t[::step], y=record.signal[lo_i:hi_i:step], mode="lines",
                             line=dict(color="#444", width=1), name="ECG (mV)",
                             hoverinfo="skip"))
in_view = (result.samples >= lo_i) & (result.samples < hi_i)
for code in result.class_codes:
    idx = np.flatnonzero((pred == code) & in_view)
    if len(idx) == 0:
        continue
    s = result.samples[idx]
    fig.add_trace(go.Scattergl(
        x=s / record.fs, y=record.signal[s], mode="markers", name=code,
        marker=dict(color=CLASS_COLOURS.get(code), size=8), customdata=idx,
        text=[str(i + 1) for i in idx],
        hovertemplate=f"beat %{{text}}: {code}, t=%{{x:.2f}} s<extra></extra>"))
fig.add_trace(go.Scatter(x=[t_beat], y=[float(record.signal[sample])], mode="markers",
                         name=f"beat {chosen + 1}", hoverinfo="skip",
                         marker=dict(size=18, color="rgba(0,0,0,0)",
                                     line=dict(color="#d62728", width=3))))
fig.add_vline(x=t_beat, line=dict(color="#d62728", width=1, dash="dot"))
# where the signal reads noisy (estimated SNR under the caveat's threshold), shaded amber
noisy_bands = [(a, b) for a, b in noisy if b >= t[0] and a <= t[-1]]
for a, b in noisy_bands:
    fig.add_vrect(x0=a, x1=b, fillcolor="rgba(224,160,0,0.15)", line_width=0, layer="below")
# where the rhythm reads as atrial fibrillation (the model then reads no beat S), shaded blue
af_bands = [(a, b) for a, b in fibrillating if b >= t[0] and a <= t[-1]]
for a, b in af_bands:
    fig.add_vrect(x0=a, x1=b, fillcolor="rgba(31,119,180,0.10)", line_width=0, layer="below")
# the y-axis spans what the trace mostly does (0.1-99.9th percentile), not rare extremes
lo, hi = np.percentile(record.signal[lo_i:hi_i], [0.1, 99.9])
pad = 0.15 * max(hi - lo, 0.5)
start = min(max(t[0], t_beat - 5.0), max(t[0], t[-1] - 10.0))
fig.update_layout(height=380, xaxis=dict(title="time (s)", range=[start, start + 10.0]),
                  yaxis=dict(title="mV", range=[lo - pad, hi + pad]),
                  legend=dict(orientation="h", x=0, y=1.02, xanchor="left", yanchor="bottom"),
                  margin=dict(l=10, r=10, t=40, b=10), dragmode="pan")
st.plotly_chart(fig, width="stretch", key="strip", on_select="rerun", selection_mode="points",
                config={"scrollZoom": True})
st.caption("Drag to move along the record, scroll or use the toolbar to zoom; the red ring is "
           "the chosen beat."
           + (f" Amber bands: the signal reads noisy there (estimated SNR under "
              f"{NOISY_SNR_DB:g} dB)." if noisy_bands else "")
           + (" Blue bands: the rhythm reads as atrial fibrillation there (irregular RR "
              "intervals, no repeated P wave), and no beat is read S." if af_bands else ""))
c1, c2, c3 = st.columns(3)
# made when clicked (not on every rerun): a 30-min strip is megabytes of HTML
c1.download_button("Per-beat CSV", lambda: result.to_frame().to_csv(index=False).encode(),
                   file_name=f"{result.record}_beats.csv", mime="text/csv")
c2.download_button("Strip (interactive HTML)",
                   lambda: fig.to_html(include_plotlyjs="cdn", full_html=True).encode(),
                   file_name=f"{result.record}_strip.html", mime="text/html")
c3.download_button("Report (one page, HTML)",
                   lambda: record_report(record, result, clf,
                                         model_label=model_name(model_file)).encode(),
                   file_name=f"{result.record}_report.html", mime="text/html",
                   help="Beat counts, ectopic burden, runs, heart-rate trend, RR histogram and "
                        "one example strip per class, with the not-a-medical-device notice; "
                        "print it to PDF from the browser.")

st.header(f"Beat {chosen + 1}")
# drawn from the signal conditioned as the model's training data were (none for most models)
img = render_beat(_drawn_signal(key, record, clf), sample, record.fs)
canon = canonical_form(img, clf.input_size)
probs = result.probabilities[chosen]
ref = result.reference[chosen]
st.markdown(f"Beat {chosen + 1} of {n_beats:,}, at {t_beat:.2f} s: predicted "
            f"**{pred[chosen]}**"
            + (f" ({BY_CODE[pred[chosen]].name})" if pred[chosen] in BY_CODE else "")
            + (f"; reference symbol {describe_symbol(ref, result.class_codes)}" if ref else "")
            + (f"; estimated SNR {result.snr_db[chosen]:.0f} dB"
               + (" (noisy)" if result.snr_db[chosen] < NOISY_SNR_DB else "")
               if result.snr_db is not None and np.isfinite(result.snr_db[chosen]) else "")
            + (f"; QRS similarity to the record's typical QRS "
               f"{result.qrs_similarity[chosen]:.2f}"
               if result.qrs_similarity is not None
               and np.isfinite(result.qrs_similarity[chosen]) else "")
            + (f"; QRS similarity on both leads {result.two_lead_similarity[chosen]:.2f}"
               if result.two_lead_similarity is not None
               and np.isfinite(result.two_lead_similarity[chosen]) else "")
            + ("; the networks read it V, but its QRS is "
               + (f"shaped like the record's typical one on this lead and on "
                  f"{result.v_template_second_lead or 'the second lead'} side by side"
                  if result.reread_two_leads is not None and result.reread_two_leads[chosen]
                  else "shaped like the record's typical one"
                  if result.qrs_similarity[chosen] >= clf.dominant_qrs["threshold"] else
                  "close to the record's typical one, whose shape the record's V calls share "
                  "taken together")
               + ", so it is read as its next most likely class"
               if result.reread is not None and result.reread[chosen] else "")
            + (f"; P-wave consistency around it {result.atrial_consistency[chosen]:.2f}"
               if result.atrial_consistency is not None
               and np.isfinite(result.atrial_consistency[chosen]) else "")
            + ("; it lies in a stretch that reads as atrial fibrillation (irregular RR "
               "intervals, no repeated P wave), where no beat is read S"
               if result.s_folded is not None and result.s_folded[chosen] else "")
            + ("; the networks read it as another class, but its QRS matches a template of "
               "the record's own V calls (wider than its typical QRS"
               + (f"; on {result.v_template_second_lead} too, side by side with this lead"
                  if result.v_template_second_lead else "")
               + "), so it is read V"
               if result.v_promoted is not None and result.v_promoted[chosen] else "")
            + ("; the networks read it N, but it comes early in a regular rhythm, before a "
               "longer interval, with the record's usual QRS, so it is read S (an atrial "
               "premature beat)"
               if result.s_promoted is not None and result.s_promoted[chosen] else ""))
b1, b2, b3 = st.columns([1, 1, 2])
b1.image(img, caption="drawn beat", width="stretch")
show_cam = st.toggle("Show Grad-CAM: where the image raised the predicted class's score",
                     key="record_cam",
                     help="Grad-CAM needs the model's gradients: the first time, TensorFlow is "
                          "loaded (a few seconds). A network that reads RR intervals is given "
                          "this beat's own, as when the record was read.")
# the same beat on the second lead, where the network read it there too (its probabilities
# are the mean of the two readings)
views = [(canon, "as the model sees it")]
if result.network_second_lead and record.other_signal is not None:
    views.append((canonical_form(render_beat(_drawn_signal(key, record, clf, second=True),
                                             sample, record.fs), clf.input_size),
                  f"on {result.network_second_lead}, as the network also read it"))
if show_cam:
    keras_model(clf, layers=False)  # Keras loaded; for an ensemble, a caption says what is shown
    # the beat's own RR context, as the network read it (zeros would explain a lone image)
    context = (None if result.rhythm is None
               else clf.rhythm_input(result.rhythm[chosen:chosen + 1]))
    for image, caption in views:
        # the whole model: for an ensemble, the mean of its networks' maps for this class
        cam = mean_map(grad_cam_maps(clf, image, int(np.argmax(probs)), rhythm=context))
        b2.image(cam_overlay(image, cam), caption=f"{caption}, with Grad-CAM (red)",
                 width="stretch")
else:
    for image, caption in views:
        b2.image(upscale(image), caption=caption, width="stretch")
b3.plotly_chart(probability_chart(probs, result.class_codes), width="stretch", key="beatprob")
if result.qrs_similarity is not None and np.isfinite(result.qrs_similarity[chosen]):
    # the record's typical QRS once per result (a median over every beat), not on every click
    typical = st.session_state.get("typical_qrs")
    if not typical or typical[0] != state_key:
        typical = (state_key, *typical_qrs(_drawn_signal(key, record, clf), result.samples,
                                           record.fs))
        st.session_state["typical_qrs"] = typical
    beat = beat_qrs(_drawn_signal(key, record, clf), sample, record.fs, typical[2],
                    float(getattr(clf, "qrs_align_s", 0.0)))
    if typical[2] is not None and beat is not None:
        q1, q2 = st.columns([2, 3])
        q1.plotly_chart(qrs_figure(typical[1], typical[2], beat,
                                   float(result.qrs_similarity[chosen])),
                        width="stretch", key="beatqrs")
        q2.caption(f"The model keeps a V (ventricular) reading only where the beat's QRS "
                   f"differs from the record's typical QRS, the median of all its beats': a "
                   f"ventricular beat is conducted another way than the patient's usual beats. "
                   f"A similarity of {clf.dominant_qrs['threshold']:g} or more (1 = the same "
                   f"shape"
                   + (f", taken after shifting the beat by up to {1000 * clf.qrs_align_s:.0f} "
                      "ms to match the typical QRS best"
                      if getattr(clf, "qrs_align_s", 0.0) else "")
                   + ") sends a V reading to the next most likely class"
                   + (f"; so does {clf.dominant_qrs['cluster']['threshold']:g} or more where "
                      "the beats read V, taken together, share the typical QRS (noisy normal "
                      "beats misread as a group"
                      + ("; compared on both leads side by side"
                         if clf.dominant_qrs["cluster"].get("two_leads")
                         and result.two_lead_similarity is not None else "")
                      + ")" if clf.dominant_qrs.get("cluster") else "")
                   + "."
                   + (" The other way round, a beat read as another class whose QRS matches a "
                      "template of the record's own V calls (their median, or one of their "
                      "forms', wider than the typical QRS and unlike it) is read V"
                      + (f", comparing the QRS on this lead or on this lead and "
                         f"{result.v_template_second_lead} side by side"
                         if result.v_template_second_lead else "")
                      + ("; beats read noisy are left out of that reading"
                         if (clf.v_template or {}).get("skip_noisy") else "")
                      + "." if getattr(clf, "v_template", None) else "")
                   + (f" Last, a V reading whose QRS on this lead and "
                      f"{result.v_template_second_lead or 'the second lead'} side by side "
                      f"matches the typical QRS on both (similarity "
                      f"{clf.dominant_qrs['two_leads']['threshold']:g} or more) goes to the "
                      "next most likely class too."
                      if result.reread_two_leads is not None else ""))

agree = agreement(result)
if agree is not None:
    st.header("Agreement with the reference annotations")
    det = agree.get("detection")
    if det is not None:
        d1, d2, d3 = st.columns(3)
        d1.metric("detection Se", f"{det['sensitivity']:.1%}"
                  if det["sensitivity"] is not None else "–",
                  help=f"reference beats found by {result.source} within "
                       f"{det['tolerance_s'] * 1000:.0f} "
                       f"ms: {det['matched']:,} of {det['reference_beats']:,}")
        d2.metric("detection +P", f"{det['positive_predictivity']:.1%}"
                  if det["positive_predictivity"] is not None else "–",
                  help=f"detected beats that match a reference beat: {det['matched']:,} of "
                       f"{det['detected_beats']:,}")
        d3.metric("matched beats", f"{det['matched']:,}")
        st.caption("Beats were detected, not taken from the annotations: each detected beat is "
                   "matched to the reference beat within 150 ms (ANSI/AAMI EC57, with "
                   "`wfdb.processing.compare_annotations`); the class agreement below is on the "
                   "matched beats.")
    f = agree["figures"]
    if f is not None:
        st.metric("class agreement (accuracy)", f"{f['accuracy']:.2%}",
                  help=f"{f['n']:,} beats with a reference class")
        codes = list(f["per_class"])
        normalise = st.toggle("normalise by reference class", key="agree_norm",
                              help="each row divided by its number of reference beats, so the "
                                   "diagonal reads as sensitivity")
        st.plotly_chart(confusion_heatmap(f["confusion"], codes, normalise), width="stretch",
                        key="agree_cm")
        table = per_class_table(f["per_class"], f["confusion"]).drop(
            columns=["records", "Sp", "AUC"])
        st.dataframe(table, hide_index=True, column_config=per_class_columns())
    if agree["outside"]:
        st.caption("Reference symbols outside the model's classes (not scored): " + "; ".join(
            f"{describe_symbol(s, result.class_codes)}: {n}"
            for s, n in sorted(agree["outside"].items())))
    st.caption("Agreement on one record is not a test of the model: the record may have been "
               "in its training data (check the model card's protocol).")
