"""A tiny training run on a real (small) dataset: files, card, history, reload."""

import hashlib
import io
import json
import zipfile

import h5py
import numpy as np
import pytest

from ecg_core.canonical import decode_image
from ecg_core.classes import CLASS_CODES
from ecg_core.dataset import BuildConfig, build_dataset
from ecg_core.errors import ModelLoadError
from ecg_core.model import Classifier, build_model
from ecg_core.training import (TrainConfig, choose_prior_shift, class_weights, figure_summary,
                               install_model, prior_log_ratio, shift_probabilities,
                               train_models)
from tests.conftest import EXCERPT_MITDB


def test_architectures_have_the_documented_shapes():
    base = build_model("baseline")
    assert base.input_shape == (None, 64, 64, 1) and base.output_shape == (None, 8)
    assert [l.name for l in base.layers][2:] == ["conv1", "pool1", "conv2", "pool2", "flatten",
                                                 "dense", "probabilities"]
    assert base.get_layer("conv1").output.shape[1:] == (62, 62, 32)
    net = build_model("ecgnet")
    assert net.get_layer("conv1").output.shape[1:] == (32, 32, 16)  # downsampled at once
    assert any("bn" in l.name for l in net.layers)
    wide = build_model("ecgnet-wide")  # the same layers, twice the filters
    assert [l.name for l in wide.layers] == [l.name for l in net.layers]
    assert wide.get_layer("conv1").output.shape[1:] == (32, 32, 32)
    assert wide.get_layer("conv4").output.shape[-1] == 128
    assert wide.get_layer("dense").output.shape[-1] == 192
    assert wide.output_shape == (None, 8) and wide.count_params() > 3 * net.count_params()


def test_training_batches_visit_every_beat_once_per_epoch_with_its_class_weight():
    from ecg_core.training import _batches

    y = np.array([0, 1, 2, 0, 1, 2, 0, 0, 0, 1])
    x = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 4, 4), np.uint8)
    weights = {0: 0.5, 1: 2.0, 2: 3.0}
    batches = _batches(x, y, None, 3, weights, batch_size=4, seed=1, rhythm_dropout=0.0)
    assert len(batches) == 3

    def epoch():
        seen = []
        for i in range(len(batches)):
            xb, yb, wb = batches[i]
            ids = xb[:, 0, 0, 0].astype(int)
            assert xb.shape[1:] == (4, 4, 1) and xb.dtype == np.uint8
            assert (yb.argmax(axis=1) == y[ids]).all()
            assert np.allclose(wb, [weights[c] for c in y[ids]])
            seen.extend(ids.tolist())
        return seen

    first = epoch()
    assert sorted(first) == list(range(10))
    batches.on_epoch_end()
    second = epoch()
    assert sorted(second) == list(range(10)) and second != first  # reshuffled
    rhythm = np.ones((10, 4), np.float32)
    hidden = _batches(x, y, rhythm, 3, weights, batch_size=10, seed=1, rhythm_dropout=1.0)
    (xb, rb), _, _ = hidden[0]
    assert xb.shape == (10, 4, 4, 1) and not rb.any()  # every rhythm input hidden


def test_class_weights_inverse_frequency_with_cap():
    y = np.array([0] * 90 + [1] * 9 + [2] * 1)
    w = class_weights(y, 4, max_weight=10.0)
    assert w[0] < 1 < w[1] < w[2] == 10.0 and w[3] == 1.0
    assert abs(w[1] - 100 / (3 * 9)) < 1e-9
    root = class_weights(y, 4, max_weight=10.0, weighting="sqrt")
    assert abs(root[1] - (100 / (3 * 9)) ** 0.5) < 1e-9 and root[0] < 1 < root[1] < root[2]
    assert set(class_weights(y, 4, 10.0, "none").values()) == {1.0}
    with pytest.raises(ValueError, match="weighting"):
        class_weights(y, 4, 10.0, "balanced")


def test_prior_log_ratio_undoes_the_weighting_and_moves_to_the_target_mix():
    # 900 images of class 0 and 100 of class 1, inverse weights: the model saw a 50/50 mix
    weights = {0: 1000 / (2 * 900), 1: 1000 / (2 * 100)}
    ratio = prior_log_ratio(np.array([900, 100]), weights, np.array([9000, 1000]))
    assert np.allclose(ratio, [np.log(0.9 / 0.5), np.log(0.1 / 0.5)])
    # unweighted training on the target mix itself needs no shift
    assert np.allclose(prior_log_ratio(np.array([90, 10, 0]), {}, np.array([9, 1, 0])), 0)
    # a class absent from training or from the target is left alone
    assert prior_log_ratio(np.array([5, 0, 5]), {}, np.array([1, 1, 0]))[1:].tolist() == [0, 0]
    with pytest.raises(ValueError, match="shape"):
        prior_log_ratio(np.array([1, 2]), {}, np.array([1, 2, 3]))


def test_prior_shift_is_bayes_rule_and_the_strength_is_chosen_by_accuracy_and_macro_se():
    p = np.array([[0.6, 0.4], [0.3, 0.7]])
    shifted = shift_probabilities(p, np.log([3.0, 1.0]))
    assert np.allclose(shifted[0], [1.8 / 2.2, 0.4 / 2.2]) and np.allclose(shifted.sum(1), 1)
    # 90 beats of class 0 scored 0.45 for class 0 (called class 1 unshifted), 10 of class 1
    y = np.array([0] * 90 + [1] * 10)
    probs = np.array([[0.45, 0.55]] * 90 + [[0.1, 0.9]] * 10)
    ratio = np.log([0.9 / 0.5, 0.1 / 0.5])
    strength, table = choose_prior_shift(y, probs, ratio, strengths=(0.0, 0.5, 1.0))
    assert [row["strength"] for row in table] == [0.0, 0.5, 1.0]
    assert table[0]["accuracy"] == 0.1 and table[0]["macro_sensitivity"] == 0.5
    assert table[1]["accuracy"] == 1.0 and table[1]["macro_sensitivity"] == 1.0
    assert strength == 0.5  # ties (1.0 scores the same) go to the smaller shift


def test_shift_output_logits_changes_the_model_outputs_as_bayes_rule_says():
    from ecg_core.model import shift_output_logits

    model = build_model("baseline")
    x = np.random.default_rng(0).integers(0, 255, (4, 64, 64, 1)).astype(np.uint8)
    before = np.asarray(model(x))
    shift = np.linspace(-1.0, 1.0, 8)
    shift_output_logits(model, shift)
    after = np.asarray(model(x))
    assert np.allclose(after, shift_probabilities(before, shift), atol=1e-5)
    with pytest.raises(ValueError, match="finite"):
        shift_output_logits(model, np.zeros(3))


def test_tiny_training_run_writes_model_card_and_history(tiny_dataset, tmp_path):
    config = TrainConfig(epochs=2, batch_size=32, max_train=256, patience=2)
    results = train_models(tiny_dataset, tmp_path, ["baseline"], config, progress=False)
    r = results["baseline"]
    assert (tmp_path / "baseline.keras").is_file()
    # the saved model holds the weights only, not the optimizer's state from training
    with zipfile.ZipFile(tmp_path / "baseline.keras") as z:
        weights = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        assert "layers" in weights and "optimizer" not in weights
    history = json.loads((tmp_path / "baseline.history.json").read_text())
    assert len(history["loss"]) == 2 and len(history["epoch_batch_seconds"]) == 2
    card = json.loads((tmp_path / "baseline.card.json").read_text())
    assert [c["code"] for c in card["classes"]] == list(CLASS_CODES)
    assert card["training"]["n_train"] == 256 and card["training"]["seed"] == config.seed
    assert card["training"]["n_train_beats"] == 256  # one drawing per beat
    assert card["rendering"]["drawings_per_beat"] == 1
    assert card["training"]["versions"]["backend"] == "tensorflow"
    assert "tensorflow" in card["training"]["versions"]
    assert "CPU cores" in card["training"]["machine"]
    test = card["test"]
    assert 0.0 <= test["accuracy"] <= 1.0
    assert sum(map(sum, test["confusion"])) == test["n"] == card["training"]["n_test"]
    assert card["same_run"]["test"]["baseline"]["accuracy"] == test["accuracy"]
    assert card["training_data"]["records"] == ["cudb/cu09", "mitdb/100", "mitdb/207",
                                                "mitdb/208", "mitdb/232"]
    # the LiteRT twin is written and checked at the end of training, and serves the model
    assert card["runtime"]["check"]["max_abs_difference"] <= 1e-5
    assert Classifier.load(tmp_path / "baseline.keras").backend == "LiteRT"
    assert card["prior_adjustment"] is None  # the default keeps the outputs as trained
    clf = Classifier.load(r["model_path"])
    probs = clf.predict_canonical(np.zeros((3, 64, 64), np.uint8))
    assert probs.shape == (3, 8) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    # trained on from these weights: the card tells where it started and how that was trained
    on = train_models(tiny_dataset, tmp_path / "on", ["baseline"],
                      TrainConfig(epochs=1, batch_size=32, max_train=256,
                                  init_from=str(tmp_path / "baseline.keras")),
                      progress=False)["baseline"]["card"]["training"]["initialised_from"]
    assert on["sha256"] == hashlib.sha256((tmp_path / "baseline.keras").read_bytes()).hexdigest()
    assert on["created"] == card["created"]
    assert on["training"]["epochs_run"] == 2 and on["training"]["initialised_from"] is None
    assert on["training"]["earlier"] is None  # random weights: no run before
    # a third run, from the second's weights: the card keeps the whole chain of runs
    again = train_models(tiny_dataset, tmp_path / "again", ["baseline"],
                         TrainConfig(epochs=1, batch_size=32, max_train=256,
                                     init_from=str(tmp_path / "on" / "baseline.keras")),
                         progress=False)["baseline"]["card"]["training"]["initialised_from"]
    assert again["training"]["epochs_run"] == 1
    assert again["training"]["initialised_from"] == str(tmp_path / "baseline.keras")
    assert again["training"]["earlier"]["epochs_run"] == 2
    assert again["training"]["earlier"]["initialised_from"] is None


def test_the_same_settings_and_seed_train_the_same_weights(tiny_dataset, tmp_path):
    """Training runs with TensorFlow's deterministic ops (the default, written to the card):
    two runs of one recipe give the same weights, bit for bit. (A run this small may repeat
    without them; benchmarks/train_speed.py shows larger ones that do not.)"""
    import keras
    from tensorflow.python.framework import config as tf_config

    config = TrainConfig(epochs=1, batch_size=32, max_train=256)
    runs = [train_models(tiny_dataset, tmp_path / name, ["ecgnet"], config,
                         progress=False)["ecgnet"] for name in ("a", "b")]
    assert runs[0]["card"]["training"]["deterministic"] is True
    assert tf_config.is_op_determinism_enabled()
    weights = [keras.saving.load_model(r["model_path"], compile=False).get_weights()
               for r in runs]
    assert len(weights[0]) == len(weights[1]) > 0
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_a_run_installed_as_a_named_model_keeps_the_replaced_models_figures(tiny_dataset,
                                                                              tmp_path):
    """install_model copies a run's network, twin and history under the model's name, and
    its card names the model it replaces (test figures, kept card) and how the weights it
    started from were trained; installing it over itself is refused."""
    config = TrainConfig(epochs=1, batch_size=32, max_train=128)
    first = train_models(tiny_dataset, tmp_path / "a", ["baseline"], config,
                         progress=False)["baseline"]
    models = tmp_path / "models"
    card = install_model(first["model_path"], models / "net.keras")
    assert card["name"] == "net" and "replaces" not in card
    assert Classifier.load(models / "net.keras").backend == "LiteRT"  # the twin still serves
    config.init_from = str(models / "net.keras")
    second = train_models(tiny_dataset, tmp_path / "b", ["baseline"], config,
                          progress=False)["baseline"]
    kept = tmp_path / "kept" / "net-replaced.card.json"
    card = install_model(second["model_path"], models / "net.keras", keep_replaced=kept)
    for suffix in (".keras", ".tflite", ".history.json"):
        assert ((models / "net").with_suffix(suffix).read_bytes()
                == second["model_path"].with_suffix(suffix).read_bytes())
    written = json.loads((models / "net.card.json").read_text())
    assert written == card and card["file"] == "net.keras"
    assert card["runtime"]["file"] == "net.tflite" and "same_run" not in card
    assert card["replaces"]["card"] == str(kept)
    assert card["replaces"]["created"] == first["card"]["created"]
    assert card["replaces"]["test"] == figure_summary(first["card"]["test"])
    assert json.loads(kept.read_text())["created"] == first["card"]["created"]
    start = card["training"]["initialised_from"]["training"]
    assert start["epochs_run"] == 1 and start["initialised_from"] is None
    clf = Classifier.load(models / "net.keras")
    assert clf.backend == "LiteRT" and clf.card["created"] == second["card"]["created"]
    with pytest.raises(ValueError, match="installed already"):
        install_model(second["model_path"], models / "net.keras")
    with pytest.raises(ModelLoadError, match="missing"):
        install_model(tmp_path / "nowhere.keras", models / "other.keras")


def test_cosine_schedule_and_comparison_with_an_earlier_run(tiny_dataset, tmp_path):
    first = train_models(tiny_dataset, tmp_path, ["baseline"],
                         TrainConfig(epochs=1, batch_size=32, max_train=128), progress=False)
    config = TrainConfig(epochs=3, batch_size=32, max_train=128, patience=5, schedule="cosine",
                         input_size=(48, 48), prior_adjustment="validation")
    result = train_models(tiny_dataset, tmp_path, ["ecgnet"], config, progress=False)["ecgnet"]
    card = result["card"]
    # the prior shift is chosen on validation, and the saved model and its figures carry it
    prior = card["prior_adjustment"]
    assert prior["strength"] in [row["strength"] for row in prior["validation"]]
    chosen = next(r for r in prior["validation"] if r["strength"] == prior["strength"])
    assert abs(chosen["accuracy"] - card["validation"]["accuracy"]) < 1e-3
    assert sum(prior["data_mix"].values()) > card["training"]["n_val"]
    # another input size: the card, the cache and the classifier follow it
    assert card["input"]["shape"] == [48, 48, 1]
    assert (tiny_dataset / "canonical_48x48.npz").is_file()
    clf = Classifier.load(result["model_path"])
    assert clf.input_size == (48, 48)
    png = next(tiny_dataset.rglob("*.png")).read_bytes()
    assert clf.canonical(decode_image(png)).shape == (48, 48)
    assert clf.predict_bytes(png).shape == (8,)
    rates = json.loads((tmp_path / "ecgnet.history.json").read_text())["learning_rate"]
    assert len(rates) == 3 and config.learning_rate > rates[0] > rates[1] > rates[2]
    assert card["training"]["schedule"] == "cosine"
    assert set(card["same_run"]["test"]) == {"ecgnet"}
    earlier = card["compared_with"]["baseline"]
    assert earlier["test"]["accuracy"] == first["baseline"]["card"]["test"]["accuracy"]
    with pytest.raises(ValueError, match="schedule"):
        train_models(tiny_dataset, tmp_path / "x", ["ecgnet"],
                     TrainConfig(epochs=1, max_train=64, schedule="step"), progress=False)
    with pytest.raises(ValueError, match="prior adjustment"):
        train_models(tiny_dataset, tmp_path / "x", ["ecgnet"],
                     TrainConfig(epochs=1, max_train=64, prior_adjustment="test"),
                     progress=False)
    with pytest.raises(ValueError, match="too small"):
        train_models(tiny_dataset, tmp_path / "x", ["ecgnet"],
                     TrainConfig(epochs=1, max_train=64, input_size=(12, 12)), progress=False)


def test_tiny_rhythm_model_on_the_aami_scheme(tmp_path):
    data = tmp_path / "aami"
    build_dataset(data, mitdb=EXCERPT_MITDB,
                  config=BuildConfig(records=["208", "232"], scheme="aami", max_per_class=300,
                                     styled=False),
                  progress=False)
    config = TrainConfig(epochs=1, batch_size=32, max_train=256, rhythm_archs=("ecgnet",))
    results = train_models(data, tmp_path / "models", ["ecgnet", "baseline"], config,
                           progress=False)
    card = results["ecgnet"]["card"]
    assert card["scheme"] == "aami" and [c["code"] for c in card["classes"]] == list("NSVFQ")
    assert card["rhythm_input"]["features"][-1] == "available"
    assert results["baseline"]["card"]["rhythm_input"] is None
    clf = Classifier.load(results["ecgnet"]["model_path"])
    assert clf.uses_rhythm and clf.class_codes == tuple("NSVFQ")
    images = np.zeros((2, 64, 64), np.uint8)
    with_rhythm = clf.predict_canonical(images, np.array([[0.6, 1.3, 0.8, 1.0]] * 2, np.float32))
    without = clf.predict_canonical(images)  # a lone image: rhythm "not available"
    assert with_rhythm.shape == without.shape == (2, 5)
    assert not np.allclose(with_rhythm, without)  # the rhythm input is used
    # trained on the four local features, it takes the first four of the record's five, and
    # three are too few
    five = np.array([[0.6, 1.3, 0.8, 1.0, 0.9]] * 2, np.float32)
    np.testing.assert_allclose(clf.predict_canonical(images, five), with_rhythm, atol=1e-6)
    with pytest.raises(ValueError, match="rhythm features"):
        clf.predict_canonical(images, five[:, :3])
    plain = Classifier.load(results["baseline"]["model_path"])
    assert not plain.uses_rhythm and plain.predict_canonical(images).shape == (2, 5)


def test_model_name_is_the_path_below_models():
    from ecg_core.model import model_name

    assert model_name("models/ecgnet.keras") == "ecgnet"
    assert model_name("/repo/models/aami/ecgnet.keras") == "aami/ecgnet"
    assert model_name("/tmp/run/baseline.keras") == "/tmp/run/baseline"
    assert model_name("baseline.keras") == "baseline"


def test_template_context_model_and_its_seed_ensemble(tmp_path):
    """A rhythm model that compares each beat with its record's typical beat: trained, served
    from the beat-context vector, used on a whole record, and two seeds joined in an
    ensemble with its own card and LiteRT twin."""
    from ecg_core.analysis import classify_record
    from ecg_core.beats import CONTEXT_FEATURES, TEMPLATE_FEATURES
    from ecg_core.dataset import context_from_rows, load_split
    from ecg_core.records import read_record
    from ecg_core.training import ensemble_networks

    data = tmp_path / "aami"
    build_dataset(data, mitdb=EXCERPT_MITDB,
                  config=BuildConfig(records=["208", "232"], scheme="aami", max_per_class=200,
                                     styled=False, conditioning="bandpass"),
                  progress=False)
    paths = []
    for seed in (1, 2):
        config = TrainConfig(epochs=1, batch_size=32, max_train=128, rhythm_archs=("ecgnet",),
                             rhythm_context="template", seed=seed)
        result = train_models(data, tmp_path / f"s{seed}", ["ecgnet"], config,
                              progress=False)["ecgnet"]
        paths.append(result["model_path"])
    card = result["card"]
    assert card["rhythm_input"]["context"] == "template"
    assert card["rhythm_input"]["features"][4:] == list(TEMPLATE_FEATURES)
    clf = Classifier.load(paths[1])
    assert clf.backend == "LiteRT" and clf.rhythm_context == "template"
    # the beat-context vector of the split's rows: the template features come from the records
    _, _, rows = load_split(data, "test", "beat")
    ctx = context_from_rows(rows, data)
    assert ctx.shape == (len(rows), len(CONTEXT_FEATURES)) and (ctx[:, 9] == 1.0).all()
    images = np.zeros((len(rows[:4]), 64, 64), np.uint8)
    full = clf.predict_canonical(images, ctx[:4])
    own = clf.predict_canonical(images, ctx[:4, [0, 1, 2, 3, 5, 6, 7, 8, 9]])
    np.testing.assert_allclose(full, own, atol=1e-6)
    with pytest.raises(ValueError, match="template context"):
        clf.predict_canonical(images, ctx[:4, :5])
    # a whole record: every beat gets the template features of its record
    record = read_record(EXCERPT_MITDB / "232", annotator="atr")
    result = classify_record(record, clf)
    assert result.probabilities.shape[1] == 5 and len(result.predicted) > 100
    # two seeds joined: the ensemble averages its members, has a card and a twin
    out = tmp_path / "ens" / "ecgnet.keras"
    replaced = paths[0].with_name("ecgnet.card.json")
    ens = ensemble_networks(paths, data, out, replaces=replaced)
    assert [m["seed"] for m in ens["card"]["ensemble"]["members"]] == [1, 2]
    # each member's training in brief (members may be trained differently)
    for m in ens["card"]["ensemble"]["members"]:
        assert m["training"]["epochs_run"] >= 1 and m["training"]["initialised_from"] is None
    # the replaced model's test figures travel in the card, for the side-by-side views
    old = json.loads(replaced.read_text())
    assert ens["card"]["replaces"]["test"]["accuracy"] == old["test"]["accuracy"]
    assert ens["card"]["architecture"].startswith("ensemble of 2 x ecgnet")
    assert ens["card"]["runtime"]["check"]["max_abs_difference"] < 1e-5
    joined = Classifier.load(out)
    assert joined.backend == "LiteRT" and joined.rhythm_context == "template"
    members = [Classifier.load(p) for p in paths]
    mean = np.mean([m.predict_canonical(images, ctx[:4], calibrated=False) for m in members],
                   axis=0)
    np.testing.assert_allclose(joined.predict_canonical(images, ctx[:4], calibrated=False), mean,
                               atol=1e-5)
    # an ensemble joins another network by network: each of the three weighs a third, and
    # a network trained on an earlier build of the same images joins when named so
    import shutil

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    shutil.copy(paths[1], earlier / "ecgnet.keras")
    moved = json.loads(paths[1].with_name("ecgnet.card.json").read_text())
    moved["training_data"]["manifest_sha256"] = "0" * 64
    (earlier / "ecgnet.card.json").write_text(json.dumps(moved))
    with pytest.raises(ValueError, match="same data"):
        ensemble_networks([out, earlier / "ecgnet.keras"], data, tmp_path / "three.keras")
    three = ensemble_networks([out, earlier / "ecgnet.keras"], data, tmp_path / "three.keras",
                              same_images_as=["0" * 64])["card"]
    assert [m["seed"] for m in three["ensemble"]["members"]] == [1, 2, 2]
    assert [m.get("joined_from") for m in three["ensemble"]["members"]] == [str(out)] * 2 + [None]
    assert three["training_data"]["same_images_as"] == ["0" * 64]
    assert three["training_data"]["manifest_sha256"] == json.loads(
        (data / "dataset.json").read_text())["manifest_sha256"]
    assert three["architecture"] == "ensemble of 3 x ecgnet, each with a rhythm input"
    p1, p2 = (m.predict_canonical(images, ctx[:4], calibrated=False) for m in members)
    np.testing.assert_allclose(Classifier.load(tmp_path / "three.keras").predict_canonical(
        images, ctx[:4], calibrated=False), (p1 + 2 * p2) / 3, atol=1e-5)
    with pytest.raises(ValueError, match="two or more"):
        ensemble_networks(paths[:1], data, tmp_path / "one.keras")
    with pytest.raises(ValueError, match="cannot be read"):
        ensemble_networks(paths, data, tmp_path / "two.keras", replaces=tmp_path / "nope.json")
    # networks of different rhythm contexts: the record-context network decides N, S, F, Q
    # among themselves and the local network decides V (GuardedClass), read from one vector
    nets = {}
    for context in ("record", "local"):
        config = TrainConfig(epochs=1, batch_size=32, max_train=128, rhythm_archs=("ecgnet",),
                             rhythm_context=context, seed=3)
        nets[context] = train_models(data, tmp_path / context, ["ecgnet"], config,
                                     progress=False)["ecgnet"]["model_path"]
    out = tmp_path / "guarded" / "ecgnet.keras"
    guarded = ensemble_networks([nets["record"]], data, out, guard_paths=[nets["local"]],
                                guard_class="V")["card"]
    assert guarded["ensemble"]["guard"] == {"class": "V", "members": 1}
    assert [m["decides"] for m in guarded["ensemble"]["members"]] == ["other classes", "V"]
    assert guarded["rhythm_input"]["context"] == "record"
    assert guarded["runtime"]["check"]["max_abs_difference"] < 1e-5
    joined = Classifier.load(out)
    assert joined.backend == "LiteRT" and joined.rhythm_context == "record"
    record_net, local_net = Classifier.load(nets["record"]), Classifier.load(nets["local"])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 64, 64), dtype=np.uint8)
    p, g = record_net.network_outputs(images, ctx[:6]), local_net.network_outputs(images, ctx[:6])
    v = list(joined.class_codes).index("V")
    expected = p / (1 - p[:, [v]]) * (1 - g[:, [v]])
    expected[:, v] = g[:, v]
    got = joined.network_outputs(images, ctx[:6])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    # the Keras model (a fallback, and what the Explainer opens) loads with its own layers
    np.testing.assert_allclose(Classifier.load(out, backend="keras").network_outputs(
        images, ctx[:6]), got, atol=1e-5)
    # a template network and a record network read different columns: refused
    with pytest.raises(ValueError, match="one vector"):
        ensemble_networks([paths[0]], data, tmp_path / "mixed.keras", guard_paths=[nets["record"]])
    with pytest.raises(ValueError, match="guarded class"):
        ensemble_networks([nets["record"]], data, tmp_path / "q.keras",
                          guard_paths=[nets["local"]], guard_class="X")
