"""Uploaded zip archives, checked before any member is inflated and read in memory only.

Both zip uploads of the project go through here: a labelled set of beat images
(:mod:`ecg_core.labelled_set`) and a WFDB record (:func:`ecg_core.records.read_uploaded_record`).
An archive is refused, with the caller's error type, for a member with an absolute or ``..``
path, a link, a declared size over the per-member or total limit, a compression ratio over
:data:`MAX_COMPRESSION_RATIO` (the mark of a zip bomb), or too many members. Sizes are then
checked again on the inflated bytes, in case a header lied.
"""

from __future__ import annotations

import io
import stat
import zipfile

from .errors import ECGCoreError

#: Largest uncompressed / compressed size ratio accepted for a member over 1 kB.
MAX_COMPRESSION_RATIO = 200.0


def _is_unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return any(p == ".." for p in name.replace("\\", "/").split("/"))


def open_zip(data: bytes, *, max_members: int, max_member_bytes: int, max_total_bytes: int,
             error: type[ECGCoreError] = ECGCoreError
             ) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open a zip held in memory after checking every member's name, type and declared size.

    Args:
        data: the zip file's bytes.
        max_members: most members (folders included).
        max_member_bytes: largest uncompressed size of one member, bytes.
        max_total_bytes: largest uncompressed size of all members together, bytes.
        error: the exception class to raise (the caller's own, e.g. ``DatasetError``).

    Returns:
        ``(zip file, infos)``: the open archive and its file members (folders left out), in
        archive order. Read members with :func:`read_member`.

    Raises:
        error: for empty or unreadable bytes, too many members, an absolute or ``..`` path, a
            link, a member over ``max_member_bytes`` or a compression ratio over
            :data:`MAX_COMPRESSION_RATIO`, or more than ``max_total_bytes`` in all.
    """
    if not data:
        raise error("The zip file is empty (0 bytes).")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise error(f"Not a readable zip file ({exc}).") from exc
    if len(infos) > max_members:
        raise error(f"The zip has {len(infos):,} members; the limit is {max_members:,}.")
    total = 0
    for info in infos:
        if _is_unsafe_name(info.filename):
            raise error(f"Refused: the zip member '{info.filename}' points outside the "
                        "archive (absolute or '..' path).")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise error(f"Refused: the zip member '{info.filename}' is a link.")
        if info.is_dir():
            continue
        if info.file_size > max_member_bytes:
            raise error(f"Refused: '{info.filename}' would unpack to "
                        f"{info.file_size / 2**20:.0f} MB (limit {max_member_bytes / 2**20:.0f} MB "
                        "per file).")
        if info.file_size > 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(
                info.compress_size, 1):
            raise error(f"Refused: '{info.filename}' is compressed "
                        f"{info.file_size / max(info.compress_size, 1):.0f}:1, the mark of a "
                        "zip bomb.")
        total += info.file_size
        if total > max_total_bytes:
            raise error(f"Refused: the zip would unpack to more than "
                        f"{max_total_bytes / 2**20:.0f} MB.")
    return zf, [i for i in infos if not i.is_dir()]


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_member_bytes: int,
                error: type[ECGCoreError] = ECGCoreError) -> bytes:
    """The inflated bytes of one member of an archive from :func:`open_zip`.

    Raises:
        error: if the member is damaged or inflates beyond ``max_member_bytes``.
    """
    try:
        payload = zf.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise error(f"The zip member '{info.filename}' is damaged ({exc}).") from exc
    if len(payload) > max_member_bytes:  # a header that lied about its size
        raise error(f"Refused: '{info.filename}' unpacks beyond its declared size.")
    return payload
