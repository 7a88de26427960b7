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
    """

    record: str
    sample: int
    symbol: str
    label: str
    rr_prev_s: float
    rr_next_s: float


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
                           margin_s: float = MAX_HALF_WINDOW_S) -> list[Beat]:
    """Labelled beats from annotations alone (no signal needed).

    Args:
        name: record name.
        ann: annotations, positions in samples at ``fs``.
        n_samples: signal length in samples at ``fs``.
        fs: sampling rate in Hz.
        margin_s: beats closer than this (s) to either end are left out.

    Returns:
        Beats of the eight classes in time order; RR intervals (s) from all beat symbols.
    """
    margin = int(round(margin_s * fs))
    beat_idx = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
    beat_pos = ann.sample[beat_idx] if beat_idx else np.array([], dtype=np.int64)
    out: list[Beat] = []
    for k, i in enumerate(beat_idx):
        sym = ann.symbol[i]
        label = SYMBOL_TO_CLASS.get(sym)
        pos = int(ann.sample[i])
        if label is None or pos < margin or pos >= n_samples - margin:
            continue
        rr_prev = (pos - beat_pos[k - 1]) / fs if k > 0 else float("nan")
        rr_next = (beat_pos[k + 1] - pos) / fs if k + 1 < len(beat_pos) else float("nan")
        out.append(Beat(name, pos, sym, label, float(rr_prev), float(rr_next)))
    return out


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
