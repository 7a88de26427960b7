"""RULE.md's deciding run: the committed readings of whole records with the
atrial-fibrillation reading's consistency on the chosen lead (committed) or on both leads (B),
on DS1-OOF (MLII chosen), DS1-OOF with the leads swapped for every reading, and QT36 clean and
with recorded electrode-motion noise at 6 and 0 dB. No DS2 record, no held-out QT record.
Writes validation.json.

    python models/experiments/af-reading-leads-2026-12-06/score.py
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
from ecg_core.beats import BEAT_SYMBOLS, record_readings  # noqa: E402
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
BASELINE, CANDIDATE = "committed", "B: consistency on both leads"
_BEFORE = {k: v for k, v in CARD["af_fold"].items() if k != "both_leads"}  # as committed
AF = {BASELINE: _BEFORE, CANDIDATE: {**_BEFORE, "both_leads": True}}


def readings(p, sig, other, samples, fs, codes, label):
    """The card's readings of one record, with the atrial-fibrillation settings of label."""
    return record_readings(p, sig, samples, fs, codes, dominant_qrs=CARD["dominant_qrs"],
                           af_fold=AF[label], v_template=CARD["v_template"],
                           other_signal=other, qrs_align_s=ALIGN_S).probabilities


def qt_sets(clf, bare, codes):
    """Labels and probabilities per (set, reading) on QT36 clean and with em noise."""
    shared = _a._m._dq.SHARED
    em = read_record(shared / "nstdb" / "em", annotator=None, other_lead=True)
    ys = {k: [] for k in ("clean", "em 6 dB", "em 0 dB")}
    got = {(k, lab): [] for k in ys for lab in AF}
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
            for label in AF:
                got[(key, label)].append(readings(res.probabilities, model_signal(r, clf), other,
                                                  res.samples, res.fs, codes, label)[keep])
    return ({k: np.concatenate(v) for k, v in ys.items()},
            {k: np.concatenate(v) for k, v in got.items()})


def main() -> int:
    y, p, names, samples, codes = _a.ds1_oof()
    out = {(lab, swap): p.copy() for lab in AF for swap in (False, True)}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_a._m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        for (label, swap), arr in out.items():
            first, second = (other, sig) if swap else (sig, other)
            arr[idx] = readings(p[idx], first, second, samples[idx], rec.fs, codes, label)
    result = {"DS1-OOF": {lab: ectopic_figures(y, out[(lab, False)], codes) for lab in AF},
              "DS1-OOF, leads swapped": {lab: ectopic_figures(y, out[(lab, True)], codes)
                                         for lab in AF}}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    bare = copy.copy(clf)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    ys, got = qt_sets(clf, bare, tuple(codes))
    for key in ys:
        result[f"QT36 {key}"] = {label: ectopic_figures(ys[key], got[(key, label)], codes)
                                 for label in AF}
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    sb, sc = (result["DS1-OOF, leads swapped"][BASELINE],
              result["DS1-OOF, leads swapped"][CANDIDATE])
    checks = {
        "(1) DS1-OOF accuracy >= committed - 0.05": [c["accuracy"], b["accuracy"] - 0.05],
        "(1) DS1-OOF S Se >= committed - 0.2": [c["S Se"], b["S Se"] - 0.2],
        "(1) DS1-OOF S +P >= committed - 1.0": [c["S +P"], b["S +P"] - 1.0],
        "(2) swapped S Se >= committed + 0.5": [sc["S Se"], sb["S Se"] + 0.5],
        "(2) swapped accuracy >= committed - 0.05": [sc["accuracy"], sb["accuracy"] - 0.05]}
    for key in ("clean", "em 6 dB", "em 0 dB"):
        nb, nc = result[f"QT36 {key}"][BASELINE], result[f"QT36 {key}"][CANDIDATE]
        checks[f"(3) QT36 {key} accuracy >= committed - 0.05"] = [nc["accuracy"],
                                                                  nb["accuracy"] - 0.05]
        checks[f"(3) QT36 {key} S Se not lower"] = [nc["S Se"], nb["S Se"]]
    result["checks"] = {k: [val, bound, val >= bound] for k, (val, bound) in checks.items()}
    result["qualifies"] = all(ok for *_, ok in result["checks"].values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print("| reading | set | acc | N Se | S Se | S +P | V Se | V +P | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for dset in ("DS1-OOF", "DS1-OOF, leads swapped", "QT36 clean", "QT36 em 6 dB",
                 "QT36 em 0 dB"):
        for name in AF:
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
