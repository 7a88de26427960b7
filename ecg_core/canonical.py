"""Decoding images safely and bringing every image to one canonical form before the model.

Beat images come from many tools: this project's renderer, the widely shared ECG image dataset
(192 x 128 px, grey line on white, plot margins, clipped peaks), screenshots, JPEGs, RGB or
dark-background images, thicker lines. :func:`canonical_form` removes what does not carry
information about the beat:

1. grayscale (ITU-R BT.601 luma, alpha composited on white);
2. polarity: the background is the median grey level; "ink" is the distance from it, so dark
   lines on light backgrounds and light lines on dark ones give the same result;
3. crop to the trace's bounding box (plot margins and amplitude scale go away; specks smaller
   than a few pixels are ignored);
4. resize to a fixed size (area interpolation) and stretch contrast so that thin and thick
   lines both reach full intensity.

The result is a uint8 image with the trace bright (255) on black (0).
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np

from .errors import ImageDecodeError

#: Canonical image size (height, width) in px.
CANONICAL_SIZE: tuple[int, int] = (64, 64)

#: Largest upload accepted, in bytes.
MAX_IMAGE_BYTES: int = 10 * 1024 * 1024
#: Largest image accepted, in pixels (width x height), checked before decoding.
MAX_IMAGE_PIXELS: int = 25_000_000
#: Smallest image side accepted, in px.
MIN_IMAGE_SIDE: int = 16
#: Image formats accepted (Pillow format names).
ALLOWED_FORMATS: frozenset[str] = frozenset({"PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP"})
#: File extensions treated as images by the CLI's folder walk and the app's uploader.
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp")

_INK_THRESHOLD = 0.25   # fraction of the strongest ink that counts as trace
_MIN_CONTRAST = 0.04    # weakest ink (0-1 grey levels) that counts as a trace at all
_CONTRAST_KNEE = 0.6    # resized ink at this fraction of its maximum maps to 255


def decode_image(data: bytes) -> np.ndarray:
    """Decode image bytes into a grayscale float image, refusing hostile or unusable files.

    Pillow decodes; sizes are checked from the header before any pixel is decoded, so a
    decompression bomb is refused without allocating it. Accepted: PNG, JPEG, BMP, GIF (one
    frame), TIFF and WebP in any mode (1-bit, 8/16-bit grey, palette, RGB, RGBA, CMYK, ...).

    Args:
        data: the file's bytes.

    Returns:
        float32 array, shape (height, width), values in [0, 1] (0 black, 1 white).

    Raises:
        ImageDecodeError: for empty, oversized, truncated, animated or non-image data, or an
            image format outside :data:`ALLOWED_FORMATS`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageDecodeError("The file is empty (0 bytes).")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_IMAGE_BYTES / 1e6:.0f} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = (im.format or "").upper()
            if fmt not in ALLOWED_FORMATS:
                raise ImageDecodeError(
                    f"Image format {fmt or 'unknown'} is not supported; use PNG, JPEG or BMP.")
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ImageDecodeError(
                    f"The image declares {w} x {h} pixels; the limit is "
                    f"{MAX_IMAGE_PIXELS / 1e6:.0f} million pixels.")
            if min(w, h) < MIN_IMAGE_SIDE:
                raise ImageDecodeError(
                    f"The image is {w} x {h} pixels; at least {MIN_IMAGE_SIDE} px per side "
                    "is needed to show a beat.")
            if getattr(im, "n_frames", 1) > 1:
                raise ImageDecodeError(
                    "Animated or multi-frame images are not supported; upload a single "
                    "still image of one beat.")
            im.load()
            im = ImageOps.exif_transpose(im)
            gray = _to_gray(im)
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"The file is not a readable image ({exc}).") from exc
    except (OSError, ValueError, SyntaxError, EOFError, TypeError, MemoryError) as exc:
        raise ImageDecodeError(f"The image is damaged or truncated ({exc}).") from exc
    return gray


def _to_gray(im) -> np.ndarray:
    """Pillow image of any mode -> float32 grey image in [0, 1]."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        return np.clip(arr / top, 0.0, 1.0).astype(np.float32)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        from PIL import Image

        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    gray = im.convert("L")
    return np.asarray(gray, dtype=np.float32) / 255.0


def to_gray_array(image: np.ndarray) -> np.ndarray:
    """Bring an image array of any common layout to a float grey image in [0, 1].

    Args:
        image: array of shape (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA; dtype uint8,
            uint16, bool or float (floats taken as already in [0, 1]).

    Returns:
        float32 array, shape (H, W), in [0, 1].

    Raises:
        ImageDecodeError: for any other shape, or a non-finite float image.
    """
    arr = np.asarray(image)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.float32)
    elif arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        arr = arr.astype(np.float32) / 65535.0
    else:
        arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise ImageDecodeError("The image holds non-finite values.")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        alpha = arr[:, :, 3:4]
        arr = arr[:, :, :3] * alpha + (1.0 - alpha)
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = arr[:, :, 0] * 0.299 + arr[:, :, 1] * 0.587 + arr[:, :, 2] * 0.114
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ImageDecodeError(f"Unsupported image array shape {np.asarray(image).shape}.")
    return np.clip(arr, 0.0, 1.0)


def trace_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of the trace in an ink image.

    Args:
        ink: float32 array (H, W), ink strength normalised to max 1.

    Returns:
        ``(top, bottom, left, right)`` inclusive pixel bounds.

    Raises:
        ImageDecodeError: if no trace is found.
    """
    mask = (ink >= _INK_THRESHOLD).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        raise ImageDecodeError("No ECG trace found in the image (it looks blank).")
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep_min = max(3, int(0.002 * areas.sum()))
    keep = np.flatnonzero(areas >= keep_min) + 1
    if keep.size == 0:
        keep = np.array([int(np.argmax(areas)) + 1])
    left = int(stats[keep, cv2.CC_STAT_LEFT].min())
    top = int(stats[keep, cv2.CC_STAT_TOP].min())
    right = int((stats[keep, cv2.CC_STAT_LEFT] + stats[keep, cv2.CC_STAT_WIDTH]).max()) - 1
    bottom = int((stats[keep, cv2.CC_STAT_TOP] + stats[keep, cv2.CC_STAT_HEIGHT]).max()) - 1
    return top, bottom, left, right


def canonical_form(image: np.ndarray, size: tuple[int, int] = CANONICAL_SIZE) -> np.ndarray:
    """Bring a beat image to the canonical form the model reads.

    Steps: grayscale, polarity from the background (median grey level), crop to the trace,
    resize to ``size`` with area interpolation, contrast stretch. See the module docstring.

    Args:
        image: the image as an array in any layout accepted by :func:`to_gray_array`
            (e.g. uint8 (H, W) from :func:`ecg_core.rendering.render_beat`, or the float
            image from :func:`decode_image`).
        size: ``(height, width)`` of the result in px.

    Returns:
        uint8 array, shape ``size``: the trace bright (up to 255) on black (0).

    Raises:
        ImageDecodeError: if the image holds no visible trace.
    """
    gray = to_gray_array(image)
    background = float(np.median(gray))
    ink = (background - gray) if background >= 0.5 else (gray - background)
    ink = np.clip(ink, 0.0, None)
    peak = float(ink.max())
    if peak < _MIN_CONTRAST:
        raise ImageDecodeError("No ECG trace found in the image (too little contrast).")
    ink /= peak
    top, bottom, left, right = trace_box(ink)
    crop = ink[top:bottom + 1, left:right + 1]
    out_h, out_w = int(size[0]), int(size[1])
    interp = cv2.INTER_AREA if crop.shape[0] >= out_h and crop.shape[1] >= out_w \
        else cv2.INTER_LINEAR
    small = cv2.resize(crop, (out_w, out_h), interpolation=interp)
    top_val = float(small.max())
    if top_val <= 0:
        raise ImageDecodeError("No ECG trace found in the image.")
    small = np.clip(small / (_CONTRAST_KNEE * top_val), 0.0, 1.0)
    return np.round(small * 255.0).astype(np.uint8)


def canonical_from_bytes(data: bytes, size: tuple[int, int] = CANONICAL_SIZE) -> np.ndarray:
    """Decode image bytes and bring them to canonical form.

    Args:
        data: image file bytes.
        size: ``(height, width)`` of the result in px.

    Returns:
        uint8 array, shape ``size``.

    Raises:
        ImageDecodeError: see :func:`decode_image` and :func:`canonical_form`.
    """
    return canonical_form(decode_image(data), size)
