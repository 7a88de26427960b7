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

    def to_dict(self) -> dict:
        """The style as a JSON-serialisable dict."""
        return asdict(self)


DEFAULT_STYLE = RenderStyle()


def render_signal(segment: np.ndarray, style: RenderStyle = DEFAULT_STYLE) -> np.ndarray:
    """Draw a signal segment as a line image.

    Args:
        segment: float array, shape (n,), n >= 2, in mV (any unit works: the vertical axis is
            scaled to the segment's range, as a plotting library's autoscale does).
        style: drawing style.

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
    x0 = style.margin_left * w
    x1 = (1.0 - style.margin_right) * w
    y0 = style.margin_top * h
    y1 = (1.0 - style.margin_bottom) * h
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
    if style.line_color is None:
        img = np.full((h, w), style.background_level, dtype=np.uint8)
        cv2.polylines(img, [pts], False, int(style.line_level), thickness, line_type, shift)
    else:
        img = np.full((h, w, 3), style.background_level, dtype=np.uint8)
        cv2.polylines(img, [pts], False, tuple(int(c) for c in style.line_color), thickness,
                      line_type, shift)
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
    return render_signal(segment, style)


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
