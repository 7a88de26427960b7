"""Classification figures and evaluation artifacts.

Terms as in ANSI/AAMI EC57: sensitivity Se = TP / (TP + FN) (recall), positive predictivity
+P = TP / (TP + FP) (precision), specificity Sp = TN / (TN + FP). ROC curves are one class
against the rest. Every metric is computed by scikit-learn.

An *evaluation artifact* is what ``python -m ecg_core evaluate`` writes next to a model and
what the app reads, so that the page does not recompute it at every load:
``NAME.eval.PROTOCOL.SPLIT.DATA.json`` (figures) and ``.npz`` (arrays: true labels, probabilities,
ROC curve points).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .errors import DatasetError


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


def se_ppv_percent(y_true: np.ndarray, y_prob: np.ndarray,
                   class_codes: tuple[str, ...] | list[str]) -> dict:
    """The figures an experiment's table reports, flat and in percent: accuracy, and each
    class's sensitivity (Se) and positive predictivity (+P) in the terms of ANSI/AAMI EC57.

    Args:
        y_true: int array, shape (n,), true class indices into ``class_codes``.
        y_prob: float array, shape (n, k), predicted class probabilities (the class read is
            their argmax).
        class_codes: the k class codes.

    Returns:
        ``{"n", "accuracy" (%), "confusion" (k x k counts), "<code> n", "<code> Se" (%),
        "<code> +P" (%)}`` for every class; Se or +P of a class with no beat, or never
        predicted, is 0.

    Raises:
        ValueError: if shapes disagree (as :func:`classification_figures`).
    """
    f = classification_figures(y_true, y_prob, class_codes)
    out = {"n": f["n"], "accuracy": 100 * f["accuracy"], "confusion": f["confusion"]}
    for code in class_codes:
        pc = f["per_class"][code]
        out[f"{code} n"] = pc["support"]
        out[f"{code} Se"] = 100 * pc["sensitivity"]
        out[f"{code} +P"] = 100 * pc["precision"]
    return out


def ectopic_figures(y_true: np.ndarray, y_prob: np.ndarray,
                    class_codes: tuple[str, ...] | list[str]) -> dict:
    """:func:`se_ppv_percent` with ``"C"``, the criterion the record-context experiments judge
    by: the mean of S Se, S +P, V Se and V +P (%), the ectopic classes of ANSI/AAMI EC57.

    Args and errors as :func:`se_ppv_percent`; ``class_codes`` must hold ``"S"`` and ``"V"``.
    """
    out = se_ppv_percent(y_true, y_prob, class_codes)
    out["C"] = float(np.mean([out["S Se"], out["S +P"], out["V Se"], out["V +P"]]))
    return out


def ectopic_table(result: dict, names, label: str = "reading",
                  first: str = "DS1-OOF", second: str = "V-QT36") -> str:
    """A Markdown table of :func:`ectopic_figures` for readings on two validation sets.

    Args:
        result: ``{first: {name: figures}, second: {name: figures}}``.
        names: the readings (rows), in order.
        label: the first column's heading.
        first, second: the two sets' keys: every figure of the first, accuracy, N Se and V
            Se / +P of the second.

    Returns:
        The table, one row per name, figures in % (accuracy and C to 2 decimals, the rest 1).
    """
    lines = [f"| {label} | {first} acc | N Se | S Se | S +P | V Se | V +P | F Se | F +P | C "
             f"| {second} acc | {second} N Se | {second} V Se / +P |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        d, q = result[first][name], result[second][name]
        lines.append(
            f"| {name} | {d['accuracy']:.2f} | {d['N Se']:.1f} | {d['S Se']:.1f} | "
            f"{d['S +P']:.1f} | {d['V Se']:.1f} | {d['V +P']:.1f} | {d['F Se']:.1f} | "
            f"{d['F +P']:.1f} | {d['C']:.2f} | {q['accuracy']:.2f} | {q['N Se']:.1f} | "
            f"{q['V Se']:.1f} / {q['V +P']:.1f} |")
    return "\n".join(lines)


def confusion_figures(y_true: np.ndarray, y_pred: np.ndarray,
                      class_codes: tuple[str, ...] | list[str]) -> dict:
    """Accuracy, per-class Se/+P/F1 and the confusion matrix of hard predictions.

    The same figures as :func:`classification_figures` (less the loss), counted from the
    confusion matrix with numpy: the serving path (a record's agreement with its reference
    annotations, on the Record page and in ``classify-record``) does not import scikit-learn
    for them, which costs about 65 MB and 0.7 s. The tests check them against
    scikit-learn's.

    Args:
        y_true: int array, shape (n,), true class indices into ``class_codes``.
        y_pred: int array, shape (n,), predicted class indices.
        class_codes: the k class codes.

    Returns:
        dict with ``n``, ``accuracy``, ``per_class`` ({code: {support, sensitivity,
        precision, f1}}; 0 where undefined), ``macro_sensitivity``, ``macro_precision`` (over
        classes with support > 0) and ``confusion`` (k x k counts, rows true class).

    Raises:
        ValueError: if the lengths differ or an index is outside the classes.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    k = len(class_codes)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ")
    if len(y_true) and (min(y_true.min(), y_pred.min()) < 0
                        or max(y_true.max(), y_pred.max()) >= k):
        raise ValueError(f"class indices must lie in 0-{k - 1}")
    cm = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(support > 0, tp / support, 0.0)
        ppv = np.where(predicted > 0, tp / predicted, 0.0)
        f1 = np.where(se + ppv > 0, 2 * se * ppv / (se + ppv), 0.0)
    present = support > 0
    return {
        "n": int(len(y_true)),
        "accuracy": float(tp.sum() / len(y_true)) if len(y_true) else 0.0,
        "per_class": {code: {"support": int(support[i]), "sensitivity": float(se[i]),
                             "precision": float(ppv[i]), "f1": float(f1[i])}
                      for i, code in enumerate(class_codes)},
        "macro_sensitivity": float(se[present].mean()) if present.any() else 0.0,
        "macro_precision": float(ppv[present].mean()) if present.any() else 0.0,
        "confusion": cm.tolist(),
    }


#: Bootstrap resamples of :func:`bootstrap_ci`.
N_BOOTSTRAP: int = 1000


def _record_confusions(y_true, y_pred, records, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The record keys in sorted order (str (r,)) and each record's confusion matrix (int64
    (r, k, k), rows true, columns predicted). Raises ValueError if the lengths differ."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if not len(y_true) == len(y_pred) == len(records):
        raise ValueError("y_true, y_pred and records must have the same length")
    names, index = np.unique(np.asarray(records, dtype=object).astype(str), return_inverse=True)
    cms = np.zeros((len(names), k, k), np.int64)
    np.add.at(cms, (index, y_true, y_pred), 1)
    return names, cms


def bootstrap_ci(y_true: np.ndarray, y_pred: np.ndarray, records: list[str], k: int,
                 class_codes: tuple[str, ...] | list[str] | None = None,
                 n_boot: int = N_BOOTSTRAP, seed: int = 20180412) -> dict:
    """95% confidence intervals by bootstrapping over records (patients).

    Beats of one person are not independent: a model that misreads one patient misreads many
    of their beats. So the records, not the beats, are drawn with replacement (each resample
    holds as many records as the test set, with all their beats), the figures are computed on
    each resample, and the 2.5th and 97.5th percentiles are reported (the percentile
    bootstrap; Efron & Tibshirani 1993).

    Args:
        y_true: int array, shape (n,), true class indices.
        y_pred: int array, shape (n,), predicted class indices.
        records: record key of each beat (e.g. ``"mitdb/207"``), length n.
        k: number of classes.
        class_codes: the k class codes, for per-class intervals (``None``: none).
        n_boot: resamples.
        seed: seed of the resampling.

    Returns:
        ``{"method", "n_records", "n_boot", "accuracy": [lo, hi], "macro_sensitivity": [lo,
        hi], "macro_precision": [lo, hi], "per_class": {code: {"sensitivity": [lo, hi],
        "precision": [lo, hi]}}}``; fractions in [0, 1]; an interval is ``None`` where the
        figure is undefined in over half of the resamples (a class absent from them).

    Raises:
        ValueError: if the lengths differ.
    """
    names, per_record = _record_confusions(y_true, y_pred, records, k)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(n_boot, len(names)))
    counts = np.stack([np.bincount(d, minlength=len(names)) for d in draws])
    cms = np.einsum("br,rij->bij", counts, per_record).astype(np.float64)
    diag = np.einsum("bii->bi", cms)
    true_n, pred_n = cms.sum(axis=2), cms.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(true_n > 0, diag / true_n, np.nan)
        ppv = np.where(pred_n > 0, diag / pred_n, np.nan)
        acc = diag.sum(axis=1) / cms.sum(axis=(1, 2))
    present = true_n > 0
    macro_se = np.nanmean(np.where(present, se, np.nan), axis=1)
    macro_p = np.nanmean(np.where(present, np.nan_to_num(ppv), np.nan), axis=1)

    def interval(values: np.ndarray):
        ok = values[np.isfinite(values)]
        if len(ok) < n_boot / 2:
            return None
        return [float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5))]

    out = {"method": "percentile bootstrap over records (patients), 95%",
           "n_records": int(len(names)), "n_boot": int(n_boot),
           "accuracy": interval(acc), "macro_sensitivity": interval(macro_se),
           "macro_precision": interval(macro_p)}
    if class_codes is not None:
        out["per_class"] = {c: {"sensitivity": interval(se[:, i]),
                                "precision": interval(ppv[:, i])}
                            for i, c in enumerate(class_codes)}
    return out


def record_figures(y_true: np.ndarray, y_pred: np.ndarray, records: list[str],
                   class_codes: tuple[str, ...] | list[str]) -> list[dict]:
    """How a model reads each record (one patient), for the by-record table.

    Pooled figures hide that a model's errors on new patients come from a few people: one
    record whose normal beats all look ectopic to it can hold most of a test set's false
    calls. Counting per record shows who they are (the per-record view of inter-patient
    evaluation; de Chazal et al. 2004, IEEE Trans Biomed Eng 51(7):1196-1206, report their
    results record by record too).

    Args:
        y_true: int array, shape (n,), true class indices into ``class_codes``.
        y_pred: int array, shape (n,), predicted class indices.
        records: record key of each beat (e.g. ``"mitdb/207"``), length n.
        class_codes: the k class codes.

    Returns:
        One dict per record, in record order: ``{"record", "beats", "errors", "accuracy",
        "per_class": {code: {"beats", "found", "called"}}}``: the record's beats of each class,
        how many of them the model gave that class (true positives) and how many beats of the
        record it gave that class in all; classes absent from the record and never predicted
        in it are left out. Se is ``found / beats``, +P ``found / called``.

    Raises:
        ValueError: if the lengths differ.
    """
    names, cms = _record_confusions(y_true, y_pred, records, len(class_codes))
    out = []
    for name, cm in zip(names, cms):
        n = int(cm.sum())
        right = int(np.trace(cm))
        per_class = {code: {"beats": int(cm[i].sum()), "found": int(cm[i, i]),
                            "called": int(cm[:, i].sum())}
                     for i, code in enumerate(class_codes) if cm[i].sum() or cm[:, i].sum()}
        out.append({"record": str(name), "beats": n, "errors": n - right,
                    "accuracy": right / n if n else None, "per_class": per_class})
    return out


def detailed_figures(y_true: np.ndarray, y_prob: np.ndarray,
                     class_codes: tuple[str, ...] | list[str],
                     records: list[str] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """All figures of the Evaluation page, and the arrays behind its curves.

    Extends :func:`classification_figures` with, per class: specificity, one-vs-rest ROC AUC
    (``sklearn.metrics.roc_auc_score``; ``None`` where a class has no positive or no negative
    example), and the number of records (patients) it comes from; macro and support-weighted
    averages of Se, +P, Sp, F1 and AUC (over classes present in ``y_true``).

    Args:
        y_true: int array, shape (n,), true class indices into ``class_codes``.
        y_prob: float array, shape (n, k), predicted class probabilities.
        class_codes: the k class codes.
        records: optional record key of each beat (e.g. ``"mitdb/207"``), for patient counts.

    Returns:
        ``(figures, arrays)``: figures is JSON-ready (the keys of
        :func:`classification_figures` plus ``per_class[code]["specificity"|"auc"|"records"]``,
        ``macro``, ``weighted``, ``n_records``, ``ci95`` (with records: 95% intervals by
        bootstrapping over records, :func:`bootstrap_ci`), ``by_record`` (with records:
        :func:`record_figures`), ``reliability`` (expected calibration error
        and the reliability diagram's bins, :func:`ecg_core.calibration.reliability`)); arrays holds ``y_true`` (int64, (n,)),
        ``y_prob`` (float32, (n, k)) and, per class with an AUC, ``roc_fpr_CODE``,
        ``roc_tpr_CODE``, ``roc_thresholds_CODE`` (float64, the curve's points from
        ``sklearn.metrics.roc_curve``).

    Raises:
        ValueError: if shapes disagree.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    figures = classification_figures(y_true, y_prob, class_codes)
    y_true = np.asarray(y_true, dtype=np.int64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if records is not None and len(records) != len(y_true):
        raise ValueError(f"records has {len(records)} entries for {len(y_true)} beats")
    cm = np.asarray(figures["confusion"], dtype=np.int64)
    n = int(cm.sum())
    arrays: dict[str, np.ndarray] = {"y_true": y_true, "y_prob": y_prob.astype(np.float32)}
    for i, code in enumerate(class_codes):
        tp = cm[i, i]
        fp = cm[:, i].sum() - tp
        fn = cm[i, :].sum() - tp
        tn = n - tp - fp - fn
        pc = figures["per_class"][code]
        pc["specificity"] = float(tn / (tn + fp)) if tn + fp else 0.0
        positives = y_true == i
        if positives.any() and not positives.all():
            pc["auc"] = float(roc_auc_score(positives, y_prob[:, i]))
            fpr, tpr, thr = roc_curve(positives, y_prob[:, i])
            arrays[f"roc_fpr_{code}"], arrays[f"roc_tpr_{code}"] = fpr, tpr
            arrays[f"roc_thresholds_{code}"] = thr
        else:
            pc["auc"] = None
        if records is not None:
            pc["records"] = len({r for r, t in zip(records, y_true) if t == i})
    present = [c for c in class_codes if figures["per_class"][c]["support"] > 0]
    support = np.array([figures["per_class"][c]["support"] for c in present], dtype=np.float64)
    for avg in ("macro", "weighted"):
        out = {}
        for metric in ("sensitivity", "precision", "specificity", "f1", "auc"):
            vals = [figures["per_class"][c][metric] for c in present]
            ok = [j for j, v in enumerate(vals) if v is not None]
            if not ok:
                out[metric] = None
                continue
            v = np.array([vals[j] for j in ok])
            w = support[ok] if avg == "weighted" else np.ones(len(ok))
            out[metric] = float((v * w).sum() / w.sum())
        figures[avg] = out
    if records is not None:
        figures["n_records"] = len(set(records))
        figures["ci95"] = bootstrap_ci(y_true, y_prob.argmax(axis=1), records,
                                       len(class_codes), class_codes)
        figures["by_record"] = record_figures(y_true, y_prob.argmax(axis=1), records,
                                              class_codes)
    from .calibration import reliability

    figures["reliability"] = reliability(y_true, y_prob)
    return figures, arrays


def artifact_stem(model_path: str | Path, protocol: str, split: str, data: str = "") -> Path:
    """Path stem of a model's evaluation artifact, e.g. ``models/ecgnet.eval.beat.test.beats``
    (model, protocol, split, and the evaluated dataset folder's name)."""
    model_path = Path(model_path)
    tag = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(str(data)).name).strip("-") if data else ""
    return model_path.with_name(f"{model_path.stem}.eval.{protocol}.{split}"
                                + (f".{tag}" if tag else ""))


def save_evaluation(model_path: str | Path, figures: dict, arrays: dict[str, np.ndarray], *,
                    protocol: str, split: str, data: str, extra: dict | None = None) -> Path:
    """Write an evaluation artifact next to a model (JSON figures + compressed NPZ arrays).

    Args:
        model_path: the evaluated ``.keras`` file.
        figures, arrays: from :func:`detailed_figures`.
        protocol: split protocol name (``"beat"``, ``"record"``, ...).
        split: evaluated split (``"test"``, ``"val"``, ``"all"``).
        data: the dataset folder, as given.
        extra: more JSON-ready fields (e.g. the model card's class list).

    Returns:
        Path of the JSON file. The document records the SHA-256 of the model file
        (``model_sha256``), so that figures of an earlier version of a model are told apart
        (:func:`evaluation_matches_model`).
    """
    from .runtime import file_sha256

    stem = artifact_stem(model_path, protocol, split, data)
    doc = {"model": Path(model_path).stem, "model_file": Path(model_path).name,
           "protocol": protocol, "split": split, "data": str(data),
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           **({"model_sha256": file_sha256(model_path)} if Path(model_path).is_file() else {}),
           **(extra or {}), "figures": figures}
    json_path = stem.with_name(stem.name + ".json")
    json_path.write_text(json.dumps(doc, indent=1))
    np.savez_compressed(stem.with_name(stem.name + ".npz"), **arrays)
    return json_path


def load_evaluation(json_path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read an evaluation artifact written by :func:`save_evaluation`.

    Returns:
        ``(document, arrays)``; arrays is empty when the NPZ file is missing.

    Raises:
        DatasetError: if the JSON file is missing or not an evaluation artifact.
    """
    json_path = Path(json_path)
    try:
        doc = json.loads(json_path.read_text())
        doc["figures"]["per_class"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{json_path.name} is not a readable evaluation artifact "
                           f"({exc}).") from exc
    npz = json_path.with_suffix(".npz")
    arrays: dict[str, np.ndarray] = {}
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    return doc, arrays


def evaluation_matches_model(doc: dict, model_path: str | Path) -> bool | None:
    """Whether an evaluation artifact was measured on the model file as it is now.

    Args:
        doc: an artifact's document (:func:`load_evaluation`).
        model_path: the model file it belongs to.

    Returns:
        ``True`` if the SHA-256 recorded in the artifact (``model_sha256``) is the file's,
        ``False`` if it is not (the model was retrained or replaced after the figures were
        measured), ``None`` if the artifact records none or the file is missing.
    """
    recorded = doc.get("model_sha256")
    path = Path(model_path)
    if not recorded or not path.is_file():
        return None
    from .runtime import file_sha256

    return file_sha256(path) == recorded


def find_evaluations(models_dir: str | Path) -> list[Path]:
    """Evaluation artifacts (JSON) in a models folder and its sub-folders, sorted by path."""
    return sorted(Path(models_dir).rglob("*.eval.*.json"))


def new_patient_figures(model_path: str | Path) -> dict | None:
    """A model's figures on patients it never saw, from its cross-database evaluation artifact
    (``NAME.eval.cross-database.test.DB.json``, written by ``ecg-core evaluate-database``, e.g.
    on the QT Database), where that artifact was measured on the model file as it is now
    (:func:`new_patient_artifacts`).

    Args:
        model_path: the model's ``.keras`` file.

    Returns:
        ``{"database": str, "n": int, "n_records": int, "accuracy": float, "normal_se":
        float | None}`` (``normal_se``: the sensitivity of the normal class, N or NOR, in
        [0, 1]); ``None`` where the model has no such artifact measured on it. Of several
        databases, the one with the most beats.
    """
    best = None
    for doc in new_patient_artifacts(model_path):
        if (doc["protocol"], doc["split"]) != ("cross-database", "test"):
            continue
        f = doc["figures"]
        normal = next((f["per_class"][c] for c in ("N", "NOR") if c in f["per_class"]), None)
        found = {"database": Path(str(doc.get("data", ""))).name, "n": int(f["n"]),
                 "n_records": int(f.get("n_records") or 0), "accuracy": float(f["accuracy"]),
                 "normal_se": (None if not normal or not normal.get("support")
                               else float(normal["sensitivity"]))}
        if best is None or found["n"] > best["n"]:
            best = found
    return best


#: Readable names of the PhysioNet databases that evaluation artifacts name by folder.
DATABASE_NAMES: dict[str, str] = {"qtdb": "the QT Database", "mitdb": "the MIT-BIH Arrhythmia "
                                  "Database", "cudb": "the CU Ventricular Tachyarrhythmia "
                                  "Database", "nstdb": "the MIT-BIH Noise Stress Test Database"}

#: The protocols whose figures measure patients a model never saw, in the order they are
#: shown: (protocol, split) of an evaluation artifact's name.
NEW_PATIENT_PROTOCOLS: tuple[tuple[str, str], ...] = (
    ("aami", "test"), ("cv", "test"), ("cross-database", "held-out"),
    ("cross-database", "test"))


def _new_patient_title(doc: dict) -> str:
    """The heading of one artifact's new-patient table: protocol, patients and beats."""
    f = doc["figures"]
    n, r = int(f["n"]), int(f.get("n_records") or 0)
    db = Path(str(doc.get("data", ""))).name
    db = DATABASE_NAMES.get(db, db)
    db = db[:1].upper() + db[1:]
    if doc["protocol"] == "aami":
        return (f"AAMI DS1 -> DS2: {r} MIT-BIH patients the model never saw, {n:,} beats")
    if doc["protocol"] == "cv":
        return (f"5-fold cross-validation by patient: {r} records, each read by networks of "
                f"this recipe trained without its patient, {n:,} beats")
    if doc["split"] == "held-out":
        return (f"{db}: {r} records held out of every training and every choice, "
                f"{n:,} beats (other recorders and leads)")
    return (f"{db}: {r} records of patients the model never trained on, {n:,} beats "
            "(other recorders and leads)")


def new_patient_tables(model_path: str | Path) -> list[dict]:
    """A model's figures on patients it never saw, class by class, as Markdown tables: one
    per evaluation artifact of a protocol in :data:`NEW_PATIENT_PROTOCOLS` (AAMI DS2, the
    patient-grouped cross-validation of its recipe, another database) that was measured on
    the model file as it is now (:func:`evaluation_matches_model`). Of another database, the
    records held out of every choice (``evaluate-database --held-out``) are shown where they
    were measured, and all its records otherwise. Every figure is read from the artifact;
    intervals are its percentile bootstrap over records (:func:`bootstrap_ci`).

    Args:
        model_path: the model's ``.keras`` file; its artifacts lie beside it.

    Returns:
        A list (possibly empty) of ``{"protocol": str, "split": str, "title": str,
        "label": str, "markdown": str, "figures": dict}``. Each table has one row per class
        with beats there: class, beats, patients (records), Se % and +P % with their 95%
        intervals; +P is "–" where the model called no beat of that class. ``label`` is a
        short name of the protocol (``"AAMI DS2"``); ``figures`` maps each class code to
        ``{"support": int, "records": int | None, "sensitivity": float, "precision": float |
        None}`` (fractions; ``precision`` ``None`` where the model called no such beat).
    """
    docs = new_patient_artifacts(model_path)
    held_out = {str(d.get("data", "")) for d in docs
                if (d["protocol"], d["split"]) == ("cross-database", "held-out")}
    return [{"protocol": d["protocol"], "split": d["split"], "title": _new_patient_title(d),
             "label": new_patient_label(d), "markdown": _new_patient_markdown(d["figures"]),
             "figures": _new_patient_class_figures(d["figures"])}
            for d in docs if not ((d["protocol"], d["split"]) == ("cross-database", "test")
                                  and str(d.get("data", "")) in held_out)]


def new_patient_artifacts(model_path: str | Path) -> list[dict]:
    """A model's evaluation artifacts that measure patients it never saw: the documents
    (:func:`load_evaluation`) of the protocols in :data:`NEW_PATIENT_PROTOCOLS` beside the
    model file, measured on it as it is now (:func:`evaluation_matches_model`; an artifact
    without a recorded SHA-256 is left out too), in the order of those protocols, then by
    file name. Unreadable artifacts are skipped.

    Args:
        model_path: the model's ``.keras`` file.

    Returns:
        A list, possibly empty.
    """
    model_path = Path(model_path)
    docs = []
    for json_path in sorted(model_path.parent.glob(f"{model_path.stem}.eval.*.json")):
        try:
            doc, _ = load_evaluation(json_path)
        except DatasetError:
            continue
        if ((doc.get("protocol"), doc.get("split")) in NEW_PATIENT_PROTOCOLS
                and evaluation_matches_model(doc, model_path)):
            docs.append(doc)
    return sorted(docs, key=lambda d: NEW_PATIENT_PROTOCOLS.index((d["protocol"],
                                                                   d["split"])))


def new_patient_percent(table: dict | None, code: str, key: str) -> str:
    """One class's figure from a :func:`new_patient_tables` entry, as the Record page, the
    report and ``classify-record`` print it beside a record's class counts.

    Args:
        table: an entry of :func:`new_patient_tables`, or ``None``.
        code: the class code.
        key: ``"sensitivity"`` (Se) or ``"precision"`` (+P).

    Returns:
        Whole percent (``"54%"``), or ``"–"`` where the table has no beats of that class, the
        model made no such call, or there is no table.
    """
    value = (((table or {}).get("figures") or {}).get(code) or {}).get(key)
    return "–" if value is None else f"{value:.0%}"


def new_patient_words(table: dict | None, codes=None) -> str:
    """Se/+P of classes from a :func:`new_patient_tables` entry in one line, as
    ``"S 54%/57%, V 94%/98%"`` (:func:`new_patient_percent` each).

    Args:
        table: an entry of :func:`new_patient_tables`, or ``None``.
        codes: the classes to give, in order (those the table has beats of are kept); all
            of the table's by default.

    Returns:
        The line; ``""`` where no class is left.
    """
    figures = (table or {}).get("figures") or {}
    keep = [c for c in (figures if codes is None else codes) if c in figures]
    return ", ".join(f"{c} {new_patient_percent(table, c, 'sensitivity')}/"
                     f"{new_patient_percent(table, c, 'precision')}" for c in keep)


def new_patient_label(doc: dict) -> str:
    """A short name of an evaluation artifact's new-patient protocol, for a column, a caption
    or the report: ``"AAMI DS2"``, ``"its recipe's 5-fold cross-validation by patient"``,
    ``"the QT Database, records held out"``, ``"the QT Database"``.

    Args:
        doc: an artifact's document (:func:`load_evaluation`) of a protocol in
            :data:`NEW_PATIENT_PROTOCOLS`.
    """
    if doc["protocol"] == "aami":
        return "AAMI DS2"
    if doc["protocol"] == "cv":
        return "its recipe's 5-fold cross-validation by patient"
    db = DATABASE_NAMES.get(Path(str(doc.get("data", ""))).name, str(doc.get("data", "")))
    return f"{db}, records held out" if doc["split"] == "held-out" else db


def _calls(f: dict) -> np.ndarray | None:
    """The number of beats the model called each class (the confusion matrix's column sums),
    or ``None`` where the artifact has no confusion matrix."""
    return (np.asarray(f["confusion"]).sum(axis=0) if f.get("confusion") is not None
            else None)


def _new_patient_class_figures(f: dict) -> dict[str, dict]:
    """``figures`` of :func:`new_patient_tables`: per class with beats, Se, +P (``None``
    without calls), beats and records."""
    calls = _calls(f)
    out = {}
    for i, (c, pc) in enumerate(f["per_class"].items()):
        if not pc.get("support"):
            continue
        called = calls is None or i >= len(calls) or calls[i] > 0
        out[c] = {"support": int(pc["support"]), "records": pc.get("records"),
                  "sensitivity": float(pc["sensitivity"]),
                  "precision": float(pc["precision"]) if called else None}
    return out


def _new_patient_markdown(f: dict) -> str:
    """One artifact's figures (``figures`` of :func:`load_evaluation`) as the class table of
    :func:`new_patient_tables`."""
    ci = (f.get("ci95") or {}).get("per_class") or {}
    codes = list(f["per_class"])
    calls = _calls(f)

    def cell(value, interval):
        text = f"{100 * value:.1f}"
        if interval and len(interval) == 2:
            text += f" ({100 * interval[0]:.1f}-{100 * interval[1]:.1f})"
        return text

    lines = ["| class | beats | patients | Se % (95% CI) | +P % (95% CI) |",
             "|---|---:|---:|---:|---:|"]
    for i, c in enumerate(codes):
        pc = f["per_class"][c]
        if not pc.get("support"):
            continue
        no_calls = calls is not None and i < len(calls) and calls[i] == 0
        lines.append(
            f"| {c} | {int(pc['support']):,} | {pc.get('records', '–')} | "
            f"{cell(pc['sensitivity'], (ci.get(c) or {}).get('sensitivity'))} | "
            + ("–" if no_calls else cell(pc["precision"], (ci.get(c) or {}).get("precision")))
            + " |")
    return "\n".join(lines)


def comparison_table(docs: list[dict]) -> str:
    """A Markdown table comparing evaluation artifacts (one row per model and protocol).

    Args:
        docs: documents from :func:`load_evaluation` (or written by :func:`save_evaluation`).

    Returns:
        Markdown text: model, protocol, split, beats, records, accuracy, macro Se, macro +P,
        macro AUC, and Se/+P per class.
    """
    if not docs:
        return ""
    codes = list(docs[0]["figures"]["per_class"])
    head = ["model", "protocol", "split", "beats", "records", "accuracy", "macro Se",
            "macro +P", "macro AUC"] + [f"{c} Se/+P" for c in codes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}"

    for d in docs:
        f = d["figures"]
        macro = f.get("macro", {})
        cells = [d["model"], d["protocol"], d["split"], str(f["n"]),
                 str(f.get("n_records", "")), f"{100 * f['accuracy']:.2f}",
                 pct(f["macro_sensitivity"]), pct(f["macro_precision"]), pct(macro.get("auc"))]
        for c in codes:
            pc = f["per_class"].get(c, {})
            cells.append("n/a" if not pc.get("support") else
                         f"{pct(pc['sensitivity'])}/{pct(pc['precision'])}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def record_rows(by_record: list[dict], codes: list[str] | tuple[str, ...]) -> list[dict]:
    """The by-record figures (:func:`record_figures`) as rows of display text, the records
    with the most errors first.

    Args:
        by_record: ``figures["by_record"]``.
        codes: the class codes to give a column each.

    Returns:
        One dict per record: ``record``, ``beats``, ``errors`` (int), ``accuracy`` ("97.5%"),
        and per class code "found/beats" ("-" for no beats of the class), followed by
        ", N false" when N beats of other classes were called that class; "" where the class
        neither occurs nor is predicted in the record.
    """
    rows = []
    for rec in sorted(by_record, key=lambda r: (-r["errors"], r["record"])):
        acc = rec.get("accuracy")
        row = {"record": rec["record"], "beats": rec["beats"], "errors": rec["errors"],
               "accuracy": "n/a" if acc is None else f"{100 * acc:.1f}%"}
        for code in codes:
            pc = rec["per_class"].get(code)
            if pc is None:
                row[code] = ""
                continue
            false = pc["called"] - pc["found"]
            row[code] = ((f"{pc['found']}/{pc['beats']}" if pc["beats"] else "-")
                         + (f", {false} false" if false else ""))
        rows.append(row)
    return rows


def record_markdown(by_record: list[dict], codes: list[str] | tuple[str, ...]) -> str:
    """:func:`record_rows` as a Markdown table (the CLI's ``--by-record``)."""
    rows = record_rows(by_record, codes)
    if not rows:
        return ""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines)


def evaluate_images(classifier, items: list[tuple[str, str, bytes]], *, batch_size: int = 64,
                    progress=None) -> tuple[dict, dict[str, np.ndarray], list[tuple[str, str]]]:
    """Evaluate a classifier on labelled image files held in memory (an uploaded set).

    Args:
        classifier: an :class:`ecg_core.model.Classifier` (``canonical``,
            ``predict_canonical``, ``class_codes``).
        items: ``(name, class code, image bytes)`` triples, e.g. from
            :meth:`ecg_core.labelled_set.LabelledSet.labelled_items`.
        batch_size: images per model call.
        progress: optional callable ``progress(done, total)``.

    Returns:
        ``(figures, arrays, errors)`` as in :func:`detailed_figures`, plus ``(name, message)``
        for each image that could not be read (left out of the figures).

    Raises:
        DatasetError: if no image could be read, or a label is not one of the model's classes.
    """
    from .canonical import decode_image
    from .errors import ImageDecodeError

    index = {c: i for i, c in enumerate(classifier.class_codes)}
    unknown = sorted({code for _, code, _ in items} - set(index))
    if unknown:
        raise DatasetError(f"Labels {unknown} are not classes of this model "
                           f"({', '.join(classifier.class_codes)}).")
    errors: list[tuple[str, str]] = []
    probs: list[np.ndarray] = []
    labels: list[int] = []
    batch: list[np.ndarray] = []
    total = len(items)

    def flush():
        if batch:
            probs.append(classifier.predict_canonical(np.stack(batch)))
            batch.clear()

    for done, (name, code, data) in enumerate(items, start=1):
        try:
            batch.append(classifier.canonical(decode_image(data)))
            labels.append(index[code])
        except ImageDecodeError as exc:
            errors.append((name, str(exc)))
        if len(batch) >= batch_size:
            flush()
        if progress is not None and (done % 64 == 0 or done == total):
            progress(done, total)
    flush()
    if not labels:
        raise DatasetError("None of the images could be read.")
    figures, arrays = detailed_figures(np.array(labels), np.concatenate(probs),
                                       classifier.class_codes)
    return figures, arrays, errors


def grouped_accuracy(confusion, codes, groups: dict[str, str]) -> tuple[float | None, int]:
    """Accuracy of a confusion matrix read with coarser labels (classes merged into groups).

    A beat counts when its true class is in ``groups``; it is right when its predicted class
    belongs to the same group. Predicted classes outside ``groups`` count as wrong. Used to
    read our eight-class test results with the six labels of the widely shared image dataset
    (:data:`ecg_core.classes.SHARED_DATASET_GROUPS`).

    Args:
        confusion: (k, k) counts, rows = true class, columns = predicted class (the
            ``confusion`` of :func:`classification_figures`), any integer array-like.
        codes: the k class codes in the matrix's order.
        groups: ``{code: group}`` for the classes to keep.

    Returns:
        ``(accuracy, n)``: the share of kept beats predicted within their group (``None`` when
        no beat is kept) and the number of kept beats.

    Raises:
        ValueError: if ``confusion`` is not a k x k matrix for the k codes.
    """
    c = np.asarray(confusion, dtype=np.int64)
    if c.shape != (len(codes), len(codes)):
        raise ValueError(f"confusion has shape {c.shape}, expected {(len(codes),) * 2}.")
    group = [groups.get(code) for code in codes]
    n = right = 0
    for i, g_true in enumerate(group):
        if g_true is None:
            continue
        n += int(c[i].sum())
        right += int(sum(c[i, j] for j, g in enumerate(group) if g == g_true))
    return (right / n if n else None), n


def aami_comparison(figures: dict, label: str = "this model",
                    replaced: dict | None = None,
                    without_shift: dict | None = None,
                    without_readings: list[tuple[str, dict]] | None = None) -> list[dict]:
    """Our AAMI DS2 figures next to the published ones, one row per source.

    Args:
        figures: figures of a model with the AAMI classes on the DS2 test set.
        label: name of our row.
        replaced: the card's ``replaces`` entry (the model this one replaced, with its
            ``test`` summary: ``accuracy`` and per-class ``sensitivity``/``precision``), or
            ``None``.
        without_shift: for a model with a class-mix shift, its test summary without it (the
            card's ``prior_shift.before.test``, the same keys), or ``None``.
        without_readings: for a model with readings of whole records, ``(what was left out,
            test summary)`` pairs, in the order to show
            (:func:`ecg_core.model.readings_left_out` of its card), or ``None``.

    Returns:
        Rows ``{"source", "accuracy", "S_Se", "S_+P", "V_Se", "V_+P"}`` (``None`` where a
        paper does not give a figure); ours first, then ours without its readings of records,
        without the class-mix shift, then the replaced model, then
        :data:`ecg_core.protocols.AAMI_PUBLISHED`.
    """
    from .protocols import AAMI_PUBLISHED

    pc = figures["per_class"]
    ours = {"source": label, "accuracy": figures["accuracy"],
            "S_Se": pc.get("S", {}).get("sensitivity"), "S_+P": pc.get("S", {}).get("precision"),
            "V_Se": pc.get("V", {}).get("sensitivity"), "V_+P": pc.get("V", {}).get("precision")}
    keys = ("accuracy", "S_Se", "S_+P", "V_Se", "V_+P")
    rows = [ours]

    def summary_row(source: str, test: dict) -> dict:
        se, ppv = test.get("sensitivity", {}), test.get("precision", {})
        return {"source": source, "accuracy": test.get("accuracy"), "S_Se": se.get("S"),
                "S_+P": ppv.get("S"), "V_Se": se.get("V"), "V_+P": ppv.get("V")}

    for what, summary in without_readings or ():
        rows.append(summary_row(f"{label} without {what}", summary))
    if without_shift:
        rows.append(summary_row(f"{label} without its class-mix shift", without_shift))
    test = (replaced or {}).get("test")
    if test:
        rows.append(summary_row(f"the model it replaced ({replaced.get('architecture')}, "
                                f"{str(replaced.get('created') or '')[:10]})", test))
    return rows + [{"source": p["source"], **{k: p.get(k) for k in keys}}
                   for p in AAMI_PUBLISHED]
