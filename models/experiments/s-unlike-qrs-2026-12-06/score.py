"""RULE.md's deciding run: the committed readings of whole records with and without reading
again the S calls whose QRS is unlike the usual on both leads, on DS1-OOF and on QT36 clean and
with recorded electrode-motion noise at 6 and 0 dB. No DS2 record, no held-out QT record.
Writes validation.json.

    python models/experiments/s-unlike-qrs-2026-12-06/score.py
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import BEAT_SYMBOLS, _read_next_class, record_readings  # noqa: E402
from ecg_core.conditioning import add_recorded_noise, condition_signal  # noqa: E402
from ecg_core.evaluation import ectopic_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import ECGRecord, read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "align_score", EXPERIMENTS / "qrs-alignment-2026-12-05" / "score.py")
_a = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_a)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = CARD["qrs_alignment"]["max_shift_ms"] / 1000.0
BASELINE, CANDIDATE = "committed", "S2: S calls unlike the usual QRS on both leads read again"
TEMPLATES = {BASELINE: None, CANDIDATE: 0.5}


def readings(p, sig, other, samples, fs, codes, label):
    """The card's readings of one record, then with ``label``'s bound the S calls whose
    two-lead QRS similarity is under it read as their next most likely class."""
    got = record_readings(p, sig, samples, fs, codes, dominant_qrs=CARD["dominant_qrs"],
                          af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                          other_signal=other, qrs_align_s=ALIGN_S)
    q, bound = got.probabilities, TEMPLATES[label]
    if bound is None or got.two_lead_similarity is None:
        return q
    s = list(codes).index("S")
    with np.errstate(invalid="ignore"):
        rows = ((q.argmax(axis=1) == s) & (got.two_lead_similarity < bound)
                & (q.sum(axis=1) - q[:, s] > 0))
    return _read_next_class(q, rows, s)


def qt_sets(clf, bare, codes):
    """Labels and probabilities per (set, reading) on QT36 clean and with em noise."""
    shared = _a._m._dq.SHARED
    em = read_record(shared / "nstdb" / "em", annotator=None, other_lead=True)
    ys = {k: [] for k in ("clean", "em 6 dB", "em 0 dB")}
    got = {(k, lab): [] for k in ys for lab in TEMPLATES}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(shared / "qtdb" / name, annotator="atr", other_lead=True)
        ann = rec.annotations
        beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
        versions = {"clean": rec}
        for snr in (6, 0):
            sig = add_recorded_noise(rec.signal, beats, rec.fs, em.signal, snr)
            oth = (None if rec.other_signal is None else add_recorded_noise(
                rec.other_signal, beats, rec.fs, em.other_signal, snr).astype(np.float32))
            versions[f"em {snr} dB"] = ECGRecord(
                name=name, signal=sig.astype(np.float32), fs=rec.fs, lead=rec.lead,
                original_fs=rec.original_fs, annotations=ann, channels=rec.channels,
                other_signal=oth, other_lead=rec.other_lead)
        for key, r in versions.items():
            res = classify_record(r, bare)  # the networks' outputs, no reading
            other = (None if r.other_signal is None
                     else condition_signal(r.other_signal, r.fs, clf.conditioning))
            keep = np.array([s in _a._m._dq.AAMI for s in res.reference])
            ys[key].append(np.array([codes.index(_a._m._dq.AAMI[s])
                                     for s in np.array(res.reference)[keep]]))
            for label in TEMPLATES:
                got[(key, label)].append(readings(res.probabilities, model_signal(r, clf), other,
                                                  res.samples, res.fs, codes, label)[keep])
    return ({k: np.concatenate(v) for k, v in ys.items()},
            {k: np.concatenate(v) for k, v in got.items()})


def main() -> int:
    y, p, names, samples, codes = _a.ds1_oof()
    out = {label: p.copy() for label in TEMPLATES}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_a._m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        for label in TEMPLATES:
            out[label][idx] = readings(p[idx], sig, other, samples[idx], rec.fs, codes, label)
    result = {"DS1-OOF": {k: ectopic_figures(y, v, codes) for k, v in out.items()}}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    bare = copy.copy(clf)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    ys, got = qt_sets(clf, bare, tuple(codes))
    for key in ys:
        result[f"QT36 {key}"] = {label: ectopic_figures(ys[key], got[(key, label)], codes)
                                 for label in TEMPLATES}
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["QT36 clean"][BASELINE], result["QT36 clean"][CANDIDATE]
    checks = {
        "(1) S +P >= committed + 0.5": [c["S +P"], b["S +P"] + 0.5],
        "(1) S Se >= committed - 0.5": [c["S Se"], b["S Se"] - 0.5],
        "(1) V Se not lower": [c["V Se"], b["V Se"]],
        "(1) accuracy not lower": [c["accuracy"], b["accuracy"]],
        "(2) QT36 clean accuracy not lower": [qc["accuracy"], qb["accuracy"]],
        "(2) QT36 clean S Se not lower": [qc["S Se"], qb["S Se"]],
        "(2) QT36 clean V Se not lower": [qc["V Se"], qb["V Se"]]}
    for key in ("em 6 dB", "em 0 dB"):
        nb, nc = result[f"QT36 {key}"][BASELINE], result[f"QT36 {key}"][CANDIDATE]
        checks[f"(3) QT36 {key} accuracy >= committed - 0.05"] = [nc["accuracy"],
                                                                  nb["accuracy"] - 0.05]
        checks[f"(3) QT36 {key} S Se >= committed - 1"] = [nc["S Se"], nb["S Se"] - 1]
    result["checks"] = {k: [val, bound, val >= bound] for k, (val, bound) in checks.items()}
    result["qualifies"] = all(ok for *_, ok in result["checks"].values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print("| reading | set | acc | N Se | S Se | S +P | V Se | V +P | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for dset in ("DS1-OOF", "QT36 clean", "QT36 em 6 dB", "QT36 em 0 dB"):
        for name in TEMPLATES:
            f = result[dset][name]
            print(f"| {name} | {dset} | {f['accuracy']:.2f} | {f['N Se']:.1f} | "
                  f"{f['S Se']:.1f} | {f['S +P']:.1f} | {f['V Se']:.1f} | {f['V +P']:.1f} | "
                  f"{f['C']:.2f} |")
    for k, (value, bound, ok) in result["checks"].items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
