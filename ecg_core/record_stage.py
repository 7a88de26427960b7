"""The record-context stage: a second reading of a record's beats, from the network's outputs for
each beat set against the same record's other beats and from the beat's RR intervals against
the record's own rhythm.

A network that reads one beat at a time meets each new person's normal beats as strangers; on
new patients most of its errors are a person's normal beats called ectopic, often many beats of
one person at once. The stage sees what the network cannot: how a beat's reading compares with
the typical reading of the same record (the median over its beats), and how early the beat
comes against the record's mean RR interval.

Method: stacked generalisation (D. H. Wolpert, "Stacked generalization", Neural Networks 5:
241-259, 1992). A multinomial logistic regression is fitted on out-of-fold outputs of the
network, that is, on outputs for patients the network never saw (the situation it serves in),
and reads the served network's outputs. Fitting uses scikit-learn; reading is a few lines of
NumPy, so serving needs neither scikit-learn nor TensorFlow.

Lone beat images (the Predict page) have no record: they keep the network's own reading. A long
record read in stretches (:func:`ecg_core.analysis.classify_record_file`) is read stretch by
stretch, each against its own median.

Options: the beat's shape against the record's typical beat
(:func:`ecg_core.beats.template_features`) as four more features, and the typical reading formed
from the record's more typical half of beats only.

Judged on the 22 DS1 patients out of fold, the unweighted stage called far fewer normal beats
ectopic but lost ventricular beats in records where they are many and alike, whose median
reading sits near them; the shape features lost more of them, since those beats correlate with
their record's typical beat about as well as a noisy person's normal beats do. No committed
model carries a stage (``models/experiments/record-stage-2026-11-28/``,
``models/experiments/record-stage-shape-2026-11-28/``).
"""

from __future__ import annotations

import numpy as np

from .beats import TEMPLATE_FEATURES

#: Names of the stage's input features, in order (see :func:`stage_features`).
STAGE_FEATURES: tuple[str, ...] = (
    *(f"log p_{c}" for c in "NSVFQ"),
    *(f"log p_{c} - record median" for c in "NSVFQ"),
    "rr_prev / rr_local", "rr_next / rr_local", "rr_local / rr_record", "rr_prev / rr_record")

#: Names of the shape features :func:`stage_features` appends with ``shape=True``: the beat
#: against its record's typical beat (:func:`ecg_core.beats.template_features`).
SHAPE_FEATURES: tuple[str, ...] = TEMPLATE_FEATURES[:4]

#: The typical readings a beat's ``log p`` can be set against (see :func:`stage_features`).
TYPICAL_READINGS: tuple[str, ...] = ("all", "typical half")

#: Floor of the probabilities before their logarithm (the outputs of a softmax in float32 reach 0).
PROB_FLOOR: float = 1e-6


class StageError(ValueError):
    """Raised when a record-context stage cannot be fitted or does not fit its inputs."""


def stage_features(probs: np.ndarray, rhythm: np.ndarray, records=None, *, shape: bool = False,
                   typical: str = "all") -> np.ndarray:
    """The record-context stage's features of each beat.

    Args:
        probs: float array, shape (n, k): the network's own class probabilities (no class-mix
            shift, no temperature), classes in the order of the model's card (k = 5 for the
            AAMI classes N, S, V, F, Q).
        rhythm: float array, shape (n, >= 5): the beat-context vector of
            :func:`ecg_core.beats.beat_context` (``rr_prev / rr_local``, ``rr_next / rr_local``,
            ``rr_local`` in s, ``available``, ``rr_local / rr_record``, then the five template
            features of :func:`ecg_core.beats.template_features`). Only the first five
            columns are read unless ``shape`` or ``typical="typical half"`` asks for the
            template features (then 10 columns are needed).
        records: array-like of n record keys (any hashable), the record of each beat; ``None``
            when every beat is of one record.
        shape: append the beat's shape against its record's typical beat: the four template
            features (QRS and whole-beat correlation, amplitude ratio, residual).
        typical: the typical reading each beat's ``log p`` is set against: ``"all"``, the
            median over the record's beats; ``"typical half"``, the median over the record's
            beats whose QRS correlation with the typical beat is at least the record's median
            one (all beats where the template is not available).

    Returns:
        float64 array, shape (n, 2 k + 4) (+ 4 with ``shape``): ``log p`` (floored at
        :data:`PROB_FLOOR`), ``log p`` minus the record's typical reading, then ``rr_prev /
        rr_local``, ``rr_next / rr_local``, ``rr_local / rr_record`` and ``rr_prev / rr_record``
        (1.0 where unknown), then the shape features. The names for k = 5 are
        :func:`feature_names`.

    Raises:
        StageError: if the shapes do not agree or ``typical`` is unknown.
    """
    p = np.asarray(probs, dtype=np.float64)
    r = np.asarray(rhythm, dtype=np.float64)
    needs = 10 if (shape or typical != "all") else 5
    if p.ndim != 2 or r.ndim != 2 or len(p) != len(r) or r.shape[1] < needs:
        raise StageError(f"The stage needs probabilities (n, k) and beat-context features "
                         f"(n, {needs}); got shapes {p.shape} and {r.shape}.")
    if typical not in TYPICAL_READINGS:
        raise StageError(f"Unknown typical reading {typical!r}; use one of "
                         f"{', '.join(TYPICAL_READINGS)}.")
    logp = np.log(np.clip(p, PROB_FLOOR, 1.0))
    keys = np.zeros(len(p), dtype=np.int64) if records is None else \
        np.unique(np.asarray(records), return_inverse=True)[1].ravel()
    relative = np.empty_like(logp)
    for g in np.unique(keys):
        rows = np.flatnonzero(keys == g)
        basis = rows
        if typical == "typical half" and (r[rows, 9] > 0).any():
            qrs = r[rows, 5]
            basis = rows[(r[rows, 9] > 0) & (qrs >= np.median(qrs[r[rows, 9] > 0]))]
        relative[rows] = logp[rows] - np.median(logp[basis], axis=0)
    known = r[:, 3] > 0
    prev_local = np.where(known, r[:, 0], 1.0)
    next_local = np.where(known, r[:, 1], 1.0)
    local_record = np.where(known & (r[:, 4] > 0), r[:, 4], 1.0)
    rr = np.stack([prev_local, next_local, local_record, prev_local * local_record], axis=1)
    parts = [logp, relative, rr]
    if shape:
        parts.append(r[:, 5:9])
    return np.concatenate(parts, axis=1)


def feature_names(shape: bool = False) -> list[str]:
    """Names of :func:`stage_features`' columns for the AAMI classes (18 with ``shape``)."""
    return list(STAGE_FEATURES) + (list(SHAPE_FEATURES) if shape else [])


def stage_options(stage: dict) -> dict:
    """The :func:`stage_features` options a fitted stage was fitted with (older stages: none)."""
    return {"shape": bool(stage.get("shape", False)), "typical": stage.get("typical", "all")}


def fit_stage(features: np.ndarray, y: np.ndarray, class_codes, *,
              class_weight: str | None = None, c: float = 1.0, seed: int = 20180412,
              shape: bool = False, typical: str = "all") -> dict:
    """Fit the record-context stage: a multinomial logistic regression on standardised features.

    Args:
        features: float array, shape (n, m), from :func:`stage_features` on out-of-fold outputs.
        y: int array, shape (n,): the true class index of each beat (into ``class_codes``).
        class_codes: the model's class codes, in output order.
        class_weight: ``None`` (the beats' own class mix) or ``"balanced"``.
        c: inverse regularisation strength of the regression.
        seed: random state of the solver.
        shape, typical: the :func:`stage_features` options the features were computed with;
            recorded in the stage so that reading computes the same features.

    Returns:
        A JSON-ready dict: ``method``, ``features`` (names), ``mean`` and ``scale`` (m each),
        ``coef`` (k rows of m), ``intercept`` (k), ``class_weight``, ``C``, ``shape``,
        ``typical``, ``beats`` per class.
        Classes absent from ``y`` get a coefficient row of zeros and an intercept of -30 (never
        chosen).

    Raises:
        StageError: if fewer than two classes are present.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    present = np.unique(y)
    if len(present) < 2:
        raise StageError("The stage needs beats of at least two classes to be fitted.")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, class_weight=class_weight, max_iter=2000, random_state=seed)
    lr.fit((x - mean) / scale, y)
    k = len(class_codes)
    coef = np.zeros((k, x.shape[1]))
    intercept = np.full(k, -30.0)
    if len(present) == 2:  # scikit-learn keeps one row for two classes: log odds of the second
        coef[present[1]], intercept[present[1]] = lr.coef_[0], lr.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[lr.classes_] = lr.coef_
        intercept[lr.classes_] = lr.intercept_
    names = feature_names(shape)
    if len(names) != x.shape[1]:
        names = [f"feature {i}" for i in range(x.shape[1])]
    return {"method": "multinomial logistic regression on out-of-fold network outputs "
                      "(stacked generalisation, Wolpert 1992)",
            "features": names, "mean": mean.tolist(), "scale": scale.tolist(),
            "coef": coef.tolist(), "intercept": intercept.tolist(),
            "class_weight": class_weight, "C": c, "shape": shape, "typical": typical,
            "beats": {code: int((y == i).sum()) for i, code in enumerate(class_codes)}}


def apply_stage(stage: dict, features: np.ndarray) -> np.ndarray:
    """The record-context stage's class probabilities.

    Args:
        stage: a dict from :func:`fit_stage` (as stored in a model card).
        features: float array, shape (n, m), from :func:`stage_features`.

    Returns:
        float32 array, shape (n, k); rows sum to 1.

    Raises:
        StageError: if the features do not match the stage.
    """
    x = np.asarray(features, dtype=np.float64)
    mean = np.asarray(stage["mean"], dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(mean):
        raise StageError(f"The stage reads {len(mean)} features; got an array of shape "
                         f"{x.shape}.")
    z = ((x - mean) / np.asarray(stage["scale"])) @ np.asarray(stage["coef"]).T \
        + np.asarray(stage["intercept"])
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
