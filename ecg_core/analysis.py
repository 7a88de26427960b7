"""Whole-record analysis: find every beat, classify it with the CNN, summarise the rhythm.

Beat positions come from the record's reference annotations when there are some, otherwise
from a QRS detector: XQRS by default, or another of :data:`DETECTORS` (peaks moved to the
nearest R peak with ``wfdb.processing.correct_peaks``). Each beat is drawn by the same renderer as the training
images (:func:`ecg_core.rendering.render_beat`), brought to the same canonical form and
classified by the same model code as a single uploaded image.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .beats import (BEAT_SYMBOLS, MAX_HALF_WINDOW_S, NOISY_SNR_DB, SNR_AFTER_S, SNR_BEFORE_S,
                    beat_context, beat_snr_db, irregular_rr, readings_use_second_lead,
                    record_readings, rhythm_features, rr_intervals, template_features)
from .canonical import canonical_form
from .classes import SCHEMES, symbol_map
from .errors import RecordError
from .records import ECGRecord
from .rendering import render_beat

#: Classes counted as ectopic (not conducted from the sinus node) and as ventricular, per
#: class code of either scheme.
ECTOPIC_CLASSES: frozenset[str] = frozenset({"APC", "PVC", "VEB", "S", "V", "F"})
VENTRICULAR_CLASSES: frozenset[str] = frozenset({"PVC", "VEB", "V"})
#: Classes of supraventricular premature beats (8-class and AAMI schemes).
SUPRAVENTRICULAR_CLASSES: frozenset[str] = frozenset({"APC", "S"})
#: Share of a record's beats in irregular RR stretches (:func:`ecg_core.beats.irregular_rr`)
#: from which :func:`irregular_rhythm_note` speaks.
IRREGULAR_NOTE_SHARE: float = 0.10
#: Share of a record's beats with an estimated SNR under :data:`~ecg_core.beats.NOISY_SNR_DB`
#: from which :func:`noise_note` speaks.
NOISE_NOTE_SHARE: float = 0.10


@dataclass
class RecordResult:
    """Every beat of a record with its predicted class.

    Attributes:
        record: record name.
        fs: sampling rate of ``samples`` in Hz.
        duration_s: record length in s.
        source: where the beat positions came from: ``"annotations"``, or the QRS
            detector (:func:`detector_label`, e.g. ``"NeuroKit2 (neurokit)"``, ``"XQRS"``).
        samples: int64 (n,) R-peak positions in samples at ``fs``.
        reference: reference annotation symbol of each beat (``""`` without annotations).
        predicted: predicted class code of each beat.
        probabilities: float32 (n, k) class probabilities.
        class_codes: the k class codes of the model.
        rr_prev_s: float64 (n,) RR interval before each beat in s (NaN for the first).
        detection: for detected beats of a record that has reference annotations, how the
            detector did against them (:func:`match_detections`); else ``None``.
        snr_db: float64 (n,) estimated SNR around each beat in dB, of the signal as the model
            draws it (:func:`ecg_core.beats.beat_snr_db`; NaN where it cannot be told), or
            ``None`` for results made without it.
        reread: bool (n,), the beats the network read V whose QRS matched the record's typical
            QRS, and that are read as their next-most-likely class
            (:func:`ecg_core.beats.dominant_qrs_reading`; a long record's typical QRS is that
            of the stretch read at once, :data:`CHUNK_S`), or ``None`` for a model without
            that reading.
        qrs_similarity: float64 (n,), each beat's :func:`ecg_core.beats.qrs_similarity` to the
            typical QRS that reading compared it with (NaN where it cannot be told), or
            ``None`` for a model without that reading.
        s_folded: bool (n,), the beats in stretches read as atrial fibrillation (irregularly
            irregular RR intervals, no consistent P wave) whose S probability was given to N
            (:func:`ecg_core.beats.fibrillation_fold`), or ``None`` for a model without that
            reading.
        atrial_consistency: float64 (n,), each beat's
            :func:`ecg_core.beats.atrial_consistency` (NaN where it cannot be told), or
            ``None`` for a model without that reading.
        v_promoted: bool (n,), the beats read as another class whose QRS is shaped like the
            record's own V calls (taken together or a group of alike ones), and that are read V
            (:func:`ecg_core.beats.v_template_reading`), or ``None`` for a model without that
            reading.
        v_template_second_lead: the second lead on which, side by side with the chosen lead,
            the V-template reading also compared the beats (a model card with
            ``v_template.two_leads`` and a record with a second lead), or ``""`` where it did
            not.
        reread_two_leads, two_lead_similarity: bool (n,), those of :attr:`reread` whose V
            reading was dropped by the last check on both leads (their QRS on the chosen lead
            and the second lead side by side is shaped like the record's typical one,
            :func:`ecg_core.beats.two_lead_qrs_similarity`), and float64 (n,), that
            similarity (NaN where it cannot be told; the V-cluster reading on both leads
            uses it too); ``None`` for a model without either or a record without a second
            lead.
        s_promoted: bool (n,), the beats the networks read N that come early in a regular
            rhythm, before a longer interval, with the usual QRS, and that are read S
            (:func:`ecg_core.beats.premature_reading`), or ``None`` for a model without that
            reading.
        network_second_lead: the second lead on which the network also read every beat, its
            probabilities averaged with those on the chosen lead (a model card with
            ``both_leads`` and a record with a second lead), or ``""`` where it read one.
        rhythm: float32 (n, 10), the beat-context vector each beat was read with
            (:func:`ecg_core.beats.beat_context`: RR features with the record's mean RR, then
            the template features, zeros where the model did not form them), for a model with
            a rhythm input; ``None`` for an image-only model.
            :meth:`ecg_core.model.Classifier.rhythm_input` gives the network's own columns.
    """

    record: str
    fs: float
    duration_s: float
    source: str
    samples: np.ndarray
    reference: list[str]
    predicted: list[str]
    probabilities: np.ndarray
    class_codes: tuple[str, ...]
    rr_prev_s: np.ndarray
    detection: dict | None = None
    snr_db: np.ndarray | None = None
    reread: np.ndarray | None = None
    qrs_similarity: np.ndarray | None = None
    s_folded: np.ndarray | None = None
    atrial_consistency: np.ndarray | None = None
    v_promoted: np.ndarray | None = None
    v_template_second_lead: str = ""
    reread_two_leads: np.ndarray | None = None
    two_lead_similarity: np.ndarray | None = None
    s_promoted: np.ndarray | None = None
    network_second_lead: str = ""
    rhythm: np.ndarray | None = None

    def to_frame(self):
        """The per-beat table (pandas DataFrame): sample, time_s, reference, predicted,
        rr_prev_s, snr_db (each beat's estimated SNR in dB; left out for a result without
        estimates), for a model with the dominant-QRS reading qrs_similarity and v_reread
        (:attr:`qrs_similarity`; True where the network's V reading was dropped, see
        :attr:`reread`; with the check on both leads, qrs_similarity_two_leads,
        :attr:`two_lead_similarity`), for a model with the atrial-fibrillation reading
        atrial_consistency and s_folded (:attr:`atrial_consistency`; True where the beat lies
        in a stretch read as atrial fibrillation, see :attr:`s_folded`), for a model with the
        V-template reading v_template (True where the beat was read V for its likeness to the
        record's V calls, see :attr:`v_promoted`), for a model with the premature-beat reading
        s_premature (True where the beat was read S for coming early with the usual QRS, see
        :attr:`s_promoted`), then one probability column per class code."""
        import pandas as pd

        frame = pd.DataFrame({"sample": self.samples,
                              "time_s": np.round(self.samples / self.fs, 4),
                              "reference": self.reference, "predicted": self.predicted,
                              "rr_prev_s": np.round(self.rr_prev_s, 4)})
        if self.snr_db is not None:
            frame["snr_db"] = np.round(self.snr_db, 1)
        if self.reread is not None:
            frame["qrs_similarity"] = np.round(self.qrs_similarity, 3)
            frame["v_reread"] = self.reread
        if self.two_lead_similarity is not None:
            frame["qrs_similarity_two_leads"] = np.round(self.two_lead_similarity, 3)
        if self.s_folded is not None:
            frame["atrial_consistency"] = np.round(self.atrial_consistency, 3)
            frame["s_folded"] = self.s_folded
        if self.v_promoted is not None:
            frame["v_template"] = self.v_promoted
        if self.s_promoted is not None:
            frame["s_premature"] = self.s_promoted
        for i, code in enumerate(self.class_codes):
            frame[code] = np.round(self.probabilities[:, i].astype(np.float64), 5)
        return frame


#: QRS detectors offered, name -> description. The default is the one with the highest gross
#: F1 against the reference beats of the 48 MIT-BIH records (ties broken by time): XQRS, F1
#: 99.38% (Se 99.13%, +P 99.64%) in about 0.15 s per 30 minutes (with :func:`local_peaks`);
#: SleepECG 99.02% in 0.03 s; the votes are measured against it under written rules
#: (``benchmarks/qrs_detectors.py``, ``benchmarks/detector_vote.py``, docs/detectors.md).
DETECTORS: dict[str, str] = {
    "xqrs": "XQRS of wfdb-python (wfdb.processing.XQRS)",
    "pantompkins1985": "Pan & Tompkins 1985, as implemented in NeuroKit2 (fastest)",
    "neurokit": "NeuroKit2's own QRS detector (Makowski et al. 2021)",
    "elgendi2010": "Elgendi et al. 2010, as implemented in NeuroKit2",
    "nabian2018": "Nabian et al. 2018, as implemented in NeuroKit2",
    "sleepecg": "SleepECG's Pan-Tompkins variant in C (Brunner & Hofer 2023)",
    "vote": "XQRS, SleepECG and Elgendi et al. 2010 voting: a beat where two of the three "
            "find one (the three run in turn)",
    "two-lead-vote": "XQRS, SleepECG and Elgendi on two leads: a beat where four of the six "
                     "find one; for noisy two-lead records (misses more beats of clean ones; "
                     "one-lead records get the one-lead vote)",
}
DEFAULT_DETECTOR = "xqrs"

#: Detectors that use a record's second lead (:attr:`ECGRecord.other_signal`) where it has
#: one, and the votes out of ``2 * len(VOTE_MEMBERS)`` that a two-lead beat needs. Chosen by
#: F1 on the MIT-BIH DS1 records plus F1 on nstdb 118e06 (docs/detectors.md).
TWO_LEAD_DETECTORS: frozenset[str] = frozenset({"two-lead-vote"})
TWO_LEAD_VOTE_MIN: int = 4

#: The detectors of ``"vote"``, in the order whose first finder gives a voted beat's position
#: (their gross F1 alone on the MIT-BIH DS1 records), and the votes a beat needs. Chosen among
#: every vote of 3-5 of xqrs, sleepecg, neurokit, pantompkins1985, elgendi2010 by F1 on the DS1
#: records plus F1 on nstdb 118e06 (docs/detectors.md).
VOTE_MEMBERS: tuple[str, ...] = ("xqrs", "sleepecg", "elgendi2010")
VOTE_MIN: int = 2

#: Largest distance (s) between two detectors' R peaks for them to be one beat in a vote.
VOTE_TOLERANCE_S: float = 0.075

#: NeuroKit2's cleaning method that goes with each of its detectors (its own pairing).
_NK_CLEANING = {"neurokit": "neurokit", "pantompkins1985": "pantompkins1985",
                "nabian2018": "neurokit", "elgendi2010": "elgendi2010"}


_LABELS = {"xqrs": "XQRS", "sleepecg": "SleepECG", "vote": "Vote (XQRS, SleepECG, Elgendi)",
           "two-lead-vote": "Two-lead vote (XQRS, SleepECG, Elgendi)"}


def detector_label(name: str) -> str:
    """How a detector is named in results and on the pages (``"NeuroKit2 (neurokit)"``)."""
    return _LABELS.get(name, f"NeuroKit2 ({name})")


def detect_beats(signal: np.ndarray, fs: float, detector: str = DEFAULT_DETECTOR,
                 other: np.ndarray | None = None) -> np.ndarray:
    """R-peak positions found by a QRS detector, each moved to the local extremum within
    50 ms (``wfdb.processing.correct_peaks``), so that every detector centres beats alike.

    Args:
        signal: float array, shape (n,), in mV.
        fs: sampling rate in Hz.
        detector: a name of :data:`DETECTORS`: a NeuroKit2 method (``nk.ecg_clean`` with the
            method's own cleaning, then ``nk.ecg_peaks``; Makowski et al., "NeuroKit2: a
            Python toolbox for neurophysiological signal processing", Behav Res Methods 2021),
            ``"xqrs"`` (``wfdb.processing.XQRS``) or ``"sleepecg"``
            (``sleepecg.detect_heartbeats``: Pan & Tompkins 1985 with a 5-30 Hz zero-phase
            band-pass and extra searchback, in C; Brunner C, Hofer F, "SleepECG: a Python
            package for sleep staging based on heart rate variability", JOSS 8:5411, 2023);
            or ``"vote"``: :data:`VOTE_MEMBERS` each run so, and the beats that
            :data:`VOTE_MIN` of them find kept (:func:`vote_detections`); or
            ``"two-lead-vote"``: the same on ``signal`` and ``other``, the beats that
            :data:`TWO_LEAD_VOTE_MIN` of the six find kept, at ``signal``'s R peak where any
            of them found it there (``"vote"`` where ``other`` is ``None``).
        other: float array, shape (n,), in mV at ``fs``: a second lead of the same record,
            used by the detectors of :data:`TWO_LEAD_DETECTORS` only.

    Returns:
        int64 array of sample positions, increasing, without duplicates.

    Raises:
        RecordError: if no beat is found (a flat, very short or noise-only signal).
        ValueError: for an unknown detector.
    """
    import warnings

    from wfdb import processing

    if detector not in DETECTORS:
        raise ValueError(f"Unknown QRS detector {detector!r}; choose one of {list(DETECTORS)}")
    x = np.asarray(signal, dtype=np.float64)
    if detector == "vote" or detector in TWO_LEAD_DETECTORS:
        leads = [x] if detector == "vote" or other is None else [x, other]
        if len(leads) > 1 and len(leads[1]) != len(x):
            raise ValueError("The second lead must have as many samples as the first.")
        found = []
        for lead_signal in leads:
            for member in VOTE_MEMBERS:
                try:
                    found.append(detect_beats(lead_signal, fs, member))
                except RecordError:
                    found.append(np.array([], dtype=np.int64))
        # in priority order: each detector on the first lead, then on the second
        peaks = vote_detections(found, fs, VOTE_MIN if len(leads) == 1 else TWO_LEAD_VOTE_MIN)
        if len(peaks) == 0:
            raise RecordError(f"No heartbeat was found in the signal (the detectors of the "
                              f"{detector_label(detector).lower()} agreed on no QRS).")
        return peaks
    try:
        if detector == "xqrs":
            _speed_up_xqrs()
            xqrs = processing.XQRS(sig=x, fs=fs)
            xqrs.detect(verbose=False)
            peaks = np.asarray(xqrs.qrs_inds, dtype=np.int64)
        elif detector == "sleepecg":
            import sleepecg

            peaks = np.asarray(sleepecg.detect_heartbeats(x, fs), dtype=np.int64)
        else:
            import neurokit2 as nk

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # NeuroKit2 warns on short or odd signals
                clean = nk.ecg_clean(x, sampling_rate=int(round(fs)),
                                     method=_NK_CLEANING[detector])
                _, info = nk.ecg_peaks(clean, sampling_rate=int(round(fs)), method=detector,
                                       correct_artifacts=False)
            peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    except (ValueError, IndexError, ZeroDivisionError, RuntimeError) as exc:
        raise RecordError(f"The {detector_label(detector)} QRS detector found no heartbeat "
                          f"in the signal ({type(exc).__name__}).") from exc
    if len(peaks) == 0:
        raise RecordError(f"No heartbeat was found in the signal ({detector_label(detector)} "
                          "detected no QRS).")
    radius = int(round(0.05 * fs))
    peaks = processing.correct_peaks(x, peaks, search_radius=radius,
                                     smooth_window_size=radius, peak_dir="compare")
    return np.unique(np.asarray(peaks, dtype=np.int64))


def local_peaks(sig: np.ndarray, radius: int) -> np.ndarray:
    """The local peaks of a signal exactly as ``wfdb.processing.peaks.find_local_peaks`` finds
    them, in numpy instead of a Python loop over every sample (about 25 times faster).

    A sample is a candidate where it equals the largest value of ``sig[i - radius:i +
    radius]`` (clipped at the ends); going forward, a candidate is a peak, and the next
    ``radius - 1`` samples are passed over, as the original does. XQRS (wfdb 4) spends over
    90% of its time in this search; :func:`detect_beats` has XQRS use this one (same peaks,
    tested against wfdb's own on real records and random signals).

    Args:
        sig: float array, shape (n,).
        radius: samples on each side, at least 1.

    Returns:
        int64 array of peak positions, increasing (float64 and empty for a flat signal, as
        wfdb returns).
    """
    sig = np.asarray(sig, dtype=np.float64)
    if np.min(sig) == np.max(sig):
        return np.empty(0)
    r = max(1, int(radius))
    edge = np.full(r, -np.inf)
    # window i of the padded signal is sig[i - r:i + r]
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([edge, sig, edge]), 2 * r)
    candidates = np.flatnonzero(sig == windows[:len(sig)].max(axis=1))
    peaks, free_from = [], 0
    for c in candidates.tolist():
        if c >= free_from:
            peaks.append(c)
            free_from = c + r
    return np.asarray(peaks, dtype=np.int64)


def _speed_up_xqrs() -> None:
    """Have wfdb's XQRS find local peaks with :func:`local_peaks` (the same peaks, faster).

    XQRS looks up ``find_local_peaks`` in its own module at each call; that name is pointed at
    :func:`local_peaks` once. Only for wfdb 4, whose function it reproduces (the tests compare
    the two on the installed wfdb)."""
    import wfdb
    from wfdb.processing import qrs

    if str(wfdb.__version__).startswith("4.") and \
            getattr(qrs, "find_local_peaks", None) is not local_peaks:
        qrs.find_local_peaks = local_peaks


def vote_detections(detections: list[np.ndarray], fs: float, min_votes: int,
                    tolerance_s: float = VOTE_TOLERANCE_S) -> np.ndarray:
    """Beats found by at least ``min_votes`` of several QRS detectors.

    Every detection of any detector is a candidate; going through them in time order, a
    candidate and those of the other detectors within ``tolerance_s`` after it are one beat.
    A beat is kept when at least ``min_votes`` detectors found it, at the position given by
    the first detector of ``detections`` that did. A plain majority vote, this project's own;
    measured against each detector alone in docs/detectors.md.

    Args:
        detections: one int array of sample positions per detector, in priority order.
        fs: sampling rate in Hz.
        min_votes: detectors that must agree, 1 to ``len(detections)``.
        tolerance_s: largest distance in s between detections of one beat.

    Returns:
        int64 array of sample positions, increasing, without duplicates.

    Raises:
        ValueError: if ``min_votes`` is outside 1 to ``len(detections)``.
    """
    if not 1 <= min_votes <= len(detections):
        raise ValueError(f"min_votes must be 1 to {len(detections)}, not {min_votes}")
    tol = int(round(tolerance_s * fs))
    pos = np.concatenate([np.asarray(d, dtype=np.int64) for d in detections])
    who = np.concatenate([np.full(len(d), i) for i, d in enumerate(detections)])
    order = np.lexsort((who, pos))
    pos, who = pos[order], who[order]
    kept: list[int] = []
    i, n = 0, len(pos)
    while i < n:
        j = i
        while j + 1 < n and pos[j + 1] - pos[i] <= tol:
            j += 1
        members = who[i:j + 1]
        if len(np.unique(members)) >= min_votes:
            kept.append(int(pos[i + int(np.argmin(members))]))
        i = j + 1
    return np.unique(np.asarray(kept, dtype=np.int64))


#: Largest distance (s) between a detected and a reference R peak for them to be the same beat
#: (ANSI/AAMI EC57: 150 ms).
MATCH_TOLERANCE_S: float = 0.15


def match_detections(reference: np.ndarray, detected: np.ndarray, fs: float,
                     tolerance_s: float = MATCH_TOLERANCE_S) -> tuple[np.ndarray, dict]:
    """Match detected beats to reference beats (``wfdb.processing.compare_annotations``).

    Args:
        reference: int array (m,), reference beat positions in samples, increasing.
        detected: int array (n,), detected beat positions in samples, increasing.
        fs: sampling rate in Hz.
        tolerance_s: largest distance in s for a match (150 ms, as in ANSI/AAMI EC57).

    Returns:
        ``(ref_of_detected, figures)``: int64 (n,) index of each detected beat's reference
        beat (-1 where none), and ``{"tolerance_s", "reference_beats", "detected_beats",
        "matched", "sensitivity", "positive_predictivity"}`` (Se = matched / reference
        beats, +P = matched / detected beats; ``None`` where the denominator is 0).
    """
    from wfdb import processing

    reference = np.asarray(reference, dtype=np.int64)
    detected = np.asarray(detected, dtype=np.int64)
    ref_of_detected = np.full(len(detected), -1, dtype=np.int64)
    matched = 0
    if len(reference) and len(detected):
        comp = processing.compare_annotations(reference, detected,
                                              int(round(tolerance_s * fs)))
        for r, d in enumerate(np.asarray(comp.matching_sample_nums)):
            if d >= 0:
                ref_of_detected[int(d)] = r
        matched = int((ref_of_detected >= 0).sum())
    figures = {"tolerance_s": float(tolerance_s), "reference_beats": int(len(reference)),
               "detected_beats": int(len(detected)), "matched": matched,
               "sensitivity": matched / len(reference) if len(reference) else None,
               "positive_predictivity": matched / len(detected) if len(detected) else None}
    return ref_of_detected, figures


def model_signal(record: ECGRecord, classifier) -> np.ndarray:
    """The record's signal conditioned as the classifier's training data were
    (:func:`ecg_core.conditioning.condition_signal` with the card's ``conditioning``): what
    its beats are drawn from.

    Returns:
        float32 array, shape (n_samples,), in mV.
    """
    from .conditioning import condition_signal

    return condition_signal(record.signal, record.fs, getattr(classifier, "conditioning", "none"))


def reads_two_leads(classifier) -> bool:
    """Whether a classifier's reading of whole records uses a record's second lead: its card's
    ``both_leads`` (the network reads each beat on both leads), or readings that compare beats
    there (``v_template.two_leads``, ``dominant_qrs.two_leads`` or ``af_fold.both_leads``,
    :func:`ecg_core.beats.readings_use_second_lead`). The readers then read that lead too
    (``read_record(..., other_lead=True)``)."""
    return bool(getattr(classifier, "both_leads", None)) or readings_use_second_lead(
        getattr(classifier, "dominant_qrs", None), getattr(classifier, "v_template", None),
        getattr(classifier, "af_fold", None))


def model_second_signal(record: ECGRecord, classifier) -> np.ndarray | None:
    """The record's second lead conditioned as :func:`model_signal` conditions the chosen one,
    where the record has one and the classifier's readings use it (:func:`reads_two_leads`).

    Returns:
        float32 array, shape (n_samples,), in mV; or ``None``.
    """
    if record.other_signal is None or not reads_two_leads(classifier):
        return None
    from .conditioning import condition_signal

    return condition_signal(record.other_signal, record.fs,
                            getattr(classifier, "conditioning", "none"))


def classify_record(record: ECGRecord, classifier, *, use_annotations: bool = True,
                    detector: str = DEFAULT_DETECTOR, batch_size: int = 64,
                    progress=None) -> RecordResult:
    """Find and classify every beat of a record.

    Args:
        record: an :class:`ECGRecord` (any lead; at the model's 360 Hz).
        classifier: an :class:`ecg_core.model.Classifier`; beats are detected on the signal as
            recorded and drawn from it conditioned as the model's training data were
            (:func:`model_signal`).
        use_annotations: take beat positions from the record's annotations when present
            (every beat symbol); otherwise, or without annotations, detect them.
        detector: the QRS detector (a name of :data:`DETECTORS`) used to find beats.
        batch_size: beats per model call. The LiteRT interpreter holds one batch's
            activations: for the committed `ecgnet` on MIT-BIH 208 (2 CPU cores), 64 beats
            a call peak 23 MB above the loaded model where 128 peak 50 MB, for 0.05 s more
            (1.82-1.85 s against 1.77-1.80 s).
        progress: optional callable ``progress(done, total)``.

    Returns:
        A :class:`RecordResult`. Beats closer than 0.7 s to either end are left out (the
        widest drawing window). With annotations, ``reference`` holds each beat's symbol;
        where beats were detected in a record that has annotations, each detected beat gets
        the symbol of the reference beat it matches within 150 ms (``""`` if none), and
        ``detection`` says how many were found (:func:`match_detections`).

    Raises:
        RecordError: if no beat is found.
    """
    fs = record.fs
    ann = record.annotations if use_annotations else None
    if ann is not None:
        keep = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
        positions = np.asarray(ann.sample[keep], dtype=np.int64)
        symbols = [ann.symbol[i] for i in keep]
        source = "annotations"
    else:
        positions = detect_beats(record.signal, fs, detector, other=record.other_signal)
        symbols = [""] * len(positions)
        source = detector_label(detector)
        if detector in TWO_LEAD_DETECTORS:
            source += (f" on {record.lead} and {record.other_lead}"
                       if record.other_signal is not None else f" on {record.lead} only")
    prev, nxt, local = rr_intervals(positions, fs)  # all beats, before trimming the ends
    every_beat = positions
    margin = int(round(MAX_HALF_WINDOW_S * fs))
    inside = (positions >= margin) & (positions < len(record.signal) - margin)
    if not inside.any():
        raise RecordError("No beat lies far enough from the ends of the record to be drawn.")
    positions, prev, nxt, local = positions[inside], prev[inside], nxt[inside], local[inside]
    symbols = [s for s, ok in zip(symbols, inside) if ok]
    detection = None
    if ann is None and record.annotations is not None:
        ref = record.annotations
        keep = [i for i, s in enumerate(ref.symbol) if s in BEAT_SYMBOLS
                and margin <= ref.sample[i] < len(record.signal) - margin]
        ref_pos = np.asarray(ref.sample[keep], dtype=np.int64)
        ref_of, detection = match_detections(ref_pos, positions, fs)
        symbols = [ref.symbol[keep[r]] if r >= 0 else "" for r in ref_of]
    signal = model_signal(record, classifier)
    if classifier.uses_rhythm:
        # the patient's context (each model reads its own columns): the record's mean RR, and
        # each beat against the record's typical beat, formed from every beat found
        known = prev[np.isfinite(prev)]
        rr_record = np.full(len(prev), known.mean() if len(known) else np.nan)
        stage = getattr(classifier, "record_stage", None) or {}
        wants_shape = stage.get("shape") or stage.get("typical", "all") != "all"
        template = (template_features(signal, positions, fs, every_beat)
                    if classifier.rhythm_context == "template" or wants_shape else None)
        rhythm = beat_context(rhythm_features(prev, nxt, local, rr_record), template)
    else:
        rhythm = None
    n = len(positions)
    probs = np.empty((n, len(classifier.class_codes)), dtype=np.float32)
    second = model_second_signal(record, classifier)
    # the network reads each beat on both leads where the card says so and the record has two
    both = second if getattr(classifier, "both_leads", None) else None

    def draw_on(sig: np.ndarray, start: int, stop: int) -> np.ndarray:
        return np.stack([canonical_form(render_beat(sig, int(p), fs), classifier.input_size)
                         for p in positions[start:stop]])

    def draw(start: int, stop: int):
        return (draw_on(signal, start, stop),
                None if both is None else draw_on(both, start, stop))

    # a model with a record-context stage reads the beats in their record once all are seen:
    # the network's own outputs first, the stage after (Classifier.read_in_record)
    in_record = rhythm is not None and getattr(classifier, "record_stage", None) is not None

    def classify(start: int, stop: int, images) -> None:
        context = None if rhythm is None else rhythm[start:stop]
        read = classifier.network_outputs if in_record else classifier.predict_canonical
        out = read(images[0], context)
        if images[1] is not None:  # the same beats on the second lead: probabilities averaged
            out = (out + read(images[1], context)) / 2.0
        probs[start:stop] = out

    # Drawing (Python, one core) and the network (native code that releases the interpreter
    # lock) overlap: batch k is classified on a second thread while batch k + 1 is drawn.
    # Measured on 2 cores: MIT-BIH 208, the three-network model of 2026-11-28, 2.5-2.7 s ->
    # 1.9-2.1 s (benchmarks/record_latency.py). Progress is reported from the calling thread
    # only.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecg-classify") as pool:
        pending = None
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            images = draw(start, stop)
            if pending is not None:
                pending.result()
                if progress is not None:
                    progress(start, n)
            pending = pool.submit(classify, start, stop, images)
        pending.result()
        if progress is not None:
            progress(n, n)
    if in_record:
        probs = classifier.read_in_record(probs, rhythm)
    codes = tuple(classifier.class_codes)
    snr_db = beat_snr_db(signal, positions, fs)
    readings = record_readings(probs, signal, positions, fs, codes,
                               dominant_qrs=getattr(classifier, "dominant_qrs", None),
                               af_fold=getattr(classifier, "af_fold", None),
                               v_template=getattr(classifier, "v_template", None),
                               other_signal=second,
                               qrs_align_s=float(getattr(classifier, "qrs_align_s", 0.0)),
                               snr_db=snr_db,
                               premature_s=getattr(classifier, "premature_s", None))
    probs = readings.probabilities
    predicted = [codes[i] for i in probs.argmax(axis=1)]
    return RecordResult(record=record.name, fs=fs, duration_s=record.duration_s, source=source,
                        samples=positions, reference=symbols, predicted=predicted,
                        probabilities=probs, class_codes=codes, rr_prev_s=prev,
                        detection=detection, snr_db=snr_db,
                        reread=readings.reread, qrs_similarity=readings.qrs_similarity,
                        s_folded=readings.s_folded,
                        atrial_consistency=readings.atrial_consistency,
                        v_promoted=readings.v_promoted,
                        v_template_second_lead=(record.other_lead or "second lead"
                                                if readings.v_promoted_two_leads is not None
                                                else ""),
                        reread_two_leads=readings.reread_two_leads,
                        two_lead_similarity=readings.two_lead_similarity,
                        s_promoted=readings.s_promoted,
                        network_second_lead=("" if both is None
                                             else record.other_lead or "second lead"),
                        rhythm=None if rhythm is None else rhythm.astype(np.float32))


#: Length (s) of the stretches a long record is read and classified in, and the overlap (s)
#: read on each side of a stretch, so that every beat has the neighbours its drawing window
#: and its RR context need (:data:`~ecg_core.beats.LOCAL_RR_BEATS` beats each side at 30 bpm).
CHUNK_S: float = 1800.0
CHUNK_OVERLAP_S: float = 25.0


def classify_record_file(path: str | Path, classifier, *, lead: str | None = None,
                         annotator: str | None = "atr", use_annotations: bool = True,
                         detector: str = DEFAULT_DETECTOR, chunk_s: float = CHUNK_S,
                         workers: int = 1, progress=None) -> RecordResult:
    """Find and classify every beat of a WFDB record of any length, a stretch at a time.

    A record no longer than ``chunk_s`` (plus a little) is read whole and classified by
    :func:`classify_record`. A longer one (a 24-hour Holter record) is read ``chunk_s`` at a
    time with :data:`CHUNK_OVERLAP_S` more on each side: each stretch is classified as a
    record of its own and keeps the beats of its middle part, so the memory held is that of
    one stretch (plus the per-beat results), whatever the record's length. Beats near a
    stretch's edges get the same window and local RR features as in a whole read; what a
    model reads of the whole record (the record's mean RR of a record-context model, the
    typical QRS of the readings) is that of the stretch; a QRS detector that adapts its
    thresholds (XQRS, Pan-Tompkins) starts afresh in each stretch.

    Args:
        path: WFDB record path without extension.
        classifier: an :class:`ecg_core.model.Classifier`.
        lead: lead to read (see :func:`ecg_core.records.choose_lead`).
        annotator: annotation file extension, or ``None``.
        use_annotations: take beat positions from the annotations where there are some.
        detector: the QRS detector otherwise (a name of :data:`DETECTORS`).
        chunk_s: length of the stretches in s.
        workers: processes that classify stretches side by side (each loads the model's
            LiteRT twin once, with one thread, and holds one stretch); 1 classifies them one
            after the other in this process. Used only for a record of several stretches and
            a classifier loaded from a file.
        progress: optional callable ``progress(done_s, total_s)``: seconds of the record done.

    Returns:
        A :class:`RecordResult` over the whole record (positions at the model's 360 Hz).
        ``detection`` sums the matches of every stretch.

    Raises:
        RecordError: as :func:`ecg_core.records.read_record` and :func:`classify_record` do;
            a stretch with no beat (a lead-off hour of a Holter) is skipped, a record with
            none at all is an error.
    """
    from .records import TARGET_FS, read_record, record_header

    length, fs, _ = record_header(path)
    total_s = length / fs if fs else 0.0
    if total_s <= chunk_s + 2 * CHUNK_OVERLAP_S:
        record = read_record(path, lead=lead, annotator=annotator,
                             other_lead=detector in TWO_LEAD_DETECTORS
                             or reads_two_leads(classifier))
        return classify_record(record, classifier, use_annotations=use_annotations,
                               detector=detector,
                               progress=None if progress is None else
                               (lambda d, t: progress(total_s * d / t, total_s)))
    step, pad = int(round(chunk_s * fs)), int(round(CHUNK_OVERLAP_S * fs))
    jobs = [(a, min(length, a + step), max(0, a - pad), min(length, a + step + pad))
            for a in range(0, length, step)]
    args = (str(path), lead, annotator, use_annotations, detector, TARGET_FS / fs,
            reads_two_leads(classifier))
    found: dict[int, tuple] = {}
    if workers > 1 and classifier.path is not None and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # "spawn": a fresh interpreter per worker, each with its own LiteRT model (1 thread)
        with ProcessPoolExecutor(min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_stretch_worker,
                                 initargs=(str(classifier.path),)) as pool:
            futures = {pool.submit(_stretch_in_worker, *args, *job): i
                       for i, job in enumerate(jobs)}
            done_s = 0.0
            for future in as_completed(futures):
                i = futures[future]
                found[i] = future.result()
                done_s += (jobs[i][1] - jobs[i][0]) / fs
                if progress is not None:
                    progress(done_s, total_s)
    else:
        for i, job in enumerate(jobs):
            found[i] = _classify_stretch(classifier, *args, *job)
            if progress is not None:
                progress(job[1] / fs, total_s)
    name = next(iter(found.values()))[0]
    parts = [found[i][2] for i in range(len(jobs)) if found[i][2] is not None]
    source = next((found[i][1] for i in range(len(jobs)) if found[i][2] is not None), "")
    if not parts:
        raise RecordError(f"No heartbeat was found in record '{name}'.")
    samples = np.concatenate([p[0] for p in parts]).astype(np.int64)
    reference = [r for p in parts for r in p[1]]
    detection = None
    if source != "annotations" and annotator:
        # detected beats of an annotated record: matched once over the whole record, not
        # stretch by stretch (the overlaps would count twice)
        from .records import read_annotations

        try:
            ann, n = read_annotations(path, annotator)
        except RecordError:
            ann = None
        if ann is not None:
            margin = int(round(MAX_HALF_WINDOW_S * TARGET_FS))
            keep = [i for i, sym in enumerate(ann.symbol) if sym in BEAT_SYMBOLS
                    and margin <= ann.sample[i] < n - margin]
            ref_of, detection = match_detections(
                np.asarray(ann.sample[keep], dtype=np.int64), samples, TARGET_FS)
            reference = [ann.symbol[keep[r]] if r >= 0 else "" for r in ref_of]
    return RecordResult(
        record=name, fs=float(TARGET_FS), duration_s=total_s, source=source, samples=samples,
        reference=reference, predicted=[q for p in parts for q in p[2]],
        probabilities=np.concatenate([p[3] for p in parts]).astype(np.float32),
        class_codes=tuple(classifier.class_codes),
        rr_prev_s=np.concatenate([p[4] for p in parts]), detection=detection,
        snr_db=np.concatenate([p[5] for p in parts]),
        reread=_joined(parts, 6), qrs_similarity=_joined(parts, 7), s_folded=_joined(parts, 8),
        atrial_consistency=_joined(parts, 9), v_promoted=_joined(parts, 10),
        v_template_second_lead=next((p[11] for p in parts if p[11]), ""),
        reread_two_leads=_joined(parts, 12), two_lead_similarity=_joined(parts, 13),
        s_promoted=_joined(parts, 14),
        network_second_lead=next((p[15] for p in parts if p[15]), ""),
        rhythm=_joined(parts, 16))


def _joined(parts: list[tuple], i: int) -> np.ndarray | None:
    """Field ``i`` of the stretches' parts end to end; ``None`` where the model's readings
    left it out (the same in every part)."""
    return None if parts[0][i] is None else np.concatenate([p[i] for p in parts])


def _classify_stretch(classifier, path: str, lead, annotator, use_annotations: bool,
                      detector: str, scale: float, two_leads: bool, a: int, b: int, lo: int,
                      hi: int):
    """One stretch of :func:`classify_record_file`: read samples ``lo``-``hi`` of the file,
    classify them, keep the beats of ``a``-``b``. Returns ``(record name, source, part)``,
    ``part`` = (positions at 360 Hz from the record's start, reference symbols, predicted
    codes, probabilities, RR before each beat, estimated SNR, V readings dropped and QRS
    similarities, or ``None`` for both, S readings folded and atrial consistencies, or ``None``
    for both, beats read V by the V-template reading or ``None``, the second lead that
    reading also compared on or ``""``, the V readings dropped by the check on both leads and
    their two-lead similarities, or ``None`` for both, the beats read S by the premature-beat
    reading or ``None``, the second lead the network also read every beat on or ``""``, the
    beats' context vectors or ``None``), or ``None`` where the stretch has no
    beat. With ``two_leads`` the stretch's second lead is read too (:func:`reads_two_leads`)."""
    from .records import read_record

    piece = read_record(path, lead=lead, annotator=annotator, sampfrom=lo, sampto=hi,
                        other_lead=detector in TWO_LEAD_DETECTORS or two_leads)
    try:
        part = classify_record(piece, classifier, use_annotations=use_annotations,
                               detector=detector)
    except RecordError:  # no beat in this stretch (a lead-off hour of a Holter)
        return piece.name, "", None
    absolute = part.samples + int(round(lo * scale))
    core = (absolute >= int(round(a * scale))) & (absolute < int(round(b * scale)))
    return piece.name, part.source, (
        absolute[core], [r for r, k in zip(part.reference, core) if k],
        [q for q, k in zip(part.predicted, core) if k], part.probabilities[core],
        part.rr_prev_s[core], part.snr_db[core],
        None if part.reread is None else part.reread[core],
        None if part.qrs_similarity is None else part.qrs_similarity[core],
        None if part.s_folded is None else part.s_folded[core],
        None if part.atrial_consistency is None else part.atrial_consistency[core],
        None if part.v_promoted is None else part.v_promoted[core],
        part.v_template_second_lead,
        None if part.reread_two_leads is None else part.reread_two_leads[core],
        None if part.two_lead_similarity is None else part.two_lead_similarity[core],
        None if part.s_promoted is None else part.s_promoted[core],
        part.network_second_lead,
        None if part.rhythm is None else part.rhythm[core])


_WORKER_CLASSIFIER = None


def _init_stretch_worker(model_path: str) -> None:
    global _WORKER_CLASSIFIER
    from .model import Classifier

    _WORKER_CLASSIFIER = Classifier.load(model_path, threads=1)


def _stretch_in_worker(*args):
    return _classify_stretch(_WORKER_CLASSIFIER, *args)


def trend(result: RecordResult, bin_s: float = 60.0) -> dict[str, np.ndarray]:
    """Heart rate and beat counts over a record, bin by bin (the report's heart-rate trend,
    the Record page's overview of a long record).

    Args:
        result: a classified record.
        bin_s: bin length in s (60: minute by minute; 3600: hour by hour).

    Returns:
        dict of arrays, one value per bin from the record's start: ``start_s`` (float64, s),
        ``hr_bpm`` (float64, 60 / mean RR of the bin's beats; NaN where it has none),
        ``beats``, ``ectopic`` and ``ventricular`` (int64 counts of the bin's beats, of
        :data:`ECTOPIC_CLASSES` and of :data:`VENTRICULAR_CLASSES`).

    Raises:
        ValueError: if ``bin_s`` is not positive.
    """
    if not bin_s > 0:
        raise ValueError(f"bin_s must be positive, got {bin_s}")
    n_bins = max(1, int(np.ceil(result.duration_s / bin_s)))
    which = np.clip((result.samples / result.fs // bin_s).astype(np.int64), 0, n_bins - 1)
    pred = np.asarray(result.predicted)
    rr = np.asarray(result.rr_prev_s, dtype=np.float64)
    ok = np.isfinite(rr) & (rr > 0)
    rr_sum = np.bincount(which[ok], weights=rr[ok], minlength=n_bins)
    rr_n = np.bincount(which[ok], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        hr = np.where(rr_n > 0, 60.0 * rr_n / rr_sum, np.nan)
    return {"start_s": np.arange(n_bins) * float(bin_s), "hr_bpm": hr,
            "beats": np.bincount(which, minlength=n_bins),
            "ectopic": np.bincount(which[np.isin(pred, list(ECTOPIC_CLASSES))],
                                   minlength=n_bins),
            "ventricular": np.bincount(which[np.isin(pred, list(VENTRICULAR_CLASSES))],
                                       minlength=n_bins)}


def _runs(flags: np.ndarray) -> list[int]:
    """Lengths of the runs of consecutive True values."""
    runs, count = [], 0
    for f in flags:
        if f:
            count += 1
        elif count:
            runs.append(count)
            count = 0
    if count:
        runs.append(count)
    return runs


def summarise(result: RecordResult) -> dict:
    """Rhythm summary of a classified record.

    Returns:
        dict with ``beats`` (total), ``per_class`` (code -> count), ``mean_hr_bpm`` (60 / mean
        RR), RR statistics in s (``rr_mean_s``, ``rr_sd_s``, ``rr_min_s``, ``rr_max_s``),
        ``ectopic_per_hour`` (beats of :data:`ECTOPIC_CLASSES` per hour of record),
        ``ventricular_runs`` (runs of 2 or more consecutive ventricular beats:
        ``couplets`` = runs of 2, ``runs_3_or_more``, ``longest``), ``irregular_share`` (the
        share of beats in stretches of irregularly irregular RR intervals,
        :func:`ecg_core.beats.irregular_rr`), ``noisy_share`` (the share of beats whose
        estimated SNR is under :data:`~ecg_core.beats.NOISY_SNR_DB`; ``None`` for a result
        without SNR estimates), ``v_reread`` (the beats the network read V whose QRS matched
        the record's typical QRS, :attr:`RecordResult.reread`; ``None`` for a model without
        that reading), ``s_folded`` (the beats in stretches read as atrial fibrillation,
        :attr:`RecordResult.s_folded`; ``None`` for a model without that reading),
        ``v_promoted`` (the beats read V for their likeness to the record's V calls,
        :attr:`RecordResult.v_promoted`; ``None`` for a model without that reading),
        ``v_template_second_lead`` (:attr:`RecordResult.v_template_second_lead`),
        ``v_reread_two_leads`` (those of ``v_reread`` dropped by the check on both leads,
        :attr:`RecordResult.reread_two_leads`; ``None`` where it did not run),
        ``s_promoted`` (the beats read S by the premature-beat reading,
        :attr:`RecordResult.s_promoted`; ``None`` for a model without it),
        ``network_second_lead`` (:attr:`RecordResult.network_second_lead`), ``duration_s`` and
        ``source``.
    """
    pred = np.array(result.predicted)
    rr = result.rr_prev_s[np.isfinite(result.rr_prev_s)]
    hours = result.duration_s / 3600.0
    ventricular = np.isin(pred, list(VENTRICULAR_CLASSES))
    runs = [r for r in _runs(ventricular) if r >= 2]
    return {
        "beats": int(len(pred)),
        "per_class": {c: int((pred == c).sum()) for c in result.class_codes},
        "mean_hr_bpm": float(60.0 / rr.mean()) if len(rr) else None,
        "rr_mean_s": float(rr.mean()) if len(rr) else None,
        "rr_sd_s": float(rr.std(ddof=1)) if len(rr) > 1 else None,
        "rr_min_s": float(rr.min()) if len(rr) else None,
        "rr_max_s": float(rr.max()) if len(rr) else None,
        "ectopic_per_hour": float(np.isin(pred, list(ECTOPIC_CLASSES)).sum() / hours)
        if hours > 0 else None,
        "ventricular_runs": {"couplets": sum(r == 2 for r in runs),
                             "runs_3_or_more": sum(r >= 3 for r in runs),
                             "longest": max(runs, default=0)},
        "irregular_share": float(irregular_rr(result.samples, result.fs).mean())
        if len(pred) else 0.0,
        "noisy_share": None if result.snr_db is None or not len(pred)
        else float((result.snr_db < NOISY_SNR_DB).mean()),
        "v_reread": None if result.reread is None else int(np.sum(result.reread)),
        "s_folded": None if result.s_folded is None else int(np.sum(result.s_folded)),
        "v_promoted": None if result.v_promoted is None else int(np.sum(result.v_promoted)),
        "v_template_second_lead": result.v_template_second_lead,
        "v_reread_two_leads": None if result.reread_two_leads is None
        else int(np.sum(result.reread_two_leads)),
        "s_promoted": None if result.s_promoted is None else int(np.sum(result.s_promoted)),
        "network_second_lead": result.network_second_lead,
        "duration_s": float(result.duration_s),
        "source": result.source,
    }


def irregular_rhythm_note(summary: dict, class_codes) -> str | None:
    """What an irregular rhythm means for the supraventricular calls, in words for the
    reader of a record's results; ``None`` when the record's ``irregular_share``
    (:func:`summarise`) is under :data:`IRREGULAR_NOTE_SHARE` or the model has no
    supraventricular class.

    A premature beat is premature against a regular rhythm; in atrial fibrillation or flutter
    the MIT-BIH labels (and AAMI EC57) call supraventricular beats normal. Counted record by
    record, most false S calls of ``aami/ecgnet`` on new patients fall in such records
    (docs/results.md).
    """
    share = float(summary.get("irregular_share") or 0.0)
    classes = [c for c in class_codes if c in SUPRAVENTRICULAR_CLASSES]
    if share < IRREGULAR_NOTE_SHARE or not classes:
        return None
    note = (f"The RR intervals are irregularly irregular around {share:.0%} of the beats, as in "
            "atrial fibrillation or flutter, or frequent ectopic beats of no fixed pattern. "
            f"There, {' and '.join(classes)} calls (supraventricular premature beats) are "
            "unreliable: with no regular rhythm a beat cannot be premature, and in atrial "
            "fibrillation or flutter the reference labels call these beats normal. On new "
            "patients most false supraventricular calls come from such records.")
    if summary.get("s_folded") is not None:  # a model with the atrial-fibrillation reading
        note += (f" This model makes no {' or '.join(classes)} call where, besides, no P wave "
                 "repeats before the QRS (atrial fibrillation); elsewhere in such stretches, as "
                 "with frequent atrial premature beats or flutter, its calls remain and need "
                 "this caution.")
    return note


def noisy_stretches(result: RecordResult, merge_s: float = 1.0) -> list[tuple[float, float]]:
    """Where a record reads noisy: the stretches of consecutive beats whose estimated SNR is
    under :data:`~ecg_core.beats.NOISY_SNR_DB`, each from its first beat's stretch start
    (:data:`~ecg_core.beats.SNR_BEFORE_S` before the R peak) to its last beat's end
    (:data:`~ecg_core.beats.SNR_AFTER_S` after), stretches less than ``merge_s`` apart
    joined. For shading a strip.

    Returns:
        ``[(start_s, end_s), ...]`` in s from the record's start, in time order; empty for a
        result without SNR estimates or with no noisy beat.
    """
    if result.snr_db is None or not len(result.samples):
        return []
    noisy = result.snr_db < NOISY_SNR_DB  # NaN (no estimate): not noisy
    return _stretches(result.samples / result.fs, noisy, SNR_BEFORE_S, SNR_AFTER_S, merge_s)


def fibrillation_stretches(result: RecordResult, merge_s: float = 2.0
                           ) -> list[tuple[float, float]]:
    """Where the atrial-fibrillation reading flagged a record (:attr:`RecordResult.s_folded`):
    the stretches of consecutive flagged beats, from the first one's R peak to the last one's,
    stretches less than ``merge_s`` apart joined. For shading a strip.

    Returns:
        ``[(start_s, end_s), ...]`` in s from the record's start, in time order; empty for a
        model without that reading or a record with no flagged beat.
    """
    if result.s_folded is None or not len(result.samples):
        return []
    return _stretches(result.samples / result.fs, result.s_folded, 0.0, 0.0, merge_s)


def _stretches(t: np.ndarray, flags: np.ndarray, before_s: float, after_s: float,
               merge_s: float) -> list[tuple[float, float]]:
    """Runs of flagged beats (times ``t`` in s, bool ``flags``) as ``(start, end)`` in s, each
    widened by ``before_s``/``after_s``, runs less than ``merge_s`` apart joined."""
    edges = np.diff(np.concatenate([[0], np.asarray(flags, dtype=np.int8), [0]]))
    out: list[tuple[float, float]] = []
    for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1):
        start, end = float(t[first] - before_s), float(t[last] + after_s)
        if out and start - out[-1][1] < merge_s:
            out[-1] = (out[-1][0], end)
        else:
            out.append((max(0.0, start), end))
    return out


def noise_note(summary: dict) -> str | None:
    """What noise means for a record's calls, in words for its reader; ``None`` when the
    record's ``noisy_share`` (:func:`summarise`) is under :data:`NOISE_NOTE_SHARE` or unknown.

    On the noise stress test (MIT-BIH 118 and 119 with electrode-motion noise added), the
    8-class `ecgnet` keeps its clean reading of 97% of the noisy segments' beats at 24 dB, 80%
    at 18 dB and 58% at 12 dB; `aami/ecgnet`, reading a band-passed signal and RR intervals,
    99%, 99% and 98% (docs/results.md, real noise).
    """
    share = summary.get("noisy_share")
    if share is None or share < NOISE_NOTE_SHARE:
        return None
    return (f"Around {share:.0%} of the beats the signal is noisy or the beats have no "
            f"recurring shape (estimated SNR under {NOISY_SNR_DB:g} dB: the QRS amplitude "
            "against what differs between neighbouring beats of the most alike shape), as with "
            "artefact, or in fibrillation or flutter. Calls there, above all ectopic ones, are "
            "less reliable than the rest; the Evaluation page shows how far each model's "
            "reading changes with noise.")


def reread_note(summary: dict) -> str | None:
    """What the dominant-QRS reading changed in a record, in words for its reader; ``None``
    when it changed nothing or the model has no such reading (``v_reread`` of
    :func:`summarise`)."""
    n = summary.get("v_reread")
    if not n:
        return None
    return (f"{n:,} beat{'s' if n != 1 else ''} that the networks read as ventricular (V) "
            f"{'have' if n != 1 else 'has'} a QRS complex shaped like this record's typical "
            "one (or close to it, where the beats read V share that shape as a group), so the "
            "model reads them as their next most likely class (a ventricular beat's QRS "
            "differs from the patient's usual one)"
            + (f"; {both:,} of them only when the second lead is compared too, side by side "
               "with this one" if (both := summary.get("v_reread_two_leads")) else "")
            + ". The per-beat table marks them (v_reread).")


def fibrillation_note(summary: dict) -> str | None:
    """What the atrial-fibrillation reading changed in a record, in words for its reader;
    ``None`` when it flagged no beat or the model has no such reading (``s_folded`` of
    :func:`summarise`)."""
    n = summary.get("s_folded")
    if not n:
        return None
    return (f"{n:,} beat{'s' if n != 1 else ''} lie in stretches that read as atrial "
            "fibrillation: irregularly irregular RR intervals with no P wave repeated from beat "
            "to beat before the QRS. There the model reads no beat as a supraventricular "
            "premature beat (S), as the reference labels of atrial fibrillation call these "
            "beats normal. The per-beat table marks them (s_folded).")


def v_template_note(summary: dict) -> str | None:
    """What the V-template reading changed in a record, in words for its reader; ``None``
    when it read no beat V or the model has no such reading (``v_promoted`` of
    :func:`summarise`)."""
    n = summary.get("v_promoted")
    if not n:
        return None
    second = summary.get("v_template_second_lead")
    leads = (f" (on the chosen lead, or on it and the {second} lead side by side)" if second
             else "")
    return (f"{n:,} beat{'s' if n != 1 else ''} that the networks read as another class "
            f"{'have' if n != 1 else 'has'} a QRS complex shaped like this record's own "
            f"ventricular (V) calls{leads}, taken together or one of their forms: a template "
            "wider than the record's typical QRS and unlike it, so the model reads them V, as "
            "a Holter analyser labels beats by template. The per-beat table marks them "
            "(v_template).")


def premature_note(summary: dict) -> str | None:
    """What the premature-beat reading changed in a record, in words for its reader; ``None``
    when it read no beat S or the model has no such reading (``s_promoted`` of
    :func:`summarise`)."""
    n = summary.get("s_promoted")
    if not n:
        return None
    return (f"{n:,} beat{'s' if n != 1 else ''} that the networks read as normal "
            f"{'come' if n != 1 else 'comes'} early against the regular rhythm around "
            f"{'them' if n != 1 else 'it'}, before a longer interval, with this record's usual "
            "QRS complex: the signs of an atrial premature beat, so the model reads them as "
            "supraventricular premature beats (S). In sinus arrhythmia, where the rate swings "
            "with breathing, or in atrial fibrillation that the RR intervals do not show, a "
            "normal beat can look the same: check their P waves. The per-beat table marks them "
            "(s_premature).")


def record_notes(summary: dict, class_codes) -> list[str]:
    """Every note on a record's results (:func:`irregular_rhythm_note`, :func:`noise_note`,
    :func:`reread_note`, :func:`fibrillation_note`, :func:`v_template_note`,
    :func:`premature_note`), in that order; empty when there is none. The Record page,
    ``classify-record`` and the HTML report show them."""
    return [n for n in (irregular_rhythm_note(summary, class_codes), noise_note(summary),
                        reread_note(summary), fibrillation_note(summary),
                        v_template_note(summary), premature_note(summary)) if n]


def scheme_of(class_codes: tuple[str, ...]) -> str:
    """The class scheme (``"jun8"`` or ``"aami"``) whose codes a model predicts.

    Raises:
        ValueError: if the codes match no scheme.
    """
    for name, classes in SCHEMES.items():
        if tuple(c.code for c in classes) == tuple(class_codes):
            return name
    raise ValueError(f"Class codes {class_codes} match no known scheme.")


def agreement(result: RecordResult) -> dict | None:
    """Agreement of the predictions with the reference annotations.

    Reference symbols are mapped to the model's classes (MIT-BIH symbols to the eight codes
    or to AAMI N/S/V/F/Q); beats whose symbol has no class are counted apart by symbol.
    Detected beats that match no reference beat (empty symbol) are left out; how many there
    were is in ``result.detection``.

    Returns:
        ``None`` without reference annotations; else ``{"figures":
        :func:`~ecg_core.evaluation.confusion_figures` of the mapped beats (accuracy,
        per-class Se/+P, confusion), "outside": {symbol: count}, "detection":
        result.detection}``.
    """
    from .evaluation import confusion_figures

    if not any(result.reference):
        return None
    mapping = symbol_map(scheme_of(result.class_codes))
    index = {c: i for i, c in enumerate(result.class_codes)}
    mapped = [i for i, s in enumerate(result.reference) if s in mapping]
    outside: dict[str, int] = {}
    for s in result.reference:
        if s and s not in mapping:
            outside[s] = outside.get(s, 0) + 1
    if not mapped:
        return {"figures": None, "outside": outside, "detection": result.detection}
    y_true = np.array([index[mapping[result.reference[i]]] for i in mapped])
    figures = confusion_figures(y_true, result.probabilities[mapped].argmax(axis=1),
                                result.class_codes)
    return {"figures": figures, "outside": outside, "detection": result.detection}


def classify_database(folder: str | Path, classifier, *, annotator: str = "atr",
                      records: list[str] | tuple[str, ...] | None = None,
                      progress=None) -> dict:
    """Classify every labelled beat of every annotated record of a database folder.

    Each record with an annotation file is read (lead MLII where it has one, else its first
    channel; resampled to 360 Hz) and classified from its reference beat positions, as
    ``classify-record --annotations`` does (:func:`classify_record`); the reference symbols are
    mapped to the model's classes (:func:`agreement`).

    Args:
        folder: a folder of WFDB records (e.g. ``../shared/qtdb``).
        classifier: an :class:`ecg_core.model.Classifier`.
        annotator: annotation file extension of the reference beat labels.
        records: only these records (e.g. :data:`ecg_core.protocols.QTDB_HELD_OUT`); ``None``
            for every annotated record.
        progress: optional callable ``progress(done_records, total_records)``.

    Returns:
        ``{"y_true": int64 (n,), "probabilities": float32 (n, k), "records": list of n record
        names, "snr_db": float64 (n,) each beat's estimated SNR (:func:`classify_record`),
        "leads": {record: lead}, "outside": {symbol: count}, "skipped": {record: reason}}``.

    Raises:
        RecordError: if the folder holds no record with ``annotator`` annotations.
    """
    from .records import list_records, read_record

    folder = Path(folder)
    names = [n for n in list_records(folder) if (folder / f"{n}.{annotator}").is_file()
             and (records is None or n in set(records))]
    if not names:
        raise RecordError(f"No record in {folder} has '{annotator}' annotations"
                          + (" among those asked for." if records is not None else "."))
    mapping = symbol_map(scheme_of(classifier.class_codes))
    index = {c: i for i, c in enumerate(classifier.class_codes)}
    y_true, probs, records, snr = [], [], [], []
    leads: dict[str, str] = {}
    outside: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for done, name in enumerate(names, start=1):
        try:
            record = read_record(folder / name, annotator=annotator,
                                 other_lead=reads_two_leads(classifier))
            result = classify_record(record, classifier, use_annotations=True)
        except (RecordError, ValueError) as exc:
            skipped[name] = str(exc)
            continue
        leads[name] = record.lead
        for i, s in enumerate(result.reference):
            if s in mapping:
                y_true.append(index[mapping[s]])
                probs.append(result.probabilities[i])
                records.append(name)
                snr.append(result.snr_db[i])
            elif s:
                outside[s] = outside.get(s, 0) + 1
        if progress is not None:
            progress(done, len(names))
    k = len(classifier.class_codes)
    return {"y_true": np.asarray(y_true, np.int64),
            "probabilities": (np.stack(probs).astype(np.float32) if probs
                              else np.zeros((0, k), np.float32)),
            "records": records, "snr_db": np.asarray(snr, np.float64), "leads": leads,
            "outside": outside, "skipped": skipped}
