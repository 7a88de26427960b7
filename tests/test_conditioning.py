"""Signal conditioning before drawing (ecg_core.conditioning) and its use by every path."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import EXCERPT_MITDB


def test_bandpass_removes_baseline_wander_and_mains_and_keeps_the_qrs_band():
    from ecg_core.conditioning import condition_signal

    fs = 360.0
    t = np.arange(int(60 * fs)) / fs
    wander = 0.8 * np.sin(2 * np.pi * 0.15 * t)
    mains = 0.2 * np.sin(2 * np.pi * 60 * t)
    qrs_band = 0.5 * np.sin(2 * np.pi * 10 * t)
    out = condition_signal(wander + mains + qrs_band, fs, "bandpass")
    assert out.dtype == np.float32 and out.shape == t.shape
    mid = slice(int(10 * fs), int(50 * fs))  # away from the filter's edges
    residual = out[mid] - qrs_band[mid]
    assert np.abs(residual).max() < 0.1  # wander (0.8 mV) and mains (0.2 mV) gone
    assert np.std(out[mid]) == pytest.approx(np.std(qrs_band[mid]), rel=0.05)


def test_none_and_short_signals_pass_unchanged_and_bad_settings_are_refused():
    from ecg_core.conditioning import condition_signal

    x = np.random.default_rng(0).normal(size=2000).astype(np.float32)
    assert np.array_equal(condition_signal(x, 360.0, "none"), x)
    assert np.array_equal(condition_signal(x[:500], 360.0, "bandpass"), x[:500])  # < 3 s
    with pytest.raises(ValueError, match="Unknown conditioning"):
        condition_signal(x, 360.0, "wavelet")
    with pytest.raises(ValueError, match="cannot be band-passed"):
        condition_signal(x, 64.0, "bandpass")


def test_build_and_record_paths_apply_the_models_conditioning(tmp_path, classifier):
    from ecg_core.analysis import classify_record, model_signal
    from ecg_core.conditioning import condition_signal
    from ecg_core.dataset import BuildConfig, build_dataset, read_manifest
    from ecg_core.errors import DatasetError
    from ecg_core.records import read_record

    common = dict(records=["100"], max_per_class=20, styled=False)
    build_dataset(tmp_path / "raw", mitdb=EXCERPT_MITDB, config=BuildConfig(**common),
                  progress=False)
    info = build_dataset(tmp_path / "bp", mitdb=EXCERPT_MITDB,
                         config=BuildConfig(**common, conditioning="bandpass"), progress=False)
    assert info["settings"]["conditioning"] == "bandpass"
    rows = read_manifest(tmp_path / "bp")
    differ = sum((tmp_path / "bp" / r["image"]).read_bytes() !=
                 (tmp_path / "raw" / r["image"]).read_bytes() for r in rows)
    assert differ > len(rows) // 2
    with pytest.raises(DatasetError, match="conditioning"):
        build_dataset(tmp_path / "x", mitdb=EXCERPT_MITDB,
                      config=BuildConfig(**common, conditioning="median"), progress=False)
    # a record is drawn for a model from the signal conditioned as its training data were
    record = read_record(EXCERPT_MITDB / "100")
    assert classifier.conditioning == "none"
    assert np.array_equal(model_signal(record, classifier), record.signal)
    card = {**classifier.card, "conditioning": "bandpass"}
    from ecg_core.model import Classifier

    filtered = Classifier(None, card, runner=classifier._runner, path=classifier.path) \
        if classifier._runner is not None else Classifier(classifier.model, card)
    assert filtered.conditioning == "bandpass"
    assert np.allclose(model_signal(record, filtered),
                       condition_signal(record.signal, record.fs, "bandpass"))
    plain = classify_record(record, classifier)
    conditioned = classify_record(record, filtered)
    assert len(plain.predicted) == len(conditioned.predicted)
    assert not np.allclose(plain.probabilities, conditioned.probabilities)


def test_recorded_noise_is_added_at_the_snr_the_noise_stress_test_defines():
    from ecg_core.beats import BEAT_SYMBOLS
    from ecg_core.conditioning import add_recorded_noise, noise_gain
    from ecg_core.records import read_record

    rec = read_record(EXCERPT_MITDB / "100")
    beats = np.array([s for s, sym in zip(rec.annotations.sample, rec.annotations.symbol)
                      if sym in BEAT_SYMBOLS])
    noise = np.random.default_rng(1).normal(0.3, 0.05, size=20_000)  # shorter: read circularly
    clean = rec.signal.astype(np.float64)
    half = int(round(0.05 * rec.fs))
    pp = np.array([np.ptp(clean[b - half:b + half + 1]) for b in beats if b >= half])
    lo, hi = np.percentile(pp, [5, 95])
    signal_power = pp[(pp >= lo) & (pp <= hi)].mean() ** 2 / 8
    for snr in (24.0, 12.0, 0.0):
        noisy = add_recorded_noise(clean, beats, rec.fs, noise, snr, offset=7_000)
        added = noisy - clean
        assert noisy.shape == clean.shape and noisy.dtype == np.float64
        assert abs(added.mean()) < 1e-3  # the noise's own mean is not added
        assert 10 * np.log10(signal_power / np.mean(added ** 2)) == pytest.approx(snr, abs=0.05)
    # the offset chooses the stretch: circular, so offset + len(noise) is the same stretch
    a = add_recorded_noise(clean, beats, rec.fs, noise, 12.0, offset=0)
    b = add_recorded_noise(clean, beats, rec.fs, noise, 12.0, offset=5)
    c = add_recorded_noise(clean, beats, rec.fs, noise, 12.0, offset=len(noise))
    assert not np.allclose(a, b) and np.allclose(a, c)
    # 6 dB less SNR is twice the noise amplitude
    assert noise_gain(clean, beats, rec.fs, noise, 6.0) == pytest.approx(
        2 * noise_gain(clean, beats, rec.fs, noise, 12.0), rel=0.01)
    with pytest.raises(ValueError, match="no beat"):
        noise_gain(clean, beats[:0], rec.fs, noise, 12.0)
    with pytest.raises(ValueError, match="constant"):
        noise_gain(clean, beats, rec.fs, np.ones(100), 12.0)
