"""Loading the deep-learning backend (TensorFlow with Keras 3) without its start-up noise.

On some CPUs (those with AVX-512, for example) TensorFlow's C++ runtime writes lines such as
``WARNING: All log messages before absl::InitializeLog() is called are written to STDERR``
and ``I0000 ... oneDNN custom operations are on ...`` straight to file descriptor 2 when it is
imported; ``TF_CPP_MIN_LOG_LEVEL`` does not stop them, because they are written before
TensorFlow reads it. They would bury the one-line messages of the CLI. :func:`load_backend`
imports TensorFlow and Keras once, with descriptor 2 sent to a temporary file; nothing about
the computation changes (oneDNN stays as TensorFlow chooses).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what is written to file descriptor 2 (C/C++ and Python alike) to a temporary file
    while the block runs, then restore it.

    The captured text is dropped. An exception raised in the block still propagates (and is
    reported after descriptor 2 is restored).
    """
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # a closed or absent sys.stderr
        pass
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                try:
                    sys.stderr.flush()
                except (AttributeError, ValueError):
                    pass
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def load_backend():
    """Import TensorFlow and Keras (once per process), silencing their native start-up lines.

    Returns:
        The ``tensorflow`` module.

    Raises:
        ImportError: if TensorFlow or Keras is not installed.
    """
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
    with _lock:
        if "tensorflow" not in sys.modules or "keras" not in sys.modules:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            with native_stderr_silenced():
                import keras  # noqa: F401  (imports TensorFlow, its backend)
                import tensorflow  # noqa: F401
    return sys.modules["tensorflow"]
