"""The library's documented error types.

Every failure that bad input can cause is raised as one of these, with a message meant for
the person who supplied the input; callers (the CLI, the app) show ``str(error)`` and go on.
"""


class ECGCoreError(Exception):
    """Base class of all errors raised by ``ecg_core`` for bad input or missing files."""


class ImageDecodeError(ECGCoreError, ValueError):
    """An uploaded file is not an image this tool can read (empty, truncated, wrong format,
    too large, animated, or holding no visible trace)."""


class RecordError(ECGCoreError, ValueError):
    """A WFDB record or signal cannot be read or used (missing files, unsupported sampling
    rate, no usable lead)."""


class ModelLoadError(ECGCoreError, RuntimeError):
    """A model file or its card is missing, truncated or inconsistent."""


class DatasetError(ECGCoreError, ValueError):
    """A dataset folder or manifest is missing or inconsistent."""
