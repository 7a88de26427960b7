"""Home: what the tool does, the eight beat classes, how the model was trained and tested, and
how far to trust its answers on a new person."""

from __future__ import annotations

import json

import streamlit as st

from ecg_core.classes import BEAT_CLASSES
from ecg_core.model import CONTEXT_WORDS, card_path, ensemble_roles, model_name
from ecg_core.protocols import PROTOCOL_LABELS
from pages.common import (EXAMPLES_DIR, choose_model, new_patient_note, new_patient_tables,
                          notice)


def _cluster_leads(dominant: dict) -> str:
    """Words for where the V-cluster reading compares QRS complexes, from the card."""
    return (", on both leads side by side where the record has a second one"
            if (dominant.get("cluster") or {}).get("two_leads") else "")


def _earlier_training(tr: dict | None) -> str:
    """How the model whose weights a run started from was trained, as a clause ('' if the
    card does not say), back along the chain of runs its card records."""
    if not tr or not tr.get("epochs_run"):
        return ""
    sched = "cosine" if tr.get("schedule") == "cosine" else "plateau"
    rate = f", {sched} learning rate from {tr.get('learning_rate')}"
    if not tr.get("initialised_from"):
        return f", trained {tr['epochs_run']} epochs from random weights{rate}"
    deeper = _earlier_training(tr.get("earlier"))
    if deeper:  # ", trained 10 epochs ..." -> "from the weights of one trained 10 epochs ..."
        return (f", trained {tr['epochs_run']} epochs{rate}; that from the weights of "
                f"one{deeper[1:]}")
    return f", trained {tr['epochs_run']} epochs itself from earlier weights{rate}"


st.title("ECG beat classification with a convolutional network")
notice()
st.markdown(
    "This dashboard shows how a **convolutional neural network (CNN)** reads a heartbeat. "
    "Each beat of an ECG is drawn as a small 2-D image, and a CNN trained on the "
    "**MIT-BIH Arrhythmia Database** (48 half-hour records, 47 patients, every beat labelled "
    "by cardiologists) sorts it into one of eight classes, as in Jun et al. (2018). "
    "Open **Predict** to classify your own beat images, and **Evaluation** to see how good "
    "the model really is, under protocols that keep patients apart.")

st.header("The eight beat classes")
cols = st.columns(4)
for i, cls in enumerate(BEAT_CLASSES):
    with cols[i % 4]:
        st.markdown(f"**{cls.code}** · {cls.name}  \nMIT-BIH symbol `{' '.join(cls.symbols)}`")
        sample = next(iter(sorted((EXAMPLES_DIR / cls.code).glob("*.png"))), None)
        if sample is not None:
            st.image(str(sample), width="stretch")
        st.caption(cls.description)

st.header("How the model was trained and tested")
model_file = choose_model()
card_file = card_path(model_file)
card = None
if card_file.is_file():
    try:
        card = json.loads(card_file.read_text())
    except ValueError:
        card = None
if card is None:
    st.info("No model card found next to the model; see the README to train a model.")
else:
    test = card.get("test", {})
    data = card.get("training_data", {})
    settings = data.get("settings") or {}
    counts = data.get("counts") or {}
    protocol = card.get("protocol", {}).get("name", "beat")
    if card.get("scheme", "jun8") == "aami":
        source = ("every beat of the 44 non-paced MIT-BIH records"
                  + (" and of 36 QT Database records" if "qtdb" in (settings.get("sources")
                                                               or {}) else "")
                  + ", in the five AAMI EC57 classes N, S, V, F, Q")
    else:
        build_cap = settings.get("max_per_class")
        vf_rr = (" (with the RR intervals a QRS detector finds inside fibrillation, as on "
                 "the Record page)" if card.get("rhythm_input")
                 and settings.get("vf_rr", "none") != "none" else "")
        source = ("MIT-BIH, plus windows from the VF episodes of the CU Ventricular "
                  f"Tachyarrhythmia Database for the VFW class{vf_rr}; "
                  + (f"normal beats capped at {build_cap:,} before the split" if build_cap
                     else "every beat kept, so validation and test hold the data's own "
                          "class mix"))
    style = ("drawn in varied styles so that the model reads other tools' images too"
             if settings.get("styled") else "drawn in the default style")
    drawings = int(settings.get("drawings") or 1)
    n_beats = sum(sum(v.values()) for v in counts.values()) or data.get("n_images") or 0
    if drawings > 1:
        style += (f"; every training beat drawn {drawings} times, each time in its own style "
                  "(validation and test read one drawing per beat)")
    if settings.get("extra_styles") == "wide" and drawings > 1:
        style += ("; the extra drawings in a wider family: windows of 0.4-1.6 s, fixed mV "
                  "scales with clipping, the first channel, and the widely shared image "
                  "dataset's own drawing (0.533 s)")
    if card.get("conditioning", "none") != "none":
        style += ("; each record's signal band-passed at 0.5-40 Hz before drawing (baseline "
                  "wander and noise removed), here as in the app")
    rhythm = (" The model also reads each beat's RR intervals (rhythm input)."
              if card.get("rhythm_input") else "")
    st.markdown(
        f"- **Model** `{model_name(model_file)}`: {card.get('architecture')}, "
        f"{card.get('parameters', {}).get('total', 0):,} parameters, input "
        f"{card['input']['shape']} (canonical form).{rhythm}\n"
        f"- **Data**: {n_beats:,} beats from "
        f"{len(data.get('records') or [])} records ({source}), resampled to 360 Hz, lead "
        f"MLII, windows centred on the R peak (1 s in the default style), {style}.\n"
        f"- **Protocol**: {card.get('protocol', {}).get('description', '')}")
    tr = card.get("training") or {}
    if tr:
        schedule = ("cosine-decayed" if tr.get("schedule") == "cosine"
                    else "reduced on plateau")
        weighting = {"sqrt": "loss weighted by the square root of inverse class frequency",
                     "none": "loss unweighted"}.get(
            tr.get("class_weighting"), "loss weighted by inverse class frequency")
        cap = tr.get("max_train_per_class")
        capped = f", at most {cap:,} training images per class" if cap else ""
        prior = card.get("prior_adjustment") or {}
        shifted = ("; then its outputs were moved toward the data's class mix (prior "
                   f"adjustment of strength {prior['strength']:g}, chosen on validation)"
                   if prior.get("strength") else "")
        start = ("; it started from the weights of an earlier model of the same design "
                 f"(created {tr['initialised_from'].get('created') or 'earlier'}"
                 f"{_earlier_training(tr['initialised_from'].get('training'))})"
                 if tr.get("initialised_from") else "")
        shifted = start + shifted
        members = (card.get("ensemble") or {}).get("members") or []
        recipes = [m.get("training") for m in members]
        mixed = all(recipes) and len({(r.get("learning_rate"), r.get("schedule"),
                                        r.get("initialised_from")) for r in recipes}) > 1
        guard = (card.get("ensemble") or {}).get("guard") or {}
        if members and guard:
            g = guard["class"]

            def group(decides_guard: bool) -> tuple[str, set]:
                """The seeds of one group of networks, and their rhythm contexts."""
                ms = [m for m in members if (m.get("decides") == g) == decides_guard]
                return (", ".join(str(m.get("seed")) for m in ms),
                        {m.get("rhythm_context") for m in ms})

            def reads(contexts: set) -> str:
                words = CONTEXT_WORDS.get(next(iter(contexts))) if len(contexts) == 1 else None
                return f" {words} and" if words else ""

            (s_other, c_other), (s_guard, c_guard) = group(False), group(True)
            why = (" Validated on patients kept out of training, the patient's own rhythm "
                   f"removes many false ectopic calls, while the local networks find more {g} "
                   "beats." if (c_other, c_guard) == ({"record"}, {"local"}) else "")
            st.markdown(
                f"- **Training**: {len(members)} networks of one design on the same images, "
                f"each trained until its validation loss stopped falling ({weighting}"
                f"{capped}). {len(members) - guard['members']} of them (seeds {s_other})"
                f"{reads(c_other)} decide among the classes other than {g}; "
                f"{guard['members']} (seeds {s_guard}){reads(c_guard)} give the probability "
                f"of {g}.{why} {tr.get('batch_seconds', 0) / 60:.0f} min of batches in all on "
                f"{tr.get('machine', 'an unnamed machine')}.")
        elif members and mixed:
            designs = [m.get("architecture") for m in members]
            several = len(set(designs)) > 1

            def how(m):
                r = m["training"]
                start = ("fine-tuned from an earlier model's weights" if r.get("initialised_from")
                         else "from random weights")
                sched = "cosine" if r.get("schedule") == "cosine" else "plateau"
                design = f"{m.get('architecture')}, " if several else ""
                return (f"{design}seed {m.get('seed')} {start} ({r.get('epochs_run')} epochs, "
                        f"{sched} learning rate from {r.get('learning_rate')})")
            kinds = (" and ".join(f"{designs.count(d)} of `{d}`" for d in dict.fromkeys(designs))
                     if several else "one design")
            st.markdown(
                f"- **Training**: {len(members)} networks of {kinds} on the same images, "
                f"their probabilities averaged: {'; '.join(how(m) for m in members)}; "
                f"{weighting}{capped}. Networks that start from different weights make "
                f"different errors, which averaging cancels in part. "
                f"{tr.get('batch_seconds', 0) / 60:.0f} min of batches in all on "
                f"{tr.get('machine', 'an unnamed machine')}.")
        elif members:
            seeds = ", ".join(str(m.get("seed")) for m in members)
            roles = ensemble_roles(card)  # networks that read different rhythm features
            what = (f"the model {roles} (seeds {seeds})" if roles else
                    f"{len(members)} networks of one recipe, from seeds {seeds}")
            why = ("networks that read differently make different errors, which averaging "
                   "cancels in part" if roles else
                   "the model averages their probabilities, because one seed differs from "
                   "another by several points on new patients")
            st.markdown(
                f"- **Training**: {what}, each trained until its validation loss stopped "
                f"falling (Adam with a {schedule} learning rate from "
                f"{tr.get('learning_rate')}, {weighting}{capped}); {why}. "
                f"{tr.get('batch_seconds', 0) / 60:.0f} min of batches in all on "
                f"{tr.get('machine', 'an unnamed machine')}.")
        else:
            st.markdown(
                f"- **Training**: {tr.get('epochs_run')} epochs (the weights of epoch "
                f"{tr.get('best_epoch')}, the lowest validation loss), Adam with a {schedule} "
                f"learning rate from {tr.get('learning_rate')}, {weighting}{capped}, "
                f"{tr.get('batch_seconds', 0) / 60:.0f} min of batches on "
                f"{tr.get('machine', 'an unnamed machine')}{shifted}.")
    dominant = card.get("dominant_qrs")
    if dominant:
        st.markdown(
            f"- **Reading a record**: a beat the networks read V keeps that reading only where "
            f"its QRS differs from the record's typical QRS (cosine similarity under "
            f"{dominant['threshold']:g}): a ventricular beat's QRS is not the patient's usual "
            "one"
            + (f"; and where the beats read V share the typical QRS as a group (the median of "
               f"their QRS matches it at {dominant['cluster']['cluster_threshold']:g} or "
               f"more{_cluster_leads(dominant)}), each of them at "
               f"{dominant['cluster']['threshold']:g} or more is read again too: in a noisy "
               "record, normal beats misread together"
               if dominant.get("cluster") else "")
            + (f". Each beat's QRS is first aligned to the record's typical QRS (shifted by up "
               f"to {card['qrs_alignment']['max_shift_ms']:g} ms to match it best), as "
               "annotated or detected R positions wander by a few ms"
               if (card.get("qrs_alignment") or {}).get("max_shift_ms") else "")
            + ". A lone image has no record and is read by the networks alone.")
    af = card.get("af_fold")
    if af:
        st.markdown(
            "- **Atrial fibrillation**: where a record's RR intervals are irregularly irregular "
            "and no P wave repeats from beat to beat before the QRS (atrial consistency under "
            f"{af['threshold']:g}), no beat is read S: in atrial fibrillation there is no "
            "regular rhythm for a beat to be premature against, and the reference labels call "
            "these beats normal.")
    template = card.get("v_template")
    if template:
        st.markdown(
            "- **Ventricular template**: where a record's V calls, taken together, have a QRS "
            "of their own (the median of their QRS unlike the typical one, cosine under "
            f"{template['cluster_threshold']:g}, and wider by {template['min_width_gain_ms']:g} "
            "ms or more: a ventricular beat spreads slowly through the heart muscle), a beat "
            "read as another class whose QRS matches that template (cosine "
            f"{template['threshold']:g} or more, and {template['margin']:g} more than the "
            "typical QRS) is read V, as a Holter analyser labels beats by template"
            + (f"; each group of {template['min_group']} or more alike V calls (ventricular "
               "beats of more than one form) makes a template too"
               if template.get("group_cut") is not None else "")
            + ("; where the record has a second lead, a beat also matches when its QRS on both "
               "leads side by side matches the template's (a ventricular beat can look nearly "
               "normal in one lead and plainly not in another)"
               if template.get("two_leads") else "")
            + ("; beats whose estimated SNR is under "
               f"{template['skip_noisy'].get('snr_db', 18):g} dB neither make a template nor "
               "are read V by one (a noisy beat can match a template of noisy V calls)"
               if template.get("skip_noisy") else "")
            + ".")
    last = (dominant or {}).get("two_leads")
    if last:
        st.markdown(
            "- **Last check on both leads**: where the record has a second lead, a beat still "
            "read V whose QRS on both leads side by side matches the record's typical one "
            f"(cosine {last['threshold']:g} or more) is read as its next most likely class, "
            "and a V-template call of such a beat is withdrawn: a QRS shaped like the "
            "patient's usual one on both leads is not ventricular.")
    premature = card.get("premature_s")
    if premature:
        st.markdown(
            "- **Premature beats**: last, a beat read N that comes early in a regular rhythm "
            f"(its RR interval under {premature['max_before']:g} of the median of the "
            f"{premature.get('reference_beats', 8)} intervals on each side), is followed by a "
            f"longer interval (over {premature['min_after']:g} of it) and has the record's "
            f"usual QRS (cosine {premature['min_similarity']:g} or more) is read S: the signs "
            "of an atrial premature beat, which is conducted as the usual beats are.")
    if test:
        label = PROTOCOL_LABELS.get(protocol, protocol)
        st.markdown(f"**Test figures**, {label}:")
        c1, c2, c3 = st.columns(3)
        c1.metric("Test accuracy", f"{test['accuracy']:.2%}", help=f"protocol: {label}")
        c2.metric("Macro Se", f"{test['macro_sensitivity']:.2%}",
                  help="sensitivity averaged over the classes")
        c3.metric("Macro +P", f"{test['macro_precision']:.2%}",
                  help="positive predictivity averaged over the classes")
        if protocol == "beat":
            st.caption("Beat-split figures: the same patients are in training and test, which "
                       "flatters every model. They do not tell how the model does on a new "
                       "patient: see the record split and the AAMI benchmark on the "
                       "**Evaluation** page.")
        if counts:
            def pct(value):
                return "–" if value is None else f"{100 * value:.1f}%"

            # a Markdown table, and no chart: Home is the first page a visitor opens. A data
            # table would make the server import pandas and pyarrow (about 0.6 s), and a Plotly
            # chart has the browser load and start Plotly's JavaScript (1.4-1.9 s on 2 cores)
            # just as the visitor clicks through to Predict, which then shows its first
            # prediction in words about 0.9 s later (docs/speed.md)
            if protocol == "beat":  # the build's own partition is the model's split
                splits = {s: {c: v.get(s, 0) for c, v in counts.items()}
                          for s in next(iter(counts.values()))}
            else:  # patients kept apart: the build's partition is not the model's split
                val_pc = (card.get("validation") or {}).get("per_class") or {}
                splits = {"validation": {c: val_pc.get(c, {}).get("support", 0)
                                         for c in counts},
                          "test": {c: test["per_class"].get(c, {}).get("support", 0)
                                   for c in counts}}
            head = ["class", *splits, "test Se", "test +P"]
            lines = ["| " + " | ".join(head) + " |",
                     "|---|" + "---:|" * (len(head) - 1)]
            for c in counts:
                pc = test["per_class"].get(c, {})
                lines.append("| " + " | ".join(
                    [f"**{c}**", *(f"{n[c] or 0:,}" for n in splits.values()),
                     pct(pc.get("sensitivity") if pc.get("support") else None),
                     pct(pc.get("precision"))]) + " |")
            st.markdown("\n".join(lines))

if card is not None:
    st.header("How far to trust an answer on a new person")
    st.markdown(
        "A recording you bring is a new person. What counts then is how the model reads "
        "patients it never saw, class by class: **Se**, of the beats of a class, the share it "
        "found; **+P**, of the beats it called that class, the share that were right. The "
        "95% intervals come from resampling the patients, so they are wide where a class "
        "lives in few people.")
    tables = new_patient_tables(model_file)
    for table in tables:
        st.markdown(f"**{table['title']}**\n\n{table['markdown']}")
    if not tables:
        st.info("No figures on patients this model never saw are committed with it; the "
                "**Evaluation** page gives its figures under every protocol it was tested on.")
    if (patient_note := new_patient_note(model_file, card)):
        st.caption(patient_note)

st.header("Data and citations")
st.markdown(
    "- Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng in Med and "
    "Biol 20(3):45-50 (2001).\n"
    "- Nolle FM et al. CREI-GARD, a new concept in computerized arrhythmia monitoring "
    "systems. Computers in Cardiology 13:515-518 (1986).\n"
    "- Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation "
    "101(23):e215-e220 (2000).\n"
    "- Jun TJ et al. ECG arrhythmia classification using a 2-D convolutional neural network. "
    "arXiv:1804.06812 (2018).\n\n"
    "Data from PhysioNet under the Open Data Commons Attribution License v1.0.")
