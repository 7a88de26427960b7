"""Property-based tests (hypothesis): thousands of generated inputs to the image path and the
signal/CSV parser raise nothing but the library's documented error types."""

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ecg_core.canonical import canonical_form, canonical_from_bytes, decode_image
from ecg_core.errors import ECGCoreError, ImageDecodeError, RecordError
from ecg_core.records import read_signal_csv, record_from_signal

FAST = settings(max_examples=1500, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _png_prefix():
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 60), 255, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png_prefix()


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash_the_image_path(data):
    try:
        canonical_from_bytes(data)
    except ImageDecodeError:
        pass


@FAST
@given(st.integers(0, len(PNG)), st.binary(max_size=64))
def test_damaged_pngs_never_crash_the_image_path(cut, junk):
    try:
        decode_image(PNG[:cut] + junk)
    except ImageDecodeError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.integers(16, 120), st.integers(16, 120), st.integers(0, 2**32 - 1),
       st.sampled_from(["L", "RGB", "RGBA", "P", "1", "I;16", "CMYK"]),
       st.sampled_from(["PNG", "JPEG", "BMP"]))
def test_any_image_of_any_mode_gives_a_canonical_image_or_a_documented_error(h, w, seed, mode,
                                                                             fmt):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if rng.random() < 0.5:  # a trace-like line on a plain background
        arr[:] = 255
        ys = (h / 2 + h / 3 * np.sin(np.linspace(0, 6, w))).astype(int)
        arr[ys, np.arange(w)] = 0
    im = Image.fromarray(arr).convert(mode if mode != "I;16" else "I")
    if mode == "I;16":
        im = im.convert("I;16")
    if im.mode == "CMYK" and fmt != "JPEG":
        fmt = "TIFF"  # PNG and BMP cannot hold CMYK
    if fmt == "JPEG" and im.mode not in ("L", "RGB", "CMYK"):
        im = im.convert("RGB")
    if fmt == "BMP" and im.mode in ("RGBA", "I;16"):
        im = im.convert("RGB")
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    try:
        out = canonical_from_bytes(buf.getvalue())
    except ImageDecodeError:
        return
    assert out.shape == (64, 64) and out.dtype == np.uint8


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=200))
def test_canonical_form_of_any_float_array(values):
    arr = np.array(values + [0.0] * (256 - len(values)), dtype=np.float32).reshape(16, 16)
    try:
        out = canonical_form(arr)
    except ImageDecodeError:
        return
    assert out.shape == (64, 64)


@FAST
@given(st.text(max_size=400))
def test_random_text_never_crashes_the_csv_parser(text):
    try:
        read_signal_csv(text.encode("utf-8"), fs=360)
    except RecordError:
        pass


@FAST
@given(st.binary(max_size=400), st.one_of(st.none(), st.floats(-10, 5000)))
def test_random_bytes_and_rates_never_crash_the_csv_parser(data, fs):
    try:
        read_signal_csv(data, fs=fs)
    except RecordError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=3000),
       st.floats(allow_nan=True, allow_infinity=True))
def test_any_signal_and_rate_give_a_record_or_a_record_error(values, fs):
    try:
        rec = record_from_signal(values, fs)
    except ECGCoreError as exc:
        assert isinstance(exc, RecordError)
        return
    assert np.isfinite(rec.signal).all() and rec.fs == 360


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 40), st.integers(2, 40), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_histogram_median_of_a_uint8_image_equals_numpy_median(h, w, seed, white):
    """The canonical form's background level, counted from a histogram for uint8 images, is
    exactly ``np.median`` of the grey image (odd and even pixel counts, mostly-white images)."""
    from ecg_core.canonical import _median_gray, to_gray_array

    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w)).astype(np.uint8)
    img[rng.random((h, w)) < white] = 255
    gray = to_gray_array(img)
    assert _median_gray(img, gray) == float(np.median(gray))
