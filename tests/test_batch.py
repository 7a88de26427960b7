"""Batch classification on a local Dask cluster: Parquet output, error rows, resume, and a
worker killed mid-job."""

import os
import shutil
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from ecg_core.beats import NOISY_SNR_DB, irregular_rr
from tests.conftest import EXCERPT_CUDB, EXCERPT_MITDB, ROOT

pytest.importorskip("dask.distributed")

MODEL = ROOT / "models" / "ecgnet.keras"


@pytest.fixture()
def archive(tmp_path):
    """The five excerpts and one file that only looks like a record."""
    folder = tmp_path / "archive"
    shutil.copytree(EXCERPT_MITDB, folder / "mitdb")
    shutil.copytree(EXCERPT_CUDB, folder / "cudb")
    (folder / "broken.hea").write_text("this is not a WFDB header\n")
    return folder


def _expected(classifier, path):
    from ecg_core.analysis import classify_record
    from ecg_core.records import read_record

    return classify_record(read_record(path), classifier)


def test_archive_to_parquet_with_an_error_row_then_resume(archive, tmp_path, classifier):
    from ecg_core.batch import classify_records

    out = tmp_path / "out"
    info = classify_records([archive], out, model=MODEL, workers=2)
    assert info["records"] == 6 and info["classified"] == 6 and info["errors"] == 1
    summary = pd.read_parquet(out / "summary.parquet")
    bad = summary[summary["record"] == "broken"].iloc[0]
    assert bad["status"] == "error" and "not a readable WFDB header" in bad["error"]
    beats = pd.read_parquet(out / "beats")
    # the same beats, classes and probabilities as classify-record, record by record
    for name, folder in (("208", EXCERPT_MITDB), ("cu09", EXCERPT_CUDB), ("100", EXCERPT_MITDB)):
        mine = beats[beats["record"] == name].sort_values("sample")
        ref = _expected(classifier, folder / name)
        assert mine["sample"].tolist() == ref.samples.tolist()
        assert mine["predicted"].tolist() == ref.predicted
        np.testing.assert_allclose(mine[list(ref.class_codes)].to_numpy(), ref.probabilities,
                                   atol=1e-5)
        row = summary[summary["record"] == name].iloc[0]
        assert row["status"] == "ok" and row["beats"] == len(ref.samples)
        assert row["n_PVC"] == ref.predicted.count("PVC")
        assert row["irregular_rr_percent"] == pytest.approx(
            100 * irregular_rr(ref.samples, ref.fs).mean())
        assert row["noisy_percent"] == pytest.approx(100 * (ref.snr_db < NOISY_SNR_DB).mean())
        np.testing.assert_allclose(mine["snr_db"].to_numpy(), np.round(ref.snr_db, 1), atol=1e-4)
        assert (mine["detector"] == "annotations").all()
    assert summary.set_index("record").loc["100", "irregular_rr_percent"] == 0.0
    # the 8-class model has no dominant-QRS reading: no per-beat column, no count
    for column in ("v_reread", "s_folded", "qrs_similarity", "atrial_consistency",
                   "v_template", "s_premature"):
        assert column not in beats.columns
    assert summary["v_reread"].isna().all() and summary["s_folded"].isna().all()
    assert summary["v_template"].isna().all() and summary["s_premature"].isna().all()
    assert info["beats"] == len(beats) and not beats.duplicated(["record", "sample"]).any()
    # a second run redoes nothing
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("part-*.parquet")}
    again = classify_records([archive], out, model=MODEL, workers=2)
    assert again["skipped"] == 6 and again["classified"] == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("part-*.parquet")} == stamps
    # a record whose file changed is done again (its key is a hash of its content)
    (archive / "mitdb" / "100.atr").unlink()
    third = classify_records([archive], out, model=MODEL, workers=1)
    assert third["classified"] == 1 and third["skipped"] == 5
    redone = pd.read_parquet(out / "beats" / "record=100")
    assert (redone["detector"] == "XQRS").all()
    assert len(list((out / "beats" / "record=100").glob("part-*.parquet"))) == 1


def test_an_aami_archive_keeps_the_readings_of_whole_records(tmp_path):
    """With ``aami/ecgnet`` the beat rows say which V readings were dropped and which beats lie
    in stretches read as atrial fibrillation, as classify-record does; the summary counts
    them."""
    from ecg_core.analysis import classify_record
    from ecg_core.batch import classify_records
    from ecg_core.model import Classifier
    from ecg_core.records import read_record

    archive = tmp_path / "archive"
    archive.mkdir()
    for suffix in ("hea", "dat", "atr"):
        shutil.copy(EXCERPT_MITDB / f"232.{suffix}", archive)
    model = ROOT / "models" / "aami" / "ecgnet.keras"
    out = tmp_path / "out"
    info = classify_records([archive], out, model=model, workers=1)
    assert info["classified"] == 1 and info["errors"] == 0
    ref = classify_record(read_record(EXCERPT_MITDB / "232"), Classifier.load(model))
    assert ref.reread.sum() > 0  # 232 (excerpt): normal-shaped beats the networks read V
    beats = pd.read_parquet(out / "beats").sort_values("sample")
    assert beats["v_reread"].dtype == bool
    assert beats["v_reread"].tolist() == ref.reread.tolist()
    assert beats["predicted"].tolist() == ref.predicted
    assert beats["s_folded"].dtype == bool
    assert beats["s_folded"].tolist() == ref.s_folded.tolist()
    assert beats["v_template"].dtype == bool
    assert beats["v_template"].tolist() == ref.v_promoted.tolist()
    assert beats["s_premature"].dtype == bool
    assert beats["s_premature"].tolist() == ref.s_promoted.tolist()
    for column, values in (("qrs_similarity", ref.qrs_similarity),
                           ("atrial_consistency", ref.atrial_consistency)):
        assert beats[column].dtype == np.float32
        np.testing.assert_allclose(beats[column], np.round(values, 3), atol=1e-6)
    summary = pd.read_parquet(out / "summary.parquet").iloc[0]
    assert summary["v_reread"] == int(ref.reread.sum())
    assert summary["s_folded"] == int(ref.s_folded.sum())
    assert summary["v_template"] == int(ref.v_promoted.sum())
    assert summary["s_premature"] == int(ref.s_promoted.sum())


def test_a_worker_killed_mid_job_loses_and_duplicates_no_beat(tmp_path, classifier):
    from dask.distributed import Client, LocalCluster

    from ecg_core.batch import classify_records

    archive = tmp_path / "archive"
    for copy in "abcd":  # sixteen records: four copies of the four mitdb excerpts
        shutil.copytree(EXCERPT_MITDB, archive / copy)
    expected = {name: len(_expected(classifier, EXCERPT_MITDB / name).samples)
                for name in ("100", "207", "208", "232")}
    out = tmp_path / "out"
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one_worker_once_work_has_begun():
        deadline = time.time() + 60
        while time.time() < deadline and not list(out.glob("summary/*/part-*.parquet")):
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    killer = threading.Thread(target=kill_one_worker_once_work_has_begun)
    killer.start()
    try:
        info = classify_records([archive], out, model=MODEL, cluster=cluster.scheduler_address)
    finally:
        killer.join()
        client.close()
        cluster.close()
    assert killed and info["records"] == 16 and info["errors"] == 0
    beats = pd.read_parquet(out / "beats")
    assert not beats.duplicated(["record", "sample"]).any()
    counts = beats.groupby("record", observed=True).size()
    for record, n in counts.items():
        assert n == expected[record.split("_")[-1]], record
    assert len(counts) == 16


def test_command_line_classify_records(tmp_path):
    import subprocess
    import sys

    from ecg_core.records import read_record

    # a folder with one WFDB record and the same signal as a CSV (the Record page's formats)
    folder = tmp_path / "in"
    shutil.copytree(EXCERPT_CUDB, folder)
    signal = read_record(EXCERPT_CUDB / "cu09", annotator=None).signal  # at 360 Hz, mV
    (folder / "cu09-export.csv").write_text("mV\n" + "\n".join(f"{v:.4f}" for v in signal))
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "ecg_core", "classify-records",
                          str(folder), "--out", str(out), "--workers", "1", "--csv-fs", "360"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("2 records (0 already done, 2 classified, 0 with errors)")
    summary = pd.read_parquet(out / "summary.parquet").set_index("record")
    assert summary.loc["cu09-export.csv", "detector"] == "XQRS"
    assert summary.loc["cu09", "detector"] == "annotations"
    assert len(pd.read_parquet(out / "beats")) == pd.read_parquet(
        out / "summary.parquet")["beats"].sum()
    res = subprocess.run([sys.executable, "-m", "ecg_core", "classify-records",
                          str(tmp_path / "nowhere"), "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stderr.startswith("error: no such file or folder")
