"""RULE.md's deciding run: the committed readings of whole records with and without aligning
each QRS stretch to the typical QRS (+-8 ms), on DS1-OOF, QT36 at 250 Hz and QT36 written at
128 Hz. No DS2 record, no held-out QT record. Writes validation.json.

    python models/experiments/qrs-alignment-2026-12-05/score.py
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import record_readings  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.evaluation import ectopic_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_m = _load("atrial_measure", EXPERIMENTS / "atrial-activity-2026-12-05" / "measure.py")
_sr = _load("rate_measure", EXPERIMENTS / "sampling-rate-2026-11-28" / "measure.py")
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = 0.008
BASELINE, CANDIDATE = "committed", "A: stretches aligned +-8 ms"


def readings(p, sig, other, samples, fs, codes, align_s):
    """The card's readings of one record, as classify_record applies them."""
    return record_readings(p, sig, samples, fs, codes, dominant_qrs=CARD["dominant_qrs"],
                           af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                           other_signal=other, qrs_align_s=align_s).probabilities


def ds1_oof():
    """DS1-OOF labels and the networks' probabilities before any reading (as
    committed_reading() forms them, less its per-beat dominant-QRS step), with signals."""
    dq, rn = _m._dq, _m._dq._rn
    local, _ = rn._recipe("ds1-cv-2026-11-28")
    record, _ = rn._recipe("record-rr-cv-2026-11-28")
    ys, ps, recs, samp, start, codes = [], [], [], [], 0, None
    for protocol in _m.DS1_CV_PROTOCOLS:
        _, y, rows = load_split(dq.DATA, "test", protocol)
        sl = slice(start, start + len(y))
        start += len(y)
        card = dq._fold_card(protocol)
        ratio = _m.class_mix_log_ratio(card, dq.DATA)[0]
        codes = codes or [c["code"] for c in card["classes"]]
        v = codes.index("V")
        ps.append(_m.shift_probabilities(rn.guarded(local[sl], record[sl], v), dq.SHIFT * ratio))
        ys.append(y), recs.append(np.array([row["record"] for row in rows]))
        samp.append(np.array([int(row["sample"]) for row in rows]))
    return (np.concatenate(ys), np.concatenate(ps), np.concatenate(recs),
            np.concatenate(samp), codes)


def qt_set(folder: Path, clf, bare) -> tuple:
    """Labels and, per alignment, the readings' probabilities of the QT36 records in folder."""
    codes = tuple(clf.class_codes)
    yq, got = [], {BASELINE: [], CANDIDATE: []}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(folder / name, annotator="atr", other_lead=True)
        res = classify_record(rec, bare)  # the networks' outputs, no reading
        other = (None if rec.other_signal is None
                 else condition_signal(rec.other_signal, rec.fs, clf.conditioning))
        keep = np.array([s in _m._dq.AAMI for s in res.reference])
        yq.append(np.array([codes.index(_m._dq.AAMI[s])
                            for s in np.array(res.reference)[keep]]))
        for label, align in ((BASELINE, 0.0), (CANDIDATE, ALIGN_S)):
            got[label].append(readings(res.probabilities, model_signal(rec, clf), other,
                                       res.samples, res.fs, codes, align)[keep])
    return np.concatenate(yq), {k: np.concatenate(v) for k, v in got.items()}


def main() -> int:
    y, p, names, samples, codes = ds1_oof()
    out = {BASELINE: p.copy(), CANDIDATE: p.copy()}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        for label, align in ((BASELINE, 0.0), (CANDIDATE, ALIGN_S)):
            out[label][idx] = readings(p[idx], sig, other, samples[idx], rec.fs, codes, align)
    result = {"DS1-OOF": {k: ectopic_figures(y, v, codes) for k, v in out.items()}}
    result["DS1-OOF beats read alike (%)"] = 100 * float(np.mean(
        out[BASELINE].argmax(1) == out[CANDIDATE].argmax(1)))
    two = json.loads((EXPERIMENTS / "v-template-two-leads-2026-12-05" / "validation.json")
                     .read_text())["DS1-OOF"]["U: and on both leads"]
    result["baseline reproduces the two-lead rule's DS1-OOF figures"] = all(
        (abs(result["DS1-OOF"][BASELINE][k] - two[k]) < 1e-9
         if isinstance(two[k], (int, float)) else result["DS1-OOF"][BASELINE][k] == two[k])
        for k in two)
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    bare = copy.copy(clf)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    yq, got = qt_set(_m._dq.SHARED / "qtdb", clf, bare)
    result["QT36 250 Hz"] = {k: ectopic_figures(yq, v, codes) for k, v in got.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for name in QTDB_TRAIN + QTDB_VAL:
            _sr.write_low_rate(_m._dq.SHARED / "qtdb", name, Path(tmp))
        yl, low = qt_set(Path(tmp), clf, bare)
    result["QT36 128 Hz"] = {k: ectopic_figures(yl, v, codes) for k, v in low.items()}
    for k in got:
        result[f"QT36 beats read alike at both rates, {k} (%)"] = 100 * float(np.mean(
            got[k].argmax(1) == low[k].argmax(1))) if len(yq) == len(yl) else None
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["QT36 250 Hz"][BASELINE], result["QT36 250 Hz"][CANDIDATE]
    lb, lc = result["QT36 128 Hz"][BASELINE], result["QT36 128 Hz"][CANDIDATE]
    checks = {
        "(1) accuracy >= committed - 0.05": [c["accuracy"], b["accuracy"] - 0.05],
        "(1) V Se >= committed - 0.5": [c["V Se"], b["V Se"] - 0.5],
        "(1) V +P >= committed - 0.5": [c["V +P"], b["V +P"] - 0.5],
        "(1) S Se >= committed - 0.5": [c["S Se"], b["S Se"] - 0.5],
        "(2) QT36 250 Hz accuracy >= committed - 0.05": [qc["accuracy"], qb["accuracy"] - 0.05],
        "(2) QT36 250 Hz V +P >= committed - 1": [qc["V +P"], qb["V +P"] - 1],
        "(2) QT36 250 Hz V Se not lower": [qc["V Se"], qb["V Se"]],
        "(3) QT36 128 Hz V +P >= committed + 2": [lc["V +P"], lb["V +P"] + 2],
        "(3) QT36 128 Hz V Se not lower": [lc["V Se"], lb["V Se"]],
        "(3) QT36 128 Hz accuracy not lower": [lc["accuracy"], lb["accuracy"]]}
    result["checks"] = {k: [val, bound, val >= bound] for k, (val, bound) in checks.items()}
    result["qualifies"] = (all(ok for *_, ok in result["checks"].values())
                           and result["baseline reproduces the two-lead rule's DS1-OOF figures"])
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print("| reading | set | acc | N Se | S Se | S +P | V Se | V +P | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for dset in ("DS1-OOF", "QT36 250 Hz", "QT36 128 Hz"):
        for name in (BASELINE, CANDIDATE):
            f = result[dset][name]
            print(f"| {name} | {dset} | {f['accuracy']:.2f} | {f['N Se']:.1f} | "
                  f"{f['S Se']:.1f} | {f['S +P']:.1f} | {f['V Se']:.1f} | {f['V +P']:.1f} | "
                  f"{f['C']:.2f} |")
    for k, v in result.items():
        if "alike" in k or "reproduces" in k:
            print(k, v)
    for k, (value, bound, ok) in result["checks"].items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
