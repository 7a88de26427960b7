"""Reading ECG records (WFDB format) and bringing them to the model's sampling rate.

Records are read with the ``wfdb`` package (Xie C, McCullum L, Johnson A, Pollard T, Gow B,
Moody B. Waveform Database Software Package (WFDB) for Python, PhysioNet). Signals are
resampled with :func:`wfdb.processing.resample_sig` (Fourier-domain resampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import RecordError

#: Sampling rate (Hz) every signal is brought to before beats are cut and drawn. It is the
#: rate of the MIT-BIH Arrhythmia Database.
TARGET_FS: float = 360.0

#: Sampling rates (Hz) accepted from users' records.
MIN_FS: float = 100.0
MAX_FS: float = 1000.0

#: Preferred lead. MIT-BIH records 102 and 104 have no MLII (both channels are precordial:
#: V5 and V2); the first channel (V5) is used instead and the lead name is recorded.
PREFERRED_LEAD: str = "MLII"


@dataclass(frozen=True)
class Annotations:
    """Reference annotations of a record, at the record's (resampled) sampling rate.

    Attributes:
        sample: int64 array, shape (n,): annotation positions in samples.
        symbol: list of n MIT-BIH annotation symbols (``"N"``, ``"V"``, ``"["``, ...).
        aux_note: list of n auxiliary notes (rhythm labels such as ``"(VFL"``).
    """

    sample: np.ndarray
    symbol: list[str]
    aux_note: list[str]


@dataclass(frozen=True)
class ECGRecord:
    """One lead of an ECG record.

    Attributes:
        name: record name (e.g. ``"100"``, ``"cu01"``).
        signal: float32 array, shape (n_samples,), in mV, at ``fs`` Hz.
        fs: sampling rate in Hz.
        lead: name of the lead used (``"MLII"`` where present).
        original_fs: sampling rate of the file, in Hz, before any resampling.
        annotations: reference annotations, resampled to ``fs``, or ``None``.
        channels: names of all the channels the file holds (``("MLII", "V5")``), from which
            ``lead`` was chosen; empty for a signal given as numbers.
        other_signal: float32 array, shape (n_samples,), in mV at ``fs`` Hz: a second lead of
            the record (the file's first other channel; for WFDB read only when asked for),
            for QRS detection on two leads; ``None`` otherwise or where the record has one.
        other_lead: name of that second lead (``""`` where there is none).
    """

    name: str
    signal: np.ndarray
    fs: float
    lead: str
    original_fs: float
    annotations: Annotations | None = None
    channels: tuple[str, ...] = ()
    other_signal: np.ndarray | None = None
    other_lead: str = ""

    @property
    def duration_s(self) -> float:
        """Length of the record in seconds."""
        return len(self.signal) / self.fs


def is_preferred_lead(name: str) -> bool:
    """Whether a channel label names lead MLII, the lead the models were trained on (the words
    "ECG", "EKG" and "lead", case and separators ignored: "ECG MLII" and "mlii" are MLII)."""
    import re

    text = re.sub(r"\b(ecg|ekg|lead)\b", " ", str(name).lower())
    return re.sub(r"[\s_\-:.]+", "", text) == PREFERRED_LEAD.lower()


def choose_lead(sig_names: list[str], lead: str | None = None) -> int:
    """Pick a channel by its lead name in a record's signal names.

    With ``lead=None`` (automatic) the channel named MLII is taken, wherever it sits: MIT-BIH
    record 114 stores its channels swapped (V5 first, MLII second), and matching by name picks
    MLII there too. Where there is no MLII (records 102 and 104 have V5 and V2; one-channel
    files name theirs "ECG"), the first channel is used. A lead asked for by name must exist.

    Args:
        sig_names: the record's channel names, e.g. ``["MLII", "V5"]``.
        lead: lead name to take (case-insensitive), or ``None`` for the automatic choice.

    Returns:
        Channel index (0-based).

    Raises:
        RecordError: if the record has no channels, or no channel named ``lead``.
    """
    if not sig_names:
        raise RecordError("The record has no signal channels.")
    lowered = [str(n).strip().lower() for n in sig_names]
    wanted = (lead or PREFERRED_LEAD).strip().lower()
    if wanted in lowered:
        return lowered.index(wanted)
    if lead is None:
        return 0
    raise RecordError(f"The record has no lead '{lead}'; its channels are "
                      f"{', '.join(str(n) for n in sig_names)}.")


def resample_to(signal: np.ndarray, fs: float, target_fs: float = TARGET_FS
                ) -> tuple[np.ndarray, float]:
    """Resample a signal to ``target_fs`` (Fourier method of ``wfdb.processing.resample_sig``).

    Args:
        signal: float array, shape (n,), any unit.
        fs: its sampling rate in Hz.
        target_fs: wanted sampling rate in Hz (default 360 Hz).

    Returns:
        ``(float32 signal of length round(n * target_fs / fs), target_fs)``.

    Raises:
        RecordError: if ``fs`` is outside 100-1000 Hz or the signal is empty.
    """
    if not (MIN_FS <= fs <= MAX_FS):
        raise RecordError(
            f"Sampling rate {fs:g} Hz is outside the supported range "
            f"{MIN_FS:g}-{MAX_FS:g} Hz.")
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1 or signal.size == 0:
        raise RecordError("The signal must be a non-empty one-dimensional array.")
    if abs(fs - target_fs) < 1e-9:
        return signal.astype(np.float32), float(target_fs)
    from wfdb import processing  # imported here: pulls in scipy

    new_sig, _ = processing.resample_sig(signal, fs, target_fs)
    return new_sig.astype(np.float32), float(target_fs)


def read_record(path: str | Path, *, lead: str | None = None, annotator: str | None = "atr",
                target_fs: float = TARGET_FS, sampfrom: int = 0,
                sampto: int | None = None, other_lead: bool = False) -> ECGRecord:
    """Read one lead of a WFDB record (and its annotations), resampled to ``target_fs``.

    Only the chosen lead is read from the signal file, and only samples ``sampfrom`` to
    ``sampto``: a 24-hour Holter record can be read a stretch at a time
    (:func:`ecg_core.analysis.classify_record_file`).

    Args:
        path: record path without extension, e.g. ``"../shared/mitdb/100"``.
        lead: lead name to read, or ``None`` for MLII where there is one, else the first
            channel; see :func:`choose_lead`.
        annotator: annotation file extension (``"atr"``), or ``None`` to skip annotations.
            A missing annotation file is not an error: ``annotations`` is then ``None``.
        target_fs: sampling rate of the returned signal in Hz.
        sampfrom, sampto: the stretch to read, in samples of the file (``sampto=None``: to the
            end). Annotation positions are counted from ``sampfrom``.
        other_lead: read a second lead too (the file's first channel other than ``lead``),
            into ``other_signal``, for QRS detection on two leads and the readings that use it.

    Returns:
        An :class:`ECGRecord` with the signal in mV (physical units of the header).

    Raises:
        RecordError: if the header or signal file is missing or unreadable, there is no such
            lead, the stretch is empty, the sampling rate is outside 100-1000 Hz, or the
            signal holds no finite samples.
    """
    return _read_record(path, lead=lead, annotator=annotator, target_fs=target_fs,
                        sampfrom=sampfrom, sampto=sampto, other_lead=other_lead)


def record_header(path: str | Path) -> tuple[int, float, tuple[str, ...]]:
    """Length, sampling rate and channel names of a WFDB record, from its header alone.

    Returns:
        ``(samples, fs, channel_names)``: the signal length in samples of the file, the
        sampling rate in Hz, the channel names.

    Raises:
        RecordError: if the header is missing or unreadable.
    """
    header = _read_header(record_base(path))
    return int(header.sig_len or 0), float(header.fs), tuple(map(str, header.sig_name or []))


def _read_header(base: str, shown: str | None = None):
    """wfdb's header of the record ``base`` (path without extension), naming it ``shown`` in
    messages; raises :class:`RecordError` where it is missing or unreadable."""
    import wfdb

    shown = shown or base
    if not Path(base + ".hea").is_file():
        raise RecordError(f"Record header '{shown}.hea' not found.")
    try:
        return wfdb.rdheader(base)
    except Exception as exc:  # wfdb raises many types for malformed files
        raise RecordError(f"'{Path(shown).name}.hea' is not a readable WFDB header "
                          f"({_plain(exc, base)}).") from exc


def _read_record(path: str | Path, *, lead: str | None, annotator: str | None,
                 target_fs: float, shown_name: str | None = None, sampfrom: int = 0,
                 sampto: int | None = None, other_lead: bool = False) -> ECGRecord:
    """:func:`read_record`, naming the record ``shown_name`` in messages (an upload's files
    live in a temporary folder whose path means nothing to the person who sent them)."""
    import wfdb

    base = record_base(path)
    shown = shown_name or base
    header = _read_header(base, shown)
    missing = sorted({f for f in (header.file_name or []) if f}
                     - {p.name for p in Path(base).parent.iterdir()})
    if missing:
        raise RecordError(f"The signal file {', '.join(missing)} named in "
                          f"'{Path(shown).name}.hea' is missing: add it"
                          + (" to the upload." if shown_name else "."))
    names = list(header.sig_name or [])
    channel = choose_lead(names, lead) if names else 0
    length = int(header.sig_len or 0)
    stop = length if sampto is None else min(int(sampto), length)
    if not 0 <= sampfrom < stop:
        raise RecordError(f"Record '{Path(shown).name}' holds no samples from {sampfrom} to "
                          f"{stop}.")
    other = next((i for i in range(len(names)) if i != channel), None) if other_lead else None
    try:
        # the chosen channel only (and a second where asked): a two-channel 24-hour record
        # would double the memory
        rec = wfdb.rdrecord(base, sampfrom=int(sampfrom), sampto=stop,
                            channels=(sorted({channel, other}) if other is not None
                                      else [channel]) if names else None)
    except Exception as exc:  # wfdb raises many types for malformed files
        raise RecordError(f"Could not read WFDB record '{Path(shown).name}' (the header "
                          f"does not match its signal file?): {_plain(exc, base)}") from exc
    if rec.p_signal is None or rec.p_signal.size == 0:
        raise RecordError(f"Record '{Path(shown).name}' holds no signal samples.")
    column = 0 if other is None or channel < other else 1
    signal = _filled(rec.p_signal[:, column])
    if signal is None:
        raise RecordError(f"Record '{Path(shown).name}' lead {names[channel]} holds no "
                          "finite samples.")
    second = None if other is None else _filled(rec.p_signal[:, 1 - column])
    fs = float(rec.fs)
    annotations = None
    if annotator:
        annotations = _read_ann(base, annotator, fs, target_fs, len(signal), sampfrom=sampfrom)
    new_sig, _ = resample_to(signal, fs, target_fs)
    new_other = None if second is None else resample_to(second, fs, target_fs)[0]
    del rec, signal, second
    return ECGRecord(name=Path(base).name, signal=new_sig, fs=float(target_fs),
                     lead=str(names[channel]) if names else "unknown", original_fs=fs,
                     annotations=annotations, channels=tuple(str(n) for n in names),
                     other_signal=new_other,
                     other_lead=str(names[other]) if new_other is not None else "")


def _filled(signal: np.ndarray) -> np.ndarray | None:
    """A lead with its odd invalid sample filled by linear interpolation; ``None`` where it
    holds no finite sample at all."""
    ok = np.isfinite(signal)
    if not ok.any():
        return None
    if ok.all():
        return signal
    idx = np.arange(len(signal))
    return np.interp(idx, idx[ok], signal[ok])


def _plain(exc: BaseException, base: str) -> str:
    """An exception's text with a folder path removed (it may be a server's temporary one)."""
    folder = str(Path(base).parent)
    return str(exc).replace(folder + "/", "").replace(folder, "")


def record_base(path: str | Path) -> str:
    """A WFDB record's path without extension, from the record path or one of its ``.hea``,
    ``.dat`` or ``.atr`` files (``"data/208.hea"`` -> ``"data/208"``)."""
    path = Path(path)
    return str(path.with_suffix("")) if path.suffix in {".hea", ".dat", ".atr"} else str(path)


def _read_ann(base: str, annotator: str, fs: float, target_fs: float,
              sig_len: int, sampfrom: int = 0) -> Annotations | None:
    """Annotations of a record at ``target_fs``, or None where the file is absent; with
    ``sampfrom``, those of the ``sig_len`` samples from there, counted from there."""
    import wfdb

    try:
        ann = wfdb.rdann(base, annotator, sampfrom=int(sampfrom),
                         sampto=int(sampfrom + sig_len), shift_samps=True)
    except FileNotFoundError:
        return None
    except Exception as exc:
        raise RecordError(f"Could not read the annotation file '{Path(base).name}.{annotator}' "
                          f"({_plain(exc, base)}).") from exc
    sample = np.asarray(ann.sample, dtype=np.float64)
    n_target = int(round(sig_len * target_fs / fs))
    sample = np.clip(np.round(sample * target_fs / fs), 0, max(n_target - 1, 0)).astype(np.int64)
    aux = [a or "" for a in (ann.aux_note or [""] * len(ann.symbol))]
    return Annotations(sample=sample, symbol=list(ann.symbol), aux_note=aux)


def read_annotations(path: str | Path, annotator: str = "atr",
                     target_fs: float = TARGET_FS) -> tuple[Annotations, int]:
    """Read a record's annotations and length without its signal (fast).

    Args:
        path: record path without extension.
        annotator: annotation file extension.
        target_fs: sampling rate (Hz) to express positions in.

    Returns:
        ``(annotations, n_samples)``: positions and signal length in samples at ``target_fs``
        (the same positions :func:`read_record` gives).

    Raises:
        RecordError: if the header or annotation file is missing or unreadable.
    """
    import wfdb

    base = record_base(path)
    try:
        header = wfdb.rdheader(base)
    except Exception as exc:
        raise RecordError(f"Could not read WFDB header '{base}.hea': {exc}") from exc
    fs = float(header.fs)
    if not (MIN_FS <= fs <= MAX_FS):
        raise RecordError(f"Sampling rate {fs:g} Hz is outside {MIN_FS:g}-{MAX_FS:g} Hz.")
    ann = _read_ann(base, annotator, fs, target_fs, int(header.sig_len))
    if ann is None:
        raise RecordError(f"Annotation file '{base}.{annotator}' not found.")
    return ann, int(round(header.sig_len * target_fs / fs))


def list_records(folder: str | Path) -> list[str]:
    """Names of the records in a WFDB database folder.

    Reads the ``RECORDS`` file where there is one, else lists the ``.hea`` files.

    Args:
        folder: database folder.

    Returns:
        Sorted list of record names.

    Raises:
        RecordError: if the folder does not exist or holds no records.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordError(f"Database folder not found: {folder}")
    listing = folder / "RECORDS"
    if listing.is_file():
        names = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    else:
        names = sorted(p.stem for p in folder.glob("*.hea"))
    names = [n for n in names if (folder / f"{n}.hea").is_file()]
    if not names:
        raise RecordError(f"No WFDB records (.hea files) in {folder}")
    return sorted(names)


def download_database(name: str, out_dir: str | Path) -> Path:
    """Download a PhysioNet database with ``wfdb.dl_database`` (needs internet).

    Args:
        name: PhysioNet database slug: ``"mitdb"`` or ``"cudb"``.
        out_dir: folder to write into (``data/mitdb`` by convention; git-ignored).

    Returns:
        The folder holding the downloaded records.

    Raises:
        RecordError: if the download fails (no internet, unknown database).
    """
    import wfdb

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        wfdb.dl_database(name, dl_dir=str(out))
    except Exception as exc:
        raise RecordError(_download_failure(f"database '{name}'", exc)) from exc
    return out


def _download_failure(what: str, exc: BaseException) -> str:
    """A one-line message for a failed PhysioNet download: no raw network errors."""
    text = f"{type(exc).__name__} {exc}"
    offline = any(k in text for k in ("NameResolution", "ConnectionError", "Max retries",
                                      "Temporary failure", "Network is unreachable",
                                      "timed out", "ConnectTimeout"))
    if offline:
        return (f"Could not download {what} from PhysioNet: there is no internet connection "
                "(or physionet.org cannot be reached). Upload the record's files instead, or "
                "pick one of the bundled example records.")
    return f"Could not download {what} from PhysioNet ({type(exc).__name__})."


def download_record(database: str, record: str, out_dir: str | Path) -> Path:
    """Download one record (header, signal, reference annotations) from PhysioNet with
    ``wfdb.dl_database`` (needs internet).

    Args:
        database: PhysioNet slug, e.g. ``"mitdb"``.
        record: record name, e.g. ``"208"``.
        out_dir: folder to write into (git-ignored ``data/mitdb`` by convention).

    Returns:
        Path of the record without extension.

    Raises:
        RecordError: if the download fails.
    """
    import wfdb

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        wfdb.dl_database(database, dl_dir=str(out), records=[record], annotators=["atr"])
    except Exception as exc:
        raise RecordError(_download_failure(f"record {database}/{record}", exc)) from exc
    return out / record


#: (database, record, start in s, end in s)
EXCERPTS: tuple[tuple[str, str, float, float], ...] = (
    ("mitdb", "100", 0.0, 300.0),
    ("mitdb", "207", 1500.0, 1800.0),
    ("mitdb", "208", 0.0, 300.0),
    ("mitdb", "232", 0.0, 300.0),
    ("cudb", "cu09", 180.0, 360.0),
)


def write_excerpt(source: Path, out_dir: Path, record: str, start_s: float, end_s: float
                  ) -> list[Path]:
    """Cut ``record`` of the database folder ``source`` to [start_s, end_s) and write it.

    Args:
        source: database folder holding ``record.hea``, ``.dat`` and ``.atr``.
        out_dir: folder to write the excerpt into (created).
        record: record name.
        start_s, end_s: the excerpt's limits in seconds.

    Returns:
        The files written.
    """
    import numpy as np
    import wfdb

    header = wfdb.rdheader(str(source / record))
    fs = float(header.fs)
    a, b = int(round(start_s * fs)), min(int(round(end_s * fs)), int(header.sig_len))
    rec = wfdb.rdrecord(str(source / record), sampfrom=a, sampto=b, physical=False)
    ann = wfdb.rdann(str(source / record), "atr", sampfrom=a, sampto=b - 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    minutes = f"{int(start_s // 60)}:{int(start_s % 60):02d}-{int(end_s // 60)}:{int(end_s % 60):02d}"
    wfdb.wrsamp(record, fs=fs, units=rec.units, sig_name=rec.sig_name, d_signal=rec.d_signal,
                fmt=rec.fmt, adc_gain=rec.adc_gain, baseline=rec.baseline,
                comments=[f"Excerpt {minutes} of PhysioNet {source.name} record {record} "
                          "(ODC-By 1.0)", *(rec.comments or [])], write_dir=str(out_dir))
    keep = np.asarray(ann.sample) - a
    wfdb.wrann(record, "atr", keep, symbol=ann.symbol, subtype=ann.subtype, chan=ann.chan,
               num=ann.num, aux_note=ann.aux_note, fs=fs, write_dir=str(out_dir))
    return [out_dir / f"{record}.{ext}" for ext in ("hea", "dat", "atr")]


def ensure_excerpts(out_dir: str | Path, shared: str | Path | None = None) -> list[str]:
    """Make the short real-record excerpts of :data:`EXCERPTS` where they are missing.

    The raw PhysioNet files are not kept in the repository: each excerpt is cut from the
    whole record in ``shared/<database>`` when that folder holds it, else from the record
    downloaded from PhysioNet (``download_record``; needs internet) into
    ``out_dir/<database>/.download``.

    Args:
        out_dir: folder to hold ``mitdb/`` and ``cudb/`` excerpts (``tests/data``).
        shared: folder holding the whole databases (``../shared``), or ``None``.

    Returns:
        The names (``database/record``) of the excerpts that could not be made, with no
        database and no internet; empty when every excerpt is there.
    """
    out = Path(out_dir)
    missing = []
    for database, record, start, end in EXCERPTS:
        target = out / database
        if (target / f"{record}.hea").is_file() and (target / f"{record}.atr").is_file():
            continue
        source = Path(shared) / database if shared is not None else None
        try:
            if source is None or not (source / f"{record}.hea").is_file():
                source = download_record(database, record, target / ".download").parent
            write_excerpt(source, target, record, start, end)
        except (RecordError, OSError, ValueError):
            missing.append(f"{database}/{record}")
    for database in {d for d, *_ in EXCERPTS}:
        names = [r for d, r, *_ in EXCERPTS if d == database
                 and (out / d / f"{r}.hea").is_file()]
        if names:
            (out / database / "RECORDS").write_text("\n".join(names) + "\n")
    return missing


#: Shortest signal (s) worth classifying: a few beats with their RR intervals.
MIN_DURATION_S: float = 5.0

#: Largest uploaded record (all files together, bytes).
MAX_RECORD_BYTES: int = 50 * 1024 * 1024

#: Most members of a zip holding one uploaded record.
MAX_RECORD_ZIP_MEMBERS: int = 50

#: File extensions accepted in an uploaded WFDB record.
WFDB_EXTENSIONS: tuple[str, ...] = (".hea", ".dat", ".atr", ".qrs", ".ecg", ".ari")


def record_from_signal(signal, fs: float, *, name: str = "upload", lead: str = "unknown",
                       target_fs: float = TARGET_FS,
                       annotations: Annotations | None = None) -> ECGRecord:
    """Check a signal given as numbers and bring it to ``target_fs``.

    Args:
        signal: array-like, shape (n,), in mV.
        fs: its sampling rate in Hz (100-1000).
        name, lead: labels for the result.
        target_fs: sampling rate of the result in Hz.
        annotations: reference annotations at ``fs`` (resampled with the signal), or None.

    Returns:
        An :class:`ECGRecord` at ``target_fs``.

    Raises:
        RecordError: if the signal is not 1-D numbers, holds NaN or infinite values, is
            shorter than :data:`MIN_DURATION_S`, is a flat line (peak-to-peak under 0.05 mV),
            or ``fs`` is outside 100-1000 Hz.
    """
    try:
        x = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"The signal is not a sequence of numbers ({exc}).") from exc
    if x.ndim != 1:
        raise RecordError(f"Need one signal column; got an array of shape {x.shape}.")
    if not np.isfinite(fs) or not (MIN_FS <= fs <= MAX_FS):
        raise RecordError(f"Sampling rate {fs:g} Hz is outside {MIN_FS:g}-{MAX_FS:g} Hz.")
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argmax(bad))
        raise RecordError(f"The signal holds {int(bad.sum())} missing (NaN) or infinite "
                          f"value(s), the first at sample {first}.")
    if len(x) < MIN_DURATION_S * fs:
        raise RecordError(f"The signal is {len(x) / fs:.1f} s long; at least "
                          f"{MIN_DURATION_S:g} s is needed.")
    if np.ptp(x) < 0.05:
        raise RecordError("The signal is a flat line (under 0.05 mV peak to peak): check the "
                          "units (mV, or ADC units with the right gain) and the lead.")
    new_sig, _ = resample_to(x, fs, target_fs)
    ann = None
    if annotations is not None:
        n = len(new_sig)
        sample = np.clip(np.round(annotations.sample * target_fs / fs), 0, n - 1)
        ann = Annotations(sample.astype(np.int64), list(annotations.symbol),
                          list(annotations.aux_note))
    return ECGRecord(name=name, signal=np.asarray(new_sig, dtype=np.float32),
                     fs=float(target_fs), lead=lead, original_fs=float(fs), annotations=ann)


def read_signal_csv(data: bytes, fs: float | None = None, *, units: str = "mV",
                    gain: float = 200.0, baseline: float = 0.0, name: str = "upload",
                    target_fs: float = TARGET_FS) -> ECGRecord:
    """Read an ECG signal from CSV/TXT text: one column of samples, or a time column (s)
    followed by a signal column. A header line is allowed; the delimiter (comma, semicolon,
    tab or spaces) is detected.

    Args:
        data: the file's bytes (UTF-8 or ASCII).
        fs: sampling rate in Hz; may be left out only when a time column gives it.
        units: ``"mV"``, or ``"adc"`` for raw converter units, converted as
            (value - baseline) / gain (WFDB's convention; MIT-BIH: gain 200 per mV,
            baseline 1024).
        gain, baseline: the ADC conversion (ignored for mV).
        name: record name for the result.
        target_fs: sampling rate of the result in Hz.

    Returns:
        An :class:`ECGRecord` at ``target_fs`` (no annotations).

    Raises:
        RecordError: for undecodable or empty text, text or missing values among the numbers,
            no sampling rate, or any reason of :func:`record_from_signal`.
    """
    import csv

    if not data:
        raise RecordError("The file is empty (0 bytes).")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(f"The file is {len(data) / 2**20:.0f} MB; the limit is "
                          f"{MAX_RECORD_BYTES / 2**20:.0f} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError("The file is not text (CSV or TXT expected).") from exc
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise RecordError("The file holds no data lines.")
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t ")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","

    def split(line: str) -> list[str]:
        return line.split() if delim == " " else [c.strip() for c in line.split(delim)]

    def numeric(cells: list[str]) -> bool:
        try:
            [float(c) for c in cells]
            return True
        except ValueError:
            return False

    start = 0 if numeric(split(lines[0])) else 1
    rows = [split(ln) for ln in lines[start:]]
    if not rows:
        raise RecordError("The file has a header but no data lines.")
    width = len(rows[0])
    values = np.empty((len(rows), width), dtype=np.float64)
    for i, cells in enumerate(rows):
        if len(cells) != width:
            raise RecordError(f"Line {i + start + 1} has {len(cells)} column(s); the first "
                              f"data line has {width}.")
        try:
            values[i] = [float(c) for c in cells]
        except ValueError:
            raise RecordError(f"Line {i + start + 1} holds text where a number is expected: "
                              f"{', '.join(cells)[:60]!r}.") from None
    if width == 1:
        signal = values[:, 0]
        if fs is None:
            raise RecordError("Give the sampling rate in Hz: the file has no time column.")
    else:
        t, signal = values[:, 0], values[:, 1]
        steps = np.diff(t)
        if fs is None:
            if len(steps) == 0 or not np.all(steps > 0):
                raise RecordError("The time column does not increase; give the sampling rate.")
            # mean rate over the whole column, to 0.01 Hz (times are usually rounded)
            fs = round(float((len(t) - 1) / (t[-1] - t[0])), 2)
    if units == "adc":
        if gain == 0:
            raise RecordError("The ADC gain must not be zero.")
        signal = (signal - baseline) / gain
    elif units != "mV":
        raise RecordError(f"Units must be 'mV' or 'adc', not {units!r}.")
    return record_from_signal(signal, float(fs), name=name, lead="CSV", target_fs=target_fs)


def read_uploaded_record(files: dict[str, bytes], *, lead: str | None = None,
                         annotator: str = "atr", target_fs: float = TARGET_FS) -> ECGRecord:
    """Read a WFDB record uploaded as files (``.hea`` + ``.dat`` [+ ``.atr``]) or one zip.

    The files are written into a private temporary folder under their base names only (any
    folder part of a name is dropped), read with :func:`read_record`, and deleted.

    Args:
        files: {file name: bytes}; a single ``.zip`` is opened in memory first.
        lead: lead name, or ``None`` for MLII where there is one; see :func:`choose_lead`.
        annotator: annotation extension to use when such a file is present.
        target_fs: sampling rate of the result in Hz.

    Returns:
        An :class:`ECGRecord`; ``annotations`` is None when no annotation file was given; a
        second lead, where the record has one, in ``other_signal`` (two-lead QRS detection).

    Raises:
        RecordError: for a bad or hostile zip (:func:`ecg_core.archives.open_zip`: ``..``
            paths, links, zip bombs), too many bytes, not exactly one header, unexpected file
            types, a signal file the header names but the upload lacks, or a header that
            does not match its data. Messages name the uploaded files, never a server path.
    """
    import re
    import tempfile

    total = sum(len(b) for b in files.values())
    if total > MAX_RECORD_BYTES:
        raise RecordError(f"The upload is {total / 2**20:.0f} MB; the limit is "
                          f"{MAX_RECORD_BYTES / 2**20:.0f} MB.")
    if len(files) == 1 and next(iter(files)).lower().endswith(".zip"):
        from .archives import open_zip, read_member

        zf, infos = open_zip(next(iter(files.values())), max_members=MAX_RECORD_ZIP_MEMBERS,
                             max_member_bytes=MAX_RECORD_BYTES,
                             max_total_bytes=MAX_RECORD_BYTES, error=RecordError)
        files = {i.filename: read_member(zf, i, max_member_bytes=MAX_RECORD_BYTES,
                                         error=RecordError)
                 for i in infos if not Path(i.filename).name.startswith(".")}
    clean: dict[str, bytes] = {}
    for raw_name, payload in files.items():
        base = Path(str(raw_name).replace("\\", "/")).name
        if not re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9]+", base):
            raise RecordError(f"Unexpected file name '{raw_name}'.")
        if Path(base).suffix.lower() not in WFDB_EXTENSIONS:
            raise RecordError(f"'{base}' is not part of a WFDB record (expected "
                              f"{', '.join(WFDB_EXTENSIONS)}).")
        clean[base] = payload
    headers = [n for n in clean if n.lower().endswith(".hea")]
    if len(headers) != 1:
        raise RecordError(f"Upload exactly one record header (.hea); got {len(headers)}.")
    record = Path(headers[0]).stem
    with tempfile.TemporaryDirectory(prefix="ecg-record-") as tmp:
        for n, payload in clean.items():
            (Path(tmp) / n).write_bytes(payload)
        has_ann = (Path(tmp) / f"{record}.{annotator}").is_file()
        rec = _read_record(Path(tmp) / record, lead=lead,
                           annotator=annotator if has_ann else None, target_fs=target_fs,
                           shown_name=record, other_lead=True)
    if rec.duration_s < MIN_DURATION_S:
        raise RecordError(f"The record is {rec.duration_s:.1f} s long; at least "
                          f"{MIN_DURATION_S:g} s is needed.")
    return rec
