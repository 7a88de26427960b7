"""Reading real WFDB records, lead choice and resampling."""

import numpy as np
import pytest

from ecg_core.errors import RecordError
from ecg_core.records import TARGET_FS, choose_lead, read_annotations, read_record, resample_to
from tests.conftest import EXCERPT_CUDB, EXCERPT_MITDB, MITDB, SHARED, needs_cudb, needs_mitdb


@needs_mitdb
def test_read_mitdb_record_mlii_at_360_hz():
    rec = read_record(MITDB / "100")
    assert rec.fs == 360.0 and rec.original_fs == 360.0
    assert rec.lead == "MLII"
    assert rec.signal.dtype == np.float32 and rec.signal.shape == (650_000,)
    # physical units: an R peak of a normal beat is of the order of 1 mV
    assert 0.5 < float(np.percentile(rec.signal, 99.9)) < 3.0
    symbols = rec.annotations.symbol
    assert symbols.count("N") == 2239 and symbols.count("A") == 33  # record 100's counts


def test_excerpt_reads_like_the_same_minutes_of_the_record():
    rec = read_record(EXCERPT_MITDB / "100")
    assert rec.lead == "MLII" and rec.signal.shape == (108_000,)
    assert rec.annotations.symbol.count("N") == 367 and rec.annotations.symbol.count("A") == 4
    if (MITDB / "100.hea").is_file():
        whole = read_record(MITDB / "100")
        np.testing.assert_array_equal(rec.signal, whole.signal[:108_000])


@needs_mitdb
def test_record_114_picks_mlii_from_second_channel_and_102_falls_back():
    assert read_record(MITDB / "114", annotator=None).lead == "MLII"
    assert read_record(MITDB / "102", annotator=None).lead == "V5"


def test_cudb_is_resampled_from_250_to_360_hz():
    rec = read_record(EXCERPT_CUDB / "cu09")
    assert rec.original_fs == 250.0 and rec.fs == TARGET_FS
    assert len(rec.signal) == round(45_000 * 360 / 250)
    ann, n = read_annotations(EXCERPT_CUDB / "cu09")
    assert n == len(rec.signal)
    np.testing.assert_array_equal(ann.sample, rec.annotations.sample)
    assert "[" in ann.symbol


def test_resample_keeps_a_sine_frequency():
    fs = 128.0
    t = np.arange(0, 10, 1 / fs)
    sig = np.sin(2 * np.pi * 1.5 * t)
    out, new_fs = resample_to(sig, fs)
    assert new_fs == 360.0 and len(out) == 3600
    t2 = np.arange(len(out)) / 360.0
    assert np.max(np.abs(out[100:-100] - np.sin(2 * np.pi * 1.5 * t2[100:-100]))) < 0.02


@pytest.mark.parametrize("fs", [50.0, 2000.0])
def test_resample_refuses_rates_outside_range(fs):
    with pytest.raises(RecordError, match="outside"):
        resample_to(np.zeros(1000), fs)


def test_choose_lead_and_missing_record(tmp_path):
    assert choose_lead(["V5", "MLII"]) == 1
    assert choose_lead(["V1"]) == 0
    with pytest.raises(RecordError):
        choose_lead([])
    with pytest.raises(RecordError, match="not found"):
        read_record(tmp_path / "nothing")


def test_download_without_internet_says_so_in_one_plain_sentence(monkeypatch, tmp_path):
    import wfdb

    from ecg_core.records import download_database, download_record

    def offline(*args, **kwargs):
        raise ConnectionError("HTTPSConnectionPool(host='physionet.org', port=443): Max "
                              "retries exceeded (Caused by NameResolutionError(...))")

    monkeypatch.setattr(wfdb, "dl_database", offline)
    for call in (lambda: download_record("mitdb", "100", tmp_path),
                 lambda: download_database("mitdb", tmp_path)):
        with pytest.raises(RecordError, match="no internet connection") as caught:
            call()
        assert "HTTPSConnectionPool" not in str(caught.value)
        assert "bundled example" in str(caught.value)


def test_uploaded_header_without_its_signal_file_names_the_file_not_a_path():
    from ecg_core.records import read_uploaded_record

    header = (EXCERPT_MITDB / "100.hea").read_bytes()
    with pytest.raises(RecordError, match="100.dat") as caught:
        read_uploaded_record({"100.hea": header})
    assert "add it to the upload" in str(caught.value)
    assert "/tmp" not in str(caught.value) and "ecg-record-" not in str(caught.value)


def test_a_lead_asked_for_by_name_must_exist():
    rec = read_record(EXCERPT_MITDB / "207", lead="v1")
    assert rec.lead == "V1" and rec.channels == ("MLII", "V1")
    with pytest.raises(RecordError, match="no lead 'V9'; its channels are MLII, V1"):
        read_record(EXCERPT_MITDB / "207", lead="V9")
    assert read_record(EXCERPT_CUDB / "cu09").lead == "ECG"  # automatic: no MLII, first


@needs_mitdb
@needs_cudb
def test_excerpts_are_cut_from_the_databases_as_the_tests_use_them(tmp_path):
    """The raw PhysioNet excerpts are not committed: they are cut from the whole records, with
    their ADC values and the reference annotations inside them shifted to the excerpt."""
    from ecg_core.records import EXCERPTS, ensure_excerpts, read_record

    assert ensure_excerpts(tmp_path, SHARED) == []
    for database, record, start, end in EXCERPTS:
        for ext in ("hea", "dat", "atr"):
            made = (tmp_path / database / f"{record}.{ext}").read_bytes()
            assert made == (EXCERPT_MITDB.parent / database / f"{record}.{ext}").read_bytes()
    rec = read_record(tmp_path / "mitdb" / "208")
    assert rec.duration_s == pytest.approx(300.0, abs=0.01)
    assert "Excerpt 0:00-5:00 of PhysioNet mitdb record 208" in (
        tmp_path / "mitdb" / "208.hea").read_text()
    # a second call finds them there and makes nothing
    before = (tmp_path / "mitdb" / "208.dat").stat().st_mtime_ns
    assert ensure_excerpts(tmp_path, SHARED) == []
    assert (tmp_path / "mitdb" / "208.dat").stat().st_mtime_ns == before
