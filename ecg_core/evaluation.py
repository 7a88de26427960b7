"""Classification figures: accuracy, per-class sensitivity (Se) and positive predictivity (+P).

Terms as in ANSI/AAMI EC57: sensitivity Se = TP / (TP + FN) (recall), positive predictivity
+P = TP / (TP + FP) (precision). The metrics are computed by scikit-learn.
"""

from __future__ import annotations

import numpy as np


def classification_figures(y_true: np.ndarray, y_prob: np.ndarray,
                           class_codes: tuple[str, ...] | list[str]) -> dict:
    """Test-set figures for a model card.

    Args:
        y_true: int array, shape (n,), true class indices into ``class_codes``.
        y_prob: float array, shape (n, k), predicted class probabilities.
        class_codes: the k class codes.

    Returns:
        dict with ``n``, ``accuracy``, ``loss`` (categorical cross-entropy), ``per_class``
        ({code: {support, sensitivity, precision, f1}}), ``macro_sensitivity``,
        ``macro_precision`` (over classes with support > 0) and ``confusion`` (k x k counts,
        rows true class, columns predicted).

    Raises:
        ValueError: if shapes disagree.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss
    from sklearn.metrics import precision_recall_fscore_support

    y_true = np.asarray(y_true, dtype=np.int64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    k = len(class_codes)
    if y_prob.ndim != 2 or y_prob.shape != (len(y_true), k):
        raise ValueError(f"y_prob must have shape ({len(y_true)}, {k}), got {y_prob.shape}")
    y_pred = y_prob.argmax(axis=1)
    y_norm = np.clip(y_prob, 1e-7, 1.0)
    y_norm = y_norm / y_norm.sum(axis=1, keepdims=True)  # float32 softmax rows sum to 1 +- eps
    labels = np.arange(k)
    prec, rec, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    present = support > 0
    per_class = {
        code: {"support": int(support[i]), "sensitivity": float(rec[i]),
               "precision": float(prec[i]), "f1": float(f1[i])}
        for i, code in enumerate(class_codes)}
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "loss": float(log_loss(y_true, y_norm, labels=labels)),
        "per_class": per_class,
        "macro_sensitivity": float(rec[present].mean()) if present.any() else 0.0,
        "macro_precision": float(prec[present].mean()) if present.any() else 0.0,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
