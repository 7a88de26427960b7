"""Beats: where they are in a record, which class they belong to, and the samples around them.

Beat positions come from the reference annotations (MIT-BIH ``atr`` files). For the VFW class,
which MIT-BIH holds for one patient only (the flutter waves ``!`` of record 207), windows are
also taken at a fixed stride inside the ventricular flutter/fibrillation episodes of the CU
Ventricular Tachyarrhythmia Database (between its ``[`` and ``]`` markers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import SYMBOL_TO_CLASS
from .errors import RecordError
from .records import Annotations, ECGRecord

#: Every MIT-BIH symbol that marks a beat (QRS complex). Used for RR intervals.
BEAT_SYMBOLS: frozenset[str] = frozenset("NLRBAaJSVrFejnE/fQ?!")

#: Default beat window, in seconds before and after the R peak (1.0 s in all).
WINDOW_BEFORE_S: float = 0.5
WINDOW_AFTER_S: float = 0.5

#: RR intervals each side of a beat averaged into its local RR (de Chazal et al. 2004 use a
#: local average of the RR intervals around the beat to normalise its prematurity).
LOCAL_RR_BEATS: int = 10

#: Widest window any rendering style may ask for (s); beats closer than this to either end of
#: a record are skipped so that every beat can be drawn in every style.
MAX_HALF_WINDOW_S: float = 0.7


@dataclass(frozen=True)
class Beat:
    """One labelled beat (or VF window) of a record.

    Attributes:
        record: record name.
        sample: R-peak (or window centre) position in samples at the record's ``fs``.
        symbol: MIT-BIH annotation symbol (``"!"`` for cudb VF windows too).
        label: class code (one of ``CLASS_CODES``).
        rr_prev_s: RR interval to the previous beat in s (NaN where unknown).
        rr_next_s: RR interval to the next beat in s (NaN where unknown).
        rr_local_s: mean of the RR intervals around the beat (up to :data:`LOCAL_RR_BEATS`
            each side) in s, the patient's local rhythm (NaN where unknown).
    """

    record: str
    sample: int
    symbol: str
    label: str
    rr_prev_s: float
    rr_next_s: float
    rr_local_s: float = float("nan")


def labelled_beats(record: ECGRecord, margin_s: float = MAX_HALF_WINDOW_S) -> list[Beat]:
    """The beats of a record whose symbol belongs to one of the eight classes.

    Args:
        record: a record read with annotations.
        margin_s: beats closer than this (s) to the start or end of the signal are left out.

    Returns:
        Beats in time order, with RR intervals computed from all beat annotations.

    Raises:
        RecordError: if the record has no annotations.
    """
    if record.annotations is None:
        raise RecordError(f"Record {record.name} has no annotations to take beats from.")
    return beats_from_annotations(record.name, record.annotations, len(record.signal),
                                  record.fs, margin_s)


def beats_from_annotations(name: str, ann: Annotations, n_samples: int, fs: float,
                           margin_s: float = MAX_HALF_WINDOW_S,
                           classes: dict[str, str] | None = None) -> list[Beat]:
    """Labelled beats from annotations alone (no signal needed).

    Args:
        name: record name.
        ann: annotations, positions in samples at ``fs``.
        n_samples: signal length in samples at ``fs``.
        fs: sampling rate in Hz.
        margin_s: beats closer than this (s) to either end are left out.
        classes: symbol -> class code (default: the eight classes,
            :data:`ecg_core.classes.SYMBOL_TO_CLASS`; :func:`ecg_core.classes.symbol_map`
            gives the AAMI ones).

    Returns:
        Beats whose symbol has a class, in time order; RR intervals (s) from all beat symbols.
    """
    classes = SYMBOL_TO_CLASS if classes is None else classes
    margin = int(round(margin_s * fs))
    beat_idx = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
    beat_pos = ann.sample[beat_idx] if beat_idx else np.array([], dtype=np.int64)
    rr_prev, rr_next, rr_local = rr_intervals(beat_pos, fs)
    out: list[Beat] = []
    for k, i in enumerate(beat_idx):
        sym = ann.symbol[i]
        label = classes.get(sym)
        pos = int(ann.sample[i])
        if label is None or pos < margin or pos >= n_samples - margin:
            continue
        out.append(Beat(name, pos, sym, label, float(rr_prev[k]), float(rr_next[k]),
                        float(rr_local[k])))
    return out


def rr_intervals(positions: np.ndarray, fs: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RR intervals around each beat: the rhythm context of training and of whole records.

    Args:
        positions: int array, shape (n,), R-peak positions of *all* beats in samples, in time
            order (reference beat annotations or detected QRS).
        fs: sampling rate in Hz.

    Returns:
        Three float64 arrays, shape (n,), in s: the RR interval before each beat (NaN for the
        first), after it (NaN for the last), and the local mean RR, the mean of up to
        :data:`LOCAL_RR_BEATS` intervals on each side (NaN for a single beat).
    """
    rr = np.diff(np.asarray(positions, dtype=np.float64)) / fs  # rr[k-1]: the one before k
    n = len(positions)
    prev = np.full(n, np.nan)
    nxt = np.full(n, np.nan)
    if n > 1:
        prev[1:], nxt[:-1] = rr, rr
    local = np.full(n, np.nan)
    for k in range(n):
        around = rr[max(0, k - LOCAL_RR_BEATS):k + LOCAL_RR_BEATS]
        if len(around):
            local[k] = around.mean()
    return prev, nxt, local


def vf_episodes(ann: Annotations | None, n_samples: int) -> list[tuple[int, int]]:
    """Ventricular flutter/fibrillation episodes marked by ``[`` ... ``]``.

    An episode with no closing ``]`` runs to the end of the record (as in cudb).

    Args:
        ann: a record's annotations (``None`` gives no episodes).
        n_samples: signal length in samples.

    Returns:
        List of ``(start, end)`` sample positions (end exclusive).
    """
    if ann is None:
        return []
    episodes: list[tuple[int, int]] = []
    start: int | None = None
    for pos, sym in zip(ann.sample, ann.symbol):
        if sym == "[" and start is None:
            start = int(pos)
        elif sym == "]" and start is not None:
            episodes.append((start, int(pos)))
            start = None
    if start is not None:
        episodes.append((start, int(n_samples)))
    return episodes


def vf_windows(name: str, ann: Annotations | None, n_samples: int, fs: float,
               stride_s: float = 1.5, margin_s: float = MAX_HALF_WINDOW_S) -> list[Beat]:
    """Window centres taken at a fixed stride inside a record's VF/flutter episodes.

    Each centre keeps ``margin_s`` away from the episode's edges, so that the whole drawn
    window lies inside the episode.

    Args:
        name: record name.
        ann: the record's annotations (e.g. a cudb record's, resampled to 360 Hz).
        n_samples: signal length in samples at ``fs``.
        fs: sampling rate in Hz.
        stride_s: distance between window centres in seconds.
        margin_s: distance (s) kept from each episode edge.

    Returns:
        Beats with symbol ``"!"`` and label ``"VFW"`` (RR intervals NaN).
    """
    stride = max(1, int(round(stride_s * fs)))
    margin = int(round(margin_s * fs))
    out: list[Beat] = []
    for start, end in vf_episodes(ann, n_samples):
        for centre in range(start + margin, end - margin, stride):
            out.append(Beat(name, int(centre), "!", "VFW", float("nan"), float("nan")))
    return out


def beat_window(signal: np.ndarray, centre: int, fs: float,
                before_s: float = WINDOW_BEFORE_S, after_s: float = WINDOW_AFTER_S) -> np.ndarray:
    """The samples of a window around a beat.

    Args:
        signal: float array, shape (n,), in mV.
        centre: R-peak position (samples).
        fs: sampling rate in Hz.
        before_s: seconds before the R peak.
        after_s: seconds after the R peak.

    Returns:
        float32 array, shape (round(before_s*fs) + round(after_s*fs) + 1,), in mV. Parts of the
        window outside the signal are filled with the nearest edge sample.

    Raises:
        RecordError: if ``centre`` lies outside the signal.
    """
    n = len(signal)
    if not 0 <= centre < n:
        raise RecordError(f"Beat position {centre} lies outside the signal (0..{n - 1}).")
    lo = centre - int(round(before_s * fs))
    hi = centre + int(round(after_s * fs)) + 1
    idx = np.clip(np.arange(lo, hi), 0, n - 1)
    return np.asarray(signal, dtype=np.float32)[idx]


#: Names of the rhythm features given to models with a second (rhythm) input.
RHYTHM_FEATURES: tuple[str, ...] = ("rr_prev / rr_local", "rr_next / rr_local", "rr_local (s)",
                                    "available")

#: The fifth rhythm feature, for models trained with the record's context
#: (``train --rhythm-context record``): the local mean RR over the record's mean RR.
RECORD_RHYTHM_FEATURE: str = "rr_local / rr_record"


def rhythm_features(rr_prev_s, rr_next_s, rr_local_s, rr_record_s=None) -> np.ndarray:
    """Rhythm context of beats, for models that take RR intervals as a second input.

    A supraventricular premature beat looks almost normal; its timing gives it away. The
    features follow de Chazal et al. (2004, IEEE Trans Biomed Eng 51(7):1196-1206): the RR
    intervals before and after the beat, normalised by the local mean RR so that they measure
    prematurity relative to the patient's own rhythm, and the local mean RR itself.

    With ``rr_record_s``, a fifth feature gives the patient's context: the local mean RR over
    the mean RR of the whole record (below 1 in a run of fast beats, above 1 in a slow
    stretch), as the record's own average normalises RR features in inter-patient methods
    (Mondejar-Guerra et al. 2019, Biomed Signal Process Control 47:41-48).

    Args:
        rr_prev_s, rr_next_s, rr_local_s: float arrays, shape (n,), in s (NaN where unknown).
        rr_record_s: float array, shape (n,), the mean RR of each beat's record in s, or
            ``None`` for the four features only.

    Returns:
        float32 array, shape (n, 4) (or (n, 5) with ``rr_record_s``): ``rr_prev / rr_local``,
        ``rr_next / rr_local``, ``rr_local`` in s, 1.0 where all three are known (and
        ``rr_local / rr_record``). Rows with an unknown interval are all zero (``available``
        0), which the models are trained to read as "no rhythm information" (a lone beat
        image).
    """
    prev = np.asarray(rr_prev_s, dtype=np.float64)
    nxt = np.asarray(rr_next_s, dtype=np.float64)
    local = np.asarray(rr_local_s, dtype=np.float64)
    ok = np.isfinite(prev) & np.isfinite(nxt) & np.isfinite(local) & (local > 0)
    width = len(RHYTHM_FEATURES) + (rr_record_s is not None)
    out = np.zeros((len(prev), width), dtype=np.float32)
    safe = np.where(ok, local, 1.0)
    out[:, 0] = np.where(ok, prev / safe, 0.0)
    out[:, 1] = np.where(ok, nxt / safe, 0.0)
    out[:, 2] = np.where(ok, local, 0.0)
    out[:, 3] = ok
    if rr_record_s is not None:
        record = np.asarray(rr_record_s, dtype=np.float64)
        good = ok & np.isfinite(record) & (record > 0)
        out[:, 4] = np.where(good, local / np.where(good, record, 1.0), 0.0)
    np.clip(out, 0.0, 5.0, out=out)
    return out
