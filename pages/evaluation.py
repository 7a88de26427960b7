"""Evaluation: how good the committed models are, under which protocol, and on your own set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ecg_core.errors import DatasetError, ModelLoadError
from ecg_core.classes import SHARED_DATASET_GROUPS
from ecg_core.evaluation import (aami_comparison, evaluate_images, evaluation_matches_model,
                                 find_evaluations, grouped_accuracy, load_evaluation)
from ecg_core.labelled_set import read_labelled_zip
from ecg_core.model import ensemble_roles, read_card, read_history, readings_left_out
from ecg_core.protocols import PROTOCOL_DESCRIPTIONS, PROTOCOL_LABELS
from ecg_core.robustness import ROBUSTNESS_SETS, robustness_path
from pages.charts import (MISSING, confusion_heatmap, history_figure, noise_ds2_figure,
                          noise_figure, per_class_columns, per_class_table, record_table,
                          reliability_figure, robustness_figure, roc_figure)
from pages.common import (MAX_ZIP_UPLOAD_BYTES, MODELS_DIR, choose_model, get_classifier,
                          megabytes, notice)

st.title("Evaluation: how good is the model, really?")
notice()
st.markdown(
    "Figures of the committed models on data they were not trained on, computed by "
    "`python -m ecg_core evaluate` (scikit-learn metrics) and stored next to each model. "
    "**Se** (sensitivity) = share of a class's beats found; **+P** (positive predictivity) = "
    "share of the beats called that class that really are; **Sp** = specificity; the ROC "
    "curve plots Se against 1 - Sp as the decision threshold of one class against the rest "
    "moves.")
model_file = choose_model()


@st.cache_data(show_spinner=False)
def _artifact(path: str, mtime: float):
    return load_evaluation(path)


@st.cache_data(show_spinner=False)
def _json_file(path: str, mtime: float) -> dict | None:
    """A small JSON file next to the models (robustness and noise figures), read once per
    version of the file; ``None`` when it is not valid JSON."""
    import json

    try:
        return json.loads(Path(path).read_text())
    except ValueError:
        return None


@st.cache_data(show_spinner=False)
def _matches(recorded: str, model_path: str, mtime: float) -> bool | None:
    """Whether an artifact's recorded checksum is the model file's (once per file version)."""
    return evaluation_matches_model({"model_sha256": recorded}, model_path)


def _artifacts() -> list[tuple[dict, dict]]:
    """The evaluation artifacts of the models this app serves: an artifact whose model file is
    not there (an experiment kept for the record, without its model) is not offered."""
    found = []
    for p in find_evaluations(MODELS_DIR):
        try:
            doc, arrays = _artifact(str(p), p.stat().st_mtime)
        except DatasetError as exc:
            st.warning(f"Skipped {p.name}: {exc}")
            continue
        if not (p.parent / doc.get("model_file", "")).is_file():
            continue
        doc["_folder"] = str(p.parent)
        doc["_data"] = Path(doc.get("data", "")).name + (
            "-held-out" if doc.get("split") == "held-out" else "")
        doc["_name"] = doc.get("model_name", doc["model"])
        found.append((doc, arrays))
    return found


def _card(model_path: Path) -> dict | None:
    """The model card beside a model file, or ``None`` where it cannot be read."""
    try:
        return read_card(model_path)
    except ModelLoadError:
        return None


#: What the test images of each committed evaluation are (by the dataset folder's name).
DATA_DESCRIPTIONS = {
    "beats": "Test images drawn by this project in random styles, as the models were trained.",
    "beats-plain": "The same test beats drawn in the default style (1 s, fitted to the trace).",
    "beats-one": "Every beat drawn once in a random style; under the cross-validation each is "
                 "tested by the fold model that never saw its patient.",
    "beats-one-bp": "Every beat drawn once in a random style from the band-passed signal "
                    "(0.5-40 Hz); under the cross-validation each is tested by the fold model "
                    "that never saw its patient.",
    "beats-one-bp-vfrr": "Every beat drawn once in a random style from the band-passed signal "
                         "(0.5-40 Hz), the VF windows with the RR intervals a QRS detector "
                         "finds inside fibrillation (as on the Record page); under the "
                         "cross-validation each is tested by the fold model that never saw "
                         "its patient.",
    "beats-one-bp-vfrr-leads": "Every beat drawn in a random style from the band-passed signal "
                               "(0.5-40 Hz) on lead MLII and on its record's other lead (in "
                               "MIT-BIH mostly V1), the VF windows with detector RR; the model "
                               "reads each test beat on both leads and averages the two, as on "
                               "the Record page. Under the cross-validation each is tested by "
                               "the fold model that never saw its patient.",
    "beats-matplotlib": "The same test beats drawn by another tool, matplotlib, in the manner "
                        "of the shared dataset (tools/matplotlib_beats.py): no model was "
                        "trained on its drawings.",
    "beats-screenshots": "The same test beats as screenshots of a matplotlib plot: axes "
                         "frame, ticks, tick labels, grids, a dark theme, JPEG "
                         "(tools/matplotlib_beats.py --look screenshot).",
    "beats-paper": "The same test beats as a black trace on pink ECG paper, drawn by "
                   "matplotlib (tools/matplotlib_beats.py --look paper).",
    "aami-bandpass": "Every beat of the 22 DS2 records, drawn in the default style from the "
                     "signal band-passed at 0.5-40 Hz, as this model's training beats were.",
    "aami-bp-leads": "Every beat of the 22 DS2 records, drawn in the default style on lead MLII "
                     "from the signal band-passed at 0.5-40 Hz (the same images as "
                     "aami-bandpass); this model's training beats were drawn on MLII and on "
                     "each record's other lead.",
    "qtdb": "Every labelled beat of the 54 annotated QT Database records: patients, recorders "
            "and leads that no committed model has trained on.",
    "qtdb-held-out": "Every labelled beat of the 18 QT Database records that no model ever "
                     "trains or validates on (`ecg_core.protocols.QTDB_HELD_OUT`): the "
                     "cross-database test that stays valid when the other 36 join training "
                     "(`build-dataset --qtdb`).",
}


#: Short names of the test images, for the menu.
DATA_LABELS = {
    "beats": "varied styles (as trained)",
    "beats-one": "varied styles (one drawing a beat)",
    "beats-one-bp": "varied styles, signal band-passed (one drawing a beat)",
    "beats-one-bp-vfrr": "varied styles, signal band-passed, VF windows with detector RR",
    "beats-one-bp-vfrr-leads": "varied styles, band-passed, read on both leads",
    "beats-plain": "default style",
    "beats-matplotlib": "matplotlib, shared-dataset look",
    "beats-screenshots": "matplotlib screenshots",
    "beats-paper": "ECG paper (matplotlib)",
    "aami": "default style (AAMI classes)",
    "aami-bandpass": "default style, signal band-passed (AAMI classes)",
    "aami-bp-leads": "default style, signal band-passed (AAMI classes; trained on two leads)",
    "qtdb": "QT Database (other patients)",
    "qtdb-held-out": "QT Database, the 18 records no model trains on",
}


def _show(doc: dict, arrays: dict, key: str, history: dict | None = None,
          card: dict | None = None) -> None:
    f = doc["figures"]
    codes = list(f["per_class"])
    macro = f.get("macro", {})
    # two rows of two: four metrics side by side do not fit half a page (values get cut)
    (a, b), (c, d) = st.columns(2), st.columns(2)
    a.metric("accuracy", f"{f['accuracy']:.2%}")
    b.metric("macro Se", f"{f['macro_sensitivity']:.2%}")
    c.metric("macro +P", f"{f['macro_precision']:.2%}")
    d.metric("macro AUC", "n/a" if macro.get("auc") is None else f"{macro['auc']:.3f}")
    records = f.get("n_records")
    ci = f.get("ci95") or {}
    if ci.get("accuracy") and ci.get("macro_sensitivity"):
        (alo, ahi), (slo, shi) = ci["accuracy"], ci["macro_sensitivity"]
        st.caption(f"95% confidence intervals, bootstrapping over the {ci['n_records']} "
                   f"records (patients): accuracy {alo:.1%}-{ahi:.1%}, macro Se "
                   f"{slo:.1%}-{shi:.1%}.")
    data_note = DATA_DESCRIPTIONS.get(doc.get("_data") or Path(doc.get("data", "")).name)
    if data_note:
        st.caption(data_note)
    st.caption(f"{f['n']:,} beats" + (f" from {records} records (patients)" if records else "")
               + (f"; protocol: {PROTOCOL_DESCRIPTIONS[doc['protocol']]}"
                  if doc.get("protocol") in PROTOCOL_DESCRIPTIONS else ""))
    if "APC" in codes and set(SHARED_DATASET_GROUPS) <= set(codes):
        acc6, n6 = grouped_accuracy(f["confusion"], codes, SHARED_DATASET_GROUPS)
        if acc6 is not None:
            st.caption(f"Read with the six labels of the widely shared image dataset (APC left "
                       f"out, VEB counted as PVC): accuracy {acc6:.2%} on {n6:,} beats.")
    normalise = st.toggle("normalise by true class", key=f"norm-{key}")
    st.plotly_chart(confusion_heatmap(f["confusion"], codes, normalise), width="stretch",
                    key=f"cm-{key}")
    if any(k.startswith("roc_fpr_") for k in arrays):
        st.plotly_chart(roc_figure(arrays, f["per_class"]), width="stretch", key=f"roc-{key}")
    table = per_class_table(f["per_class"], f.get("confusion"))
    if not records:
        table = table.drop(columns=["records"])
    st.dataframe(table, hide_index=True, width="stretch", column_config=per_class_columns())
    by_record = f.get("by_record") or []
    if len(by_record) > 1:
        with st.expander(f"By record: the {len(by_record)} records (patients) one by one"):
            st.caption("Pooled figures hide that errors come from a few people. Per class: "
                       "beats found / beats of that class in the record, then how many beats "
                       "of other classes the model called that class (false calls). Sorted by "
                       "errors."
                       + (" Under the beat split these patients' other beats were in "
                          "training." if doc.get("protocol") == "beat" else ""))
            st.dataframe(record_table(by_record, codes), hide_index=True, width="stretch",
                         key=f"records-{key}")
    if doc.get("protocol") == "aami":
        st.markdown("**Against the published figures** (AAMI DS1 -> DS2, gross statistics; "
                    "S = supraventricular, V = ventricular ectopic beats)")
        left_out = readings_left_out(card)
        rows = aami_comparison(f, doc.get("model_name", "this model"),
                               replaced=(card or {}).get("replaces"),
                               without_shift=(((card or {}).get("prior_shift") or {})
                                              .get("before") or {}).get("test"),
                               without_readings=left_out)
        shown = pd.DataFrame([{k: (v if k == "source" else
                                   (MISSING if v is None else f"{100 * v:.1f}%"))
                               for k, v in row.items()} for row in rows])
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config={"S_+P": st.column_config.TextColumn(
                         "S_+P", help=f"{MISSING}: the paper does not give it")})
        st.caption("Published figures as the papers report them: de Chazal et al. 2004, "
                   "Mondejar-Guerra et al. 2019, Sellami & Hwang 2019 (references in "
                   "docs/data.md)."
                   + (" The rows 'without' a reading are the same networks read without the "
                      "model's readings of whole records, each row leaving out also what the "
                      "rows above it leave out (a V call kept only where the QRS "
                      "differs from the record's typical QRS, and not where the V calls share "
                      "that QRS as a group; no S call where the rhythm reads as atrial "
                      "fibrillation; a beat read V where its QRS matches a template of the "
                      "record's V calls, wider than its typical QRS, on the chosen lead or on "
                      "both leads side by side; each QRS aligned to the typical QRS before it "
                      "is compared; beats read noisy left out of the V-template reading; "
                      "a V call read again where its QRS on both leads matches the typical "
                      "one; the V cluster compared on both leads; a beat read N that comes "
                      "early in a regular rhythm, before a longer interval, with the usual "
                      "QRS, read S), each adopted by a rule "
                      "judged on DS1 cross-validation and QT Database validation records, "
                      "never on DS2." if left_out else ""))
    rel = f.get("reliability")
    if rel:
        st.markdown(f"**Calibration**: expected calibration error {100 * rel['ece']:.2f}% "
                    "(15 confidence bins)")
        st.plotly_chart(reliability_figure(rel), width="stretch", key=f"rel-{key}")
        both = ((card or {}).get("calibration") or {}).get("readings", 1) > 1
        st.caption("Bars on the diagonal: when the model says 90%, it is right 90% of the "
                   "time. Probabilities are temperature-scaled with the temperature fitted on "
                   "the validation split (model card, `calibration`)"
                   + (", on what the model serves: the mean of each beat's two readings, one "
                      "on each lead, each rescaled first." if both else "."))
    members = ((card or {}).get("ensemble") or {}).get("members") or []
    if history:
        st.markdown("**Training history**")
        st.plotly_chart(history_figure(history), width="stretch", key=f"hist-{key}")
    elif members:
        joined = ensemble_roles(card or {}) or f"averages {len(members)} networks"
        st.caption(f"**Training history**: this model {joined}, each trained on its own; its "
                   "card lists them, with each one's validation figures.")


tab_models, tab_robust, tab_upload = st.tabs(
    ["Committed models", "Other drawings and photos", "Evaluate on your labelled set"])

with tab_robust:
    st.markdown(
        "The same test beats (beat split, 7,517 beats) drawn the ways other tools and cameras "
        "draw them, computed by `python -m ecg_core robustness`: the widely shared image "
        "dataset's own drawing (0.533 s, fixed mV scale with clipping), the default look at "
        "other window lengths, a fixed mV axis with clipping, photos of ECG paper, and "
        "screenshots of a matplotlib plot. A model that knows only its own drawings falls "
        "apart here.")
    tables = {}
    for path in sorted(MODELS_DIR.glob("*.keras")):
        found = robustness_path(path, "test")
        doc = _json_file(str(found), found.stat().st_mtime) if found.is_file() else None
        if doc:
            tables[doc.get("model_name", path.stem)] = doc
    if not tables:
        st.info("No robustness figures next to the models yet: `ecg-core robustness --model "
                "ecgnet --data data/beats` (docs/cli.md).")
    else:
        st.plotly_chart(robustness_figure(tables), width="stretch", key="robustness")
        rows = []
        sets = list(dict.fromkeys(s for doc in tables.values() for s in doc["sets"]))
        for name in sets:
            row = {"set": name}
            for model, doc in tables.items():
                fig = doc["sets"].get(name)
                row[model] = MISSING if fig is None else f"{100 * fig['accuracy']:.1f}%"
                if fig:
                    low = min(fig["per_class"].items(), key=lambda kv: kv[1]["Se"])
                    row[f"{model}: lowest Se"] = f"{low[0]} {100 * low[1]['Se']:.0f}%"
            row["what"] = ROBUSTNESS_SETS.get(name, "images drawn by another tool "
                                              "(tools/matplotlib_beats.py)")
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Beat split: the patients of these test beats are also in training, so the "
                   "figures measure the drawing, not new patients.")
    noise_file = MODELS_DIR / "noise_stress.json"
    if noise_file.is_file():
        noise = _json_file(str(noise_file), noise_file.stat().st_mtime)
        if noise:
            st.markdown("**Real noise** (MIT-BIH Noise Stress Test Database: records 118 and "
                        "119 with electrode-motion noise at 24 to -6 dB; beats of the noisy "
                        "segments; `benchmarks/noise_robustness.py`)")
            st.plotly_chart(noise_figure(noise), width="stretch", key="noise")
            st.caption("Both records are training patients of these models: the curve "
                       "measures noise, not new people. `aami/ecgnet` draws its beats from the "
                       "band-passed signal and also reads RR intervals.")
    ds2_file = MODELS_DIR / "noise_ds2.json"
    if ds2_file.is_file():
        ds2 = _json_file(str(ds2_file), ds2_file.stat().st_mtime)
        if ds2:
            st.markdown(f"**New patients under noise** (the 22 AAMI DS2 records with recorded "
                        f"baseline wander, electrode motion and muscle noise added at 24 to 0 "
                        f"dB; `{ds2['model']}`, beats from the reference positions; QRS "
                        f"detection by {ds2['detector']}; `benchmarks/noise_ds2.py`)")
            st.plotly_chart(noise_ds2_figure(ds2), width="stretch", key="noise_ds2")
            st.caption(f"Clean DS2: accuracy {100 * ds2['clean_accuracy']:.1f}% on "
                       f"{ds2['beats']:,} beats. Solid lines: classification accuracy; dotted: "
                       "detection sensitivity of the QRS detector on the same noisy records.")
    estimate_file = MODELS_DIR / "noise_estimate.json"
    if estimate_file.is_file():
        est = _json_file(str(estimate_file), estimate_file.stat().st_mtime)
        if est and est.get("calls") and est.get("new_patients"):
            st.markdown(f"**Where the Record page says a signal is noisy** (each beat's "
                        f"estimated SNR under {est['noisy_snr_db']:g} dB; "
                        "`benchmarks/noise_estimate.py`)")
            rows = []
            for model, calls in est["calls"].items():
                qt = est["new_patients"].get(model) or {}
                rows.append({
                    "model": model,
                    "stress test: beats read noisy, same call as clean":
                        f"{100 * calls['noisy']['agreement']:.1f}%",
                    "stress test: other beats, same call as clean":
                        f"{100 * calls['not noisy']['agreement']:.1f}%",
                    "QT validation records: beats read noisy":
                        f"{100 * qt['read_noisy']:.1f}%" if qt else "–",
                    "QT: accuracy on them": f"{100 * qt['accuracy_noisy']:.1f}%"
                    if qt.get("accuracy_noisy") is not None else "–",
                    "QT: accuracy on the rest": f"{100 * qt['accuracy_rest']:.1f}%"
                    if qt else "–"})
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
            st.caption("Stress test: the noisy segments of the twelve noise stress test records "
                       "(118 and 119, electrode motion at 24 to -6 dB). QT: the 36 QT Database "
                       "records open to validation, patients no model here was trained on. On "
                       "the stress test a beat read noisy keeps its clean call less often, by "
                       "far for the 8-class model, which draws the signal as recorded; the "
                       "other beats of new patients carry their own, larger share of errors.")

def _reset_on_change(key: str, value, dependents: tuple[str, ...]) -> None:
    """Forget the choices of the ``dependents`` menus when the menu ``key`` now shows another
    ``value`` than on the last run, so that they open on their defaults."""
    seen = f"_shown-{key}"
    if st.session_state.get(seen, value) != value:
        for dependent in dependents:
            st.session_state.pop(dependent, None)
    st.session_state[seen] = value


with tab_models:
    found = _artifacts()
    if not found:
        st.info("No evaluation artifacts in `models/` yet. Compute them with "
                "`ecg-core evaluate --model ecgnet baseline --data data/beats` (see "
                "docs/cli.md).")
    else:
        names = sorted({doc["_name"] for doc, _ in found})
        # By default: our model under the flattering beat split next to the same
        # architecture with patients kept apart, which is the comparison that matters.
        # (the patient-grouped cross-validation where it has been run, else the record split)
        defaults = (("ecgnet", "beat", "beats"),
                    ("record/ecgnet", "cv", "beats-one-bp-vfrr-leads"))
        cols = st.columns(2)
        chosen = []
        for side, (col, (d_name, d_protocol, d_data)) in enumerate(zip(cols, defaults)):
            with col:
                name = st.selectbox("Model", names, key=f"model-{side}",
                                    index=names.index(d_name) if d_name in names else 0)
                mine = [(doc, arrays) for doc, arrays in found if doc["_name"] == name]
                protocols = sorted({doc["protocol"] for doc, _ in mine})
                # a menu keeps its position when its options change: another model (or
                # protocol) opens on its default, not on whatever stood at the same place
                _reset_on_change(f"model-{side}", name, (f"protocol-{side}", f"data-{side}"))
                preferred = [p for p in (d_protocol, "record") if p in protocols]
                protocol = st.selectbox(
                    "Protocol", protocols, key=f"protocol-{side}",
                    index=protocols.index(preferred[0]) if preferred else 0,
                    format_func=lambda p: PROTOCOL_LABELS.get(p, p))
                _reset_on_change(f"protocol-{side}", protocol, (f"data-{side}",))
                mine = [(doc, arrays) for doc, arrays in mine if doc["protocol"] == protocol]
                order = list(DATA_LABELS)
                mine.sort(key=lambda item: (order.index(item[0]["_data"])
                                            if item[0]["_data"] in order else len(order),
                                            item[0]["_data"]))
                datas = [doc["_data"] for doc, _ in mine]
                data = st.selectbox("Test images", datas, key=f"data-{side}",
                                    index=datas.index(d_data) if d_data in datas else 0,
                                    format_func=lambda d: DATA_LABELS.get(d, d))
                doc, arrays = mine[datas.index(data)]
                chosen.append(doc)
                model_path = Path(doc["_folder"]) / doc["model_file"]
                if _matches(doc.get("model_sha256") or "", str(model_path),
                            model_path.stat().st_mtime) is False:
                    st.warning(f"These figures were measured on an earlier version of "
                               f"**{doc['_name']}**: its model file has changed since. Run "
                               "`python -m ecg_core evaluate` again to measure the model "
                               "as it is now.")
                _show(doc, arrays, key=f"side-{side}", history=read_history(model_path),
                      card=_card(model_path))
        protocols = {doc["protocol"] for doc in chosen}
        if protocols in ({"beat", "record"}, {"beat", "cv"}):
            st.info(
                "**Why the figures drop when patients are kept apart.** Under the beat split "
                "the test beats come from the same people as the training beats, so the "
                "network can recognise each person's own beat shapes. Under the record split "
                "it meets new people, as it would in use. The record-split figure is the one "
                "to believe; classes that live in one or two patients cannot be measured "
                "this way at all (see their record counts).")
        elif protocols == {"beat"}:
            st.caption("Both sides use the beat split: the same patients are in training and "
                       "test, which flatters both models.")

with tab_upload:
    st.markdown(
        "Upload a **zip of class folders** of beat images, in the layout of the widely shared "
        "ECG image dataset (`Normal/…png`, `Left Bundle Branch Block/…png`, … at any depth). "
        "Folder names are mapped to class codes; check the mapping before evaluating. Nothing "
        "is written to disk.")
    zip_limit = megabytes(MAX_ZIP_UPLOAD_BYTES)
    up = st.file_uploader(f"Labelled set (.zip, up to {zip_limit:.0f} MB)", type=["zip"],
                          key="zip", max_upload_size=int(zip_limit))
    if up is not None:
        if up.size > MAX_ZIP_UPLOAD_BYTES:
            st.error(f"{up.name}: {megabytes(up.size):.0f} MB is over the {zip_limit:.0f} MB "
                     "limit.")
            st.stop()
        try:
            labelled = read_labelled_zip(up.getvalue())
        except DatasetError as exc:
            st.error(f"{up.name}: {exc}")
            st.stop()
        for text in labelled.warnings:
            st.warning(text)
        clf = get_classifier(model_file)
        if clf is None:
            st.stop()
        options = [None, *clf.class_codes]
        st.markdown("**Folder -> class** (as guessed from the folder names; change if needed)")
        mapping = {}
        for folder, code in labelled.folders.items():
            mapping[folder] = st.selectbox(
                f"{folder} ({labelled.counts[folder]} images)", options,
                index=options.index(code) if code in options else 0,
                format_func=lambda c: "leave out" if c is None else c,
                key=f"map-{folder}")
        # The click is kept in session state by a callback, so that it survives a rerun.
        st.button("Evaluate", type="primary", on_click=st.session_state.update,
                  kwargs={"evaluate_zip": True})
        if st.session_state.pop("evaluate_zip", False):
            items = labelled.labelled_items(mapping)
            if not items:
                st.error("No folder is mapped to a class.")
                st.stop()
            bar = st.progress(0.0, text="Classifying...")
            try:
                figures, arrays, errors = evaluate_images(
                    clf, items, progress=lambda d, t: bar.progress(
                        d / t, text=f"Classified {d} of {t}"))
            except DatasetError as exc:
                st.error(str(exc))
                st.stop()
            bar.empty()
            if errors:
                st.warning(f"{len(errors)} image(s) could not be read and were left out, e.g. "
                           f"{errors[0][0]}: {errors[0][1]}")
            _show({"figures": figures, "protocol": "upload", "model": Path(clf.card["file"]).stem
                   if clf.card.get("file") else "model"}, arrays, key="upload")
