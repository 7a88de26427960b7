"""Lean inference: each Keras model's LiteRT twin, run without TensorFlow.

Classifying a beat needs only the forward pass of a 146k-parameter CNN, not a training
framework. Every committed ``NAME.keras`` has a twin ``NAME.tflite`` (a LiteRT flatbuffer,
converted from the Keras model by TensorFlow's ``TFLiteConverter``, float32, no
quantisation), recorded in the model card under ``runtime`` with the SHA-256 of both files.
:class:`LiteRTRunner` runs the twin with the LiteRT interpreter (``ai-edge-litert``, Google's
TensorFlow Lite runtime), which loads in milliseconds and a few tens of MB where TensorFlow
takes seconds and about 700 MB. :class:`ecg_core.model.Classifier` uses the twin wherever it
is present and current, and falls back to Keras, with a warning, where it is not.

Keras stays where gradients and layer internals are needed (training, Grad-CAM, feature maps),
imported on first use.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from .backend import native_stderr_silenced
from .errors import ModelLoadError

#: Suffix of a model's LiteRT twin, next to its ``.keras`` file.
TWIN_SUFFIX = ".tflite"

#: Largest difference in any class probability allowed between a twin and its Keras model
#: when the twin is written (checked on random inputs) and in the parity tests.
PARITY_TOLERANCE = 1e-5


def twin_path(model_path: str | Path) -> Path:
    """Path of the LiteRT twin of a model (``NAME.keras`` -> ``NAME.tflite``)."""
    p = Path(model_path)
    return p.with_name(p.stem + TWIN_SUFFIX)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def twin_status(model_path: str | Path, card: dict) -> str | None:
    """Why the twin of a model cannot serve it, or ``None`` when it can.

    The twin serves when the card records it (``runtime``), the twin file is there with the
    recorded checksum, and the ``.keras`` file still has the checksum it had when the twin was
    written (a model trained again without a new twin is stale).

    Args:
        model_path: the ``.keras`` file.
        card: its model card.

    Returns:
        ``None``, or a sentence for the person running the model.
    """
    path = Path(model_path)
    twin = twin_path(path)
    info = card.get("runtime") or {}
    if not twin.is_file() or not info:
        return (f"{path.name} has no LiteRT twin ({twin.name}); write it with "
                f"`ecg-core export --model {path}`")
    if info.get("sha256") != file_sha256(twin):
        return f"{twin.name} is not the twin its model card records (checksum differs)"
    if info.get("keras_sha256") != file_sha256(path):
        return (f"{twin.name} was made from an earlier {path.name} (the model changed since); "
                f"write it again with `ecg-core export --model {path}`")
    return None


def export_twin(model_path: str | Path, *, seed: int = 20180412) -> dict:
    """Convert a Keras model to its LiteRT twin, check it, and record it in the model card.

    The conversion is TensorFlow's ``tf.lite.TFLiteConverter.from_keras_model``, float32,
    without optimisations (the twin computes what the model computes). Before anything is
    written, both are run on 64 random canonical images (and random rhythm features, for a
    model with a rhythm input): every class probability must agree within
    :data:`PARITY_TOLERANCE` and every predicted class must be the same.

    Args:
        model_path: the ``.keras`` file (its card next to it).
        seed: seed of the random check inputs.

    Returns:
        The card's new ``runtime`` entry: ``format``, ``file``, ``sha256``, ``keras_sha256``,
        ``converter`` (TensorFlow's version), ``check`` (inputs, largest difference).

    Raises:
        ModelLoadError: if the model or card cannot be read, or the twin disagrees with it.
    """
    import contextlib
    import io

    from .backend import load_backend
    from .model import ensemble_layers, read_card, write_card

    path = Path(model_path)
    card = read_card(path)
    tf = load_backend()
    import keras

    try:
        ensemble_layers()  # an ensemble's own layers, registered before it loads
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise ModelLoadError(f"Model file {path} could not be loaded ({type(exc).__name__}).") \
            from exc
    with native_stderr_silenced(), contextlib.redirect_stdout(io.StringIO()):
        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    rng = np.random.default_rng(seed)
    size = tuple(int(d) for d in model.inputs[0].shape[1:3])
    x = rng.integers(0, 256, (64, *size, 1), dtype=np.uint8)
    rhythm = (rng.uniform(0.3, 2.0, (64, int(model.inputs[1].shape[-1]))).astype(np.float32)
              if len(model.inputs) == 2 else None)
    expected = model([x, rhythm] if rhythm is not None else x, training=False).numpy()
    got = LiteRTRunner(flatbuffer)(x, rhythm)
    diff = float(np.abs(got - expected).max())
    if diff > PARITY_TOLERANCE or not np.array_equal(got.argmax(1), expected.argmax(1)):
        raise ModelLoadError(f"The LiteRT twin of {path.name} disagrees with the model "
                             f"(largest probability difference {diff:.2e}).")
    twin = twin_path(path)
    twin.write_bytes(flatbuffer)
    info = {"format": "LiteRT flatbuffer (TensorFlow Lite), float32", "file": twin.name,
            "sha256": file_sha256(twin), "keras_sha256": file_sha256(path),
            "converter": f"tensorflow {tf.__version__} TFLiteConverter.from_keras_model",
            "check": {"random_inputs": int(len(x)), "max_abs_difference": diff}}
    card["runtime"] = info
    write_card(path, card)
    return info


class LiteRTRunner:
    """A LiteRT twin ready to classify canonical images, without TensorFlow.

    One interpreter serves every thread (Streamlit sessions): calls are serialised by a lock,
    which costs nothing on 2 cores, where one call already uses them.

    Attributes:
        input_size: canonical (height, width).
        rhythm_features: length of the rhythm input, or 0 for an image-only model.
    """

    def __init__(self, source: str | Path | bytes, num_threads: int = 2):
        """Load a twin from a file path or from flatbuffer bytes.

        Raises:
            ModelLoadError: if the file cannot be read as a LiteRT model.
        """
        from ai_edge_litert.interpreter import Interpreter

        try:
            with native_stderr_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate"
                if isinstance(source, bytes):
                    self._it = Interpreter(model_content=source, num_threads=num_threads)
                else:
                    self._it = Interpreter(model_path=str(source), num_threads=num_threads)
                self._it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"The LiteRT model could not be loaded: it is damaged "
                                 f"({type(exc).__name__}).") from exc
        inputs = {d["name"]: d for d in self._it.get_input_details()}
        image = next(d for d in inputs.values() if len(d["shape"]) == 4)
        rhythm = [d for d in inputs.values() if len(d["shape"]) == 2]
        self._image = image["index"]
        self._rhythm = rhythm[0]["index"] if rhythm else None
        self._output = self._it.get_output_details()[0]["index"]
        self.input_size: tuple[int, int] = (int(image["shape"][1]), int(image["shape"][2]))
        self.rhythm_features: int = int(rhythm[0]["shape"][1]) if rhythm else 0
        self._batch = int(image["shape"][0])
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray, rhythm: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities.

        Args:
            x: uint8 array, shape (n, H, W, 1), canonical images.
            rhythm: float32 array, shape (n, k), for a model with a rhythm input (required
                there; see :meth:`ecg_core.model.Classifier.predict_canonical` for the
                "not available" zeros); ignored otherwise.

        Returns:
            float32 array, shape (n, n_classes).
        """
        x = np.ascontiguousarray(x, dtype=np.uint8)
        n = len(x)
        with self._lock:
            if n != self._batch:
                self._it.resize_tensor_input(self._image, [n, *self.input_size, 1])
                if self._rhythm is not None:
                    self._it.resize_tensor_input(self._rhythm, [n, self.rhythm_features])
                self._it.allocate_tensors()
                self._batch = n
            self._it.set_tensor(self._image, x)
            if self._rhythm is not None:
                self._it.set_tensor(self._rhythm, np.ascontiguousarray(rhythm, np.float32))
            self._it.invoke()
            return np.array(self._it.get_tensor(self._output), dtype=np.float32)
