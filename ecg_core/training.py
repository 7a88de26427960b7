"""Training: one or more architectures on the same split of a built dataset, in one run.

For each architecture the run writes, into the output folder:

* ``NAME.keras``: the model at its best validation epoch (checkpointed during training);
* ``NAME.history.json``: loss/accuracy per epoch (training and validation), learning rate
  and the seconds each epoch's batches took;
* ``NAME.card.json``: the model card (classes, input, canonical form, training data,
  protocol, settings, validation and test figures, and the figures of the other
  architectures trained in the same run).

Early stopping and checkpointing monitor the validation loss; the test split is used once,
after training, for the card. Class imbalance is handled by capping the majority class in the
dataset build and weighting the loss by inverse class frequency here.

Training runs on any Keras 3 backend: TensorFlow on a CPU (the project's requirements; batches
from ``tf.data``, the fastest here), or JAX or PyTorch on a GPU machine where they are installed
(``KERAS_BACKEND=jax``; batches from a ``keras.utils.PyDataset`` over the same uint8 arrays). The
card records the backend and the machine.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .backend import load_backend
from .canonical import CANONICAL_SIZE
from .beats import CONTEXT_FEATURES, RHYTHM_FEATURES, context_columns
from .classes import scheme_classes, scheme_codes
from .dataset import context_from_rows, dataset_scheme, drawing_of, load_split
from .calibration import prior_log_ratio, shift_probabilities
from .evaluation import classification_figures
from .protocols import PROTOCOL_DESCRIPTIONS
from .rendering import DEFAULT_STYLE


SCHEDULES = ("plateau", "cosine")
MIN_INPUT_SIZE = 16  # px: ecgnet halves its input four times (stride 2, three poolings)


@dataclass
class TrainConfig:
    """Training settings, written to the model card.

    Attributes:
        arch: architecture name (one of :data:`ecg_core.model.ARCHITECTURES`).
        epochs: maximum epochs.
        batch_size: images per batch.
        learning_rate: Adam's initial learning rate.
        schedule: ``"plateau"`` (multiply the rate by 0.3 when the validation loss has not
            improved for ``patience // 2`` epochs) or ``"cosine"`` (cosine decay over all
            ``epochs`` to 1% of the initial rate, without restarts; Loshchilov & Hutter 2017,
            "SGDR", arXiv 1608.03983).
        patience: early-stopping patience in epochs (validation loss).
        seed: seed for Keras, NumPy and TensorFlow (``keras.utils.set_random_seed``).
        max_train: use at most this many training images (quick runs and tests).
        max_class_weight: upper bound on a class's loss weight.
        class_weighting: ``"inverse"``, ``"sqrt"`` or ``"none"`` (:func:`class_weights`).
        protocol: split protocol name (:data:`ecg_core.protocols.PROTOCOLS`).
        max_train_per_class: keep at most this many training beats per class (seeded), to
            bound epoch time where one class dominates (AAMI N); validation and test keep all.
        rhythm_archs: architectures that also get the rhythm input (RR intervals,
            :func:`ecg_core.beats.rhythm_features`).
        rhythm_context: ``"local"``: the four local rhythm features; ``"record"``: and the
            local mean RR over the record's mean RR (:data:`ecg_core.beats.RECORD_RHYTHM_FEATURE`);
            ``"template"``: the four local ones and the beat compared with its record's
            typical beat (:func:`ecg_core.beats.template_features`; needs the records named
            by the dataset's sources). :data:`ecg_core.beats.CONTEXT_COLUMNS` lists each.
        rhythm_dropout: share of training beats whose rhythm features are hidden (set to
            "not available"), so that a rhythm model still reads a lone beat image.
        input_size: the model's input (height, width) in pixels; images are brought to this
            canonical size (:func:`ecg_core.canonical.canonical_form`).
        prior_adjustment: ``"none"``: keep the outputs as trained (every committed model);
            ``"validation"``: after training, shift the model's outputs from the class mix it
            was trained under (capped, weighted) toward the class mix of the data, as far as
            the validation split says (:func:`choose_prior_shift`), and fold the shift into
            the output layer.
        init_from: path of a ``.keras`` model of the same architecture, classes and input
            size whose weights start the training (fine-tuning), or ``None`` for Keras'
            seeded random initialisation.
        deterministic: run TensorFlow's ops deterministically
            (``tf.config.experimental.enable_op_determinism``), so that the same data,
            settings and seed give the same weights on the same machine and library versions.
            Without it, multi-threaded CPU kernels add in a varying order and two runs of one
            recipe end with different weights. Process-wide once set (later inference in the
            process runs deterministic ops too); ``benchmarks/train_speed.py`` measures both
            settings' speed and repeatability.
    """

    arch: str = "ecgnet"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    schedule: str = "plateau"
    patience: int = 5
    seed: int = 20180412
    max_train: int | None = None
    max_class_weight: float = 25.0
    class_weighting: str = "inverse"
    protocol: str = "beat"
    max_train_per_class: int | None = None
    rhythm_archs: tuple[str, ...] = ()
    rhythm_context: str = "local"
    rhythm_dropout: float = 0.2
    input_size: tuple[int, int] = CANONICAL_SIZE
    prior_adjustment: str = "none"
    init_from: str | None = None
    deterministic: bool = True


CLASS_WEIGHTINGS = ("inverse", "sqrt", "none")
PRIOR_ADJUSTMENTS = ("validation", "none")
#: Strengths of the prior shift tried on the validation split (0 keeps the trained outputs,
#: 1 is the full Bayes correction to the data's class mix).
PRIOR_SHIFT_STRENGTHS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def class_weights(y: np.ndarray, n_classes: int, max_weight: float,
                  weighting: str = "inverse") -> dict[int, float]:
    """Loss weights per class against imbalance.

    ``"inverse"``: n / (k * n_c), the inverse class frequency (every class weighs the same in
    the loss as a whole); ``"sqrt"``: its square root, a milder correction that costs the
    majority class less sensitivity; ``"none"``: 1 for every class (the loss follows the
    training prevalence). Weights are capped at ``max_weight``.

    Args:
        y: int array (n,), class indices.
        n_classes: k.
        max_weight: cap.
        weighting: one of :data:`CLASS_WEIGHTINGS`.

    Returns:
        {class index: weight}; classes absent from ``y`` get weight 1.

    Raises:
        ValueError: for an unknown ``weighting``.
    """
    if weighting not in CLASS_WEIGHTINGS:
        raise ValueError(f"Unknown class weighting '{weighting}'; choose one of "
                         f"{CLASS_WEIGHTINGS}.")
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    n_present = max(1, int((counts > 0).sum()))
    power = {"inverse": 1.0, "sqrt": 0.5, "none": 0.0}[weighting]
    weights = {}
    for i, c in enumerate(counts):
        weights[i] = (float(min(max_weight, (len(y) / (n_present * c)) ** power)) if c > 0
                      else 1.0)
    return weights


def choose_prior_shift(y: np.ndarray, probs: np.ndarray, log_ratio: np.ndarray,
                       strengths: tuple[float, ...] = PRIOR_SHIFT_STRENGTHS,
                       ) -> tuple[float, list[dict]]:
    """How far to move a model's outputs toward the data's class mix, chosen on validation.

    For each strength ``a``, the outputs are shifted by ``a * log_ratio``
    (:func:`shift_probabilities`) and scored by the mean of accuracy and macro sensitivity
    on ``y``: accuracy follows the data's class mix (dominated by normal beats), macro Se
    weighs every class alike, and the project's targets ask for both. The best score wins;
    a tie goes to the smaller strength. Use it on a validation split, never on a test split.

    Args:
        y: int array, shape (n,), true class indices.
        probs: float array, shape (n, k), the model's outputs on those beats.
        log_ratio: float array, shape (k,), from :func:`prior_log_ratio`.
        strengths: the strengths to try.

    Returns:
        ``(strength, table)``: the chosen strength and one dict per strength tried
        (``strength``, ``accuracy``, ``macro_sensitivity``, ``score``).
    """
    y = np.asarray(y, dtype=np.int64)
    present = np.unique(y)
    table = []
    for a in strengths:
        pred = shift_probabilities(probs, a * np.asarray(log_ratio)).argmax(axis=1)
        accuracy = float((pred == y).mean())
        macro_se = float(np.mean([(pred[y == c] == c).mean() for c in present]))
        table.append({"strength": float(a), "accuracy": accuracy,
                      "macro_sensitivity": macro_se, "score": (accuracy + macro_se) / 2})
    best = max(table, key=lambda row: (round(row["score"], 12), -row["strength"]))
    return best["strength"], table


def data_class_mix(y_train: np.ndarray, train_rows: list[dict], y_val: np.ndarray,
                   k: int) -> np.ndarray:
    """The data's class mix, toward which the prior adjustment moves a model's outputs:
    training beats (one drawing each, before any per-class cap) and validation beats; never
    the test split.

    Args:
        y_train: int array (n,), class indices of the training images; ``train_rows`` their
            manifest rows (which drawing of its beat each image is).
        y_val: int array (m,), class indices of the validation beats.
        k: number of classes.

    Returns:
        int64 array, shape (k,): beats per class.
    """
    first = np.array([drawing_of(r) == 0 for r in train_rows], dtype=bool)
    return np.bincount(y_train[first], minlength=k) + np.bincount(y_val, minlength=k)


def class_mix_log_ratio(card: dict, data_dir: str | Path | None = None
                        ) -> tuple[np.ndarray, dict]:
    """The logit shift that moves a trained model's outputs to the class mix of its data.

    Recomputes, from the model's own training data and its card's settings, what
    ``train --prior-adjustment validation`` uses: the training images per class after the
    per-class cap, their loss weights, and the data's class mix (training beats, one drawing
    each, before any cap, and validation beats; never the test split), then
    :func:`ecg_core.calibration.prior_log_ratio` (Saerens, Latinne & Decaestecker 2002). For
    an ensemble, the card's training settings (shared by its members) are used.

    Args:
        card: the model card (``training`` and ``training_data`` are read).
        data_dir: the built dataset; default: the card's ``training_data.folder``.

    Returns:
        ``(ratio, info)``: float64 array (k,), ``log(pi_data / pi_train)`` per class in the
        card's class order, and a JSON-serialisable dict of the counts, weights and ratio.

    Raises:
        DatasetError: if the dataset cannot be read.
        KeyError: if the card lacks the training settings.
    """
    t = card["training"]
    data = Path(data_dir or card["training_data"]["folder"])
    protocol = (card.get("protocol") or {}).get("name") or t.get("protocol", "beat")
    codes = [c["code"] for c in card["classes"]]
    k = len(codes)
    _, y_tr, tr_rows = load_split(data, "train", protocol)
    _, y_va, _ = load_split(data, "val", protocol)
    mix = data_class_mix(y_tr, tr_rows, y_va, k)
    keep = _subsample_index(y_tr, t.get("max_train"), t.get("max_train_per_class"), t["seed"])
    y_cap = y_tr[keep]
    weights = class_weights(y_cap, k, t["max_class_weight"], t["class_weighting"])
    ratio = prior_log_ratio(np.bincount(y_cap, minlength=k), weights, mix)
    info = {"data_mix": dict(zip(codes, map(int, mix))),
            "train_images": dict(zip(codes, map(int, np.bincount(y_cap, minlength=k)))),
            "weights": {codes[i]: float(w) for i, w in weights.items()},
            "log_ratio": dict(zip(codes, map(float, ratio)))}
    return ratio, info


def _timing_callback():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Seconds from an epoch's start to its last training batch (excludes validation
        and the data-pipeline teardown that can stall ``fit`` after the last batch)."""

        def __init__(self):
            super().__init__()
            self.batch_seconds: list[float] = []
            self.lr: list[float] = []
            self._t0 = 0.0
            self._last = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = self._last = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self._last = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.batch_seconds.append(self._last - self._t0)
            self.lr.append(float(keras.ops.convert_to_numpy(
                self.model.optimizer.learning_rate)))

    return EpochTimer()


def _tf_batches(x: np.ndarray, y: np.ndarray, rhythm: np.ndarray | None, n_classes: int,
                batch_size: int, seed: int, rhythm_dropout: float):
    """The training batches as an endless ``tf.data`` pipeline, for the TensorFlow backend.

    Batches of the same form as :func:`_batches` (a seeded shuffle each epoch, in TensorFlow's
    own order; one-hot labels; rhythm hidden for a ``rhythm_dropout`` share), without the
    sample weights (``fit`` applies ``class_weight``). Measured on 2 CPU cores, this trains
    ecgnet at about 450 images/s where the backend-neutral ``PyDataset`` reaches about 320,
    hence a TensorFlow path of its own.
    """
    import tensorflow as tf

    if rhythm is not None:
        ds = tf.data.Dataset.from_tensor_slices(((x[..., None], rhythm), y))

        def _prepare(inputs, label):
            image, r = inputs
            shown = tf.cast(tf.random.uniform(()) >= rhythm_dropout, tf.float32)
            return (image, r * shown), tf.one_hot(label, n_classes)
    else:
        ds = tf.data.Dataset.from_tensor_slices((x[..., None], y))

        def _prepare(image, label):
            return image, tf.one_hot(label, n_classes)
    return (ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True).repeat()
            .map(_prepare, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


def _batches(x: np.ndarray, y: np.ndarray, rhythm: np.ndarray | None, n_classes: int,
             weights: dict[int, float], batch_size: int, seed: int, rhythm_dropout: float):
    """The training batches as a ``keras.utils.PyDataset``, for the JAX and PyTorch backends.

    Each epoch visits every training image once in a seeded random order. A batch is
    ``(x, y_onehot, sample_weight)``: x uint8 (b, h, w, 1) (or ``(x, rhythm)`` with rhythm
    float32 (b, 4), hidden, i.e. zeroed, for a ``rhythm_dropout`` share of the beats), y float32
    (b, k), sample weight float32 (b,) = the class weight of each beat's class.
    """
    import keras

    class BeatBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)  # in order: reproducible
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(y))
            self.onehot = np.eye(n_classes, dtype=np.float32)
            self.weight = np.array([weights.get(i, 1.0) for i in range(n_classes)],
                                   dtype=np.float32)

        def __len__(self):
            return max(1, math.ceil(len(y) / batch_size))

        def __getitem__(self, i):
            idx = np.sort(self.order[i * batch_size:(i + 1) * batch_size])
            xb, yb = x[idx][..., None], y[idx]
            if rhythm is not None:
                shown = (self.rng.random(len(idx)) >= rhythm_dropout).astype(np.float32)
                xb = (xb, rhythm[idx] * shown[:, None])
            return xb, self.onehot[yb], self.weight[yb]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(y))

    return BeatBatches()


def _subsample_index(y: np.ndarray, n: int | None, per_class: int | None,
                     seed: int) -> np.ndarray:
    """Indices of a seeded subsample: at most ``per_class`` per class, then at most ``n``."""
    rng = np.random.default_rng(seed)
    idx = np.arange(len(y))
    if per_class is not None:
        keep = []
        for c in np.unique(y):
            members = idx[y == c]
            if len(members) > per_class:
                members = rng.choice(members, size=per_class, replace=False)
            keep.append(members)
        idx = np.sort(np.concatenate(keep))
    if n is not None and n < len(idx):
        idx = np.sort(rng.choice(idx, size=n, replace=False))
    return idx


def train_models(data_dir: str | Path, out_dir: str | Path, archs: list[str],
                 config: TrainConfig | None = None, progress: bool = True) -> dict[str, dict]:
    """Train each architecture on the same split and write model, history and card.

    Args:
        data_dir: built dataset folder (with ``manifest.csv``).
        out_dir: folder for ``NAME.keras``, ``NAME.history.json``, ``NAME.card.json``.
        archs: architecture names, e.g. ``["baseline", "ecgnet"]``.
        config: shared settings (``config.arch`` is ignored; each name in ``archs`` is used).
        progress: Keras progress bar (verbose=1) and a loading progress bar.

    Returns:
        {arch: {"model_path", "card", "history"}}.

    Raises:
        DatasetError: if the dataset is missing or a split is empty.
        ValueError: for an unknown architecture, learning-rate schedule or class weighting,
            or an input size under :data:`MIN_INPUT_SIZE`.
    """
    tf = load_backend()
    import keras

    config = config or TrainConfig()
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    if config.schedule not in SCHEDULES:
        raise ValueError(f"Unknown schedule '{config.schedule}'; choose one of {SCHEDULES}.")
    if config.class_weighting not in CLASS_WEIGHTINGS:
        raise ValueError(f"Unknown class weighting '{config.class_weighting}'; choose one of "
                         f"{CLASS_WEIGHTINGS}.")
    if config.prior_adjustment not in PRIOR_ADJUSTMENTS:
        raise ValueError(f"Unknown prior adjustment '{config.prior_adjustment}'; choose one "
                         f"of {PRIOR_ADJUSTMENTS}.")
    if min(config.input_size) < MIN_INPUT_SIZE:
        raise ValueError(f"Input size {tuple(config.input_size)} is too small; at least "
                         f"{MIN_INPUT_SIZE} px a side.")
    data_dir, out = Path(data_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    size = tuple(config.input_size)
    x_tr, y_tr, tr_rows = load_split(data_dir, "train", config.protocol, progress=progress,
                                     size=size)
    x_va, y_va, va_rows = load_split(data_dir, "val", config.protocol, progress=progress,
                                     size=size)
    x_te, y_te, te_rows = load_split(data_dir, "test", config.protocol, progress=progress,
                                     size=size)
    dataset_info = _dataset_info(data_dir)
    scheme = dataset_scheme(data_dir)
    k = len(scheme_codes(scheme))
    mix = data_class_mix(y_tr, tr_rows, y_va, k)  # for the prior adjustment, before any cap
    keep = _subsample_index(y_tr, config.max_train, config.max_train_per_class, config.seed)
    x_tr, y_tr = x_tr[keep], y_tr[keep]
    # rhythm features before subsampling: a record's mean RR is that of all its beats
    columns = list(context_columns(config.rhythm_context))

    def context(rows):
        if not config.rhythm_archs:  # no model takes it
            return np.zeros((len(rows), len(columns)), dtype=np.float32)
        return context_from_rows(rows, data_dir,
                                 template=config.rhythm_context == "template")[:, columns]

    r_tr = context(tr_rows)[keep]
    n_train_beats = int(sum(drawing_of(tr_rows[i]) == 0 for i in keep))
    r_va = context(va_rows)
    r_te = context(te_rows)
    weights = class_weights(y_tr, k, config.max_class_weight, config.class_weighting)
    results: dict[str, dict] = {}
    for arch in archs:
        keras.utils.set_random_seed(config.seed)
        rhythm = arch in config.rhythm_archs
        results[arch] = _train_one(
            arch, config, out, (x_tr, y_tr, r_tr if rhythm else None),
            (x_va, y_va, r_va if rhythm else None), (x_te, y_te, r_te if rhythm else None),
            weights, dataset_info, progress, scheme, n_train_beats, mix)
    # Cross-reference the figures of every architecture trained in this run, and of models
    # trained earlier in the same folder on the same data and split.
    summary = {a: figure_summary(r["card"]["test"]) for a, r in results.items()}
    earlier = _earlier_cards(out, set(results), dataset_info, config.protocol)
    for arch, r in results.items():
        r["card"]["same_run"] = {
            "note": "Trained in the same run, on the same split and data, with the same seed.",
            "test": summary}
        if earlier:
            r["card"]["compared_with"] = earlier
        (out / f"{arch}.card.json").write_text(json.dumps(r["card"], indent=2))
    return results


def _earlier_cards(out: Path, trained: set[str], dataset_info: dict, protocol: str) -> dict:
    """Test figures of the other models in ``out`` trained on the same manifest and protocol
    (the same images and split) in an earlier run; {} if none."""
    sha = dataset_info.get("manifest_sha256")
    found = {}
    for path in sorted(out.glob("*.card.json")):
        name = path.name[:-len(".card.json")]
        if name in trained or not sha:
            continue
        try:
            card = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        same_data = (card.get("training_data") or {}).get("manifest_sha256") == sha
        if same_data and (card.get("protocol") or {}).get("name") == protocol and "test" in card:
            found[name] = {"note": "Trained in an earlier run on the same images and split.",
                           "created": card.get("created"),
                           "epochs_run": (card.get("training") or {}).get("epochs_run"),
                           "test": figure_summary(card["test"])}
    return found


def train(data_dir: str | Path, out_dir: str | Path, config: TrainConfig | None = None) -> dict:
    """Train one architecture (``config.arch``); see :func:`train_models`."""
    config = config or TrainConfig()
    return train_models(data_dir, out_dir, [config.arch], config)[config.arch]


def figure_summary(fig: dict) -> dict:
    """The headline of a figures dict (from :func:`ecg_core.evaluation.classification_figures`):
    accuracy, macro Se and +P, and each class's Se and +P (fractions)."""
    return {"accuracy": fig["accuracy"], "macro_sensitivity": fig["macro_sensitivity"],
            "macro_precision": fig["macro_precision"],
            "sensitivity": {c: v["sensitivity"] for c, v in fig["per_class"].items()},
            "precision": {c: v["precision"] for c, v in fig["per_class"].items()}}


def _dataset_info(data_dir: Path) -> dict:
    info_path = data_dir / "dataset.json"
    if not info_path.is_file():
        return {"folder": str(data_dir)}
    info = json.loads(info_path.read_text())
    return {"folder": str(data_dir), "settings": info.get("settings"),
            "counts": info.get("counts"), "n_images": info.get("n_images"),
            "n_beats": info.get("n_beats", info.get("n_images")),
            "records": info.get("records"), "manifest_sha256": info.get("manifest_sha256"),
            "built_at": info.get("built_at")}


def _train_one(arch, config, out, train_xy, val_xy, test_xy, weights, dataset_info, progress,
               scheme="jun8", n_train_beats=None, mix=None):
    import keras

    from .model import build_model, shift_output_logits

    x_tr, y_tr, r_tr = train_xy
    x_va, y_va, r_va = val_xy
    x_te, y_te, r_te = test_xy
    rhythm = r_tr is not None
    classes = scheme_classes(scheme)
    codes = tuple(c.code for c in classes)
    k = len(codes)
    size = tuple(int(v) for v in config.input_size)
    model = build_model(arch, k, size, rhythm=rhythm,
                        n_rhythm=r_tr.shape[1] if rhythm else len(RHYTHM_FEATURES))
    init = None
    if config.init_from:
        init = _initialise(model, Path(config.init_from))
    n = len(y_tr)
    steps = max(1, math.ceil(n / config.batch_size))
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=steps * config.epochs, alpha=0.01)
    else:
        rate = config.learning_rate
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    if keras.backend.backend() == "tensorflow":
        batches = _tf_batches(x_tr, y_tr, r_tr, k, config.batch_size, config.seed,
                              float(config.rhythm_dropout))
        feed = {"steps_per_epoch": steps, "class_weight": weights}
    else:
        batches = _batches(x_tr, y_tr, r_tr, k, weights, config.batch_size, config.seed,
                           float(config.rhythm_dropout))
        feed = {}
    x_val_in = (x_va[..., None], r_va) if rhythm else x_va[..., None]
    val = (x_val_in, keras.utils.to_categorical(y_va, k))
    model_path = out / f"{arch}.keras"
    timer = _timing_callback()
    callbacks = [
        keras.callbacks.ModelCheckpoint(model_path, monitor="val_loss", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                      restore_best_weights=True),
        timer,
    ]
    if config.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.3, patience=max(1, config.patience // 2), min_lr=1e-5))
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    hist = model.fit(batches, epochs=config.epochs, validation_data=val,
                     validation_batch_size=512, callbacks=callbacks,
                     verbose=1 if progress else 0, **feed,
                     shuffle=False)  # the batches shuffle themselves, seeded
    wall = time.perf_counter() - t0
    if not model_path.exists():  # e.g. a single epoch with NaN loss never checkpointed
        model.save(model_path)
    best = keras.saving.load_model(model_path, compile=False)
    # saved again uncompiled: the checkpoint holds the optimizer's state (two moments per
    # weight, about twice the weights' size), which reading never needs
    best.save(model_path)
    x_test_in = (x_te[..., None], r_te) if rhythm else x_te[..., None]
    val_prob = best.predict(x_val_in, batch_size=512, verbose=0)
    test_prob = best.predict(x_test_in, batch_size=512, verbose=0)
    prior = None
    if config.prior_adjustment == "validation":
        ratio = prior_log_ratio(np.bincount(y_tr, minlength=k), weights,
                                np.bincount(y_va, minlength=k) if mix is None else mix)
        strength, table = choose_prior_shift(y_va, val_prob, ratio)
        prior = {
            "method": "outputs shifted toward the data's class mix (Saerens et al. 2002), "
                      "strength chosen on the validation split by the mean of accuracy and "
                      "macro Se; folded into the bias of the output layer",
            "strength": strength,
            "data_mix": ({codes[i]: int(v) for i, v in enumerate(mix)}
                         if mix is not None else None),
            "log_ratio": {codes[i]: float(v) for i, v in enumerate(ratio)},
            "validation": table,
            "test_before": figure_summary(classification_figures(y_te, test_prob, codes)),
        }
        if strength > 0:
            shift_output_logits(best, strength * ratio)
            best.save(model_path)
            val_prob = best.predict(x_val_in, batch_size=512, verbose=0)
            test_prob = best.predict(x_test_in, batch_size=512, verbose=0)
    from .calibration import calibration_card

    calibration = calibration_card(y_va, val_prob)
    history = {key: [float(v) for v in vals] for key, vals in hist.history.items()}
    history["epoch_batch_seconds"] = timer.batch_seconds
    history["learning_rate"] = timer.lr
    (out / f"{arch}.history.json").write_text(json.dumps(history, indent=2))
    val_losses = history.get("val_loss", [])
    best_epoch = int(np.argmin(val_losses)) + 1 if val_losses else len(timer.batch_seconds)
    batch_seconds = float(sum(timer.batch_seconds))
    card = {
        "name": arch,
        "architecture": f"{arch} + rhythm input" if rhythm else arch,
        "file": model_path.name,
        "created": started.isoformat(timespec="seconds"),
        "intended_use": ("Research and teaching: how a CNN reads ECG beat images. "
                         "Not a medical device; not for diagnosis or patient care."),
        "scheme": scheme,
        "classes": [{"code": c.code, "name": c.name, "symbols": list(c.symbols)}
                    for c in classes],
        "rhythm_input": ({"features": [CONTEXT_FEATURES[i]
                                       for i in context_columns(config.rhythm_context)],
                          "context": config.rhythm_context,
                          "function": ("ecg_core.beats.rhythm_features" + (
                              ", ecg_core.beats.template_features"
                              if config.rhythm_context == "template" else "")),
                          "hidden_in_training": config.rhythm_dropout} if rhythm else None),
        "input": {"shape": [*size, 1], "dtype": "uint8",
                  "canonical_form": {
                      "function": "ecg_core.canonical.canonical_form",
                      "size": list(size),
                      "steps": ["grayscale", "polarity from median background",
                                "crop to trace bounding box", "area resize",
                                "contrast stretch (trace bright on black)"]}},
        "rendering": {"function": "ecg_core.rendering.render_beat", "fs_hz": 360,
                      "default_style": DEFAULT_STYLE.to_dict(),
                      "styled_training_images": bool(
                          (dataset_info.get("settings") or {}).get("styled", False)),
                      "drawings_per_beat": int(
                          (dataset_info.get("settings") or {}).get("drawings", 1))},
        "parameters": {
            "total": int(best.count_params()),
            "trainable": int(sum(np.prod(w.shape) for w in best.trainable_weights)),
            "non_trainable": int(sum(np.prod(w.shape) for w in best.non_trainable_weights))},
        "training_data": dataset_info,
        "protocol": {"name": config.protocol,
                     "description": PROTOCOL_DESCRIPTIONS.get(config.protocol, "")},
        "training": {**asdict(config), "arch": arch, "class_weight":
                     {codes[i]: w for i, w in weights.items()},
                     "n_train": int(n),
                     "n_train_beats": int(n if n_train_beats is None else n_train_beats),
                     "n_val": int(len(y_va)), "n_test": int(len(y_te)),
                     "epochs_run": len(timer.batch_seconds), "best_epoch": best_epoch,
                     "batch_seconds": round(batch_seconds, 1),
                     "wall_seconds": round(wall, 1),
                     "images_per_second": round(n * len(timer.batch_seconds) /
                                                max(batch_seconds, 1e-9), 1),
                     "machine": _machine(),
                     "versions": _versions(),
                     "initialised_from": init},
        "prior_adjustment": prior,
        "conditioning": (dataset_info.get("settings") or {}).get("conditioning", "none"),
        "calibration": calibration,
        "validation": classification_figures(y_va, val_prob, codes),
        "test": classification_figures(y_te, test_prob, codes),
    }
    (out / f"{arch}.card.json").write_text(json.dumps(card, indent=2))
    # the LiteRT twin that serves predictions without TensorFlow, checked against the model
    from .runtime import export_twin

    card["runtime"] = export_twin(model_path)
    return {"model_path": model_path, "card": card, "history": history}


def _initialise(model, path: Path) -> dict:
    """Copy the weights of the model at ``path`` into ``model`` (fine-tuning).

    Returns:
        the card's ``training.initialised_from``: ``{"file", "sha256", "created",
        "training"}``, the last how the starting model was trained
        (:func:`member_training` of its card; ``None`` without a card).

    Raises:
        ModelLoadError: if the file is missing or its model's layers do not match.
    """
    import hashlib

    import keras

    from .errors import ModelLoadError
    from .model import card_path

    if not path.is_file():
        raise ModelLoadError(f"The model to start from, {path}, does not exist.")
    source = keras.saving.load_model(path, compile=False)
    shapes = [tuple(w.shape) for w in source.weights]
    if shapes != [tuple(w.shape) for w in model.weights]:
        raise ModelLoadError(f"{path.name} has other layers, classes or input size than the "
                            "model to train; it cannot start it.")
    model.set_weights(source.get_weights())
    card = card_path(path)
    source_card = json.loads(card.read_text()) if card.exists() else {}
    # how the starting weights were trained, so that the card tells the whole recipe
    return {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "created": source_card.get("created"),
            "training": member_training(source_card) if source_card else None}


def _versions() -> dict[str, str]:
    """Python, Keras, the Keras backend's name and that backend's version."""
    import importlib

    import keras

    backend = keras.backend.backend()  # "tensorflow", "jax", "torch": also the module's name
    try:
        backend_version = importlib.import_module(backend).__version__
    except (ImportError, AttributeError):
        backend_version = "?"
    return {"python": platform.python_version(), "keras": keras.__version__,
            "backend": backend, backend: backend_version}


def _machine() -> str:
    """What trained the model: "x86_64, 2 CPU cores, no GPU" or "..., GPU: NVIDIA H100 ..."."""
    gpus = _gpu_names()
    where = f"GPU: {', '.join(gpus)}" if gpus else "no GPU"
    return f"{platform.machine()}, {_cpu_count()} CPU cores, {where}"


def _gpu_names() -> list[str]:
    """Names of the GPUs the Keras backend computes on ([] on a CPU)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch

            return ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
                    if torch.cuda.is_available() else [])
        if backend == "tensorflow":
            import tensorflow as tf

            return [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                    for g in tf.config.list_physical_devices("GPU")]
    except Exception:  # a backend that cannot list devices trained on what it found
        return []
    return []


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def member_training(card: dict) -> dict:
    """How one network was trained, in brief, from its card: the facts an ensemble's card keeps
    for each member (members may differ: one fine-tuned from earlier weights, others trained
    from random ones).

    Args:
        card: a network's model card (``training`` section as :func:`train_models` writes it).

    Returns:
        ``{"epochs_run", "best_epoch", "learning_rate", "schedule", "initialised_from",
        "earlier"}``: ``initialised_from`` the file of the starting weights or ``None`` for
        random initialisation; ``earlier`` the same brief of the model those weights came
        from, as the card recorded it (nested as deep as the chain of runs goes; ``None`` for
        random initialisation or a card that does not say); missing facts are ``None``.
    """
    tr = card.get("training") or {}
    start = tr.get("initialised_from")
    return {"epochs_run": tr.get("epochs_run"), "best_epoch": tr.get("best_epoch"),
            "learning_rate": tr.get("learning_rate"), "schedule": tr.get("schedule"),
            "initialised_from": start.get("file") if isinstance(start, dict) else start,
            "earlier": start.get("training") if isinstance(start, dict) else None}


def install_model(source: str | Path, target: str | Path,
                  replaces: str | Path | None = None,
                  keep_replaced: str | Path | None = None) -> dict:
    """Install a trained network as a named model (e.g. a run's ``ecgnet-wide.keras`` as the
    committed ``models/ecgnet.keras``), with a card that names the model it replaces.

    Copies ``source``'s ``.keras`` file, LiteRT twin (``.tflite``) and history to ``target``'s
    name, unchanged (the twin's recorded checksums stay valid), and writes the card: the new
    name and files, the replaced model's comparison models (``compared_with``) and its test
    figures (``replaces``); when the network was trained on from the replaced model's weights,
    how those were trained (:func:`member_training` of the replaced card, which carries the
    chain of earlier runs) under ``training.initialised_from.training``. The run's
    ``same_run`` entry (other networks of its training run) is dropped.

    Args:
        source: a ``.keras`` file written by :func:`train_models`, its card, twin and history
            beside it.
        target: the ``.keras`` path to install as; its stem becomes the model's name.
        replaces: the card of the model being replaced; by default ``target``'s card when
            there is one (read before anything is overwritten); ``None`` and no card there:
            the new card replaces nothing.
        keep_replaced: where to keep a copy of the replaced card (the new card's
            ``replaces.card`` names it; by default ``replaces`` itself).

    Returns:
        The new card (dict), also written as ``target``'s ``.card.json``.

    Raises:
        ModelLoadError: if ``source``, its card, twin or history is missing.
        ValueError: if the replaced card is ``source``'s own (installed already: name the
            replaced model's kept card instead).
    """
    import shutil

    from .errors import ModelLoadError
    from .model import card_path
    from .runtime import twin_path

    source, target = Path(source), Path(target)
    parts = {".keras": source, ".tflite": twin_path(source), ".card.json": card_path(source),
             ".history.json": source.with_suffix(".history.json")}
    missing = [str(p) for p in parts.values() if not p.is_file()]
    if missing:
        raise ModelLoadError(f"Cannot install {source.name}: missing {', '.join(missing)}.")
    card = json.loads(parts[".card.json"].read_text())
    old_path = Path(replaces) if replaces is not None else card_path(target)
    old = json.loads(old_path.read_text()) if old_path.is_file() else None
    if old is not None and old.get("created") == card.get("created"):
        raise ValueError(f"{old_path} is the card of {source.name} itself (installed already); "
                         "name the replaced model's kept card.")
    name = target.stem
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(parts[".keras"], target)
    shutil.copyfile(parts[".tflite"], twin_path(target))
    shutil.copyfile(parts[".history.json"], target.with_suffix(".history.json"))
    card.pop("same_run", None)
    card.update({"name": name, "file": target.name})
    if card.get("runtime"):
        card["runtime"]["file"] = twin_path(target).name
    if old is not None:
        kept = Path(keep_replaced) if keep_replaced is not None else old_path
        if kept.resolve() != old_path.resolve():
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(old_path, kept)
        start = (card.get("training") or {}).get("initialised_from")
        if isinstance(start, dict) and start.get("sha256") and (
                start["sha256"] == (old.get("runtime") or {}).get("keras_sha256")):
            # train wrote this too, but a card from before the chain was recorded lacks it
            start["training"] = member_training(old)
        card.update({"compared_with": old.get("compared_with", {}),
                     "replaces": {"card": str(kept), "name": old.get("name"),
                                  "architecture": old.get("architecture"),
                                  "created": old.get("created"),
                                  "test": (figure_summary(old["test"]) if old.get("test")
                                           else None)}})
    card_path(target).write_text(json.dumps(card, indent=2))
    return card


def ensemble_networks(member_paths: list[str | Path], data_dir: str | Path,
                      out_path: str | Path, replaces: str | Path | None = None, *,
                      guard_paths: list[str | Path] | None = None,
                      guard_class: str = "V",
                      same_images_as: list[str] | None = None) -> dict:
    """Join trained networks (one recipe from different seeds, or networks of one design
    trained differently on the same data) into one ensemble model
    (:func:`ecg_core.model.build_ensemble`) with its own card, figures and LiteRT twin;
    optionally with one class decided by other networks (``guard_paths``).

    The networks must have been trained on the same dataset (manifest checksum), protocol,
    classes and input size. A member may itself be a plain ensemble (no guard): its networks
    join one by one, each weighing as much as any other network, and its card's entries for
    them are kept (with ``joined_from``, the ensemble's file). Their rhythm contexts may
    differ where one's features are the first columns of another's (the four local RR
    features are the first four of the record context): the ensemble reads the widest
    context and gives each network its own columns.
    The ensemble's calibration, validation and test figures are computed afresh on
    ``data_dir`` under that protocol; the card lists every network (file, SHA-256, seed, role
    and its own validation figures).

    Args:
        member_paths: ``.keras`` files, each with its card; their mean probabilities decide
            (with ``guard_paths``, decide among the classes other than ``guard_class``).
        data_dir: the dataset folder they were trained on.
        out_path: the ``.keras`` file to write (card and twin beside it).
        replaces: the card (JSON) of the model this ensemble replaces, if any: its test
            figures are kept in the new card (``replaces``), so that the Evaluation page and
            the docs show the two side by side.
        guard_paths: ``.keras`` files whose mean probability of ``guard_class`` is the
            ensemble's (``GuardedClass`` of :func:`ecg_core.model.ensemble_layers`); ``None``
            for a plain mean.
        guard_class: the class code the guard decides.
        same_images_as: manifest checksums (SHA-256) of earlier builds of ``data_dir`` whose
            images are those of today's build (a rebuild that changed only columns that image
            networks do not read); networks trained on them are accepted, and the card says so
            (``training_data.same_images_as``). The caller vouches for it: check that a
            network trained on the earlier build reproduces its figures on today's images.

    Returns:
        ``{"model_path": Path, "card": dict}``.

    Raises:
        ModelLoadError: if a network or its card cannot be read.
        ValueError: if there are fewer than two networks, or they differ in data, protocol,
            classes or input, or their rhythm contexts cannot be read from one vector, or the
            guard class is not one of theirs, or a member is an ensemble with a guard.
    """
    import copy
    import hashlib

    from .calibration import calibration_card
    from .model import build_ensemble, ensemble_members, read_card
    from .runtime import export_twin

    load_backend()  # before Keras, so that TensorFlow's start-up lines are silenced
    import keras

    paths = [Path(p) for p in member_paths]
    guards = [Path(p) for p in guard_paths or []]
    cards = [read_card(p) for p in paths + guards]

    info = _dataset_info(Path(data_dir))
    same = set(same_images_as or [])

    def key(card):
        manifest = (card.get("training_data") or {}).get("manifest_sha256")
        return (info.get("manifest_sha256") if manifest in same else manifest,
                (card.get("protocol") or {}).get("name"),
                tuple(c["code"] for c in card["classes"]), tuple(card["input"]["shape"]),
                bool(card.get("rhythm_input")))

    def context(card):  # cards written before rhythm contexts existed hold the local features
        return (card.get("rhythm_input") or {}).get("context") or "local"

    if len(cards) < 2 or not paths or any(key(c) != key(cards[0]) for c in cards[1:]):
        raise ValueError("An ensemble needs two or more networks trained on the same data, "
                         "protocol, classes and input size.")
    widest = max(cards, key=lambda c: len(context_columns(context(c))))
    if cards[0].get("rhythm_input"):
        top = context_columns(context(widest))
        if any(context_columns(context(c)) != top[:len(context_columns(context(c)))]
               for c in cards):
            raise ValueError("The networks' rhythm contexts cannot be read from one vector: "
                             + ", ".join(sorted({context(c) for c in cards})) + ".")
    if info.get("manifest_sha256") != key(cards[0])[0]:
        raise ValueError(f"{data_dir} is not the dataset the networks were trained on.")
    protocol, codes = key(cards[0])[1], key(cards[0])[2]
    if guards and guard_class not in codes:
        raise ValueError(f"The guarded class {guard_class!r} is not one of the networks' "
                         f"classes ({', '.join(codes)}).")
    size = tuple(cards[0]["input"]["shape"][:2])
    loaded = [keras.saving.load_model(p, compile=False) for p in paths + guards]
    # each member network, with its entry for the card: a joined ensemble gives its networks
    entries, members = [], []
    for i, (p, c, net) in enumerate(zip(paths + guards, cards, loaded)):
        role = ({"decides": guard_class if i >= len(paths) else "other classes"}
                if guards else {})
        inner = ensemble_members(net)
        if inner:
            if (c.get("ensemble") or {}).get("guard") or i >= len(paths):
                raise ValueError(f"{p} is an ensemble with a guard (or joins as one); only a "
                                 "plain ensemble can join another.")
            members += inner
            entries += [{**e, "architecture": e.get("architecture")
                         or (c.get("training") or {}).get("arch"), "joined_from": str(p)}
                        for e in c["ensemble"]["members"]]
            continue
        members.append(net)
        entries.append({"file": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                        "seed": (c.get("training") or {}).get("seed"),
                        "created": c.get("created"),
                        "architecture": (c.get("training") or {}).get("arch")
                        or c.get("architecture"),
                        "rhythm_context": context(c) if c.get("rhythm_input") else None,
                        **role,
                        "validation": (figure_summary(c["validation"])
                                       if "validation" in c else None),
                        "training": member_training(c)})
    n_plain = len(members) - len(guards)
    model = build_ensemble(members[:n_plain], name=f"{cards[0]['name']}_ensemble",
                           guard=members[n_plain:],
                           guard_class=codes.index(guard_class) if guards else None)
    rhythm = widest.get("rhythm_input")
    figures = {}
    for split in ("val", "test"):
        x, y, rows = load_split(data_dir, split, protocol, size=size)
        if rhythm:
            ctx_name = rhythm.get("context") or "local"
            ctx = context_from_rows(rows, data_dir, template=ctx_name == "template")[
                :, list(context_columns(ctx_name))]
            prob = model.predict((x[..., None], ctx), batch_size=512, verbose=0)
        else:
            prob = model.predict(x[..., None], batch_size=512, verbose=0)
        figures[split] = (y, prob)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    card = copy.deepcopy(widest)
    # the first member's own figures and choices are not the ensemble's; its comparisons with
    # other models on the same test images ("compared_with") still hold
    for stale in ("same_run", "runtime", "prior_adjustment", "selection_note", "replaces",
                  "prior_shift"):
        card.pop(stale, None)
    method = "mean of the members' class probabilities (ecg_core.model.build_ensemble)"
    if guards:
        method = (f"{guard_class} probability: the mean of the {len(guards)} {guard_class} "
                  f"networks'; the other classes: the mean of the other {n_plain} networks' "
                  f"probabilities, scaled to what {guard_class} leaves "
                  "(ecg_core.model.build_ensemble, GuardedClass)")
    card.update({
        "name": out.stem,
        "architecture": "ensemble of " + " + ".join(
            f"{k} x {a}" for a, k in Counter(
                e.get("architecture") or cards[0]["architecture"] for e in entries).items())
        + (", each with a rhythm input" if cards[0].get("rhythm_input") else ""),
        "file": out.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": {
            "total": int(model.count_params()),
            "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "non_trainable": int(sum(np.prod(w.shape) for w in model.non_trainable_weights))},
        "ensemble": {
            "method": method,
            **({"guard": {"class": guard_class, "members": len(guards)}} if guards else {}),
            "members": entries},
        "calibration": calibration_card(*figures["val"]),
        "validation": classification_figures(*figures["val"], codes),
        "test": classification_figures(*figures["test"], codes),
    })
    if replaces is not None:
        try:
            old = json.loads(Path(replaces).read_text())
            card["replaces"] = {"card": str(replaces), "name": old.get("name"),
                                "architecture": old.get("architecture"),
                                "created": old.get("created"),
                                "test": figure_summary(old["test"])}
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"The card of the replaced model, {replaces}, cannot be read "
                             f"({exc}).") from None
    card["training"] = {**card.get("training", {}),
                        "seeds": [e.get("seed") for e in entries],
                        "batch_seconds": round(sum((c.get("training") or {}).get(
                            "batch_seconds") or 0 for c in cards), 1)}
    earlier = sorted({(c.get("training_data") or {}).get("manifest_sha256") for c in cards}
                     & same)
    if earlier:
        card["training_data"] = {**(card.get("training_data") or {}),
                                 **{k: info.get(k) for k in ("manifest_sha256", "built_at")},
                                 "same_images_as": earlier}
    from .model import card_path

    card_path(out).write_text(json.dumps(card, indent=2))
    card["runtime"] = export_twin(out)
    return {"model_path": out, "card": card}
