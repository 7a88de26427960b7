"""Robustness sets: the same beats drawn the ways other tools and cameras draw them.

A model that reads only its own drawings fails on the images people bring. Each robustness set
draws the beats of one split of a built dataset (drawing 0 of each beat, scored once) in one
other way, in memory, from the database records, and the model is scored on it:

* ``shared-dataset``: the widely shared 6-class ECG image dataset's own drawing
  (:data:`~ecg_core.rendering.SHARED_DATASET_STYLE`: 0.533 s, first channel, fixed mV scale
  with clipping);
* ``window-0.45`` ... ``window-1.3``: the project's default look at other window lengths
  (seconds, the R peak in the middle);
* ``fixed-mv``: a 1 s window on a fixed mV axis drawn per beat (top 0.6-1.6 mV, 2-3.5 mV
  tall), the trace clipped at the axes as a plot with set limits clips it;
* ``photo``: a black trace on pink ECG paper (400 x 300 px, 1 s), photographed: tilted up to
  +-5 degrees, in perspective, unevenly lit with a shadow, blurred, with sensor noise, saved as
  JPEG at quality 60-90 (:func:`photo_of_paper`).

Screenshots of a plot drawn by another library are a folder set
(``tools/matplotlib_beats.py --look screenshot``), scored by :func:`evaluate_folder`.

Every set is seeded per beat, so a set is the same images on every run.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .canonical import CANONICAL_SIZE, canonical_form, decode_image
from .dataset import drawing_of, read_manifest
from .errors import DatasetError, ImageDecodeError
from .records import read_record
from .rendering import DEFAULT_STYLE, SHARED_DATASET_STYLE, RenderStyle, render_beat

#: Window lengths (s) of the ``window-*`` sets.
WINDOW_SETS_S: tuple[float, ...] = (0.45, 0.6, 0.8, 1.0, 1.3)

#: The drawn robustness sets, with a sentence each (in the order of the tables).
ROBUSTNESS_SETS: dict[str, str] = {
    "shared-dataset": "the shared image dataset's drawing: 0.533 s, first channel, fixed mV "
                      "scale (-1.755 to +1.086 mV) with clipping",
    **{f"window-{w:g}": f"the default look with a {w:g} s window" for w in WINDOW_SETS_S},
    "fixed-mv": "1 s on a fixed mV axis per beat (top 0.6-1.6 mV, 2-3.5 mV tall), clipped",
    "photo": "a black trace on pink ECG paper, photographed: tilt up to 5 degrees, "
             "perspective, uneven light and shadow, blur, noise, JPEG 60-90",
}

#: Paper drawing of the ``photo`` set, before the camera.
PAPER_STYLE = replace(DEFAULT_STYLE, width=400, height=300, margin_left=0.06, margin_right=0.06,
                      margin_top=0.12, margin_bottom=0.12, thickness=2, line_color=(20, 20, 20),
                      paper_grid=True)


def _beat_rng(seed: int, name: str, row: dict) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()),
                                  zlib.crc32(row["database"].encode()),
                                  zlib.crc32(row["record"].encode()), int(row["sample"])])


def photo_of_paper(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """Simulate a phone photo of a printed beat.

    Steps: perspective warp (each corner moved up to 3% of the side, then a rotation of up to
    +-5 degrees), uneven light (a linear gradient from 60-100% to 100% across the page in a
    random direction) and a soft-edged shadow over part of it (55-85% brightness), Gaussian
    blur (sigma 0.3-1.0 px), sensor noise (sigma 1-4 grey levels), JPEG at quality 60-90.

    Args:
        image: uint8 RGB array, shape (H, W, 3) (or grey (H, W)): the printout.
        rng: a NumPy random generator (seed it for reproducible photos).

    Returns:
        JPEG file bytes.
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-0.03, 0.03, size=(4, 2)) * np.float32([w, h])
    dst = (src + jitter).astype(np.float32)
    warp = cv2.getPerspectiveTransform(src, dst)
    turn = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-5, 5)), 1.0),
                      [0, 0, 1]])
    img = cv2.warpPerspective(img, turn @ warp, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = rng.uniform(0.6, 1.0)  # brightness of the darkest corner
    gain = light + (1.0 - light) * ramp
    # a shadow: one side of a random line, with a soft edge
    a2 = rng.uniform(0, 2 * np.pi)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    side = np.cos(a2) * (xx - cx) + np.sin(a2) * (yy - cy)
    edge = rng.uniform(5, 25)
    shade = rng.uniform(0.55, 0.85)
    gain = gain * (1 - (1 - shade) / (1 + np.exp(-side / edge)))
    out = img.astype(np.float32) * gain[..., None]
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 1.0)))
    out = out + rng.normal(0, rng.uniform(1, 4), size=out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 91))])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 RGB image
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _style_of(name: str, rng: np.random.Generator) -> RenderStyle:
    if name == "shared-dataset":
        return SHARED_DATASET_STYLE
    if name.startswith("window-"):
        half = float(name.split("-", 1)[1]) / 2
        return replace(DEFAULT_STYLE, before_s=half, after_s=half)
    if name == "fixed-mv":
        top = float(rng.uniform(0.6, 1.6))
        return replace(DEFAULT_STYLE, y_range_mv=(top - float(rng.uniform(2.0, 3.5)), top))
    if name == "photo":
        return PAPER_STYLE
    raise DatasetError(f"Unknown robustness set '{name}'; choose from "
                       f"{', '.join(ROBUSTNESS_SETS)}.")


def draw_set(name: str, rows: list[dict], sources: dict[str, str | Path], *,
             size: tuple[int, int] = CANONICAL_SIZE, seed: int = 1804,
             progress: Callable[[int, int], None] | None = None
             ) -> tuple[np.ndarray, list[int]]:
    """Draw beats in the way of one robustness set and bring them to canonical form.

    Args:
        name: a key of :data:`ROBUSTNESS_SETS`.
        rows: manifest rows of the beats (``database``, ``record``, ``sample``, ``fs``).
        sources: database folders by name (``{"mitdb": "../shared/mitdb", ...}``).
        size: canonical size (height, width) in px, the model's input size.
        seed: seed of the per-beat random draws (fixed-mV axes, photos).
        progress: optional callable ``progress(done, total)``.

    Returns:
        ``(images, failed)``: uint8 array, shape (n, height, width), one canonical image per
        row that could be read, and the indices of the rows whose image held no trace (a
        photo too dark, say), which the figures count as errors.

    Raises:
        DatasetError: for an unknown set or a database not in ``sources``.
        RecordError: if a record cannot be read.
    """
    _style_of(name, np.random.default_rng(0))  # unknown names fail before any work
    records: dict[tuple[str, str, bool], object] = {}
    images = np.zeros((len(rows), *size), np.uint8)
    failed: list[int] = []
    for i, row in enumerate(rows):
        rng = _beat_rng(seed, name, row)
        style = _style_of(name, rng)
        db = row["database"]
        if db not in sources:
            raise DatasetError(f"The {db} database is needed to draw set '{name}'.")
        key = (db, row["record"], style.first_channel)
        if key not in records:
            rec = read_record(Path(sources[db]) / row["record"], annotator=None,
                              target_fs=float(row["fs"]))
            if style.first_channel and rec.channels and rec.channels[0] != rec.lead:
                rec = read_record(Path(sources[db]) / row["record"], lead=rec.channels[0],
                                  annotator=None, target_fs=float(row["fs"]))
            records[key] = rec
        rec = records[key]
        img = render_beat(rec.signal, int(row["sample"]), rec.fs, style)
        try:
            if name == "photo":
                images[i] = canonical_form(decode_image(photo_of_paper(img, rng)), size)
            else:
                images[i] = canonical_form(img, size)
        except ImageDecodeError:
            failed.append(i)
        if progress is not None and (i % 256 == 0 or i == len(rows) - 1):
            progress(i + 1, len(rows))
    return images, failed


def split_rows(data_dir: str | Path, split: str = "val", protocol: str = "beat") -> list[dict]:
    """The beats of one split of a built dataset, drawing 0 only (each beat once).

    Raises:
        DatasetError: if the dataset has no manifest or the split is empty.
    """
    from .dataset import assign_split

    rows = read_manifest(data_dir)
    splits = assign_split(rows, protocol) if protocol != "beat" else [r["split"] for r in rows]
    chosen = [r for r, s in zip(rows, splits) if s == split and drawing_of(r) == 0]
    if not chosen:
        raise DatasetError(f"The {split} split of {data_dir} is empty under the {protocol} "
                           "protocol.")
    return chosen


def score(classifier, images: np.ndarray, labels: np.ndarray, failed: list[int]) -> dict:
    """Accuracy, macro Se and per-class Se of a classifier on canonical images.

    Images that could not be read (``failed``) count as wrong answers.

    Returns:
        ``{"n", "accuracy", "macro_sensitivity", "per_class": {code: {"support", "Se"}},
        "unreadable", "confusion", "six_labels", "probabilities"}`` (``confusion``: k x k
        counts, rows true; ``six_labels``: read with the shared image dataset's six labels,
        where the model has the eight classes; ``probabilities``: float32 array (n, k), rows
        of unread images all zero).
    """
    codes = classifier.class_codes
    k = len(codes)
    probs = np.zeros((len(labels), k), np.float32)
    ok = np.setdiff1d(np.arange(len(labels)), np.asarray(failed, int))
    for start in range(0, len(ok), 512):
        idx = ok[start:start + 512]
        probs[idx] = classifier.predict_canonical(images[idx])
    pred = np.where(probs.sum(1) > 0, probs.argmax(1), -1)
    confusion = np.zeros((k, k + 1), np.int64)  # last column: unreadable
    np.add.at(confusion, (labels, np.where(pred < 0, k, pred)), 1)
    per_class = {}
    recalls = []
    for c, code in enumerate(codes):
        mask = labels == c
        if mask.any():
            se = float((pred[mask] == c).mean())
            recalls.append(se)
            per_class[code] = {"support": int(mask.sum()), "Se": se}
    return {"n": int(len(labels)), "accuracy": float((pred == labels).mean()),
            "macro_sensitivity": float(np.mean(recalls)) if recalls else None,
            "per_class": per_class, "unreadable": len(failed),
            "confusion": confusion[:, :k].tolist(), **_six_labels(confusion, codes),
            "probabilities": probs}


def _six_labels(confusion: np.ndarray, codes) -> dict:
    """The figures read with the six labels of the widely shared image dataset (APC left out,
    VEB counted as PVC), where the model has its classes: ``{"six_labels": {"accuracy", "n",
    "recall": {group: Se}}}``, or nothing."""
    from .classes import SHARED_DATASET_GROUPS
    from .evaluation import grouped_accuracy

    codes = list(codes)
    if not set(SHARED_DATASET_GROUPS) <= set(codes):
        return {}
    k = len(codes)
    acc, n_read = grouped_accuracy(confusion[:, :k], codes, SHARED_DATASET_GROUPS)
    kept = [i for i, c in enumerate(codes) if c in SHARED_DATASET_GROUPS]
    n = int(confusion[kept].sum())  # unreadable images (last column) count as wrong
    acc = None if not n else (acc or 0.0) * n_read / n
    recall = {}
    for group in dict.fromkeys(SHARED_DATASET_GROUPS.values()):
        rows = [i for i, c in enumerate(codes) if SHARED_DATASET_GROUPS.get(c) == group]
        cols = rows
        total = int(confusion[rows].sum())
        if total:
            recall[group] = float(confusion[np.ix_(rows, cols)].sum() / total)
    return {"six_labels": {"accuracy": acc, "n": n, "recall": recall}}


def evaluate_robustness(classifier, data_dir: str | Path, sources: dict[str, str | Path], *,
                        split: str = "test", sets: list[str] | None = None,
                        folders: dict[str, str | Path] | None = None,
                        progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Score a classifier on the robustness sets drawn from one split of a built dataset.

    Args:
        classifier: an :class:`ecg_core.model.Classifier`.
        data_dir: a built dataset (its manifest gives the beats and the split).
        sources: database folders by name.
        split: ``"val"`` (for choices) or ``"test"`` (for reporting).
        sets: names from :data:`ROBUSTNESS_SETS` (default: all).
        folders: extra folder sets by name (e.g. ``{"screenshots": "data/beats-screenshots"}``),
            images drawn by other tools with a manifest of the same beats.
        progress: optional callable ``progress(set name, done, total)``.

    Returns:
        ``{"split", "data", "sets": {name: figures without probabilities}}``.

    Raises:
        DatasetError: for an unknown set, an empty split, or labels outside the model's
            classes.
    """
    codes = list(classifier.class_codes)
    rows = split_rows(data_dir, split)
    unknown = sorted({r["label"] for r in rows} - set(codes))
    if unknown:
        raise DatasetError(f"Labels {unknown} are not classes of this model.")
    labels = np.array([codes.index(r["label"]) for r in rows])
    size = tuple(classifier.input_size)
    result: dict = {"split": split, "data": str(data_dir), "sets": {}}
    for name in sets or list(ROBUSTNESS_SETS):
        images, failed = draw_set(name, rows, sources, size=size, progress=(
            None if progress is None else lambda d, t, n=name: progress(n, d, t)))
        fig = score(classifier, images, labels, failed)
        fig.pop("probabilities")
        fig["description"] = ROBUSTNESS_SETS[name]
        result["sets"][name] = fig
    for name, folder in (folders or {}).items():
        result["sets"][name] = evaluate_folder(classifier, folder, split)
    return result


def evaluate_folder(classifier, folder: str | Path, split: str = "test") -> dict:
    """Score a classifier on a folder set (images with a manifest, e.g. from
    ``tools/matplotlib_beats.py``); its rows of ``split`` (drawing 0) are used.

    Raises:
        DatasetError: if the folder has no manifest or no rows of the split.
    """
    from .canonical import canonical_from_bytes

    codes = list(classifier.class_codes)
    folder = Path(folder)
    rows = [r for r in read_manifest(folder) if r["split"] == split and drawing_of(r) == 0]
    if not rows:
        raise DatasetError(f"{folder} holds no {split} images.")
    size = tuple(classifier.input_size)
    images = np.zeros((len(rows), *size), np.uint8)
    failed = []
    for i, r in enumerate(rows):
        try:
            images[i] = canonical_from_bytes((folder / r["image"]).read_bytes(), size)
        except ImageDecodeError:
            failed.append(i)
    labels = np.array([codes.index(r["label"]) for r in rows])
    fig = score(classifier, images, labels, failed)
    fig.pop("probabilities")
    fig["description"] = f"images in {folder.name} (drawn by another tool)"
    return fig


def robustness_path(model_path: str | Path, split: str) -> Path:
    """Where a model's robustness figures live: ``NAME.robustness.SPLIT.json`` beside it."""
    p = Path(model_path)
    return p.with_name(f"{p.stem}.robustness.{split}.json")


def save_robustness(model_path: str | Path, result: dict, model_info: dict | None = None) -> Path:
    """Write robustness figures (from :func:`evaluate_robustness`) next to the model. Sets
    saved before for the same data and split, and not in ``result``, are kept."""
    import json
    from datetime import datetime, timezone

    path = robustness_path(model_path, result["split"])
    sets = {}
    if path.is_file():  # sets scored before, on the same data, and not again now, stay
        try:
            old = json.loads(path.read_text())
            if old.get("data") == result.get("data"):
                sets = dict(old.get("sets") or {})
        except ValueError:
            pass
    sets.update(result["sets"])
    doc = {"model_file": Path(model_path).name,
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           **(model_info or {}), **result, "sets": sets}
    path.write_text(json.dumps(doc, indent=2))
    return path


def load_robustness(model_path: str | Path, split: str = "test") -> dict | None:
    """A model's saved robustness figures for a split, or ``None`` when there are none."""
    import json

    path = robustness_path(model_path, split)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None
