"""The command-line interface, run as a user would: python -m ecg_core ..."""

import csv
import subprocess
import sys

from ecg_core.classes import CLASS_CODES
from tests.conftest import EXAMPLES, ROOT


def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "ecg_core", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_predict_folder_and_bad_file_to_csv(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out = tmp_path / "pred.csv"
    res = _run("predict", str(EXAMPLES / "PVC"), str(EXAMPLES / "LBB"), str(bad),
               "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["path", "predicted", *CLASS_CODES, "error"]
    assert len(rows) == 7
    good = [r for r in rows if not r["error"]]
    assert len(good) == 6
    for r in good:
        assert r["predicted"] == ("PVC" if "/PVC/" in r["path"] else "LBB")
        assert abs(sum(float(r[c]) for c in CLASS_CODES) - 1) < 1e-3
    assert rows[-1]["path"].endswith("broken.png") and rows[-1]["predicted"] == ""
    assert "damaged" in rows[-1]["error"] or "not a readable" in rows[-1]["error"]


def test_predict_prints_csv_to_stdout():
    res = _run("predict", str(sorted((EXAMPLES / "NOR").glob("*.png"))[0]))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("path,predicted,NOR") and ",NOR," in lines[1]


def test_missing_model_exits_non_zero_with_one_line(tmp_path):
    res = _run("predict", str(EXAMPLES), "--model", str(tmp_path / "nope.keras"))
    assert res.returncode == 2
    assert res.stderr.strip().startswith("error:") and len(res.stderr.strip().splitlines()) == 1


def test_build_dataset_refuses_missing_source(tmp_path):
    res = _run("build-dataset", "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "database folder" in res.stderr
