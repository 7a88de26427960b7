"""Test-set figures against hand-computed cases."""

import json

import numpy as np
import pytest

from ecg_core.errors import DatasetError
from ecg_core.evaluation import (classification_figures, comparison_table, detailed_figures,
                                 ectopic_figures, ectopic_table, find_evaluations,
                                 load_evaluation, save_evaluation, se_ppv_percent)
from tests.conftest import ROOT


def test_figures_match_a_hand_computed_case():
    # true: A A A B B C ; predicted: A A B B C C
    y_true = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 1, 1, 2, 2])
    prob = np.eye(3)[pred] * 0.8 + 0.2 / 3
    f = classification_figures(y_true, prob, ["A", "B", "C"])
    assert f["accuracy"] == pytest.approx(4 / 6)
    assert f["per_class"]["A"]["sensitivity"] == pytest.approx(2 / 3)
    assert f["per_class"]["A"]["precision"] == pytest.approx(1.0)
    assert f["per_class"]["B"]["sensitivity"] == pytest.approx(1 / 2)
    assert f["per_class"]["B"]["precision"] == pytest.approx(1 / 2)
    assert f["per_class"]["C"]["sensitivity"] == pytest.approx(1.0)
    assert f["per_class"]["C"]["precision"] == pytest.approx(1 / 2)
    assert f["macro_sensitivity"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert f["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # cross-entropy of the true class probabilities
    p_true = prob[np.arange(6), y_true]
    assert f["loss"] == pytest.approx(-np.mean(np.log(p_true)), rel=1e-6)


def test_se_and_ppv_in_percent_for_experiment_tables():
    # true: N N N S S V ; read: N N S S V V; no beat of F, never predicted either
    y_true = np.array([0, 0, 0, 1, 1, 2])
    prob = np.eye(4)[[0, 0, 1, 1, 2, 2]]
    f = se_ppv_percent(y_true, prob, ["N", "S", "V", "F"])
    assert f["n"] == 6 and f["accuracy"] == pytest.approx(100 * 4 / 6)
    assert (f["N n"], f["S n"], f["V n"], f["F n"]) == (3, 2, 1, 0)
    assert f["N Se"] == pytest.approx(200 / 3) and f["N +P"] == pytest.approx(100.0)
    assert f["S Se"] == pytest.approx(50.0) and f["S +P"] == pytest.approx(50.0)
    assert f["V Se"] == pytest.approx(100.0) and f["V +P"] == pytest.approx(50.0)
    assert f["F Se"] == 0.0 and f["F +P"] == 0.0
    assert f["confusion"][0] == [2, 1, 0, 0]


def test_the_ectopic_criterion_and_its_table():
    # N N S S V V read N S S N V N: S Se 50 +P 50, V Se 50 +P 100 -> C = 62.5
    y_true = np.array([0, 0, 1, 1, 2, 2])
    prob = np.eye(5)[[0, 1, 1, 0, 2, 0]]
    f = ectopic_figures(y_true, prob, ["N", "S", "V", "F", "Q"])
    assert f["C"] == pytest.approx(62.5) and f["accuracy"] == pytest.approx(50.0)
    g = ectopic_figures(y_true, np.eye(5)[[0, 0, 1, 1, 2, 2]], ["N", "S", "V", "F", "Q"])
    table = ectopic_table({"A": {"x": f, "y": g}, "B": {"x": g, "y": f}}, ["y", "x"],
                          "model", first="A", second="B")
    lines = table.splitlines()
    assert lines[0].startswith("| model | A acc |") and "B V Se / +P" in lines[0]
    assert len(lines) == 4 and lines[2].startswith("| y | 100.00 |")
    assert "| 62.50 | 100.00 |" in lines[3] and lines[3].endswith("| 100.0 / 100.0 |")


def test_absent_classes_are_left_out_of_macro_averages():
    f = classification_figures(np.array([0, 0]), np.array([[0.9, 0.1, 0], [0.8, 0.2, 0]]),
                               ["A", "B", "C"])
    assert f["per_class"]["C"]["support"] == 0
    assert f["macro_sensitivity"] == 1.0
    with pytest.raises(ValueError):
        classification_figures(np.array([0]), np.ones((1, 2)), ["A", "B", "C"])


def test_detailed_figures_specificity_auc_records_and_averages():
    # 3 classes, 6 beats; scores chosen so that class A is perfectly ranked and B is not.
    y_true = np.array([0, 0, 0, 1, 1, 2])
    prob = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.3, 0.6, 0.1],
                     [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.1, 0.2, 0.7]])
    records = ["mitdb/100", "mitdb/101", "mitdb/100", "mitdb/200", "mitdb/200", "cudb/cu01"]
    f, arrays = detailed_figures(y_true, prob, ["A", "B", "C"], records)
    # predicted: A A B B C C -> confusion [[2,1,0],[0,1,1],[0,0,1]]
    # specificity of A: TN = 3 (beats 3..5 not called A), FP = 0 -> 1.0
    assert f["per_class"]["A"]["specificity"] == pytest.approx(1.0)
    # B: negatives are beats 0,1,2,5; beat 2 called B -> Sp = 3/4
    assert f["per_class"]["B"]["specificity"] == pytest.approx(3 / 4)
    # C: negatives 0..4; beat 4 called C -> Sp = 4/5
    assert f["per_class"]["C"]["specificity"] == pytest.approx(4 / 5)
    # AUC of A vs rest: positives scores .9 .8 .3, negatives .2 .1 .1 -> all pairs ordered
    assert f["per_class"]["A"]["auc"] == pytest.approx(1.0)
    # AUC of B: positives .7 .3 vs negatives .05 .1 .6 .2 -> pairs won: 4 + 3 = 7 of 8
    assert f["per_class"]["B"]["auc"] == pytest.approx(7 / 8)
    assert f["per_class"]["A"]["records"] == 2 and f["per_class"]["B"]["records"] == 1
    assert f["n_records"] == 4
    assert f["macro"]["specificity"] == pytest.approx((1 + 3 / 4 + 4 / 5) / 3)
    assert f["weighted"]["sensitivity"] == pytest.approx(f["accuracy"])  # weighted Se = acc
    assert arrays["roc_fpr_A"][0] == 0 and arrays["roc_tpr_A"][-1] == 1
    assert arrays["y_prob"].dtype == np.float32
    # by record: 100 holds beats 0 (A->A) and 2 (A->B); 200 beats 3 (B->B) and 4 (B->C)
    by = {r["record"]: r for r in f["by_record"]}
    assert [r["record"] for r in f["by_record"]] == sorted(set(records))
    assert by["mitdb/100"]["beats"] == 2 and by["mitdb/100"]["errors"] == 1
    assert by["mitdb/100"]["per_class"] == {"A": {"beats": 2, "found": 1, "called": 1},
                                            "B": {"beats": 0, "found": 0, "called": 1}}
    assert by["mitdb/200"]["accuracy"] == pytest.approx(0.5)
    assert by["mitdb/200"]["per_class"]["C"] == {"beats": 0, "found": 0, "called": 1}
    assert by["cudb/cu01"]["per_class"] == {"C": {"beats": 1, "found": 1, "called": 1}}
    assert sum(r["errors"] for r in f["by_record"]) == round(6 * (1 - f["accuracy"]))
    json.dumps(f)  # JSON-ready


def test_auc_is_none_for_a_class_without_positives_and_artifact_round_trip(tmp_path):
    y_true = np.array([0, 1, 0, 1])
    prob = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.4, 0.5, 0.1]])
    f, arrays = detailed_figures(y_true, prob, ["A", "B", "C"])
    assert f["per_class"]["C"]["auc"] is None and "roc_fpr_C" not in arrays
    assert f["macro"]["auc"] == pytest.approx(1.0)
    model = tmp_path / "m.keras"
    path = save_evaluation(model, f, arrays, protocol="beat", split="test", data="d")
    assert path.name == "m.eval.beat.test.d.json"
    doc, back = load_evaluation(path)
    assert doc["figures"]["accuracy"] == f["accuracy"] and doc["protocol"] == "beat"
    np.testing.assert_array_equal(back["y_true"], y_true)
    assert find_evaluations(tmp_path) == [path]
    table = comparison_table([doc])
    assert "| m | beat | test | 4 |" in table and "n/a" in table
    path.write_text("{not json")
    with pytest.raises(DatasetError):
        load_evaluation(path)


def test_an_artifact_knows_the_model_file_it_was_measured_on(tmp_path):
    from ecg_core.evaluation import evaluation_matches_model

    f, arrays = detailed_figures(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]),
                                 ["A", "B"])
    model = tmp_path / "m.keras"
    model.write_bytes(b"weights, version 1")
    doc, _ = load_evaluation(save_evaluation(model, f, arrays, protocol="beat", split="test",
                                             data="d"))
    assert len(doc["model_sha256"]) == 64
    assert evaluation_matches_model(doc, model) is True
    model.write_bytes(b"weights, version 2")  # retrained after the figures were measured
    assert evaluation_matches_model(doc, model) is False
    assert evaluation_matches_model({"figures": {}}, model) is None  # older artifacts
    assert evaluation_matches_model(doc, tmp_path / "gone.keras") is None


def test_committed_evaluations_were_measured_on_the_committed_model_files():
    from ecg_core.evaluation import evaluation_matches_model

    docs = [p for p in find_evaluations(ROOT / "models") if "experiments" not in p.parts]
    assert len(docs) >= 15
    for path in docs:
        doc, _ = load_evaluation(path)
        assert evaluation_matches_model(doc, path.parent / doc["model_file"]) is True, path


def test_grouped_accuracy_merges_classes_and_drops_the_rest():
    from ecg_core.classes import SHARED_DATASET_GROUPS
    from ecg_core.evaluation import grouped_accuracy

    codes = ["NOR", "APC", "PVC", "VEB"]
    confusion = [[8, 2, 0, 0],   # NOR: 8 right, 2 called APC (wrong: APC is in no group)
                 [5, 5, 0, 0],   # APC: not in the shared dataset, left out
                 [0, 0, 6, 4],   # PVC: 6 + 4 called VEB, same group -> 10 right
                 [1, 0, 3, 0]]   # VEB: 3 called PVC right, 1 called NOR wrong
    acc, n = grouped_accuracy(confusion, codes, SHARED_DATASET_GROUPS)
    assert n == 10 + 10 + 4
    assert acc == pytest.approx((8 + 10 + 3) / 24)
    assert grouped_accuracy(confusion, codes, {"APC": "APC"}) == (0.5, 10)
    assert grouped_accuracy(confusion, codes, {}) == (None, 0)
    with pytest.raises(ValueError):
        grouped_accuracy([[1, 2], [3, 4]], codes, SHARED_DATASET_GROUPS)


def test_committed_beat_model_read_with_the_shared_dataset_labels():
    """The committed eight-class test results, read with the shared dataset's six labels."""
    from ecg_core.classes import SHARED_DATASET_GROUPS
    from ecg_core.evaluation import grouped_accuracy, load_evaluation

    doc, _ = load_evaluation(ROOT / "models" / "ecgnet.eval.beat.test.beats-plain.json")
    f = doc["figures"]
    acc, n = grouped_accuracy(f["confusion"], list(f["per_class"]), SHARED_DATASET_GROUPS)
    assert n == f["n"] - f["per_class"]["APC"]["support"] and 0 < acc <= 1
    # with every class its own group, the reading is the plain accuracy
    codes = list(f["per_class"])
    same, n_all = grouped_accuracy(f["confusion"], codes, {c: c for c in codes})
    assert n_all == f["n"] and same == pytest.approx(f["accuracy"])


def test_bootstrap_over_records_gives_intervals_around_the_figures():
    from ecg_core.evaluation import bootstrap_ci

    rng = np.random.default_rng(0)
    records, y_true, y_pred = [], [], []
    for r in range(20):
        n = int(rng.integers(50, 150))
        truth = rng.integers(0, 3, n)
        wrong = rng.random(n) < (0.05 if r % 4 else 0.4)  # every fourth patient is misread
        pred = np.where(wrong, (truth + 1) % 3, truth)
        records += [f"rec{r}"] * n
        y_true.append(truth)
        y_pred.append(pred)
    y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
    ci = bootstrap_ci(y_true, y_pred, records, 3, ("a", "b", "c"), n_boot=400)
    acc = float((y_true == y_pred).mean())
    lo, hi = ci["accuracy"]
    assert lo < acc < hi and hi - lo > 0.02
    assert ci["n_records"] == 20
    for code in "abc":
        lo, hi = ci["per_class"][code]["sensitivity"]
        assert 0 <= lo <= hi <= 1
    # beats of one record only: every resample is the same record, the interval is a point
    one = bootstrap_ci(y_true[:50], y_pred[:50], ["x"] * 50, 3, n_boot=50)
    assert one["accuracy"][0] == one["accuracy"][1]
    # a class with no beat has no sensitivity interval
    absent = bootstrap_ci(np.zeros(100, int), np.zeros(100, int),
                          [f"r{i}" for i in range(100)], 2, ("n", "x"), n_boot=200)
    assert absent["per_class"]["x"]["sensitivity"] is None
    assert absent["per_class"]["n"]["sensitivity"] == [1.0, 1.0]


def test_confusion_figures_match_scikit_learn_on_a_real_record(classifier):
    """The serving path's numpy figures equal scikit-learn's for the same predictions."""
    from ecg_core.analysis import classify_record
    from ecg_core.evaluation import classification_figures, confusion_figures
    from ecg_core.records import read_record
    from tests.conftest import EXCERPT_MITDB

    result = classify_record(read_record(EXCERPT_MITDB / "232"), classifier)
    codes = list(result.class_codes)
    keep = [i for i, s in enumerate(result.reference) if s in "NRA"]
    y_true = np.array([codes.index({"N": "NOR", "R": "RBB", "A": "APC"}[result.reference[i]])
                       for i in keep])
    probs = result.probabilities[keep]
    ours = confusion_figures(y_true, probs.argmax(axis=1), codes)
    ref = classification_figures(y_true, probs, codes)
    assert ours["confusion"] == ref["confusion"] and ours["n"] == ref["n"]
    assert ours["accuracy"] == pytest.approx(ref["accuracy"])
    for key in ("macro_sensitivity", "macro_precision"):
        assert ours[key] == pytest.approx(ref[key])
    for code in codes:
        for key in ("support", "sensitivity", "precision", "f1"):
            assert ours["per_class"][code][key] == pytest.approx(ref["per_class"][code][key])
    with pytest.raises(ValueError):
        confusion_figures(np.array([0, 9]), np.array([0, 1]), codes)


def test_aami_comparison_lists_ours_the_replaced_model_and_the_papers():
    from ecg_core.evaluation import aami_comparison
    from ecg_core.protocols import AAMI_PUBLISHED

    figures = {"accuracy": 0.9, "per_class": {"S": {"sensitivity": 0.5, "precision": 0.4},
                                              "V": {"sensitivity": 0.8, "precision": 0.9}}}
    rows = aami_comparison(figures, "ours")
    assert [r["source"] for r in rows] == ["ours"] + [p["source"] for p in AAMI_PUBLISHED]
    assert rows[0]["S_+P"] == 0.4 and rows[0]["V_Se"] == 0.8
    replaced = {"architecture": "one network", "created": "2026-11-27T15:50:16+00:00",
                "test": {"accuracy": 0.85, "sensitivity": {"S": 0.43, "V": 0.95},
                         "precision": {"S": 0.44, "V": 0.66}}}
    rows = aami_comparison(figures, "ours", replaced=replaced)
    assert rows[1] == {"source": "the model it replaced (one network, 2026-11-27)",
                       "accuracy": 0.85, "S_Se": 0.43, "S_+P": 0.44, "V_Se": 0.95,
                       "V_+P": 0.66}
    assert len(rows) == len(AAMI_PUBLISHED) + 2
    unshifted = {"accuracy": 0.88, "sensitivity": {"S": 0.6, "V": 0.8},
                 "precision": {"S": 0.3, "V": 0.9}}
    rows = aami_comparison(figures, "ours", replaced=replaced, without_shift=unshifted)
    assert rows[1] == {"source": "ours without its class-mix shift", "accuracy": 0.88,
                       "S_Se": 0.6, "S_+P": 0.3, "V_Se": 0.8, "V_+P": 0.9}
    assert rows[2]["source"].startswith("the model it replaced")
    assert len(rows) == len(AAMI_PUBLISHED) + 3


def test_aami_comparison_lists_the_readings_left_out_first():
    from ecg_core.evaluation import aami_comparison
    from ecg_core.model import readings_left_out

    figures = {"accuracy": 0.95, "per_class": {"S": {"sensitivity": 0.56, "precision": 0.7},
                                               "V": {"sensitivity": 0.86, "precision": 0.97}}}
    plain = {"accuracy": 0.937, "sensitivity": {"S": 0.485, "V": 0.872},
             "precision": {"S": 0.43, "V": 0.878}}
    r95 = {"accuracy": 0.94, "sensitivity": {"S": 0.57, "V": 0.86},
           "precision": {"S": 0.44, "V": 0.97}}
    unshifted = {"accuracy": 0.88, "sensitivity": {"S": 0.6, "V": 0.8},
                 "precision": {"S": 0.3, "V": 0.9}}
    card = {"dominant_qrs": {"test_without": plain}, "af_fold": {"test_without": r95}}
    rows = aami_comparison(figures, "ours", without_shift=unshifted,
                           without_readings=readings_left_out(card))
    assert [r["source"] for r in rows[:4]] == [
        "ours", "ours without the atrial-fibrillation reading",
        "ours without any reading of records (the networks alone)",
        "ours without its class-mix shift"]
    assert rows[1]["S_+P"] == 0.44 and rows[2]["V_+P"] == 0.878 and rows[2]["S_Se"] == 0.485
    # the V-cluster part, adopted after both: left out first
    no_cluster = {"accuracy": 0.9508, "sensitivity": {"S": 0.53, "V": 0.859},
                  "precision": {"S": 0.576, "V": 0.973}}
    card["dominant_qrs"]["cluster"] = {"test_without": no_cluster}
    assert [(what, s["accuracy"]) for what, s in readings_left_out(card)] == [
        ("the V-cluster reading", 0.9508),
        ("the atrial-fibrillation and V-cluster readings", 0.94),
        ("any reading of records (the networks alone)", 0.937)]
    # the V-template reading, adopted last: left out first, and named in each later row
    card["v_template"] = {"test_without": {"accuracy": 0.951}}
    assert [(what, s["accuracy"]) for what, s in readings_left_out(card)] == [
        ("the V-template reading", 0.951),
        ("the V-cluster and V-template readings", 0.9508),
        ("the atrial-fibrillation, V-cluster and V-template readings", 0.94),
        ("any reading of records (the networks alone)", 0.937)]
    # its second lead, adopted after it: left out first
    card["v_template"]["two_leads"] = {"test_without": {"accuracy": 0.9539}}
    assert [what for what, _ in readings_left_out(card)][:2] == [
        "the V-template reading's second lead", "the V-template reading"]
    # the alignment of QRS stretches, adopted after that
    card["qrs_alignment"] = {"max_shift_ms": 8.0, "test_without": {"accuracy": 0.9541}}
    assert [what for what, _ in readings_left_out(card)][:3] == [
        "the alignment of each QRS before comparing it",
        "the V-template reading's second lead", "the V-template reading"]
    # its noise guard, adopted last
    card["v_template"]["skip_noisy"] = {"snr_db": 18.0, "test_without": {"accuracy": 0.9561}}
    assert [what for what, _ in readings_left_out(card)][:2] == [
        "the V-template reading's noise guard", "the alignment of each QRS before comparing it"]
    # the last check of V calls on both leads, adopted after it
    card["dominant_qrs"]["two_leads"] = {"threshold": 0.9, "test_without": {"accuracy": 0.9562}}
    assert [(what, s["accuracy"]) for what, s in readings_left_out(card)][:2] == [
        ("the last check of V calls on both leads", 0.9562),
        ("the V-template reading's noise guard", 0.9561)]
    # the V-cluster reading on both leads, adopted after that
    card["dominant_qrs"]["cluster"]["two_leads"] = {"test_without": {"accuracy": 0.9563}}
    assert [(what, s["accuracy"]) for what, s in readings_left_out(card)][:2] == [
        ("the V-cluster reading's second lead", 0.9563),
        ("the last check of V calls on both leads", 0.9562)]
    # the premature-beat reading, adopted after that
    card["premature_s"] = {"max_before": 0.85, "test_without": {"accuracy": 0.9562}}
    assert [(what, s["accuracy"]) for what, s in readings_left_out(card)][:2] == [
        ("the premature-beat reading", 0.9562), ("the V-cluster reading's second lead", 0.9563)]
    # a card with the first reading only, and one with none
    only = readings_left_out({"dominant_qrs": {"test_without": plain}})
    assert only == [("the dominant-QRS reading", plain)]
    assert readings_left_out(None) == [] and readings_left_out({}) == []


def test_the_aami_card_keeps_its_figures_without_the_dominant_qrs_reading():
    """The committed ``aami/ecgnet``'s DS2 evaluation is read with the reading, and its card
    keeps the networks' own figures beside it: the reading moved V calls only."""
    import json

    from tests.conftest import ROOT

    card = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
    doc = json.loads((ROOT / "models" / "aami" / "ecgnet.eval.aami.test.aami-bp-leads.json")
                     .read_text())
    without = card["dominant_qrs"]["test_without"]
    assert card["test"]["accuracy"] == doc["figures"]["accuracy"]
    pc = doc["figures"]["per_class"]
    # the readings that take V calls away, read before the V-template reading (which only adds
    # them; compared below): fewer beats called V, so V +P up and V Se no higher
    taken = card.get("v_template", {}).get("test_without") or {
        "precision": {c: f["precision"] for c, f in pc.items()},
        "sensitivity": {c: f["sensitivity"] for c, f in pc.items()}}
    assert taken["precision"]["V"] > without["precision"]["V"]
    assert taken["sensitivity"]["V"] <= without["sensitivity"]["V"]
    # and its figures before the V-cluster part: that part too only took V calls away
    before = card["dominant_qrs"]["cluster"]["test_without"]
    assert taken["precision"]["V"] > before["precision"]["V"]
    assert taken["sensitivity"]["V"] <= before["sensitivity"]["V"]
    if card.get("v_template"):  # it adds V calls, nine in ten of them or more right
        template = card["v_template"]["test_without"]
        n_v = pc["V"]["support"]
        found_before = n_v * template["sensitivity"]["V"]
        found_after = n_v * pc["V"]["sensitivity"]
        called_before = found_before / template["precision"]["V"]
        called_after = found_after / pc["V"]["precision"]
        assert found_after > found_before
        assert found_after - found_before >= 0.9 * (called_after - called_before) - 1e-6
    second = (card.get("v_template") or {}).get("two_leads")
    if second:  # the second lead adds V calls too, four in five of them or more right
        one = second["test_without"]
        found_one = n_v * one["sensitivity"]["V"]
        called_one = found_one / one["precision"]["V"]
        assert found_after > found_one
        assert found_after - found_one >= 0.8 * (called_after - called_one) - 1e-6
        assert found_one >= found_before  # the one-lead figures are the V-template reading's
    aligned = (card.get("qrs_alignment") or {}).get("test_without")
    if aligned:  # aligned stretches: more V beats found, four in five of the new V calls right
        found_unaligned = n_v * aligned["sensitivity"]["V"]
        called_unaligned = found_unaligned / aligned["precision"]["V"]
        assert found_after > found_unaligned
        assert found_after - found_unaligned >= 0.8 * (called_after - called_unaligned) - 1e-6
    guarded = ((card.get("v_template") or {}).get("skip_noisy") or {}).get("test_without")
    if guarded:  # the noise guard leaves DS2's clean records almost as they were
        assert abs(guarded["accuracy"] - doc["figures"]["accuracy"]) <= 0.001
        assert abs(guarded["sensitivity"]["V"] - pc["V"]["sensitivity"]) <= 0.002
    n_v = pc["V"]["support"]
    cluster_leads = ((card["dominant_qrs"].get("cluster") or {}).get("two_leads")
                     or {}).get("test_without")
    # the figures just after the last check: before the V-cluster reading on both leads
    now = cluster_leads or {"accuracy": doc["figures"]["accuracy"],
                            "sensitivity": {c: f["sensitivity"] for c, f in pc.items()},
                            "precision": {c: f["precision"] for c, f in pc.items()}}
    last = (card["dominant_qrs"].get("two_leads") or {}).get("test_without")
    if last:  # the last check on both leads takes V calls away and loses no V beat
        called_last = n_v * last["sensitivity"]["V"] / last["precision"]["V"]
        assert n_v * now["sensitivity"]["V"] / now["precision"]["V"] < called_last
        assert now["sensitivity"]["V"] == pytest.approx(last["sensitivity"]["V"], abs=1e-9)
        assert now["accuracy"] >= last["accuracy"] - 1e-9
    premature = (card.get("premature_s") or {}).get("test_without")
    # the figures just after the V-cluster reading on both leads: before the premature-beat
    # reading, adopted after it
    later = premature or {"accuracy": doc["figures"]["accuracy"],
                          "sensitivity": {c: f["sensitivity"] for c, f in pc.items()}}
    if cluster_leads:  # on both leads the V cluster gives back V beats one lead re-read
        assert later["sensitivity"]["V"] > cluster_leads["sensitivity"]["V"]
        assert later["accuracy"] >= cluster_leads["accuracy"] - 1e-9
    if premature:  # the premature-beat reading reads N calls S and touches nothing else
        n_s = pc["S"]["support"]
        assert pc["S"]["sensitivity"] > premature["sensitivity"]["S"]
        called_before = n_s * premature["sensitivity"]["S"] / premature["precision"]["S"]
        assert n_s * pc["S"]["sensitivity"] / pc["S"]["precision"] > called_before
        for c in ("V", "F", "Q"):
            assert pc[c]["sensitivity"] == pytest.approx(premature["sensitivity"][c], abs=1e-9)
            assert pc[c]["precision"] == pytest.approx(premature["precision"][c], abs=1e-9)
        assert pc["N"]["sensitivity"] < premature["sensitivity"]["N"]


def test_new_patient_figures_and_the_note_of_a_beat_split_model(tmp_path):
    """A model's figures on patients it never saw come from its cross-database artifact, only
    where that was measured on the model as it is; the note names a better model on the same
    database, and says nothing for a model trained with patients apart."""
    import shutil

    from ecg_core.evaluation import load_evaluation, new_patient_figures
    from ecg_core.model import new_patient_note, read_card
    from tests.conftest import ROOT

    model = ROOT / "models" / "ecgnet.keras"
    own = new_patient_figures(model)
    doc, _ = load_evaluation(model.with_name("ecgnet.eval.cross-database.test.qtdb.json"))
    f = doc["figures"]
    assert own == {"database": "qtdb", "n": f["n"], "n_records": f["n_records"],
                   "accuracy": pytest.approx(f["accuracy"]),
                   "normal_se": pytest.approx(f["per_class"]["NOR"]["sensitivity"])}
    # an artifact of another version of the model is not read as this one's
    for name in ("ecgnet.keras", "ecgnet.eval.cross-database.test.qtdb.json"):
        shutil.copy2(model.with_name(name), tmp_path / name)
    assert new_patient_figures(tmp_path / "ecgnet.keras") is not None
    (tmp_path / "ecgnet.keras").write_bytes(b"another network")
    assert new_patient_figures(tmp_path / "ecgnet.keras") is None
    assert new_patient_figures(tmp_path / "nothing.keras") is None
    card = read_card(model)
    better = {**own, "normal_se": 0.99, "accuracy": 0.987}
    worse = {**own, "normal_se": 0.5}
    note = new_patient_note("ecgnet", card, own, {"ecgnet": own, "aami/ecgnet": better,
                                                  "other": worse})
    assert "(beat split)" in note and "the QT Database" in note
    assert f"{own['normal_se']:.1%} of the normal beats" in note
    assert "`aami/ecgnet` read 99.0%" in note and "`other`" not in note
    assert "choose it in the sidebar for a new person's record" in note
    assert "give --model aami/ecgnet for" in new_patient_note(
        "ecgnet", card, own, {"aami/ecgnet": better}, choose="give --model {model}")
    # no better model, or another database: no recommendation
    alone = new_patient_note("ecgnet", card, own, {"other": worse,
                                                   "x": {**better, "database": "mitdb"}})
    assert "choose" not in alone and f"{own['normal_se']:.1%}" in alone
    # without figures, the caveat alone; a model trained with patients apart: nothing
    assert new_patient_note("ecgnet", card, None, {}).endswith("never seen.")
    assert new_patient_note("record/ecgnet", {"protocol": {"name": "record"}}, own, {}) is None


def test_new_patient_tables_read_every_figure_from_the_model_s_own_artifacts(tmp_path):
    """The class tables of a model on patients it never saw: DS2 first, then the QT records
    held out of every choice (not all 54 where the held-out ones were measured); each cell
    from its artifact, with the bootstrap interval; a stale artifact is not read; a class the
    model never called has no +P."""
    import shutil

    from ecg_core.evaluation import load_evaluation, new_patient_tables
    from tests.conftest import ROOT

    model = ROOT / "models" / "aami" / "ecgnet.keras"
    tables = new_patient_tables(model)
    assert [(t["protocol"], t["split"]) for t in tables] == [
        ("aami", "test"), ("cross-database", "held-out")]
    assert tables[0]["title"].startswith("AAMI DS1 -> DS2: 22 MIT-BIH patients")
    assert tables[1]["title"].startswith("The QT Database: 18 records held out")
    doc, _ = load_evaluation(model.with_name("ecgnet.eval.aami.test.aami-bp-leads.json"))
    f = doc["figures"]
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]]
            for r in tables[0]["markdown"].splitlines()[2:]}
    assert list(rows) == [c for c in f["per_class"] if f["per_class"][c]["support"]]
    s, ci = f["per_class"]["S"], f["ci95"]["per_class"]["S"]
    assert rows["S"] == [f"{s['support']:,}", str(s["records"]),
                         f"{100 * s['sensitivity']:.1f} ({100 * ci['sensitivity'][0]:.1f}-"
                         f"{100 * ci['sensitivity'][1]:.1f})",
                         f"{100 * s['precision']:.1f} ({100 * ci['precision'][0]:.1f}-"
                         f"{100 * ci['precision'][1]:.1f})"]
    # record/ecgnet: the cross-validation of its recipe, then all 54 QT records
    assert [t["protocol"] for t in new_patient_tables(ROOT / "models" / "record" / "ecgnet.keras")
            ] == ["cv", "cross-database"]
    # a copy whose model file changed reads nothing; a class never called shows no +P
    name = "ecgnet.eval.aami.test.aami-bp-leads.json"
    shutil.copy2(model, tmp_path / "ecgnet.keras")
    doc["figures"]["confusion"] = [[row[0], 0, *row[2:]] for row in f["confusion"]]
    (tmp_path / name).write_text(__import__("json").dumps(doc))
    (table,) = new_patient_tables(tmp_path / "ecgnet.keras")
    s_row = next(r for r in table["markdown"].splitlines() if r.startswith("| S |"))
    assert s_row.endswith("| – |")
    (tmp_path / "ecgnet.keras").write_bytes(b"another network")
    assert new_patient_tables(tmp_path / "ecgnet.keras") == []
    assert new_patient_tables(tmp_path / "nothing.keras") == []


def test_new_patient_percent_gives_a_dash_where_there_is_no_figure():
    from ecg_core.evaluation import new_patient_percent

    table = {"figures": {"S": {"sensitivity": 0.5449, "precision": None}}}
    assert new_patient_percent(table, "S", "sensitivity") == "54%"
    assert new_patient_percent(table, "S", "precision") == "–"      # no S call there
    assert new_patient_percent(table, "V", "sensitivity") == "–"    # no V beat there
    assert new_patient_percent(None, "S", "sensitivity") == "–"
    from ecg_core.evaluation import new_patient_words

    table["figures"]["N"] = {"sensitivity": 0.983, "precision": 0.972}
    assert new_patient_words(table) == "S 54%/–, N 98%/97%"
    assert new_patient_words(table, ["N", "V", "S"]) == "N 98%/97%, S 54%/–"
    assert new_patient_words(None) == "" and new_patient_words(table, ["V"]) == ""
