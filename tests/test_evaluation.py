"""Test-set figures against hand-computed cases."""

import numpy as np
import pytest

from ecg_core.evaluation import classification_figures


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


def test_absent_classes_are_left_out_of_macro_averages():
    f = classification_figures(np.array([0, 0]), np.array([[0.9, 0.1, 0], [0.8, 0.2, 0]]),
                               ["A", "B", "C"])
    assert f["per_class"]["C"]["support"] == 0
    assert f["macro_sensitivity"] == 1.0
    with pytest.raises(ValueError):
        classification_figures(np.array([0]), np.ones((1, 2)), ["A", "B", "C"])
