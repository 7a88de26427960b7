"""The renderer, the canonical form and the safe decoder."""

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from ecg_core.canonical import (CANONICAL_SIZE, canonical_form, canonical_from_bytes,
                                decode_image, plot_lines, remove_plot_furniture)
from ecg_core.errors import ImageDecodeError
from ecg_core.rendering import DEFAULT_STYLE, random_style, render_beat, render_signal
from tests.badfiles import png_declaring


def _beat(n=361):
    """A synthetic beat: P wave, sharp QRS, T wave, in mV."""
    t = np.linspace(-0.5, 0.5, n)
    return (0.15 * np.exp(-((t + 0.2) / 0.03) ** 2) + 1.2 * np.exp(-(t / 0.01) ** 2)
            - 0.3 * np.exp(-((t - 0.02) / 0.01) ** 2) + 0.3 * np.exp(-((t - 0.25) / 0.05) ** 2))


def _png(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _corr(a, b):
    a, b = a.astype(float).ravel(), b.astype(float).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def test_default_render_matches_the_shared_dataset_format():
    img = render_signal(_beat())
    assert img.shape == (128, 192) and img.dtype == np.uint8
    assert img[0, 0] == 255 and img.min() < 120  # white background, grey line
    # plot margins: nothing drawn in the outer rows/columns
    assert (img[:10] == 255).all() and (img[:, :20] == 255).all()


def test_render_beat_uses_the_style_window():
    sig = np.tile(_beat(), 4).astype(np.float32)
    img = render_beat(sig, 541, 360.0, replace(DEFAULT_STYLE, before_s=0.3, after_s=0.3))
    assert img.shape == (128, 192)
    with pytest.raises(ValueError):
        render_signal(np.array([1.0]))


def test_canonical_form_removes_style_differences():
    ref = canonical_form(render_signal(_beat()))
    assert ref.shape == CANONICAL_SIZE and ref.dtype == np.uint8 and ref.max() == 255
    variants = {
        "dark background": replace(DEFAULT_STYLE, line_level=230, background_level=10),
        "colour line": replace(DEFAULT_STYLE, line_color=(31, 119, 180)),
        "big, no margins": replace(DEFAULT_STYLE, width=600, height=400, margin_left=0,
                                   margin_right=0, margin_top=0, margin_bottom=0, thickness=3),
        "jpeg": replace(DEFAULT_STYLE, jpeg_quality=40),
        "aliased": replace(DEFAULT_STYLE, antialias=False),
    }
    for name, style in variants.items():
        other = canonical_form(render_signal(_beat(), style))
        assert _corr(ref, other) > 0.6, name
    # a different beat shape is further away than any style variant
    flat = canonical_form(render_signal(np.sin(np.linspace(0, 12, 361))))
    assert _corr(ref, flat) < 0.4


def _framed(img, grid=True, closed=True):
    """The default render with what a plot screenshot adds: a frame at the axes box (closed,
    or open: bottom and left lines only), grid lines, ticks and tick labels outside it."""
    import cv2

    out = img.copy()
    h, w = out.shape
    x0, x1 = int(DEFAULT_STYLE.margin_left * w), int((1 - DEFAULT_STYLE.margin_right) * w)
    y0, y1 = int(DEFAULT_STYLE.margin_top * h), int((1 - DEFAULT_STYLE.margin_bottom) * h)
    if grid:
        for x in np.linspace(x0, x1, 6)[1:-1].astype(int):
            cv2.line(out, (x, y0), (x, y1), 190, 1)
        for y in np.linspace(y0, y1, 5)[1:-1].astype(int):
            cv2.line(out, (x0, y), (x1, y), 190, 1)
    if closed:
        cv2.rectangle(out, (x0, y0), (x1, y1), 0, 1)
    else:
        cv2.line(out, (x0, y1), (x1, y1), 0, 1)
        cv2.line(out, (x0, y0), (x0, y1), 0, 1)
    for x in np.linspace(x0, x1, 6).astype(int):
        cv2.line(out, (x, y1), (x, y1 + 3), 0, 1)
        cv2.putText(out, "0.5", (x - 6, h - 2), cv2.FONT_HERSHEY_PLAIN, 0.6, 0, 1)
    cv2.putText(out, "1.0", (0, y0 + 5), cv2.FONT_HERSHEY_PLAIN, 0.6, 0, 1)
    return out


def test_a_plots_frame_grid_ticks_and_labels_are_removed():
    bare = render_signal(_beat())
    ref = canonical_form(bare)
    for grid, closed in ((False, True), (True, True), (False, False)):
        framed = _framed(bare, grid, closed)
        gray = framed.astype(np.float32) / 255
        lines = plot_lines(1 - gray)
        edge = int(0.89 * 128) if not closed else int(0.12 * 128)  # bottom or top line
        assert lines.any() and lines[edge].sum() > 100, (grid, closed)
        cleaned = remove_plot_furniture(1 - gray)
        assert cleaned[:, :10].max() == 0 and cleaned[-6:].max() == 0  # labels and ticks gone
        other = canonical_form(framed)
        assert _corr(ref, other) > 0.9, (grid, closed)
        assert np.abs(ref.astype(int) - other).mean() < 12, (grid, closed)
    # without the removal the frame takes over the crop
    framed = 1 - _framed(bare).astype(np.float32) / 255
    assert _corr(ref, canonical_form(1 - framed)) > _corr(ref, _crop_without_removal(framed))


def test_a_grid_line_a_few_pixels_inside_the_frame_is_erased_with_it():
    # matplotlib's last grid line often falls 3 px inside the right spine (and the top one
    # under the top spine): two thin lines side by side, not a band of ink
    import cv2

    bare = render_signal(_beat())
    ref = canonical_form(bare)
    framed = _framed(bare, grid=True, closed=True)
    h, w = framed.shape
    x0, x1 = int(DEFAULT_STYLE.margin_left * w), int((1 - DEFAULT_STYLE.margin_right) * w)
    y0, y1 = int(DEFAULT_STYLE.margin_top * h), int((1 - DEFAULT_STYLE.margin_bottom) * h)
    cv2.line(framed, (x1 - 3, y0), (x1 - 3, y1), 190, 1)
    cv2.line(framed, (x0, y0 + 3), (x1, y0 + 3), 190, 1)
    lines = plot_lines(1 - framed.astype(np.float32) / 255)
    for col in (x1, x1 - 3):
        assert lines[y0:y1, col].mean() > 0.9, col
    for row in (y0, y0 + 3):
        assert lines[row, x0:x1].mean() > 0.9, row
    other = canonical_form(framed)
    assert _corr(ref, other) > 0.9
    assert np.abs(ref.astype(int) - other).mean() < 12
    # a band of ink 8 px thick is still no line: a shaded strip behind a bare beat
    shaded = bare.copy()
    shaded[20:28] = np.minimum(shaded[20:28], 120)
    assert not plot_lines(1 - shaded.astype(np.float32) / 255).any()


def _crop_without_removal(ink):
    """The canonical form as it was before plot furniture was removed (for comparison)."""
    import cv2

    from ecg_core.canonical import trace_box

    top, bottom, left, right = trace_box(ink / ink.max())
    small = cv2.resize(ink[top:bottom + 1, left:right + 1], CANONICAL_SIZE[::-1],
                       interpolation=cv2.INTER_AREA)
    return np.round(np.clip(small / (0.6 * small.max()), 0, 1) * 255).astype(np.uint8)


def test_images_without_a_frame_pass_unchanged():
    rng = np.random.default_rng(7)
    sig = np.tile(_beat(), 3).astype(np.float32)
    for _ in range(200):
        style = random_style(rng)
        img = render_beat(sig, 541, 360.0, style)
        gray = img.astype(np.float32) / 255 if img.ndim == 2 else \
            img.mean(axis=2).astype(np.float32) / 255
        ink = np.abs(gray - np.median(gray))
        ink /= ink.max()
        assert not plot_lines(ink).any(), style
        assert remove_plot_furniture(ink) is ink
    # a flat line over most of the width is still one line, not a frame
    flat = np.full(361, 0.0)
    flat[330:350] = np.hanning(20)  # a run of ink along 85% of the width
    ink = 1 - render_signal(flat).astype(np.float32) / 255
    assert not plot_lines(ink / ink.max()).any()


def test_random_styles_are_seeded_and_render():
    a = [random_style(np.random.default_rng(s)) for s in range(30)]
    b = [random_style(np.random.default_rng(s)) for s in range(30)]
    assert a == b and len(set(a)) > 20
    for style in a:
        img = render_signal(_beat(), style)
        canonical_form(img)  # every style yields a usable image


def test_decode_handles_modes_like_the_model_expects():
    img = render_signal(_beat())
    ref = canonical_from_bytes(_png(img))
    rgb = np.stack([img] * 3, axis=2)
    rgba = np.dstack([rgb, np.full(img.shape, 255, np.uint8)])
    sixteen = img.astype(np.uint16) * 257
    assert Image.open(io.BytesIO(_png(sixteen))).mode.startswith("I;16")
    assert np.array_equal(canonical_from_bytes(_png(rgb)), ref)
    assert np.array_equal(canonical_from_bytes(_png(rgba)), ref)
    assert _corr(canonical_from_bytes(_png(sixteen)), ref) > 0.99
    pal = Image.fromarray(rgb).convert("P")
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    assert _corr(canonical_from_bytes(buf.getvalue()), ref) > 0.95
    cmyk = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(cmyk, format="JPEG", quality=95)
    assert _corr(canonical_from_bytes(cmyk.getvalue()), ref) > 0.8


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"hello, this is text", "not an image this tool can read"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not an image this tool can read"),
])
def test_decode_refuses_non_images(data, match):
    with pytest.raises(ImageDecodeError, match=match) as caught:
        decode_image(data)
    assert " at 0x" not in str(caught.value) and "BytesIO" not in str(caught.value)


def test_decode_refuses_truncated_bomb_animated_and_blank():
    good = _png(render_signal(_beat()))
    with pytest.raises(ImageDecodeError):
        decode_image(good[: len(good) // 2])
    with pytest.raises(ImageDecodeError, match="pixels"):
        decode_image(png_declaring(100_000, 100_000))  # a few bytes declaring 10^10 pixels
    frames = [Image.fromarray(render_signal(s))
              for s in (_beat(), np.sin(np.linspace(0, 9, 361)))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageDecodeError, match="Animated"):
        decode_image(gif.getvalue())
    with pytest.raises(ImageDecodeError, match="No ECG trace"):
        canonical_from_bytes(_png(np.full((128, 192), 255, np.uint8)))


def _photo_of_paper(segment: np.ndarray, rng: np.random.Generator, grey: bool = False) -> bytes:
    """A beat drawn on pink ECG paper (1 mm and 5 mm grid), tilted up to 5 degrees, lit
    unevenly and saved as JPEG 70: what a phone photo of a printout looks like. ``grey``:
    a black-and-white photo, where the grid cannot be told from the trace by its colour."""
    import cv2

    h, w = 300, 450
    paper = np.zeros((h, w, 3), np.uint8)
    paper[:] = (235, 215, 250)
    for x in range(0, w, 10):
        cv2.line(paper, (x, 0), (x, h), (200, 150, 240), 2 if x % 50 == 0 else 1)
    for y in range(0, h, 10):
        cv2.line(paper, (0, y), (w, y), (200, 150, 240), 2 if y % 50 == 0 else 1)
    xs = np.linspace(20, w - 20, len(segment))
    ys = h / 2 - (segment - np.median(segment)) * 80
    cv2.polylines(paper, [np.stack([xs, ys], 1).astype(np.int32)], False, (30, 30, 30), 2,
                  cv2.LINE_AA)
    tilt = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-5, 5)), 1.0)
    paper = cv2.warpAffine(paper, tilt, (w, h), borderMode=cv2.BORDER_REPLICATE)
    paper = np.clip(paper * np.linspace(0.7, 1.1, w)[None, :, None], 0, 255).astype(np.uint8)
    if grey:
        paper = cv2.cvtColor(paper, cv2.COLOR_BGR2GRAY)
    return cv2.imencode(".jpg", paper, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()


def test_image_warnings_flag_photos_of_paper_and_strips_not_clean_beats():
    from dataclasses import replace

    from ecg_core.beats import labelled_beats
    from ecg_core.canonical import image_warnings
    from ecg_core.records import read_record
    from ecg_core.rendering import random_style, render_beat
    from tests.conftest import EXAMPLES, EXCERPT_MITDB

    rng = np.random.default_rng(7)
    rec = read_record(EXCERPT_MITDB / "208")
    beats = [b for b in labelled_beats(rec)][5:45]
    for path in sorted(EXAMPLES.glob("*/*.png")):
        assert image_warnings(canonical_from_bytes(path.read_bytes())) == [], path.name
    clean = [image_warnings(canonical_form(render_beat(rec.signal, b.sample, rec.fs,
                                                       random_style(rng)))) for b in beats]
    assert sum(map(len, clean)) == 0
    # a colour photo of pink ECG paper: the grid goes by its colour, the tilt is turned back
    photos = [image_warnings(canonical_from_bytes(
        _photo_of_paper(rec.signal[b.sample - 180:b.sample + 180], rng))) for b in beats[:10]]
    assert sum(map(len, photos)) == 0
    # a black-and-white photo keeps its tilted grid: the warning says so
    photos = [image_warnings(canonical_from_bytes(
        _photo_of_paper(rec.signal[b.sample - 180:b.sample + 180], rng, grey=True)))
        for b in beats[:10]]
    assert all(any("grid" in w for w in ws) for ws in photos)
    # eight-second strips of record 100 (sinus rhythm, about 75 bpm: ten beats each)
    normal = read_record(EXCERPT_MITDB / "100")
    strip = replace(DEFAULT_STYLE, before_s=4.0, after_s=4.0, width=192 * 8)
    warned = [image_warnings(canonical_form(render_beat(normal.signal, b.sample, normal.fs,
                                                        strip)))
              for b in labelled_beats(normal)[20:30]]
    assert sum(any("several beats" in w for w in ws) for ws in warned) >= 8
