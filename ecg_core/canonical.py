"""Decoding images safely and bringing every image to one canonical form before the model.

Beat images come from many tools: this project's renderer, the widely shared ECG image dataset
(192 x 128 px, grey line on white, plot margins, clipped peaks), screenshots, JPEGs, RGB or
dark-background images, thicker lines. :func:`canonical_form` removes what does not carry
information about the beat:

1. grayscale (ITU-R BT.601 luma, alpha composited on white);
2. polarity: the background is the median grey level; "ink" is the distance from it, so dark
   lines on light backgrounds and light lines on dark ones give the same result;
3. plot furniture: a screenshot of a plot may hold a frame (axes spines, closed or open), grid
   lines, ticks and tick labels. Where the image holds one (:func:`plot_lines`), its straight
   lines are erased and whatever lies outside the trace (ticks, labels) is dropped
   (:func:`remove_plot_furniture`). Images without one, like every image this project draws,
   pass unchanged;
4. crop to the trace's bounding box (plot margins and amplitude scale go away; specks smaller
   than a few pixels are ignored);
5. resize to a fixed size (area interpolation) and stretch contrast so that thin and thick
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
#: Version of what :func:`canonical_form` returns, raised whenever a change to it alters any
#: image's canonical form; caches of canonical arrays (:func:`ecg_core.dataset.load_split`)
#: are keyed by it. 2: two plot lines side by side (a grid line a few pixels inside the frame)
#: are both erased.
CANONICAL_VERSION: int = 2

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
_LINE_INK = 0.12        # fraction of the strongest ink that can belong to a grid line
_LINE_LENGTH = 0.6      # a straight run over this share of the image's width (height) is a line
_LINE_GAP = 3           # px from a line at which a thin line has (almost) no ink
_KEEP_PIECE = 0.25      # trace pieces at least this share of the largest one are kept
_PAPER_WHITE = 0.8      # on ECG paper, grey levels above this (of the paper's) are paper
_UNEVEN_LIGHT = 0.08    # background brightness spread (2nd-98th percentile) that is flattened


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
            f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_IMAGE_BYTES / 2**20:.0f} MB.")
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
    except UnidentifiedImageError as exc:
        raise ImageDecodeError("The file is not an image this tool can read (PNG, JPEG or BMP "
                               "expected).") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError("The image declares too many pixels to decode safely (a "
                               "decompression bomb?).") from exc
    except (OSError, ValueError, SyntaxError, EOFError, TypeError, MemoryError) as exc:
        detail = _plain_reason(exc)
        raise ImageDecodeError("The image is damaged or truncated"
                               + (f" ({detail})." if detail else ".")) from exc
    return gray


def _plain_reason(exc: BaseException) -> str:
    """The text of a decoder's exception with any Python object repr (``<... at 0x...>``) and
    file path removed, so that a message shown to a person never holds one."""
    import re

    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "", str(exc))
    text = re.sub(r"(/[^\s'\"]+)+", "", text)
    return " ".join(text.split()).strip(" :;,.'\"")


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
    if im.mode in ("L", "1"):
        return np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    # Pillow's own luma (integer arithmetic), the grey level every committed model was
    # trained on; the RGB channels are only looked at for ECG paper
    return rgb_to_gray(rgb, luma=np.asarray(im.convert("L"), dtype=np.float32) / 255.0)


#: Share of an image's pixels that must be pink or red (ECG paper or its grid) for the image to
#: be read as a trace on ECG paper (:func:`rgb_to_gray`).
MIN_PAPER_SHARE: float = 0.03


def rgb_to_gray(rgb: np.ndarray, luma: np.ndarray | None = None) -> np.ndarray:
    """Grey image of an RGB image, with ECG paper's grid taken out by its colour.

    An image whose pixels are pink or red for at least :data:`MIN_PAPER_SHARE` of its area (a
    trace on ECG paper, printed or photographed) is read in its red channel, where the pink
    grid and paper are almost white and a dark trace stays dark; the grid's tilt (a photo
    held askew) is measured on the pink pixels and turned back (:func:`paper_skew`). Any
    other image (or one whose red channel shows no trace, e.g. a red line on white) gives
    ITU-R BT.601 luma.

    Args:
        rgb: float array, shape (H, W, 3), RGB in [0, 1].
        luma: the image's luma if already computed (float (H, W) in [0, 1]), else
            ``0.299 R + 0.587 G + 0.114 B``.

    Returns:
        float32 array, shape (H, W), in [0, 1].
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if luma is None:
        luma = r * 0.299 + g * 0.587 + b * 0.114
    luma = np.asarray(luma, dtype=np.float32)
    pink = ((r - np.minimum(g, b)) > 0.06 * np.maximum(r, 1e-3)) & (r > 0.3)
    if pink.mean() < MIN_PAPER_SHARE:
        return luma
    red = r.astype(np.float32)
    if float(np.percentile(red, 50) - red.min()) < 0.3:
        return luma
    angle = paper_skew(pink)
    if angle:
        h, w = red.shape
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        red = cv2.warpAffine(red, turn, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    # the paper's brightness evened out, and what is nearly as light as the paper (the grid's
    # remains, JPEG's colour bleeding) set to white
    red = flatten_illumination(red, force=True)
    red[red > _PAPER_WHITE] = 1.0
    return red


def paper_skew(grid: np.ndarray, max_deg: float = 6.0, step_deg: float = 0.25) -> float:
    """Tilt of a grid in degrees, by projection profiles: the rotation in
    ``[-max_deg, max_deg]`` that makes the grid's row sums most uneven (its lines then run
    along the rows). Positive: turn the image counter-clockwise to straighten it.

    Args:
        grid: bool array (H, W), the grid's pixels.

    Returns:
        The angle in degrees (0.0 when the grid is straight to within ``step_deg``).
    """
    mask = grid.astype(np.float32)
    h, w = mask.shape
    scale = min(1.0, 240.0 / max(h, w))
    if scale < 1.0:
        mask = cv2.resize(mask, (max(2, int(w * scale)), max(2, int(h * scale))),
                          interpolation=cv2.INTER_AREA)
        h, w = mask.shape
    best, best_angle = -1.0, 0.0
    for angle in np.arange(-max_deg, max_deg + 1e-9, step_deg):
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        rows = cv2.warpAffine(mask, turn, (w, h), flags=cv2.INTER_LINEAR).sum(axis=1)
        spread = float(np.var(rows[h // 8: h - h // 8]))
        if spread > best:
            best, best_angle = spread, float(angle)
    return 0.0 if abs(best_angle) < step_deg else best_angle


def flatten_illumination(gray: np.ndarray, force: bool = False) -> np.ndarray:
    """Even out the light of a light-background image (a photo with a shadow or a bright
    corner): divide by the background, estimated by a grey-level closing that wipes out thin
    dark lines (kernel one tenth of the shorter side) and a blur. Images whose background is
    already even (every drawn image) come back unchanged.

    Args:
        gray: float32 array (H, W) in [0, 1], light background.
        force: divide by the background even where it is even.

    Returns:
        float32 array (H, W) in [0, 1].
    """
    h, w = gray.shape
    if not force:  # a quick look first: is the light part of the image even?
        small = gray[::4, ::4].ravel()
        light = np.sort(small[small >= np.partition(small, small.size // 2)[small.size // 2]
                              - 0.15])
        n = light.size - 1
        if light[int(0.95 * n)] - light[int(0.05 * n)] < _UNEVEN_LIGHT:
            return gray
    k = max(9, (min(h, w) // 10) | 1)
    background = cv2.morphologyEx(gray, cv2.MORPH_CLOSE,
                                  cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.blur(background, (k, k))
    lo, hi = np.percentile(background, [2, 98])
    if hi - lo < _UNEVEN_LIGHT and not force:
        return gray
    return np.clip(gray / np.maximum(background, 0.05), 0.0, 1.0).astype(np.float32)


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
        arr = rgb_to_gray(arr)
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ImageDecodeError(f"Unsupported image array shape {np.asarray(image).shape}.")
    return np.clip(arr, 0.0, 1.0)


def _long_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """The pixels of ``mask`` (bool (H, W)) in horizontal runs of at least ``min_len``."""
    out = np.zeros(mask.shape, dtype=bool)
    rows = np.flatnonzero(mask.sum(axis=1) >= min_len)
    if rows.size == 0:
        return out
    steps = np.diff(np.pad(mask[rows].astype(np.int8), ((0, 0), (1, 1))), axis=1)
    for i, r in enumerate(rows):
        for start, end in zip(np.flatnonzero(steps[i] == 1), np.flatnonzero(steps[i] == -1)):
            if end - start >= min_len:
                out[r, start:end] = True
    return out


def _thin(runs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The rows of ``runs`` that are thin lines: the band of rows around the run, contiguous
    with it, that hold ink along more than half of it is at most ``2 * _LINE_GAP - 1`` px
    thick. A band of ink (a shaded background) is no line; two thin lines a few pixels apart
    (a grid line beside the frame) are two lines."""
    out = runs.copy()
    h = mask.shape[0]
    widest = 2 * _LINE_GAP - 1
    for r in np.flatnonzero(runs.any(axis=1)):
        cols = runs[r]
        thickness = 1
        for step in (-1, 1):
            y = r + step
            while 0 <= y < h and thickness <= widest and mask[y, cols].mean() > 0.5:
                thickness += 1
                y += step
        if thickness > widest:
            out[r] = False
    return out


def plot_lines(ink: np.ndarray) -> np.ndarray:
    """The straight lines of a plot's frame or grid in an ink image, if it has one.

    A frame or grid shows itself by two thin horizontal lines, each a straight run of ink over
    at least 60% of the width, at least a tenth of the height apart: a trace never draws that
    (a graph has one height per column, and two such runs share columns). Then the vertical
    lines are those that span the rows between the outermost horizontal ones (spines, grid).
    An open frame (bottom and left axes lines only) shows itself by one such horizontal line
    whose left end meets the foot of a vertical line as long (over 60% of the height) rising
    from it. Checked on 227,754 images of the project's builds (none has such lines) and on
    matplotlib screenshots with axes, grids, tick labels and ECG paper (the README gives the
    figures).

    Args:
        ink: float array (H, W), ink strength normalised to max 1.

    Returns:
        bool array (H, W): the pixels of the frame's or grid's lines; all False when the image
        holds no frame or grid.
    """
    mask = ink >= _LINE_INK
    h, w = mask.shape
    horizontal = _thin(_long_runs(mask, int(np.ceil(_LINE_LENGTH * w))), mask)
    rows = np.flatnonzero(horizontal.any(axis=1))
    if rows.size == 0:
        return np.zeros_like(mask)
    vertical = _thin(_long_runs(mask.T, int(np.ceil(_LINE_LENGTH * h))), mask.T).T
    if rows.max() - rows.min() < max(3, 0.1 * h):
        return _corner(horizontal, vertical)
    top, bottom = int(rows.min()), int(rows.max())
    for c in np.flatnonzero(vertical.any(axis=0)):
        ys = np.flatnonzero(vertical[:, c])
        spans = (ys.min() <= top + 2 and ys.max() >= bottom - 2
                 and ys.size >= 0.9 * (bottom - top))
        if not spans:
            vertical[:, c] = False
    return horizontal | vertical


def _corner(horizontal: np.ndarray, vertical: np.ndarray) -> np.ndarray:
    """An open frame (the bottom and left axes lines only): one horizontal line whose left end
    meets the foot of a vertical line rising from it. Returns those two lines, or no pixels."""
    h, w = horizontal.shape
    ys, xs = np.nonzero(horizontal)
    left, row = int(xs.min()), int(ys.max())
    tick_x, tick_y = max(6, 0.05 * w), max(6, 0.05 * h)  # tick marks may run past the corner
    for c in np.flatnonzero(vertical.any(axis=0)):
        foot = int(np.flatnonzero(vertical[:, c]).max())
        if left - 2 <= c <= left + tick_x and row - 2 <= foot <= row + tick_y:
            out = horizontal.copy()
            out[:, c] = vertical[:, c]
            return out
    return np.zeros_like(horizontal)


def remove_plot_furniture(ink: np.ndarray) -> np.ndarray:
    """Erase a plot's frame, grid, ticks and tick labels from an ink image.

    Where :func:`plot_lines` finds a frame or grid, its lines are erased; the trace is then the
    largest piece of what is left (pieces a few pixels apart, where a grid line crossed the
    trace, count as one), with any other piece at least a quarter of its size (a trace cut by
    a clipped peak); everything outside the box of those pieces (ticks, tick labels, titles)
    is erased too. An image without a frame or grid is returned unchanged.

    Args:
        ink: float32 array (H, W), ink strength normalised to max 1.

    Returns:
        float32 array (H, W), normalised to max 1 again where anything was erased.
    """
    lines = plot_lines(ink)
    if not lines.any():
        return ink
    trace = (ink >= _INK_THRESHOLD) & ~lines
    if not trace.any():
        return ink
    near = cv2.dilate(trace.astype(np.uint8), np.ones((5, 5), np.uint8))
    n, labels = cv2.connectedComponents(near, connectivity=8)
    sizes = np.bincount(labels[trace], minlength=n)
    sizes[0] = 0
    pieces = np.isin(labels, np.flatnonzero(sizes >= _KEEP_PIECE * sizes.max())) & trace
    ys, xs = np.nonzero(pieces)
    out = np.zeros_like(ink)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    out[box] = np.where(lines[box], 0.0, ink[box])
    peak = float(out.max())
    return out / peak if peak > 0 else ink


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
    # 16-bit labels where they cannot overflow (fewer pixels than 2**16): about three times
    # faster in OpenCV on a beat image, with the same components and statistics
    ltype = cv2.CV_16U if mask.size < 2**16 else cv2.CV_32S
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=ltype)
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


def _median_gray(image: np.ndarray, gray: np.ndarray) -> float:
    """``np.median(gray)``, counted from a histogram when ``image`` is a uint8 (H, W) array.

    The same value as ``np.median`` (the two middle grey levels averaged in float32 when the
    pixel count is even), about ten times faster on the beats of a record.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        return float(np.median(gray))
    n = arr.size
    if np.count_nonzero(arr == 255) >= n - (n - 1) // 2:
        return 1.0  # white makes up both middle values (a drawn beat): no histogram needed
    cum = np.cumsum(np.bincount(arr.ravel(), minlength=256))
    lo = int(np.searchsorted(cum, (n - 1) // 2, side="right"))
    hi = int(np.searchsorted(cum, n // 2, side="right"))
    levels = np.array([lo, hi], dtype=np.float32) / np.float32(255.0)
    return float(np.mean(levels, dtype=np.float32))


def canonical_form(image: np.ndarray, size: tuple[int, int] = CANONICAL_SIZE) -> np.ndarray:
    """Bring a beat image to the canonical form the model reads.

    Steps: grayscale, polarity from the background (median grey level), a plot's frame and
    grid erased where there is one, crop to the trace, resize to ``size`` with area
    interpolation, contrast stretch. See the module docstring.

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
    background = _median_gray(image, gray)
    if background >= 0.5:
        flat = flatten_illumination(gray)
        if flat is not gray:
            gray, background = flat, float(np.median(flat))
    ink = (background - gray) if background >= 0.5 else (gray - background)
    ink = np.clip(ink, 0.0, None)
    peak = float(ink.max())
    if peak < _MIN_CONTRAST:
        raise ImageDecodeError("No ECG trace found in the image (too little contrast).")
    ink = remove_plot_furniture(ink / peak)
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


#: Share of canonical columns crossed by three or more separate ink runs above which an image
#: is said to hold more than one clean trace (grid, frame or text left over). Measured on the
#: project's drawings (random styles, the bundled examples: at most 0) and on simulated
#: photos of a beat on ECG paper (tilted, unevenly lit, JPEG 70: at least 0.17).
MAX_CROWDED_COLUMNS: float = 0.08

#: The same share counted on faint ink too (above 32 of 255): a grid that the canonical form
#: could not take out (a black-and-white photo of ECG paper) is faint but crosses every column.
#: Measured: wide-style drawings at most 0.07; grey photos of ECG paper at least 0.9; colour
#: photos (grid taken out by colour) 0.02 at the 95th percentile.
MAX_FAINT_CROWDED_COLUMNS: float = 0.25

#: Number of separate tall deflections (faint ink included, spanning over 45% of the canonical
#: height) from which an image is said to hold several beats. Of 200 one-beat drawings in
#: random styles (0.65-1.2 s windows; the beat and parts of its neighbours) none showed 6 and
#: one showed 5; of 200 strips of 3-6 s, 52% showed 6 or more.
MIN_SEVERAL_BEATS: int = 6


#: Contrast (0-1 grey levels between the background and the strongest ink) below which the
#: trace is called faint. Drawn images: 0.4 (the palest random style) to 1.0.
MIN_CLEAR_CONTRAST: float = 0.15


def image_warnings(canonical: np.ndarray, gray: np.ndarray | None = None) -> list[str]:
    """Why a canonical image may not be one clean beat, in words for the person who sent it.

    A check, not a cure: the prediction is still made, and these sentences are shown beside
    it. Thresholds: :data:`MAX_CROWDED_COLUMNS`, :data:`MAX_FAINT_CROWDED_COLUMNS` and
    :data:`MIN_SEVERAL_BEATS`.

    Args:
        canonical: uint8 array (H, W), the canonical form (trace bright on black).
        gray: optionally, the grey image it came from (float (H', W') in [0, 1], as from
            :func:`decode_image`), for the faint-trace check (:data:`MIN_CLEAR_CONTRAST`).

    Returns:
        A list of warnings (empty when the image looks like one clean trace).
    """
    ink = np.asarray(canonical) > 96
    if not ink.any():
        return ["The image holds almost no visible trace."]

    def crowded(mask: np.ndarray) -> float:
        starts = np.diff(np.vstack([np.zeros((1, mask.shape[1]), bool), mask]).astype(np.int8),
                         axis=0) == 1
        return float((starts.sum(axis=0) >= 3).mean())

    warnings = []
    if gray is not None:
        g = np.asarray(gray, dtype=np.float32)
        background = float(np.median(g))
        contrast = float(np.max(np.abs(g - background)))
        if contrast < MIN_CLEAR_CONTRAST:
            warnings.append(f"The trace is faint (its darkest ink is {contrast:.0%} of full "
                            "contrast away from the background): noise and compression weigh "
                            "more in what the model sees.")
    if crowded(ink) > MAX_CROWDED_COLUMNS or \
            crowded(np.asarray(canonical) > 32) > MAX_FAINT_CROWDED_COLUMNS:
        warnings.append("Several lines cross much of the image (a grid, frame or text left "
                        "over, as in a photo of ECG paper): this is not one clean trace, and "
                        "the prediction is not reliable.")
    faint = np.asarray(canonical) > 32  # thin QRS strokes fade when a strip is shrunk
    rows = np.arange(ink.shape[0])[:, None]
    top = np.where(faint, rows, ink.shape[0]).min(axis=0)
    bottom = np.where(faint, rows, -1).max(axis=0)
    tall = (bottom - top) > 0.45 * ink.shape[0]
    spikes = int((np.diff(np.r_[0, tall.astype(np.int8), 0]) == 1).sum())
    if spikes >= MIN_SEVERAL_BEATS:
        warnings.append(f"The image seems to hold several beats ({spikes} tall deflections): "
                        "the model reads one beat per image. For a strip, use the Record page.")
    return warnings
