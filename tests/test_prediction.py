"""The committed model on the bundled examples, and model-loading errors."""

import shutil

import numpy as np
import pytest

from ecg_core.canonical import canonical_from_bytes
from ecg_core.classes import CLASS_CODES
from ecg_core.errors import ImageDecodeError, ModelLoadError
from ecg_core.model import Classifier, read_card
from tests.conftest import EXAMPLES, MODEL


def test_card_matches_the_model(classifier):
    assert classifier.class_codes == CLASS_CODES
    assert classifier.input_size == (64, 64)
    card = read_card(MODEL)
    assert card["protocol"]["name"] == "beat" and "flatters" in card["protocol"]["description"]
    # The baseline to beat: trained in the same run, or earlier on the same images and split.
    compared = set(card.get("same_run", {}).get("test", {})) | set(card.get("compared_with", {}))
    assert "baseline" in compared
    # an ensemble names the model it replaced, with that model's test figures
    if card.get("ensemble"):
        assert len(card["ensemble"]["members"]) >= 2 and card["replaces"]["test"]["accuracy"]


def test_training_leads_follow_the_build_in_the_card():
    from ecg_core.model import training_leads

    assert training_leads(read_card(MODEL)) == "MLII"  # the 8-class model: MLII drawings
    aami = read_card(MODEL.parent / "aami" / "ecgnet.keras")
    assert aami["training_data"]["settings"]["other_lead"] is True
    assert training_leads(aami) == "MLII and each record's other lead"
    assert training_leads({}) == "MLII"  # cards from before the setting


def test_class_mix_note_says_what_the_shift_did_from_the_card():
    from ecg_core.model import class_mix_note

    assert class_mix_note({}) is None and class_mix_note(read_card(MODEL)) is None
    card = {"classes": [{"code": "N"}, {"code": "S"}],
            "prior_shift": {"strength": 0.5, "shift": {"N": 0.4, "S": -1.0},
                            "before": {"test": {"accuracy": 0.9,
                                                "sensitivity": {"N": 0.92, "S": 0.6}}}},
            "test": {"accuracy": 0.95, "per_class": {"N": {"support": 90, "sensitivity": 0.98},
                                                     "S": {"support": 10,
                                                           "sensitivity": 0.4}}}}
    note = class_mix_note(card)
    assert "strength 0.5" in note
    assert "accuracy 90.0% -> 95.0%" in note and "S Se 60.0% -> 40.0%" in note
    # with readings of whole records, the shift's change is read on the networks' own figures
    card["dominant_qrs"] = {"test_without": {"accuracy": 0.93,
                                             "sensitivity": {"N": 0.97, "S": 0.5}}}
    card["af_fold"] = {"test_without": {"accuracy": 0.94, "sensitivity": {"N": 0.975, "S": 0.45}}}
    note = class_mix_note(card)
    assert "accuracy 90.0% -> 93.0%" in note and "S Se 60.0% -> 50.0%" in note
    assert "before the readings of whole records" in note
    del card["dominant_qrs"]
    assert "accuracy 90.0% -> 94.0%" in class_mix_note(card)
    del card["prior_shift"]["before"]
    assert "->" not in class_mix_note(card)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/*.png")), ids=lambda p: p.name)
def test_each_bundled_example_is_classified_as_its_class(classifier, path):
    probs = classifier.predict_bytes(path.read_bytes())
    assert probs.shape == (8,) and abs(float(probs.sum()) - 1) < 1e-4
    assert CLASS_CODES[int(probs.argmax())] == path.parent.name


def test_batch_and_single_predictions_agree(classifier):
    paths = sorted(EXAMPLES.glob("*/*.png"))[:5]
    x = np.stack([canonical_from_bytes(p.read_bytes()) for p in paths])
    batch = classifier.predict_canonical(x)
    single = np.stack([classifier.predict_canonical(i) for i in x])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_bad_bytes_raise_the_documented_error(classifier):
    with pytest.raises(ImageDecodeError):
        classifier.predict_bytes(b"\x89PNG\r\n\x1a\n truncated")


def test_missing_truncated_or_cardless_model(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        Classifier.load(tmp_path / "none.keras")
    broken = tmp_path / "ecgnet.keras"
    broken.write_bytes(MODEL.read_bytes()[:5000])
    shutil.copy(MODEL.with_name("ecgnet.card.json"), tmp_path / "ecgnet.card.json")
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        Classifier.load(broken)
    cardless = tmp_path / "other.keras"
    shutil.copy(MODEL, cardless)
    with pytest.raises(ModelLoadError, match="card"):
        Classifier.load(cardless)


def test_the_committed_rhythm_models_read_the_records_context():
    """Both committed rhythm models hold networks of the record's context (the AAMI model's
    N/S networks, two of the record-split model's four): each reads five features, four are too
    few, and a beat whose local rhythm is slow against its record's reads differently from one
    whose record is as slow. (A four-feature model taking the first four of five:
    test_training.)"""
    import numpy as np

    from ecg_core.model import Classifier
    from tests.conftest import ROOT

    five = np.array([[0.7, 1.3, 0.8, 1.0, 0.9], [1.0, 1.0, 0.8, 1.0, 1.1]], np.float32)
    for name in ("aami", "record"):
        clf = Classifier.load(ROOT / "models" / name / "ecgnet.keras")
        assert clf.rhythm_context == "record"
        images = np.zeros((2, *clf.input_size), np.uint8)
        images[:, 20:44, 30:34] = 255
        assert not np.allclose(clf.predict_canonical(images, five),
                               clf.predict_canonical(images, five * [1, 1, 1, 1, 0]
                                                     + [0, 0, 0, 0, 1]))
        with pytest.raises(ValueError, match="5 rhythm features"):
            clf.predict_canonical(images, five[:, :4])


def test_ensemble_roles_say_what_each_group_of_networks_decides():
    from ecg_core.model import ensemble_roles

    card = {"ensemble": {"guard": {"class": "V", "members": 3},
                         "members": [{"seed": s} for s in range(7)]}}
    assert ensemble_roles(card) == ("joins 7 networks (3 give the probability of V, the other "
                                    "4 decide among the other classes)")
    assert ensemble_roles({"ensemble": {"members": [{}, {}]}}) is None  # a plain mean
    # a plain mean of networks reading different rhythm contexts: the committed record model
    from ecg_core.model import read_card
    from tests.conftest import ROOT

    assert ensemble_roles(read_card(ROOT / "models" / "record" / "ecgnet.keras")) == (
        "averages 4 networks of one design trained on the same images: 2 that read the local "
        "RR intervals alone, 2 that read each beat's RR intervals against the patient's own "
        "rhythm (the local mean RR over the record's mean RR as well)")
    assert ensemble_roles({}) is None


def test_rhythm_input_gives_the_networks_own_columns_of_the_context_vector():
    """Classifier.rhythm_input: a 10-feature beat-context vector gives the card context's
    columns, the model's own width passes, None gives zeros, a width it cannot read raises,
    and an image-only model takes none."""
    import numpy as np

    from ecg_core.beats import CONTEXT_COLUMNS
    from tests.conftest import ROOT

    clf = Classifier.load(ROOT / "models" / "record" / "ecgnet.keras")
    full = np.arange(20, dtype=np.float32).reshape(2, 10)
    np.testing.assert_array_equal(clf.rhythm_input(full),
                                  full[:, list(CONTEXT_COLUMNS[clf.rhythm_context])])
    np.testing.assert_array_equal(clf.rhythm_input(full[0]), full[:1, :5])
    np.testing.assert_array_equal(clf.rhythm_input(full[:, :5]), full[:, :5])
    assert clf.rhythm_input(None, n=3).shape == (3, 5) and not clf.rhythm_input(None, 3).any()
    with pytest.raises(ValueError, match="5 rhythm features"):
        clf.rhythm_input(full[:, :4])
    assert Classifier.load(MODEL).rhythm_input(full) is None


def test_lone_image_words_follow_the_card():
    from ecg_core.model import lone_image_words

    lone = {"n": 7507, "split": "test", "protocol": "record", "records": 13, "accuracy": 0.5041}
    assert lone_image_words({}) == ""
    assert lone_image_words({"lone_image": lone}) == ""  # no test figures to set it against
    card = {"lone_image": lone, "test": {"accuracy": 0.6466}}
    words = lone_image_words(card)
    assert "7,507 test beats of the record split (13 records)" in words
    assert "right on 50.4%" in words and "on 64.7%." in words
    assert "calibration error" not in words
    card["lone_image"] = {**lone, "ece": 0.2398}
    assert "fitted on its reading of records; on those test beats their expected calibration " \
           "error was 24.0%" in lone_image_words(card)
    card["calibration"] = {"temperature": 0.7, "lone_image": {"temperature": 2.2}}
    assert "fitted on validation beats read alone" in lone_image_words(card)
