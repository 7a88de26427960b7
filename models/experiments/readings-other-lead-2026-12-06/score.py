"""RULE.md's deciding run: the committed readings of whole records with the V-cluster
reading on the chosen lead (committed) or on both leads side by side (C), on DS1-OOF (MLII
chosen), DS1-OOF with the leads swapped for every reading, DS1 read on its second lead by the
committed networks, QT36 on its first lead clean and with recorded electrode-motion noise at 6
and 0 dB, and QT36 on its second lead. No DS2 record, no held-out QT record. Writes
validation.json.

    python models/experiments/readings-other-lead-2026-12-06/score.py
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
from ecg_core.protocols import AAMI_DS1, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import ECGRecord, read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "align_score", EXPERIMENTS / "qrs-alignment-2026-12-05" / "score.py")
_a = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_a)
SHARED = _a._m._dq.SHARED
AAMI = _a._m._dq.AAMI
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = CARD["qrs_alignment"]["max_shift_ms"] / 1000.0
BASELINE, CANDIDATE = "committed", "C: V cluster on both leads"
_CLUSTER = {k: v for k, v in CARD["dominant_qrs"]["cluster"].items() if k != "two_leads"}
DQ = {BASELINE: {**CARD["dominant_qrs"], "cluster": _CLUSTER},
      CANDIDATE: {**CARD["dominant_qrs"], "cluster": {**_CLUSTER, "two_leads": True}}}


def readings(p, sig, other, samples, fs, codes, label):
    """The card's readings of one record, with the dominant-QRS settings of label."""
    return record_readings(p, sig, samples, fs, codes, dominant_qrs=DQ[label],
                           af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                           other_signal=other, qrs_align_s=ALIGN_S).probabilities


def _versions(rec, noise, em):
    versions = {"clean": rec}
    if not noise:
        return versions
    ann = rec.annotations
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
    for snr in (6, 0):
        sig = add_recorded_noise(rec.signal, beats, rec.fs, em.signal, snr)
        oth = (None if rec.other_signal is None else add_recorded_noise(
            rec.other_signal, beats, rec.fs, em.other_signal, snr).astype(np.float32))
        versions[f"em {snr} dB"] = ECGRecord(
            name=rec.name, signal=sig.astype(np.float32), fs=rec.fs, lead=rec.lead,
            original_fs=rec.original_fs, annotations=ann, channels=rec.channels,
            other_signal=oth, other_lead=rec.other_lead)
    return versions


def whole_records(clf, bare, codes, db, which, noise=False):
    """Labels and probabilities per (version, reading) of db's records read by the committed
    networks on their first ('first': MLII where there is one) or second lead."""
    folder, names = (("mitdb", AAMI_DS1) if db == "DS1" else ("qtdb", QTDB_TRAIN + QTDB_VAL))
    em = read_record(SHARED / "nstdb" / "em", annotator=None, other_lead=True)
    ys, got = {}, {}
    for name in names:
        leads = list(read_record(SHARED / folder / name, annotator=None).channels)
        first = "MLII" if "MLII" in leads else leads[0]
        lead = first if which == "first" else next(c for c in leads if c != first)
        rec = read_record(SHARED / folder / name, lead=lead, annotator="atr", other_lead=True)
        for key, r in _versions(rec, noise, em).items():
            res = classify_record(r, bare)  # the networks' outputs, no reading
            other = condition_signal(r.other_signal, r.fs, clf.conditioning)
            keep = np.array([s in AAMI for s in res.reference])
            ys.setdefault(key, []).append(np.array([codes.index(AAMI[s]) for s in
                                                    np.array(res.reference)[keep]]))
            for label in DQ:
                got.setdefault((key, label), []).append(readings(
                    res.probabilities, model_signal(r, clf), other, res.samples, res.fs,
                    codes, label)[keep])
    return ({k: np.concatenate(v) for k, v in ys.items()},
            {k: np.concatenate(v) for k, v in got.items()})


def main() -> int:
    y, p, names, samples, codes = _a.ds1_oof()
    out = {(lab, swap): p.copy() for lab in DQ for swap in (False, True)}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(SHARED / "mitdb" / name, lead="MLII", annotator=None, other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        for (label, swap), arr in out.items():
            first, second = (other, sig) if swap else (sig, other)
            arr[idx] = readings(p[idx], first, second, samples[idx], rec.fs, codes, label)
    result = {"DS1-OOF": {lab: ectopic_figures(y, out[(lab, False)], codes) for lab in DQ},
              "DS1-OOF, leads swapped": {lab: ectopic_figures(y, out[(lab, True)], codes)
                                         for lab in DQ}}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    bare = copy.copy(clf)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    codes = tuple(codes)
    for db, which, noise, prefix in (("DS1", "second", False, "DS1 second lead"),
                                     ("QT36", "first", True, "QT36"),
                                     ("QT36", "second", False, "QT36 second lead")):
        ys, got = whole_records(clf, bare, codes, db, which, noise)
        for key in ys:
            result[f"{prefix} {key}"] = {lab: ectopic_figures(ys[key], got[(key, lab)], codes)
                                         for lab in DQ}

    def pair(dset):
        return result[dset][BASELINE], result[dset][CANDIDATE]

    checks = {}
    b, c = pair("DS1-OOF")
    checks["(1) DS1-OOF V Se >= committed - 0.1"] = [c["V Se"], b["V Se"] - 0.1]
    checks["(1) DS1-OOF V +P >= committed - 0.5"] = [c["V +P"], b["V +P"] - 0.5]
    checks["(1) DS1-OOF accuracy >= committed - 0.05"] = [c["accuracy"], b["accuracy"] - 0.05]
    b, c = pair("DS1-OOF, leads swapped")
    checks["(2) swapped V Se >= committed + 5"] = [c["V Se"], b["V Se"] + 5]
    checks["(2) swapped accuracy not lower"] = [c["accuracy"], b["accuracy"]]
    b, c = pair("DS1 second lead clean")
    checks["(3) DS1 second lead V Se >= committed + 5"] = [c["V Se"], b["V Se"] + 5]
    checks["(3) DS1 second lead accuracy not lower"] = [c["accuracy"], b["accuracy"]]
    b, c = pair("QT36 clean")
    checks["(4) QT36 clean accuracy >= committed - 0.05"] = [c["accuracy"], b["accuracy"] - 0.05]
    checks["(4) QT36 clean V Se not lower"] = [c["V Se"], b["V Se"]]
    checks["(4) QT36 clean V +P >= committed - 2"] = [c["V +P"], b["V +P"] - 2]
    for key in ("em 6 dB", "em 0 dB"):
        b, c = pair(f"QT36 {key}")
        checks[f"(4) QT36 {key} accuracy >= committed - 0.05"] = [c["accuracy"],
                                                                  b["accuracy"] - 0.05]
        checks[f"(4) QT36 {key} V Se >= committed - 1"] = [c["V Se"], b["V Se"] - 1]
    b, c = pair("QT36 second lead clean")
    checks["(4) QT36 second lead V Se not lower"] = [c["V Se"], b["V Se"]]
    checks["(4) QT36 second lead V +P >= committed - 2"] = [c["V +P"], b["V +P"] - 2]
    result["checks"] = {k: [val, bound, val >= bound] for k, (val, bound) in checks.items()}
    result["qualifies"] = all(ok for *_, ok in result["checks"].values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print("| reading | set | acc | N Se | S Se | S +P | V Se | V +P | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for dset in [k for k in result if k not in ("checks", "qualifies")]:
        for name in DQ:
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
