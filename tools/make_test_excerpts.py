"""Write the short real-record excerpts under ``tests/data/`` (and the app's one-click examples).

Each excerpt is a few minutes of a PhysioNet record, cut with ``wfdb`` and written back in WFDB
format with the record's own ADC values, gains, channel names and reference annotations
(positions shifted to the excerpt's start; annotations outside it dropped). Nothing is
filtered or resampled, so an excerpt reads exactly like the same minutes of the full record.

    python tools/make_test_excerpts.py [--shared ../shared] [--out tests/data] [--formats]

The excerpts (ODC-By 1.0; see ``tests/data/README.md`` for the attribution):

* mitdb 100, 0:00-5:00: normal beats and atrial premature beats.
* mitdb 207, 25:00-30:00: the longest ventricular flutter episode (``[`` ... ``]``, ``!``
  waves), the idioventricular rhythm after it (ventricular escape beats), left bundle
  branch block beats and a run of atrial premature beats (SVTA).
* mitdb 208, 0:00-5:00: normal, premature ventricular and fusion beats, couplets.
* mitdb 232, 0:00-5:00: right bundle branch block with atrial premature beats, long pauses.
* cudb cu09, 3:00-6:00: one whole ventricular fibrillation episode (3:59-4:57).

And, in ``tests/data/formats/``, the first 30 s of mitdb 208 in the file formats of other ECG
software, each written by that format's own library where one exists:

* ``208.edf`` (edfio's writer): both channels, labelled ``ECG MLII`` and ``ECG V1``, in mV.
* ``208.bdf`` (edfio's writer): the same in uV, 24 bits.
* ``208_12lead.edf`` (edfio): channels labelled as a 12-lead file labels them (``I``, ``II``,
  ``III``): MLII as ``II``, V1 as ``I`` and their difference as ``III``, for the default-lead
  test.
* ``208_apple.csv``: MLII resampled to 512 Hz (``scipy.signal.resample_poly``) in uV, with the
  header lines of the Health app's Apple Watch ECG export (no library writes that format).
* ``208.dcm`` (pydicom's writer): a DICOM General ECG waveform object, MLII as lead II and V1,
  int16 samples of 5 uV.
* ``208_aecg.xml`` (``xml.etree``): an HL7 aECG document, the same two leads.
* ``208.scp``: an uncompressed SCP-ECG record (Sections 0, 1, 3, 6; no maintained Python
  library writes SCP-ECG, so the standard's layout is written with ``struct``).
* ``208_kardia.json`` (``json``): MLII resampled to 300 Hz as an AliveCor Kardia recording.
* ``208_holter.ecg``: an ISHNE Holter file, MLII as lead II and V1 (no maintained Python
  library writes ISHNE; its layout is written with ``struct``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# one writer for this tool, the tests and the app
from ecg_core.records import EXCERPTS, ensure_excerpts  # noqa: E402


def write_format_fixtures(source: Path, out_dir: Path, record: str = "208",
                          seconds: float = 30.0) -> list[Path]:
    """Write the first ``seconds`` of ``record`` as EDF, BDF, a 12-lead-labelled EDF and an
    Apple Watch ECG CSV (see the module docstring)."""
    import edfio
    import numpy as np
    import wfdb
    from scipy.signal import resample_poly

    rec = wfdb.rdrecord(str(source / record), sampto=int(seconds * 360))
    fs = float(rec.fs)
    sig = rec.p_signal.astype(np.float64)
    names = list(rec.sig_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    note = f"PhysioNet mitdb {record} 0-{seconds:g}s ODC-By"

    def signal(x, label, unit, scale):
        return edfio.EdfSignal(x * scale, fs, label=label, physical_dimension=unit,
                               physical_range=(float(x.min() * scale) - 1,
                                               float(x.max() * scale) + 1))

    written = []
    edf = edfio.Edf([signal(sig[:, i], f"ECG {n}", "mV", 1.0) for i, n in enumerate(names)],
                    recording=edfio.Recording(additional=(note.replace(" ", "_"),)))
    edf.write(out_dir / f"{record}.edf")
    written.append(out_dir / f"{record}.edf")
    bdf = edfio.Bdf([edfio.BdfSignal(sig[:, i] * 1000, fs, label=n, physical_dimension="uV",
                                     physical_range=(float(sig[:, i].min() * 1000) - 1,
                                                     float(sig[:, i].max() * 1000) + 1))
                     for i, n in enumerate(names)])
    bdf.write(out_dir / f"{record}.bdf")
    written.append(out_dir / f"{record}.bdf")
    mlii = sig[:, names.index("MLII")]
    other = sig[:, 1 - names.index("MLII")]
    twelve = edfio.Edf([signal(other, "I", "mV", 1.0), signal(mlii, "II", "mV", 1.0),
                        signal(mlii - other, "III", "mV", 1.0)])
    twelve.write(out_dir / f"{record}_12lead.edf")
    written.append(out_dir / f"{record}_12lead.edf")
    at512 = resample_poly(mlii, 64, 45) * 1000.0  # 360 Hz * 64 / 45 = 512 Hz, in uV
    lines = ["Name,Test Person", "Date of Birth,1970-01-01",
             "Recorded Date,2026-01-01 12:00:00 +0000", "Classification,Sinus Rhythm",
             "Symptoms,", "Software Version,2", "Device,Watch",
             "Sample Rate,512 Hertz", "Lead,Lead I", "Unit,µV", "", "",
             *(f"{v:.3f}" for v in at512)]
    (out_dir / f"{record}_apple.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(out_dir / f"{record}_apple.csv")
    v1 = sig[:, names.index("V1")]
    _write_dicom(out_dir / f"{record}.dcm", [("5.6.3-9-2", "Lead II", "MLII", mlii),
                                             ("5.6.3-9-3", "Lead V1", "V1", v1)], fs, note)
    written.append(out_dir / f"{record}.dcm")
    _write_hl7_aecg(out_dir / f"{record}_aecg.xml", [("MDC_ECG_LEAD_II", mlii),
                                                     ("MDC_ECG_LEAD_V1", v1)], fs, note)
    written.append(out_dir / f"{record}_aecg.xml")
    _write_scp_ecg(out_dir / f"{record}.scp", [(2, mlii), (3, v1)], fs, note)
    written.append(out_dir / f"{record}.scp")
    _write_ishne(out_dir / f"{record}_holter.ecg", [(6, mlii), (11, v1)], fs, note)
    written.append(out_dir / f"{record}_holter.ecg")
    at300 = resample_poly(mlii, 5, 6)  # 360 Hz * 5 / 6 = 300 Hz
    _write_kardia_json(out_dir / f"{record}_kardia.json", at300, 300.0, note)
    written.append(out_dir / f"{record}_kardia.json")
    return written


def _write_dicom(path: Path, channels: list[tuple[str, str, str, np.ndarray]], fs: float,
                 note: str) -> None:
    """A General ECG waveform object (pydicom's writer): int16 samples of 5 uV.

    ``channels``: (SCP-ECG lead code, code meaning, channel label, signal in mV)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    sop_class = "1.2.840.10008.5.1.4.1.1.9.1.2"  # General ECG Waveform Storage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[note, "dicom"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[note, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[note, "series"])
    ds.Modality = "ECG"
    ds.PatientName = "MITBIH^208"
    ds.PatientID = "mitdb-208"
    ds.StudyDate = ds.ContentDate = ds.AcquisitionDateTime = "20260101"
    ds.Manufacturer = "ecg_core test fixture"
    ds.ImageComments = note
    counts = np.stack([np.round(x * 200.0) for *_, x in channels], axis=1)  # 5 uV per count
    group = Dataset()
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels = len(channels)
    group.NumberOfWaveformSamples = counts.shape[0]
    group.SamplingFrequency = f"{fs:g}"
    group.MultiplexGroupLabel = "RHYTHM"
    definitions = []
    for code, meaning, label, _ in channels:
        source = Dataset()
        source.CodeValue = code
        source.CodingSchemeDesignator = "SCPECG"
        source.CodingSchemeVersion = "1.3"
        source.CodeMeaning = meaning
        unit = Dataset()
        unit.CodeValue = "uV"
        unit.CodingSchemeDesignator = "UCUM"
        unit.CodeMeaning = "microvolt"
        ch = Dataset()
        ch.ChannelLabel = label
        ch.ChannelSourceSequence = [source]
        ch.ChannelSensitivity = "5"
        ch.ChannelSensitivityUnitsSequence = [unit]
        ch.ChannelSensitivityCorrectionFactor = "1"
        ch.ChannelBaseline = "0"
        ch.WaveformBitsStored = 16
        definitions.append(ch)
    group.ChannelDefinitionSequence = definitions
    group.WaveformBitsAllocated = 16
    group.WaveformSampleInterpretation = "SS"
    group.WaveformData = counts.astype("<i2").tobytes()
    ds.WaveformSequence = [group]
    ds.save_as(path, enforce_file_format=True)


def _write_hl7_aecg(path: Path, channels: list[tuple[str, np.ndarray]], fs: float,
                    note: str) -> None:
    """An HL7 aECG document (ANSI/HL7 V3 ECG R1-2004), written with ``xml.etree``: one rhythm
    series, a TIME_ABSOLUTE sequence and one SLIST_PQ sequence per lead in 5 uV digits.

    ``channels``: (MDC lead code, signal in mV)."""
    import xml.etree.ElementTree as ET

    import numpy as np

    hl7 = "urn:hl7-org:v3"
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    ET.register_namespace("", hl7)
    ET.register_namespace("xsi", xsi)

    def el(parent, tag, **attrs):
        node = ET.SubElement(parent, f"{{{hl7}}}{tag}")
        for key, value in attrs.items():
            node.set(f"{{{xsi}}}type" if key == "xsi_type" else key, value)
        return node

    root = ET.Element(f"{{{hl7}}}AnnotatedECG")
    el(root, "id", root="2.25.208")
    el(root, "code", code="93000", codeSystem="2.16.840.1.113883.6.12")
    el(root, "text").text = note
    time = el(root, "effectiveTime")
    el(time, "low", value="20260101120000")
    el(time, "high", value="20260101120030")
    series = el(el(root, "component"), "series")
    el(series, "code", code="RHYTHM", codeSystem="2.16.840.1.113883.5.4")
    seq_set = el(el(series, "component"), "sequenceSet")
    seq = el(el(seq_set, "component"), "sequence")
    el(seq, "code", code="TIME_ABSOLUTE", codeSystem="2.16.840.1.113883.6.24")
    value = el(seq, "value", xsi_type="GLIST_TS")
    el(value, "head", value="20260101120000.000")
    el(value, "increment", value=f"{1.0 / fs:.15f}", unit="s")
    for code, x in channels:
        seq = el(el(seq_set, "component"), "sequence")
        el(seq, "code", code=code, codeSystem="2.16.840.1.113883.6.24")
        value = el(seq, "value", xsi_type="SLIST_PQ")
        el(value, "origin", value="0", unit="uV")
        el(value, "scale", value="5", unit="uV")
        el(value, "digits").text = " ".join(str(int(v)) for v in np.round(x * 200.0))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _write_kardia_json(path: Path, lead_i: np.ndarray, fs: float, note: str) -> None:
    """A recording object as the Kardia API returns it (``data.raw``: ``frequency`` in Hz,
    ``amplitudeResolution`` in nV per unit, ``samples.leadI``), written with ``json``."""
    import json

    import numpy as np

    doc = {"id": "mitdb-208-0-30s", "note": note, "recordedAt": "2026-01-01T12:00:00Z",
           "duration": int(round(len(lead_i) / fs * 1000)), "algorithmDetermination": "normal",
           "data": {"raw": {"frequency": int(fs), "mainsFrequency": 60,
                            "amplitudeResolution": 500,
                            "samples": {"leadI": [int(v) for v in np.round(lead_i * 2000.0)]}}}}
    path.write_text(json.dumps(doc), encoding="utf-8")


def _write_scp_ecg(path: Path, channels: list[tuple[int, np.ndarray]], fs: float,
                   note: str) -> None:
    """An SCP-ECG record (EN 1064), uncompressed: Sections 0, 1, 3 and 6, 16-bit amplitudes
    of 5 uV, CRC-CCITT on the record and on every section. No maintained Python library
    writes SCP-ECG, so the layout of the standard is written here with ``struct``.

    ``channels``: (Section 3 lead code: 2 for II, 3 for V1, ..., signal in mV)."""
    import binascii
    import struct

    import numpy as np

    def section(sid: int, body: bytes) -> bytes:
        if len(body) % 2:
            body += b"\0"
        rest = struct.pack("<HIBB6s", sid, 16 + len(body), 20, 20, b"SCPECG"[:6]) + body
        return struct.pack("<H", binascii.crc_hqx(rest, 0xFFFF)) + rest

    n = len(channels[0][1])
    data = [np.round(x * 200.0).astype("<i2").tobytes() for _, x in channels]
    text = note.encode("ascii") + b"\0"
    sec1 = (struct.pack("<BH", 2, 10) + b"mitdb-208\0"
            + struct.pack("<BH", 30, len(text)) + text + struct.pack("<BH", 255, 0))
    sec3 = struct.pack("<BB", len(channels), 0x04) + b"".join(
        struct.pack("<IIB", 1, n, code) for code, _ in channels)
    sec6 = (struct.pack("<HHBB", 5000, int(round(1e6 / fs)), 0, 0)
            + b"".join(struct.pack("<H", len(d)) for d in data) + b"".join(data))
    bodies = {1: section(1, sec1), 3: section(3, sec3), 6: section(6, sec6)}
    sec0_len = 16 + 10 * 12
    offsets, pos = {}, 6 + sec0_len
    for sid in sorted(bodies):
        offsets[sid] = pos
        pos += len(bodies[sid])
    pointers = b"".join(
        struct.pack("<HII", sid, sec0_len, 7) if sid == 0 else
        struct.pack("<HII", sid, len(bodies[sid]), offsets[sid] + 1) if sid in bodies else
        struct.pack("<HII", sid, 0, 0) for sid in range(12))
    record = section(0, pointers) + b"".join(bodies[sid] for sid in sorted(bodies))
    rest = struct.pack("<I", 6 + len(record)) + record
    path.write_bytes(struct.pack("<H", binascii.crc_hqx(rest, 0xFFFF)) + rest)


def _write_ishne(path: Path, channels: list[tuple[int, np.ndarray]], fs: float,
                 note: str) -> None:
    """An ISHNE Holter file (Badilini F, Ann Noninvasive Electrocardiol 3:263-266, 1998):
    the 512-byte fixed header with its CRC-CCITT, a variable block holding ``note``, then the
    leads' int16 samples interleaved, 5000 nV per unit. No maintained Python library writes
    ISHNE, so its layout is written here with ``struct``.

    ``channels``: (ISHNE lead code: 6 for II, 11 for V1, ..., signal in mV)."""
    import binascii
    import struct

    import numpy as np

    text = note.encode("ascii")
    n = len(channels[0][1])
    codes = [c for c, _ in channels] + [-9] * (12 - len(channels))
    fixed = struct.pack("<iiiih40s40s20shh3h3h3h3hh12h12h12hh40sh80s80s88s",
                        len(text), n, 522, 522 + len(text), 1, b"", b"MITBIH 208",
                        b"mitdb-208", 0, 0, 0, 0, 0, 1, 1, 2026, 1, 1, 2026, 12, 0, 0,
                        len(channels), *codes, *([1] * len(channels) + [-9] * (12 - len(channels))),
                        *([5000] * len(channels) + [-9] * (12 - len(channels))), 0,
                        b"ecg_core test fixture", int(round(fs)), b"", b"", b"")
    assert len(fixed) == 512
    crc = binascii.crc_hqx(fixed + text, 0xFFFF)
    data = np.stack([np.round(x * 200.0) for _, x in channels], axis=1).astype("<i2")
    path.write_bytes(b"ISHNE1.0" + struct.pack("<H", crc) + fixed + text + data.tobytes())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default="../shared",
                   help="folder holding mitdb/ and cudb/ (else the records are downloaded "
                        "from PhysioNet)")
    p.add_argument("--out", default="tests/data")
    p.add_argument("--formats", action="store_true",
                   help="also write formats/ (the committed fixtures) from --shared's mitdb")
    args = p.parse_args(argv)
    missing = ensure_excerpts(args.out, args.shared)
    if missing:
        print(f"could not make {', '.join(missing)}: no database at {args.shared} and no "
              "connection to PhysioNet")
        return 1
    if args.formats:
        write_format_fixtures(Path(args.shared) / "mitdb", Path(args.out) / "formats")
    total = sum(f.stat().st_size for f in Path(args.out).rglob("*") if f.is_file())
    print(f"{len(EXCERPTS)} excerpts in {args.out} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
