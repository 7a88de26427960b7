"""CNN architectures (Keras 3 Functional API), model cards, and prediction.

Two architectures:

* ``baseline``: the textbook model of the reference tutorials, kept as the reference to beat:
  64x64 input, Conv2D 32 3x3 ReLU, MaxPool 2, Conv2D 32 3x3 ReLU, MaxPool 2, Flatten,
  Dense 128 ReLU, Dense softmax.
* ``ecgnet``: this project's CNN for 2 CPU cores: four 3x3 conv blocks with batch
  normalisation (Ioffe & Szegedy 2015); the first convolves with stride 2 (64 -> 32 px) and
  the others are followed by 2x2 max pooling (32 -> 16 -> 8 -> 4), then dropout
  (Srivastava et al. 2014) and a small dense head.

Both take the canonical image as uint8 (64, 64, 1) and rescale inside the model, so that data
pipelines can feed uint8 (no float32 copies). Each ``NAME.keras`` file has a JSON model card
next to it, ``NAME.card.json``: classes, input shape, canonical-form settings, training data,
protocol and test-set figures.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .beats import CONTEXT_COLUMNS, CONTEXT_FEATURES, reading_class
from .canonical import CANONICAL_SIZE, IMAGE_EXTENSIONS, canonical_form, decode_image
from .classes import CLASS_CODES
from .backend import load_backend
from .errors import ModelLoadError
from .evaluation import DATABASE_NAMES

ARCHITECTURES: tuple[str, ...] = ("baseline", "ecgnet", "ecgnet-wide")


def build_model(arch: str, n_classes: int = len(CLASS_CODES),
                input_size: tuple[int, int] = CANONICAL_SIZE, rhythm: bool = False,
                n_rhythm: int = 4):
    """Build an uncompiled Keras model.

    Args:
        arch: ``"baseline"``, ``"ecgnet"`` or ``"ecgnet-wide"`` (ecgnet with twice the
            filters in every convolution and a dense layer of 192).
        n_classes: number of output classes.
        input_size: (height, width) of the canonical input image.
        rhythm: add a second input, the beat's rhythm features
            (:func:`ecg_core.beats.rhythm_features`, float32 (batch, 4)), joined to the image
            features before the dense head (RR intervals as a second input: what tells a
            supraventricular premature beat from a normal one).
        n_rhythm: number of rhythm features: 4 (local) or 5 (with the record's context).

    Returns:
        ``keras.Model`` taking uint8 (batch, H, W, 1) (and, with ``rhythm``, float32
        (batch, n_rhythm)) and returning float32 softmax probabilities (batch, n_classes).

    Raises:
        ValueError: for an unknown architecture.
    """
    load_backend()
    import keras
    from keras import layers

    inp = keras.Input(shape=(*input_size, 1), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inp)
    if arch == "baseline":
        x = layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.Conv2D(32, 3, activation="relu", name="conv2")(x)
        x = layers.MaxPooling2D(2, name="pool2")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(128, activation="relu", name="dense")(x)
    elif arch in ("ecgnet", "ecgnet-wide"):
        # ecgnet-wide: the same layers with twice the filters and a wider dense layer
        # (about four times the multiply-adds).
        k = 2 if arch == "ecgnet-wide" else 1
        # Block 1 downsamples at once (stride 2): 64x64 -> 32x32, the cheapest place to do it.
        x = layers.Conv2D(16 * k, 3, strides=2, padding="same", use_bias=False,
                          name="conv1")(x)
        x = layers.BatchNormalization(name="bn1")(x)
        x = layers.ReLU(name="relu1")(x)
        for i, filters in enumerate((32 * k, 48 * k, 64 * k), start=2):  # 32 -> 16 -> 8 -> 4
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
            x = layers.BatchNormalization(name=f"bn{i}")(x)
            x = layers.ReLU(name=f"relu{i}")(x)
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dropout(0.3, name="dropout1")(x)
        if rhythm:
            # A narrow image code, so that the shape of one patient's beats cannot drown
            # the timing; the rhythm features also reach the output layer directly.
            rhythm_in = _rhythm_input(n_rhythm)
            r = _rhythm_branch(rhythm_in)
            x = layers.Dense(32, activation="relu", name="image_code")(x)
            x = layers.Dropout(0.5, name="image_code_dropout")(x)
            x = layers.Concatenate(name="image_and_rhythm")([x, r])
        x = layers.Dense(96 * k, activation="relu", name="dense")(x)
        x = layers.Dropout(0.3, name="dropout2")(x)
        if rhythm:
            x = layers.Concatenate(name="head_and_rhythm")([x, r])
    else:
        raise ValueError(f"Unknown architecture '{arch}'; choose one of {ARCHITECTURES}.")
    if rhythm and arch == "baseline":
        rhythm_in = _rhythm_input(n_rhythm)
        x = layers.Concatenate(name="image_and_rhythm")([x, _rhythm_branch(rhythm_in)])
    out = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    inputs = [inp, rhythm_in] if rhythm else inp
    return keras.Model(inputs, out, name=f"{arch}_rhythm" if rhythm else arch)


def _rhythm_input(n_rhythm: int = 4):
    import keras

    return keras.Input(shape=(n_rhythm,), dtype="float32", name="rhythm")


def _rhythm_branch(rhythm_in):
    from keras import layers

    r = layers.Dense(32, activation="relu", name="rhythm_dense1")(rhythm_in)
    return layers.Dense(32, activation="relu", name="rhythm_dense2")(r)


def shift_output_logits(model, shift: np.ndarray) -> None:
    """Add a constant to each class's logit in the output layer, in place.

    The softmax output then becomes ``p_c * exp(shift_c) / sum_j p_j * exp(shift_j)``: with
    ``shift = log(prior_new / prior_old)`` this is the correction of a classifier's outputs to
    new class priors (Saerens, Latinne & Decaestecker, Neural Computation 14(1):21-41, 2002),
    folded into the bias of the Dense layer ``probabilities`` so that every user of the model
    (prediction, Grad-CAM, the app) sees the same outputs and the ``.keras`` file needs no
    custom layer.

    Args:
        model: a model built by :func:`build_model` (last layer named ``probabilities``).
        shift: float array, shape (n_classes,), added to the logits (natural log units).

    Raises:
        ValueError: if ``shift`` does not have one finite value per class.
    """
    head = model.get_layer("probabilities")
    kernel, bias = head.get_weights()
    shift = np.asarray(shift, dtype=np.float64)
    if shift.shape != bias.shape or not np.isfinite(shift).all():
        raise ValueError(f"shift must hold {bias.shape[0]} finite values, got {shift!r}")
    head.set_weights([kernel, (bias + shift).astype(bias.dtype)])


#: Name prefix of the member networks inside an ensemble model (:func:`build_ensemble`).
ENSEMBLE_MEMBER_PREFIX: str = "member_"


_layers_lock = threading.Lock()
_LAYERS: dict = {}


def ensemble_layers() -> dict:
    """The fixed (weightless) Keras layers that join networks of different inputs into one
    ensemble (:func:`build_ensemble`), registered with Keras once per process so that a saved
    ensemble loads (TensorFlow is imported on first call):

    * ``LeadingColumns(n)``: the first ``n`` columns of a float32 (batch, m) tensor. A network
      trained on the four local RR features reads them from the record-context vector, whose
      first four columns they are (:data:`ecg_core.beats.CONTEXT_COLUMNS`).
    * ``GuardedClass(index)``: from two probability vectors ``p`` and ``g`` (float32
      (batch, k) each), ``q[index] = g[index]`` and, for every other class c,
      ``q[c] = (1 - g[index]) * p[c] / (1 - p[index])``: the class ``index`` decided by
      ``g``, the others by ``p`` among themselves (rows still sum to 1).

    Returns:
        ``{"LeadingColumns": cls, "GuardedClass": cls}``.

    Raises:
        ImportError: if TensorFlow or Keras is not installed.
    """
    if _LAYERS:
        return _LAYERS
    with _layers_lock:
        if _LAYERS:
            return _LAYERS
        load_backend()
        import keras

        @keras.saving.register_keras_serializable(package="ecg_core")
        class LeadingColumns(keras.layers.Layer):
            def __init__(self, n: int, **kwargs):
                super().__init__(**kwargs)
                self.n = int(n)

            def call(self, x):
                return x[:, :self.n]

            def compute_output_shape(self, input_shape):
                return (input_shape[0], self.n)

            def get_config(self):
                return {**super().get_config(), "n": self.n}

        @keras.saving.register_keras_serializable(package="ecg_core")
        class GuardedClass(keras.layers.Layer):
            def __init__(self, index: int, **kwargs):
                super().__init__(**kwargs)
                self.index = int(index)

            def call(self, inputs):
                from keras import ops

                p, g = inputs
                i = self.index
                k = p.shape[-1]
                g_i = g[:, i:i + 1]
                rest = ops.maximum(1.0 - p[:, i:i + 1], 1e-12)
                mask = ops.reshape(ops.one_hot(i, k, dtype=p.dtype), (1, k))
                return p / rest * (1.0 - g_i) * (1.0 - mask) + g_i * mask

            def compute_output_shape(self, input_shapes):
                return input_shapes[0]

            def get_config(self):
                return {**super().get_config(), "index": self.index}

        _LAYERS.update(LeadingColumns=LeadingColumns, GuardedClass=GuardedClass)
    return _LAYERS


def build_ensemble(members: list, name: str = "ensemble", *, guard: list | None = None,
                   guard_class: int | None = None):
    """One Keras model that averages the class probabilities of several trained networks of
    the same classes (a seed ensemble: the mean of networks trained alike from different seeds
    varies less from one training to another than any one of them; Lakshminarayanan, Pritzel
    & Blundell 2017, "Simple and scalable predictive uncertainty estimation using deep
    ensembles", NeurIPS); optionally with one class decided by other networks.

    Networks with a rhythm input may read different numbers of rhythm features: the ensemble
    takes the widest vector and gives each network its first columns (``LeadingColumns`` of
    :func:`ensemble_layers`); the caller checks that those are the features it was trained on.

    Args:
        members: ``keras.Model`` objects with the same image input and number of outputs. They
            are renamed ``member_0``, ``member_1``, ... and become nested layers.
        name: the ensemble model's name.
        guard: networks (same inputs and outputs) whose mean probability of class
            ``guard_class`` replaces the members' (``GuardedClass`` of :func:`ensemble_layers`):
            ``q[g] = guard mean[g]``, the other classes the members' mean scaled to
            ``1 - q[g]``. Renamed ``member_<n>`` after the members.
        guard_class: index of the class the guard decides (with ``guard``).

    Returns:
        ``keras.Model`` with inputs ``image`` (uint8 (batch, H, W, 1)) and, for networks with a
        rhythm input, ``rhythm`` (float32 (batch, widest)), returning float32
        (batch, n_classes) (a layer named ``probabilities``).

    Raises:
        ValueError: for fewer than two networks in all, networks whose image inputs, outputs
            or use of a rhythm input differ, or a guard without a valid class index.
    """
    load_backend()
    import keras
    from keras import layers

    guard = list(guard or [])
    networks = list(members) + guard
    if len(networks) < 2 or not members:
        raise ValueError("An ensemble needs at least two networks.")
    if guard and (guard_class is None
                  or not 0 <= int(guard_class) < int(members[0].outputs[0].shape[-1])):
        raise ValueError(f"The guarded class must be a class index; got {guard_class!r}.")
    shapes = [(tuple(m.inputs[0].shape[1:]), len(m.inputs), tuple(m.outputs[0].shape[1:]))
              for m in networks]
    if any(s != shapes[0] for s in shapes[1:]):
        raise ValueError(f"The networks' inputs or outputs differ: {shapes}.")
    widths = [int(m.inputs[1].shape[-1]) if len(m.inputs) == 2 else 0 for m in networks]
    first = networks[int(np.argmax(widths))]
    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=n)
              for t, n in zip(first.inputs, ("image", "rhythm"))]
    columns = ensemble_layers()["LeadingColumns"]
    narrowed: dict[int, object] = {}

    def call(i: int, network):
        network.name = f"{ENSEMBLE_MEMBER_PREFIX}{i}"
        if len(inputs) == 1:
            return network(inputs[0])
        width = widths[i]
        if width not in narrowed:
            narrowed[width] = (inputs[1] if width == max(widths)
                               else columns(width, name=f"rhythm_{width}")(inputs[1]))
        return network([inputs[0], narrowed[width]])

    outs = [call(i, m) for i, m in enumerate(networks)]

    def mean(tensors, label):
        return tensors[0] if len(tensors) == 1 else layers.Average(name=label)(tensors)

    if not guard:
        out = layers.Average(name="probabilities")(outs)
    else:
        p = mean(outs[:len(members)], "members_mean")
        g = mean(outs[len(members):], "guard_mean")
        out = ensemble_layers()["GuardedClass"](int(guard_class), name="probabilities")([p, g])
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], out, name=name)


def ensemble_members(model) -> list:
    """The member networks of an ensemble built by :func:`build_ensemble` ([] for a single
    network)."""
    return [layer for layer in model.layers
            if layer.name.startswith(ENSEMBLE_MEMBER_PREFIX) and hasattr(layer, "layers")]


def training_leads(card: dict) -> str:
    """The leads a model's training beats were drawn on, in words, from its card.

    Args:
        card: a model card (dict), as :class:`Classifier` holds it.

    Returns:
        ``"MLII"`` for a model trained on lead MLII alone (where a record has no MLII, its
        first channel), or ``"MLII and each record's other lead"`` for one whose build drew
        every training beat on the record's second channel too (``build-dataset
        --other-lead``; in MIT-BIH mostly V1). Cards without the setting are MLII-only.
    """
    settings = (card.get("training_data") or {}).get("settings") or {}
    return "MLII and each record's other lead" if settings.get("other_lead") else "MLII"


#: What each rhythm context adds to a network's reading, in words (model cards to pages).
CONTEXT_WORDS: dict[str, str] = {
    "local": "read the local RR intervals alone",
    "record": ("read each beat's RR intervals against the patient's own rhythm (the local mean "
               "RR over the record's mean RR as well)"),
    "template": "compare each beat with its record's typical beat as well",
}


def lone_image_words(card: dict) -> str:
    """How well a model that reads RR intervals reads a lone image, in words, from its card's
    ``lone_image`` figures (``ecg-core evaluate --lone-images``): its accuracy on test beats
    read alone against its test accuracy in their records, and the calibration of its
    probabilities there.

    Returns:
        Sentences starting with a space, or ``""`` for a card without those figures.
    """
    lone, test = card.get("lone_image") or {}, card.get("test") or {}
    if lone.get("accuracy") is None or test.get("accuracy") is None:
        return ""
    words = (f" Measured on the {lone['n']:,} {lone['split']} beats of the {lone['protocol']} "
             f"split ({lone.get('records', '?')} records), each image read alone as here, it "
             f"was right on {lone['accuracy']:.1%} of them; read in their records, with their "
             f"RR intervals, on {test['accuracy']:.1%}.")
    if lone.get("ece") is not None:
        fitted = ("validation beats read alone"
                  if (card.get("calibration") or {}).get("lone_image")
                  else "its reading of records")
        words += (f" Its probabilities here are scaled by a temperature fitted on {fitted}; on "
                  f"those test beats their expected calibration error was {lone['ece']:.1%}.")
    return words + (" For a beat of a whole recording, the Record page reads it as the model "
                    "was meant to.")


def new_patient_note(name: str, card: dict, own: dict | None, others: dict[str, dict], *,
                     choose: str = "choose it in the sidebar") -> str | None:
    """What a model trained under the beat split does on a new person's record, in words, for
    the Record page: its figures on patients it never saw, beside those of the committed
    model that reads such patients best on the same database.

    Args:
        name: the model's name (``"ecgnet"``).
        card: its card (the note is for cards whose protocol is ``beat``).
        own: its :func:`ecg_core.evaluation.new_patient_figures`, or ``None``.
        others: other models' :func:`~ecg_core.evaluation.new_patient_figures`, by name.
        choose: how the reader picks the better model (``{model}``: its name), e.g. the
            Record page's "choose it in the sidebar" or the CLI's "give --model {model}".

    Returns:
        One paragraph, or ``None`` for a model trained with patients kept apart.
    """
    if (card.get("protocol") or {}).get("name") != "beat":
        return None
    note = (f"`{name}` was trained and tested on beats of the same patients (beat split): its "
            "test figures do not say how it reads a person it has never seen.")
    if not own or own.get("normal_se") is None:
        return note
    database = DATABASE_NAMES.get(own["database"], own["database"])
    note += (f" On {database} ({own['n_records']} records of other people, "
             f"{own['n']:,} beats) it read {own['normal_se']:.1%} of the normal beats as normal"
             f" ({own['accuracy']:.1%} of all beats right).")
    same = {k: v for k, v in others.items() if k != name and v
            and v.get("normal_se") is not None and v["database"] == own["database"]}
    if same:
        best = max(same, key=lambda k: (same[k]["normal_se"], same[k]["accuracy"]))
        if same[best]["normal_se"] > own["normal_se"]:
            note += (f" `{best}` read {same[best]['normal_se']:.1%} of them as normal "
                     f"({same[best]['accuracy']:.1%} of all beats right): "
                     f"{choose.format(model=best)} for a new person's record.")
    return note


def model_new_patient_note(path: str | Path, card: dict, folder: str | Path, *,
                           figures: dict[str, dict | None] | None = None,
                           choose: str = "choose it in the sidebar") -> str | None:
    """:func:`new_patient_note` for the model at ``path`` beside the models of ``folder``
    (:func:`list_models`), their figures read from their evaluation artifacts
    (:func:`ecg_core.evaluation.new_patient_figures`) unless given (``figures``, by name).

    Returns:
        The note, or ``None`` for a model trained with patients kept apart.
    """
    if (card.get("protocol") or {}).get("name") != "beat":
        return None
    from .evaluation import new_patient_figures

    figures = dict(figures if figures is not None else
                   {model_name(p): new_patient_figures(p) for p in list_models(folder)})
    name = model_name(path)
    if name not in figures:  # a model outside the folder
        figures[name] = new_patient_figures(path)
    return new_patient_note(name, card, figures[name], figures, choose=choose)


def ensemble_roles(card: dict) -> str | None:
    """What the networks of an ensemble each do, in words, from its card: with a guarded
    class (:func:`build_ensemble` with ``guard``) ``"joins 8 networks (4 give the probability
    of V, the other 4 decide among the other classes)"``; a plain mean of networks that read
    different rhythm contexts ``"averages 2 networks of one design trained on the same
    images: 1 that read the local RR intervals alone, 1 that read ..."`` (the
    :data:`CONTEXT_WORDS`).

    Returns:
        The phrase, or ``None`` for a single network or a plain mean of networks that differ
        only in their starting weights.
    """
    ensemble = card.get("ensemble") or {}
    guard, members = ensemble.get("guard"), ensemble.get("members") or []
    if not members:
        return None
    if not guard:
        contexts = Counter(m.get("rhythm_context") for m in members)
        if len(contexts) < 2:
            return None
        return (f"averages {len(members)} networks of one design trained on the same images: "
                + ", ".join(f"{k} that {CONTEXT_WORDS.get(c, 'read no RR intervals')}"
                            for c, k in contexts.items()))
    n, m, g = len(members), int(guard["members"]), guard["class"]
    return (f"joins {n} networks ({m} give the probability of {g}, the other {n - m} decide "
            "among the other classes)")


def readings_left_out(card: dict | None) -> list[tuple[str, dict]]:
    """A card's test summaries of its model read without its readings of whole records, each
    kept when a reading was adopted (``premature_s.test_without``: without the premature-beat
    reading; ``dominant_qrs.cluster.two_leads.test_without``: with the
    V-cluster reading on the chosen lead only; ``dominant_qrs.two_leads.test_without``:
    without the last check of V calls on both leads; ``v_template.skip_noisy.test_without``: beats read
    noisy kept in the V-template reading; ``qrs_alignment.test_without``: the QRS stretches
    compared as the R positions place them; ``v_template.two_leads.test_without``: with the
    V-template reading on the chosen lead only; ``v_template.test_without``: without the
    V-template reading; ``dominant_qrs.cluster.test_without``: without it and the V-cluster part;
    ``af_fold.test_without``: with the per-beat dominant-QRS reading only;
    ``dominant_qrs.test_without``: the networks alone), newest reading first.

    Returns:
        ``[(what was left out, summary), ...]`` for :func:`ecg_core.evaluation.aami_comparison`
        (the last is the networks' own reading, which :func:`class_mix_note` compares with);
        empty for a card without them.
    """
    card = card or {}
    dominant_card = card.get("dominant_qrs") or {}
    template = (card.get("v_template") or {}).get("test_without")
    second = ((card.get("v_template") or {}).get("two_leads") or {}).get("test_without")
    aligned = (card.get("qrs_alignment") or {}).get("test_without")
    guard = ((card.get("v_template") or {}).get("skip_noisy") or {}).get("test_without")
    last = (dominant_card.get("two_leads") or {}).get("test_without")
    cluster = (dominant_card.get("cluster") or {}).get("test_without")
    cluster_leads = (((dominant_card.get("cluster") or {}).get("two_leads") or {})
                     .get("test_without"))
    af = (card.get("af_fold") or {}).get("test_without")
    dominant = dominant_card.get("test_without")
    premature = (card.get("premature_s") or {}).get("test_without")
    out = []
    if premature:
        out.append(("the premature-beat reading", premature))
    if cluster_leads:
        out.append(("the V-cluster reading's second lead", cluster_leads))
    if last:
        out.append(("the last check of V calls on both leads", last))
    if guard:
        out.append(("the V-template reading's noise guard", guard))
    if aligned:
        out.append(("the alignment of each QRS before comparing it", aligned))
    if second:
        out.append(("the V-template reading's second lead", second))
    if template:
        out.append(("the V-template reading", template))
    if cluster:
        out.append(("the V-cluster and V-template readings" if template
                    else "the V-cluster reading", cluster))
    if af:
        out.append(("the atrial-fibrillation, V-cluster and V-template readings"
                    if cluster and template else
                    "the atrial-fibrillation and V-cluster readings" if cluster
                    else "the atrial-fibrillation reading", af))
    if dominant:
        out.append(("any reading of records (the networks alone)" if af or cluster or template
                    else "the dominant-QRS reading", dominant))
    return out


def class_mix_note(card: dict) -> str | None:
    """What a model's class-mix shift does to its answers, in words for the person reading
    them, from its card (``prior_shift``, written by ``ecg-core calibrate --class-mix-shift``).

    Args:
        card: a model card (dict), as :class:`Classifier` holds it.

    Returns:
        One or two sentences, Markdown; ``None`` for a model without a shift. Where the card
        holds test figures with and without the shift, the sentence gives both: for a model
        with readings of whole records (``dominant_qrs``, ``af_fold``), the networks' own
        figures before those readings (the first reading's ``test_without``), so that the
        change is the shift's alone.
    """
    shift = card.get("prior_shift") or {}
    if not shift.get("shift"):
        return None
    note = ("This model weighs its answers by how common each class is in real records (its "
            f"training records' class mix, strength {float(shift.get('strength', 0)):g}; "
            "Saerens et al. 2002): a rare class needs clearer evidence, so fewer normal beats "
            "are called abnormal, and some abnormal beats are called normal.")
    before = (shift.get("before") or {}).get("test") or {}
    test = card.get("test") or {}
    per_class = test.get("per_class") or {}
    after = {"accuracy": test.get("accuracy"),
             "sensitivity": {c: f.get("sensitivity") for c, f in per_class.items()}}
    left_out = readings_left_out(card)
    alone = left_out[-1][1] if left_out else None  # the networks' own, before any reading
    after = alone or after
    if before.get("accuracy") is not None and after.get("accuracy") is not None:
        changes = [f"accuracy {100 * before['accuracy']:.1f}% -> {100 * after['accuracy']:.1f}%"]
        for code, fig in per_class.items():
            se = (before.get("sensitivity") or {}).get(code)
            se_after = (after.get("sensitivity") or {}).get(code)
            if fig.get("support") and se is not None and se_after is not None:
                changes.append(f"{code} Se {100 * se:.1f}% -> {100 * se_after:.1f}%")
        note += (" On its test split" + (" (the networks' own reading, before the readings of "
                                         "whole records)" if alone else "")
                 + ": " + ", ".join(changes) + ".")
    return note


def card_path(model_path: str | Path) -> Path:
    """Path of the model card next to a model file (``NAME.keras`` -> ``NAME.card.json``)."""
    p = Path(model_path)
    return p.with_name(p.stem + ".card.json")


def write_card(model_path: str | Path, card: dict) -> Path:
    """Write a model's card (``NAME.card.json`` beside ``NAME.keras``) in the layout of the
    card it replaces: the same JSON indentation (2 spaces for a new card), so that a change
    of a few fields is a diff of those fields.

    Args:
        model_path: the model's ``.keras`` path.
        card: the whole card (a JSON-serialisable dict).

    Returns:
        The card's path.
    """
    import json

    path = card_path(model_path)
    indent = 2
    if path.is_file():
        lines = path.read_text().splitlines()
        if len(lines) > 1 and lines[1].startswith(" "):
            indent = len(lines[1]) - len(lines[1].lstrip(" "))
    path.write_text(json.dumps(card, indent=indent) + "\n")
    return path


#: What a card's ``both_leads`` reading does (:attr:`Classifier.both_leads`).
BOTH_LEADS_METHOD: str = (
    "each beat of a record with a second lead is drawn from the chosen lead and from the "
    "second lead (in MIT-BIH mostly V1), both conditioned alike; the network reads both "
    "drawings with the same RR features and the two probability vectors (calibrated) are "
    "averaged (ecg_core.analysis.classify_record). A bundle branch block is named on V1. "
    "A record with one lead, and a lone image, are read once.")


def read_card(model_path: str | Path) -> dict:
    """Read the JSON model card of a model file.

    Raises:
        ModelLoadError: if the card is missing or not valid JSON with a class list.
    """
    path = card_path(model_path)
    if not path.is_file():
        raise ModelLoadError(f"Model card {path} is missing; it must sit next to the model.")
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Model card {path} is not valid JSON: {exc}") from exc
    if not isinstance(card, dict) or not card.get("classes"):
        raise ModelLoadError(f"Model card {path} has no class list.")
    return card


def history_path(model_path: str | Path) -> Path:
    """Path of the training history next to a model (``NAME.keras`` -> ``NAME.history.json``)."""
    p = Path(model_path)
    return p.with_name(p.stem + ".history.json")


def read_history(model_path: str | Path) -> dict[str, list[float]] | None:
    """The Keras training history saved next to a model, or ``None`` if there is none.

    Returns:
        ``{"accuracy": [...], "val_accuracy": [...], "loss": [...], "val_loss": [...], ...}``,
        one float per epoch; ``None`` when the file is missing or not valid JSON.
    """
    path = history_path(model_path)
    try:
        history = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return history if isinstance(history, dict) else None


def model_name(model_path: str | Path) -> str:
    """A model's short name, as menus, tables and evaluation artifacts show it.

    ``models/aami/ecgnet.keras`` -> ``aami/ecgnet``; ``models/ecgnet.keras`` -> ``ecgnet``: the
    path below :func:`models_dir` (or else below the last folder named ``models``), without
    the suffix. A model elsewhere keeps its whole path (without the suffix), so that it is
    never taken for a committed one.
    """
    path = Path(model_path).with_suffix("")
    try:
        return path.resolve().relative_to(models_dir().resolve()).as_posix()
    except (ValueError, OSError):
        pass
    parts = path.parts
    if "models" in parts[:-1]:
        last = len(parts) - 1 - parts[::-1].index("models")
        return "/".join(parts[last + 1:])
    return str(Path(*parts)) if parts else ""


#: Environment variable naming the folder of trained models (overrides the default).
MODELS_DIR_ENV = "ECG_MODELS_DIR"

#: The model every command and page uses unless told otherwise (a name under the models folder).
DEFAULT_MODEL_NAME = "ecgnet"


def models_dir() -> Path:
    """The folder of trained models: ``$ECG_MODELS_DIR`` where set; else ``models/`` of the
    checkout this package sits in; else the copy of the committed models installed with the
    package (``pip install .`` puts them in ``ecg_core/bundled_models``).

    Returns:
        The folder (it may not exist when none of the three does).
    """
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve().parent
    checkout = here.parent / "models"
    if (checkout / f"{DEFAULT_MODEL_NAME}.card.json").is_file():
        return checkout
    bundled = here / "bundled_models"
    if (bundled / f"{DEFAULT_MODEL_NAME}.card.json").is_file():
        return bundled
    return checkout


def resolve_model(model: str | Path | None = None) -> Path:
    """The ``.keras`` file meant by a model name or path.

    Args:
        model: a path to a ``.keras`` file, or a name under :func:`models_dir` such as
            ``"ecgnet"``, ``"aami/ecgnet"`` or ``"record/baseline"``; ``None`` for
            :data:`DEFAULT_MODEL_NAME`.

    Returns:
        The path (not checked for existence: :meth:`Classifier.load` says what is missing).
    """
    text = str(model) if model is not None else DEFAULT_MODEL_NAME
    path = Path(text).expanduser()
    if path.suffix == ".keras" or path.exists():
        return path
    return models_dir() / f"{text}.keras"


def list_models(models_dir: str | Path) -> list[Path]:
    """``.keras`` files with a model card in a folder and its sub-folders, sorted by path."""
    return sorted(p for p in Path(models_dir).rglob("*.keras") if card_path(p).is_file())


class Classifier:
    """A trained model with its card, ready to classify beat images.

    Prediction runs on the model's LiteRT twin (:mod:`ecg_core.runtime`) wherever the twin is
    present and current: no TensorFlow is imported for it. Otherwise the Keras model serves,
    through a traced ``tf.function`` (``model.predict`` costs about 50 ms of overhead per call
    on 2 CPU cores), and :attr:`warning` says why. The Keras model itself (:attr:`model`,
    for Grad-CAM, feature maps and the layer table) is loaded on first use.

    Inference is stateless: one instance can be shared by many threads (Streamlit sessions).

    Attributes:
        card: the model card (dict).
        class_codes: class codes in output order (from the card).
        input_size: canonical (height, width).
        uses_rhythm: whether the model takes rhythm features (RR intervals) as a second input.
        rhythm_context: which beat context that input holds (the card's, a key of
            :data:`ecg_core.beats.CONTEXT_COLUMNS`; ``"none"`` for an image-only model).
        backend: ``"LiteRT"`` or ``"Keras"``: what runs the predictions.
        warning: why the LiteRT twin does not serve (``None`` when it does, or when the
            Keras backend was asked for).
        path: the ``.keras`` file, or ``None`` for a model given in memory.
        temperature: the card's calibration temperature (:mod:`ecg_core.calibration`),
            applied to every prediction; 1.0 for a model without one.
        lone_temperature: for a model with a rhythm input, the temperature applied where no
            rhythm is given (a lone image, read by the beat's shape alone): the card's
            ``calibration.lone_image.temperature``, fitted on validation beats read that way
            (``ecg-core calibrate``), or else :attr:`temperature`.
        class_shift: the card's class-mix shift (``prior_shift``, natural-log units, one
            float per class, float64 (k,)), added to the network's logits before the
            temperature: it moves the outputs from the class mix the network was trained
            under toward the class mix of records (Saerens et al. 2002; see
            :func:`ecg_core.calibration.prior_log_ratio`). ``None`` for a model without one.
        record_stage: the card's record-context stage (:mod:`ecg_core.record_stage`), which
            reads the beats of a record from the network's outputs set against the record's
            other beats (:meth:`read_in_record`); ``None`` for a model without one.
        dominant_qrs: the card's dominant-QRS reading of records (``{"threshold": float,
            "max_share": float, "rule": str}``; :func:`ecg_core.beats.dominant_qrs_reading`):
            in a record, a beat read V whose QRS matches the record's typical QRS is read as
            its next-most-likely class. ``None`` for a model without it (it needs the record:
            a lone image is read as the network reads it).
        af_fold: the card's atrial-fibrillation reading of records (``{"threshold": float,
            "rule": str}``; :func:`ecg_core.beats.fibrillation_fold`): in a record, no beat is
            read S where the RR intervals are irregularly irregular and the stretch before the
            QRS has no consistent P wave. ``None`` for a model without it (it needs the
            record).
        v_template: the card's V-template reading of records (``{"threshold": float,
            "margin": float, "cluster_threshold": float, "min_width_gain_ms": float,
            "group_cut": float, "min_group": int, "rule": ...}``;
            :func:`ecg_core.beats.v_template_reading`): in a record, a beat read as another
            class whose QRS is shaped like the record's own V calls, taken together or a group
            of alike ones, is read V. ``None`` for a model without it (it needs the record).
        premature_s: the card's premature-beat reading of records (``{"max_before": float,
            "min_after": float, "min_similarity": float, "reference_beats": int, "rule":
            ...}``; :func:`ecg_core.beats.premature_reading`): in a record, a beat read N that
            comes early in a regular rhythm, before a longer interval, with the usual QRS, is
            read S. ``None`` for a model without it (it needs the record).
        both_leads: the card's reading of each beat on both leads (``{"method": str, "rule":
            str, ...}``): in a record with a second lead, the network reads each beat drawn
            from the chosen lead and drawn from the second lead, and the two probability
            vectors are averaged (:func:`ecg_core.analysis.classify_record`). ``None`` for a
            model without it; a record with one lead and a lone image are read once.
        conditioning: how the signals of its training beats were conditioned before drawing
            (:mod:`ecg_core.conditioning`; ``"none"`` for a card without it): records are
            conditioned the same way before their beats are drawn for it.
        qrs_align_s: the largest shift (s) by which each beat's QRS stretch is aligned to the
            record's typical QRS before the readings of records compare it (the card's
            ``qrs_alignment.max_shift_ms``; 0 for a card without it;
            :func:`ecg_core.beats.align_qrs_stretches`).
    """

    def __init__(self, model, card: dict, *, runner=None, path: str | Path | None = None,
                 warning: str | None = None):
        """Wrap a Keras model (``model``), or a LiteRT runner (``runner``, with ``model``
        ``None`` and ``path`` the ``.keras`` file to load on first use of :attr:`model`).

        Raises:
            ModelLoadError: if the model's outputs do not match the card's classes.
        """
        self.card = card
        self.class_codes: tuple[str, ...] = tuple(c["code"] for c in card["classes"])
        self.path = Path(path) if path is not None else None
        self.warning = warning
        calibration = card.get("calibration") or {}
        self.temperature = float(calibration.get("temperature") or 1.0)
        self.lone_temperature = float((calibration.get("lone_image") or {}).get("temperature")
                                      or self.temperature)
        shift = (card.get("prior_shift") or {}).get("shift")
        self.class_shift: np.ndarray | None = (
            np.array([float(shift.get(c, 0.0)) for c in self.class_codes])
            if shift else None)
        self.conditioning: str = card.get("conditioning") or "none"
        self.record_stage: dict | None = card.get("record_stage") or None
        # each reading of whole records needs the classes it works on (N, S, V or the
        # 8-class NOR, APC, PVC: ecg_core.beats.READING_ROLES)
        has_v = reading_class(self.class_codes, "V") is not None
        has_ns = None not in (reading_class(self.class_codes, "N"),
                              reading_class(self.class_codes, "S"))
        self.dominant_qrs: dict | None = (card.get("dominant_qrs") or None) if has_v else None
        self.af_fold: dict | None = (card.get("af_fold") or None) if has_ns else None
        self.v_template: dict | None = (card.get("v_template") or None) if has_v else None
        self.premature_s: dict | None = (card.get("premature_s") or None) if has_ns else None
        self.both_leads: dict | None = card.get("both_leads") or None
        self.qrs_align_s: float = float(
            (card.get("qrs_alignment") or {}).get("max_shift_ms") or 0.0) / 1000.0
        self._model = model
        self._runner = runner
        self._lock = threading.Lock()
        if runner is not None:
            self.backend = "LiteRT"
            self.input_size: tuple[int, int] = runner.input_size
            self.uses_rhythm: bool = runner.rhythm_features > 0
            self._rhythm_len = runner.rhythm_features
            self._read_context()
            probe = runner(np.zeros((1, *self.input_size, 1), dtype=np.uint8),
                           np.zeros((1, self._rhythm_len), np.float32) if self.uses_rhythm
                           else None)
            n_out = probe.shape[-1]
        else:
            self.backend = "Keras"
            shape = tuple(model.inputs[0].shape[1:3])
            self.input_size = (int(shape[0]), int(shape[1]))
            self.uses_rhythm = len(model.inputs) == 2
            self._rhythm_len = int(model.inputs[1].shape[-1]) if self.uses_rhythm else 0
            n_out = int(model.output_shape[-1])
            self._read_context()
            self._trace(model)
        if n_out != len(self.class_codes):
            raise ModelLoadError(
                f"The model has {n_out} outputs but its card lists "
                f"{len(self.class_codes)} classes.")

    def _read_context(self) -> None:
        """Which columns of the beat-context vector the model reads (its card's context)."""
        context = (self.card.get("rhythm_input") or {}).get("context") or "local"
        columns = CONTEXT_COLUMNS.get(context, ())
        if len(columns) != self._rhythm_len:
            columns = tuple(range(self._rhythm_len))
        self.rhythm_context: str = context if self.uses_rhythm else "none"
        self._rhythm_columns = columns

    def _trace(self, model) -> None:
        tf = load_backend()
        spec = tf.TensorSpec((None, *self.input_size, 1), tf.uint8)
        if self.uses_rhythm:
            rspec = tf.TensorSpec((None, self._rhythm_len), tf.float32)
            self._fn = tf.function(lambda x, r: model([x, r], training=False),
                                   input_signature=[spec, rspec], reduce_retracing=True)
        else:
            self._fn = tf.function(lambda x: model(x, training=False), input_signature=[spec],
                                   reduce_retracing=True)
        with self._lock:  # guards the one-off tracing only
            self._call(np.zeros((1, *self.input_size, 1), dtype=np.uint8), None)

    @property
    def keras_loaded(self) -> bool:
        """Whether :attr:`model` is in memory (False until first use when LiteRT serves)."""
        return self._model is not None

    @property
    def model(self):
        """The ``keras.Model`` (loaded with TensorFlow on first use when the twin serves)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_keras(self.path)
        return self._model

    @classmethod
    def load(cls, model_path: str | Path, backend: str = "auto",
             threads: int = 2) -> "Classifier":
        """Load a model and its card.

        Args:
            model_path: path of the ``.keras`` file (its card, and its ``.tflite`` twin, sit
                next to it).
            backend: ``"auto"`` (the LiteRT twin where it is current, else Keras with a
                :attr:`warning`) or ``"keras"``.
            threads: CPU threads of the LiteRT interpreter (1 where several processes share
                the cores, as the workers of a batch job do).

        Returns:
            A ready :class:`Classifier`.

        Raises:
            ModelLoadError: if the file or its card is missing, truncated, or inconsistent.
            ValueError: for an unknown backend.
        """
        if backend not in ("auto", "keras"):
            raise ValueError(f"backend must be 'auto' or 'keras', not {backend!r}")
        path = Path(model_path)
        if not path.is_file():
            raise ModelLoadError(
                f"Model file {path} not found. Train one with `ecg-core train` or "
                "restore the committed models/ folder (git checkout -- models).")
        card = read_card(path)
        import zipfile

        if not zipfile.is_zipfile(path):  # checked first: Keras calls a damaged file "not found"
            raise ModelLoadError(f"Model file {path} could not be loaded: it is damaged or "
                                 "truncated (not a .keras archive). Restore it with `git "
                                 "checkout -- models` or train it again.")
        warning = None
        if backend == "auto":
            from .runtime import LiteRTRunner, twin_path, twin_status

            warning = twin_status(path, card)
            if warning is None:
                try:
                    runner = LiteRTRunner(twin_path(path), num_threads=threads)
                except (ModelLoadError, ImportError) as exc:
                    warning = f"the LiteRT twin could not be used ({exc})"
                else:
                    return cls(None, card, runner=runner, path=path)
            warning = f"Prediction runs on Keras (slower to start): {warning}."
        return cls(_load_keras(path), card, path=path, warning=warning)

    def rhythm_input(self, rhythm: np.ndarray | None, n: int = 1) -> np.ndarray | None:
        """What the network's rhythm input receives for ``n`` beats.

        Args:
            rhythm: the beats' beat-context vectors, float (n, 10) or (10,)
                (:func:`ecg_core.beats.beat_context`, as :attr:`RecordResult.rhythm
                <ecg_core.analysis.RecordResult.rhythm>` keeps them), or the model's own
                columns of them, or for a model of local rhythm features the first 4 or 5
                (:func:`ecg_core.beats.rhythm_features`); ``None``: not available (zeros,
                whose "available" flag 0 is what a lone beat image is read with).
            n: the number of beats (used when ``rhythm`` is ``None``).

        Returns:
            float32 array, shape (n, the model's rhythm width): the model's own columns
            (:data:`ecg_core.beats.CONTEXT_COLUMNS` of its card's context), or ``None`` for an
            image-only model.

        Raises:
            ValueError: for a vector of a width this model cannot read.
        """
        if not self.uses_rhythm:
            return None
        if rhythm is None:  # no rhythm context: zeros, "available" flag 0
            return np.zeros((n, self._rhythm_len), dtype=np.float32)
        rhythm = np.asarray(rhythm, dtype=np.float32)
        rhythm = rhythm.reshape(1, -1) if rhythm.ndim == 1 else rhythm
        width = rhythm.shape[1]
        # the model's own columns of the beat-context vector; of a shorter vector, the
        # first ones (the four local features of a model trained on them)
        prefix = self._rhythm_columns == tuple(range(self._rhythm_len))
        if width == len(CONTEXT_FEATURES):
            return rhythm[:, self._rhythm_columns]
        if width == self._rhythm_len or (width > self._rhythm_len and prefix):
            return rhythm[:, :self._rhythm_len]
        raise ValueError(f"This model takes {self._rhythm_len} rhythm features "
                         f"({self.rhythm_context} context); got {width}.")

    def _call(self, x: np.ndarray, rhythm: np.ndarray | None) -> np.ndarray:
        rhythm = self.rhythm_input(  # None for an image-only model
            None if rhythm is None else np.asarray(rhythm).reshape(len(x), -1), len(x))
        if self._runner is not None:
            return self._runner(x, rhythm)
        out = self._fn(x, rhythm) if rhythm is not None else self._fn(x)
        return out.numpy().astype(np.float32)

    def predict_canonical(self, images: np.ndarray, rhythm: np.ndarray | None = None,
                          calibrated: bool = True) -> np.ndarray:
        """Class probabilities for canonical images.

        Args:
            images: uint8 array, shape (n, H, W) or (H, W), canonical form.
            rhythm: for models with a rhythm input, the beat-context vector, float32 (n, 10)
                or (10,) (:func:`ecg_core.beats.beat_context`), or the model's own columns of
                it, or for a model of local rhythm features the first 4 or 5 of them
                (:func:`ecg_core.beats.rhythm_features`); ``None`` means "not available" (a
                lone beat image). Ignored by image-only models.
            calibrated: apply the card's temperature (:attr:`temperature`; for a model with
                a rhythm input given none, :attr:`lone_temperature`); ``False`` gives the
                outputs before it (to fit a temperature). The card's class-mix shift
                (:attr:`class_shift`), part of the model's decision, applies either way.

        Returns:
            float32 array, shape (n, n_classes) (or (n_classes,) for one image); rows sum to 1.
        """
        probs = self.network_outputs(images, rhythm)
        single = probs.ndim == 1
        probs = self._lone_reading(probs[None] if single else probs, calibrated,
                                   lone=self.uses_rhythm and rhythm is None)
        return probs[0] if single else probs

    def _lone_reading(self, probs: np.ndarray, calibrated: bool = True,
                      lone: bool = False) -> np.ndarray:
        """The card's class-mix shift, then (``calibrated``) its temperature (``lone``: the
        lone-image temperature), on network outputs float32 (n, k)."""
        if self.class_shift is not None:
            from .calibration import shift_probabilities

            probs = shift_probabilities(probs, self.class_shift).astype(np.float32)
        t = self.lone_temperature if lone else self.temperature
        if calibrated and t != 1.0:
            from .calibration import apply_temperature

            probs = apply_temperature(probs, t)
        return probs

    def network_outputs(self, images: np.ndarray, rhythm: np.ndarray | None = None
                        ) -> np.ndarray:
        """The network's own class probabilities for canonical images: no class-mix shift, no
        temperature (what :meth:`read_in_record` reads).

        Args:
            images: uint8 array, shape (n, H, W) or (H, W), canonical form.
            rhythm: as for :meth:`predict_canonical`.

        Returns:
            float32 array, shape (n, n_classes) (or (n_classes,) for one image).
        """
        x = np.asarray(images, dtype=np.uint8)
        single = x.ndim == 2
        if single:
            x = x[None]
        probs = self._call(x[..., None], rhythm)
        return probs[0] if single else probs

    def read_in_record(self, outputs: np.ndarray, rhythm: np.ndarray | None,
                       records=None) -> np.ndarray:
        """Class probabilities of beats read in their record.

        With a record-context stage (:attr:`record_stage`) and rhythm features, the stage reads
        the network's outputs against the record's other beats
        (:func:`ecg_core.record_stage.stage_features`, :func:`~ecg_core.record_stage.apply_stage`);
        otherwise each beat gets the network's lone reading (class-mix shift and temperature,
        as :meth:`predict_canonical` gives).

        Args:
            outputs: float32 array, shape (n, n_classes): :meth:`network_outputs` of the beats.
            rhythm: float array, shape (n, >= 5): the beats' context vector
                (:func:`ecg_core.beats.beat_context`: rhythm features with the record's mean
                RR, then the template features, which a stage fitted with shape features
                reads), or ``None``.
            records: the record of each beat (n keys) when the beats span several records;
                ``None`` for one record.

        Returns:
            float32 array, shape (n, n_classes); rows sum to 1.
        """
        probs = np.asarray(outputs, dtype=np.float32)
        if self.record_stage is not None and rhythm is not None and len(probs):
            from .record_stage import apply_stage, stage_features, stage_options

            return apply_stage(self.record_stage, stage_features(
                probs, rhythm, records, **stage_options(self.record_stage)))
        return self._lone_reading(probs)

    def canonical(self, image: np.ndarray) -> np.ndarray:
        """The canonical form of an image array at this model's input size (uint8 (H, W))."""
        return canonical_form(image, self.input_size)

    def predict_bytes(self, data: bytes) -> np.ndarray:
        """Class probabilities for one image file's bytes: decode, canonical form, model.

        Args:
            data: image file bytes (PNG, JPEG, BMP, ...).

        Returns:
            float32 array, shape (n_classes,), in the order of :attr:`class_codes`.

        Raises:
            ImageDecodeError: if the bytes are not a usable beat image.
        """
        return self.predict_canonical(self.canonical(decode_image(data)))


def _load_keras(path: Path):
    """Load a ``.keras`` file with Keras (TensorFlow imported quietly on first use).

    Raises:
        ModelLoadError: if the archive is damaged or not a Keras 3 model.
    """
    load_backend()
    try:
        import keras

        ensemble_layers()  # an ensemble's own layers, registered before it loads
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise ModelLoadError(f"Model file {path} could not be loaded: the archive is "
                             "damaged or was not written by Keras 3 "
                             f"({type(exc).__name__}).") from exc


def iter_image_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand files and folders into image files (folders walked for png/jpg/jpeg/bmp).

    Files given explicitly are yielded whatever their extension (a bad one then gets an error
    row); folder contents are filtered by :data:`IMAGE_EXTENSIONS` and sorted.
    """
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*")
                              if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
        else:
            yield p
