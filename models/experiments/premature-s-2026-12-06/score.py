"""RULE.md's deciding run: the committed readings of whole records (committed), and then the
premature-beat reading with RR after > 1.0 (P1) or > 1.1 (P2) of the reference RR, on DS1-OOF (MLII chosen),
DS1-OOF with the leads swapped for every reading, DS1 read on its second lead by the committed
networks, QT36 on its first lead clean and with recorded electrode-motion noise at 6 and 0 dB,
and QT36 on its second lead. No DS2 record, no held-out QT record. Writes validation.json.

    python models/experiments/premature-s-2026-12-06/score.py
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
from ecg_core.beats import irregular_rr, record_readings  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.evaluation import ectopic_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import AAMI_DS1, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "lead_score", HERE.parent / "readings-other-lead-2026-12-06" / "score.py")
_s = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_s)
CARD, SHARED, AAMI = _s.CARD, _s.SHARED, _s.AAMI
LABELS = ("committed", "P1: premature, RR after > 1.0", "P2: premature, RR after > 1.1")
POST = {LABELS[1]: 1.0, LABELS[2]: 1.1}
_spec = importlib.util.spec_from_file_location("premature_look", HERE / "look.py")
_look = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_look)


def premature(got, samples, fs, codes, label):
    """The committed readings' probabilities (got, a RecordReadings) with label's
    premature-beat reading last: beats read N in a regular rhythm, QRS similarity >= 0.95,
    RR before < 0.85 and RR after > POST[label] of the reference RR read S (N and S swap)."""
    q = np.array(got.probabilities, dtype=np.float32)
    if label == LABELS[0]:
        return q
    n_, s_ = codes.index("N"), codes.index("S")
    pre, post = _look.rr_ratios(samples, fs)
    with np.errstate(invalid="ignore"):
        hit = ((q.argmax(axis=1) == n_) & ~irregular_rr(samples, fs)
               & (got.qrs_similarity >= 0.95) & (pre < 0.85) & (post > POST[label]))
    q[hit, n_], q[hit, s_] = q[hit, s_], q[hit, n_]
    return q


def readings(p, sig, other, samples, fs, codes, label):
    """The card's readings of one record, then label's premature-beat reading."""
    got = record_readings(p, sig, samples, fs, codes, dominant_qrs=CARD["dominant_qrs"],
                          af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                          other_signal=other, qrs_align_s=_s.ALIGN_S)
    return premature(got, np.asarray(samples), fs, codes, label)


def whole_records(clf, bare, codes, db, which, noise=False):
    """Labels and probabilities per (version, label) of db's records read by the committed
    networks on their first or second lead (as readings-other-lead's score.py reads them)."""
    folder, names = (("mitdb", AAMI_DS1) if db == "DS1" else ("qtdb", QTDB_TRAIN + QTDB_VAL))
    em = read_record(SHARED / "nstdb" / "em", annotator=None, other_lead=True)
    ys, got = {}, {}
    for name in names:
        leads = list(read_record(SHARED / folder / name, annotator=None).channels)
        first = "MLII" if "MLII" in leads else leads[0]
        lead = first if which == "first" else next(c for c in leads if c != first)
        rec = read_record(SHARED / folder / name, lead=lead, annotator="atr", other_lead=True)
        for key, r in _s._versions(rec, noise, em).items():
            res = classify_record(r, bare)
            other = condition_signal(r.other_signal, r.fs, clf.conditioning)
            keep = np.array([s in AAMI for s in res.reference])
            ys.setdefault(key, []).append(np.array([codes.index(AAMI[s]) for s in
                                                    np.array(res.reference)[keep]]))
            for label in LABELS:
                got.setdefault((key, label), []).append(readings(
                    res.probabilities, model_signal(r, clf), other, res.samples, res.fs,
                    codes, label)[keep])
    return ({k: np.concatenate(v) for k, v in ys.items()},
            {k: np.concatenate(v) for k, v in got.items()})


def main() -> int:
    y, p, names, samples, codes = _s._a.ds1_oof()
    out = {(lab, swap): p.copy() for lab in LABELS for swap in (False, True)}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(SHARED / "mitdb" / name, lead="MLII", annotator=None, other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        for (label, swap), arr in out.items():
            first, second = (other, sig) if swap else (sig, other)
            arr[idx] = readings(p[idx], first, second, samples[idx], rec.fs, codes, label)
    result = {"DS1-OOF": {lab: ectopic_figures(y, out[(lab, False)], codes) for lab in LABELS},
              "DS1-OOF, leads swapped": {lab: ectopic_figures(y, out[(lab, True)], codes)
                                         for lab in LABELS}}
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
                                         for lab in LABELS}

    result["checks"], result["qualifies"] = {}, {}
    for cand in LABELS[1:]:
        checks = {}

        def pair(dset):
            return result[dset][LABELS[0]], result[dset][cand]

        b, c = pair("DS1-OOF")
        checks["(1) DS1-OOF S Se >= committed + 2"] = [c["S Se"], b["S Se"] + 2]
        checks["(1) DS1-OOF S +P >= committed - 0.5"] = [c["S +P"], b["S +P"] - 0.5]
        checks["(1) DS1-OOF accuracy not lower"] = [c["accuracy"], b["accuracy"]]
        checks["(1) DS1-OOF N Se >= committed - 0.1"] = [c["N Se"], b["N Se"] - 0.1]
        checks["(1) DS1-OOF V Se >= committed - 0.1"] = [c["V Se"], b["V Se"] - 0.1]
        b, c = pair("DS1-OOF, leads swapped")
        checks["(2) swapped accuracy >= committed - 0.05"] = [c["accuracy"], b["accuracy"] - 0.05]
        checks["(2) swapped S Se not lower"] = [c["S Se"], b["S Se"]]
        b, c = pair("DS1 second lead clean")
        checks["(3) DS1 second lead accuracy >= committed - 0.05"] = [c["accuracy"],
                                                                     b["accuracy"] - 0.05]
        checks["(3) DS1 second lead S +P >= committed - 1"] = [c["S +P"], b["S +P"] - 1]
        b, c = pair("QT36 clean")
        checks["(4) QT36 clean accuracy >= committed - 0.02"] = [c["accuracy"],
                                                                b["accuracy"] - 0.02]
        checks["(4) QT36 clean S Se not lower"] = [c["S Se"], b["S Se"]]
        checks["(4) QT36 clean S +P >= committed - 0.3"] = [c["S +P"], b["S +P"] - 0.3]
        for key in ("em 6 dB", "em 0 dB"):
            b, c = pair(f"QT36 {key}")
            checks[f"(4) QT36 {key} accuracy >= committed - 0.05"] = [c["accuracy"],
                                                                     b["accuracy"] - 0.05]
            checks[f"(4) QT36 {key} S Se >= committed - 6"] = [c["S Se"], b["S Se"] - 6]
        b, c = pair("QT36 second lead clean")
        checks["(5) QT36 second lead accuracy >= committed - 0.05"] = [c["accuracy"],
                                                                      b["accuracy"] - 0.05]
        checks["(5) QT36 second lead S Se not lower"] = [c["S Se"], b["S Se"]]
        result["checks"][cand] = {k: [v, bound, v >= bound] for k, (v, bound) in checks.items()}
        result["qualifies"][cand] = all(ok for *_, ok in result["checks"][cand].values())
    passing = [c for c in LABELS[1:] if result["qualifies"][c]]
    result["chosen"] = (max(passing, key=lambda c: (result["DS1-OOF"][c]["accuracy"],
                                                    c == LABELS[2])) if passing else None)
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print("| reading | set | acc | N Se | S Se | S +P | V Se | V +P | F Se | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dset in [k for k in result if k not in ("checks", "qualifies", "chosen")]:
        for name in LABELS:
            f = result[dset][name]
            print(f"| {name} | {dset} | {f['accuracy']:.2f} | {f['N Se']:.1f} | "
                  f"{f['S Se']:.1f} | {f['S +P']:.1f} | {f['V Se']:.1f} | {f['V +P']:.1f} | "
                  f"{f.get('F Se', float('nan')):.1f} | {f['C']:.2f} |")
    for cand in LABELS[1:]:
        print(cand)
        for k, (value, bound, ok) in result["checks"][cand].items():
            print(f"  {k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
        print("  qualifies" if result["qualifies"][cand] else "  does not qualify")
    print("chosen:", result["chosen"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
