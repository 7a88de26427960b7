"""Recordings in the file formats ECG software writes, beside WFDB and plain CSV.

* **EDF, EDF+ and BDF** (European Data Format; BioSemi's 24-bit variant), read with
  `edfio <https://github.com/the-siesta-group/edfio>`_: the ECG channel is chosen by its label
  (:func:`choose_ecg_channel`), its physical dimension gives the unit (V, mV, uV).
* **Apple Watch ECG export** (the Health app's CSV: header lines such as ``Sample Rate,512
  Hertz``, ``Lead,Lead I`` and ``Unit,µV``, then one value per line; a single lead I at 512
  Hz). No maintained library reads it; its layout is simple enough for the standard ``csv``
  module.

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
from dataclasses import replace

import numpy as np

from .errors import RecordError
from .records import PREFERRED_LEAD, TARGET_FS, ECGRecord, record_from_signal

#: Formats read here, with a name for people.
FORMATS: dict[str, str] = {
    "edf": "EDF / EDF+",
    "bdf": "BDF (BioSemi)",
    "apple-csv": "Apple Watch ECG export (CSV)",
}

#: File extensions of the formats (the Record page's uploader, the CLI).
FORMAT_EXTENSIONS: tuple[str, ...] = (".edf", ".bdf", ".csv")

_UNITS_TO_MV = {"v": 1000.0, "mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
                "microvolts": 1e-3, "millivolts": 1.0, "volts": 1000.0}


def sniff_format(data: bytes) -> str | None:
    """The format of a recording's bytes: ``"edf"``, ``"bdf"``, ``"apple-csv"``, or ``None``
    for anything else (WFDB, plain CSV, ...)."""
    if data[:8] == b"0       ":
        return "edf"
    if data[:8] == b"\xffBIOSEMI":
        return "bdf"
    head = data[:4096].decode("utf-8-sig", errors="replace")
    if re.search(r"^\s*\"?Sample Rate\"?\s*,", head, re.M | re.I) and \
            re.search(r"^\s*\"?(Lead|Unit)\"?\s*,", head, re.M | re.I):
        return "apple-csv"
    return None


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

    kind = sniff_format(data)
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
    return replace(record, channels=tuple(labels))


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


def read_recording_bytes(data: bytes, *, name: str = "upload", lead: str | None = None,
                         target_fs: float = TARGET_FS) -> ECGRecord | None:
    """Read a recording in any format of :data:`FORMATS`, told from its bytes.

    Returns:
        The :class:`ECGRecord`, or ``None`` when the bytes are in none of these formats (the
        caller then tries WFDB or plain CSV).

    Raises:
        RecordError: as the format's reader does.
    """
    kind = sniff_format(data)
    if kind in ("edf", "bdf"):
        return read_edf_bytes(data, name=name, lead=lead, target_fs=target_fs)
    if kind == "apple-csv":
        return read_apple_watch_csv(data, name=name, target_fs=target_fs)
    return None
