"""Beat selection, RR intervals, VF windows and beat windows on real records."""

import numpy as np
import pytest

from ecg_core.beats import (BEAT_SYMBOLS, LOCAL_RR_BEATS, beat_window, beats_from_annotations,
                            labelled_beats, rhythm_features, vf_episodes, vf_windows)
from ecg_core.classes import symbol_map
from ecg_core.errors import RecordError
from ecg_core.records import read_annotations, read_record
from tests.conftest import EXCERPT_CUDB, EXCERPT_MITDB, MITDB, needs_mitdb


def test_excerpt_of_207_holds_flutter_waves_and_escape_beats():
    rec = read_record(EXCERPT_MITDB / "207")
    labels = [b.label for b in labelled_beats(rec)]
    assert labels.count("VFW") == 340 and labels.count("VEB") == 105
    assert labels.count("APC") > 90  # the run of atrial premature beats at the end


@needs_mitdb
def test_record_207_holds_flutter_waves_and_escape_beats():
    rec = read_record(MITDB / "207")
    beats = labelled_beats(rec)
    labels = [b.label for b in beats]
    assert labels.count("VFW") == 472
    assert labels.count("VEB") == 105  # 106 E beats, one within 0.7 s of the record's end
    # beats are in time order and RR intervals are consistent with positions
    pos = np.array([b.sample for b in beats])
    assert np.all(np.diff(pos) > 0)
    b = beats[10]
    assert b.rr_prev_s > 0 and b.rr_next_s > 0


def test_cudb_vf_windows_lie_inside_episodes():
    ann, n = read_annotations(EXCERPT_CUDB / "cu09")
    episodes = vf_episodes(ann, n)
    assert len(episodes) == 1 and all(s < e for s, e in episodes)
    wins = vf_windows("cu09", ann, n, 360.0, stride_s=1.5)
    assert len(wins) > 30  # a 58 s episode
    margin = round(0.7 * 360)
    for w in wins:
        assert any(s + margin <= w.sample < e - margin for s, e in episodes)
        assert w.label == "VFW"
    assert vf_windows("100", *read_annotations(EXCERPT_MITDB / "100"), 360.0) == []  # no VF


def test_beat_window_length_and_edges():
    sig = np.arange(1000, dtype=np.float32)
    w = beat_window(sig, 500, 360.0, 0.5, 0.5)
    assert w.shape == (361,) and w[180] == 500
    edge = beat_window(sig, 10, 360.0, 0.5, 0.5)
    assert edge[0] == 0  # padded with the edge sample
    with pytest.raises(RecordError):
        beat_window(sig, 5000, 360.0)


def test_rhythm_features_hand_computed():
    f = rhythm_features([0.6, 0.8, np.nan], [1.0, 0.8, 0.8], [0.8, 0.8, 0.8])
    assert f.shape == (3, 4) and f.dtype == np.float32
    np.testing.assert_allclose(f[0], [0.75, 1.25, 0.8, 1.0], rtol=1e-6)  # premature beat
    np.testing.assert_allclose(f[1], [1.0, 1.0, 0.8, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(f[2], [0, 0, 0, 0])  # unknown interval: not available


def test_aami_symbols_and_local_rr_on_record_232():
    # 232 holds many atrial premature beats (A -> AAMI S) in long pauses of sinus bradycardia.
    ann, n = read_annotations(EXCERPT_MITDB / "232")
    beats = beats_from_annotations("232", ann, n, 360.0, classes=symbol_map("aami"))
    labels = {b.label for b in beats}
    assert labels <= {"N", "S", "V", "F", "Q"} and "S" in labels
    b = beats[50]
    pos = ann.sample[[i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]]
    k = int(np.searchsorted(pos, b.sample))
    rr = np.diff(pos) / 360.0
    assert b.rr_local_s == pytest.approx(rr[k - LOCAL_RR_BEATS:k + LOCAL_RR_BEATS].mean())
    s_beats = [x for x in beats if x.label == "S"]
    n_beats = [x for x in beats if x.label == "N"]
    # what gives an S beat away is its timing: shorter RR before it than its neighbours'
    ratio_s = np.nanmedian([x.rr_prev_s / x.rr_local_s for x in s_beats])
    ratio_n = np.nanmedian([x.rr_prev_s / x.rr_local_s for x in n_beats])
    assert ratio_s < ratio_n


def test_rr_intervals_hand_computed():
    from ecg_core.beats import rr_intervals

    prev, nxt, local = rr_intervals(np.array([0, 360, 540, 900]), 360.0)  # RR 1.0, 0.5, 1.0 s
    np.testing.assert_allclose(prev, [np.nan, 1.0, 0.5, 1.0])
    np.testing.assert_allclose(nxt, [1.0, 0.5, 1.0, np.nan])
    np.testing.assert_allclose(local, [2.5 / 3] * 4)  # fewer than 10 intervals each side
    one = rr_intervals(np.array([100]), 360.0)
    assert all(np.isnan(a).all() and a.shape == (1,) for a in one)


def test_rhythm_features_with_the_record_context():
    from ecg_core.beats import rhythm_features

    prev = np.array([0.8, 0.5, 1.0, np.nan])
    nxt = np.array([0.8, 1.1, 0.9, 0.8])
    local = np.array([0.8, 0.8, 0.9, 0.8])
    four = rhythm_features(prev, nxt, local)
    five = rhythm_features(prev, nxt, local, np.full(4, 0.85))
    assert four.shape == (4, 4) and five.shape == (4, 5)
    np.testing.assert_array_equal(five[:, :4], four)
    np.testing.assert_allclose(five[:3, 4], local[:3] / 0.85, rtol=1e-6)
    assert five[3].tolist() == [0.0] * 5  # an unknown interval: nothing available
    assert rhythm_features(prev, nxt, local, np.full(4, np.nan))[0, 4] == 0.0


def _beats_of(record, symbols):
    ann = record.annotations
    keep = [i for i, s in enumerate(ann.symbol) if s in symbols]
    return np.asarray(ann.sample[keep], dtype=np.int64), [ann.symbol[i] for i in keep]


def test_template_features_tell_ectopic_beats_from_the_patients_own_normal_ones():
    from ecg_core.beats import TEMPLATE_FEATURES, template_features
    from ecg_core.conditioning import condition_signal

    rec = read_record(EXCERPT_MITDB / "208")
    signal = condition_signal(rec.signal, rec.fs, "bandpass")
    pos, sym = _beats_of(rec, BEAT_SYMBOLS)
    f = template_features(signal, pos, rec.fs)
    assert f.shape == (len(pos), len(TEMPLATE_FEATURES)) and f.dtype == np.float32
    sym = np.array(sym)
    normal, ventricular = f[sym == "N"], f[sym == "V"]
    assert len(normal) > 50 and len(ventricular) > 50
    # normal beats look like the record's typical beat, ventricular ones do not
    assert np.median(normal[:, 0]) > 0.97 and np.median(ventricular[:, 0]) < 0.85
    assert np.median(normal[:, 3]) < 0.5 * np.median(ventricular[:, 3])
    assert (f[:, 4] == 1.0).all() and (f[:, 2:4] >= 0).all() and (f[:, 2:4] <= 5).all()
    # the alignment absorbs R-peak jitter of a few milliseconds (on the beats shaped like the
    # template; an ectopic beat's best alignment within the shift range may move)
    jittered = template_features(signal, pos + 3, rec.fs, template_positions=pos)
    np.testing.assert_allclose(jittered[sym == "N", 0], normal[:, 0], atol=0.01)
    # describing a few beats against the whole record's template gives their rows
    some = template_features(signal, pos[:5], rec.fs, template_positions=pos)
    np.testing.assert_allclose(some, f[:5], atol=1e-6)


def test_template_features_are_not_available_without_enough_beats_or_signal():
    from ecg_core.beats import TEMPLATE_MIN_BEATS, template_features

    signal = np.sin(np.linspace(0, 60, 3600)).astype(np.float32)
    few = np.arange(1, TEMPLATE_MIN_BEATS) * 400
    assert not template_features(signal, few, 360.0).any()
    flat = template_features(np.zeros(3600, np.float32), np.arange(1, 9) * 400, 360.0)
    assert not flat.any()
    assert template_features(signal, np.array([], np.int64), 360.0).shape == (0, 5)


def test_beat_context_joins_rhythm_and_template_and_each_context_reads_its_columns():
    from ecg_core.beats import (CONTEXT_COLUMNS, CONTEXT_FEATURES, beat_context,
                                context_columns)

    rhythm = rhythm_features([0.8, 0.5], [0.8, 1.1], [0.8, 0.8], np.full(2, 0.85))
    ctx = beat_context(rhythm)
    assert ctx.shape == (2, len(CONTEXT_FEATURES)) == (2, 10)
    np.testing.assert_array_equal(ctx[:, :5], rhythm)
    assert not ctx[:, 5:].any()  # no template: "not available"
    template = np.tile(np.array([[0.9, 0.8, 1.1, 0.1, 1.0]], np.float32), (2, 1))
    np.testing.assert_array_equal(beat_context(rhythm, template)[:, 5:], template)
    assert [CONTEXT_FEATURES[i] for i in context_columns("template")][-1] == "template available"
    assert context_columns("record") == CONTEXT_COLUMNS["record"] == (0, 1, 2, 3, 4)
    with pytest.raises(ValueError, match="rhythm context"):
        context_columns("patient")
    with pytest.raises(ValueError, match="shape"):
        beat_context(rhythm[:, :4])
    with pytest.raises(ValueError, match="shape"):
        beat_context(rhythm, template[:1])


def test_vf_windows_take_the_rr_intervals_of_the_nearest_detection():
    from ecg_core.beats import Beat, rr_intervals, with_detected_rr

    fs = 360.0
    detected = np.array([100, 300, 420, 700, 760])
    windows = [Beat("r", c, "!", "VFW", float("nan"), float("nan")) for c in (90, 350, 740, 900)]
    out = with_detected_rr(windows, detected, fs)
    prev, nxt, local = rr_intervals(detected, fs)
    for w, k in zip(out, (0, 1, 4, 4)):  # 350 lies 50 from 300 and 70 from 420
        assert (w.record, w.sample, w.label) == ("r", windows[out.index(w)].sample, "VFW")
        np.testing.assert_equal([w.rr_prev_s, w.rr_next_s, w.rr_local_s],
                                [prev[k], nxt[k], local[k]])
    assert np.isnan(out[0].rr_prev_s) and out[1].rr_prev_s == pytest.approx(200 / fs)
    # nothing detected: the windows stay without RR intervals
    assert with_detected_rr(windows, np.array([], dtype=int), fs) == windows


def test_irregular_rr_flags_random_intervals_not_a_steady_rhythm_or_bigeminy():
    from ecg_core.beats import irregular_rr

    rng = np.random.default_rng(20180412)
    steady = np.cumsum(0.8 + rng.normal(0, 0.01, 300))  # sinus rhythm, a little variability
    random = np.cumsum(rng.uniform(0.4, 1.1, 300))       # irregularly irregular
    bigeminy = np.cumsum(np.tile([0.55, 1.05], 150) + rng.normal(0, 0.01, 300))

    def as_samples(t):
        return np.round(t * 360).astype(np.int64)

    assert not irregular_rr(as_samples(steady), 360.0).any()
    assert irregular_rr(as_samples(random), 360.0).mean() > 0.6
    assert not irregular_rr(as_samples(bigeminy), 360.0).any()  # regular in its irregularity
    # a steady rhythm that turns irregular: the flags follow the change, within a window
    mixed = np.cumsum(np.r_[0.8 + rng.normal(0, 0.01, 200), rng.uniform(0.4, 1.1, 200)])
    flags = irregular_rr(as_samples(mixed), 360.0)
    assert not flags[:180].any() and flags[220:].mean() > 0.6
    assert not irregular_rr(as_samples(steady[:20]), 360.0).any()  # too few beats to judge


def test_irregular_rr_on_real_records():
    import wfdb

    from ecg_core.beats import irregular_rr

    def share(record):
        ann = wfdb.rdann(str(EXCERPT_MITDB / record), "atr")
        pos = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
        return irregular_rr(pos, 360.0).mean()

    assert share("100") == 0.0  # sinus rhythm
    assert share("208") > 0.5   # frequent ventricular beats, couplets, fusion beats


def _reference_beats(rec, with_symbols: bool = False):
    """The record's reference beat positions (int (n,)), and with ``with_symbols`` their
    MIT-BIH symbols (str (n,)) too."""
    keep = [i for i, sym in enumerate(rec.annotations.symbol) if sym in BEAT_SYMBOLS]
    pos = np.asarray(rec.annotations.sample)[keep]
    return (pos, np.array(rec.annotations.symbol)[keep]) if with_symbols else pos


def test_beat_snr_estimates_added_noise_on_a_real_record():
    from ecg_core.beats import NOISY_SNR_DB, beat_snr_db
    from ecg_core.conditioning import add_recorded_noise, condition_signal

    rec = read_record(EXCERPT_MITDB / "100")
    beats = _reference_beats(rec)
    clean = beat_snr_db(rec.signal, beats, rec.fs)
    assert clean.shape == beats.shape and clean.dtype == np.float64
    assert np.isnan(clean[0]) and np.isfinite(clean[1:-1]).all()  # the first beat is at 0.2 s
    assert np.nanmedian(clean) > 25 and np.nanmean(clean < NOISY_SNR_DB) == 0
    # white noise band-passed to the ECG band, added at known SNRs: the estimate follows it
    noise = condition_signal(np.random.default_rng(3).normal(size=len(rec.signal)), rec.fs,
                             "bandpass")
    previous = np.inf
    for snr in (24.0, 12.0, 6.0):
        noisy = add_recorded_noise(rec.signal, beats, rec.fs, noise, snr)
        estimate = np.nanmedian(beat_snr_db(noisy, beats, rec.fs))
        assert snr - 1.5 < estimate < snr + 4.0 and estimate < previous  # reads a little high
        previous = estimate
    # noise in the middle minute only: the beats there, and only those, read noisy
    middle = (beats > 120 * rec.fs) & (beats < 180 * rec.fs)
    part = rec.signal + np.where((np.arange(len(rec.signal)) > 120 * rec.fs)
                                 & (np.arange(len(rec.signal)) < 180 * rec.fs),
                                 add_recorded_noise(rec.signal, beats, rec.fs, noise, 6.0)
                                 - rec.signal, 0.0)
    flags = beat_snr_db(part, beats, rec.fs) < NOISY_SNR_DB
    assert flags[middle][6:-6].all() and not flags[~middle & (np.abs(beats - 150 * rec.fs)
                                                             > 40 * rec.fs)].any()
    assert np.isnan(beat_snr_db(rec.signal, beats[:2], rec.fs)).all()  # too few to compare


def test_beat_snr_is_not_fooled_by_recurring_ectopic_beats():
    from ecg_core.beats import NOISY_SNR_DB, beat_snr_db

    # 208: 168 premature ventricular beats and 72 fusion beats in five minutes, couplets;
    # each ectopic beat finds one of its own shape among its neighbours
    rec = read_record(EXCERPT_MITDB / "208")
    snr = beat_snr_db(rec.signal, _reference_beats(rec), rec.fs)
    assert np.nanmean(snr < NOISY_SNR_DB) < 0.05


def test_beat_snr_reads_a_long_record_a_block_at_a_time_with_the_same_result(monkeypatch):
    import ecg_core.beats as beats_module

    rec = read_record(EXCERPT_MITDB / "208")
    positions = _reference_beats(rec)
    whole = beats_module.beat_snr_db(rec.signal, positions, rec.fs)
    monkeypatch.setattr(beats_module, "_SNR_BLOCK", 37)  # blocks far smaller than the record
    np.testing.assert_array_equal(beats_module.beat_snr_db(rec.signal, positions, rec.fs), whole)


def test_qrs_similarity_sets_ventricular_beats_apart_from_the_records_typical_qrs():
    """On MIT-BIH 208 (frequent multiform PVCs, a third of the beats), the normal beats' QRS
    matches the record's typical QRS and the ventricular beats' does not."""
    from ecg_core.beats import qrs_similarity
    from ecg_core.conditioning import condition_signal

    rec = read_record(EXCERPT_MITDB / "208")
    keep = [i for i, s in enumerate(rec.annotations.symbol) if s in ("N", "V")]
    beats = np.asarray(rec.annotations.sample[keep])
    symbols = np.array(rec.annotations.symbol)[keep]
    r = qrs_similarity(condition_signal(rec.signal, rec.fs, "bandpass"), beats, rec.fs)
    assert r.shape == beats.shape and r.dtype == np.float64
    assert np.nanmedian(r[symbols == "N"]) > 0.95 and np.nanmedian(r[symbols == "V"]) < 0.8
    assert np.nanmean(r[symbols == "V"] >= 0.95) < 0.02
    # what the Record page draws: the typical QRS and one beat's stretch give its similarity
    from ecg_core.beats import beat_qrs, typical_qrs

    sig = condition_signal(rec.signal, rec.fs, "bandpass")
    t, typical = typical_qrs(sig, beats, rec.fs)
    assert t[0] == pytest.approx(-0.10) and t[-1] < 0.15 and len(t) == len(typical) == 90
    one = beat_qrs(sig, int(beats[10]), rec.fs)
    assert one @ typical / np.linalg.norm(one) / np.linalg.norm(typical) == pytest.approx(r[10])
    assert beat_qrs(sig, 3, rec.fs) is None and typical_qrs(sig, beats[:2], rec.fs)[1] is None
    assert np.isnan(qrs_similarity(rec.signal, beats[:2], rec.fs)).all()  # too few
    assert np.isnan(qrs_similarity(rec.signal, np.array([5, 1000, 2000, 3000]), rec.fs)[0])


def test_dominant_qrs_reading_drops_only_v_readings_of_typical_qrs():
    from ecg_core.beats import dominant_qrs_reading

    p = np.array([[0.1, 0.2, 0.7], [0.2, 0.1, 0.7], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8],
                  [0.0, 0.0, 1.0]], dtype=np.float32)
    r = np.array([0.97, 0.5, 0.99, np.nan, 0.99])
    # 4 of 5 beats read V (column 2): more than half, nothing changes
    q, reread = dominant_qrs_reading(p, r, 2, 0.95)
    assert not reread.any() and np.array_equal(q, p)
    q, reread = dominant_qrs_reading(p, r, 2, 0.95, max_share=0.9)
    # beat 0: V dropped, read as its next most likely class; beat 1: QRS unlike the typical
    # one, stays V; beat 2: not read V; beat 3: no similarity; beat 4: nothing left but V
    assert reread.tolist() == [True, False, False, False, False]
    np.testing.assert_allclose(q[0], [1 / 3, 2 / 3, 0.0], rtol=1e-6)
    assert q.argmax(axis=1).tolist() == [1, 2, 0, 2, 2]
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(q[1:], p[1:])
    with pytest.raises(ValueError):
        dominant_qrs_reading(p, r[:3], 2, 0.95)


def _qrs_signal(fs: float, shapes: list[str], noisy: set[int], seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic ECG in mV, one beat a second: a narrow upright QRS ("n"), a wide inverted
    one ("v") or a wide upright one, earlier ("w"); the beats in ``noisy`` carry strong
    broadband noise."""
    rng = np.random.default_rng(seed)
    positions = ((np.arange(len(shapes)) + 1) * fs).astype(np.int64)
    x = 0.005 * rng.standard_normal(int((len(shapes) + 1) * fs))
    t = np.arange(-int(0.2 * fs), int(0.2 * fs)) / fs
    for i, (pos, shape) in enumerate(zip(positions, shapes)):
        wave = (np.exp(-0.5 * (t / 0.012) ** 2) if shape == "n"
                else 0.9 * np.exp(-0.5 * ((t + 0.02) / 0.035) ** 2) if shape == "w"
                else -0.8 * np.exp(-0.5 * ((t - 0.03) / 0.04) ** 2))
        if i in noisy:
            wave = wave + 0.15 * rng.standard_normal(len(t))
        x[pos + np.arange(len(t)) - len(t) // 2] += wave
    return x, positions


def test_v_cluster_reading_rereads_v_calls_that_share_the_typical_qrs_as_a_group():
    from ecg_core.beats import qrs_similarity, v_cluster_reading, v_cluster_similarity

    fs = 250.0
    shapes = ["n"] * 40 + ["v"] * 3
    noisy = set(range(0, 40, 4))  # 10 noisy normal beats
    x, pos = _qrs_signal(fs, shapes, noisy, seed=3)
    r = qrs_similarity(x, pos, fs)
    is_v = np.array([s == "v" for s in shapes])
    assert np.nanmax(r[is_v]) < 0.3 and 0.7 <= np.nanmin(r[sorted(noisy)]) < 0.95
    # the network reads the noisy normal beats and the true V beats V
    p = np.tile([0.8, 0.1, 0.1], (len(shapes), 1)).astype(np.float32)
    called = is_v.copy()
    called[sorted(noisy)] = True
    p[called] = [0.3, 0.1, 0.6]
    # as a group the V calls (10 normal, 3 ventricular) share the typical QRS
    cluster = v_cluster_similarity(x, pos, fs, called)
    assert cluster >= 0.9
    q, reread, got = v_cluster_reading(p, x, pos, fs, r, 2, 0.9, 0.7)
    assert got == pytest.approx(cluster)
    assert reread.tolist() == [i in noisy for i in range(len(shapes))]
    assert q.argmax(axis=1).tolist() == [2 if v else 0 for v in is_v]
    np.testing.assert_allclose(q[sorted(noisy)[0]], [0.75, 0.25, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(q[~reread], p[~reread])
    # the card's readings of a record run it after the per-beat part, which re-reads no beat
    # here (every V call's similarity is under 0.95), and report the cluster's similarity
    from ecg_core.beats import record_readings

    got_all = record_readings(p, x, pos, fs, ("N", "S", "V"), dominant_qrs={
        "threshold": 0.95, "cluster": {"cluster_threshold": 0.9, "threshold": 0.7}})
    assert got_all.v_cluster_similarity == pytest.approx(cluster)
    np.testing.assert_array_equal(got_all.reread, reread)
    np.testing.assert_allclose(got_all.probabilities, q, atol=1e-6)
    assert record_readings(p, x, pos, fs, ("N", "S", "V"), dominant_qrs={
        "threshold": 0.95}).v_cluster_similarity is None
    # V calls that are mostly true ventricular beats make a cluster of their own shape
    only = is_v.copy()
    only[0] = True
    assert v_cluster_similarity(x, pos, fs, only) < 0.5
    p2 = p.copy()
    p2[~only] = [0.8, 0.1, 0.1]
    q2, reread2, _ = v_cluster_reading(p2, x, pos, fs, r, 2, 0.9, 0.7)
    assert not reread2.any() and np.array_equal(q2, p2)
    # too few calls to make a cluster; more than max_share of the beats read V
    few = np.zeros(len(shapes), bool)
    few[:2] = True
    assert np.isnan(v_cluster_similarity(x, pos, fs, few))
    p3 = p.copy()
    p3[~few] = [0.8, 0.1, 0.1]
    p3[few] = [0.3, 0.1, 0.6]
    _, reread3, c3 = v_cluster_reading(p3, x, pos, fs, r, 2, 0.9, 0.7)
    assert not reread3.any() and np.isnan(c3)
    _, reread4, _ = v_cluster_reading(p, x, pos, fs, r, 2, 0.9, 0.7, max_share=0.2)
    assert not reread4.any()
    with pytest.raises(ValueError):
        v_cluster_reading(p, x, pos[:5], fs, r, 2, 0.9, 0.7)
    with pytest.raises(ValueError):
        v_cluster_similarity(x, pos, fs, called[:5])


def test_qrs_width_is_the_time_a_stretch_stays_above_half_its_peak():
    from ecg_core.beats import qrs_width_s

    fs = 360.0
    t = np.arange(-36, 54) / fs
    for sigma in (0.012, 0.04):  # a Gaussian's full width at half maximum is 2.355 sigma
        got = qrs_width_s(-0.8 * np.exp(-0.5 * (t / sigma) ** 2), fs)
        assert got == pytest.approx(2.3548 * sigma, abs=1.5 / fs)
    assert qrs_width_s(np.zeros(10), fs) == 0.0
    with pytest.raises(ValueError):
        qrs_width_s(t, fs, level=0.0)
    with pytest.raises(ValueError):
        qrs_width_s(t, -1.0)


def test_v_template_reading_reads_v_the_beats_shaped_like_the_records_wide_v_calls():
    from ecg_core.beats import record_readings, v_template_reading

    fs = 250.0
    shapes = ["n"] * 40 + ["v"] * 8
    x, pos = _qrs_signal(fs, shapes, set(), seed=5)
    is_v = np.array([s == "v" for s in shapes])
    # the network reads 5 of the 8 wide beats V and 3 of them N
    p = np.tile([0.8, 0.15, 0.05], (len(shapes), 1)).astype(np.float32)
    called = is_v.copy()
    called[-3:] = False
    p[called] = [0.2, 0.1, 0.7]
    q, promoted, gain = v_template_reading(p, x, pos, fs, 2)
    assert gain > 0.03  # the wide template against the narrow typical QRS (s)
    assert promoted.tolist() == [i >= 45 for i in range(len(shapes))]
    assert q.argmax(axis=1).tolist() == [2 if v else 0 for v in is_v]
    np.testing.assert_allclose(q[-1], [0.05, 0.15, 0.8], rtol=1e-6)  # V and the top swapped
    np.testing.assert_array_equal(q[~promoted], p[~promoted])
    # the card's readings of a record run it last, with its bounds in ms
    got = record_readings(p, x, pos, fs, ("N", "S", "V"), v_template={
        "threshold": 0.95, "margin": 0.10, "cluster_threshold": 0.90,
        "min_width_gain_ms": 10.0})
    np.testing.assert_array_equal(got.v_promoted, promoted)
    assert got.v_template_width_gain_s == pytest.approx(gain)
    np.testing.assert_allclose(got.probabilities, q, atol=1e-6)
    assert record_readings(p, x, pos, fs, ("N", "S", "V")).v_promoted is None
    # a template no wider than the typical QRS reads nothing: in a record of wide beats (a
    # bundle branch block), V calls on a few narrow beats make a narrow template
    wide = ["v"] * 40 + ["n"] * 8
    x2, pos2 = _qrs_signal(fs, wide, set(), seed=6)
    p2 = np.tile([0.8, 0.15, 0.05], (len(wide), 1)).astype(np.float32)
    p2[40:45] = [0.2, 0.1, 0.7]
    q2, promoted2, gain2 = v_template_reading(p2, x2, pos2, fs, 2)
    assert gain2 < 0 and not promoted2.any() and np.array_equal(q2, p2)
    # without the width bound, the narrow beats matching that template would be read V
    _, loose, _ = v_template_reading(p2, x2, pos2, fs, 2, min_width_gain_s=-1.0)
    assert loose.tolist() == [i >= 45 for i in range(len(wide))]
    # too few V calls, or more than half of the beats, read nothing
    p3 = p.copy()
    p3[40:43] = [0.8, 0.15, 0.05]  # 2 calls left
    assert not v_template_reading(p3, x, pos, fs, 2)[1].any()
    assert np.isnan(v_template_reading(p3, x, pos, fs, 2)[2])
    assert not v_template_reading(p, x, pos, fs, 2, max_share=0.05)[1].any()
    with pytest.raises(ValueError):
        v_template_reading(p, x, pos[:5], fs, 2)


def test_v_template_reading_leaves_out_the_beats_it_is_told_to_skip():
    from ecg_core.beats import v_template_reading

    fs = 250.0
    shapes = ["n"] * 40 + ["v"] * 8
    x, pos = _qrs_signal(fs, shapes, set(), seed=5)
    p = np.tile([0.8, 0.15, 0.05], (len(shapes), 1)).astype(np.float32)
    p[40:45] = [0.2, 0.1, 0.7]  # 5 V calls, 3 V beats read N
    _, all_read, _ = v_template_reading(p, x, pos, fs, 2)
    assert all_read.tolist() == [i >= 45 for i in range(len(shapes))]
    # a skipped beat is not read V by the template ...
    skip = np.zeros(len(shapes), bool)
    skip[46] = True
    _, some, _ = v_template_reading(p, x, pos, fs, 2, skip=skip)
    assert some.tolist() == [i in (45, 47) for i in range(len(shapes))]
    # ... nor makes one: with 3 of the 5 V calls skipped, too few are left
    skip = np.zeros(len(shapes), bool)
    skip[40:43] = True
    q, none, gain = v_template_reading(p, x, pos, fs, 2, skip=skip)
    assert not none.any() and np.isnan(gain) and np.array_equal(q, p)
    with pytest.raises(ValueError):
        v_template_reading(p, x, pos, fs, 2, skip=skip[:5])
    # the card's ``skip_noisy``: the beats whose estimated SNR is under NOISY_SNR_DB
    from ecg_core.beats import NOISY_SNR_DB, beat_snr_db, record_readings

    card = {"threshold": 0.95, "margin": 0.10, "cluster_threshold": 0.90,
            "min_width_gain_ms": 10.0, "skip_noisy": True}
    for noisy_beats in (set(), set(range(24, 48))):
        y, pos2 = _qrs_signal(fs, shapes, noisy_beats, seed=5)
        noisy = beat_snr_db(y, pos2, fs) < NOISY_SNR_DB
        assert noisy.any() == bool(noisy_beats)
        got = record_readings(p, y, pos2, fs, ("N", "S", "V"), v_template=card)
        _, expected, _ = v_template_reading(p, y, pos2, fs, 2, skip=noisy)
        np.testing.assert_array_equal(got.v_promoted, expected)
        assert not (got.v_promoted & noisy).any()


def test_v_template_reading_with_group_templates_reads_each_form_of_multiform_v_beats():
    from ecg_core.beats import v_template_reading

    fs = 250.0
    shapes = ["n"] * 40 + ["v"] * 10 + ["w"] * 10  # two ventricular forms
    x, pos = _qrs_signal(fs, shapes, set(), seed=7)
    kind = np.array(shapes)
    p = np.tile([0.8, 0.15, 0.05], (len(shapes), 1)).astype(np.float32)
    called = np.zeros(len(shapes), bool)
    called[40:47] = called[50:57] = True  # 7 of each form read V, 3 of each read N
    p[called] = [0.2, 0.1, 0.7]
    missed = (kind != "n") & ~called
    # one median of both forms matches neither: the one-template reading finds none
    _, one, _ = v_template_reading(p, x, pos, fs, 2)
    assert not one.any()
    # a template per group of at least 5 alike calls reads each form's missed beats V
    q, grouped, _ = v_template_reading(p, x, pos, fs, 2, group_cut=0.10, min_group=5)
    assert grouped.tolist() == missed.tolist()
    assert q.argmax(axis=1).tolist() == [0 if k == "n" else 2 for k in kind]
    np.testing.assert_array_equal(q[~grouped], p[~grouped])
    # groups smaller than min_group make no template
    assert not v_template_reading(p, x, pos, fs, 2, group_cut=0.10, min_group=8)[1].any()
    # a record with more V calls than are grouped at once groups an evenly spaced share
    import ecg_core.beats as beats

    saved = beats.V_GROUP_MAX_CALLS
    try:
        beats.V_GROUP_MAX_CALLS = 10
        _, few, _ = v_template_reading(p, x, pos, fs, 2, group_cut=0.10, min_group=5)
        assert few.tolist() == missed.tolist()  # 5 of each form still make two groups
        beats.V_GROUP_MAX_CALLS = 9
        _, fewer, _ = v_template_reading(p, x, pos, fs, 2, group_cut=0.10, min_group=5)
        assert fewer.sum() < missed.sum()
    finally:
        beats.V_GROUP_MAX_CALLS = saved


def test_qrs_stretches_aligned_to_the_typical_qrs_undo_a_wandering_r_position():
    from ecg_core.beats import qrs_similarity

    fs = 360.0
    x, pos = _qrs_signal(fs, ["n"] * 30, set(), seed=12)
    rng = np.random.default_rng(0)
    moved = pos + rng.integers(-3, 4, len(pos))  # R positions off by up to 8 ms
    exact = qrs_similarity(x, pos, fs)
    off = qrs_similarity(x, moved, fs)
    aligned = qrs_similarity(x, moved, fs, align_s=0.008)
    assert np.nanmin(exact) > 0.99 and np.nanmin(off) < 0.9  # a narrow QRS moved by 8 ms
    assert np.nanmin(aligned) > 0.98 and (aligned >= off - 1e-12).all()
    np.testing.assert_allclose(qrs_similarity(x, moved, fs, align_s=0.0), off)
    # a shift beyond the bound is not undone
    far = pos.copy()
    far[::3] += 12  # 33 ms
    assert np.nanmax(qrs_similarity(x, far, fs, align_s=0.008)[::3]) < 0.9
    # a wide inverted (ventricular) QRS stays unlike the typical one however it is shifted
    y, pos2 = _qrs_signal(fs, ["n"] * 30 + ["v"] * 3, set(), seed=13)
    assert np.nanmax(qrs_similarity(y, pos2, fs, align_s=0.008)[30:]) < 0.3


def test_one_beats_qrs_is_drawn_aligned_as_the_readings_compare_it():
    from ecg_core.beats import beat_qrs, qrs_similarity, typical_qrs

    fs = 360.0
    x, pos = _qrs_signal(fs, ["n"] * 30, set(), seed=12)
    moved = pos.copy()
    moved[5] += 3  # one R position 8 ms late
    _, typical = typical_qrs(x, moved, fs)
    plain = beat_qrs(x, int(moved[5]), fs)
    aligned = beat_qrs(x, int(moved[5]), fs, typical, align_s=0.008)

    def cos(a):
        return float(a @ typical / (np.linalg.norm(a) * np.linalg.norm(typical)))

    assert cos(aligned) > cos(plain) and cos(aligned) > 0.99
    # as the readings measure it (their typical QRS is the median of the aligned stretches)
    assert cos(aligned) == pytest.approx(qrs_similarity(x, moved, fs, align_s=0.008)[5],
                                         abs=1e-3)
    np.testing.assert_allclose(beat_qrs(x, int(moved[5]), fs, typical), plain)  # no shift
    assert beat_qrs(x, 3, fs, typical, align_s=0.008) is None  # runs off the signal


def _two_lead_signal(fs: float, kinds: list[str], seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic two-lead ECG in mV, one beat a second: normal beats ("n") narrow and upright
    on both leads; ventricular beats ("v") on the first lead only a little wider (Gaussian
    sigma 17 ms against 12 ms: cosine 0.97 with the normal QRS, FWHM 12 ms wider), on the
    second wide and inverted, as a ventricular beat can look nearly normal in one lead; beats
    "w" wider on the first lead (sigma 24 ms) and normal on the second; beats "u" wide and
    inverted on both."""
    rng = np.random.default_rng(seed)
    positions = ((np.arange(len(kinds)) + 1) * fs).astype(np.int64)
    n = int((len(kinds) + 1) * fs)
    x, y = (0.003 * rng.standard_normal(n) for _ in range(2))
    t = np.arange(-int(0.2 * fs), int(0.2 * fs)) / fs
    for pos, kind in zip(positions, kinds):
        at = pos + np.arange(len(t)) - len(t) // 2
        v, w, u = kind == "v", kind == "w", kind == "u"
        x[at] += (-0.8 * np.exp(-0.5 * ((t - 0.02) / 0.03) ** 2) if u else
                  np.exp(-0.5 * (t / (0.017 if v else 0.024 if w else 0.012)) ** 2))
        y[at] += (-0.7 * np.exp(-0.5 * ((t - 0.02) / 0.035) ** 2) if v or u
                  else 0.5 * np.exp(-0.5 * (t / 0.012) ** 2))
    return x, y, positions


def test_v_template_reading_on_two_leads_reads_v_beats_nearly_normal_on_the_first_lead():
    from ecg_core.beats import record_readings, v_template_reading

    fs = 360.0
    kinds = ["n"] * 40 + ["v"] * 10
    x, y, pos = _two_lead_signal(fs, kinds, seed=11)
    is_v = np.array([k == "v" for k in kinds])
    p = np.tile([0.8, 0.15, 0.05], (len(kinds), 1)).astype(np.float32)
    called = is_v.copy()
    called[-4:] = False  # the networks read 6 of the 10 V beats V, 4 of them N
    p[called] = [0.2, 0.1, 0.7]
    # on the first lead the missed beats match the V template by less than the margin
    q1, one, gain = v_template_reading(p, x, pos, fs, 2)
    assert not one.any() and gain >= 0.010
    # with the second lead side by side they are plainly unlike the typical QRS: read V
    q2, both, gain2 = v_template_reading(p, x, pos, fs, 2, other_signal=y)
    assert both.tolist() == (is_v & ~called).tolist()
    assert q2.argmax(axis=1).tolist() == [2 if v else 0 for v in is_v]
    assert gain2 == pytest.approx(gain)  # the width bound is measured on the first lead
    # the card's readings: the one-lead pass, then with ``two_leads`` the two-lead pass
    card = {"threshold": 0.95, "margin": 0.10, "cluster_threshold": 0.90,
            "min_width_gain_ms": 10.0, "group_cut": 0.10, "min_group": 5}
    got = record_readings(p, x, pos, fs, ("N", "S", "V"), v_template=card, other_signal=y)
    assert got.v_promoted_two_leads is None and not got.v_promoted.any()  # not asked for
    got = record_readings(p, x, pos, fs, ("N", "S", "V"),
                          v_template={**card, "two_leads": {"rule": "..."}}, other_signal=y)
    np.testing.assert_array_equal(got.v_promoted, both)
    np.testing.assert_array_equal(got.v_promoted_two_leads, both)
    np.testing.assert_allclose(got.probabilities, q2, atol=1e-6)
    alone = record_readings(p, x, pos, fs, ("N", "S", "V"),
                            v_template={**card, "two_leads": {"rule": "..."}})
    assert alone.v_promoted_two_leads is None and not alone.v_promoted.any()  # one lead only
    # a flat second lead leaves the reading out; a second lead of another length is an error
    flat, none, _ = v_template_reading(p, x, pos, fs, 2, other_signal=np.zeros_like(y))
    assert not none.any() and np.array_equal(flat, p)
    with pytest.raises(ValueError):
        v_template_reading(p, x, pos, fs, 2, other_signal=y[:-1])


def test_the_last_check_on_both_leads_drops_v_calls_shaped_like_the_typical_qrs():
    from ecg_core.beats import qrs_similarity, record_readings, two_lead_qrs_similarity

    fs = 360.0
    kinds = ["n"] * 40 + ["w"] * 5 + ["u"] * 5
    x, y, pos = _two_lead_signal(fs, kinds, seed=7)
    wide_one = np.array([k == "w" for k in kinds])
    called = np.array([k != "n" for k in kinds])  # the networks read the "w" and "v" beats V
    p = np.tile([0.8, 0.15, 0.05], (len(kinds), 1)).astype(np.float32)
    p[called] = [0.25, 0.05, 0.7]
    one = qrs_similarity(x, pos, fs, align_s=0.008)
    both = two_lead_qrs_similarity(x, y, pos, fs, align_s=0.008)
    # on the first lead alone the "w" beats are under the dominant-QRS bound; on both, over 0.90
    assert (one[wide_one] < 0.95).all() and (both[wide_one] >= 0.90).all()
    assert (both[kinds.index("u"):] < 0.5).all()
    dominant = {"threshold": 0.95, "max_share": 0.5}
    codes = ("N", "S", "V")
    plain = record_readings(p, x, pos, fs, codes, dominant_qrs=dominant, other_signal=y,
                            qrs_align_s=0.008)
    assert plain.reread_two_leads is None and plain.two_lead_similarity is None
    assert plain.probabilities.argmax(axis=1).tolist() == [2 if c else 0 for c in called]
    card = {**dominant, "two_leads": {"threshold": 0.90}}
    got = record_readings(p, x, pos, fs, codes, dominant_qrs=card, other_signal=y,
                          qrs_align_s=0.008)
    np.testing.assert_array_equal(got.reread_two_leads, wide_one)
    np.testing.assert_array_equal(got.reread, wide_one)
    np.testing.assert_allclose(got.two_lead_similarity, both)
    assert got.probabilities.argmax(axis=1).tolist() == [
        2 if k == "u" else 0 for k in kinds]  # read as their next most likely class, N
    np.testing.assert_allclose(got.probabilities.sum(axis=1), 1.0, atol=1e-6)
    # one lead only: the check does not run
    alone = record_readings(p, x, pos, fs, codes, dominant_qrs=card, qrs_align_s=0.008)
    assert alone.reread_two_leads is None
    assert (alone.probabilities.argmax(axis=1)[called] == 2).all()
    # more than half the beats read V: the typical QRS may be ventricular, nothing changes
    most = p.copy()
    most[:30] = [0.25, 0.05, 0.7]
    assert not record_readings(most, x, pos, fs, codes, dominant_qrs=card, other_signal=y
                               ).reread_two_leads.any()
    with pytest.raises(ValueError):
        two_lead_qrs_similarity(x, y[:-1], pos, fs)


def test_the_last_check_clears_the_v_template_flag_of_beats_it_reads_again():
    from ecg_core.beats import record_readings

    fs = 360.0
    kinds = ["n"] * 40 + ["w"] * 5 + ["u"] * 5
    x, y, pos = _two_lead_signal(fs, kinds, seed=7)
    p = np.tile([0.8, 0.15, 0.05], (len(kinds), 1)).astype(np.float32)
    p[[k != "n" for k in kinds]] = [0.25, 0.05, 0.7]
    last_w = kinds.index("u") - 1
    p[last_w] = [0.8, 0.15, 0.05]  # one "w" beat read N by the networks
    # bounds loose enough that the "w" calls' group makes a template on the first lead
    template = {"threshold": 0.95, "margin": 0.05, "cluster_threshold": 0.97,
                "min_width_gain_ms": 10.0, "group_cut": 0.10, "min_group": 3}
    dominant = {"threshold": 0.95}
    before = record_readings(p, x, pos, fs, ("N", "S", "V"), dominant_qrs=dominant,
                             v_template=template, other_signal=y, qrs_align_s=0.008)
    assert before.v_promoted[last_w] and before.probabilities[last_w].argmax() == 2
    got = record_readings(p, x, pos, fs, ("N", "S", "V"),
                          dominant_qrs={**dominant, "two_leads": {"threshold": 0.9}},
                          v_template=template, other_signal=y, qrs_align_s=0.008)
    # withdrawn: back to the networks' reading, N, and not a V call read again
    assert not got.v_promoted[last_w] and not got.reread_two_leads[last_w]
    np.testing.assert_allclose(got.probabilities[last_w], p[last_w], atol=1e-6)
    # the "w" beats the networks read V are read again as their next most likely class
    w_called = np.array([k == "w" for k in kinds])
    w_called[last_w] = False
    np.testing.assert_array_equal(got.reread_two_leads, w_called)
    assert (got.probabilities.argmax(axis=1)[w_called] == 0).all()
    assert not (got.v_promoted & got.reread_two_leads).any()


def _atrial_signal(fs: float, rr_s: np.ndarray, p_wave: bool, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic ECG in mV: a QRS spike at each R peak, with a P wave 0.16 s before it
    (sinus rhythm) or fibrillatory waves (4-8 Hz, drifting phase) throughout; small noise."""
    rng = np.random.default_rng(seed)
    positions = (np.cumsum(rr_s) * fs).astype(np.int64)
    n = int(positions[-1] + fs)
    t = np.arange(n) / fs
    x = 0.01 * rng.standard_normal(n)
    if not p_wave:
        for f in (4.3, 5.9, 7.1):
            x += 0.04 * np.sin(2 * np.pi * f * t + np.cumsum(rng.normal(0, 0.05, n)))
    for r in positions:
        x += 1.0 * np.exp(-0.5 * ((t - r / fs) / 0.012) ** 2)
        if p_wave:
            x += 0.15 * np.exp(-0.5 * ((t - r / fs + 0.16) / 0.025) ** 2)
    return x, positions


def test_atrial_consistency_tells_p_waves_from_fibrillatory_waves():
    from ecg_core.beats import ATRIAL_MIN_BEATS, atrial_consistency, irregular_rr

    fs = 360.0
    rng = np.random.default_rng(0)
    irregular = rng.uniform(0.45, 1.1, 200)      # irregularly irregular RR intervals (s)
    # sinus rhythm with frequent atrial premature beats: every third beat 0.5 s early
    premature = np.tile([0.9, 0.9, 0.5], 67)[:200]
    for rr, p_wave, high in ((irregular, False, False), (premature, True, True),
                             (np.full(200, 0.8), True, True)):
        x, pos = _atrial_signal(fs, rr, p_wave, seed=1)
        c = atrial_consistency(x, pos, fs)
        assert c.shape == (200,) and c.dtype == np.float64
        inner = c[20:-20]
        assert (inner > 0.8).all() if high else (inner < 0.5).all(), (p_wave, np.median(inner))
    assert irregular_rr(_atrial_signal(fs, irregular, False, 1)[1], fs).mean() > 0.8
    # beats left out (e.g. read ventricular) get no value of their own from too few neighbours
    x, pos = _atrial_signal(fs, np.full(200, 0.8), True, seed=2)
    usable = np.zeros(200, bool)
    usable[::40] = True                          # 5 beats: fewer than ATRIAL_MIN_BEATS in any
    assert 5 < ATRIAL_MIN_BEATS and np.isnan(atrial_consistency(x, pos, fs, usable)).all()
    # the first beat's stretch runs off the signal: it is left out, the rest still measured
    c = atrial_consistency(x, np.r_[20, pos], fs)
    assert np.isfinite(c[1:]).all()
    with pytest.raises(ValueError):
        atrial_consistency(x, pos, fs, usable[:10])


def test_atrial_correlation_marks_the_beat_whose_p_wave_differs():
    from ecg_core.beats import atrial_correlation, atrial_consistency

    fs = 360.0
    x, pos = _atrial_signal(fs, np.full(120, 0.8), True, seed=3)
    # beat 60's P wave inverted, as an atrial premature beat's from a low atrial focus
    t = np.arange(len(x)) / fs
    x = x - 0.30 * np.exp(-0.5 * ((t - pos[60] / fs + 0.16) / 0.025) ** 2)
    corr = atrial_correlation(x, pos, fs)
    assert corr[60] < 0 and np.nanmin(np.delete(corr, 60)[10:-10]) > 0.8
    # one odd beat does not move the window median: the rhythm still has its P waves
    assert atrial_consistency(x, pos, fs)[60] > 0.8


def test_fibrillation_fold_gives_s_to_n_only_in_irregular_inconsistent_stretches():
    from ecg_core.beats import fibrillation_fold

    p = np.array([[0.3, 0.6, 0.1], [0.3, 0.6, 0.1], [0.3, 0.6, 0.1], [0.3, 0.6, 0.1],
                  [0.2, 0.1, 0.7]], dtype=np.float32)
    irregular = np.array([True, False, True, True, True])
    consistency = np.array([0.2, 0.2, 0.9, np.nan, 0.1])
    q, folded = fibrillation_fold(p, irregular, consistency, 0, 1, 0.5)
    # beat 0 folded; 1 regular; 2 with consistent P waves; 3 unknown; 4 folded (read V still)
    assert folded.tolist() == [True, False, False, False, True]
    np.testing.assert_allclose(q[0], [0.9, 0.0, 0.1], rtol=1e-6)
    np.testing.assert_allclose(q[4], [0.3, 0.0, 0.7], rtol=1e-6)
    np.testing.assert_array_equal(q[1:4], p[1:4])
    assert q.dtype == np.float32 and q.argmax(axis=1).tolist() == [0, 1, 1, 1, 2]
    with pytest.raises(ValueError):
        fibrillation_fold(p, irregular[:3], consistency, 0, 1, 0.5)


def test_fibrillation_reading_on_both_leads_keeps_s_where_either_lead_has_p_waves():
    from ecg_core.beats import irregular_rr, readings_use_second_lead, record_readings

    fs = 360.0
    rr = np.random.default_rng(4).uniform(0.45, 1.1, 200)   # irregularly irregular
    no_p, pos = _atrial_signal(fs, rr, False, seed=5)        # no P wave seen on this lead
    with_p, pos_b = _atrial_signal(fs, rr, True, seed=6)     # the P waves seen on this one
    np.testing.assert_array_equal(pos, pos_b)
    n = min(len(no_p), len(with_p))
    no_p, with_p = no_p[:n], with_p[:n]
    p = np.tile([0.3, 0.6, 0.1], (200, 1)).astype(np.float32)
    codes = ("N", "S", "V")
    one = record_readings(p, no_p, pos, fs, codes, af_fold={"threshold": 0.5},
                          other_signal=with_p)
    both = record_readings(p, no_p, pos, fs, codes,
                           af_fold={"threshold": 0.5, "both_leads": True}, other_signal=with_p)
    alone = record_readings(p, no_p, pos, fs, codes,
                            af_fold={"threshold": 0.5, "both_leads": True})
    inner = slice(20, -20)
    irregular = irregular_rr(pos, fs)
    assert irregular[inner].mean() > 0.8
    # on the chosen lead alone the stretch reads as fibrillation: S folded into N
    np.testing.assert_array_equal(one.s_folded[inner], irregular[inner])
    assert (one.probabilities[inner][irregular[inner]].argmax(axis=1) == 0).all()
    np.testing.assert_array_equal(alone.s_folded, one.s_folded)   # no second lead: one lead
    # the second lead's repeating P wave keeps the S readings, and the consistency reported
    # is the one the reading used (the larger of the two leads')
    assert not both.s_folded[inner].any()
    np.testing.assert_allclose(both.probabilities, p)
    assert (both.atrial_consistency[inner] > 0.8).all()
    assert (np.nan_to_num(both.atrial_consistency) >= np.nan_to_num(one.atrial_consistency)).all()
    assert readings_use_second_lead(None, None, {"threshold": 0.5, "both_leads": True})
    assert not readings_use_second_lead(None, None, {"threshold": 0.5})


def test_v_cluster_reading_on_two_leads_keeps_v_beats_nearly_normal_on_the_chosen_lead():
    from ecg_core.beats import (qrs_similarity, readings_use_second_lead, record_readings,
                                two_lead_qrs_similarity, v_cluster_reading,
                                v_cluster_similarity)

    fs = 360.0
    kinds = ["n"] * 40 + ["v"] * 10
    x, y, pos = _two_lead_signal(fs, kinds, seed=12)
    is_v = np.array([k == "v" for k in kinds])
    p = np.tile([0.8, 0.15, 0.05], (len(kinds), 1)).astype(np.float32)
    p[is_v] = [0.2, 0.1, 0.7]                 # the networks read the ventricular beats V
    # on the chosen lead alone the V calls, as a group, share the typical QRS: all re-read
    one = v_cluster_similarity(x, pos, fs, is_v)
    assert one >= 0.9
    q1, reread1, _ = v_cluster_reading(p, x, pos, fs, qrs_similarity(x, pos, fs), 2, 0.9, 0.7)
    np.testing.assert_array_equal(reread1, is_v)
    # side by side with the second lead, where they are wide and inverted, they are not
    two = v_cluster_similarity(x, pos, fs, is_v, other_signal=y)
    assert two < 0.5
    q2, reread2, got = v_cluster_reading(p, x, pos, fs,
                                         two_lead_qrs_similarity(x, y, pos, fs), 2, 0.9, 0.7,
                                         other_signal=y)
    assert not reread2.any() and got == pytest.approx(two)
    np.testing.assert_array_equal(q2, p)
    with pytest.raises(ValueError):
        v_cluster_similarity(x, pos, fs, is_v, other_signal=y[:-5])
    # the card's readings: ``cluster.two_leads`` with a second lead (per-beat bound set high
    # so that only the cluster part can re-read them)
    cluster = {"cluster_threshold": 0.9, "threshold": 0.7}
    dominant = {"threshold": 0.99, "cluster": cluster}
    lone = record_readings(p, x, pos, fs, ("N", "S", "V"), dominant_qrs=dominant,
                           other_signal=y)
    np.testing.assert_array_equal(lone.reread, is_v)            # not asked for: one lead
    both = {"threshold": 0.99, "cluster": {**cluster, "two_leads": True}}
    got = record_readings(p, x, pos, fs, ("N", "S", "V"), dominant_qrs=both, other_signal=y)
    assert not got.reread.any() and got.v_cluster_similarity == pytest.approx(two)
    np.testing.assert_allclose(got.two_lead_similarity, two_lead_qrs_similarity(x, y, pos, fs))
    alone = record_readings(p, x, pos, fs, ("N", "S", "V"), dominant_qrs=both)
    np.testing.assert_array_equal(alone.reread, is_v)           # no second lead: one lead
    assert readings_use_second_lead(both, None)
    assert not readings_use_second_lead(dominant, None)


def test_rr_prematurity_measures_each_beat_against_the_rhythm_around_it():
    from ecg_core.beats import rr_prematurity

    fs = 360.0
    rr = np.full(39, 0.8)
    rr[19], rr[20] = 0.56, 1.04            # beat 20 comes 30% early, a full pause after it
    pos = np.r_[0, np.cumsum(rr)] * fs + 100
    before, after = rr_prematurity(pos.astype(np.int64), fs)
    assert before.shape == after.shape == (40,) and before.dtype == np.float64
    assert before[20] == pytest.approx(0.7, abs=0.01) and after[20] == pytest.approx(1.3, abs=0.01)
    # its neighbours' reference leaves the beat's own intervals out: still the 0.8 s rhythm
    assert before[21] == pytest.approx(1.3, abs=0.01) and after[19] == pytest.approx(0.7, abs=0.01)
    assert np.allclose(np.delete(before, [0, 20, 21, 39]), 1.0, atol=0.01)
    assert np.isnan(before[0]) and np.isnan(after[-1]) and np.isnan(before[-1])
    assert [len(v) for v in rr_prematurity(np.array([5], dtype=np.int64), fs)] == [1, 1]
    assert [len(v) for v in rr_prematurity(np.zeros(0, dtype=np.int64), fs)] == [0, 0]
    with pytest.raises(ValueError):
        rr_prematurity(pos, 0.0)
    with pytest.raises(ValueError):
        rr_prematurity(pos, fs, beats=0)


def test_premature_reading_reads_early_normal_looking_n_calls_s():
    from ecg_core.beats import premature_reading

    p = np.tile([0.7, 0.2, 0.1], (6, 1)).astype(np.float32)
    p[5] = [0.2, 0.1, 0.7]                                  # read V
    sim = np.array([0.99, 0.99, 0.80, 0.99, 0.99, 0.99])     # beat 2: not the usual QRS
    irregular = np.array([False, False, False, True, False, False])
    before = np.array([0.70, 0.95, 0.70, 0.70, 0.70, 0.70])  # beat 1: not early
    after = np.array([1.30, 1.30, 1.30, 1.30, 0.90, 1.30])   # beat 4: no longer interval
    q, promoted = premature_reading(p, sim, irregular, before, after, 0, 1, max_before=0.85,
                                    min_after=1.0, min_similarity=0.95)
    # only beat 0 has every sign; 3 lies in an irregular stretch; 5 was not read N
    assert promoted.tolist() == [True, False, False, False, False, False]
    np.testing.assert_allclose(q[0], [0.2, 0.7, 0.1], rtol=1e-6)
    np.testing.assert_array_equal(q[1:], p[1:])
    assert q.dtype == np.float32
    # an unknown similarity or ratio leaves the beat as read
    for arr in (sim, before, after):
        keep = arr[0]
        arr[0] = np.nan
        assert not premature_reading(p, sim, irregular, before, after, 0, 1, max_before=0.85,
                                     min_after=1.0, min_similarity=0.95)[1].any()
        arr[0] = keep
    with pytest.raises(ValueError):
        premature_reading(p, sim[:3], irregular, before, after, 0, 1, max_before=0.85,
                          min_after=1.0, min_similarity=0.95)


def test_record_readings_read_atrial_premature_beats_s_in_a_regular_rhythm_only():
    from ecg_core.beats import irregular_rr, record_readings

    fs = 360.0
    # sinus rhythm at 0.9 s with an atrial premature beat every 12th beat (0.55 s, then a
    # 1.25 s pause), all conducted alike; then the same beats in an irregular rhythm
    rr = np.tile(np.r_[np.full(10, 0.9), 0.55, 1.25], 10)
    x, pos = _atrial_signal(fs, rr, True, seed=7)
    p = np.tile([0.9, 0.05, 0.05], (len(pos), 1)).astype(np.float32)
    codes = ("N", "S", "V")
    card = {"max_before": 0.85, "min_after": 1.0, "min_similarity": 0.95, "reference_beats": 8}
    got = record_readings(p, x, pos, fs, codes, premature_s=card)
    early = np.zeros(len(pos), bool)
    early[10::12] = True                      # the beats that come after the 0.55 s interval
    early[0] = False
    assert not irregular_rr(pos, fs)[20:-20].any()
    np.testing.assert_array_equal(got.s_promoted[1:-1], early[1:-1])
    assert (got.probabilities[got.s_promoted].argmax(axis=1) == 1).all()
    assert got.qrs_similarity is None         # measured for this reading, not reported
    assert record_readings(p, x, pos, fs, codes).s_promoted is None
    irregular = np.random.default_rng(8).uniform(0.45, 1.1, 150)
    x2, pos2 = _atrial_signal(fs, irregular, True, seed=9)
    p2 = np.tile([0.9, 0.05, 0.05], (len(pos2), 1)).astype(np.float32)
    got2 = record_readings(p2, x2, pos2, fs, codes, premature_s=card)
    inner = irregular_rr(pos2, fs)
    assert inner[20:-20].mean() > 0.8 and not got2.s_promoted[inner].any()


@needs_mitdb
def test_atrial_premature_beats_of_mitdb_220_come_early_against_their_rhythm():
    """On a real record the measure tells atrial premature beats from normal ones: in MIT-BIH
    220 nearly every A beat comes early against the surrounding rhythm, and almost no normal
    beat both comes early and is followed by a longer interval."""
    from ecg_core.beats import rr_prematurity

    rec = read_record(MITDB / "220")
    pos, sym = _reference_beats(rec, with_symbols=True)
    before, after = rr_prematurity(pos, rec.fs)
    a, n = sym == "A", sym == "N"
    assert a.sum() == 94 and np.mean(before[a] < 0.85) >= 0.9
    assert np.mean((before[n] < 0.85) & (after[n] > 1.0)) <= 0.005


def test_atrial_premature_beats_of_232_are_not_premature_against_each_other():
    """The reading's known limit, on the excerpt of MIT-BIH 232: its atrial premature beats
    outnumber its other beats and follow one another, so against the rhythm around them they
    do not come early (the reading finds none of them; the networks must)."""
    from ecg_core.beats import rr_prematurity

    rec = read_record(EXCERPT_MITDB / "232")
    pos, sym = _reference_beats(rec, with_symbols=True)
    before, _ = rr_prematurity(pos, rec.fs)
    a = sym == "A"
    assert a.sum() >= 20 and np.mean(before[a] < 0.85) <= 0.05
