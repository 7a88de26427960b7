"""The command-line interface, run as a user would: python -m ecg_core ..."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from ecg_core.classes import CLASS_CODES
from tests.conftest import EXAMPLES, EXCERPT_CUDB, EXCERPT_MITDB, MODEL, ROOT


def _run(*args, cwd=ROOT):
    import os

    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the checkout's package, from any folder
    return subprocess.run([sys.executable, "-m", "ecg_core", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_predict_folder_and_bad_file_to_csv(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out = tmp_path / "pred.csv"
    res = _run("predict", str(EXAMPLES / "PVC"), str(EXAMPLES / "LBB"), str(bad),
               "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["path", "predicted", *CLASS_CODES, "warning", "error"]
    assert not any(r["warning"] for r in rows)  # clean drawings of one beat
    assert len(rows) == 7
    good = [r for r in rows if not r["error"]]
    assert len(good) == 6
    for r in good:
        assert r["predicted"] == ("PVC" if "/PVC/" in r["path"] else "LBB")
        assert abs(sum(float(r[c]) for c in CLASS_CODES) - 1) < 1e-3
    assert rows[-1]["path"].endswith("broken.png") and rows[-1]["predicted"] == ""
    assert "damaged" in rows[-1]["error"] or "not a readable" in rows[-1]["error"]


def test_predict_prints_csv_to_stdout():
    res = _run("predict", str(sorted((EXAMPLES / "NOR").glob("*.png"))[0]))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("path,predicted,NOR") and ",NOR," in lines[1]


def test_missing_model_exits_non_zero_with_one_line(tmp_path):
    res = _run("predict", str(EXAMPLES), "--model", str(tmp_path / "nope.keras"))
    assert res.returncode == 2
    assert res.stderr.strip().startswith("error:") and len(res.stderr.strip().splitlines()) == 1


def test_build_dataset_refuses_missing_source(tmp_path):
    res = _run("build-dataset", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "database folder" in res.stderr
    res = _run("build-dataset", "--mitdb", str(EXCERPT_MITDB), "--records", "100", "--plain",
               "--noisy-drawings", "1", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "--nstdb" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_build_dataset_with_several_drawings(tmp_path):
    res = _run("build-dataset", "--mitdb", str(EXCERPT_MITDB), "--records", "100", "--plain",
               "--drawings", "2", "--out", str(tmp_path / "plain"))
    assert res.returncode == 2 and "random styles" in res.stderr
    res = _run("build-dataset", "--mitdb", str(EXCERPT_MITDB), "--records", "100,232",
               "--max-per-class", "100", "--drawings", "2", "--out", str(tmp_path / "x2"))
    assert res.returncode == 0, res.stderr
    words = res.stdout.split()  # "602 images of 301 beats from 2 records in ..."
    n_images, n_beats = int(words[0]), int(words[3])
    assert n_images == 2 * n_beats and words[4:7] == ["beats", "from", "2"], res.stdout
    assert len(list((tmp_path / "x2").glob("*/*_d1.png"))) == n_beats
    # a plain build may draw its extra drawing on the other lead (MIT-BIH 100: V5)
    res = _run("build-dataset", "--mitdb", str(EXCERPT_MITDB), "--records", "100", "--plain",
               "--max-per-class", "50", "--drawings", "2", "--other-lead",
               "--out", str(tmp_path / "leads"))
    assert res.returncode == 0, res.stderr
    import csv

    with open(tmp_path / "leads" / "manifest.csv", newline="") as fh:
        leads = {(r["drawing"], r["lead"]) for r in csv.DictReader(fh)}
    assert leads == {("0", "MLII"), ("1", "V5")}


def test_classify_record_with_annotations_writes_per_beat_csv(tmp_path):
    out = tmp_path / "beats.csv"
    res = _run("classify-record", str(EXCERPT_MITDB / "208"), "--annotations", "atr", "--out",
               str(out))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:6] == ["sample", "time_s", "reference", "predicted", "rr_prev_s",
                                "snr_db"]
    assert len(rows) > 450 and {r["reference"] for r in rows} >= {"N", "V", "F"}
    # the summary is for the person (stdout, as the CSV went to a file); the bar on stderr,
    # counting the record's seconds (a 5-minute excerpt: 300), ending once at 100%
    assert "agreement with atr: accuracy" in res.stdout and "rows written to" in res.stdout
    # the default model was trained under the beat split: the summary says what that means
    # for a new person, and which model reads such people best
    assert "note: `ecgnet` was trained and tested on beats of the same patients" in res.stdout
    assert "give --model aami/ecgnet for a new person's record" in res.stdout
    # and how far to trust the classes it found here, from its new-patient artifact
    from ecg_core.evaluation import new_patient_tables

    pvc = new_patient_tables(MODEL)[0]["figures"]["PVC"]
    assert ("on patients it never saw (the QT Database), Se/+P of the classes found here: "
            "NOR ") in res.stdout
    assert f"PVC {pvc['sensitivity']:.0%}/{pvc['precision']:.0%}" in res.stdout
    assert "classifying beats" in res.stderr and "300/300" in res.stderr
    # the bar only moves forward and ends at the record's length (tqdm may print its last
    # state twice, at the last update and on closing, depending on timing)
    counts = [int(m) for m in re.findall(r"classifying beats:.*?\| *(\d+)/300", res.stderr)]
    assert counts == sorted(counts) and counts[-1] == 300, res.stderr


def test_classify_record_and_evaluate_refuse_bad_input(tmp_path):
    res = _run("classify-record", str(tmp_path / "nothing"))
    assert res.returncode == 2 and res.stderr.startswith("error:")
    assert len(res.stderr.strip().splitlines()) == 1
    res = _run("evaluate", "--model", str(tmp_path / "missing.keras"), "--data", str(tmp_path))
    assert res.returncode == 2 and "not found" in res.stderr


def test_evaluate_writes_artifacts_and_comparison_table(tmp_path):
    # a plain folder of class folders (the layout of the shared image dataset)
    import shutil

    data = tmp_path / "set"
    for code, folder in (("PVC", "Premature Ventricular Contractions"), ("NOR", "Normal")):
        shutil.copytree(EXAMPLES / code, data / folder)
    models = tmp_path / "artifacts"
    table = tmp_path / "table.md"
    res = _run("evaluate", "--model", str(ROOT / "models" / "ecgnet.keras"),
               str(ROOT / "models" / "baseline.keras"), "--data", str(data), "--split", "all",
               "--protocol", "beat", "--out", str(models), "--table", str(table),
               "--by-record")
    assert res.returncode == 0, res.stderr
    assert "ecgnet: no records to count by (plain class folders)" in res.stdout
    assert (models / "ecgnet.eval.beat.all.set.json").is_file()
    assert (models / "baseline.eval.beat.all.set.npz").is_file()
    # plain folders say nothing of records (patients): no count rather than a wrong one
    doc = json.loads((models / "ecgnet.eval.beat.all.set.json").read_text())
    assert "n_records" not in doc["figures"] and "by_record" not in doc["figures"]
    text = table.read_text()
    assert text.count("\n") == 4 and "| ecgnet | beat | all | 6 |  |" in text


def test_predict_on_a_corpus_of_hostile_files_writes_nothing_else(tmp_path):
    from tests.badfiles import corpus

    good = sorted((EXAMPLES / "PVC").glob("*.png"))[0]
    folder = tmp_path / "corpus"
    for name, data in corpus(good.read_bytes()).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    before = sorted(p for p in tmp_path.rglob("*"))
    out = tmp_path / "out.csv"
    res = _run("predict", str(folder), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = {r["path"].split("corpus/")[1]: r for r in csv.DictReader(out.open())}
    assert len(rows) == 12
    for name, r in rows.items():
        if name.startswith("refuse/"):
            assert r["error"] and not r["predicted"], name
        else:
            assert not r["error"] and r["predicted"] == "PVC", (name, r["error"])
    assert sorted(p for p in tmp_path.rglob("*") if p != out) == before


def test_every_command_takes_the_aami_model_and_its_class_list(tmp_path):
    model = ROOT / "models" / "aami" / "ecgnet.keras"
    out = tmp_path / "pred.csv"
    res = _run("predict", str(EXAMPLES / "PVC"), "--model", str(model), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["path", "predicted", "N", "S", "V", "F", "Q", "warning", "error"]
    assert all(r["predicted"] in "NSVFQ" for r in rows)
    beats = tmp_path / "beats.csv"
    res = _run("classify-record", str(EXCERPT_MITDB / "208"), "--annotations", "atr", "--model",
               str(model), "--out", str(beats))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(beats.open()))
    # the dominant-QRS reading marks the beats whose V reading it dropped
    # and the atrial-fibrillation reading the beats in stretches read as atrial fibrillation
    # (each beside the measure it was judged by), and the V-template reading the beats it read V;
    # the last check of V calls on both leads gives its two-lead similarity, and the
    # premature-beat reading marks the N calls it read S
    assert list(rows[0])[6:] == ["qrs_similarity", "v_reread", "qrs_similarity_two_leads",
                                 "atrial_consistency", "s_folded", "v_template", "s_premature",
                                 "N", "S", "V", "F", "Q"]
    assert {r["s_premature"] for r in rows} <= {"True", "False"}
    assert all(r["predicted"] == "S" for r in rows if r["s_premature"] == "True")
    assert {r["v_template"] for r in rows} <= {"True", "False"}
    assert all(r["predicted"] == "V" for r in rows if r["v_template"] == "True")
    assert all(float(r["qrs_similarity"]) >= 0.95 for r in rows if r["v_reread"] == "True")
    assert {r["s_folded"] for r in rows} <= {"True", "False"}
    assert not any(r["s_folded"] == "True" and r["predicted"] == "S" for r in rows)
    assert {r["v_reread"] for r in rows} <= {"True", "False"}
    assert not any(r["v_reread"] == "True" and r["predicted"] == "V" for r in rows)
    assert "agreement with atr" in res.stdout


def test_truncated_or_wrong_model_file_gives_one_line_and_status_2(tmp_path):
    import shutil

    good = ROOT / "models" / "ecgnet.keras"
    for name, data in (("truncated.keras", good.read_bytes()[:5000]),
                       ("wrong.keras", b"this is not a keras archive")):
        path = tmp_path / name
        path.write_bytes(data)
        shutil.copy(ROOT / "models" / "ecgnet.card.json", path.with_name(
            path.stem + ".card.json"))
        res = _run("predict", str(EXAMPLES / "NOR"), "--model", str(path))
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and "could not be loaded" in \
            lines[0] and "damaged" in lines[0] and "not found" not in lines[0]
    no_card = tmp_path / "nocard.keras"
    no_card.write_bytes(good.read_bytes())
    res = _run("predict", str(EXAMPLES / "NOR"), "--model", str(no_card))
    assert res.returncode == 2 and "card" in res.stderr


def test_install_puts_a_run_under_a_models_name_and_refuses_to_install_it_twice(tmp_path):
    """`install` copies a network with its twin and history under a new name, and the model
    then serves by that name through the models folder; installing it over itself, or a run
    whose files are missing, ends with one line and status 2."""
    import shutil

    run = tmp_path / "run"
    run.mkdir()
    for suffix in (".keras", ".tflite", ".card.json", ".history.json"):
        shutil.copy(ROOT / "models" / f"baseline{suffix}", run / f"baseline{suffix}")
    models = tmp_path / "models"
    res = _run("install", str(run / "baseline.keras"), str(models / "mine.keras"))
    assert res.returncode == 0, res.stderr
    assert "mine.keras: baseline" in res.stdout and "replaces" not in res.stdout
    card = json.loads((models / "mine.card.json").read_text())
    assert card["name"] == "mine" and card["runtime"]["file"] == "mine.tflite"
    res = _run("--models", str(models), "predict", str(EXAMPLES / "NOR"), "--model", "mine")
    assert res.returncode == 0 and "runs on Keras" not in res.stderr, res.stderr  # twin serves
    rows = list(csv.DictReader(res.stdout.splitlines()))
    assert rows and all(r["predicted"] for r in rows)
    for args, said in (((str(run / "baseline.keras"), str(models / "mine.keras")),
                        "installed already"),
                       ((str(tmp_path / "none.keras"), str(models / "other.keras")), "missing"),
                       ((str(run / "baseline.keras"), str(models / "other.keras"),
                         "--replaces", str(tmp_path / "none.card.json")), "not found")):
        res = _run("install", *args)
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1 and said in lines[0], res.stderr
    assert not (models / "other.keras").exists()


def test_train_command_with_a_training_cap_and_the_prior_adjustment(tiny_dataset, tmp_path):
    out = tmp_path / "models"
    res = _run("train", "--arch", "baseline", "--data", str(tiny_dataset), "--out", str(out),
               "--epochs", "1", "--max-train-per-class", "40", "--prior-adjustment",
               "validation")
    assert res.returncode == 0, res.stderr
    assert "baseline: test accuracy" in res.stdout and "prior shift" in res.stdout
    card = json.loads((out / "baseline.card.json").read_text())
    assert card["training"]["max_train_per_class"] == 40
    assert card["training"]["n_train"] <= 40 * 8
    assert card["prior_adjustment"]["strength"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    res = _run("train", "--arch", "baseline", "--data", str(tiny_dataset), "--out", str(out),
               "--prior-adjustment", "test")
    assert res.returncode == 2 and "invalid choice" in res.stderr


def test_examples_with_a_model_keep_only_beats_it_reads_as_their_class(tiny_dataset, tmp_path):
    from ecg_core.model import Classifier

    out = tmp_path / "examples"
    res = _run("examples", "--data", str(tiny_dataset), "--mitdb", str(EXCERPT_MITDB),
               "--cudb", str(EXCERPT_CUDB), "--out", str(out), "--per-class", "2",
               "--model", "ecgnet")
    assert res.returncode == 0, res.stderr
    written = sorted(out.rglob("*.png"))
    assert f"{len(written)} example images written" in res.stdout and written
    clf = Classifier.load(ROOT / "models" / "ecgnet.keras")
    for png in written:
        assert clf.class_codes[int(clf.predict_bytes(png.read_bytes()).argmax())] \
            == png.parent.name, png


def test_calibrate_with_a_class_mix_shift_writes_it_and_refits_the_temperature(tiny_dataset,
                                                                                tmp_path):
    import numpy as np

    from ecg_core.calibration import shift_probabilities
    from ecg_core.model import Classifier
    from ecg_core.training import class_mix_log_ratio

    out = tmp_path / "models"
    res = _run("train", "--arch", "baseline", "--data", str(tiny_dataset), "--out", str(out),
               "--epochs", "1", "--max-train-per-class", "40")
    assert res.returncode == 0, res.stderr
    model = out / "baseline.keras"
    x = np.zeros((3, 64, 64), np.uint8)
    x[:, 28:36, :] = 255
    x[1, 10:54, 30:33] = 255
    plain = Classifier.load(model).predict_canonical(x, calibrated=False)
    res = _run("calibrate", "--model", str(model), "--data", str(tiny_dataset),
               "--class-mix-shift", "0.5")
    assert res.returncode == 0, res.stderr
    assert "class-mix shift of strength 0.5" in res.stdout and "T = " in res.stdout
    card = json.loads((out / "baseline.card.json").read_text())
    ratio, info = class_mix_log_ratio(card, tiny_dataset)
    codes = [c["code"] for c in card["classes"]]
    assert card["prior_shift"]["strength"] == 0.5
    assert [card["prior_shift"]["shift"][c] for c in codes] == pytest.approx(0.5 * ratio)
    assert card["prior_shift"]["data_mix"] == info["data_mix"]
    assert info["data_mix"]["NOR"] > info["train_images"]["NOR"]  # the cap kept fewer
    clf = Classifier.load(model)
    assert np.allclose(clf.predict_canonical(x, calibrated=False),
                       shift_probabilities(plain, 0.5 * ratio), atol=1e-5)
    assert card["calibration"]["n"] > 0
    # 0 removes the shift; a strength outside 0-1 is refused with one line
    res = _run("calibrate", "--model", str(model), "--data", str(tiny_dataset),
               "--class-mix-shift", "0")
    assert res.returncode == 0, res.stderr
    assert "prior_shift" not in json.loads((out / "baseline.card.json").read_text())
    res = _run("calibrate", "--model", str(model), "--data", str(tiny_dataset),
               "--class-mix-shift", "2")
    assert res.returncode == 2 and "between 0 and 1" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_input_errors_exit_2_with_one_line_before_tensorflow_is_imported(tmp_path):
    """Missing inputs, empty folders and unknown leads are refused at once (exit 2), and the
    check does not wait for TensorFlow."""
    code = ("import sys\nfrom ecg_core.__main__ import main\n"
            "rc = main(sys.argv[1:])\n"
            "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow')\n"
            "sys.exit(rc)\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [(["predict", str(tmp_path / "missing.png")], "no such file"),
             (["predict", str(empty)], "no image files"),
             (["classify-record", str(EXCERPT_MITDB / "100"), "--lead", "V9"], "no lead 'V9'"),
             (["classify-record", str(tmp_path / "nothing")], "not found"),
             (["--models", str(tmp_path / "nowhere"), "predict", str(EXAMPLES)], "models folder"),
             (["evaluate", "--data", str(tmp_path / "none")], "dataset folder not found")]
    for argv, words in cases:
        res = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 2, (argv, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], (
            argv, res.stderr)
        assert res.stdout.strip() == "no tensorflow", argv


def test_models_are_named_or_found_through_the_models_folder(tmp_path):
    """--model takes a name under the models folder; --models (or ECG_MODELS_DIR) moves it."""
    import shutil

    image = sorted((EXAMPLES / "PVC").glob("*.png"))[0]
    res = _run("predict", str(image), "--model", "aami/ecgnet")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "path,predicted,N,S,V,F,Q,warning,error"
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    for f in ("ecgnet.keras", "ecgnet.card.json"):
        shutil.copy(ROOT / "models" / f, elsewhere / f)
    res = _run("--models", str(elsewhere), "predict", str(image), cwd=tmp_path)
    assert res.returncode == 0 and ",PVC," in res.stdout, res.stderr
    res = _run("--models", str(elsewhere), "predict", str(image), "--model", "aami/ecgnet",
               cwd=tmp_path)
    assert res.returncode == 2 and "not found" in res.stderr


def test_start_up_noise_of_native_code_is_silenced():
    """What native code writes to descriptor 2 while the backend loads (TensorFlow's absl and
    oneDNN lines on some CPUs) never reaches the terminal; what comes after does."""
    code = ("import os, sys\n"
            "from ecg_core.backend import native_stderr_silenced\n"
            "with native_stderr_silenced():\n"
            "    os.write(2, b'I0000 00:00 port.cc:153] oneDNN custom operations are on.\\n')\n"
            "    print('python text on stderr', file=sys.stderr)\n"
            "os.write(2, b'after\\n')\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0 and res.stderr == "after\n", res.stderr


def test_classify_record_with_the_two_lead_vote_reads_the_second_lead(tmp_path):
    res = _run("classify-record", str(EXCERPT_MITDB / "100"), "--detector", "two-lead-vote",
               "--out", str(tmp_path / "beats.csv"))
    assert res.returncode == 0, res.stderr
    assert "Two-lead vote (XQRS, SleepECG, Elgendi) on MLII and V5" in res.stdout


def test_cross_validate_gives_every_fold_the_recipe_it_was_asked_for(tiny_dataset, tmp_path,
                                                                    monkeypatch):
    """The recipe options of ``cross-validate`` reach each fold's training run (the folds
    themselves need more records than the committed excerpts: cv_split's tests cover them)."""
    import ecg_core.training as training
    from ecg_core.__main__ import main

    seen = []

    class Stop(Exception):
        pass

    def fake_train(data, out, archs, config):
        seen.append((str(out), archs, config))
        raise Stop

    monkeypatch.setattr(training, "train_models", fake_train)
    try:
        main(["cross-validate", "--data", str(tiny_dataset), "--out", str(tmp_path / "cv"),
              "--rhythm", "--rhythm-context", "record", "--max-train-per-class", "120",
              "--class-weight", "sqrt", "--epochs", "3", "--patience", "2"])
    except Stop:
        pass
    (out, archs, config), = seen
    assert out.endswith("fold1") and archs == ["ecgnet"]
    assert config.protocol == "fold1" and config.rhythm_archs == ("ecgnet",)
    assert config.rhythm_context == "record"
    assert config.max_train_per_class == 120 and config.class_weighting == "sqrt"
    assert (config.epochs, config.patience) == (3, 2)
    assert config.deterministic is True  # repeatable unless asked otherwise
    try:
        main(["cross-validate", "--data", str(tiny_dataset), "--out", str(tmp_path / "cv"),
              "--nondeterministic"])
    except Stop:
        pass
    assert seen[-1][2].deterministic is False



def test_cross_validate_with_both_leads_has_each_fold_model_read_both_leads(tiny_dataset, tmp_path,
                                                                         monkeypatch):
    """``--both-leads`` makes each fold model read its test beats on both leads (the reading
    a card's ``both_leads`` gives on the Record page); without it they are read on one."""
    import ecg_core.__main__ as cli
    import ecg_core.dataset as dataset
    import ecg_core.training as training
    from tests.conftest import MODEL

    class Stop(Exception):
        pass

    read_with = []

    def fake_probabilities(clf, x, rows, calibrated=True, data_dir=None):
        read_with.append((clf.both_leads, str(data_dir)))
        raise Stop

    monkeypatch.setattr(training, "train_models",
                        lambda data, out, archs, config: {"ecgnet": {"model_path": MODEL}})
    monkeypatch.setattr(dataset, "load_split", lambda *a, **k: (np.zeros((1, 64, 64), np.uint8),
                                                                np.zeros(1, np.int64), [{}]))
    monkeypatch.setattr(cli, "_split_probabilities", fake_probabilities)
    for flags in (["--both-leads"], []):
        with pytest.raises(Stop):
            cli.main(["cross-validate", "--data", str(tiny_dataset), "--out",
                      str(tmp_path / "cv"), *flags])
    (first, data), (second, _) = read_with
    assert "averaged" in first["method"] and data == str(tiny_dataset)
    assert second is None
