"""ecg_core: CNN-based ECG beat classification and its teaching.

The library behind the Streamlit dashboard and the ``python -m ecg_core`` CLI. It never imports
Streamlit; heavy modules (TensorFlow) are imported only by the functions that need them.
"""

from .classes import BEAT_CLASSES, CLASS_CODES

__version__ = "0.1.0"
__all__ = ["BEAT_CLASSES", "CLASS_CODES", "__version__"]
