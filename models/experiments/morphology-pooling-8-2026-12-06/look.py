"""Look, on the validation records of the five folds only (no test fold is read): the 8-class
cross-validation networks' morphology classes (NOR, LBB, RBB, PAB) pooled over a record's
beats, record-wide or over the beats of like QRS shape, as a reading of whole records could.

    python -m ecg_core cross-validate --data data/beats-one-bp-vfrr --out data/runs-cv-vfrr \
        --rhythm --max-train-per-class 12000 --epochs 20 --patience 4     # about 16 min
    python models/experiments/morphology-pooling-8-2026-12-06/look.py [RUNS] [SPLIT] [FOLDS]
    python models/experiments/morphology-pooling-8-2026-12-06/look.py - spikes

Writes, per validation record of each fold, its labels, the beats read right without and with
each pooling, and the calls without and with the 0.95 neighbourhood; then the pooled confusion
of every version as Se/+P per class (the records that are validation records of several folds
count once per fold). Output: look.txt. With SPLIT ``spikes``: the pacemaker-spike measurement
of RESULT.md (no network), output appended to look.txt.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.__main__ import _split_probabilities  # noqa: E402
from ecg_core.beats import _qrs_stretches  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.dataset import (_record_settings, _row_record, _rows_by_record,  # noqa: E402
                              dataset_codes, load_split)
from ecg_core.model import Classifier  # noqa: E402

DATA = str(ROOT / "data" / "beats-one-bp-vfrr")
RUNS = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "runs-cv-vfrr")
SPLIT = sys.argv[2] if len(sys.argv) > 2 else "val"
FOLDS = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "12345")]
#: The classes that describe a record's usual conduction; APC, PVC, VFW and VEB calls are
#: left as they are.
MORPH = ("NOR", "LBB", "RBB", "PAB")


def record_stretches(rows, idx, sources, cond, fs):
    """QRS stretches (the readings' own, unaligned) of one record's rows, in row order."""
    r = rows[idx[0]]
    rec = _row_record(sources, r["database"], r["record"], r.get("lead") or "", fs, None, "look")
    pos = np.array([int(rows[i]["sample"]) for i in idx])
    return _qrs_stretches(condition_signal(rec.signal, fs, cond), pos, fs)


def pooled(p, codes, st, whole, t):
    """Calls without pooling, with record-wide pooling, and with pooling over the beats whose
    QRS cosine with the beat's is >= t; both poolings over beats called a MORPH class."""
    m = [codes.index(c) for c in MORPH]
    call = p.argmax(1)
    inm = np.isin(call, m)
    whole_rec = call.copy()
    if inm.any():
        whole_rec[inm] = m[int(p[inm][:, m].mean(0).argmax())]
    near = call.copy()
    w = np.where(whole)[0]
    s = st / np.maximum(np.linalg.norm(st, axis=1, keepdims=True), 1e-9)
    sim = s @ s.T
    for a, i in enumerate(w):
        if inm[i]:
            nb = (sim[a] >= t) & inm[w]
            near[i] = m[int(p[w[nb]][:, m].mean(0).argmax())]
    return call, whole_rec, near


def main() -> None:
    codes = None
    tot = collections.defaultdict(lambda: np.zeros((8, 8), int))
    for k in FOLDS:
        clf = Classifier.load(f"{RUNS}/fold{k}/ecgnet.keras")
        codes = list(clf.class_codes)
        x, y, rows = load_split(DATA, SPLIT, f"fold{k}", size=clf.input_size)
        p = _split_probabilities(clf, x, rows, data_dir=DATA)
        dcodes = dataset_codes(DATA)
        y = np.array([codes.index(dcodes[i]) for i in y])
        sources, cond, fs = _record_settings(DATA, None, None, None)
        sources = {db: str(ROOT.parent / "shared" / db) for db in sources}
        done = np.zeros(len(rows), bool)
        for key, idx in _rows_by_record(rows, sources).items():
            idx = np.array(idx)
            st, whole = record_stretches(rows, idx, sources, cond, fs)
            call, whole_rec, near = pooled(p[idx], codes, st, whole, 0.95)
            res = {"none": call, "pool": whole_rec, "nb95": near,
                   "nb90": pooled(p[idx], codes, st, whole, 0.90)[2],
                   "nb98": pooled(p[idx], codes, st, whole, 0.98)[2]}
            for name, c in res.items():
                np.add.at(tot[name], (y[idx], c), 1)
            labels = collections.Counter(codes[v] for v in y[idx])
            print((k, key[1], dict(labels),
                   {n: int((c == y[idx]).sum()) for n, c in res.items()},
                   {n: dict(collections.Counter(codes[v] for v in res[n]))
                    for n in ("none", "nb95")}))
            done[idx] = True
        rest = np.where(~done)[0]  # VF windows: no record reading
        for name in tot:
            np.add.at(tot[name], (y[rest], p[rest].argmax(1)), 1)
    for name, cm in tot.items():
        se = cm.diagonal() / np.maximum(cm.sum(1), 1)
        pp = cm.diagonal() / np.maximum(cm.sum(0), 1)
        print(name, "acc %.4f" % (cm.trace() / cm.sum()),
              " ".join(f"{c} {100 * a:.1f}/{100 * b:.1f}" for c, a, b in zip(codes, se, pp)))


def pacing_spikes() -> None:
    """The largest absolute second difference (mV) of the raw first channel in the 150 ms
    before each R peak (to 14 ms before it) and within 14 ms of it, median over the first two
    minutes' beats, for the paced records, the LBB records and three others (no network)."""
    import wfdb

    for name in ("102", "104", "107", "217", "109", "111", "207", "214", "100", "118", "212"):
        path = str(ROOT.parent / "shared" / "mitdb" / name)
        rec = wfdb.rdrecord(path, sampto=360 * 120)
        ann = wfdb.rdann(path, "atr", sampto=360 * 120)
        x = rec.p_signal[:, 0]
        d2 = np.abs(np.diff(x, 2))
        pos = [s for s, sym in zip(ann.sample, ann.symbol)
               if sym in "NLR/fV" and 100 < s < len(x) - 100]
        pre = np.median([d2[s - 54:s - 5].max() for s in pos])
        qrs = np.median([d2[s - 5:s + 5].max() for s in pos])
        print(f"{name} {rec.sig_name[0]}: before R {pre:.3f}, at R {qrs:.3f}")


if __name__ == "__main__":
    if SPLIT == "spikes":
        pacing_spikes()
    else:
        main()
