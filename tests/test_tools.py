"""tools/matplotlib_beats.py: test beats drawn by another tool, read by the committed model."""

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
