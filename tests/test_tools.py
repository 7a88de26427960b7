"""The scripts under tools/: test beats drawn by another tool (matplotlib_beats.py), read by the
committed model; the trust page's tables (trust_tables.py)."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ecg_core.dataset import load_split, read_manifest
from tests.conftest import EXCERPT_CUDB, EXCERPT_MITDB, ROOT


def _draw(data, out, *extra):
    """Run the tool as a user would, on a dataset's test split; returns its manifest rows."""
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "matplotlib_beats.py"),
                          "--data", str(data), "--mitdb", str(EXCERPT_MITDB),
                          "--cudb", str(EXCERPT_CUDB),
                          "--out", str(out), *extra],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return read_manifest(out)


def test_matplotlib_beats_draws_the_test_split_as_the_shared_dataset_looks(tiny_dataset,
                                                                           tmp_path, classifier):
    pytest.importorskip("matplotlib")
    out = tmp_path / "mpl"
    rows = _draw(tiny_dataset, out)
    test = [r for r in read_manifest(tiny_dataset) if r["split"] == "test"]
    assert [(r["record"], r["sample"], r["label"]) for r in rows] == \
        [(r["record"], r["sample"], r["label"]) for r in test]
    assert {r["split"] for r in rows} == {"test"}
    first = Image.open(out / rows[0]["image"])
    assert first.size == (192, 128) and first.mode == "L"  # the shared dataset's format
    pixels = np.asarray(first)
    assert pixels.max() == 255 and 60 < pixels.min() < 160  # a grey line on white
    # seeded per beat: a second drawing gives the same images
    again = _draw(tiny_dataset, tmp_path / "again")
    assert (tmp_path / "again" / again[3]["image"]).read_bytes() == \
        (out / rows[3]["image"]).read_bytes()
    # The committed model reads another tool's drawings. The tiny build has its own split,
    # so some of these beats were in the model's training split: a smoke test, not a figure
    # (the README's figure comes from the committed model's own test split).
    x, y, _ = load_split(out, "test", cache=False)
    accuracy = float((classifier.predict_canonical(x).argmax(axis=1) == y).mean())
    assert accuracy >= 0.9


@pytest.mark.parametrize("look, size", [("screenshot", (400, 250)), ("paper", (400, 300))])
def test_matplotlib_screenshots_keep_axes_and_colour_and_are_read_through_them(tiny_dataset,
                                                                               tmp_path,
                                                                               classifier,
                                                                               look, size):
    pytest.importorskip("matplotlib")
    from ecg_core.dataset import write_manifest

    few = tmp_path / "few"  # 60 test beats of the tiny build: a manifest is all the tool reads
    few.mkdir()
    write_manifest(few / "manifest.csv",
                   [r for r in read_manifest(tiny_dataset) if r["split"] == "test"][:60])
    out = tmp_path / "shots"
    rows = _draw(few, out, "--look", look)
    assert len(rows) == 60
    shot = Image.open(out / rows[0]["image"])
    assert shot.size == size and shot.mode in ("RGB", "RGBA")
    if look == "screenshot":
        assert any(r["image"].endswith(".jpg") for r in rows)  # a quarter saved as JPEG
    else:  # black on pink paper
        rgb = np.asarray(shot.convert("RGB")).reshape(-1, 3).astype(int)
        assert ((rgb[:, 0] > 240) & (rgb[:, 1] < 230) & (rgb[:, 2] < 230)).any()
        assert (rgb.max(axis=1) < 60).any()
    x, y, _ = load_split(out, "test", cache=False)
    accuracy = float((classifier.predict_canonical(x).argmax(axis=1) == y).mean())
    assert accuracy >= 0.9  # through the frame, grid and labels (smoke test, as above)


def test_matplotlib_beats_draws_the_validation_split_on_request(tiny_dataset, tmp_path,
                                                                classifier):
    pytest.importorskip("matplotlib")
    from ecg_core.dataset import drawing_of
    from ecg_core.errors import DatasetError
    from ecg_core.robustness import evaluate_folder

    out = tmp_path / "val"
    rows = _draw(tiny_dataset, out, "--split", "val")
    val = [r for r in read_manifest(tiny_dataset) if r["split"] == "val" and drawing_of(r) == 0]
    assert val and [(r["record"], r["sample"], r["label"]) for r in rows] == \
        [(r["record"], r["sample"], r["label"]) for r in val]
    assert {r["split"] for r in rows} == {"val"}
    # read as a folder set of the validation split (for choices); it holds no test images
    assert evaluate_folder(classifier, out, "val")["n"] == len(val)
    with pytest.raises(DatasetError, match="no test images"):
        evaluate_folder(classifier, out, "test")


def test_cv_by_record_adds_the_figures_of_each_record_to_an_old_artifact(tiny_dataset,
                                                                           tmp_path,
                                                                           monkeypatch,
                                                                           capsys):
    import importlib.util
    import json

    import ecg_core.protocols
    from ecg_core.classes import CLASS_CODES

    # five records are too few for five folds: two protocols stand in for the folds
    folds = ("beat", "record")
    monkeypatch.setattr(ecg_core.protocols, "CV_PROTOCOLS", folds)
    spec = importlib.util.spec_from_file_location("cv_by_record",
                                                  ROOT / "tools" / "cv_by_record.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    y, records = [], []
    for protocol in folds:
        _, labels, rows = load_split(tiny_dataset, "test", protocol)
        y.append(labels)
        records += [f"{r['database']}/{r['record']}" for r in rows]
    y = np.concatenate(y)
    prob = np.eye(len(CLASS_CODES))[y]
    wrong = np.arange(0, len(y), 7)  # every seventh beat read as the next class
    prob[wrong] = np.eye(len(CLASS_CODES))[(y[wrong] + 1) % len(CLASS_CODES)]
    artifact = tmp_path / "ecgnet.eval.cv.test.tiny.json"
    np.savez(artifact.with_suffix(".npz"), y_true=y, y_prob=prob)
    doc = {"protocol": "cv", "data": str(tiny_dataset), "model_name": "ecgnet (5-fold recipe)",
           "figures": {"n": len(y), "per_class": {c: {} for c in CLASS_CODES}}}
    artifact.write_text(json.dumps(doc))
    assert tool.main([str(artifact)]) == 0
    by = json.loads(artifact.read_text())["figures"]["by_record"]
    assert sorted(r["record"] for r in by) == sorted(set(records))
    assert sum(r["beats"] for r in by) == len(y) and sum(r["errors"] for r in by) == len(wrong)
    # labels that are not the dataset's: refused in one line, the artifact left as it was
    np.savez(artifact.with_suffix(".npz"), y_true=(y + 1) % len(CLASS_CODES), y_prob=prob)
    before = artifact.read_text()
    capsys.readouterr()
    assert tool.main([str(artifact)]) == 2
    err = capsys.readouterr().err
    assert "not the artifact's beats" in err and len(err.strip().splitlines()) == 1
    assert artifact.read_text() == before


def test_the_trust_page_agrees_with_the_evaluation_artifacts(tmp_path):
    """docs/trust.md's class tables are those the committed artifacts give
    (tools/trust_tables.py --check); the check fails on a page whose figures moved, and the
    writer refuses a page without its markers."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("trust_tables",
                                                  ROOT / "tools" / "trust_tables.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--check"]) == 0
    page = tool.PAGE.read_text()
    tables = tool.tables_markdown()
    assert tables in page and "| S | 1,837 | 16 |" in tables
    stale = page.replace("| S | 1,837 | 16 | 5", "| S | 1,837 | 16 | 6", 1)
    assert stale != page and tool.page_with_tables(stale, tables) == page
    with pytest.raises(ValueError, match="markers"):
        tool.page_with_tables("no markers here", tables)
