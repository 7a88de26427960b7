"""Labelled-set zips: folder mapping, known mislabels, and refusal of hostile archives."""

import io
import zipfile

import pytest

from ecg_core.errors import DatasetError
from ecg_core.labelled_set import read_labelled_zip
from tests.badfiles import zip_bomb, zip_with_members
from tests.conftest import EXAMPLES


def _example(code: str) -> bytes:
    return sorted((EXAMPLES / code).glob("*.png"))[0].read_bytes()


def test_shared_dataset_folder_names_map_to_codes_with_warnings():
    data = zip_with_members({
        "test/Normal/1.png": _example("NOR"),
        "test/Left Bundle Branch Block/2.png": _example("LBB"),
        "test/Premature Atrial Contraction/3.png": _example("PAB"),
        "test/Ventricular Fibrillation/4.png": _example("VFW"),
        "test/Mystery/5.png": _example("NOR"),
        "test/README.txt": b"hello",
        "__MACOSX/test/._1.png": b"junk",
        "loose.png": _example("NOR"),
    })
    s = read_labelled_zip(data)
    assert s.folders == {"Left Bundle Branch Block": "LBB", "Mystery": None, "Normal": "NOR",
                         "Premature Atrial Contraction": "PAB",
                         "Ventricular Fibrillation": "VFW"}
    assert s.counts["Normal"] == 1 and len(s.items) == 5
    text = " ".join(s.warnings)
    assert "paced beats" in text and "record 207" in text
    assert "README.txt" in text and "loose.png" in text
    labelled = s.labelled_items()
    assert sorted(code for _, code, _ in labelled) == ["LBB", "NOR", "PAB", "VFW"]
    # the user can re-map a folder, or leave one out
    remapped = s.labelled_items({**s.folders, "Mystery": "APC", "Normal": None})
    assert sorted(code for _, code, _ in remapped) == ["APC", "LBB", "PAB", "VFW"]


@pytest.mark.parametrize("name", ["../evil/1.png", "Normal/../../1.png", "/etc/Normal/1.png",
                                  "C:/Normal/1.png", "..\\Normal\\1.png"])
def test_path_traversal_is_refused(name):
    with pytest.raises(DatasetError, match="outside the archive"):
        read_labelled_zip(zip_with_members({name: b"x"}))


def test_zip_bomb_and_non_zip_and_empty_are_refused():
    with pytest.raises(DatasetError, match="zip bomb|MB"):
        read_labelled_zip(zip_bomb())
    with pytest.raises(DatasetError, match="Not a readable zip"):
        read_labelled_zip(b"PK\x03\x04 not really a zip")
    with pytest.raises(DatasetError, match="empty"):
        read_labelled_zip(b"")
    with pytest.raises(DatasetError, match="no images"):
        read_labelled_zip(zip_with_members({"notes/a.txt": b"text"}))


def test_symlink_member_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("Normal/link.png")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match="link"):
        read_labelled_zip(buf.getvalue())
