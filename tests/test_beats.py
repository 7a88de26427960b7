"""Beat selection, RR intervals, VF windows and beat windows on real records."""

import numpy as np
import pytest

from ecg_core.beats import beat_window, labelled_beats, vf_episodes, vf_windows
from ecg_core.errors import RecordError
from ecg_core.records import read_annotations, read_record
from tests.conftest import CUDB, MITDB, needs_cudb, needs_mitdb


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


@needs_cudb
def test_cudb_vf_windows_lie_inside_episodes():
    ann, n = read_annotations(CUDB / "cu01")
    episodes = vf_episodes(ann, n)
    assert episodes and all(s < e for s, e in episodes)
    wins = vf_windows("cu01", ann, n, 360.0, stride_s=1.5)
    margin = round(0.7 * 360)
    for w in wins:
        assert any(s + margin <= w.sample < e - margin for s, e in episodes)
        assert w.label == "VFW"
    assert vf_windows("cu02", *read_annotations(CUDB / "cu02"), 360.0) == []  # no VF in cu02


def test_beat_window_length_and_edges():
    sig = np.arange(1000, dtype=np.float32)
    w = beat_window(sig, 500, 360.0, 0.5, 0.5)
    assert w.shape == (361,) and w[180] == 500
    edge = beat_window(sig, 10, 360.0, 0.5, 0.5)
    assert edge[0] == 0  # padded with the edge sample
    with pytest.raises(RecordError):
        beat_window(sig, 5000, 360.0)
