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

Recorded noise can also be added to a clean signal at a set signal-to-noise ratio
(:func:`noise_gain`, :func:`add_recorded_noise`), as the MIT-BIH Noise Stress Test Database
does: for the noise benchmarks, and for training drawings of noisy beats
(``BuildConfig.noisy_drawings``).
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


#: The noise records of the MIT-BIH Noise Stress Test Database (Moody GB, Muldrow WE, Mark RG,
#: "A noise stress test for arrhythmia detectors", Computers in Cardiology 11:381-384, 1984).
RECORDED_NOISES: dict[str, str] = {
    "bw": "baseline wander",
    "em": "electrode motion artefact",
    "ma": "muscle (EMG) artefact",
}


def qrs_amplitude(signal: np.ndarray, beats: np.ndarray, fs: float) -> float:
    """The QRS amplitude A of the noise stress test: the mean peak-to-peak amplitude of the
    signal within 50 ms of each beat, the largest and smallest 5% left out.

    Args:
        signal: float array, shape (n,), in mV.
        beats: int array, shape (m,), m >= 1, QRS positions in samples.
        fs: sampling rate in Hz.

    Returns:
        A in mV.

    Raises:
        ValueError: if there are no beats.
    """
    beats = np.asarray(beats, dtype=np.int64)
    if beats.size == 0:
        raise ValueError("The SNR is measured against QRS complexes; no beat was given.")
    half = int(round(0.05 * fs))
    pp = np.array([np.ptp(signal[max(0, b - half):b + half + 1]) for b in beats])
    lo, hi = np.percentile(pp, [5, 95])
    return float(pp[(pp >= lo) & (pp <= hi)].mean())


def noise_gain(clean: np.ndarray, beats: np.ndarray, fs: float, noise: np.ndarray,
               snr_db: float) -> float:
    """Factor that brings ``noise`` to ``snr_db`` against ``clean``, as the noise stress test
    defines the SNR.

    The signal power is that of a sine of the QRS complexes' peak-to-peak amplitude,
    S = A^2 / 8, where A is the mean peak-to-peak amplitude within 50 ms of each beat (the
    largest and smallest 5% left out); the noise power N is the noise's mean square (about its
    mean). The gain is sqrt(S / (N * 10^(SNR/10))) (Moody, Muldrow & Mark 1984; the
    ``nstdbgen`` program of the WFDB software).

    Args:
        clean: float array, shape (n,), the clean signal in mV.
        beats: int array, shape (m,), m >= 1, sample positions of the beats' QRS complexes.
        fs: sampling rate in Hz.
        noise: float array, shape (k,), the noise in mV (any length).
        snr_db: the wanted SNR in dB.

    Returns:
        The gain (float, >= 0) by which to multiply ``noise``.

    Raises:
        ValueError: if there are no beats, or the noise is constant.
    """
    amplitude = qrs_amplitude(clean, beats, fs)
    n = float(np.mean((np.asarray(noise, dtype=np.float64) - np.mean(noise)) ** 2))
    if n <= 0:
        raise ValueError("The noise is constant: it has no power to scale.")
    return float(np.sqrt(amplitude ** 2 / 8.0 / (n * 10 ** (snr_db / 10.0))))


def add_recorded_noise(clean: np.ndarray, beats: np.ndarray, fs: float, noise: np.ndarray,
                       snr_db: float, offset: int = 0) -> np.ndarray:
    """The clean signal with recorded noise added at ``snr_db`` (see :func:`noise_gain`).

    The noise, less its mean, is read circularly from sample ``offset`` on (repeated when it is
    shorter than the signal), so that different offsets give different stretches of the same
    noise record.

    Args:
        clean: float array, shape (n,), in mV.
        beats: int array, shape (m,), QRS positions in samples (for the SNR).
        fs: sampling rate in Hz of both signals.
        noise: float array, shape (k,), in mV, k >= 1.
        snr_db: the SNR in dB.
        offset: first noise sample used.

    Returns:
        float64 array, shape (n,), in mV.

    Raises:
        ValueError: as :func:`noise_gain`.
    """
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    idx = (np.arange(len(clean)) + int(offset)) % len(noise)
    stretch = noise[idx] - noise.mean()
    return clean + noise_gain(clean, beats, fs, stretch, snr_db) * stretch
