"""Calibrated probabilities: temperature scaling, reliability diagrams, expected calibration error.

A network trained with class weights and early stopping is rarely calibrated: its "89%" need not
be right 89% of the time. Temperature scaling (Guo, Pleiss, Sun & Weinberger, "On calibration
of modern neural networks", ICML 2017) divides the logits by one number ``T`` fitted on the
validation split by the negative log-likelihood; the predicted class never changes. Since the
served models output probabilities, the logits are taken as ``log p`` (softmax is invariant to
the constant that this leaves out). A model that reads each beat on both leads serves the mean
of the two readings, each rescaled first; its ``T`` is fitted on that mean
(:func:`mean_reading`), and there the predicted class can change where the leads disagree.

The fitted ``T`` lives in the model card (``calibration``), and :class:`ecg_core.model.Classifier`
applies it to every prediction. Expected calibration error (ECE; Naeini, Cooper & Hauskrecht,
AAAI 2015) bins the predictions by confidence (15 equal-width bins) and averages
``|accuracy - confidence|`` weighted by the bins' sizes.
"""

from __future__ import annotations

import numpy as np

#: Confidence bins of the ECE and of the reliability diagram.
N_BINS: int = 15

_T_RANGE = (0.05, 20.0)


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Rescale probabilities by a temperature.

    Args:
        probs: float array, shape (n, k) or (k,), rows summing to 1.
        temperature: ``T > 0``; ``T > 1`` softens over-confident outputs.

    Returns:
        float32 array of the same shape: ``softmax(log(probs) / T)``.

    Raises:
        ValueError: if ``temperature`` is not a positive finite number.
    """
    t = float(temperature)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be a positive number, not {temperature!r}")
    p = np.asarray(probs, dtype=np.float64)
    if t == 1.0:
        return p.astype(np.float32)
    logits = np.log(np.clip(p, 1e-12, 1.0)) / t
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def prior_log_ratio(train_counts: np.ndarray, weights: dict[int, float],
                    target_counts: np.ndarray) -> np.ndarray:
    """The logit shift that moves a class-weighted model's outputs to another class mix.

    A model trained on ``n_c`` images of class c with loss weight ``w_c`` behaves as if class c
    had the prior ``pi_train(c) = n_c w_c / sum_j n_j w_j``. On data whose class mix is
    ``pi_target``, Bayes' rule asks for ``p(c|x) ~ p_model(c|x) pi_target(c) / pi_train(c)``
    (Saerens, Latinne & Decaestecker, "Adjusting the outputs of a classifier to new a priori
    probabilities", Neural Computation 14(1):21-41, 2002). This returns that ratio's logarithm.

    Args:
        train_counts: int array, shape (k,), training images per class.
        weights: {class index: loss weight}, as from :func:`class_weights`.
        target_counts: int array, shape (k,), beats per class in the target mix (the
            training and validation beats, one drawing each, before any cap: the data's own
            class mix).

    Returns:
        float64 array, shape (k,): ``log(pi_target(c) / pi_train(c))``; 0 for a class absent
        from the training images or from the target mix.

    Raises:
        ValueError: if the two count arrays differ in length.
    """
    n = np.asarray(train_counts, dtype=np.float64)
    t = np.asarray(target_counts, dtype=np.float64)
    if n.shape != t.shape:
        raise ValueError(f"count arrays differ in shape: {n.shape} and {t.shape}")
    effective = n * np.array([weights.get(i, 1.0) for i in range(len(n))])
    out = np.zeros(len(n))
    ok = (effective > 0) & (t > 0)
    if ok.any():
        out[ok] = (np.log(t[ok] / t[ok].sum())
                   - np.log(effective[ok] / effective[ok].sum()))
    return out


def shift_probabilities(probs: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Class probabilities with ``shift`` added to their logits: ``p * exp(shift)``,
    renormalised per row (float64 (n, k) in, float64 (n, k) out)."""
    q = np.asarray(probs, dtype=np.float64) * np.exp(np.asarray(shift, dtype=np.float64))
    return q / q.sum(axis=1, keepdims=True)


def mean_reading(readings: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """The served probabilities of beats read more than once: the mean of the readings, each
    rescaled by the temperature first, as a model that reads each beat on both leads serves
    them (:attr:`ecg_core.model.Classifier.both_leads`: each lead's reading calibrated, then
    the two averaged).

    Args:
        readings: float array, shape (m, n, k): m readings of n beats (rows summing to 1); a
            row of NaN where a beat was not read that time (a beat with no second lead). Every
            beat needs at least one reading. An (n, k) array is one reading.
        temperature: ``T > 0`` applied to every reading before the mean.

    Returns:
        float32 array, shape (n, k), rows summing to 1.

    Raises:
        ValueError: if a beat has no reading, or ``temperature`` is not a positive number.
    """
    r = np.asarray(readings, dtype=np.float64)
    if r.ndim == 2:
        return apply_temperature(r, temperature)
    read = ~np.isnan(r).any(axis=2)  # (m, n)
    if not read.any(axis=0).all():
        raise ValueError("every beat needs at least one reading")
    total = np.zeros(r.shape[1:], dtype=np.float64)
    for i in range(len(r)):
        total[read[i]] += apply_temperature(r[i][read[i]], temperature)
    return (total / read.sum(axis=0)[:, None]).astype(np.float32)


def _nll(y: np.ndarray, probs: np.ndarray, t: float) -> float:
    q = mean_reading(probs, t).astype(np.float64)
    return float(-np.mean(np.log(np.clip(q[np.arange(len(y)), y], 1e-12, 1.0))))


def _checked(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim not in (2, 3) or len(y) == 0 or len(y) != p.shape[-2]:
        raise ValueError("temperature fitting needs as many labels as probability rows (n > 0)")
    return y, p


def fit_temperature(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Fit the temperature that minimises the negative log-likelihood (Guo et al. 2017).

    Args:
        y_true: int array, shape (n,), true class indices.
        probs: float array, shape (n, k), predicted probabilities (validation split); or
            shape (m, n, k), m readings of each beat served as their mean after the
            temperature (:func:`mean_reading`; NaN rows where a beat was not read), so that
            the likelihood fitted is the one of what is served.

    Returns:
        ``T`` in [0.05, 20], found by a bounded scalar search on ``log T`` (SciPy).

    Raises:
        ValueError: if the arrays are empty or their lengths differ.
    """
    from scipy.optimize import minimize_scalar

    y, p = _checked(y_true, probs)
    res = minimize_scalar(lambda u: _nll(y, p, float(np.exp(u))),
                          bounds=tuple(np.log(_T_RANGE)), method="bounded",
                          options={"xatol": 1e-4})
    return float(np.exp(res.x))


def reliability(y_true: np.ndarray, probs: np.ndarray, n_bins: int = N_BINS) -> dict:
    """Reliability diagram data and expected calibration error.

    Args:
        y_true: int array, shape (n,).
        probs: float array, shape (n, k).
        n_bins: equal-width confidence bins over [0, 1].

    Returns:
        ``{"ece", "bins": [{"lo", "hi", "n", "confidence", "accuracy"}, ...]}``; ``ece`` in
        [0, 1]; a bin with no predictions has ``confidence``/``accuracy`` ``None``.
    """
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(probs, dtype=np.float64)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            c, a = float(conf[mask].mean()), float(correct[mask].mean())
            ece += n / len(y) * abs(a - c)
        else:
            c = a = None
        bins.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "n": n,
                     "confidence": c, "accuracy": a})
    return {"ece": float(ece), "bins": bins}


def calibration_card(y_val: np.ndarray, p_val: np.ndarray, split: str = "val") -> dict:
    """Fit a temperature on validation outputs and describe it for the model card.

    Args:
        y_val: int array, shape (n,), true class indices.
        p_val: float array, shape (n, k), or (m, n, k) for beats read m times (both leads)
            and served as the mean of the readings after the temperature
            (:func:`fit_temperature`, :func:`mean_reading`).
        split: the split named in the card.

    Returns:
        ``{"method", "temperature", "fitted_on", "n", "ece_before", "ece_after",
        "nll_before", "nll_after"}`` (and ``"readings": m`` for several readings); the ECE
        and NLL are those of the served probabilities.

    Raises:
        ValueError: as :func:`fit_temperature`.
    """
    y, p = _checked(y_val, p_val)
    t = fit_temperature(y, p)
    card = {
        "method": "temperature scaling (Guo et al. 2017), logits taken as log p, T fitted by "
                  "the negative log-likelihood",
        "temperature": round(t, 4),
        "fitted_on": split,
        "n": int(len(y)),
        "ece_before": reliability(y, mean_reading(p, 1.0))["ece"],
        "ece_after": reliability(y, mean_reading(p, t))["ece"],
        "nll_before": _nll(y, p, 1.0),
        "nll_after": _nll(y, p, t),
    }
    if p.ndim == 3:
        card["method"] += (f" of the mean of {len(p)} readings of each beat, each rescaled "
                           "before the mean, as served")
        card["readings"] = int(len(p))
    return card


def adapt_to_prior(probs: np.ndarray, source_prior: np.ndarray, *, tol: float = 1e-6,
                   max_iter: int = 1000, fixed: np.ndarray | list[int] | tuple[int, ...] = ()
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Adapt calibrated class probabilities to the class mix of one group of beats.

    The EM procedure of Saerens, Latinne & Decaestecker ("Adjusting the outputs of a
    classifier to new a priori probabilities: a simple procedure", Neural Computation
    14(1):21-41, 2002): a classifier's probabilities are right for the class mix it was
    calibrated on (``source_prior``); for a group of beats with another mix (one patient's
    record, where ectopic beats may be rare or frequent) the mix ``p_t`` is estimated by
    alternating ``p(y|x) * p_t(y) / p_s(y)`` (renormalised per beat) and ``p_t`` = the mean
    of those adapted probabilities, starting from ``p_t = p_s``, until ``p_t`` moves by less
    than ``tol`` (L1 norm) or after ``max_iter`` rounds. Classes listed in ``fixed`` keep
    their source share (a class too rare where the source mix was measured to estimate it);
    the others share the remaining mass.

    Args:
        probs: float (n, k) calibrated class probabilities of the n beats of one group
            (rows summing to 1).
        source_prior: float (k,) class mix the probabilities are calibrated to (positive,
            summing to 1; e.g. the mean calibrated probability over validation beats).
        tol: convergence threshold on the L1 change of the estimated mix.
        max_iter: most EM rounds.
        fixed: indices of classes whose share is not re-estimated.

    Returns:
        ``(adapted, prior)``: float32 (n, k) adapted probabilities, rows summing to 1, and
        float64 (k,) the group's estimated class mix. An empty group is returned as it is,
        with ``source_prior``.

    Raises:
        ValueError: if the shapes disagree, or ``source_prior`` has a class at or below 0.
    """
    p = np.asarray(probs, dtype=np.float64)
    ps = np.asarray(source_prior, dtype=np.float64)
    if p.ndim != 2 or ps.shape != (p.shape[1],):
        raise ValueError(f"probabilities {p.shape} and source prior {ps.shape} do not match")
    if np.any(ps <= 0):
        raise ValueError("every class of the source prior must be above 0")
    ps = ps / ps.sum()
    if len(p) == 0:
        return p.astype(np.float32), ps
    free = np.ones(len(ps), dtype=bool)
    free[list(fixed)] = False
    if not free.any():
        return p.astype(np.float32), ps
    pt = ps.copy()
    adapted = p
    for _ in range(max_iter):
        adapted = p * (pt / ps)
        adapted /= np.maximum(adapted.sum(axis=1, keepdims=True), 1e-300)
        new = adapted.mean(axis=0)
        new[~free] = ps[~free]
        new[free] *= (1.0 - ps[~free].sum()) / max(new[free].sum(), 1e-300)
        moved = np.abs(new - pt).sum()
        pt = new
        if moved < tol:
            break
    adapted = p * (pt / ps)
    adapted /= np.maximum(adapted.sum(axis=1, keepdims=True), 1e-300)
    return adapted.astype(np.float32), pt
