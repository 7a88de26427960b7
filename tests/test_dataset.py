"""Dataset build on real records: layout, manifest, split, determinism, idempotence."""

import hashlib
import json

import numpy as np
import pytest

from ecg_core.canonical import CANONICAL_VERSION
from ecg_core.classes import CLASS_CODES
from ecg_core.dataset import (MANIFEST_COLUMNS, BuildConfig, aami_split, assign_split,
                              build_dataset, dataset_codes, load_images, load_split,
                              read_manifest, record_split, rhythm_from_rows, scan_folder)
from ecg_core.errors import DatasetError
from tests.conftest import (CUDB, EXCERPT_CUDB, EXCERPT_MITDB, MITDB, NSTDB, TINY_RECORDS,
                            needs_mitdb, needs_nstdb)


def _tree_hash(root):
    h = hashlib.sha256()
    for p in sorted(root.glob("*/*.png")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_layout_manifest_and_split(tiny_dataset):
    rows = read_manifest(tiny_dataset)
    assert list(rows[0]) == list(MANIFEST_COLUMNS)
    assert {r["record"] for r in rows} == set(TINY_RECORDS)
    for r in rows[:200]:
        assert (tiny_dataset / r["image"]).is_file()
        assert r["image"].startswith(r["label"] + "/")
    info = json.loads((tiny_dataset / "dataset.json").read_text())
    assert info["n_images"] == len(rows)
    assert info["counts"]["VFW"]["train"] > 0 and info["counts"]["VEB"]["test"] > 0
    # stratified 70/15/15 per class (within rounding)
    for code in ("NOR", "VFW", "LBB"):
        n = [r["split"] for r in rows if r["label"] == code]
        assert abs(n.count("test") / len(n) - 0.15) < 0.02
    # cudb windows are VFW drawn from a 250 Hz record resampled to 360 Hz
    cu = [r for r in rows if r["database"] == "cudb"]
    assert cu and all(r["label"] == "VFW" and r["fs"] == "360" for r in cu)
    # ... with the RR intervals XQRS finds inside the fibrillation, as on the Record page
    from ecg_core.analysis import detect_beats
    from ecg_core.beats import rr_intervals
    from ecg_core.records import read_record

    assert info["settings"]["vf_rr"] == "xqrs"
    rec = read_record(EXCERPT_CUDB / "cu09", annotator=None)
    found = detect_beats(rec.signal, rec.fs, "xqrs")
    prev, nxt, local = rr_intervals(found, rec.fs)
    for r in cu:
        k = int(np.argmin(np.abs(found - int(r["sample"]))))
        assert abs(int(r["sample"]) - found[k]) < 2 * rec.fs  # "beats" all through VF
        assert float(r["rr_prev_s"]) == pytest.approx(prev[k], abs=1e-4)
        assert float(r["rr_local_s"]) == pytest.approx(local[k], abs=1e-4)


def test_build_is_deterministic_and_idempotent(tiny_dataset, tmp_path):
    before = _tree_hash(tiny_dataset)
    manifest = (tiny_dataset / "manifest.csv").read_bytes()
    config = BuildConfig(records=TINY_RECORDS)
    build_dataset(tiny_dataset, mitdb=EXCERPT_MITDB, cudb=EXCERPT_CUDB, config=config,
                  progress=False)
    assert _tree_hash(tiny_dataset) == before
    assert (tiny_dataset / "manifest.csv").read_bytes() == manifest
    # a fresh build elsewhere with the same seed gives identical images
    other = tmp_path / "again"
    build_dataset(other, mitdb=EXCERPT_MITDB, cudb=None,
                  config=BuildConfig(records=["100"]), progress=False)
    mine = {r["image"] for r in read_manifest(other)}
    assert all((tiny_dataset / m).read_bytes() == (other / m).read_bytes()
               for m in list(mine)[:50] if (tiny_dataset / m).exists())
    # a build made before drawings existed (no "drawings" setting) is the same build
    info_path = tiny_dataset / "dataset.json"
    info = json.loads(info_path.read_text())
    del info["settings"]["drawings"]
    info_path.write_text(json.dumps(info))
    build_dataset(tiny_dataset, mitdb=EXCERPT_MITDB, cudb=EXCERPT_CUDB, config=config,
                  progress=False)
    assert (tiny_dataset / "manifest.csv").read_bytes() == manifest
    # ... and one made before VF windows had RR intervals is another build
    info = json.loads(info_path.read_text())
    del info["settings"]["vf_rr"]
    info_path.write_text(json.dumps(info))
    with pytest.raises(DatasetError, match="other settings"):
        build_dataset(tiny_dataset, mitdb=EXCERPT_MITDB, cudb=EXCERPT_CUDB, config=config,
                      progress=False)
    info["settings"]["vf_rr"] = "xqrs"
    info_path.write_text(json.dumps(info))
    # other settings in the same folder are refused without --overwrite
    with pytest.raises(DatasetError, match="other settings"):
        build_dataset(tiny_dataset, mitdb=EXCERPT_MITDB, cudb=EXCERPT_CUDB,
                      config=BuildConfig(records=TINY_RECORDS, seed=1),
                      progress=False)


def test_cap_limits_the_majority_class(tmp_path):
    out = tmp_path / "capped"
    info = build_dataset(out, mitdb=EXCERPT_MITDB, cudb=None,
                         config=BuildConfig(records=["100"], max_per_class=300), progress=False)
    assert sum(info["counts"]["NOR"].values()) == 300


def test_load_split_gives_canonical_arrays(tiny_dataset):
    x, y, rows = load_split(tiny_dataset, "test")
    assert x.dtype == np.uint8 and x.shape[1:] == (64, 64) and len(x) == len(y) == len(rows)
    assert x.reshape(len(x), -1).max(axis=1).min() == 255  # every image holds a trace
    assert set(y.tolist()) <= set(range(len(CLASS_CODES)))
    assert (tiny_dataset / "canonical_64x64.npz").is_file()  # cache written
    x2, y2, _ = load_split(tiny_dataset, "test")
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    # a cache written by another version of the canonical form is not read
    cache = tiny_dataset / "canonical_64x64.npz"
    with np.load(cache) as z:
        key, cached = str(z["key"]), z["x"]
    assert key.endswith(f":canonical-{CANONICAL_VERSION}")
    np.savez(cache, x=np.zeros_like(cached), key=key.rsplit(":", 1)[0])
    x4, _, _ = load_split(tiny_dataset, "test")
    assert np.array_equal(x4, x)
    # another input size has its own cache, and the same beats
    x3, y3, _ = load_split(tiny_dataset, "test", size=(32, 48))
    assert x3.shape == (len(x), 32, 48) and np.array_equal(y3, y)
    assert (tiny_dataset / "canonical_32x48.npz").is_file()
    with pytest.raises(ValueError, match="at least 8"):
        load_split(tiny_dataset, "test", size=(4, 4))


def test_plain_class_folders_map_synonyms(tmp_path):
    import shutil

    from tests.conftest import EXAMPLES

    for folder, code in [("Premature Atrial Contraction", "PAB"),
                         ("Left Bundle Branch Block", "LBB")]:
        (tmp_path / folder).mkdir()
        for p in sorted((EXAMPLES / code).glob("*.png")):
            shutil.copy(p, tmp_path / folder / p.name)
    rows = scan_folder(tmp_path)
    assert {r["label"] for r in rows} == {"PAB", "LBB"}
    x, y, _ = load_split(tmp_path, "all")
    assert len(x) == len(rows) == 6
    with pytest.raises(DatasetError):
        scan_folder(tmp_path / "empty")


def test_record_split_keeps_patients_apart_and_is_deterministic():
    rng = np.random.default_rng(0)
    groups = [f"mitdb/{100 + i // 50}" for i in range(1000)]  # 20 records of 50 beats
    labels = [str(rng.choice(["NOR", "PVC", "APC"])) for _ in groups]
    split = record_split(labels, groups, (0.7, 0.15, 0.15), seed=1)
    assert split == record_split(labels, groups, (0.7, 0.15, 0.15), seed=1)
    by_record = {}
    for g, s in zip(groups, split):
        by_record.setdefault(g, set()).add(s)
    assert all(len(s) == 1 for s in by_record.values())  # no record on two sides
    sides = [next(iter(s)) for s in by_record.values()]
    assert sides.count("test") >= 2 and sides.count("val") >= 2 and sides.count("train") >= 10
    with pytest.raises(DatasetError):
        record_split(["NOR", "NOR"], ["a", "b"], (0.7, 0.15, 0.15), seed=1)


def test_record_protocol_on_a_built_dataset_uses_the_manifest(tiny_dataset):
    rows = read_manifest(tiny_dataset)
    split = assign_split(rows, "record")
    records = {}
    for r, s in zip(rows, split):
        records.setdefault((r["database"], r["record"]), set()).add(s)
    assert all(len(s) == 1 for s in records.values())
    assert {next(iter(s)) for s in records.values()} == {"train", "val", "test"}
    x, y, test_rows = load_split(tiny_dataset, "test", protocol="record")
    assert len(x) == len(test_rows) == split.count("test")
    with pytest.raises(DatasetError, match="Unknown split protocol"):
        assign_split(rows, "nonsense")


def test_several_drawings_per_beat_train_only(tmp_path):
    one = build_dataset(tmp_path / "one", mitdb=EXCERPT_MITDB, cudb=None,
                        config=BuildConfig(records=["100"], max_per_class=600), progress=False)
    info = build_dataset(tmp_path / "three", mitdb=EXCERPT_MITDB, cudb=None,
                         config=BuildConfig(records=["100"], max_per_class=600, drawings=3),
                         progress=False)
    assert info["counts"] == one["counts"]  # counts are beats, not images
    assert info["n_images"] == 3 * info["n_beats"] == 3 * one["n_images"]
    rows, beats = read_manifest(tmp_path / "three"), read_manifest(tmp_path / "one")
    first = [r for r in rows if r["drawing"] == "0"]
    # drawing 0 is the one-drawing build: same rows (but the drawing column), same PNG bytes
    assert [{**r, "drawing": "0"} for r in beats] == first
    assert all((tmp_path / "one" / r["image"]).read_bytes()
               == (tmp_path / "three" / r["image"]).read_bytes() for r in beats[:100])
    extra = [r for r in rows if r["drawing"] == "2"]
    assert extra[0]["image"].endswith("_d2.png") and len({r["style_seed"] for r in rows}) > (
        2.9 * len(beats))
    differ = sum((tmp_path / "three" / a["image"]).read_bytes()
                 != (tmp_path / "three" / b["image"]).read_bytes()
                 for a, b in zip(first[:200], extra[:200]))
    assert differ > 120  # two random styles; a quarter of the styles are the default one
    # validation and test score each beat once; training takes every drawing
    split = assign_split(rows, "beat")
    for r, s in zip(rows, split):
        assert s == (r["split"] if r["drawing"] == "0" or r["split"] == "train" else "excluded")
    x_tr, _, tr = load_split(tmp_path / "three", "train")
    x_te, y_te, te = load_split(tmp_path / "three", "test")
    x_te1, y_te1, _ = load_split(tmp_path / "one", "test")
    assert len(tr) == 3 * sum(r["split"] == "train" for r in beats)
    assert np.array_equal(x_te, x_te1) and np.array_equal(y_te, y_te1)
    x_all, _, _ = load_split(tmp_path / "three", "all")
    assert len(x_all) == len(x_tr) + len(beats) - len(tr) // 3
    with pytest.raises(DatasetError, match="random styles or the other lead"):
        build_dataset(tmp_path / "plain", mitdb=EXCERPT_MITDB,
                      config=BuildConfig(records=["100"], drawings=2, styled=False),
                      progress=False)
    with pytest.raises(DatasetError, match="at least once"):
        build_dataset(tmp_path / "none", mitdb=EXCERPT_MITDB,
                      config=BuildConfig(records=["100"], drawings=0), progress=False)


def test_other_lead_draws_the_extra_drawing_from_the_second_channel(tmp_path):
    from ecg_core.conditioning import condition_signal
    from ecg_core.records import read_record
    from ecg_core.rendering import DEFAULT_STYLE, render_beat

    config = BuildConfig(records=["100"], max_per_class=300, styled=False, drawings=2,
                         other_lead=True, conditioning="bandpass")
    info = build_dataset(tmp_path / "leads", mitdb=EXCERPT_MITDB, config=config, progress=False)
    assert info["settings"]["other_lead"] is True and info["n_images"] == 2 * info["n_beats"]
    rows = read_manifest(tmp_path / "leads")
    first = [r for r in rows if r["drawing"] == "0"]
    second = [r for r in rows if r["drawing"] == "1"]
    # MIT-BIH 100: MLII and V5; drawing 0 on MLII, drawing 1 of the same beat on V5
    assert {r["lead"] for r in first} == {"MLII"} and {r["lead"] for r in second} == {"V5"}
    rec = read_record(EXCERPT_MITDB / "100", lead="V5", annotator=None)
    v5 = condition_signal(rec.signal, rec.fs, "bandpass")
    import cv2

    for r in second[:5]:
        drawn = cv2.imread(str(tmp_path / "leads" / r["image"]), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(drawn, render_beat(v5, int(r["sample"]), rec.fs, DEFAULT_STYLE))
    differ = sum((tmp_path / "leads" / a["image"]).read_bytes()
                 != (tmp_path / "leads" / b["image"]).read_bytes()
                 for a, b in zip(first[:50], second[:50]))
    assert differ == 50
    # the second lead is seen in training only; validation and test keep the MLII drawing
    split = assign_split(rows, "beat")
    assert all(s in ("train", "excluded") for r, s in zip(rows, split) if r["drawing"] == "1")
    x, _, te = load_split(tmp_path / "leads", "test")
    assert te and {r["lead"] for r in te} == {"MLII"}
    # a second run keeps the build, and the leads in its manifest
    again = (tmp_path / "leads" / "manifest.csv").read_bytes()
    build_dataset(tmp_path / "leads", mitdb=EXCERPT_MITDB, config=config, progress=False)
    assert (tmp_path / "leads" / "manifest.csv").read_bytes() == again
    # each test beat's drawing on the other lead is found for a model that reads both leads
    from ecg_core.dataset import other_lead_rows

    others = other_lead_rows(te, tmp_path / "leads")
    assert len(others) == len(te) and all(o is not None for o in others)
    assert all((o["lead"], o["sample"], o["label"], o["drawing"]) == ("V5", r["sample"],
                                                                      r["label"], "1")
               for o, r in zip(others, te))
    # a drawing 1 on the same lead (a one-channel record) is no other lead
    assert other_lead_rows([{**te[0], "lead": "V5"}], tmp_path / "leads") == [None]
    # read on both leads: the mean of the two readings, beat by beat
    from ecg_core.__main__ import _split_probabilities
    from ecg_core.model import BOTH_LEADS_METHOD, Classifier
    from tests.conftest import MODEL

    clf = Classifier.load(MODEL)
    one = _split_probabilities(clf, x, te, data_dir=tmp_path / "leads")
    x2 = load_images([str(tmp_path / "leads" / o["image"]) for o in others])
    on_v5 = _split_probabilities(clf, x2, others, data_dir=tmp_path / "leads")
    clf.both_leads = {"method": BOTH_LEADS_METHOD}
    both = _split_probabilities(clf, x, te, data_dir=tmp_path / "leads")
    np.testing.assert_allclose(both, (one + on_v5) / 2, atol=1e-6)
    assert not np.allclose(both, one, atol=1e-3)
    # `calibrate` on a card that reads both leads fits T on what it serves: the mean of the two
    # readings, each rescaled by T first
    import shutil

    from ecg_core.__main__ import _split_readings, main
    from ecg_core.calibration import fit_temperature, mean_reading

    for ext in (".keras", ".tflite", ".card.json"):
        shutil.copy2(MODEL.with_name("ecgnet" + ext), tmp_path / ("both" + ext))
    card = json.loads((tmp_path / "both.card.json").read_text())
    card["both_leads"] = {"method": BOTH_LEADS_METHOD}
    card.pop("calibration", None)
    (tmp_path / "both.card.json").write_text(json.dumps(card))
    assert main(["calibrate", "--model", str(tmp_path / "both.keras"),
                 "--data", str(tmp_path / "leads")]) == 0
    cal = json.loads((tmp_path / "both.card.json").read_text())["calibration"]
    xv, yv, rv = load_split(tmp_path / "leads", "val")
    readings = _split_readings(Classifier.load(tmp_path / "both.keras"), xv, rv,
                               calibrated=False, data_dir=tmp_path / "leads")
    assert readings.shape == (2, len(rv), len(clf.class_codes)) and cal["readings"] == 2
    assert cal["temperature"] == pytest.approx(fit_temperature(yv, readings), rel=1e-3)
    served = mean_reading(readings, cal["temperature"])
    assert cal["nll_after"] == pytest.approx(
        -np.mean(np.log(served[np.arange(len(yv)), yv])), rel=1e-4)
    # the served probabilities are the calibrated readings' mean
    calibrated = Classifier.load(tmp_path / "both.keras")
    np.testing.assert_allclose(_split_probabilities(calibrated, xv, rv,
                                                    data_dir=tmp_path / "leads"),
                               served, atol=1e-5)
    # with a class-mix shift, the card's figures are those of what the model then serves
    assert main(["calibrate", "--model", str(tmp_path / "both.keras"),
                 "--data", str(tmp_path / "leads"), "--class-mix-shift", "0.5"]) == 0
    shifted_card = json.loads((tmp_path / "both.card.json").read_text())
    shifted = Classifier.load(tmp_path / "both.keras")
    assert shifted_card["calibration"]["temperature"] != cal["temperature"]
    xt, yt, rt = load_split(tmp_path / "leads", "test")
    for split, (xs, ys, rs) in (("validation", (xv, yv, rv)), ("test", (xt, yt, rt))):
        p = _split_probabilities(shifted, xs, rs, data_dir=tmp_path / "leads")
        assert shifted_card[split]["n"] == len(ys)
        assert shifted_card[split]["accuracy"] == pytest.approx(float((p.argmax(1) == ys).mean()))
        assert shifted_card[split]["loss"] == pytest.approx(
            -np.mean(np.log(np.clip(p[np.arange(len(ys)), ys], 1e-7, 1))), rel=1e-3, abs=1e-5)
    # `evaluate --lone-images`: each image read alone, as the Predict page reads an upload
    # (no RR intervals, one lead), its headline figures written into the card, no artifact
    from tests.conftest import ROOT

    for ext in (".keras", ".tflite", ".card.json"):
        shutil.copy2(ROOT / "models" / "record" / ("ecgnet" + ext), tmp_path / ("lone" + ext))
    before = (tmp_path / "lone.card.json").read_text()
    assert main(["evaluate", "--model", str(tmp_path / "lone.keras"), "--data",
                 str(tmp_path / "leads"), "--protocol", "beat", "--lone-images"]) == 0
    assert not list(tmp_path.glob("lone.eval.*"))
    after = (tmp_path / "lone.card.json").read_text()
    lone = json.loads(after)["lone_image"]
    rhythm_model = Classifier.load(tmp_path / "lone.keras")
    alone = rhythm_model.predict_canonical(x, None)
    labels = np.array([rhythm_model.class_codes.index(CLASS_CODES[i]) for i in
                       load_split(tmp_path / "leads", "test")[1]])
    assert lone["n"] == len(te) and lone["records"] == 1 and lone["split"] == "test"
    assert lone["accuracy"] == pytest.approx(float((alone.argmax(1) == labels).mean()))
    in_record = _split_probabilities(rhythm_model, x, te, data_dir=tmp_path / "leads")
    assert not np.allclose(in_record, alone, atol=1e-3)  # the RR intervals and V5 matter
    # the card keeps its layout: only the new field is added
    assert after.splitlines()[1][:2] == before.splitlines()[1][:2]
    def without(text):
        return {k: v for k, v in json.loads(text).items() if k != "lone_image"}

    assert without(before) == without(after)
    # `calibrate` of a rhythm model also fits a temperature on the validation beats read alone,
    # kept only where it calibrates them better than the model's own
    from ecg_core.calibration import apply_temperature, reliability

    card = json.loads(after)
    card["protocol"]["name"] = "beat"  # one record: its beats split at random
    (tmp_path / "lone.card.json").write_text(json.dumps(card, indent=1))
    assert main(["calibrate", "--model", str(tmp_path / "lone.keras"),
                 "--data", str(tmp_path / "leads")]) == 0
    cal = json.loads((tmp_path / "lone.card.json").read_text())["calibration"]
    xv, yv, rv = load_split(tmp_path / "leads", "val")
    yv = np.array([rhythm_model.class_codes.index(CLASS_CODES[i]) for i in yv])
    raw = Classifier.load(tmp_path / "lone.keras").predict_canonical(xv, None, calibrated=False)
    t_lone = fit_temperature(yv, raw)
    with_own = reliability(yv, apply_temperature(raw, cal["temperature"]))["ece"]
    with_lone = reliability(yv, apply_temperature(raw, t_lone))["ece"]
    served = Classifier.load(tmp_path / "lone.keras")
    if with_lone < with_own:
        assert cal["lone_image"]["temperature"] == pytest.approx(t_lone, rel=1e-3)
        assert cal["lone_image"]["ece_with_temperature"] == pytest.approx(with_own)
        assert served.lone_temperature == pytest.approx(t_lone, rel=1e-3)
    else:
        assert "lone_image" not in cal and served.lone_temperature == served.temperature
    np.testing.assert_allclose(served.predict_canonical(xv),
                               apply_temperature(raw, served.lone_temperature), atol=1e-5)


@needs_nstdb
def test_noisy_drawings_add_recorded_noise_to_lead_mlii_for_training_only(tmp_path):
    import cv2

    from ecg_core.conditioning import RECORDED_NOISES, add_recorded_noise, condition_signal
    from ecg_core.dataset import NOISE_TRAINING_CHANNEL, NOISY_SNRS_DB, style_seed
    from ecg_core.records import read_record
    from ecg_core.rendering import DEFAULT_STYLE, render_beat

    common = dict(records=["100"], max_per_class=60, styled=False, drawings=2, other_lead=True,
                  conditioning="bandpass")
    clean = build_dataset(tmp_path / "clean", mitdb=EXCERPT_MITDB, config=BuildConfig(**common),
                          progress=False)
    config = BuildConfig(**common, noisy_drawings=1)
    info = build_dataset(tmp_path / "noisy", mitdb=EXCERPT_MITDB, nstdb=NSTDB, config=config,
                         progress=False)
    assert info["n_images"] == 3 * info["n_beats"] == 3 * clean["n_beats"]
    assert info["settings"]["sources"]["nstdb"] == str(NSTDB)
    assert info["settings"]["noise_channel"] == NOISE_TRAINING_CHANNEL == "noise2"
    rows = read_manifest(tmp_path / "noisy")
    # drawings 0 and 1 are those of the build without noise, file for file
    assert [r for r in rows if r["drawing"] != "2"] == read_manifest(tmp_path / "clean")
    for r in rows[:6]:
        if r["drawing"] != "2":
            assert ((tmp_path / "noisy" / r["image"]).read_bytes()
                    == (tmp_path / "clean" / r["image"]).read_bytes())
    noisy = [r for r in rows if r["drawing"] == "2"]
    assert len(noisy) == info["n_beats"] and {r["lead"] for r in noisy} == {"MLII"}
    # each noisy drawing is lead MLII with one of the noise records at one of the SNRs added
    # (the noise's second channel, from the record's offset), conditioned, then drawn
    rec = read_record(EXCERPT_MITDB / "100", annotator=None)
    qrs = np.array(sorted({int(r["sample"]) for r in rows}))
    candidates = []
    for kind in RECORDED_NOISES:
        noise = read_record(NSTDB / kind, lead="noise2", annotator=None).signal
        offset = int(np.random.default_rng(style_seed(config.seed, "mitdb", f"100:{kind}", 0))
                     .integers(len(noise)))
        for snr in NOISY_SNRS_DB:
            candidates.append(condition_signal(
                add_recorded_noise(rec.signal, qrs, rec.fs, noise, snr, offset), rec.fs,
                "bandpass"))
    conditioned = condition_signal(rec.signal, rec.fs, "bandpass")
    for r in noisy[:4]:
        drawn = cv2.imread(str(tmp_path / "noisy" / r["image"]), cv2.IMREAD_UNCHANGED)
        assert not np.array_equal(drawn, render_beat(conditioned, int(r["sample"]), rec.fs,
                                                     DEFAULT_STYLE))
        assert any(np.array_equal(drawn, render_beat(c, int(r["sample"]), rec.fs, DEFAULT_STYLE))
                   for c in candidates)
    # training material only: validation and test read drawing 0
    split = assign_split(rows, "beat")
    assert all(s in ("train", "excluded") for r, s in zip(rows, split) if r["drawing"] == "2")
    assert sum(s == "train" for r, s in zip(rows, split) if r["drawing"] == "2") > 0
    with pytest.raises(DatasetError, match="Noise Stress Test"):
        build_dataset(tmp_path / "x", mitdb=EXCERPT_MITDB, config=config, progress=False)
    with pytest.raises(DatasetError, match="noisy drawings"):
        build_dataset(tmp_path / "x", mitdb=EXCERPT_MITDB, nstdb=NSTDB,
                      config=BuildConfig(**{**common, "noisy_drawings": -1}), progress=False)


def test_extra_drawings_follow_their_beat_under_every_protocol(tiny_dataset):
    rows = read_manifest(tiny_dataset)
    extra = [{**r, "drawing": str(d), "image": r["image"][:-4] + f"_d{d}.png"}
             for d in (1, 2) for r in rows]
    for protocol in ("beat", "record"):
        base = assign_split(rows, protocol)
        got = assign_split(rows + extra, protocol)
        assert got[:len(rows)] == base  # the beats' split does not change
        assert got[len(rows):] == [s if s == "train" else "excluded" for s in base] * 2
    with pytest.raises(DatasetError, match="no drawing 0"):
        assign_split(rows[1:] + extra[:1], "beat")


def test_aami_split_trains_on_ds1_tests_on_ds2_and_validates_inside_ds1():
    from ecg_core.protocols import AAMI_DS1, AAMI_DS2

    rows = []
    for rec in (*AAMI_DS1, *AAMI_DS2, "102", "217"):
        for label in ("N",) * 20 + ("S",) * 5 + ("V",) * 5 + ("F",) * (30 if rec == "208" else 1):
            rows.append({"database": "mitdb", "record": rec, "label": label})
    rows.append({"database": "cudb", "record": "cu01", "label": "V"})
    split = aami_split(rows, val_records=4, min_val_beats=1)
    by_record = {}
    for r, s in zip(rows, split):
        by_record.setdefault((r["database"], r["record"]), set()).add(s)
    assert all(len(v) == 1 for v in by_record.values())
    side = {k[1] if k[0] == "mitdb" else k: next(iter(v)) for k, v in by_record.items()}
    assert all(side[r] == "test" for r in AAMI_DS2)
    assert {side[r] for r in AAMI_DS1} == {"train", "val"}
    assert sum(side[r] == "val" for r in AAMI_DS1) == 4
    assert side["102"] == side["217"] == side[("cudb", "cu01")] == "excluded"
    assert side["208"] == "train"  # the record holding most fusion beats stays in training
    assert assign_split(rows, "aami") == aami_split(rows)
    # QT Database records follow their fixed deal: never in the test split; adding them does
    # not move the DS1 validation records
    from ecg_core.protocols import QTDB_HELD_OUT, QTDB_TRAIN, QTDB_VAL

    assert not set(QTDB_TRAIN) & set(QTDB_VAL) and not set(QTDB_HELD_OUT) & (
        set(QTDB_TRAIN) | set(QTDB_VAL))
    assert len(QTDB_TRAIN) + len(QTDB_VAL) + len(QTDB_HELD_OUT) == 54
    qt = [{"database": "qtdb", "record": rec, "label": "N"}
          for rec in (QTDB_TRAIN[0], QTDB_VAL[0], QTDB_HELD_OUT[0])]
    with_qt = aami_split(rows + qt, val_records=4, min_val_beats=1)
    assert with_qt[:len(rows)] == split
    assert with_qt[len(rows):] == ["train", "val", "excluded"]


@needs_mitdb
def test_aami_scheme_build_uses_five_classes_and_drops_paced_records(tmp_path):
    info = build_dataset(tmp_path, mitdb=MITDB, cudb=CUDB,
                         config=BuildConfig(records=["102", "209", "232"], scheme="aami",
                                            max_per_class=None, styled=False), progress=False)
    assert info["scheme"] == "aami" and info["records"] == ["mitdb/209", "mitdb/232"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["F", "N", "Q", "S", "V"]
    rows = read_manifest(tmp_path)
    assert {r["label"] for r in rows} <= {"N", "S", "V", "F", "Q"}
    assert all(r["rr_local_s"] for r in rows)
    assert dataset_codes(tmp_path) == ("N", "S", "V", "F", "Q")
    x, y, got = load_split(tmp_path, "all")
    assert len(x) == len(rows) and y.max() < 5
    r = rhythm_from_rows(got)
    assert r.shape == (len(rows), 5) and r[:, 3].mean() > 0.99
    # the fifth: the local mean RR over the record's mean RR, about 1 on average per record
    for rec in ("209", "232"):
        mine = np.array([g["record"] == rec for g in got])
        assert 0.8 < r[mine, 4].mean() < 1.2
    # a record's other-lead drawings read alone keep that context (each beat counted once)
    second = [dict(g, drawing="1") for g in got]
    assert np.array_equal(rhythm_from_rows(second), r)
    assert np.array_equal(rhythm_from_rows(got + second)[:len(got)], r)


def test_examples_replace_an_earlier_selection_and_respect_the_filter(tiny_dataset, tmp_path):
    from ecg_core.dataset import write_examples

    sources = {"mitdb": EXCERPT_MITDB, "cudb": EXCERPT_CUDB}
    (tmp_path / "NOR").mkdir()
    (tmp_path / "NOR" / "stale.png").write_bytes(b"an earlier selection")
    paths = write_examples(tiny_dataset, sources, tmp_path, per_class=1)
    assert not (tmp_path / "NOR" / "stale.png").exists()
    assert all(len(list(p.parent.glob("*.png"))) == 1 for p in paths)
    assert {p.parent.name for p in paths} <= set(CLASS_CODES) and "NOR" in {
        p.parent.name for p in paths}
    assert write_examples(tiny_dataset, sources, tmp_path / "none", per_class=1,
                          accept=lambda png, code: False) == []


def test_cv_split_tests_every_record_once_and_keeps_patients_apart():
    from ecg_core.dataset import cv_split
    from ecg_core.errors import DatasetError

    rng = np.random.default_rng(1)
    groups = [f"r{int(i)}" for i in rng.integers(0, 23, 3000)]
    labels = [("A", "B", "C")[int(g[1:]) % 3] if rng.random() < 0.8 else "A" for g in groups]
    tested: dict[str, int] = {}
    for fold in range(1, 6):
        split = cv_split(labels, groups, fold, 5, seed=3)
        sides: dict[str, set] = {}
        for g, s in zip(groups, split):
            sides.setdefault(g, set()).add(s)
        assert all(len(s) == 1 for s in sides.values())  # a patient lies on one side only
        for g, s in sides.items():
            if s == {"test"}:
                tested[g] = tested.get(g, 0) + 1
        assert {"train", "val", "test"} <= set(split)
    assert tested == {g: 1 for g in set(groups)}
    with pytest.raises(DatasetError, match="outside"):
        cv_split(labels, groups, 6, 5)
    with pytest.raises(DatasetError, match="more than 5 records"):
        cv_split(labels[:10], [f"r{i % 4}" for i in range(10)], 1, 5)


def test_ds1_folds_deal_only_the_aami_ds1_records_and_never_touch_ds2():
    from ecg_core.dataset import assign_split
    from ecg_core.errors import DatasetError
    from ecg_core.protocols import AAMI_DS1, AAMI_DS2, DS1_CV_PROTOCOLS, QTDB_TRAIN

    rng = np.random.default_rng(2)
    rows = []
    for db, records in (("mitdb", AAMI_DS1 + AAMI_DS2), ("qtdb", QTDB_TRAIN[:3])):
        for rec in records:
            for k in range(30):
                label = "N" if rng.random() < 0.7 else ("S", "V")[k % 2]
                rows.append({"database": db, "record": rec, "label": label, "sample": k,
                             "drawing": 0, "split": "train"})
                if k % 3 == 0:  # an extra drawing follows its beat
                    rows.append({**rows[-1], "drawing": 1})
    tested: dict[str, int] = {}
    for protocol in DS1_CV_PROTOCOLS:
        split = assign_split(rows, protocol)
        for r, s in zip(rows, split):
            inside = r["database"] == "mitdb" and r["record"] in AAMI_DS1
            assert (s != "excluded") == inside or (r["drawing"] == 1 and s == "excluded")
            if s == "test" and r["drawing"] == 0 and r["sample"] == 0:
                tested[r["record"]] = tested.get(r["record"], 0) + 1
        assert {"train", "val", "test"} <= set(split)
    assert tested == {rec: 1 for rec in AAMI_DS1}  # every DS1 patient tested once
    no_ds1 = [r for r in rows if r["record"] not in AAMI_DS1]
    with pytest.raises(DatasetError, match="no AAMI DS1 record"):
        assign_split(no_ds1, "ds1-fold1")


def test_a_qtdb_build_uses_its_annotated_records_and_never_the_held_out_ones(tmp_path):
    from ecg_core.dataset import _record_names
    from ecg_core.protocols import QTDB_HELD_OUT, QTDB_TRAIN, QTDB_VAL

    names = (QTDB_TRAIN[0], QTDB_VAL[0], QTDB_HELD_OUT[0], "sel00000")
    for name in names:
        (tmp_path / f"{name}.hea").write_text("")
        if name != "sel00000":  # a record without reference beat labels
            (tmp_path / f"{name}.atr").write_bytes(b"")
    used = _record_names("qtdb", tmp_path, BuildConfig(scheme="aami"))
    assert used == sorted([QTDB_TRAIN[0], QTDB_VAL[0]])


def test_record_readings_of_a_built_split_take_classes_by_role_and_need_whole_records(
        tiny_dataset):
    """The readings of whole records work on the 8-class codes as on the AAMI ones (NOR, APC,
    PVC play N, S, V: ``beats.READING_ROLES``), and leave alone a record the rows hold only a
    sample of, naming it."""
    from ecg_core.beats import reading_class
    from ecg_core.dataset import read_manifest, record_readings_from_rows

    rows = [r for r in read_manifest(tiny_dataset) if r["database"] == "mitdb"
            and r.get("drawing", "0") in ("0", 0, "")]
    renamed = [{"NOR": "N", "APC": "S", "PVC": "V"}.get(c, c) for c in CLASS_CODES]
    assert [reading_class(CLASS_CODES, r) for r in "NSV"] == [
        reading_class(renamed, r) for r in "NSV"] == [0, 3, 4]
    assert reading_class(("LBB", "RBB"), "V") is None
    with pytest.raises(KeyError):
        reading_class(CLASS_CODES, "F")
    rng = np.random.default_rng(11)
    probs = rng.dirichlet(np.ones(8), size=len(rows)).astype(np.float32)
    probs[rng.random(len(rows)) < 0.3, 4] = 5.0
    probs /= probs.sum(axis=1, keepdims=True)
    settings = {"dominant_qrs": {"threshold": 0.9}, "af_fold": {"threshold": 1.01},
                "premature_s": {"max_before": 0.95, "min_after": 0.9, "min_similarity": 0.5}}
    by_role, reread, folded = record_readings_from_rows(probs, rows, CLASS_CODES, **settings,
                                                        data_dir=tiny_dataset)
    by_name, reread2, folded2 = record_readings_from_rows(probs, rows, renamed, **settings,
                                                          data_dir=tiny_dataset)
    assert reread.any() and not np.array_equal(by_role, probs)
    np.testing.assert_array_equal(by_role, by_name)
    np.testing.assert_array_equal(reread, reread2)
    np.testing.assert_array_equal(folded, folded2)
    # a reading whose classes the model lacks: a clear error
    with pytest.raises(ValueError, match="atrial-fibrillation reading needs classes"):
        record_readings_from_rows(probs[:, [0, 1, 2, 4]], rows,
                                  ("NOR", "LBB", "RBB", "PVC"), af_fold={"threshold": 0.5},
                                  data_dir=tiny_dataset)
    # one record held by a third of its rows: read as the network read it, and named
    name = sorted({r["record"] for r in rows if r["symbol"] != "!"})[0]
    mine = [i for i, r in enumerate(rows) if r["record"] == name]
    keep = sorted(set(range(len(rows))) - set(mine) | set(mine[::3]))
    partial: list[str] = []
    sub, _, _ = record_readings_from_rows(probs[keep], [rows[i] for i in keep], CLASS_CODES,
                                          **settings, data_dir=tiny_dataset, partial=partial)
    assert partial == [f"mitdb/{name}"]
    at = [j for j, i in enumerate(keep) if rows[i]["record"] == name]
    rest = [j for j, i in enumerate(keep) if rows[i]["record"] != name]
    np.testing.assert_array_equal(sub[at], probs[keep][at])
    np.testing.assert_array_equal(sub[rest], by_role[keep][rest])


def test_record_readings_of_a_built_split_read_each_record_as_the_record_page_does(
        tiny_dataset):
    """``record_readings_from_rows`` (``evaluate`` on built datasets) reads each record's rows
    in time order: the dominant-QRS reading against that record's typical QRS, then the
    atrial-fibrillation reading, as the two functions read them."""
    from ecg_core.beats import (atrial_consistency, dominant_qrs_reading, fibrillation_fold,
                                irregular_rr, qrs_similarity)
    from ecg_core.dataset import read_manifest, record_readings_from_rows
    from ecg_core.records import read_record

    rows = [r for r in read_manifest(tiny_dataset) if r["database"] == "mitdb"
            and r.get("drawing", "0") in ("0", 0, "")]
    # the eight classes under the AAMI names the readings look for (NOR, APC, PVC: N, S, V)
    codes = [{"NOR": "N", "APC": "S", "PVC": "V"}.get(c, c) for c in CLASS_CODES]
    n, s, v = codes.index("N"), codes.index("S"), codes.index("V")
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(8), size=len(rows)).astype(np.float32)
    probs[rng.random(len(rows)) < 0.3, v] = 5.0  # about a third read V
    probs /= probs.sum(axis=1, keepdims=True)
    # a threshold above any correlation: every irregular beat with a consistency is folded
    settings = {"dominant_qrs": {"threshold": 0.9}, "af_fold": {"threshold": 1.01}}
    out, reread, folded = record_readings_from_rows(probs, rows, codes, **settings,
                                                    data_dir=tiny_dataset)
    assert out.shape == probs.shape and reread.any() and folded.any()
    flutter = np.array([r["symbol"] == "!" for r in rows])  # VF windows: not beats
    assert flutter.any() and np.array_equal(out[flutter], probs[flutter])
    for name in {r["record"] for r in rows}:
        idx = np.array([i for i, r in enumerate(rows) if r["record"] == name and not flutter[i]])
        idx = idx[np.argsort([int(rows[i]["sample"]) for i in idx], kind="stable")]
        rec = read_record(EXCERPT_MITDB / name, annotator=None)
        pos = np.array([int(rows[i]["sample"]) for i in idx])
        want, flags = dominant_qrs_reading(probs[idx], qrs_similarity(rec.signal, pos, rec.fs),
                                           v, 0.9)
        np.testing.assert_array_equal(reread[idx], flags)
        consistency = atrial_consistency(rec.signal, pos, rec.fs, want.argmax(axis=1) != v)
        want, flags = fibrillation_fold(want, irregular_rr(pos, rec.fs), consistency, n, s,
                                        1.01)
        np.testing.assert_allclose(out[idx], want, atol=1e-6)
        np.testing.assert_array_equal(folded[idx], flags)
        assert (out[idx][flags, s] == 0).all()
    # without a reading, nothing changes and no record is read
    same, none, nothing = record_readings_from_rows(probs, rows, codes,
                                                    sources={"mitdb": tiny_dataset / "no"})
    assert np.array_equal(same, probs) and not none.any() and not nothing.any()
    # a record that is not where the build says: one clear error, naming it
    from ecg_core.errors import DatasetError

    with pytest.raises(DatasetError, match="whole record of mitdb/.* needs its record"):
        record_readings_from_rows(probs, rows, codes, **settings,
                                  sources={"mitdb": tiny_dataset / "nowhere"})
