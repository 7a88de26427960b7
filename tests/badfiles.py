"""Hostile and broken files, made in memory by the tests (nothing is downloaded)."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, type, payload and CRC-32 (ISO/IEC 15948, section 5.3)."""
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width`` x ``height`` 1-bit pixels.

    A decoder that trusts the header would allocate the whole canvas (a decompression bomb);
    the IDAT holds a single empty row, so the file is also truncated.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + (width + 7) // 8))
    return (PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def zip_bomb(uncompressed_bytes: int = 50 * 1024 * 1024) -> bytes:
    """A zip whose one member inflates ``uncompressed_bytes`` of zeros (ratio about 1000:1)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("Normal/bomb.png", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(uncompressed_bytes // len(chunk)):
                member.write(chunk)
    return buf.getvalue()


def zip_with_members(members: dict[str, bytes]) -> bytes:
    """A zip holding the given member names (``../`` and absolute names kept as written)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def corpus(good_png: bytes) -> dict[str, bytes]:
    """Broken and hostile image files, by name, made from one good beat PNG.

    Images that are valid but unusual (16-bit, palette, CMYK) are drawn from the good beat, so
    they must be *classified*; the rest must be *refused* with a message.
    """
    import io

    from PIL import Image

    beat = Image.open(io.BytesIO(good_png)).convert("L")

    def save(im, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, format=fmt, **kw)
        return buf.getvalue()

    jpeg = save(beat, "JPEG", quality=90)
    frames = [beat, beat.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    return {
        "refuse/empty.png": b"",
        "refuse/truncated.png": good_png[: len(good_png) // 3],
        "refuse/truncated.jpg": jpeg[: len(jpeg) // 3],
        "refuse/bomb.png": png_declaring(100_000, 100_000),
        "refuse/animated.png": gif.getvalue(),
        "refuse/drawing.png": b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>',
        "refuse/page.png": b"<!doctype html><html><body>not an image</body></html>",
        "refuse/notes.png": b"just some text\n" * 20,
        "classify/sixteen_bit.png": save(beat.convert("I").point(lambda v: v * 257)
                                         .convert("I;16"), "PNG"),
        "classify/palette.png": save(beat.convert("P"), "PNG"),
        "classify/cmyk.jpg": save(beat.convert("CMYK"), "JPEG"),
        "classify/rgba.png": save(beat.convert("RGBA"), "PNG"),
    }
