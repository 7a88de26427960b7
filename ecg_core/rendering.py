"""Drawing a beat as a 2-D grayscale image with OpenCV.

One function, :func:`render_beat`, turns the samples around an R peak into an image. It serves
the dataset build, training, the CLI and the app. Its :class:`RenderStyle` can imitate other
plotting tools (margins, line width, anti-aliasing, grey level, dark background, amplitude
clipping, window length, JPEG artefacts); :func:`random_style` draws such styles for training,
so that the model learns to read images it did not draw itself (Jun et al. 2018 draw beats as
plain line images; the style variation is this project's addition).

The default style matches the widely shared 6-class ECG image dataset: 192 x 128 px, a thin
anti-aliased grey line on white with margins like a default plotting-library figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np

from .beats import WINDOW_AFTER_S, WINDOW_BEFORE_S, beat_window


@dataclass(frozen=True)
class RenderStyle:
    """How a beat is drawn.

    Attributes:
        width, height: canvas size in px.
        margin_left, margin_right, margin_top, margin_bottom: plot margins as fractions of the
            canvas (default: a default plotting-library figure's axes box).
        thickness: line width in px (>= 1).
        antialias: draw with anti-aliasing (``cv2.LINE_AA``) or not (``cv2.LINE_8``).
        line_level: grey level of the line, 0-255.
        background_level: grey level of the background, 0-255.
        line_color: an RGB colour for the line, or ``None`` for a grey line (then the image is
            single-channel).
        y_pad: fraction of the amplitude range added above and below the trace.
        clip_top, clip_bottom: fraction of the amplitude range cut off at the top/bottom of
            the axes; the excess runs into the margin and is cut at the image edge.
        before_s, after_s: window in seconds before/after the R peak.
        jpeg_quality: if set (1-100), the image is passed through JPEG at this quality.
        y_range_mv: a fixed vertical axis ``(bottom, top)`` in mV, the same for every beat, as
            a plot with set limits draws it; the trace outside the plot area is not drawn
            (clipped at its edge, so a tall R wave is cut flat and baseline wander moves the
            whole trace). ``None``: the axis fits each segment (with ``y_pad``/``clip_*``).
        first_channel: draw the record's first stored channel rather than lead MLII (they
            differ in MIT-BIH record 114 only, whose channels are stored swapped). Read by the
            callers that choose the signal (the dataset build), not by the drawing itself.
        paper_grid: draw ECG paper behind the trace: pink lines every 0.04 s and 0.1 mV
            (1 mm at 25 mm/s and 10 mm/mV), darker every 0.2 s and 0.5 mV.
    """

    width: int = 192
    height: int = 128
    margin_left: float = 0.125
    margin_right: float = 0.10
    margin_top: float = 0.12
    margin_bottom: float = 0.11
    thickness: int = 1
    antialias: bool = True
    line_level: int = 70
    background_level: int = 255
    line_color: tuple[int, int, int] | None = None
    y_pad: float = 0.05
    clip_top: float = 0.0
    clip_bottom: float = 0.0
    before_s: float = WINDOW_BEFORE_S
    after_s: float = WINDOW_AFTER_S
    jpeg_quality: int | None = None
    y_range_mv: tuple[float, float] | None = None
    first_channel: bool = False
    paper_grid: bool = False

    def to_dict(self) -> dict:
        """The style as a JSON-serialisable dict."""
        return asdict(self)


DEFAULT_STYLE = RenderStyle()

#: The drawing of the widely shared 6-class ECG image dataset, from its recipe (recovered by
#: matching every image of it to its MIT-BIH beat; ``../shared/reference/README.md``): 192 x 128
#: px with a default plotting-library figure's axes box (plot area x 24-172.8 px, y 15.4-113.9
#: px), 193 samples at 360 Hz from R - 96 to R + 96 (0.533 s), the record's first channel
#: unfiltered, one fixed scale of -1.755 to +1.086 mV (34.7 px per mV) with the trace clipped at
#: the plot edge, a thin anti-aliased mid-grey line.
SHARED_DATASET_STYLE = RenderStyle(
    width=192, height=128,
    margin_left=24.0 / 192, margin_right=(192 - 172.8) / 192,
    margin_top=15.4 / 128, margin_bottom=(128 - 113.9) / 128,
    thickness=1, antialias=True, line_level=105, y_pad=0.0,
    before_s=96 / 360, after_s=96 / 360,
    y_range_mv=(-1.755, 1.086), first_channel=True,
)

#: Named drawing styles (``--style`` of the CLI).
STYLE_PRESETS: dict[str, RenderStyle] = {
    "default": DEFAULT_STYLE,
    "shared-dataset": SHARED_DATASET_STYLE,
}


def plot_area(style: RenderStyle) -> tuple[float, float, float, float]:
    """The plot area of a style in px: ``(x0, x1, y0, y1)``, left/right/top/bottom edges,
    measured from the image's top-left corner."""
    w, h = int(style.width), int(style.height)
    return (style.margin_left * w, (1.0 - style.margin_right) * w,
            style.margin_top * h, (1.0 - style.margin_bottom) * h)


def render_signal(segment: np.ndarray, style: RenderStyle = DEFAULT_STYLE,
                  fs: float = 360.0) -> np.ndarray:
    """Draw a signal segment as a line image.

    Args:
        segment: float array, shape (n,), n >= 2, in mV (with a fitted axis any unit works:
            the vertical axis is scaled to the segment's range, as a plotting library's
            autoscale does; ``style.y_range_mv`` and ``style.paper_grid`` need mV).
        style: drawing style.
        fs: sampling rate of the segment in Hz (places the paper grid's time lines).

    Returns:
        uint8 array, shape (height, width) for a grey line or (height, width, 3) RGB for a
        coloured one.

    Raises:
        ValueError: if the segment has fewer than 2 samples or holds non-finite values.
    """
    seg = np.asarray(segment, dtype=np.float64)
    if seg.ndim != 1 or seg.size < 2 or not np.isfinite(seg).all():
        raise ValueError("segment must be a finite 1-D array of at least 2 samples")
    w, h = int(style.width), int(style.height)
    x0, x1, y0, y1 = plot_area(style)
    if style.y_range_mv is not None:
        ymin, ymax = (float(v) for v in style.y_range_mv)
        if not ymax > ymin:
            raise ValueError("y_range_mv must be (bottom, top) with top > bottom")
    else:
        lo, hi = float(seg.min()), float(seg.max())
        span = max(hi - lo, 1e-3)
        ymin = lo - style.y_pad * span + style.clip_bottom * span
        ymax = hi + style.y_pad * span - style.clip_top * span
        if ymax - ymin < 0.05 * span:
            ymax = ymin + 0.05 * span
    xs = np.linspace(x0, x1, seg.size)
    ys = y0 + (ymax - seg) / (ymax - ymin) * (y1 - y0)
    shift = 4  # sub-pixel precision: coordinates in 1/16 px
    pts = np.stack([xs, ys], axis=1) * (1 << shift)
    pts = np.clip(pts, -(1 << 20), 1 << 20).astype(np.int32).reshape(-1, 1, 2)
    line_type = cv2.LINE_AA if style.antialias else cv2.LINE_8
    thickness = max(1, int(style.thickness))
    colour = int(style.line_level) if style.line_color is None else \
        tuple(int(c) for c in style.line_color)
    shape = (h, w) if style.line_color is None else (h, w, 3)
    img = np.full(shape, style.background_level, dtype=np.uint8)
    if style.paper_grid:
        _draw_paper_grid(img, (seg.size - 1) / float(fs), (x0, x1, y0, y1), (ymin, ymax))
    if style.y_range_mv is not None:
        # a plot with set limits clips the line to its axes box
        layer = img.copy()
        cv2.polylines(layer, [pts], False, colour, thickness, line_type, shift)
        top, bottom = int(np.floor(y0)), int(np.ceil(y1))
        img[top:bottom + 1] = layer[top:bottom + 1]
    else:
        cv2.polylines(img, [pts], False, colour, thickness, line_type, shift)
    if style.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(style.jpeg_quality)])
        if ok:
            flag = cv2.IMREAD_GRAYSCALE if img.ndim == 2 else cv2.IMREAD_COLOR
            img = cv2.imdecode(buf, flag)
    return img


def render_beat(signal: np.ndarray, centre: int, fs: float,
                style: RenderStyle = DEFAULT_STYLE) -> np.ndarray:
    """Draw the beat at ``centre`` of a signal as a 2-D image.

    This is the one rendering function of the project: the dataset build, the CLI and the app
    all call it.

    Args:
        signal: float array, shape (n_samples,), in mV, at ``fs`` Hz (360 Hz in this project).
        centre: R-peak position in samples.
        fs: sampling rate in Hz.
        style: drawing style; its ``before_s``/``after_s`` set the window.

    Returns:
        uint8 image, shape (style.height, style.width) (or with 3 RGB channels for a coloured
        line style).

    Raises:
        RecordError: if ``centre`` lies outside the signal.
    """
    segment = beat_window(signal, centre, fs, style.before_s, style.after_s)
    return render_signal(segment, style, fs)


def _draw_paper_grid(img: np.ndarray, duration_s: float, box: tuple[float, float, float, float],
                     y_range: tuple[float, float]) -> None:
    """ECG paper in place: thin light-pink lines every 0.04 s and 0.1 mV, darker ones every
    0.2 s and 0.5 mV, over the whole canvas (paper extends beyond the plotted window)."""
    x0, x1, y0, y1 = box
    ymin, ymax = y_range
    h, w = img.shape[:2]
    px_per_s = (x1 - x0) / max(duration_s, 1e-6)
    px_per_mv = (y1 - y0) / max(ymax - ymin, 1e-6)
    light, dark = (255, 215, 215), (245, 150, 150)
    grey = img.ndim == 2

    def paint(pos: float, vertical: bool, colour) -> None:
        i = int(round(pos))
        limit = w if vertical else h
        if 0 <= i < limit:
            value = int(round(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2])) \
                if grey else colour
            if vertical:
                img[:, i] = value
            else:
                img[i, :] = value

    for step, colour in ((0.04, light), (0.2, dark)):
        k0 = int(np.floor(-x0 / px_per_s / step)) - 1
        k1 = int(np.ceil((w - x0) / px_per_s / step)) + 1
        for k in range(k0, k1):
            paint(x0 + k * step * px_per_s, True, colour)
    for step, colour in ((0.1, light), (0.5, dark)):
        k0 = int(np.floor((ymin - (h - y1) / px_per_mv) / step)) - 1
        k1 = int(np.ceil((ymax + y0 / px_per_mv) / step)) + 1
        for k in range(k0, k1):
            paint(y0 + (ymax - k * step) * px_per_mv, False, colour)


def random_style(rng: np.random.Generator) -> RenderStyle:
    """Draw a random drawing style, for training on images that other tools could have drawn.

    The ranges cover the widely shared ECG image dataset (192 x 128 px, thin anti-aliased grey
    line, plot margins, clipped peaks, 0.7-1 s windows) and the other uploads the app expects:
    screenshots at other sizes, thicker or aliased lines, coloured lines, dark backgrounds and
    JPEG artefacts. About a quarter of the draws keep the default style.

    Args:
        rng: a NumPy random generator (seed it for reproducible datasets).

    Returns:
        A :class:`RenderStyle`.
    """
    if rng.random() < 0.25:
        return DEFAULT_STYLE
    scale = float(rng.choice([0.67, 1.0, 1.0, 1.0, 1.5, 2.0, 3.0]))
    aspect = float(rng.uniform(1.2, 2.2))
    height = int(round(128 * scale))
    width = int(round(height * aspect))
    dark = rng.random() < 0.12
    colour = None
    if rng.random() < 0.15:
        palette = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (0, 0, 0), (0, 0, 255),
                   (148, 103, 189)]
        colour = palette[int(rng.integers(len(palette)))]
        if dark:
            colour = tuple(255 - c // 2 for c in colour)
    line_level = int(rng.integers(0, 150)) if not dark else int(rng.integers(170, 256))
    background = int(rng.integers(225, 256)) if not dark else int(rng.integers(0, 40))
    total = float(rng.uniform(0.65, 1.2))
    before_frac = float(rng.uniform(0.42, 0.58))
    clip = rng.random() < 0.3
    return replace(
        DEFAULT_STYLE,
        width=width, height=height,
        margin_left=float(rng.uniform(0.0, 0.16)), margin_right=float(rng.uniform(0.0, 0.14)),
        margin_top=float(rng.uniform(0.0, 0.15)), margin_bottom=float(rng.uniform(0.0, 0.15)),
        thickness=(int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
                   * (1 if scale < 1.5 else int(round(scale)))),
        antialias=bool(rng.random() < 0.8),
        line_level=line_level, background_level=background, line_color=colour,
        y_pad=float(rng.uniform(0.0, 0.1)),
        clip_top=float(rng.uniform(0.05, 0.3)) if clip and rng.random() < 0.7 else 0.0,
        clip_bottom=float(rng.uniform(0.05, 0.3)) if clip and rng.random() < 0.5 else 0.0,
        before_s=total * before_frac, after_s=total * (1 - before_frac),
        jpeg_quality=int(rng.integers(30, 96)) if rng.random() < 0.25 else None,
    )


#: Window lengths (s) that :func:`wide_random_style` draws, the shortest and the longest.
WIDE_WINDOW_S: tuple[float, float] = (0.4, 1.6)


def wide_random_style(rng: np.random.Generator) -> RenderStyle:
    """Draw a random style from a wider family than :func:`random_style`, for training.

    Other tools draw beats at other time and amplitude scales than this project's 1 s window
    fitted to the trace. This family covers them: a quarter of the draws is the shared image
    dataset's own drawing (:data:`SHARED_DATASET_STYLE`); the others take a
    :func:`random_style` look (size, margins, line, colours, JPEG) with a window of 0.4-1.6 s,
    a fixed mV scale with clipping for 40% of them (the axis spans 1.5-5 mV, its top at
    0.4-2.5 mV), and the record's first channel for 30%.

    Args:
        rng: a NumPy random generator (seed it for reproducible datasets).

    Returns:
        A :class:`RenderStyle`.
    """
    if rng.random() < 0.25:
        return SHARED_DATASET_STYLE
    look = random_style(rng)
    total = float(rng.uniform(*WIDE_WINDOW_S))
    before_frac = float(rng.uniform(0.42, 0.58))
    y_range = None
    if rng.random() < 0.4:
        top = float(rng.uniform(0.4, 2.5))
        y_range = (top - float(rng.uniform(1.5, 5.0)), top)
    return replace(look, before_s=total * before_frac, after_s=total * (1 - before_frac),
                   y_range_mv=y_range, first_channel=bool(rng.random() < 0.3),
                   clip_top=0.0 if y_range else look.clip_top,
                   clip_bottom=0.0 if y_range else look.clip_bottom)


#: Style families of a dataset build's drawings (``BuildConfig.extra_styles``).
STYLE_FAMILIES = {"screen": random_style, "wide": wide_random_style}
