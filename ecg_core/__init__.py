"""ecg_core: CNN-based ECG beat classification and its teaching.

The library behind the Streamlit dashboard and the ``ecg-core`` CLI. It never imports
Streamlit, and ``import ecg_core`` imports neither TensorFlow nor OpenCV: the public names
below are loaded on first use.

    >>> import ecg_core
    >>> clf = ecg_core.Classifier.load(ecg_core.resolve_model("ecgnet"))
    >>> record = ecg_core.read_record("tests/data/mitdb/208")
    >>> result = ecg_core.classify_record(record, clf)
    >>> result.to_frame().predicted.value_counts()

Research and teaching only; not a medical device.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .classes import BEAT_CLASSES, CLASS_CODES
from .errors import DatasetError, ECGCoreError, ImageDecodeError, ModelLoadError, RecordError

__version__ = "0.4.0"

#: Public names loaded on first use: name -> module (inside this package) that defines it.
_LAZY: dict[str, str] = {
    "Classifier": "model",
    "resolve_model": "model",
    "models_dir": "model",
    "read_record": "records",
    "read_uploaded_record": "records",
    "read_signal_csv": "records",
    "ECGRecord": "records",
    "classify_record": "analysis",
    "classify_record_file": "analysis",
    "trend": "analysis",
    "summarise": "analysis",
    "agreement": "analysis",
    "RecordResult": "analysis",
    "render_beat": "rendering",
    "RenderStyle": "rendering",
    "canonical_form": "canonical",
    "decode_image": "canonical",
    "grad_cam": "explanation",
    "read_recording_bytes": "formats",
    "record_report": "report",
    "condition_signal": "conditioning",
    "SHARED_DATASET_STYLE": "rendering",
    "evaluate_robustness": "robustness",
}

__all__ = ["BEAT_CLASSES", "CLASS_CODES", "DatasetError", "ECGCoreError", "ImageDecodeError",
           "ModelLoadError", "RecordError", "__version__", *_LAZY]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time these load lazily
    from .analysis import (RecordResult, agreement, classify_record, classify_record_file,
                           summarise, trend)
    from .canonical import canonical_form, decode_image
    from .conditioning import condition_signal
    from .explanation import grad_cam
    from .formats import read_recording_bytes
    from .report import record_report
    from .robustness import evaluate_robustness
    from .model import Classifier, models_dir, resolve_model
    from .records import ECGRecord, read_record, read_signal_csv, read_uploaded_record
    from .rendering import SHARED_DATASET_STYLE, RenderStyle, render_beat


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ecg_core' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
