"""The LiteRT twins: parity with Keras on every committed model, no TensorFlow where only
predictions are made, and a fallback (with a warning, never a wrong answer) where a twin is
missing or stale."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from ecg_core.beats import labelled_beats, rhythm_features
from ecg_core.canonical import canonical_form, canonical_from_bytes
from ecg_core.model import Classifier, list_models, model_name
from ecg_core.records import read_record
from ecg_core.rendering import render_beat
from ecg_core.runtime import PARITY_TOLERANCE, twin_path
from tests.conftest import EXAMPLES, EXCERPT_MITDB, ROOT

COMMITTED = list_models(ROOT / "models")


@pytest.fixture(scope="module")
def real_beats():
    """Canonical images of real beats and their rhythm features: the 24 examples (no rhythm)
    and every annotated beat of the 208 and 207 excerpts. (The test split of the dataset build
    is not in the repository; these are real beats of every class but the paced one.)"""
    images, rhythm = [], []
    for path in sorted(EXAMPLES.glob("*/*.png")):
        images.append(canonical_from_bytes(path.read_bytes()))
        rhythm.append(np.zeros(5, np.float32))
    for name in ("208", "207"):
        rec = read_record(EXCERPT_MITDB / name)
        beats = labelled_beats(rec)
        local = np.array([b.rr_local_s for b in beats], np.float64)
        # with the record's mean RR: five features (a model of the four local ones reads the
        # first four)
        feats = rhythm_features([b.rr_prev_s for b in beats], [b.rr_next_s for b in beats],
                                local, np.full(len(beats), np.nanmean(local)))
        for b, f in zip(beats, feats):
            images.append(canonical_form(render_beat(rec.signal, b.sample, rec.fs)))
            rhythm.append(f)
    return np.stack(images), np.stack(rhythm).astype(np.float32)


def test_every_committed_model_has_a_current_twin():
    assert len(COMMITTED) == 6
    for path in COMMITTED:
        clf = Classifier.load(path)
        assert clf.backend == "LiteRT" and clf.warning is None, (path, clf.warning)
        assert twin_path(path).is_file()


@pytest.mark.parametrize("path", COMMITTED, ids=[model_name(p) for p in COMMITTED])
def test_twin_and_keras_agree_on_real_beats(path, real_beats):
    images, rhythm = real_beats
    lite, keras = Classifier.load(path), Classifier.load(path, backend="keras")
    assert lite.backend == "LiteRT" and keras.backend == "Keras"
    r = rhythm if lite.uses_rhythm else None
    p_lite = np.concatenate([lite.predict_canonical(images[i:i + 256],
                                                    None if r is None else r[i:i + 256])
                             for i in range(0, len(images), 256)])
    p_keras = np.concatenate([keras.predict_canonical(images[i:i + 256],
                                                      None if r is None else r[i:i + 256])
                              for i in range(0, len(images), 256)])
    assert len(images) > 1000
    assert np.abs(p_lite - p_keras).max() <= PARITY_TOLERANCE
    assert np.array_equal(p_lite.argmax(axis=1), p_keras.argmax(axis=1))
    if lite.uses_rhythm:  # a lone image: rhythm "not available" in both
        np.testing.assert_allclose(lite.predict_canonical(images[:50]),
                                   keras.predict_canonical(images[:50]), atol=PARITY_TOLERANCE)


def test_missing_or_stale_twin_falls_back_to_keras_with_a_warning(tmp_path):
    for f in ("ecgnet.keras", "ecgnet.card.json"):
        shutil.copy(ROOT / "models" / f, tmp_path / f)
    image = canonical_from_bytes(sorted((EXAMPLES / "PVC").glob("*.png"))[0].read_bytes())
    clf = Classifier.load(tmp_path / "ecgnet.keras")  # no twin
    assert clf.backend == "Keras" and "no LiteRT twin" in clf.warning
    assert clf.class_codes[int(clf.predict_canonical(image).argmax())] == "PVC"
    # a twin made from another model is stale: the card's checksum of the .keras differs
    shutil.copy(ROOT / "models" / "ecgnet.tflite", tmp_path / "ecgnet.tflite")
    assert Classifier.load(tmp_path / "ecgnet.keras").backend == "LiteRT"
    shutil.copy(ROOT / "models" / "record" / "baseline.keras", tmp_path / "ecgnet.keras")
    clf = Classifier.load(tmp_path / "ecgnet.keras")
    assert clf.backend == "Keras" and "earlier ecgnet.keras" in clf.warning
    # a damaged twin with the right checksum in the card cannot happen silently either
    (tmp_path / "ecgnet.tflite").write_bytes(b"not a flatbuffer")
    clf = Classifier.load(tmp_path / "ecgnet.keras")
    assert clf.backend == "Keras" and clf.warning


def test_export_writes_a_checked_twin_and_records_it_in_the_card(tmp_path):
    import json

    for f in ("aami/ecgnet.keras", "aami/ecgnet.card.json"):
        shutil.copy(ROOT / "models" / f, tmp_path / f.split("/")[1])
    res = subprocess.run([sys.executable, "-m", "ecg_core", "export", "--model",
                          str(tmp_path / "ecgnet.keras")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "largest difference" in res.stdout
    card = json.loads((tmp_path / "ecgnet.card.json").read_text())
    assert card["runtime"]["file"] == "ecgnet.tflite"
    assert card["runtime"]["check"]["max_abs_difference"] <= PARITY_TOLERANCE
    clf = Classifier.load(tmp_path / "ecgnet.keras")
    assert clf.backend == "LiteRT" and clf.uses_rhythm and clf.class_codes == tuple("NSVFQ")


def test_prediction_paths_never_import_tensorflow(tmp_path):
    """`import ecg_core`, `ecg-core --help`, predict and classify-record run without it (nor
    scikit-learn: a record's agreement figures are counted with numpy); the Keras model
    (Grad-CAM) loads it on first use."""
    code = ("import sys, contextlib, io\n"
            "from ecg_core.__main__ import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            "        main(['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "    a = main(['predict', sys.argv[1]])\n"
            "    b = main(['classify-record', sys.argv[2], '--annotations', 'atr'])\n"
            "print(a, b, 'tensorflow' in sys.modules, 'sklearn' in sys.modules)\n"
            "from ecg_core.model import Classifier, resolve_model\n"
            "clf = Classifier.load(resolve_model('ecgnet'))\n"
            "clf.model\n"
            "print('tensorflow' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "PVC"),
                          str(EXCERPT_MITDB / "100")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["0", "0", "False", "False", "True"], res.stdout
