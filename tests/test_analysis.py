"""Whole records: uploads (WFDB files, zip, CSV), bad input, beat finding and classification."""

import io
import zipfile

import numpy as np
import pytest

from ecg_core.analysis import (agreement, classify_record, detect_beats, irregular_rhythm_note,
                               model_signal, noisy_stretches, record_notes, summarise)
from ecg_core.beats import BEAT_SYMBOLS
from ecg_core.errors import RecordError
from ecg_core.records import (read_record, read_signal_csv, read_uploaded_record,
                              record_from_signal)
from tests.conftest import EXCERPT_CUDB, EXCERPT_MITDB


def _files(base, exts=(".hea", ".dat", ".atr")):
    return {base.name + e: (base.parent / (base.name + e)).read_bytes() for e in exts}


def test_record_with_annotations_gives_reference_and_agreement(classifier):
    rec = read_uploaded_record(_files(EXCERPT_MITDB / "208"))
    assert rec.annotations is not None and rec.lead == "MLII"
    result = classify_record(rec, classifier)
    assert result.source == "annotations"
    frame = result.to_frame()
    assert list(frame.columns[:6]) == ["sample", "time_s", "reference", "predicted",
                                       "rr_prev_s", "snr_db"]
    assert list(frame.columns[6:]) == list(classifier.class_codes)
    np.testing.assert_allclose(frame["snr_db"], np.round(result.snr_db, 1))
    np.testing.assert_allclose(frame[list(classifier.class_codes)].sum(axis=1), 1, atol=1e-3)
    # 208 holds many PVCs (168 in these five minutes), couplets and fusion beats
    s = summarise(result)
    assert s["per_class"]["PVC"] > 120 and 80 < s["mean_hr_bpm"] < 130
    assert s["ventricular_runs"]["couplets"] > 0
    # its RR intervals are irregular for most of the five minutes: the APC calls get a caveat
    assert s["irregular_share"] > 0.5
    note = irregular_rhythm_note(s, result.class_codes)
    assert note.startswith(f"The RR intervals are irregularly irregular around "
                           f"{s['irregular_share']:.0%} of the beats") and "APC calls" in note
    assert irregular_rhythm_note({**s, "irregular_share": 0.05}, result.class_codes) is None
    assert irregular_rhythm_note(s, ("NOR", "PVC")) is None  # no supraventricular class
    assert "S calls" in irregular_rhythm_note(s, ("N", "S", "V", "F", "Q"))
    # a model with the atrial-fibrillation reading says where it already makes no S call
    assert "besides" not in note
    assert "no S call where, besides, no P wave repeats" in irregular_rhythm_note(
        {**s, "s_folded": 0}, ("N", "S", "V", "F", "Q"))
    a = agreement(result)
    assert a["figures"]["per_class"]["PVC"]["sensitivity"] > 0.9
    assert a["figures"]["n"] == len(result.samples) - sum(a["outside"].values())


def test_record_without_annotations_uses_xqrs(classifier):
    files = _files(EXCERPT_MITDB / "100", (".hea", ".dat"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"some/folder/{name}", data)
    rec = read_uploaded_record({"100.zip": buf.getvalue()})
    assert rec.annotations is None
    result = classify_record(rec, classifier)
    assert result.source == "XQRS" and not any(result.reference)
    reference = read_record(EXCERPT_MITDB / "100")
    # XQRS (the default) finds nearly every annotated beat, within 50 ms of the R peak
    ref = reference.annotations.sample
    matched = np.abs(ref[:, None] - result.samples[None, :]).min(axis=1) <= 0.05 * 360
    assert matched.mean() > 0.99
    assert summarise(result)["per_class"]["NOR"] / len(result.samples) > 0.95
    assert summarise(result)["irregular_share"] == 0.0  # sinus rhythm
    assert summarise(result)["noisy_share"] == 0.0 and record_notes(
        summarise(result), result.class_codes) == []
    assert agreement(result) is None


def test_a_noisy_record_and_a_fibrillation_get_the_noise_caveat(classifier):
    from ecg_core.analysis import NOISE_NOTE_SHARE, noise_note
    from ecg_core.beats import NOISY_SNR_DB, beat_snr_db
    from ecg_core.conditioning import add_recorded_noise, condition_signal
    clean = read_record(EXCERPT_MITDB / "100")
    ann = clean.annotations
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
    noise = condition_signal(np.random.default_rng(5).normal(size=len(clean.signal)), clean.fs,
                             "bandpass")
    noisy = record_from_signal(add_recorded_noise(clean.signal, beats, clean.fs, noise, 6.0),
                               clean.fs, name="100 + noise", lead="MLII", annotations=ann)
    result = classify_record(noisy, classifier)
    s = summarise(result)
    assert result.snr_db.shape == result.samples.shape
    assert s["noisy_share"] == pytest.approx(float((result.snr_db < NOISY_SNR_DB).mean()))
    assert s["noisy_share"] > 0.9
    note = noise_note(s)
    assert note.startswith(f"Around {s['noisy_share']:.0%} of the beats the signal is noisy")
    assert record_notes(s, result.class_codes) == [note]
    assert noise_note({**s, "noisy_share": NOISE_NOTE_SHARE / 2}) is None
    assert noise_note({**s, "noisy_share": None}) is None  # a result without estimates
    # one stretch over the whole excerpt; none for the clean record
    bands = noisy_stretches(result)
    assert len(bands) >= 1 and bands[0][0] < 3 and bands[-1][1] > 290
    clean_result = classify_record(clean, classifier)
    assert noisy_stretches(clean_result) == []
    # noisy beats 3-5 and 8 (more than 1 s from 5's stretch), as a strip shades them
    import dataclasses

    fake = dataclasses.replace(clean_result, snr_db=np.where(
        np.isin(np.arange(len(clean_result.samples)), [3, 4, 5, 9]), 5.0, 30.0))
    t = clean_result.samples / clean_result.fs
    assert noisy_stretches(fake) == [(pytest.approx(t[3] - 0.25), pytest.approx(t[5] + 0.40)),
                                     (pytest.approx(t[9] - 0.25), pytest.approx(t[9] + 0.40))]
    assert noisy_stretches(dataclasses.replace(clean_result, snr_db=None)) == []
    # ventricular fibrillation has no recurring beat shape: the same caveat, with the rhythm's
    vf = classify_record(read_record(EXCERPT_CUDB / "cu09"), classifier)
    notes = record_notes(summarise(vf), vf.class_codes)
    assert len(notes) == 2 and "fibrillation or flutter" in notes[1]
    np.testing.assert_array_equal(vf.snr_db, beat_snr_db(
        model_signal(read_record(EXCERPT_CUDB / "cu09"), classifier), vf.samples, vf.fs))


def test_cudb_record_at_250_hz_is_resampled(classifier):
    rec = read_uploaded_record(_files(EXCERPT_CUDB / "cu09"))
    assert rec.original_fs == 250 and rec.fs == 360
    result = classify_record(rec, classifier)
    assert len(result.samples) > 100


def test_overlapped_drawing_and_classification_match_beat_by_beat(classifier):
    """classify_record draws the next batch while a second thread classifies the last one:
    every beat must still get its own probabilities, and progress must come from the caller's
    thread (Streamlit's progress bar may only be updated from the script's thread)."""
    import threading

    from ecg_core.analysis import model_signal
    from ecg_core.canonical import canonical_form
    from ecg_core.rendering import render_beat

    rec = read_record(EXCERPT_MITDB / "208")
    seen = []

    def progress(done, total):
        seen.append((done, total, threading.current_thread() is threading.main_thread()))

    result = classify_record(rec, classifier, batch_size=50, progress=progress)
    n = len(result.samples)
    assert n > 300
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen) and seen[-1][:2] == (n, n)
    assert all(on_main for _, _, on_main in seen) and len(seen) == -(-n // 50)
    signal = model_signal(rec, classifier)
    picks = [0, 49, 50, 51, n // 2, n - 1]  # both sides of batch edges, and the last beat
    images = np.stack([canonical_form(render_beat(signal, int(result.samples[i]), rec.fs),
                                      classifier.input_size) for i in picks])
    np.testing.assert_allclose(result.probabilities[picks],
                               classifier.predict_canonical(images), atol=1e-6)


def test_csv_export_of_a_record_matches_the_record(classifier):
    rec = read_record(EXCERPT_MITDB / "100", annotator=None)
    seconds = 60
    n = int(seconds * 360)
    t = np.arange(n) / 360
    csv_bytes = ("time,MLII\n" + "\n".join(f"{a:.6f},{b:.4f}" for a, b in
                                            zip(t, rec.signal[:n]))).encode()
    from_csv = read_signal_csv(csv_bytes)  # fs from the time column
    assert from_csv.original_fs == pytest.approx(360, rel=1e-3)
    np.testing.assert_allclose(from_csv.signal, rec.signal[:n], atol=1e-3)
    # one column in ADC units at 180 Hz, with a header
    adc = np.round(rec.signal[:n:2] * 200 + 1024).astype(int)
    one = read_signal_csv(("ADC\n" + "\n".join(map(str, adc))).encode(), fs=180,
                          units="adc", gain=200, baseline=1024)
    assert one.fs == 360 and len(one.signal) == n
    beats = detect_beats(one.signal, one.fs)
    assert 60 <= len(beats) <= 90  # about 75 bpm for a minute


def test_bad_signals_get_clear_errors():
    fs = 360
    good = np.sin(np.linspace(0, 60, 10 * fs))
    with pytest.raises(RecordError, match="NaN"):
        record_from_signal(np.where(np.arange(len(good)) == 50, np.nan, good), fs)
    with pytest.raises(RecordError, match="flat line"):
        record_from_signal(np.zeros(10 * fs), fs)
    with pytest.raises(RecordError, match="long"):
        record_from_signal(good[:fs], fs)
    with pytest.raises(RecordError, match="outside"):
        record_from_signal(good, 50)
    with pytest.raises(RecordError, match="outside"):
        record_from_signal(good, 2000)
    with pytest.raises(RecordError, match="text where a number"):
        read_signal_csv(b"1.0\n2.0\nhello\n3.0\n", fs=360)
    with pytest.raises(RecordError, match="NaN"):
        read_signal_csv(("\n".join(["0.1"] * 2000 + ["nan"] + ["0.2"] * 2000)).encode(),
                        fs=360)
    with pytest.raises(RecordError, match="sampling rate"):
        read_signal_csv(b"0.1\n0.2\n")
    with pytest.raises(RecordError, match="not text"):
        read_signal_csv(b"\xff\xfe\x00\x01\x02")
    with pytest.raises(RecordError, match="empty"):
        read_signal_csv(b"")


def test_bad_wfdb_uploads_get_clear_errors():
    files = _files(EXCERPT_MITDB / "100", (".hea", ".dat"))
    lying = files["100.hea"].decode().replace("108000", "950000", 1).encode()
    with pytest.raises(RecordError):
        read_uploaded_record({"100.hea": lying, "100.dat": files["100.dat"]})
    with pytest.raises(RecordError, match="exactly one record header"):
        read_uploaded_record({"100.dat": files["100.dat"]})
    with pytest.raises(RecordError, match="not part of a WFDB record"):
        read_uploaded_record({**files, "notes.txt": b"hi"})
    with pytest.raises(RecordError, match="zip"):
        read_uploaded_record({"rec.zip": b"PK\x03\x04 broken"})
    with pytest.raises(RecordError):
        read_uploaded_record({"100.hea": b"this is not a header", "100.dat": b"\x00" * 10})
    with pytest.raises(RecordError, match="Unexpected file name"):
        read_uploaded_record({"../100.hea;rm": files["100.hea"]})
    # hostile zips are refused by the same checks as a labelled-set upload
    from tests.badfiles import zip_bomb, zip_with_members

    with pytest.raises(RecordError, match="outside the archive"):
        read_uploaded_record({"rec.zip": zip_with_members({"../100.hea": files["100.hea"],
                                                           "100.dat": files["100.dat"]})})
    with pytest.raises(RecordError, match="zip bomb|MB"):
        read_uploaded_record({"rec.zip": zip_bomb(8 * 1024 * 1024)})


def test_detected_beats_are_matched_to_the_reference_within_150_ms(classifier):
    from ecg_core.analysis import match_detections

    ref_of, fig = match_detections(np.array([100, 200, 300]), np.array([105, 290, 500]), 360.0,
                                   tolerance_s=0.03)
    assert ref_of.tolist() == [0, 2, -1]
    assert fig["matched"] == 2 and fig["sensitivity"] == fig["positive_predictivity"] == 2 / 3
    # real records with their annotations, beats detected
    rec = read_record(EXCERPT_MITDB / "100")
    result = classify_record(rec, classifier, use_annotations=False)
    det = result.detection
    assert result.source == "XQRS" and det["sensitivity"] > 0.99 and \
        det["positive_predictivity"] > 0.99
    assert sum(1 for s in result.reference if s) == det["matched"]
    a = agreement(result)
    assert a["figures"]["n"] + sum(a["outside"].values()) == det["matched"]
    # the first five minutes of 208 (frequent PVCs) are hard for XQRS, which learns the
    # QRS shape from the start of a record, and easy for NeuroKit2's detector; fusion beats
    # have no class among the eight
    rec = read_record(EXCERPT_MITDB / "208")
    nk = classify_record(rec, classifier, use_annotations=False, detector="neurokit")
    xqrs = classify_record(rec, classifier, use_annotations=False)
    assert xqrs.source == "XQRS" and xqrs.detection["sensitivity"] < 0.9
    assert nk.detection["sensitivity"] > 0.99 and nk.detection["positive_predictivity"] > 0.99
    assert agreement(nk)["outside"].get("F", 0) > 50
    with pytest.raises(ValueError, match="Unknown QRS detector"):
        classify_record(rec, classifier, use_annotations=False, detector="magic")


def test_classify_database_reads_every_annotated_record(tmp_path):
    import shutil

    from ecg_core.analysis import classify_database
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    for stem in ("ecgnet.keras", "ecgnet.card.json", "ecgnet.tflite"):
        shutil.copy(ROOT / "models" / "aami" / stem, tmp_path / stem)
    clf = Classifier.load(tmp_path / "ecgnet.keras")
    seen = []
    found = classify_database(EXCERPT_MITDB, clf, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (4, 4)
    assert set(found["records"]) == {"100", "207", "208", "232"}
    assert len(found["y_true"]) == len(found["probabilities"]) == len(found["records"]) > 1000
    assert found["leads"]["100"] == "MLII"
    assert set(np.unique(found["y_true"])) <= set(range(len(clf.class_codes)))
    # flutter waves and rhythm marks have no AAMI class: counted apart
    assert found["outside"].get("!", 0) > 0
    with pytest.raises(RecordError, match="records"):
        classify_database(tmp_path, clf)  # no record at all
    shutil.copy(EXCERPT_MITDB / "100.hea", tmp_path / "100.hea")
    with pytest.raises(RecordError, match="annotations"):
        classify_database(tmp_path, clf)  # records, but none annotated


def test_evaluate_database_cli_saves_an_artifact_with_intervals(tmp_path):
    import json
    import shutil
    import subprocess
    import sys

    from tests.conftest import ROOT

    for stem in ("ecgnet.keras", "ecgnet.card.json", "ecgnet.tflite"):
        shutil.copy(ROOT / "models" / "aami" / stem, tmp_path / stem)
    run = subprocess.run([sys.executable, "-m", "ecg_core", "evaluate-database", "--model",
                          str(tmp_path / "ecgnet.keras"), "--database", str(EXCERPT_MITDB)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "ecgnet.eval.cross-database.test.mitdb.json").read_text())
    assert doc["protocol"] == "cross-database" and doc["figures"]["n_records"] == 4
    lo, hi = doc["figures"]["ci95"]["accuracy"]
    assert lo <= doc["figures"]["accuracy"] <= hi
    assert doc["records"] == ["100", "207", "208", "232"]
    bad = subprocess.run([sys.executable, "-m", "ecg_core", "evaluate-database", "--database",
                          str(tmp_path / "nope")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "not found" in bad.stderr
    # some records only; a name that is not there is a clear error, not a traceback
    some = subprocess.run([sys.executable, "-m", "ecg_core", "evaluate-database", "--model",
                           str(tmp_path / "ecgnet.keras"), "--database", str(EXCERPT_MITDB),
                           "--records", "100", "232", "--by-record"],
                          capture_output=True, text=True, cwd=ROOT)
    assert some.returncode == 0, some.stderr
    doc = json.loads((tmp_path / "ecgnet.eval.cross-database.test.mitdb.json").read_text())
    assert doc["records"] == ["100", "232"] and doc["figures"]["n_records"] == 2
    # record by record: each record's beats add up, and the table lists both, worst first
    by = doc["figures"]["by_record"]
    assert sorted(r["record"] for r in by) == ["100", "232"]
    assert sum(r["beats"] for r in by) == doc["figures"]["n"]
    for r in by:
        assert r["beats"] == sum(c["beats"] for c in r["per_class"].values())
        assert r["errors"] == r["beats"] - sum(c["found"] for c in r["per_class"].values())
    lines = [x for x in some.stdout.splitlines() if x.startswith(("| 100 |", "| 232 |"))]
    worst = max(by, key=lambda r: r["errors"])
    assert len(lines) == 2 and lines[0].startswith(f"| {worst['record']} | {worst['beats']} | "
                                                   f"{worst['errors']} |")
    none = subprocess.run([sys.executable, "-m", "ecg_core", "evaluate-database", "--model",
                           str(tmp_path / "ecgnet.keras"), "--database", str(EXCERPT_MITDB),
                           "--records", "999"], capture_output=True, text=True, cwd=ROOT)
    assert none.returncode == 2 and "among those asked for" in none.stderr
    assert "Traceback" not in none.stderr


def report_of_208(tmp_path):
    """The report of the record 208 excerpt, written by ``classify-record --report``."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = tmp_path / "208.html"
    run = subprocess.run([sys.executable, "-m", "ecg_core", "classify-record",
                          str(EXCERPT_MITDB / "208"), "--annotations", "atr", "--out",
                          str(tmp_path / "b.csv"), "--report", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return out


def test_record_report_is_one_self_contained_page(tmp_path):
    page = report_of_208(tmp_path).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "Not a medical device" in page
    for part in ("Duration", "Lead", "Sampling rate", "Beats from", "Model", "ectopic beats",
                 "Ventricular runs", "Heart rate, minute by minute", "RR intervals"):
        assert part in page, part
    # one example strip per class found; record 208's first 5 minutes hold NOR and PVC
    assert "<h3>NOR:" in page and "<h3>PVC:" in page
    assert page.count("<svg") >= 4
    assert "beat protocol (same patients on both sides: flattering)" in page
    assert '<p class="caveat">The RR intervals are irregularly irregular' in page
    assert "(the model was trained on MLII)" in page   # the 8-class model: MLII only
    # each class counted beside the model's Se and +P on patients it never saw (ecgnet: the
    # QT Database, whose PVC calls it mostly got wrong)
    from ecg_core.evaluation import new_patient_tables
    from tests.conftest import MODEL

    pvc = new_patient_tables(MODEL)[0]["figures"]["PVC"]
    assert "<th>Se on new patients</th><th>+P on new patients</th>" in page
    assert (f"<td>{100 * pvc['sensitivity']:.0f}%</td><td>{100 * pvc['precision']:.0f}%</td>"
            "</tr>") in page
    assert "patients it never saw (the QT Database)" in page
    import json

    from ecg_core.report import _lead_words
    from tests.conftest import ROOT

    aami = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
    assert _lead_words(aami) == ("the model was trained on MLII and each record's other lead; "
                                 "its figures were measured on MLII")
    eight = json.loads((ROOT / "models" / "record" / "ecgnet.card.json").read_text())
    assert _lead_words(eight) == ("the model was trained on MLII and each record's other lead "
                                  "and reads each beat on both leads; its figures were "
                                  "measured with MLII chosen")


def test_a_stretch_of_a_record_reads_like_the_same_samples_of_the_whole():
    from ecg_core.records import record_header

    whole = read_record(EXCERPT_MITDB / "208")
    part = read_record(EXCERPT_MITDB / "208", sampfrom=36000, sampto=72000)
    assert record_header(EXCERPT_MITDB / "208")[:2] == (108000, 360.0)
    np.testing.assert_allclose(part.signal, whole.signal[36000:72000])
    inside = (whole.annotations.sample >= 36000) & (whole.annotations.sample < 72000)
    np.testing.assert_array_equal(part.annotations.sample, whole.annotations.sample[inside] - 36000)
    with pytest.raises(RecordError, match="no samples"):
        read_record(EXCERPT_MITDB / "208", sampfrom=200000)


def test_a_long_record_classified_stretch_by_stretch_matches_a_whole_read(classifier):
    """classify_record_file with 60 s stretches over a 5-minute record: beats from the
    annotations give the same beats, classes, probabilities and RR intervals as one read."""
    from ecg_core.analysis import classify_record_file

    whole = classify_record(read_record(EXCERPT_MITDB / "208"), classifier)
    seen = []
    chunked = classify_record_file(EXCERPT_MITDB / "208", classifier, chunk_s=60.0,
                                   progress=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(chunked.samples, whole.samples)
    assert chunked.predicted == whole.predicted and chunked.reference == whole.reference
    np.testing.assert_allclose(chunked.probabilities, whole.probabilities, atol=1e-6)
    np.testing.assert_allclose(chunked.rr_prev_s, whole.rr_prev_s)
    assert chunked.duration_s == pytest.approx(300.0) and len(seen) == 5
    assert seen[-1] == (pytest.approx(300.0), pytest.approx(300.0))
    # two worker processes, each with its own model: the same result, in the record's order
    parallel = classify_record_file(EXCERPT_MITDB / "208", classifier, chunk_s=60.0, workers=2)
    np.testing.assert_array_equal(parallel.samples, whole.samples)
    assert parallel.predicted == whole.predicted
    np.testing.assert_allclose(parallel.probabilities, whole.probabilities, atol=1e-5)
    # detected beats: matched once against the whole record's reference beats
    det = classify_record_file(EXCERPT_MITDB / "100", classifier, use_annotations=False,
                               detector="sleepecg", chunk_s=60.0)
    f = det.detection
    assert f["reference_beats"] == len(classify_record(
        read_record(EXCERPT_MITDB / "100"), classifier).samples)
    assert f["sensitivity"] > 0.99 and f["positive_predictivity"] > 0.99
    assert sum(1 for s in det.reference if s) == f["matched"]


def test_trend_counts_beats_and_heart_rate_bin_by_bin(classifier):
    from ecg_core.analysis import trend

    result = classify_record(read_record(EXCERPT_MITDB / "208"), classifier)
    t = trend(result, 60.0)
    assert len(t["start_s"]) == 5 and t["beats"].sum() == len(result.samples)
    pred = np.asarray(result.predicted)
    assert t["ventricular"].sum() == int((pred == "PVC").sum())
    assert t["ectopic"].sum() >= t["ventricular"].sum()
    assert np.all((t["hr_bpm"] > 60) & (t["hr_bpm"] < 140))
    rr = result.rr_prev_s[(result.samples < 60 * 360) & np.isfinite(result.rr_prev_s)]
    assert t["hr_bpm"][0] == pytest.approx(60.0 / rr.mean())
    assert len(trend(result, 3600.0)["beats"]) == 1
    with pytest.raises(ValueError):
        trend(result, 0)


def test_sleepecg_finds_the_beats_of_a_real_record():
    rec = read_record(EXCERPT_MITDB / "100")
    found = detect_beats(rec.signal, rec.fs, "sleepecg")
    ref = np.array([s for s, sym in zip(rec.annotations.sample, rec.annotations.symbol)
                    if sym in "NA"])
    from ecg_core.analysis import match_detections

    _, f = match_detections(ref[(ref > 252) & (ref < len(rec.signal) - 252)],
                            found[(found > 252) & (found < len(rec.signal) - 252)], rec.fs)
    assert f["sensitivity"] > 0.99 and f["positive_predictivity"] > 0.99
    with pytest.raises(RecordError):
        detect_beats(np.zeros(3600), 360.0, "sleepecg")


def test_vote_keeps_beats_enough_detectors_agree_on():
    from ecg_core.analysis import vote_detections

    fs = 360.0  # tolerance 75 ms = 27 samples
    a = np.array([100, 500, 900])
    b = np.array([103, 520, 1300])
    c = np.array([98, 2000])
    # 100/103/98 one beat (three votes, at a's position); 500/520 two; 900, 1300, 2000 one each
    assert vote_detections([a, b, c], fs, 2).tolist() == [100, 500]
    assert vote_detections([b, a, c], fs, 2).tolist() == [103, 520]  # the first finder's place
    assert vote_detections([a, b, c], fs, 3).tolist() == [100]
    assert vote_detections([a, b, c], fs, 1).tolist() == [100, 500, 900, 1300, 2000]
    assert vote_detections([a, np.array([], dtype=np.int64)], fs, 2).tolist() == []
    with pytest.raises(ValueError, match="min_votes"):
        vote_detections([a, b], fs, 3)


def test_vote_detector_on_a_real_record_finds_beats_xqrs_misses():
    from ecg_core.analysis import match_detections
    from ecg_core.beats import BEAT_SYMBOLS

    # the first five minutes of 208: XQRS misses PVCs there that SleepECG and Elgendi's
    # detector both find; no false beat is added
    rec = read_record(EXCERPT_MITDB / "208")
    ref = np.array([s for s, sym in zip(rec.annotations.sample, rec.annotations.symbol)
                    if sym in BEAT_SYMBOLS])
    figures = {}
    for d in ("xqrs", "vote"):
        _, figures[d] = match_detections(ref, detect_beats(rec.signal, rec.fs, d), rec.fs)
    assert figures["vote"]["sensitivity"] > figures["xqrs"]["sensitivity"] + 0.02
    assert figures["vote"]["positive_predictivity"] > 0.99


def test_two_lead_vote_rejects_noise_on_one_lead(classifier):
    """QRS-like artefacts on lead MLII only (as electrode motion hits one lead and not the
    other): XQRS on MLII takes many for beats; the two-lead vote, which needs four of six
    detections, keeps the beats and drops the artefacts."""
    import dataclasses

    from ecg_core.analysis import match_detections
    from ecg_core.beats import BEAT_SYMBOLS

    rec = read_record(EXCERPT_MITDB / "100", other_lead=True)
    assert rec.lead == "MLII" and rec.other_lead == "V5"
    assert rec.other_signal is not None and len(rec.other_signal) == len(rec.signal)
    assert read_record(EXCERPT_MITDB / "100").other_signal is None  # only when asked for
    ref = np.array([s for s, sym in zip(rec.annotations.sample, rec.annotations.symbol)
                    if sym in BEAT_SYMBOLS])
    rng = np.random.default_rng(0)
    noisy = rec.signal.astype(np.float64).copy()
    t = np.arange(-20, 21)
    spike = 1.5 * np.exp(-0.5 * (t / 5.0) ** 2) - 0.6 * np.exp(-0.5 * ((t - 12) / 5.0) ** 2)
    mids = (ref[1:] + ref[:-1]) // 2  # halfway between beats, from 60 s to 240 s
    for m in mids[(mids > 60 * rec.fs) & (mids < 240 * rec.fs)]:
        at = int(m + rng.integers(-20, 21))
        noisy[at - 20:at + 21] += spike
    rec = dataclasses.replace(rec, signal=noisy.astype(np.float32))
    _, xqrs = match_detections(ref, detect_beats(rec.signal, rec.fs, "xqrs"), rec.fs)
    two = classify_record(rec, classifier, use_annotations=False, detector="two-lead-vote")
    assert two.source == "Two-lead vote (XQRS, SleepECG, Elgendi) on MLII and V5"
    assert xqrs["positive_predictivity"] < 0.9
    assert two.detection["positive_predictivity"] > 0.99
    assert two.detection["sensitivity"] > 0.99
    # without a second lead it is the one-lead vote, and says so
    alone = classify_record(dataclasses.replace(rec, other_signal=None), classifier,
                            use_annotations=False, detector="two-lead-vote")
    assert alone.source.endswith("on MLII only")


def test_local_peaks_are_wfdbs_and_xqrs_finds_the_same_beats_with_them():
    from wfdb import processing
    from wfdb.processing import qrs
    from wfdb.processing.peaks import find_local_peaks

    from ecg_core.analysis import local_peaks

    rng = np.random.default_rng(0)
    for _ in range(300):  # rounded values: ties (flat tops) are frequent
        r = int(rng.integers(1, 25))
        x = np.round(rng.normal(size=int(rng.integers(2 * r + 2, 600))), int(rng.integers(0, 3)))
        assert np.array_equal(local_peaks(x, r), find_local_peaks(x, r))
    assert local_peaks(np.ones(50), 5).size == 0 == find_local_peaks(np.ones(50), 5).size
    rec = read_record(EXCERPT_MITDB / "208")
    x = rec.signal.astype(np.float64)
    assert np.array_equal(local_peaks(x, 18), find_local_peaks(x, 18))
    # XQRS as wfdb ships it, and as detect_beats runs it: the same beats
    detect_beats(x, rec.fs, "xqrs")  # points XQRS at local_peaks
    assert qrs.find_local_peaks is local_peaks
    fast = processing.XQRS(sig=x, fs=rec.fs)
    fast.detect(verbose=False)
    qrs.find_local_peaks = find_local_peaks
    try:
        slow = processing.XQRS(sig=x, fs=rec.fs)
        slow.detect(verbose=False)
    finally:
        qrs.find_local_peaks = local_peaks
    assert len(slow.qrs_inds) > 300 and np.array_equal(fast.qrs_inds, slow.qrs_inds)


def test_the_aami_models_dominant_qrs_reading_is_applied_to_records():
    """``aami/ecgnet`` reads a record's V calls against the record's typical QRS: the result is
    the network's reading passed through ``dominant_qrs_reading``, marked beat by beat and
    counted in the summary; a model without the reading leaves it out."""
    import copy

    from ecg_core.beats import dominant_qrs_reading, qrs_similarity
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    assert clf.dominant_qrs["threshold"] == 0.95
    clf.af_fold = None  # the reading of S calls that follows is tested on its own below
    rec = read_record(EXCERPT_MITDB / "208")
    result = classify_record(rec, clf)
    plain = copy.copy(clf)
    plain.dominant_qrs = None
    network = classify_record(rec, plain)
    assert network.reread is None and "v_reread" not in network.to_frame()
    # each QRS stretch aligned to the typical QRS as the card says before it is compared
    assert clf.qrs_align_s == 0.008
    similarity = qrs_similarity(model_signal(rec, clf), network.samples, rec.fs,
                                align_s=clf.qrs_align_s)
    np.testing.assert_array_equal(result.qrs_similarity, similarity)
    assert network.qrs_similarity is None
    expected, reread = dominant_qrs_reading(network.probabilities, similarity,
                                            clf.class_codes.index("V"), 0.95)
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    np.testing.assert_array_equal(result.reread, reread)
    assert summarise(result)["v_reread"] == int(reread.sum())
    assert result.to_frame()["v_reread"].tolist() == reread.tolist()
    np.testing.assert_allclose(result.to_frame()["qrs_similarity"], similarity, atol=5e-4)
    assert not any(p == "V" for p, r in zip(result.predicted, result.reread) if r)
    # 208's ventricular beats (a third of its beats) keep their reading at 0.95 ...
    v = np.array([s == "V" for s in result.reference])
    assert np.mean([p == "V" for p, k in zip(result.predicted, v) if k]) > 0.9
    # ... and every V call goes where any QRS counts as typical (but a beat read V with
    # certainty, nothing left for another class)
    loose = copy.copy(clf)
    loose.dominant_qrs = {"threshold": -1.0}
    everything = classify_record(rec, loose)
    v_col = clf.class_codes.index("V")
    left = [i for i, p in enumerate(everything.predicted) if p == "V"]
    assert all(network.probabilities[i, v_col] > 1 - 1e-6 for i in left)
    assert everything.reread.sum() + len(left) == network.predicted.count("V") > 50
    assert any("v_reread" in n for n in record_notes(summarise(everything), clf.class_codes))


def test_the_aami_models_v_cluster_reading_follows_the_per_beat_reading():
    """``aami/ecgnet``'s dominant-QRS reading goes on with its V-cluster part: the result is the
    per-beat reading passed through ``v_cluster_reading``; on MIT-BIH 208, whose V calls are
    true ventricular beats of their own shape, the committed bounds change nothing."""
    import copy

    from ecg_core.beats import (dominant_qrs_reading, qrs_similarity, v_cluster_reading,
                                v_cluster_similarity)
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    cluster = clf.dominant_qrs["cluster"]
    assert (cluster["cluster_threshold"], cluster["threshold"]) == (0.9, 0.7)
    clf.af_fold = None
    rec = read_record(EXCERPT_MITDB / "208")
    per_beat = copy.copy(clf)
    per_beat.dominant_qrs = {k: v for k, v in clf.dominant_qrs.items() if k != "cluster"}
    first = classify_record(rec, per_beat)
    committed = classify_record(rec, clf)
    v = clf.class_codes.index("V")
    called = first.probabilities.argmax(axis=1) == v
    signal = model_signal(rec, clf)
    assert v_cluster_similarity(signal, first.samples, rec.fs, called) < 0.8
    np.testing.assert_array_equal(committed.reread, first.reread)
    np.testing.assert_allclose(committed.probabilities, first.probabilities, atol=1e-6)
    # bounds any record meets: the per-beat reading, then the cluster's
    loose = copy.copy(clf)
    loose.dominant_qrs = dict(clf.dominant_qrs,
                              cluster={"cluster_threshold": -1.0, "threshold": 0.5})
    result = classify_record(rec, loose)
    network = copy.copy(clf)
    network.dominant_qrs = None
    raw = classify_record(rec, network).probabilities
    similarity = qrs_similarity(signal, first.samples, rec.fs, align_s=clf.qrs_align_s)
    step, reread = dominant_qrs_reading(raw, similarity, v, 0.95)
    expected, also, _ = v_cluster_reading(step, signal, first.samples, rec.fs, similarity, v,
                                          -1.0, 0.5, align_s=clf.qrs_align_s)
    assert also.any() and not (also & reread).any()
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    np.testing.assert_array_equal(result.reread, reread | also)
    assert summarise(result)["v_reread"] == int((reread | also).sum())


def test_the_v_cluster_reading_on_a_qt_database_record_of_noisy_normal_beats():
    """QT Database sel308 (a validation record of the reading's rule): the network reads a
    few hundred of its noisier normal beats V; as a group they share the record's typical QRS,
    and the V-cluster reading reads them N again while its 14 ventricular beats stay V."""
    from ecg_core.model import Classifier
    from tests.conftest import ROOT, SHARED

    path = SHARED / "qtdb" / "sel308"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("QT Database record sel308 is not beside the checkout")
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    result = classify_record(read_record(path, annotator="atr"), clf)
    ref = np.array(result.reference)
    pred = np.array(result.predicted)
    assert ((ref == "V") & (pred == "V")).sum() == (ref == "V").sum() == 14
    assert ((ref != "V") & (pred == "V")).sum() < 10 and result.reread.sum() > 300


def test_the_v_template_reading_finds_ventricular_beats_the_networks_read_normal():
    """MIT-BIH 200 (a DS2 patient, never seen in training), its first 10 minutes: the networks
    read some of its ventricular beats N; their QRS matches the template of the record's own V
    calls, wider than its typical QRS, and the V-template reading reads them V. Every beat it
    reads V is a ventricular beat by the reference labels; the result marks them beat by beat,
    counts them and says why."""
    import copy

    from ecg_core.analysis import v_template_note
    from ecg_core.beats import v_template_reading
    from ecg_core.model import Classifier
    from tests.conftest import ROOT, SHARED

    path = SHARED / "mitdb" / "200"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("MIT-BIH record 200 is not beside the checkout")
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    template = clf.v_template
    assert (template["threshold"], template["margin"], template["cluster_threshold"],
            template["min_width_gain_ms"], template["group_cut"], template["min_group"]) == (
        0.95, 0.10, 0.90, 10.0, 0.10, 5)
    rec = read_record(path, annotator="atr", sampto=216000)
    result = classify_record(rec, clf)
    without = copy.copy(clf)
    without.v_template = None
    before = classify_record(rec, without)
    assert before.v_promoted is None and "v_template" not in before.to_frame()
    promoted = result.v_promoted
    ref = np.array(result.reference)
    assert promoted.sum() >= 5 and (ref[promoted] == "V").all()
    assert all(result.predicted[i] == "V" and before.predicted[i] != "V"
               for i in np.flatnonzero(promoted))
    expected, same, gain = v_template_reading(
        before.probabilities, model_signal(rec, clf), before.samples, rec.fs,
        clf.class_codes.index("V"), min_width_gain_s=template["min_width_gain_ms"] / 1000,
        group_cut=template["group_cut"], min_group=template["min_group"],
        align_s=clf.qrs_align_s)
    np.testing.assert_array_equal(same, promoted)
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    assert gain >= 0.010
    assert result.to_frame()["v_template"].sum() == promoted.sum()
    summary = summarise(result)
    assert summary["v_promoted"] == promoted.sum()
    assert v_template_note(summary) in record_notes(summary, clf.class_codes)
    assert f"{promoted.sum()} beats" in v_template_note(summary)
    assert v_template_note({"v_promoted": 0}) is None and v_template_note({}) is None


def test_the_v_template_reading_on_two_leads_finds_more_ventricular_beats():
    """MIT-BIH 233 (a DS2 patient), whole: read with its second lead (V1), the V-template
    reading also compares the beats on both leads side by side and reads V more of the beats
    the networks missed, every one a ventricular beat by the reference labels; read from its
    chosen lead alone it keeps the one-lead reading. The result, its summary and its note name
    the second lead."""
    from ecg_core.analysis import reads_two_leads, v_template_note
    from ecg_core.model import Classifier
    from tests.conftest import ROOT, SHARED

    path = SHARED / "mitdb" / "233"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("MIT-BIH record 233 is not beside the checkout")
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    assert reads_two_leads(clf)
    one = classify_record(read_record(path, annotator="atr"), clf)
    rec = read_record(path, annotator="atr", other_lead=True)
    two = classify_record(rec, clf)
    assert one.v_template_second_lead == "" and two.v_template_second_lead == "V1"
    assert (one.v_promoted <= two.v_promoted).all()
    extra = two.v_promoted & ~one.v_promoted
    ref = np.array(two.reference)
    assert extra.sum() >= 3 and (ref[extra] == "V").all()
    assert all(two.predicted[i] == "V" for i in np.flatnonzero(extra))
    summary = summarise(two)
    assert summary["v_template_second_lead"] == "V1"
    assert "the V1 lead side by side" in v_template_note(summary)
    assert "side by side" not in v_template_note(summarise(one))


def test_the_last_check_on_both_leads_reads_again_233s_normal_beats_read_v():
    """MIT-BIH 233 (a DS2 patient), whole, with its second lead (V1): the last check reads
    again the V calls whose QRS on both leads side by side is shaped like the record's typical
    one (the card's ``dominant_qrs.two_leads``), though on MLII alone they were under the
    dominant-QRS bound; none of them is a ventricular beat by the reference labels. The result
    marks them beat by beat, the summary counts them, the note says so."""
    from ecg_core.analysis import reread_note
    from ecg_core.model import Classifier
    from tests.conftest import ROOT, SHARED

    path = SHARED / "mitdb" / "233"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("MIT-BIH record 233 is not beside the checkout")
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    last = clf.dominant_qrs["two_leads"]
    assert last["threshold"] == 0.9
    result = classify_record(read_record(path, annotator="atr", other_lead=True), clf)
    again = result.reread_two_leads
    ref, pred = np.array(result.reference), np.array(result.predicted)
    assert again.sum() >= 1 and (again <= result.reread).all()
    assert (ref[again] != "V").all() and (pred[again] != "V").all()
    assert (result.two_lead_similarity[again] >= last["threshold"]).all()
    assert (result.qrs_similarity[again] < clf.dominant_qrs["threshold"]).all()
    frame = result.to_frame()
    assert frame["v_reread"][again].all()
    assert frame["qrs_similarity_two_leads"].notna().mean() > 0.99
    summary = summarise(result)
    assert summary["v_reread_two_leads"] == again.sum()
    assert f"{again.sum()} of them only when the second lead is compared too" in reread_note(
        summary)
    # read from its chosen lead alone, the check does not run
    alone = classify_record(read_record(path, annotator="atr", sampto=108000), clf)
    assert alone.reread_two_leads is None and summarise(alone)["v_reread_two_leads"] is None
    assert "second lead" not in (reread_note(summarise(alone)) or "")


def test_the_v_cluster_on_both_leads_keeps_116s_ventricular_beats_read_on_v1():
    """MIT-BIH 116 read on V1 with MLII as its second lead: on V1 its ventricular beats, taken
    together, share the record's typical QRS, and the V-cluster reading on that lead alone
    re-reads nearly all of them; compared on both leads side by side (the card's
    ``dominant_qrs.cluster.two_leads``) the cluster is unlike the typical QRS and they stay V."""
    import copy

    from ecg_core.model import Classifier
    from tests.conftest import ROOT, SHARED

    path = SHARED / "mitdb" / "116"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("MIT-BIH record 116 is not beside the checkout")
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    cluster = clf.dominant_qrs["cluster"]
    assert cluster.get("two_leads")
    one = copy.copy(clf)
    one.dominant_qrs = {**clf.dominant_qrs,
                        "cluster": {k: v for k, v in cluster.items() if k != "two_leads"}}
    record = read_record(path, lead="V1", annotator="atr", other_lead=True)
    assert record.lead == "V1" and record.other_lead == "MLII"
    both, alone = classify_record(record, clf), classify_record(record, one)
    ref = np.array(both.reference)
    true_v = ref == "V"
    assert true_v.sum() >= 100
    found_both = (np.array(both.predicted)[true_v] == "V").mean()
    found_alone = (np.array(alone.predicted)[true_v] == "V").mean()
    assert found_both >= 0.8 and found_alone <= 0.2, (found_both, found_alone)
    assert alone.reread[true_v].mean() >= 0.8 and both.reread[true_v].mean() <= 0.2
    # the beats kept V are ventricular: the two-lead cluster kept no normal beat V
    called = np.array(both.predicted) == "V"
    assert (ref[called] == "V").mean() >= 0.95


def test_aligned_qrs_stretches_let_the_v_template_reading_find_213s_ventricular_beats():
    """MIT-BIH 213 (a DS2 patient), whole: its ventricular beats' QRS stretches, taken at the
    annotated R positions, do not line up with one another, and the V-template reading finds
    almost none of the beats the networks missed; aligned to the typical QRS within 8 ms (the
    card's ``qrs_alignment``), it reads V more than a hundred of them, most of them ventricular
    by the reference labels. The result is the card's readings with that alignment."""
    import copy

    from ecg_core.beats import record_readings
    from ecg_core.model import Classifier
    from tests.conftest import ROOT, SHARED

    path = SHARED / "mitdb" / "213"
    if not path.with_suffix(".hea").is_file():
        pytest.skip("MIT-BIH record 213 is not beside the checkout")
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    assert clf.qrs_align_s == pytest.approx(0.008)
    rec = read_record(path, annotator="atr", other_lead=True)
    aligned = classify_record(rec, clf)
    plain = copy.copy(clf)
    plain.qrs_align_s = 0.0
    unaligned = classify_record(rec, plain)
    ref = np.array(aligned.reference)
    more = aligned.v_promoted & ~unaligned.v_promoted
    assert unaligned.v_promoted.sum() < 10 and more.sum() >= 100
    assert (ref[more] == "V").mean() >= 0.75
    # the networks' own outputs, read again with the card's readings and the alignment
    bare = copy.copy(clf)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    raw = classify_record(rec, bare)
    from ecg_core.analysis import model_second_signal

    again = record_readings(raw.probabilities, model_signal(rec, clf), raw.samples, rec.fs,
                            clf.class_codes, dominant_qrs=clf.dominant_qrs,
                            af_fold=clf.af_fold, v_template=clf.v_template,
                            other_signal=model_second_signal(rec, clf), qrs_align_s=0.008)
    np.testing.assert_allclose(again.probabilities, aligned.probabilities, atol=1e-6)


def test_the_aami_models_atrial_fibrillation_reading_follows_the_dominant_qrs_reading():
    """``aami/ecgnet`` then folds S into N where the rhythm reads as atrial fibrillation: the
    result is the dominant-QRS reading passed through ``fibrillation_fold``, with the P-wave
    consistency of the beats not read V; marked beat by beat, counted and explained."""
    import copy

    from ecg_core.analysis import fibrillation_note
    from ecg_core.beats import atrial_consistency, fibrillation_fold, irregular_rr
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    assert clf.af_fold["threshold"] == 0.5
    rec = read_record(EXCERPT_MITDB / "232")
    committed = classify_record(rec, clf)
    assert committed.s_folded is not None and len(committed.atrial_consistency) == len(
        committed.samples)
    # 232 (sinus bradycardia, atrial premature beats, long pauses) keeps its S calls
    assert not committed.s_folded.any() and "S" in committed.predicted
    assert np.nanmedian(committed.atrial_consistency) > 0.5
    # a threshold above any correlation folds every irregular beat with a consistency; 208
    # (frequent ventricular beats and couplets) reads irregular in places
    rec = read_record(EXCERPT_MITDB / "208")
    loose = copy.copy(clf)
    loose.af_fold = {"threshold": 1.01}
    before = copy.copy(clf)
    before.af_fold = None
    first = classify_record(rec, before)
    assert first.s_folded is None and "s_folded" not in first.to_frame()
    result = classify_record(rec, loose)
    codes = clf.class_codes
    signal = model_signal(rec, clf)
    consistency = atrial_consistency(signal, first.samples, rec.fs,
                                     first.probabilities.argmax(axis=1) != codes.index("V"))
    np.testing.assert_allclose(result.atrial_consistency, consistency)
    expected, folded = fibrillation_fold(first.probabilities, irregular_rr(first.samples, rec.fs),
                                         consistency, codes.index("N"), codes.index("S"), 1.01)
    assert folded.any() and not folded.all()
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    np.testing.assert_array_equal(result.s_folded, folded)
    assert not any(p == "S" for p, f in zip(result.predicted, folded) if f)
    summary = summarise(result)
    assert summary["s_folded"] == int(folded.sum())
    assert result.to_frame()["s_folded"].tolist() == folded.tolist()
    np.testing.assert_allclose(result.to_frame()["atrial_consistency"], consistency, atol=5e-4)
    assert "atrial_consistency" not in first.to_frame()
    note = fibrillation_note(summary)
    assert note and f"{int(folded.sum())} beats" in note and note in record_notes(summary, codes)
    assert fibrillation_note(summarise(committed)) is None
    # the stretches a strip shades: runs of flagged beats, joined where under 2 s apart
    from ecg_core.analysis import fibrillation_stretches

    assert fibrillation_stretches(committed) == [] and fibrillation_stretches(first) == []
    import dataclasses

    t = result.samples / result.fs
    flags = np.isin(np.arange(len(t)), [10, 11, 12, 14, 40])
    assert t[14] - t[12] < 2 and t[40] - t[14] > 2
    fake = dataclasses.replace(result, s_folded=flags)
    assert fibrillation_stretches(fake) == [(pytest.approx(t[10]), pytest.approx(t[14])),
                                            (pytest.approx(t[40]), pytest.approx(t[40]))]
    bands = fibrillation_stretches(result)
    assert bands and all(a <= b for a, b in bands)
    assert sum(((t >= a) & (t <= b)).sum() for a, b in bands) >= folded.sum()


def test_the_premature_beat_reading_of_a_record_is_marked_counted_and_explained():
    """``aami/ecgnet`` reads whole records with the premature-beat reading last: the result is
    the earlier readings passed through ``premature_reading`` (QRS similarity as the
    dominant-QRS reading measured it, the record's RR rhythm), marked beat by beat, counted and
    explained; a model without it leaves the column out."""
    import copy

    from ecg_core.analysis import premature_note
    from ecg_core.beats import irregular_rr, premature_reading, rr_prematurity
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    assert clf.premature_s["max_before"] == 0.85
    rec = read_record(EXCERPT_MITDB / "208")
    committed = classify_record(rec, clf)
    assert committed.s_promoted is not None and "s_premature" in committed.to_frame()
    before = copy.copy(clf)
    before.premature_s = None
    first = classify_record(rec, before)
    assert first.s_promoted is None and "s_premature" not in first.to_frame()
    assert summarise(first)["s_promoted"] is None
    # loose bounds read every N call in a regular stretch with an earlier beat S
    loose = copy.copy(clf)
    loose.premature_s = {"max_before": 1.5, "min_after": 0.0, "min_similarity": -1.0}
    result = classify_record(rec, loose)
    codes = clf.class_codes
    b, a = rr_prematurity(first.samples, rec.fs)
    expected, promoted = premature_reading(
        first.probabilities, first.qrs_similarity, irregular_rr(first.samples, rec.fs), b, a,
        codes.index("N"), codes.index("S"), max_before=1.5, min_after=0.0, min_similarity=-1.0)
    assert promoted.any()
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    np.testing.assert_array_equal(result.s_promoted, promoted)
    assert all(p == "S" for p, f in zip(result.predicted, promoted) if f)
    summary = summarise(result)
    assert summary["s_promoted"] == int(promoted.sum())
    assert result.to_frame()["s_premature"].tolist() == promoted.tolist()
    note = premature_note(summary)
    assert note and f"{int(promoted.sum()):,} beats" in note and "(s_premature)" in note
    assert note in record_notes(summary, codes)
    assert premature_note(summarise(first)) is None
    assert premature_note({**summary, "s_promoted": 0}) is None


def test_a_model_that_reads_both_leads_averages_its_two_readings_of_each_beat():
    """The committed record/ecgnet reads each beat of a record with a second lead on both
    leads (its card's ``both_leads``): MIT-BIH 208's excerpt (MLII and V1) gets, beat by beat,
    the mean of the probabilities it gets on MLII alone and on V1 alone; the result and its
    summary name the second lead; read without its second lead it is read once."""
    from dataclasses import replace

    from ecg_core.analysis import reads_two_leads
    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "record" / "ecgnet.keras")
    assert clf.both_leads and reads_two_leads(clf)
    rec = read_record(EXCERPT_MITDB / "208", annotator="atr", other_lead=True)
    assert rec.other_lead == "V1"
    both = classify_record(rec, clf)
    alone = replace(rec, other_signal=None, other_lead="")
    on_mlii = classify_record(alone, clf)
    on_v1 = classify_record(replace(alone, signal=rec.other_signal, lead="V1"), clf)
    assert both.network_second_lead == "V1" and on_mlii.network_second_lead == ""
    assert summarise(both)["network_second_lead"] == "V1"
    np.testing.assert_allclose(both.probabilities,
                               (on_mlii.probabilities + on_v1.probabilities) / 2, atol=1e-5)
    assert (np.array(both.predicted) != np.array(on_mlii.predicted)).any()


def test_the_report_s_model_line_reads_only_artifacts_of_the_model_as_it_is(tmp_path):
    """The report names each new-patient figure with its protocol (the QT records held out
    apart from all 54), and leaves out figures measured on another version of the model."""
    import shutil
    from types import SimpleNamespace

    from ecg_core.model import read_card
    from ecg_core.report import _model_figures
    from tests.conftest import ROOT

    aami = ROOT / "models" / "aami" / "ecgnet.keras"
    line = _model_figures(SimpleNamespace(card=read_card(aami), path=aami))
    assert "new patients, AAMI DS2: accuracy 95.6% on 49,674 beats of 22 records" in line
    assert "new patients, the QT Database, records held out: accuracy" in line
    assert "new patients, the QT Database: accuracy" in line
    copy = tmp_path / "ecgnet.keras"
    shutil.copy2(aami, copy)
    for p in aami.parent.glob("ecgnet.eval.*.json"):
        shutil.copy2(p, tmp_path / p.name)
    assert "AAMI DS2" in _model_figures(SimpleNamespace(card=read_card(aami), path=copy))
    copy.write_bytes(b"another network")
    assert "new patients" not in _model_figures(SimpleNamespace(card=read_card(aami),
                                                                path=copy))
