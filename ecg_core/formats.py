"""Recordings in the file formats ECG software writes, beside WFDB and plain CSV.

* **EDF, EDF+ and BDF** (European Data Format; BioSemi's 24-bit variant), read with
  `edfio <https://github.com/the-siesta-group/edfio>`_: the ECG channel is chosen by its label
  (:func:`choose_ecg_channel`), its physical dimension gives the unit (V, mV, uV).
* **Apple Watch ECG export** (the Health app's CSV: header lines such as ``Sample Rate,512
  Hertz``, ``Lead,Lead I`` and ``Unit,µV``, then one value per line; a single lead I at 512
  Hz). No maintained library reads it; its layout is simple enough for the standard ``csv``
  module.
* **Hospital and device formats**, read with `ECGDataKit <https://ecgdatakit.ummisco.fr>`_
  (Fall A., UMMISCO/IRD; Apache-2.0), one maintained library for many of them, each told
  from the file's content: DICOM waveform ECG (through pydicom), HL7 aECG XML (ANSI/HL7 V3
  ECG R1-2004, the FDA's format), SCP-ECG (EN 1064 / ISO 11073-91064, uncompressed and
  Huffman-coded), AliveCor Kardia JSON, ISHNE Holter, MFER, GE MUSE XML, Philips Sierra XML
  and Mortara ELI XML (:data:`ECGDATAKIT_FORMATS`). Leads come out in mV from the scale each
  file states; a file without one is refused.

:func:`sniff_format` tells the formats apart from the bytes themselves (EDF's header begins
with ``"0"`` and seven spaces, BDF's with byte 255 and ``BIOSEMI``), not from the file name.
Every reader returns an :class:`~ecg_core.records.ECGRecord` at the model's sampling rate, with
``channels`` listing what the file holds, and raises :class:`~ecg_core.errors.RecordError`
with one plain sentence for a file it cannot read.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path, PurePath

import numpy as np

from .errors import RecordError
from .records import PREFERRED_LEAD, TARGET_FS, ECGRecord, record_from_signal, resample_to

#: Formats read here, with a name for people.
FORMATS: dict[str, str] = {
    "edf": "EDF / EDF+",
    "bdf": "BDF (BioSemi)",
    "apple-csv": "Apple Watch ECG export (CSV)",
    "dicom": "DICOM waveform ECG",
    "hl7-aecg": "HL7 aECG (XML)",
    "scp-ecg": "SCP-ECG",
    "kardia": "AliveCor Kardia (JSON)",
    "ishne": "ISHNE Holter",
    "mfer": "MFER",
    "ge-muse": "GE MUSE (XML)",
    "philips-sierra": "Philips Sierra (XML)",
    "mortara": "Mortara ELI (XML)",
}

#: The formats read with ECGDataKit: its format name -> the key of :data:`FORMATS`. (Its EDF
#: and WFDB readers are not used: edfio and wfdb read those here.)
ECGDATAKIT_FORMATS: dict[str, str] = {
    "DICOM Waveform": "dicom",
    "HL7 aECG": "hl7-aecg",
    "SCP-ECG": "scp-ecg",
    "AliveCor Kardia JSON": "kardia",
    "ISHNE Holter": "ishne",
    "MFER": "mfer",
    "GE MUSE XML": "ge-muse",
    "Philips Sierra XML": "philips-sierra",
    "Mortara ELI (EL250/ELI280)": "mortara",
}

#: File extensions of the formats (the Record page's uploader, the CLI).
FORMAT_EXTENSIONS: tuple[str, ...] = (".edf", ".bdf", ".csv", ".dcm", ".xml", ".scp",
                                      ".json", ".ecg", ".mwf", ".mfer")

_UNITS_TO_MV = {"v": 1000.0, "mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
                "microvolts": 1e-3, "millivolts": 1.0, "volts": 1000.0}


def sniff_format(data: bytes, name: str = "upload") -> str | None:
    """The format of a recording's bytes: a key of :data:`FORMATS`, or ``None`` for anything
    else (WFDB, plain CSV, ...).

    EDF, BDF and the Apple Watch export are told by their first bytes; the others by
    ECGDataKit's detection, which looks at the content (magic numbers, XML roots, JSON keys).

    Args:
        data: the file's bytes.
        name: the file's name; only its extension is used, as a hint to ECGDataKit.
    """
    return _own_format(data) or _ecgdatakit_format(data, name)


def _own_format(data: bytes) -> str | None:
    """``"edf"``, ``"bdf"`` or ``"apple-csv"`` from the first bytes, else ``None``."""
    if data[:8] == b"0       ":
        return "edf"
    if data[:8] == b"\xffBIOSEMI":
        return "bdf"
    head = data[:4096].decode("utf-8-sig", errors="replace")
    if re.search(r"^\s*\"?Sample Rate\"?\s*,", head, re.M | re.I) and \
            re.search(r"^\s*\"?(Lead|Unit)\"?\s*,", head, re.M | re.I):
        return "apple-csv"
    return None


def _suffix(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"


@contextmanager
def _as_file(data: bytes, name: str):
    """The bytes as a file in a private temporary folder (ECGDataKit reads paths)."""
    with tempfile.TemporaryDirectory(prefix="ecg-upload-") as folder:
        path = Path(folder) / f"recording{_suffix(name)}"
        path.write_bytes(data)
        yield path


def _ecgdatakit_format(data: bytes, name: str) -> str | None:
    with _as_file(data, name) as path:
        return _ecgdatakit_kind(path)


def _ecgdatakit_kind(path: Path) -> str | None:
    """The key of :data:`FORMATS` of a file ECGDataKit recognises, else ``None``."""
    try:
        from ecgdatakit.parsing.parser import FileParser
    except ImportError:  # an install without ECGDataKit reads the other formats
        return None
    try:
        found = FileParser.detect_format(path)
    except Exception:  # a detector that trips over odd bytes: not that format
        return None
    return ECGDATAKIT_FORMATS.get(found["name"]) if found else None


def choose_ecg_channel(labels: list[str], lead: str | None = None) -> int:
    """Pick the channel to classify from a file's channel labels.

    With ``lead`` given, the channel with that label (case and the words "ECG"/"EKG"/"Lead"
    ignored) is taken. Automatically: MLII where there is one; else lead II (the lead of a
    12-lead file that is closest to MLII); else the first channel whose label says ECG or EKG;
    else the first channel.

    Args:
        labels: the file's channel labels, e.g. ``["ECG I", "ECG II", "Resp"]``.
        lead: a label to take, or ``None`` for the automatic choice.

    Returns:
        The channel's index (0-based).

    Raises:
        RecordError: if there is no channel, or none with the label asked for.
    """
    if not labels:
        raise RecordError("The file holds no signal channel.")

    def norm(label: str) -> str:
        text = re.sub(r"\b(ecg|ekg|lead)\b", " ", str(label).lower())
        return re.sub(r"[\s_\-:.]+", "", text)

    names = [norm(x) for x in labels]
    if lead is not None:
        for i, (raw, n) in enumerate(zip(labels, names)):
            if str(raw).strip().lower() == lead.strip().lower() or n == norm(lead):
                return i
        raise RecordError(f"The file has no lead '{lead}'; its channels are "
                          f"{', '.join(str(x) for x in labels)}.")
    for wanted in (norm(PREFERRED_LEAD), "ii"):
        if wanted in names:
            return names.index(wanted)
    for i, raw in enumerate(labels):
        if re.search(r"\b(ecg|ekg)\b", str(raw).lower()):
            return i
    return 0


def _to_mv(unit: str, what: str) -> float:
    factor = _UNITS_TO_MV.get(unit.strip().lower().replace(" ", ""))
    if factor is None:
        raise RecordError(f"{what} is in '{unit or 'no unit'}'; volts, millivolts or "
                          "microvolts are needed.")
    return factor


def read_edf_bytes(data: bytes, *, name: str = "upload", lead: str | None = None,
                   target_fs: float = TARGET_FS) -> ECGRecord:
    """Read one ECG channel of an EDF, EDF+ or BDF file (edfio).

    Args:
        data: the file's bytes.
        name: the record's name (the file name without extension).
        lead: channel label to take, or ``None`` for :func:`choose_ecg_channel`'s choice.
        target_fs: sampling rate of the result in Hz.

    Returns:
        An :class:`ECGRecord` in mV at ``target_fs``, ``channels`` = the file's signal labels
        (annotation channels of EDF+ left out).

    Raises:
        RecordError: if the bytes are not a readable EDF/BDF file (truncated, a header that
            does not match its data), the chosen channel's unit is not a voltage, or the
            signal fails :func:`~ecg_core.records.record_from_signal`'s checks (sampling rate
            outside 100-1000 Hz, a flat line, under 5 s).
    """
    import edfio

    kind = _own_format(data)
    if kind not in ("edf", "bdf"):
        raise RecordError(f"'{name}' is not an EDF or BDF file (its header does not start as "
                          "one).")
    import warnings

    try:
        with warnings.catch_warnings():
            # edfio repairs a header that disagrees with the data and warns; a truncated
            # upload is refused instead, so that half a recording is never read as whole
            warnings.simplefilter("error", UserWarning)
            edf = edfio.read_edf(data) if kind == "edf" else edfio.read_bdf(data)
        signals = list(edf.signals)
        labels = [s.label.strip() or f"channel {i + 1}" for i, s in enumerate(signals)]
        index = choose_ecg_channel(labels, lead)
        chosen = signals[index]
        values = np.asarray(chosen.data, dtype=np.float64)
        fs = float(chosen.sampling_frequency)
        unit = chosen.physical_dimension
    except RecordError:
        raise
    except Exception as exc:  # edfio raises ValueError, IndexError, struct errors, ...
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise RecordError(f"'{name}' is not a readable {FORMATS[kind]} file ({reason}).") \
            from exc
    values = values * _to_mv(unit, f"Channel '{labels[index]}'")
    record = record_from_signal(values, fs, name=name, lead=labels[index], target_fs=target_fs)
    other = None
    for i, sig in enumerate(signals):
        if i != index and float(sig.sampling_frequency) == fs and len(sig.data) == len(values):
            try:
                other = (labels[i], np.asarray(sig.data, dtype=np.float64)
                         * _to_mv(sig.physical_dimension, labels[i]))
            except RecordError:  # not a voltage channel
                continue
            break
    return _with_other_lead(replace(record, channels=tuple(labels)), other, fs)


def _with_other_lead(record: ECGRecord, other: tuple[str, np.ndarray] | None,
                     fs: float) -> ECGRecord:
    """``record`` with a second lead (label, values in mV at ``fs``) for two-lead QRS
    detection, where it is all finite and as long as the chosen lead once resampled."""
    if other is None or not np.isfinite(other[1]).all():
        return record
    signal, _ = resample_to(other[1], fs, record.fs)
    if len(signal) != len(record.signal):
        return record
    return replace(record, other_signal=signal, other_lead=other[0])


def read_apple_watch_csv(data: bytes, *, name: str = "upload",
                         target_fs: float = TARGET_FS) -> ECGRecord:
    """Read an Apple Watch ECG export (the Health app's CSV).

    Header lines (``key,value``: ``Sample Rate,512 Hertz``, ``Lead,Lead I``, ``Unit,µV``, ...)
    come first; then one sample per line (a decimal comma inside quotes is accepted).

    Args:
        data: the file's bytes (UTF-8).
        name: the record's name.
        target_fs: sampling rate of the result in Hz.

    Returns:
        An :class:`ECGRecord` in mV at ``target_fs``; ``lead`` from the file (e.g. "Lead I").

    Raises:
        RecordError: if the sampling rate or unit is missing or unusable, a sample line is not
            a number, or the signal fails :func:`~ecg_core.records.record_from_signal`'s
            checks.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(f"'{name}' is not a text file (UTF-8).") from exc
    header: dict[str, str] = {}
    values: list[float] = []
    for row_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        first = cells[0]
        number = first.replace(",", ".") if len(cells) == 1 else first
        try:
            values.append(float(number))
            continue
        except ValueError:
            pass
        if values:
            raise RecordError(f"Line {row_no} of '{name}' is not a sample value: "
                              f"'{','.join(cells)[:40]}'.")
        if len(cells) >= 2 and not header.get(first.lower()):
            header[first.lower()] = ",".join(cells[1:])
    rate = header.get("sample rate", "")
    match = re.match(r"\s*([0-9]+(?:[.,][0-9]+)?)", rate)
    if not match:
        raise RecordError(f"'{name}' gives no sampling rate ('Sample Rate' line).")
    fs = float(match.group(1).replace(",", "."))
    unit = header.get("unit", "")
    if not unit:
        raise RecordError(f"'{name}' gives no unit ('Unit' line).")
    signal = np.asarray(values, dtype=np.float64) * _to_mv(unit, f"'{name}'")
    lead = header.get("lead", "").strip() or "Lead I"
    return record_from_signal(signal, fs, name=name, lead=lead, target_fs=target_fs)


def read_ecgdatakit_bytes(data: bytes, *, name: str = "upload", lead: str | None = None,
                          target_fs: float = TARGET_FS) -> ECGRecord:
    """Read one lead of a file in a format of :data:`ECGDATAKIT_FORMATS` (ECGDataKit).

    Args:
        data: the file's bytes.
        name: the file's name (its stem names the record; its extension is a hint to the
            format detection).
        lead: lead label to take (as ECGDataKit names leads: ``I``, ``II``, ``V1``, ...), or
            ``None`` for :func:`choose_ecg_channel`'s choice (lead II in a 12-lead file).
        target_fs: sampling rate of the result in Hz.

    Returns:
        An :class:`ECGRecord` in mV at ``target_fs``, ``channels`` = the file's lead labels.

    Raises:
        RecordError: if the bytes are in none of these formats, cannot be decoded (truncated,
            a broken structure or checksum), give no voltage scale for the chosen lead, or the
            signal fails :func:`~ecg_core.records.record_from_signal`'s checks.
    """
    with _as_file(data, name) as path:
        return _read_ecgdatakit_file(path, _ecgdatakit_kind(path), name=name, lead=lead,
                                     target_fs=target_fs)


def _read_ecgdatakit_file(path: Path, kind: str | None, *, name: str, lead: str | None,
                          target_fs: float) -> ECGRecord:
    """:func:`read_ecgdatakit_bytes` on the upload already written to ``path`` (whose format
    ECGDataKit told as ``kind``)."""
    import warnings

    from ecgdatakit.parsing.parser import FileParser

    stem = PurePath(name).stem or "upload"
    if kind is None or kind not in ECGDATAKIT_FORMATS.values():
        raise RecordError(f"'{stem}' is in none of the formats "
                          f"{', '.join(FORMATS[k] for k in ECGDATAKIT_FORMATS.values())}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = FileParser.parse(path, units="mV")
    except Exception as exc:  # ECGDataKit's CorruptedFileError, ValueError, ...
        reason = str(exc).replace(str(path.parent), "").replace(path.name, stem)
        reason = reason.splitlines()[0][:200] if reason else type(exc).__name__
        raise RecordError(f"'{stem}' is not a readable {FORMATS[kind]} file "
                          f"({reason}).") from exc
    leads = [ld for ld in parsed.leads if len(ld.samples)]
    labels = [ld.label.strip() or f"channel {i + 1}" for i, ld in enumerate(leads)]
    chosen = leads[choose_ecg_channel(labels, lead)]
    if chosen.is_raw or (chosen.units or "").lower() != "mv":
        raise RecordError(f"Lead '{chosen.label}' of '{stem}' gives no voltage scale, so its "
                          "values cannot be read in mV.")
    record = record_from_signal(np.asarray(chosen.samples, dtype=np.float64),
                                float(chosen.sampling_rate), name=stem, lead=chosen.label,
                                target_fs=target_fs)
    other = next(((labels[i], np.asarray(ld.samples, dtype=np.float64))
                  for i, ld in enumerate(leads)
                  if ld is not chosen and not ld.is_raw and (ld.units or "").lower() == "mv"
                  and float(ld.sampling_rate) == float(chosen.sampling_rate)
                  and len(ld.samples) == len(chosen.samples)), None)
    return _with_other_lead(replace(record, channels=tuple(labels)), other,
                            float(chosen.sampling_rate))


def read_recording_bytes(data: bytes, *, name: str = "upload", lead: str | None = None,
                         target_fs: float = TARGET_FS) -> ECGRecord | None:
    """Read a recording in any format of :data:`FORMATS`, told from its bytes.

    Args:
        data: the file's bytes.
        name: the file's name; its stem names the record, its extension is a hint to the
            format detection (the content decides).
        lead: channel or lead label to take, or ``None`` for :func:`choose_ecg_channel`'s
            choice.
        target_fs: sampling rate of the result in Hz.

    Returns:
        The :class:`ECGRecord`, or ``None`` when the bytes are in none of these formats (the
        caller then tries WFDB or plain CSV). Where the file holds another lead with the same
        sampling rate and a voltage unit, the first such is in ``other_signal`` (two-lead QRS
        detection).

    Raises:
        RecordError: as the format's reader does.
    """
    stem = PurePath(name).stem or "upload"
    own = _own_format(data)
    if own in ("edf", "bdf"):
        return read_edf_bytes(data, name=stem, lead=lead, target_fs=target_fs)
    if own == "apple-csv":
        return read_apple_watch_csv(data, name=stem, target_fs=target_fs)
    with _as_file(data, name) as path:  # one copy, for ECGDataKit to tell and to read
        kind = _ecgdatakit_kind(path)
        if kind is None:
            return None
        return _read_ecgdatakit_file(path, kind, name=name, lead=lead, target_fs=target_fs)
