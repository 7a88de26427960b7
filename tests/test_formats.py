"""Recordings in other formats: EDF, BDF, 12-lead EDF, the Apple Watch ECG export, DICOM
waveform, HL7 aECG, SCP-ECG, AliveCor Kardia JSON and ISHNE Holter, each a fixture written from the first
30 s of MIT-BIH record 208 (tests/data/formats, made by tools/make_test_excerpts.py), read back
and classified; hostile variants refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import EXCERPT_MITDB, EXCERPTS

FORMATS = EXCERPTS / "formats"


@pytest.fixture(scope="module")
def reference():
    from ecg_core.records import read_record

    return read_record(EXCERPT_MITDB / "208")


ALL_FIXTURES = [("208.edf", "edf"), ("208.bdf", "bdf"), ("208_12lead.edf", "edf"),
                ("208_apple.csv", "apple-csv"), ("208.dcm", "dicom"),
                ("208_aecg.xml", "hl7-aecg"), ("208.scp", "scp-ecg"),
                ("208_kardia.json", "kardia"), ("208_holter.ecg", "ishne")]


@pytest.mark.parametrize("name, kind", ALL_FIXTURES)
def test_each_format_is_told_from_its_bytes_and_reads_the_same_signal(name, kind, reference):
    from ecg_core.formats import read_recording_bytes, sniff_format

    data = (FORMATS / name).read_bytes()
    assert sniff_format(data) == kind
    assert sniff_format(data, "renamed.bin") == kind  # the content decides, not the name
    rec = read_recording_bytes(data, name=name)
    assert rec.name == name.rsplit(".", 1)[0]
    assert rec.fs == 360.0 and 29.5 < rec.duration_s <= 30.1
    n = min(len(rec.signal), int(25 * 360))
    # the same millivolts as the WFDB record (EDF's 16 bits, the CSV's resampling aside)
    r = np.corrcoef(rec.signal[360:n], reference.signal[360:n])[0, 1]
    assert r > 0.99, r
    assert abs(np.median(rec.signal[:n]) - np.median(reference.signal[:n])) < 0.05


def test_the_ecg_channel_is_chosen_by_label():
    from ecg_core.formats import choose_ecg_channel, read_edf_bytes

    rec = read_edf_bytes((FORMATS / "208.edf").read_bytes(), name="208")
    assert rec.channels == ("ECG MLII", "ECG V1") and rec.lead == "ECG MLII"
    other = read_edf_bytes((FORMATS / "208.edf").read_bytes(), name="208", lead="ECG V1")
    assert other.lead == "ECG V1" and not np.allclose(other.signal, rec.signal)
    twelve = read_edf_bytes((FORMATS / "208_12lead.edf").read_bytes(), name="208")
    assert twelve.channels == ("I", "II", "III") and twelve.lead == "II"  # 12-lead: lead II
    assert choose_ecg_channel(["Resp", "EKG lead 1"]) == 1
    assert choose_ecg_channel(["Pleth", "Resp"]) == 0
    assert choose_ecg_channel(["ECG I", "ECG II"], lead="ii") == 1
    from ecg_core.errors import RecordError

    with pytest.raises(RecordError, match="no lead 'V6'"):
        choose_ecg_channel(["I", "II"], lead="V6")


def test_an_edf_recording_is_classified(classifier):
    from ecg_core.analysis import classify_record
    from ecg_core.formats import read_edf_bytes

    rec = read_edf_bytes((FORMATS / "208.edf").read_bytes(), name="208")
    result = classify_record(rec, classifier, use_annotations=False)
    assert 25 <= len(result.predicted) <= 45  # about 100 bpm over 30 s
    assert "PVC" in result.predicted  # record 208 is rich in premature ventricular beats


def _edf_with(data: bytes, offset: int, text: bytes) -> bytes:
    return data[:offset] + text + data[offset + len(text):]


@pytest.mark.parametrize("case, expected", [
    ("truncated", "not a readable EDF"),
    ("header", "not a readable EDF"),
    ("rate", "(?i)sampling rate 50 Hz is outside"),
    ("zeros", "flat"),
    ("unit", "volts"),
    ("not-edf", "not an EDF"),
])
def test_hostile_edf_files_get_one_clear_message(case, expected):
    import io

    import edfio

    from ecg_core.errors import RecordError
    from ecg_core.formats import read_edf_bytes

    good = (FORMATS / "208.edf").read_bytes()

    def made(signals):
        buf = io.BytesIO()
        edfio.Edf(signals).write(buf)
        return buf.getvalue()

    data = {
        "truncated": good[: len(good) // 3],
        "header": _edf_with(good, 236, b"-5      "),  # number of data records
        "rate": made([edfio.EdfSignal(np.sin(np.arange(3000) / 5.0), 50, label="ECG",
                                      physical_dimension="mV")]),
        "zeros": made([edfio.EdfSignal(np.zeros(3600 * 3), 360, label="ECG",
                                       physical_dimension="mV", physical_range=(-1, 1))]),
        "unit": made([edfio.EdfSignal(np.sin(np.arange(3600 * 3) / 20.0), 360, label="ECG",
                                      physical_dimension="degC")]),
        "not-edf": b"1       " + good[8:],
    }[case]
    with pytest.raises(RecordError, match=expected) as info:
        read_edf_bytes(data, name="bad")
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message and "/tmp" not in message


@pytest.mark.parametrize("text, expected", [
    ("Name,X\nLead,Lead I\nUnit,µV\n\n1\n2\n", "sampling rate"),
    ("Name,X\nSample Rate,512 Hertz\nLead,Lead I\n\n1\n2\n", "unit"),
    ("Sample Rate,512 Hertz\nUnit,µV\n\n1\n2\nabc\n", "Line 6"),
    ("Sample Rate,512 Hertz\nUnit,furlongs\n\n1\n2\n", "volts"),
])
def test_hostile_apple_exports_get_one_clear_message(text, expected):
    from ecg_core.errors import RecordError
    from ecg_core.formats import read_apple_watch_csv

    with pytest.raises(RecordError, match=expected):
        read_apple_watch_csv(text.encode(), name="bad")


def test_apple_export_with_decimal_commas_reads_like_the_original():
    from ecg_core.formats import read_apple_watch_csv

    good = (FORMATS / "208_apple.csv").read_text(encoding="utf-8")
    head, _, body = good.partition("\n\n\n")
    commas = head + "\n\n\n" + "\n".join(f'"{v.replace(".", ",")}"' for v in body.split())
    a = read_apple_watch_csv(good.encode(), name="a")
    b = read_apple_watch_csv(commas.encode(), name="b")
    assert np.allclose(a.signal, b.signal) and a.lead == "Lead I"


def test_classify_record_cli_reads_every_format(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    for name, lead in (("208.edf", "ECG MLII"), ("208_apple.csv", "Lead I"), ("208.dcm", "II"),
                       ("208_aecg.xml", "II"), ("208.scp", "II"), ("208_kardia.json", "I"),
                       ("208_holter.ecg", "II")):
        run = subprocess.run([sys.executable, "-m", "ecg_core", "classify-record",
                              str(FORMATS / name), "--out", str(tmp_path / "beats.csv")],
                             capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 0, run.stderr
        assert f"lead {lead}" in run.stdout
        assert len((tmp_path / "beats.csv").read_text().splitlines()) > 25
    plain = tmp_path / "plain.csv"
    plain.write_text("0.1\n0.2\n" * 100)
    run = subprocess.run([sys.executable, "-m", "ecg_core", "classify-record", str(plain)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "sampling rate" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["208.dcm", "208_aecg.xml", "208.scp", "208_holter.ecg"])
def test_hospital_formats_offer_their_leads_and_default_to_lead_ii(name, classifier):
    from ecg_core.analysis import classify_record
    from ecg_core.formats import read_recording_bytes

    data = (FORMATS / name).read_bytes()
    rec = read_recording_bytes(data, name=name)
    assert rec.channels == ("II", "V1") and rec.lead == "II"  # MLII is stored as lead II
    v1 = read_recording_bytes(data, name=name, lead="V1")
    assert v1.lead == "V1" and not np.allclose(v1.signal, rec.signal)
    result = classify_record(rec, classifier, use_annotations=False)
    assert 25 <= len(result.predicted) <= 45 and "PVC" in result.predicted


def _scp_with_bad_crc(good: bytes) -> bytes:
    return good[:200] + bytes([good[200] ^ 0xFF]) + good[201:]


def _dicom_without_unit(good: bytes) -> bytes:
    import io

    import pydicom

    ds = pydicom.dcmread(io.BytesIO(good))
    for ch in ds.WaveformSequence[0].ChannelDefinitionSequence:
        del ch.ChannelSensitivityUnitsSequence
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name, change, expected", [
    ("208.dcm", lambda d: d[: len(d) // 2], "not a readable DICOM waveform ECG file"),
    ("208.dcm", _dicom_without_unit, "no voltage scale"),
    ("208_aecg.xml", lambda d: d[: len(d) // 2], "not a readable HL7 aECG"),
    ("208_aecg.xml", lambda d: d.replace(b'unit="s"', b'unit="furlong"'),
     "not a readable HL7 aECG"),
    ("208.scp", lambda d: d[: len(d) // 2], "not a readable SCP-ECG file"),
    ("208_holter.ecg", lambda d: d[:10] + b"\xff\xff\xff\x7f" + d[14:],
     "not a readable ISHNE Holter file"),
    ("208_kardia.json", lambda d: d.replace(b'"frequency": 300', b'"frequency": 50'),
     "(?i)sampling rate 50 Hz is outside"),
    ("208_kardia.json", lambda d: __import__("re").sub(rb'"leadI": \[[^\]]*\]',
                                                       b'"leadI": [' + b"0, " * 9000 + b"0]", d),
     "flat line"),
])
def test_hostile_hospital_files_get_one_clear_message(name, change, expected):
    from ecg_core.errors import RecordError
    from ecg_core.formats import read_recording_bytes

    data = change((FORMATS / name).read_bytes())
    try:
        rec = read_recording_bytes(data, name=name)
    except RecordError as exc:
        message = str(exc)
    else:
        pytest.fail(f"read without complaint: {rec.name}, {rec.duration_s} s")
    assert __import__("re").search(expected, message), message
    assert "\n" not in message and "Traceback" not in message
    assert "/tmp" not in message and "ecg-upload" not in message


def test_an_scp_record_with_a_broken_checksum_is_still_read_but_zeros_are_refused():
    """ECGDataKit warns about a CRC mismatch and reads on (as viewers do); the flat-line check
    still refuses a record of zeros."""
    from ecg_core.errors import RecordError
    from ecg_core.formats import read_recording_bytes

    good = (FORMATS / "208.scp").read_bytes()
    rec = read_recording_bytes(_scp_with_bad_crc(good), name="208.scp")
    assert rec.lead == "II"
    header = 6 + 16 + 120  # the preamble, Section 0
    zeros = bytearray(good)
    start = len(good) - 2 * 2 * 10800  # the two leads' 16-bit samples end the record
    zeros[start:] = bytes(len(good) - start)
    assert header < start
    with pytest.raises(RecordError, match="flat"):
        read_recording_bytes(bytes(zeros), name="208.scp")


@pytest.mark.parametrize("name, leads", [("208.edf", ("ECG MLII", "ECG V1")),
                                         ("208_12lead.edf", ("II", "I")),
                                         ("208.dcm", ("II", "V1")), ("208.scp", ("II", "V1")),
                                         ("208_kardia.json", ("I", ""))])
def test_a_second_lead_is_read_for_the_two_lead_detector(name, leads, classifier):
    from ecg_core.analysis import classify_record
    from ecg_core.formats import read_recording_bytes
    from ecg_core.records import read_record

    rec = read_recording_bytes((FORMATS / name).read_bytes(), name=name)
    assert (rec.lead, rec.other_lead) == leads
    result = classify_record(rec, classifier, use_annotations=False, detector="two-lead-vote")
    assert result.source.endswith(f"on {leads[0]} and {leads[1]}" if leads[1]
                                  else f"on {leads[0]} only")
    if leads[1] == "V1":  # the same millivolts as the WFDB record's second lead
        wfdb_v1 = read_record(EXCERPT_MITDB / "208", other_lead=True).other_signal
        n = int(25 * 360)
        assert np.corrcoef(rec.other_signal[360:n], wfdb_v1[360:n])[0, 1] > 0.99
