"""Labelled image sets uploaded as a zip of class folders, read safely in memory.

The widely shared ECG image dataset comes as folders named by class ("Normal",
"Left Bundle Branch Block", ...). A user zips such folders (at any depth: ``test/Normal/1.png``
is fine) and the app evaluates the model on them. Nothing is extracted to disk: members are
read into memory after their names and sizes are checked (:mod:`ecg_core.archives`), so a
zip bomb (huge uncompressed size or compression ratio), path traversal (``../``, absolute
names), links and too many members are refused before any byte is inflated.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .archives import open_zip, read_member
from .canonical import IMAGE_EXTENSIONS
from .classes import KNOWN_MISLABELLED_FOLDERS, folder_to_class
from .errors import DatasetError

#: Limits on an uploaded zip (the app's upload limit is lower still).
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_MEMBER_BYTES = 20 * 1024 * 1024

_IGNORED_PARTS = ("__MACOSX",)
_IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass
class LabelledSet:
    """Images of a labelled set, in memory.

    Attributes:
        items: ``(member name, class folder, image bytes)`` for each image member whose folder
            maps to a class.
        folders: class folder name -> class code, or ``None`` where the name is unknown.
        counts: class folder name -> number of image members in it.
        warnings: known label problems of the shared dataset (folder -> text) and members
            that were skipped (non-image files, images outside any class folder).
    """

    items: list[tuple[str, str, bytes]] = field(default_factory=list)
    folders: dict[str, str | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def labelled_items(self, mapping: dict[str, str | None] | None = None
                       ) -> list[tuple[str, str, bytes]]:
        """``(member name, class code, bytes)`` under a folder mapping (default: ``folders``);
        folders mapped to ``None`` are left out."""
        mapping = self.folders if mapping is None else mapping
        return [(name, mapping[folder], data) for name, folder, data in self.items
                if mapping.get(folder)]


def read_labelled_zip(data: bytes) -> LabelledSet:
    """Read a zip of class folders of beat images, refusing hostile archives.

    Args:
        data: the zip file's bytes.

    Returns:
        A :class:`LabelledSet`; folder names are mapped to class codes with
        :func:`ecg_core.classes.folder_to_class`, and folders whose label is known to be wrong
        in the widely shared dataset come with a warning.

    Raises:
        DatasetError: if the bytes are not a zip, the archive has a member with an absolute or
            ``..`` path or a link, too many members, a member larger than
            :data:`MAX_MEMBER_BYTES`, a compression ratio over
            :data:`ecg_core.archives.MAX_COMPRESSION_RATIO`
            (zip bomb), more than :data:`MAX_ZIP_UNCOMPRESSED_BYTES` in all, or no image in a
            class folder.
    """
    zf, infos = open_zip(data, max_members=MAX_ZIP_MEMBERS, max_member_bytes=MAX_MEMBER_BYTES,
                         max_total_bytes=MAX_ZIP_UNCOMPRESSED_BYTES, error=DatasetError)
    out = LabelledSet()
    skipped_other: list[str] = []
    skipped_loose: list[str] = []
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = name.split("/")
        if any(p in _IGNORED_PARTS for p in parts) or parts[-1] in _IGNORED_NAMES \
                or parts[-1].startswith("._"):
            continue
        if posixpath.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
            skipped_other.append(name)
            continue
        if len(parts) < 2:
            skipped_loose.append(name)
            continue
        folder = parts[-2]
        payload = read_member(zf, info, max_member_bytes=MAX_MEMBER_BYTES, error=DatasetError)
        out.items.append((name, folder, payload))
        out.counts[folder] = out.counts.get(folder, 0) + 1
    if not out.items:
        raise DatasetError("The zip holds no images inside class folders (expected e.g. "
                           "'Normal/beat1.png').")
    for folder in sorted(out.counts):
        out.folders[folder] = folder_to_class(folder)
        key = " ".join(folder.replace("_", " ").replace("-", " ").split()).lower()
        if key in KNOWN_MISLABELLED_FOLDERS:
            out.warnings.append(f"'{folder}': {KNOWN_MISLABELLED_FOLDERS[key]}")
    if skipped_other:
        out.warnings.append(f"{len(skipped_other)} member(s) that are not images were "
                            f"skipped, e.g. '{skipped_other[0]}'.")
    if skipped_loose:
        out.warnings.append(f"{len(skipped_loose)} image(s) outside any class folder were "
                            f"skipped, e.g. '{skipped_loose[0]}'.")
    return out
