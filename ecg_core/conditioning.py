"""Signal conditioning before a beat is drawn: baseline-wander removal and noise suppression.

A model reads beats drawn from the signal as it was conditioned for its training data, so the
conditioning is a property of the model: the dataset build records it (``BuildConfig``), the
model card carries it (``conditioning``), and every path that draws beats for that model
(the dataset build, :func:`ecg_core.analysis.classify_record` for records, the app) applies
the same function, :func:`condition_signal`.

Methods (:data:`CONDITIONINGS`):

* ``"none"``: the signal as recorded (every model trained before conditioning existed).
* ``"bandpass"``: a zero-phase 2nd-order Butterworth band-pass of 0.5-40 Hz
  (``scipy.signal.butter`` + ``sosfiltfilt``): the high-pass edge removes baseline wander
  (respiration, electrode motion; the 0.5 Hz corner of ECG monitoring equipment), the low-pass
  edge removes mains interference (50 and 60 Hz) and most muscle noise, as the monitoring
  bandwidth recommended by the AHA does (Kligfield P et al., Recommendations for the
  standardization and interpretation of the electrocardiogram, part I. *Circulation*
  115:1306-1324, 2007). Zero phase keeps the QRS complex where it was.
"""

from __future__ import annotations

import numpy as np

#: Conditioning methods and what they do, in words.
CONDITIONINGS: dict[str, str] = {
    "none": "the signal as recorded",
    "bandpass": "0.5-40 Hz zero-phase Butterworth band-pass (baseline wander and mains/muscle "
                "noise removed)",
}

_BAND_HZ = (0.5, 40.0)
_ORDER = 2


def condition_signal(signal: np.ndarray, fs: float, method: str = "none") -> np.ndarray:
    """Condition an ECG signal for drawing.

    Args:
        signal: float array, shape (n,), in mV.
        fs: sampling rate in Hz.
        method: a key of :data:`CONDITIONINGS`.

    Returns:
        float32 array, shape (n,), in mV (the input itself, as float32, for ``"none"``). A
        signal too short for the filter (under 3 s) is returned unfiltered: its baseline
        cannot be told from its beats.

    Raises:
        ValueError: for an unknown method, or a sampling rate at which the band does not fit
            (``fs`` at most 80 Hz).
    """
    if method not in CONDITIONINGS:
        raise ValueError(f"Unknown conditioning '{method}'; choose from "
                         f"{', '.join(CONDITIONINGS)}.")
    x = np.asarray(signal, dtype=np.float32)
    if method == "none" or len(x) < 3 * fs:
        return x
    from scipy.signal import butter, sosfiltfilt

    low, high = _BAND_HZ
    if fs <= 2 * high:
        raise ValueError(f"A {fs:g} Hz signal cannot be band-passed to {high:g} Hz.")
    sos = butter(_ORDER, [low, high], btype="bandpass", fs=fs, output="sos")
    return sosfiltfilt(sos, x.astype(np.float64)).astype(np.float32)
