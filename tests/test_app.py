"""Every page through Streamlit's AppTest: renders, charts, bad uploads, missing model."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ecg_core.classes import CLASS_CODES
from tests.conftest import EXAMPLES, EXCERPT_MITDB, ROOT, SHARED

APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 120


def _charts(at):
    return at.get("plotly_chart")


def _page(page: str):
    """An AppTest of the app, run once, then switched to ``page`` and run."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.run()
    return at


def _predict_page():
    return _page("pages/predict.py")


def test_home_page_renders_classes_and_notice():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert "Not a medical device" in at.warning[0].value
    text = " ".join(m.value for m in at.markdown)
    for code in ("NOR", "LBB", "RBB", "APC", "PVC", "PAB", "VFW", "VEB"):
        assert f"**{code}**" in text
    assert any("beat split" in m.value.lower() for m in at.markdown)
    assert all(len(m.label) <= 16 for m in at.metric)  # short labels: never cut off
    # the per-class table: Markdown (no pandas or pyarrow on the first page), Se in %
    table = next(m.value for m in at.markdown if m.value.startswith("| class |"))
    header, _, *rows = table.splitlines()
    assert header.split("|")[-3:-1] == [" test Se ", " test +P "]
    assert [r.split("|")[1].strip(" *") for r in rows] == ["NOR", "LBB", "RBB", "APC", "PVC",
                                                          "PAB", "VFW", "VEB"]
    assert all(r.split("|")[-3].strip().endswith("%") for r in rows)  # in % like the metrics
    # the data line counts beats (not images, of which a build may draw several per beat)
    card = json.loads((ROOT / "models" / "ecgnet.card.json").read_text())
    data = card["training_data"]
    beats = sum(sum(v.values()) for v in data["counts"].values())
    assert f"{beats:,} beats from {len(data['records'])} records" in text
    # no chart on Home: the browser would load Plotly's JavaScript just as the visitor
    # clicks through to Predict (docs/speed.md)
    assert not _charts(at)


def test_home_page_says_how_far_to_trust_a_new_person_s_answer():
    """Home gives the chosen model's figures on patients it never saw, class by class, from
    its artifacts: the beat-split default has only the QT Database (and the note naming the
    model that reads new patients better); aami/ecgnet has DS2 and the held-out QT records."""
    from ecg_core.evaluation import new_patient_tables

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert any(h.value == "How far to trust an answer on a new person" for h in at.header)
    text = " ".join(m.value for m in at.markdown)
    (qt,) = new_patient_tables(ROOT / "models" / "ecgnet.keras")
    assert f"**{qt['title']}**" in text and qt["markdown"] in text
    assert any("(beat split)" in c.value and "`aami/ecgnet`" in c.value for c in at.caption)
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    tables = new_patient_tables(ROOT / "models" / "aami" / "ecgnet.keras")
    assert len(tables) == 2 and all(t["markdown"] in text for t in tables)
    assert text.index("AAMI DS1 -> DS2: 22") < text.index("records held out of every")
    assert not any("(beat split)" in c.value for c in at.caption)
    assert not _charts(at)


def test_predict_page_with_an_example_shows_class_and_chart():
    at = _predict_page()
    assert not at.exception
    assert "Not a medical device" in at.warning[0].value
    name = "PVC/" + sorted((EXAMPLES / "PVC").glob("*.png"))[0].name
    at.multiselect[0].set_value([name])
    at.run()
    assert not at.exception and not at.error
    assert len(_charts(at)) == 1
    assert any("**PVC**" in s.value for s in at.subheader)


def test_predict_page_gives_an_image_model_s_figures_on_new_patients():
    """An image-only model (the default ecgnet) reads a new patient's record one beat image at
    a time: the Predict page gives its Se/+P there beside the probabilities; a model that
    reads RR intervals (aami/ecgnet) does not, as its record figures do not apply to a lone
    image (its lone-image figures are given instead)."""
    from ecg_core.evaluation import new_patient_tables, new_patient_words

    at = _predict_page()
    at.multiselect[0].set_value(["PVC/" + sorted((EXAMPLES / "PVC").glob("*.png"))[0].name])
    at.run()
    assert not at.exception
    words = new_patient_words(new_patient_tables(ROOT / "models" / "ecgnet.keras")[0])
    assert words.startswith("NOR ") and ", PVC " in words
    assert any("never saw (the QT Database)" in c.value and words in c.value
               for c in at.caption)
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    at.run()
    assert not at.exception
    assert not any("never saw" in c.value for c in at.caption)


def test_predict_page_upload_of_several_images_and_a_bad_one():
    at = _predict_page()
    good = [(p.name, p.read_bytes(), "image/png")
            for p in sorted((EXAMPLES / "LBB").glob("*.png"))[:2]]
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(buf, format="PNG")
    bad = [("truncated.png", good[0][1][:300], "image/png"),
           ("blank.png", buf.getvalue(), "image/png")]
    at.file_uploader[0].set_value(good + bad)
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "truncated.png" in errors and "blank.png" in errors
    assert len(_charts(at)) == 2
    assert len(at.dataframe) == 1  # the table for several images
    table = at.dataframe[0].value
    assert list(table.columns) == ["image", "predicted", "confidence", *CLASS_CODES, "warning",
                                   "error"]
    good_rows = table[table["error"] == ""]
    assert ((good_rows[list(CLASS_CODES)].sum(axis=1) - 100).abs() < 0.1).all()  # percent
    # the progress bar ends on the count, unreadable files included
    bar = at.get("progress")[0]
    assert bar.value == 100 and "2 could not be read" in bar.proto.text
    # the page keeps working: a good upload after the bad ones
    at.file_uploader[0].set_value(good[:1])
    at.run()
    assert not at.exception and not at.error and len(_charts(at)) == 1


@pytest.mark.parametrize("name", ["aami/ecgnet", "record/ecgnet"])
def test_predict_page_says_how_well_a_rhythm_model_reads_a_lone_image(name):
    """A model that reads RR intervals gets none from a lone image: the Predict page says so,
    and with the card's figures of images read alone (`evaluate --lone-images`), how well it
    read them against its test figures read in their records."""
    card = json.loads((ROOT / "models" / f"{name}.card.json").read_text())
    at = _predict_page()
    at.sidebar.selectbox(key="model_choice").set_value(name)
    at.run()
    assert not at.exception and not at.error
    note = next(i.value for i in at.info if "which a lone image does not have" in i.value)
    lone = card.get("lone_image")
    if lone is None:
        assert "each image read alone" not in note
        return
    assert f"right on {lone['accuracy']:.1%}" in note
    assert f"{lone['n']:,} {lone['split']} beats" in note
    assert f"with their RR intervals, on {card['test']['accuracy']:.1%}" in note
    assert ("expected calibration error was" in note) == ("ece" in lone)
    if "ece" in lone:
        assert f"calibration error was {lone['ece']:.1%}" in note


def test_missing_model_shows_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("ECG_MODEL_PATH", str(tmp_path / "missing.keras"))
    at = _predict_page()
    assert not at.exception
    assert "could not be loaded" in at.error[0].value
    assert any("git checkout -- models" in i.value for i in at.info)


def _evaluation_page():
    return _page("pages/evaluation.py")


def test_evaluation_page_shows_committed_models_side_by_side():
    at = _evaluation_page()
    assert not at.exception and not at.error
    assert "Not a medical device" in at.warning[0].value
    assert not any("earlier version" in w.value for w in at.warning)  # figures are current
    # two sides, each: confusion matrix, ROC curves, reliability diagram, training history;
    # and the robustness tab's chart and table
    calibration = [m.value for m in at.markdown if m.value.startswith("**Calibration**")]
    assert len(calibration) == 2 and all("expected calibration error" in m for m in calibration)
    # a temperature fitted on the two-lead reading a model serves is said to be
    both = sum((json.loads((ROOT / "models" / f"{m}.card.json").read_text()).get("calibration")
                or {}).get("readings", 1) > 1 for m in ("ecgnet", "record/ecgnet"))
    assert sum("mean of each beat's two readings" in c.value for c in at.caption) == both
    # (an ensemble has no one training history: a caption says so instead)
    histories = sum((ROOT / "models" / f"{m}.history.json").is_file()
                    for m in ("ecgnet", "record/ecgnet"))
    assert histories + sum(("averages" in c.value or "joins" in c.value)
                           and "Training history" in c.value for c in at.caption) == 2
    assert len(_charts(at)) == 6 + histories + 1 + 1 + 1  # ... and the two noise charts
    by_record = [e for e in at.expander if e.label.startswith("By record")]
    assert len(at.dataframe) == 2 + 1 + 1 + len(by_record)
    robust = at.dataframe[-2].value
    # where the Record page's noise caveat comes from, and what it means, per model
    noisy = at.dataframe[-1].value
    assert list(noisy["model"]) == ["ecgnet", "aami/ecgnet"]
    # the table is the benchmark's artifact; on the stress test the beats read noisy keep
    # their clean call less often, for every model
    estimate = json.loads((ROOT / "models" / "noise_estimate.json").read_text())
    assert list(noisy["QT: accuracy on them"]) == [
        f"{100 * estimate['new_patients'][m]['accuracy_noisy']:.1f}%" for m in noisy["model"]]
    assert all(float(a.rstrip("%")) < float(b.rstrip("%")) for a, b in zip(
        noisy["stress test: beats read noisy, same call as clean"],
        noisy["stress test: other beats, same call as clean"]))
    assert {"shared-dataset", "window-0.45", "photo", "screenshots"} <= set(robust["set"])
    assert "ecgnet" in robust.columns
    intervals = [c.value for c in at.caption if "95% confidence intervals" in c.value]
    assert len(intervals) == 2
    labels = [m.label for m in at.metric]
    assert labels.count("accuracy") == 2 and labels.count("macro AUC") == 2
    # three menus a side: model, protocol, test images
    assert at.selectbox(key="model-0").value == "ecgnet"
    assert "beat split" in at.selectbox(key="protocol-0").format_func(
        at.selectbox(key="protocol-0").value)
    assert at.selectbox(key="model-1").value == "record/ecgnet"
    six = [c.value for c in at.caption if "six labels" in c.value]
    assert len(six) == 2 and all("accuracy" in c for c in six)
    # the page speaks to its readers, not of how the models were developed
    text = " ".join(x.value for x in [*at.markdown, *at.caption, *at.info])
    for jargon in ("issue tracker", "Project targets", "How this model was chosen", "RULE.md"):
        assert jargon not in text
    at.toggle[0].set_value(True)
    at.run()
    assert not at.exception and len(_charts(at)) == 6 + histories + 1 + 1 + 1


def test_evaluation_page_offers_only_models_that_are_there():
    """Experiments kept without their model (models/experiments) are not offered."""
    at = _evaluation_page()
    names = at.selectbox(key="model-0").options
    assert "ecgnet" in names and "aami/ecgnet" in names
    assert not any("experiments" in n or "natural" in n for n in names), names


def test_evaluation_page_names_the_test_images_of_each_artifact():
    at = _evaluation_page()
    captions = " ".join(c.value for c in at.caption)
    assert "random styles, as the models were trained" in captions  # the default left side
    data = at.selectbox(key="data-0")
    assert data.options[0] == "varied styles (as trained)", data.options
    assert "matplotlib, shared-dataset look" in data.options, data.options
    data.set_value("beats-matplotlib")
    at.run()
    assert not at.exception and not at.error
    assert any("drawn by another tool, matplotlib" in c.value for c in at.caption)
    # the 18 held-out QT records are described as such, not as the whole QT Database (the
    # right side shows a model without QT figures, so that the captions are the left side's)
    at.selectbox(key="model-1").set_value("baseline")
    at.run()
    at.selectbox(key="model-0").set_value("aami/ecgnet")
    at.run()
    at.selectbox(key="protocol-0").set_value("cross-database")
    at.run()
    at.selectbox(key="data-0").set_value("qtdb-held-out")
    at.run()
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "18 QT Database records that no model ever trains" in captions
    assert "54 annotated QT Database records" not in captions


def test_evaluation_page_opens_another_model_on_its_default_protocol():
    """A menu keeps its position when its options change; the Evaluation page forgets a side's
    protocol and test images when its model changes, so the new model opens on its default
    (the record split for `record/ecgnet`, which also has QT Database figures), not on
    whatever protocol stood at the same place."""
    at = _evaluation_page()
    assert at.selectbox(key="protocol-1").value == "record"
    at.selectbox(key="protocol-0").set_value("cross-database")
    at.run()
    assert at.selectbox(key="data-0").value == "qtdb"
    at.selectbox(key="model-0").set_value("aami/ecgnet")  # its protocols: aami, cross-database
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="protocol-0").value == "aami"
    assert at.selectbox(key="data-0").value == "aami-bp-leads"


def test_evaluation_page_aami_side_shows_published_figures():
    at = _evaluation_page()
    at.selectbox(key="model-1").set_value("aami/ecgnet")
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="protocol-1").value == "aami"
    assert any("Against the published figures" in m.value for m in at.markdown)
    # two per-class tables, the published comparison, the robustness tab's two tables, and a
    # by-record table where an artifact has one (the AAMI test split's 22 DS2 records)
    by_record = [e for e in at.expander if e.label.startswith("By record")]
    assert len(at.dataframe) == 5 + len(by_record)
    assert any(e.label.startswith("By record: the 22 records") for e in by_record)
    tables = [d.value for d in at.dataframe]
    records = next(t for t in tables if "record" in t.columns and "errors" in t.columns
                   and "S" in t.columns)
    assert len(records) == 22 and records["record"].str.startswith("mitdb/").all()
    assert list(records["errors"]) == sorted(records["errors"], reverse=True)
    assert {"N", "S", "V"} <= set(records.columns)
    published = next(t for t in tables if "source" in t.columns)
    assert (published == "–").any().any()  # a dash where a paper is silent, never None
    card = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
    guard = (card.get("ensemble") or {}).get("guard")
    if guard:  # what each of its networks decides, in place of one training history
        n = len(card["ensemble"]["members"])
        assert any(f"joins {n} networks ({guard['members']} give the probability of "
                   f"{guard['class']}" in c.value for c in at.caption)
    assert not published.isna().any().any()
    # and with its figures without its readings of whole records, where it has them
    card = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
    if card.get("af_fold"):
        assert published["source"].str.startswith(
            "aami/ecgnet without the atrial-fibrillation").sum() == 1
        assert any("never on DS2" in c.value for c in at.caption)
    if (card.get("dominant_qrs") or {}).get("cluster"):
        assert published["source"].str.startswith(
            "aami/ecgnet without the V-cluster and").sum() == 1
    if (((card.get("dominant_qrs") or {}).get("cluster") or {}).get("two_leads")
            or {}).get("test_without"):
        assert (published["source"]
                == "aami/ecgnet without the V-cluster reading's second lead").sum() == 1
        assert any("the V cluster compared on both leads" in c.value for c in at.caption)
    if (card.get("premature_s") or {}).get("test_without"):
        assert (published["source"]
                == "aami/ecgnet without the premature-beat reading").sum() == 1
        assert any("comes early in a regular rhythm" in c.value for c in at.caption)
    if card.get("v_template"):
        assert (published["source"] == "aami/ecgnet without the V-template reading").sum() == 1
    if (card.get("v_template") or {}).get("two_leads"):
        assert (published["source"]
                == "aami/ecgnet without the V-template reading's second lead").sum() == 1
    if ((card.get("v_template") or {}).get("skip_noisy") or {}).get("test_without"):
        assert (published["source"]
                == "aami/ecgnet without the V-template reading's noise guard").sum() == 1
    if ((card.get("dominant_qrs") or {}).get("two_leads") or {}).get("test_without"):
        assert (published["source"]
                == "aami/ecgnet without the last check of V calls on both leads").sum() == 1
    if (card.get("qrs_alignment") or {}).get("test_without"):
        assert (published["source"] == "aami/ecgnet without the alignment of each QRS before "
                "comparing it").sum() == 1
        assert any("each QRS aligned to the typical QRS" in c.value for c in at.caption)
        assert any("matches a template of the record's V calls" in c.value
                   for c in at.caption)
    # side by side with the model it replaced, where the card names one
    if card.get("replaces"):
        replaced = published[published["source"].str.startswith("the model it replaced")]
        assert len(replaced) == 1
        assert replaced["accuracy"].iloc[0] == f"{100 * card['replaces']['test']['accuracy']:.1f}%"


def test_record_table_puts_the_records_with_most_errors_first():
    from pages.charts import record_table

    by_record = [
        {"record": "mitdb/100", "beats": 10, "errors": 1, "accuracy": 0.9,
         "per_class": {"N": {"beats": 10, "found": 9, "called": 9},
                       "V": {"beats": 0, "found": 0, "called": 1}}},
        {"record": "mitdb/208", "beats": 20, "errors": 5, "accuracy": 0.75,
         "per_class": {"N": {"beats": 12, "found": 10, "called": 13},
                       "V": {"beats": 8, "found": 5, "called": 7}}}]
    table = record_table(by_record, ["N", "S", "V"])
    assert list(table["record"]) == ["mitdb/208", "mitdb/100"]
    worst = table.iloc[0]
    assert worst["accuracy"] == "75.0%" and worst["S"] == ""
    assert worst["N"] == "10/12, 3 false" and worst["V"] == "5/8, 2 false"
    assert table.iloc[1]["V"] == "-, 1 false" and table.iloc[1]["N"] == "9/10"


def test_per_class_table_shows_a_dash_for_undefined_figures():
    from pages.charts import MISSING, per_class_table

    per_class = {"N": {"support": 10, "sensitivity": 0.9, "precision": 1.0, "f1": 0.947,
                       "specificity": 1.0, "auc": 0.99},
                 "F": {"support": 0, "sensitivity": 0.0, "precision": 0.0, "f1": 0.0,
                       "specificity": 0.9, "auc": None}}
    table = per_class_table(per_class, confusion=[[9, 1], [0, 0]])
    f = table[table["class"] == "F"].iloc[0]
    assert f["Se"] == f["F1"] == f["AUC"] == MISSING and f["+P"] == "0.0%"
    n = table[table["class"] == "N"].iloc[0]
    assert n["Se"] == "90.0%" and n["+P"] == "100.0%" and n["AUC"] == "0.990"
    # a class with beats that is never predicted: Se 0, +P undefined
    never = per_class_table({"N": per_class["N"], "F": {**per_class["F"], "support": 3}},
                            confusion=[[10, 0], [3, 0]])
    assert never.iloc[1]["Se"] == "0.0%" and never.iloc[1]["+P"] == MISSING


def test_evaluation_page_evaluates_an_uploaded_zip_and_refuses_a_bad_one():
    from tests.badfiles import zip_with_members

    members = {f"set/{folder}/{p.name}": p.read_bytes()
               for code, folder in (("NOR", "Normal"), ("PVC", "Premature Ventricular "
                                                        "Contractions"), ("PAB", "Paced"))
               for p in sorted((EXAMPLES / code).glob("*.png"))}
    at = _evaluation_page()
    at.file_uploader(key="zip").set_value([("set.zip", zip_with_members(members),
                                            "application/zip")])
    at.run()
    assert not at.exception and not at.error
    mapping = {s.label: s.value for s in at.selectbox if s.key and s.key.startswith("map-")}
    assert mapping == {"Normal (3 images)": "NOR", "Paced (3 images)": "PAB",
                       "Premature Ventricular Contractions (3 images)": "PVC"}
    before = len(_charts(at))
    at.button[0].click()
    at.run()
    assert not at.exception and not at.error
    # the upload's confusion matrix, ROC curves and reliability diagram
    assert len(_charts(at)) == before + 3
    # a hostile zip gets a message, and the page keeps working
    at.file_uploader(key="zip").set_value([("evil.zip", zip_with_members(
        {"../../etc/x.png": b"x"}), "application/zip")])
    at.run()
    assert not at.exception
    assert "outside the archive" in at.error[0].value


def _explainer_page():
    return _page("pages/explainer.py")


def test_explainer_page_with_the_default_example():
    at = _explainer_page()
    assert not at.exception and not at.error
    assert "Not a medical device" in at.warning[0].value
    # pixels, convolution, window diagram, pooling, feature maps, Grad-CAM
    assert len(_charts(at)) == 6
    text = " ".join(m.value for m in at.markdown)
    assert "Sum of products" in text and "Grad-CAM" in text
    # a stride that does not tile the input is flagged
    inputs = {n.label: n for n in at.number_input}
    inputs["W (input)"].set_value(8)
    at.run()
    assert any("do not tile" in w.value for w in at.warning)
    # another kernel and layer still render
    kernel = next(s for s in at.selectbox if s.label == "Kernel")
    kernel.set_value("Laplacian")
    at.run()
    assert not at.exception


def test_explainer_page_with_an_upload_and_a_bad_upload():
    at = _explainer_page()
    png = sorted((EXAMPLES / "LBB").glob("*.png"))[0].read_bytes()
    at.file_uploader(key="explain_up").set_value([("mine.png", png, "image/png")])
    at.run()
    assert not at.exception and not at.error
    assert any("mine.png" in m.value for m in at.markdown)
    at.file_uploader(key="explain_up").set_value([("bad.png", b"not an image", "image/png")])
    at.run()
    assert not at.exception
    assert "bad.png" in at.error[0].value


def _record_page():
    return _page("pages/record.py")


def _upload_wfdb(at, folder, name, suffixes=(".hea", ".dat", ".atr")):
    """Upload record ``name``'s WFDB files from ``folder`` on the Record page, and run it."""
    at.radio[0].set_value("WFDB record (.hea + .dat [+ .atr], or a zip)")
    at.run()
    at.file_uploader(key="wfdb_up").set_value(
        [(f"{name}{e}", (Path(folder) / f"{name}{e}").read_bytes(), "application/octet-stream")
         for e in suffixes])
    at.run()


def _show_beat(at, number: int) -> None:
    """Choose beat ``number`` (1-based) under the Record page's strip and rerun the page,
    which must serve it without an exception."""
    at.number_input(key="beat_no").set_value(number)
    at.run()
    assert not at.exception


def _aami_record_page(folder: Path, name: str, what: str):
    """The Record page with `aami/ecgnet` on record ``name`` of ``folder`` (a database beside
    the checkout, uploaded with its annotations), read without an exception or error; the
    test is skipped where the record is not there (``what`` names it)."""
    if not (folder / f"{name}.hea").is_file():
        pytest.skip(f"{what} record {name} is not beside the checkout")
    at = _record_page()
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    _upload_wfdb(at, folder, name)
    assert not at.exception and not at.error
    return at


def _aami_result(folder: Path, name: str, other_lead: bool = False):
    """``classify_record`` of record ``name`` of ``folder`` (reference beats) by the committed
    `aami/ecgnet`, as the Record page reads it."""
    from ecg_core.analysis import classify_record
    from ecg_core.model import Classifier
    from ecg_core.records import read_record

    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    return classify_record(read_record(folder / name, annotator="atr", other_lead=other_lead),
                           clf)


def test_record_page_with_a_wfdb_upload_and_annotations():
    at = _record_page()
    assert not at.exception and not at.error
    _upload_wfdb(at, EXCERPT_MITDB, "208")
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["beats"].replace(",", "")) > 450 and "bpm" in metrics["mean heart rate"]
    assert "class agreement (accuracy)" in metrics  # agreement with the reference annotations
    # strip, one beat's probabilities, agreement confusion matrix
    assert len(_charts(at)) == 3
    assert {b.label for b in at.get("download_button")} == {
        "Per-beat CSV", "Strip (interactive HTML)", "Report (one page, HTML)"}
    # beats are numbered from 1; choosing one moves the strip to it and rings it
    assert at.number_input(key="beat_no").value == 1
    assert any(m.value.startswith("Beat 1 of") for m in at.markdown)
    _show_beat(at, 300)
    strip = _charts(at)[0]
    import json

    spec = json.loads(strip.proto.spec)
    t300 = [tr for tr in spec["data"] if tr.get("name") == "beat 300"][0]["x"][0]
    lo, hi = spec["layout"]["xaxis"]["range"]
    assert lo < t300 < hi and hi - lo == 10 and t300 > 100
    # a fusion beat (F) says what it is and that it is not one of the model's classes
    captions = " ".join(c.value for c in at.caption)
    assert "fusion of ventricular and normal beat; not a class of this model" in captions
    assert any("lead MLII" in c.value for c in at.caption)
    mlii = at.session_state["record"][1]
    before = [k for k in at.session_state if str(k).startswith("result-")]
    # another lead, from the record's own channels: read again, classified again, with a word
    lead = next(sb for sb in at.selectbox if sb.label == "Lead")
    assert lead.options == ["MLII", "V1"]
    lead.set_value("V1")
    at.run()
    assert not at.exception and not at.error
    assert any("lead V1" in c.value for c in at.caption)
    assert any("not MLII" in w.value for w in at.warning)
    v1 = at.session_state["record"][1]
    assert v1.lead == "V1" and not (v1.signal == mlii.signal).all()
    after = [k for k in at.session_state if str(k).startswith("result-")]
    assert len(before) == len(after) == 1 and before != after  # a new result, the old dropped


def test_record_page_xqrs_with_reference_matches_beats_and_normalises():
    """Detected beats of an uploaded record with its .atr are matched to the reference."""
    at = _record_page()
    _upload_wfdb(at, EXCERPT_MITDB, "100")
    at.checkbox[0].set_value(False)  # detected beats instead of the annotation file
    at.run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["detection Se"].rstrip("%")) > 99
    assert float(metrics["detection +P"].rstrip("%")) > 99
    assert float(metrics["class agreement (accuracy)"].rstrip("%")) > 90
    at.toggle(key="agree_norm").set_value(True)
    at.run()
    assert not at.exception
    # the two-lead vote reads the upload's second lead, and the page says so
    next(s for s in at.selectbox if s.label == "QRS detector").set_value("two-lead-vote")
    at.run()
    assert not at.exception and not at.error
    assert any("Two-lead vote (XQRS, SleepECG, Elgendi) on MLII and V5" in c.value
               for c in at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["detection Se"].rstrip("%")) > 99


def test_record_page_offers_bundled_examples_at_once():
    at = _record_page()
    assert not at.exception and not at.error
    examples = at.selectbox[1] if at.selectbox[0].label == "Model" else at.selectbox[0]
    assert len(examples.options) == 5
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["beats"].replace(",", "")) > 450  # the default example, 208
    # 208's RR intervals are irregular for most of the excerpt: the summary says what that
    # means for the supraventricular calls
    assert any(w.value.startswith("The RR intervals are irregularly irregular")
               for w in at.warning), [w.value[:60] for w in at.warning]
    examples.set_value("cu09")
    at.run()
    assert not at.exception and not at.error
    assert any("250 Hz -> 360 Hz" in c.value for c in at.caption)
    # ventricular fibrillation: no recurring beat shape, and the page says what that means
    assert any(w.value.startswith("Around") and "no recurring shape" in w.value
               for w in at.warning), [w.value[:60] for w in at.warning]
    assert any("Amber bands: the signal reads noisy there" in c.value for c in at.caption)
    assert any("estimated SNR" in m.value for m in at.markdown)  # the chosen beat's
    next(sb for sb in at.selectbox if sb.label == "Example").set_value("100")
    at.run()
    assert not at.exception and not at.error
    assert any("Record **100**" in c.value for c in at.caption)
    assert not any("irregularly irregular" in w.value for w in at.warning)  # sinus rhythm
    assert not any("no recurring shape" in w.value for w in at.warning)  # a clean signal
    assert not any("Amber bands" in c.value for c in at.caption)


SIGNAL_FILE = "Signal file (EDF/BDF, DICOM, HL7 aECG, SCP-ECG, Holter, watch exports, CSV/TXT)"


def test_record_page_reads_edf_with_a_lead_menu_and_an_apple_watch_export():
    from tests.conftest import EXCERPTS

    at = _record_page()
    at.radio[0].set_value(SIGNAL_FILE)
    at.run()
    data = (EXCERPTS / "formats" / "208_12lead.edf").read_bytes()
    at.file_uploader(key="csv_up").set_value([("208_12lead.edf", data, "application/octet")])
    at.run()
    assert not at.exception and not at.error
    lead = [s for s in at.selectbox if s.label == "Lead"][0]
    assert lead.options == ["I", "II", "III"] and lead.value == "II"  # 12-lead: lead II
    assert any("is not MLII" in w.value for w in at.warning)
    lead.set_value("I")
    at.run()
    assert not at.exception and not at.error
    assert any("lead I," in c.value for c in at.caption)
    apple = (EXCERPTS / "formats" / "208_apple.csv").read_bytes()
    at.file_uploader(key="csv_up").set_value([("ecg_2026.csv", apple, "text/csv")])
    at.run()
    assert not at.exception and not at.error
    assert any("512 Hz -> 360 Hz" in c.value for c in at.caption)
    truncated = data[: len(data) // 2]
    at.file_uploader(key="csv_up").set_value([("cut.edf", truncated, "application/octet")])
    at.run()
    assert not at.exception and "not a readable EDF" in at.error[0].value


def test_record_page_shows_a_long_record_as_an_overview_and_a_window(tmp_path):
    """A record over an hour (the 5-minute excerpts of 100 and 232 repeated to 70 minutes,
    one lead) gets the overview chart, and the strip draws a window, not the whole."""
    import wfdb

    from ecg_core.records import read_record

    parts = [read_record(EXCERPT_MITDB / r, annotator=None).signal for r in ("100", "232")]
    signal = np.tile(np.concatenate(parts), 7)  # 7 x 10 min
    wfdb.wrsamp("long", fs=360, units=["mV"], sig_name=["MLII"], p_signal=signal[:, None],
                fmt=["16"], write_dir=str(tmp_path))
    at = _record_page()
    _upload_wfdb(at, tmp_path, "long", (".hea", ".dat"))
    assert not at.exception and not at.error
    assert any("Over the whole record" in h.value for h in at.subheader)
    charts = _charts(at)
    assert len(charts) == 3  # overview, strip, the chosen beat
    import json

    x = json.loads(charts[1].proto.spec)["data"][0]["x"]
    if isinstance(x, dict):  # Plotly's binary form of a numpy array
        import base64

        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
    assert 299.0 <= x[-1] - x[0] <= 301.0  # five minutes around the chosen beat, not 70


def test_record_page_reads_dicom_hl7_aecg_scp_and_kardia_files():
    """Each hospital or device format, uploaded as a user would (under its usual name), is
    read, offers its leads and is classified; a broken one gets one message."""
    from tests.conftest import EXCERPTS

    at = _record_page()
    at.radio[0].set_value(SIGNAL_FILE)
    at.run()
    for name, lead in (("208.dcm", "II"), ("208_aecg.xml", "II"), ("208.scp", "II"),
                       ("208_kardia.json", "I")):
        data = (EXCERPTS / "formats" / name).read_bytes()
        at.file_uploader(key="csv_up").set_value([(name, data, "application/octet")])
        at.run()
        assert not at.exception and not at.error, name
        assert any(f"lead {lead}," in c.value for c in at.caption), name
        metrics = {m.label: m.value for m in at.metric}
        assert int(metrics["beats"].replace(",", "")) > 20, name
    data = (EXCERPTS / "formats" / "208.scp").read_bytes()
    at.file_uploader(key="csv_up").set_value([("208.scp", data[: len(data) // 2], "x/y")])
    at.run()
    assert not at.exception and "not a readable SCP-ECG file" in at.error[0].value
    assert "/tmp" not in at.error[0].value


def test_record_page_csv_upload_of_a_real_signal():
    at = _record_page()
    at.radio[0].set_value(SIGNAL_FILE)
    at.run()
    from ecg_core.records import read_record

    signal = read_record(EXCERPT_MITDB / "100", annotator=None).signal[:360 * 30]
    csv_text = "mv\n" + "\n".join(f"{v:.4f}" for v in signal)  # one column, fs stated
    at.file_uploader(key="csv_up").set_value([("rec100.csv", csv_text.encode(), "text/csv")])
    at.run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert 65 <= int(metrics["mean heart rate"].split()[0]) <= 85  # record 100: about 75 bpm
    assert len(_charts(at)) == 2  # strip and one beat; no reference, so no agreement


def test_record_page_bad_inputs_get_messages():
    at = _record_page()
    at.radio[0].set_value(SIGNAL_FILE)
    at.run()
    for bad, message in ((b"1\n2\nthree\n", "text where a number"),
                         (b"0.5\n" * 5000, "flat line"),
                         (b"0.1\n0.2\n", "long"),
                         (b"\x89PNG\r\n\x1a\n\x00\x00", "not text")):
        at.file_uploader(key="csv_up").set_value([("bad.csv", bad, "text/csv")])
        at.run()
        assert not at.exception
        assert message in at.error[0].value
    at.radio[0].set_value("WFDB record (.hea + .dat [+ .atr], or a zip)")
    at.run()
    at.file_uploader(key="wfdb_up").set_value([("x.dat", b"\x00" * 100, "application/x")])
    at.run()
    assert not at.exception and "header" in at.error[0].value


def test_predict_page_warns_on_a_photo_of_paper():
    from tests.test_rendering import _photo_of_paper
    from ecg_core.records import read_record

    rec = read_record(EXCERPT_MITDB / "100")
    photo = _photo_of_paper(rec.signal[3600 - 180:3600 + 180], np.random.default_rng(3),
                            grey=True)
    at = _predict_page()
    at.file_uploader[0].set_value([("photo.jpg", photo, "image/jpeg")])
    at.run()
    assert not at.exception
    assert any("not one clean trace" in w.value for w in at.warning)


def test_explainer_upload_replaces_the_example_visibly_and_relu_is_shown_only_when_on():
    at = _page("pages/explainer.py")
    assert not at.exception
    assert not any("after ReLU" in m.value for m in at.markdown)
    at.checkbox[0].set_value(True)
    at.run()
    assert any("after ReLU" in m.value for m in at.markdown)
    good = sorted((EXAMPLES / "NOR").glob("*.png"))[0]
    at.file_uploader(key="explain_up").set_value([(good.name, good.read_bytes(), "image/png")])
    at.run()
    assert not at.exception and not at.error
    example = next(sb for sb in at.selectbox if sb.label == "Example beat")
    assert example.disabled and any("Showing your upload" in i.value for i in at.info)
    headers = [list(d.value.columns) for d in at.dataframe]
    assert any("output (height x width x channels)" in h for h in headers)
    assert not any("formula_ok" in h or "non_trainable" in h for h in headers)


def test_predict_page_with_the_hostile_corpus_keeps_serving():
    from tests.badfiles import corpus

    files = corpus(sorted((EXAMPLES / "PVC").glob("*.png"))[0].read_bytes())
    at = _predict_page()
    at.file_uploader[0].set_value([(n.split("/")[1], d, "image/png") for n, d in files.items()])
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    for name in files:
        if name.startswith("refuse/"):
            assert name.split("/")[1] in errors, name
    assert len(_charts(at)) == 4  # the four valid images in unusual modes are classified
    results = [s.value for s in at.subheader if s.value != "All images"]
    assert len(results) == 4 and all("**PVC**" in v for v in results)


def test_truncated_model_file_shows_what_to_do_on_every_page(monkeypatch, tmp_path):
    import shutil

    bad = tmp_path / "broken.keras"
    bad.write_bytes((ROOT / "models" / "ecgnet.keras").read_bytes()[:4000])
    shutil.copy(ROOT / "models" / "ecgnet.card.json", tmp_path / "broken.card.json")
    monkeypatch.setenv("ECG_MODEL_PATH", str(bad))
    for page in ("pages/predict.py", "pages/record.py", "pages/explainer.py"):
        at = _page(page)
        assert not at.exception, page
        assert "could not be loaded" in at.error[0].value, page


def test_the_aami_seed_ensemble_on_home_and_explainer():
    """The AAMI model averages several networks: Home says so, and the Explainer shows the
    layers and feature maps of the first of them, and Grad-CAM of the networks behind the
    explained class, and says so."""
    card = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
    members = (card.get("ensemble") or {}).get("members") or []
    if len(members) < 2:
        pytest.skip("the committed aami/ecgnet is a single network")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    guard = card["ensemble"].get("guard")
    if guard:  # one class decided by some of the networks: Home names which, by seed
        assert f"{len(members)} networks of one design" in text
        for m in members:
            assert str(m["seed"]) in text
        assert f"give the probability of {guard['class']}" in text
        said = f"{guard['members']} give the probability of {guard['class']}"
    else:
        assert f"{len(members)} networks of one recipe" in text
        said = f"averages the probabilities of {len(members)} networks"
    # and how it reads whole records, from its card
    assert ("**Reading a record**" in text) == bool(card.get("dominant_qrs"))
    assert ("share the typical QRS as a group" in text) == bool(
        (card.get("dominant_qrs") or {}).get("cluster"))
    assert ("**Atrial fibrillation**" in text) == bool(card.get("af_fold"))
    assert ("**Ventricular template**" in text) == bool(card.get("v_template"))
    if card.get("v_template"):  # its bounds as the card gives them
        assert f"wider by {card['v_template']['min_width_gain_ms']:g} ms" in text
        assert ("alike V calls" in text) == (card["v_template"].get("group_cut") is not None)
        assert ("on both leads side by side" in text) == bool(card["v_template"].get("two_leads"))
    assert ("first aligned to the record's typical QRS" in text) == bool(
        (card.get("qrs_alignment") or {}).get("max_shift_ms"))
    assert ("neither make a template nor are read V by one" in text) == bool(
        (card.get("v_template") or {}).get("skip_noisy"))
    assert ("**Last check on both leads**" in text) == bool(
        (card.get("dominant_qrs") or {}).get("two_leads"))
    assert ("**Premature beats**" in text) == bool(card.get("premature_s"))
    if card.get("premature_s"):  # its bounds as the card gives them
        assert f"under {card['premature_s']['max_before']:g} of the median" in text
    at.switch_page("pages/explainer.py")
    at.run()
    assert not at.exception and not at.error
    # the model chosen on one page is the one the next page opens on
    assert at.sidebar.selectbox(key="model_choice").value == "aami/ecgnet"
    assert any(said in c.value and "layers and feature maps shown are those of the first"
               in c.value for c in at.caption)
    text = " ".join(m.value for m in at.markdown)
    assert "here the mean of the maps of the 4 networks" in text or not guard
    assert len(_charts(at)) == 6  # pixels ... feature maps, Grad-CAM
    # and each network's map behind the explained class, with how alike they are
    behind = 4 if guard else len(members)
    assert any(f"Each of the {behind} networks' maps" in e.label for e in at.expander)
    captions = [m.caption for i in at.get("image") for m in i.proto.imgs]
    assert [c for c in captions if c.startswith("network ")] == [
        f"network {i + 1}" for i in range(behind)]
    assert any("mean correlation between pairs" in c.value for c in at.caption)


def _home_with_card(monkeypatch, tmp_path, card: dict):
    """Home, run on the committed ecgnet served from tmp_path under another card."""
    import shutil

    for suffix in (".keras", ".tflite"):
        shutil.copy(ROOT / "models" / f"ecgnet{suffix}", tmp_path / f"ecgnet{suffix}")
    (tmp_path / "ecgnet.card.json").write_text(json.dumps(card))
    monkeypatch.setenv("ECG_MODEL_PATH", str(tmp_path / "ecgnet.keras"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    return at


def test_home_describes_each_member_of_a_mixed_ensemble(monkeypatch, tmp_path):
    """An ensemble may average networks trained differently (one fine-tuned, others from
    random weights) and of different designs (``ensemble`` joins them): Home gives each one's
    design, start, epochs and learning rate, read from the card. The committed network is
    served from a folder whose card describes it as such an ensemble."""
    card = json.loads((ROOT / "models" / "ecgnet.card.json").read_text())
    members = [
        {"seed": 11, "architecture": "ecgnet",
         "training": {"epochs_run": 6, "learning_rate": 0.0005, "schedule": "cosine",
                      "initialised_from": "models/ecgnet.keras"}},
        {"seed": 12, "architecture": "ecgnet",
         "training": {"epochs_run": 10, "learning_rate": 0.001, "schedule": "cosine",
                      "initialised_from": None}},
        {"seed": 13, "architecture": "ecgnet-wide",
         "training": {"epochs_run": 9, "learning_rate": 0.001, "schedule": "cosine",
                      "initialised_from": None}}]
    card["ensemble"] = {"method": "mean", "members": members}
    at = _home_with_card(monkeypatch, tmp_path, card)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "3 networks of 2 of `ecgnet` and 1 of `ecgnet-wide`" in text
    for m in members:
        start = "fine-tuned" if m["training"]["initialised_from"] else "from random weights"
        assert f"{m['architecture']}, seed {m['seed']} {start}" in text
        assert f"{m['training']['epochs_run']} epochs" in text


def test_home_says_what_each_network_of_an_ensemble_reads(monkeypatch, tmp_path):
    """An ensemble whose networks read different rhythm contexts (as ``record/ecgnet``: two
    seeds reading the local RR intervals, one the record's own rhythm too): Home says so,
    not "one recipe"."""
    card = json.loads((ROOT / "models" / "ecgnet.card.json").read_text())
    card["ensemble"] = {"method": "mean", "members": [
        {"seed": 1, "rhythm_context": "local"}, {"seed": 2, "rhythm_context": "local"},
        {"seed": 1, "rhythm_context": "record"}]}
    at = _home_with_card(monkeypatch, tmp_path, card)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert ("the model averages 3 networks of one design trained on the same images: 2 that "
            "read the local RR intervals alone, 1 that read each beat's RR intervals against "
            "the patient's own rhythm") in text
    assert "(seeds 1, 2, 1)" in text and "networks of one recipe" not in text


def test_home_tells_how_the_starting_weights_of_a_fine_tuned_model_were_trained(monkeypatch,
                                                                                tmp_path):
    """A network trained on from an earlier one's weights: Home gives both runs, the earlier
    one's epochs and start as its card recorded them, not only the last run's epochs."""
    card = json.loads((ROOT / "models" / "ecgnet.card.json").read_text())
    card.pop("ensemble", None)
    card["training"].update({"epochs_run": 7, "best_epoch": 6, "initialised_from": {
        "file": "models/ecgnet.keras", "sha256": "0" * 64, "created": "2026-01-02T03:04:05",
        "training": {"epochs_run": 13, "best_epoch": 12, "learning_rate": 0.001,
                     "schedule": "cosine", "initialised_from": None}}})
    at = _home_with_card(monkeypatch, tmp_path, card)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**Training**: 7 epochs (the weights of epoch 6" in text
    assert ("earlier model of the same design (created 2026-01-02T03:04:05, trained 13 epochs "
            "from random weights, cosine learning rate from 0.001)") in text


def test_home_tells_every_earlier_run_of_a_model_trained_on_twice(monkeypatch, tmp_path):
    """A network trained on from weights that were themselves trained on from earlier ones:
    Home gives the runs back to the random start, as the card's chain records them."""
    card = json.loads((ROOT / "models" / "ecgnet.card.json").read_text())
    card.pop("ensemble", None)
    card["training"].update({"epochs_run": 5, "best_epoch": 4, "initialised_from": {
        "file": "models/ecgnet.keras", "sha256": "0" * 64, "created": "2026-01-02T03:04:05",
        "training": {"epochs_run": 8, "best_epoch": 8, "learning_rate": 0.0004,
                     "schedule": "cosine", "initialised_from": "models/ecgnet.keras",
                     "earlier": {"epochs_run": 11, "best_epoch": 9, "learning_rate": 0.001,
                                 "schedule": "cosine", "initialised_from": None}}}})
    at = _home_with_card(monkeypatch, tmp_path, card)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**Training**: 5 epochs (the weights of epoch 4" in text
    assert ("(created 2026-01-02T03:04:05, trained 8 epochs, cosine learning rate from 0.0004; "
            "that from the weights of one trained 11 epochs from random weights, cosine "
            "learning rate from 0.001)") in text


def test_home_counts_the_beats_of_the_models_own_split():
    """A model trained with patients kept apart (AAMI DS1 -> DS2) is tested on DS2, not on the
    build's random partition: Home's table gives its validation and test beats per class, and
    the test column adds up to the card's test figures."""
    card = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.selectbox[0].set_value("aami/ecgnet")
    at.run()
    assert not at.exception
    table = next(m.value for m in at.markdown if m.value.startswith("| class |"))
    header, _, *rows = table.splitlines()
    assert [h.strip() for h in header.strip("|").split("|")] == [
        "class", "validation", "test", "test Se", "test +P"]
    test_beats = {r.split("|")[1].strip(" *"): int(r.split("|")[3].replace(",", ""))
                  for r in rows}
    assert test_beats == {c: pc["support"] for c, pc in card["test"]["per_class"].items()}
    assert sum(test_beats.values()) == card["test"]["n"]


def test_record_page_with_the_aami_model_compares_each_beat_with_the_typical_qrs():
    """With `aami/ecgnet` the chosen beat's line gives its QRS similarity to the record's
    typical QRS (the dominant-QRS reading), and what the reading changed is an information,
    not a warning."""
    at = _record_page()
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    at.run()
    assert not at.exception and not at.error
    assert any("QRS similarity to the record's typical QRS" in m.value for m in at.markdown)
    assert any("P-wave consistency around it" in m.value for m in at.markdown)
    assert not any("QRS complex shaped like this record's typical" in w.value
                   for w in at.warning)
    # the chosen beat's QRS drawn over the typical one
    chart = next(c for c in at.get("plotly_chart") if "QRS similarity" in c.proto.spec)
    assert "record's typical QRS" in chart.proto.spec and "this beat" in chart.proto.spec
    assert any("sends a V reading to the next most likely class" in c.value for c in at.caption)
    # a model without the reading draws no such chart
    at.sidebar.selectbox(key="model_choice").set_value("ecgnet")
    at.run()
    assert not at.exception
    assert not any("QRS similarity" in c.proto.spec for c in at.get("plotly_chart"))


def test_record_page_says_how_a_beat_split_model_reads_new_patients():
    """With the default `ecgnet` (beat split) the Record page says that its test figures do
    not cover a new person, gives its figures on the QT Database from its evaluation artifact,
    and names the model that reads those patients best; a model trained with patients apart
    gets no such note."""
    from ecg_core.evaluation import new_patient_figures

    own = new_patient_figures(ROOT / "models" / "ecgnet.keras")
    aami = new_patient_figures(ROOT / "models" / "aami" / "ecgnet.keras")
    assert own and aami and aami["normal_se"] > own["normal_se"]
    at = _record_page()
    assert not at.exception and not at.error
    notes = [i.value for i in at.info if "(beat split)" in i.value]
    assert len(notes) == 1, [i.value[:60] for i in at.info]
    assert f"{own['normal_se']:.1%} of the normal beats" in notes[0]
    assert f"`aami/ecgnet` read {aami['normal_se']:.1%}" in notes[0]
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    at.run()
    assert not at.exception
    assert not any("(beat split)" in i.value for i in at.info)


def test_record_page_gives_each_class_count_its_se_and_ppv_on_new_patients():
    """The Record page's class counts carry the chosen model's Se and +P on patients it never
    saw, from its first new-patient artifact (aami/ecgnet: DS2), and say where they come from;
    a class the artifact has no beats of shows a dash."""
    from ecg_core.evaluation import new_patient_tables

    at = _record_page()
    at.sidebar.selectbox(key="model_choice").set_value("aami/ecgnet")
    at.run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "Se on new patients" in d.value.columns)
    figures = new_patient_tables(ROOT / "models" / "aami" / "ecgnet.keras")[0]["figures"]
    rows = {r["class"]: r for r in table.to_dict("records")}
    assert rows["S"]["Se on new patients"] == f"{figures['S']['sensitivity']:.0%}"
    assert rows["V"]["+P on new patients"] == f"{figures['V']['precision']:.0%}"
    assert any("patients it never saw (AAMI DS2)" in c.value for c in at.caption)
    # the default ecgnet: the QT Database has NOR and PVC beats only
    at.sidebar.selectbox(key="model_choice").set_value("ecgnet")
    at.run()
    table = next(d.value for d in at.dataframe if "Se on new patients" in d.value.columns)
    rows = {r["class"]: r for r in table.to_dict("records")}
    assert rows["PVC"]["+P on new patients"] != "–" and rows["APC"]["Se on new patients"] == "–"
    assert any("patients it never saw (the QT Database)" in c.value for c in at.caption)


def test_record_page_says_when_the_network_reads_each_beat_on_both_leads():
    """`record/ecgnet` reads every beat of the default example (208: MLII and V1) on both
    leads, and the summary says so; the chosen beat is shown on both, with Grad-CAM (of the
    four networks) on both;
    `ecgnet` reads one."""
    at = _record_page()
    at.sidebar.selectbox(key="model_choice").set_value("record/ecgnet")
    at.run()
    assert not at.exception and not at.error
    assert any("read every beat on lead MLII and on lead V1" in c.value for c in at.caption)
    # the chosen beat as the network read it on each lead
    captions = [m.caption for i in at.get("image") for m in i.proto.imgs]
    assert "as the model sees it" in captions
    assert "on V1, as the network also read it" in captions
    # Grad-CAM on both, of the whole model, each network given the beat's own RR context
    at.toggle(key="record_cam").set_value(True)
    at.run()
    assert not at.exception and not at.error
    said = [c.value for c in at.caption if "its Grad-CAM is the mean of the maps" in c.value]
    assert said and not any("layers and feature maps" in c for c in said)
    captions = [m.caption for i in at.get("image") for m in i.proto.imgs]
    assert "on V1, as the network also read it, with Grad-CAM (red)" in captions
    at.sidebar.selectbox(key="model_choice").set_value("ecgnet")
    at.run()
    assert not at.exception
    assert not any("read every beat on lead" in c.value for c in at.caption)
    assert not any("also read it" in m.caption for i in at.get("image") for m in i.proto.imgs)


def test_record_page_says_where_the_aami_model_rereads_v_calls_as_a_group():
    """QT Database sel308 through `aami/ecgnet`: a few hundred noisier normal beats read V
    together are read again, and the page says so; its 14 ventricular beats stay V."""
    folder = SHARED / "qtdb"
    at = _aami_record_page(folder, "sel308", "QT Database")
    note = next(i.value for i in at.info if "share that shape as a group" in i.value)
    assert int(note.split(" ")[0].replace(",", "")) > 300
    assert any("noisy normal beats misread as a group" in c.value for c in at.caption)
    # a beat read again as one of the group says so
    result = _aami_result(folder, "sel308")
    grouped = np.flatnonzero(result.reread & (result.qrs_similarity < 0.95))
    _show_beat(at, int(grouped[0]) + 1)
    assert any("whose shape the record's V calls share taken together" in m.value
               for m in at.markdown)


def test_record_page_says_where_the_aami_model_reads_beats_v_by_the_v_template():
    """MIT-BIH 200 (a DS2 patient) through `aami/ecgnet`: ventricular beats the networks read
    N match the template of the record's V calls and are read V; the page says how many and,
    for such a beat, why."""
    folder = SHARED / "mitdb"
    at = _aami_record_page(folder, "200", "MIT-BIH")
    note = next(i.value for i in at.info if "own ventricular (V) calls" in i.value)
    assert not any("own ventricular (V) calls" in w.value for w in at.warning)
    # the page reads the upload's second lead (V1) too, as the V-template reading uses it
    result = _aami_result(folder, "200", other_lead=True)
    one = _aami_result(folder, "200")
    promoted = np.flatnonzero(result.v_promoted)
    assert int(note.split(" ")[0].replace(",", "")) == len(promoted) > one.v_promoted.sum()
    assert "the V1 lead side by side" in note
    _show_beat(at, int(promoted[0]) + 1)
    assert any("matches a template of the record's own V calls" in m.value
               for m in at.markdown)
    assert any("The other way round, a beat read as another class" in c.value
               and "V1 side by side" in c.value
               and "shifting the beat by up to 8 ms" in c.value for c in at.caption)
    # a beat read V on both leads only says so
    both = int(np.flatnonzero(result.v_promoted & ~one.v_promoted)[0])
    _show_beat(at, both + 1)
    assert any("on V1 too, side by side with this lead" in m.value for m in at.markdown)


def test_record_page_says_where_the_last_check_on_both_leads_reads_v_calls_again():
    """MIT-BIH 233 (a DS2 patient) through `aami/ecgnet`: normal beats the networks read V
    whose QRS is shaped like the typical one on MLII and V1 side by side are read again; the
    record's note counts them and the chosen-beat line says why."""
    folder = SHARED / "mitdb"
    at = _aami_record_page(folder, "233", "MIT-BIH")
    result = _aami_result(folder, "233", other_lead=True)
    again = np.flatnonzero(result.reread_two_leads)
    assert len(again) >= 1
    assert any(f"{len(again)} of them only when the second lead is compared too" in i.value
               for i in at.info)
    _show_beat(at, int(again[0]) + 1)
    line = next(m.value for m in at.markdown if "QRS similarity on both leads" in m.value)
    assert "shaped like the record's typical one on this lead and on V1 side by side" in line


def test_record_page_shows_where_the_aami_model_reads_atrial_fibrillation():
    """MIT-BIH 203 (atrial fibrillation and flutter) through `aami/ecgnet`: the strip shades
    the stretches read as atrial fibrillation, and what the reading changed informs."""
    folder = SHARED / "mitdb"
    at = _aami_record_page(folder, "203", "MIT-BIH")
    assert any("lie in stretches that read as atrial fibrillation" in i.value for i in at.info)
    assert not any("read as atrial fibrillation" in w.value for w in at.warning)
    assert any("Blue bands: the rhythm reads as atrial fibrillation" in c.value
               for c in at.caption)


def test_record_page_says_where_the_premature_beat_reading_reads_beats_s():
    """MIT-BIH 100 (a DS2 patient) through `aami/ecgnet`: atrial premature beats the networks
    read N come early, before a longer interval, with the usual QRS, and are read S; the
    record's note counts them and the chosen-beat line says why."""
    folder = SHARED / "mitdb"
    at = _aami_record_page(folder, "100", "MIT-BIH")
    result = _aami_result(folder, "100", other_lead=True)
    promoted = np.flatnonzero(result.s_promoted)
    assert len(promoted) >= 1
    note = next(i.value for i in at.info if "(s_premature)" in i.value)
    assert int(note.split(" ")[0].replace(",", "")) == len(promoted)
    _show_beat(at, int(promoted[0]) + 1)
    assert any("it comes early in a regular rhythm, before a longer interval" in m.value
               for m in at.markdown)
