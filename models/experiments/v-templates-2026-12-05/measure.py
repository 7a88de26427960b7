"""A look, before any rule: after the committed readings (the V-template reading included),
does a record's V calls split into more than one template (multiform ventricular ectopy), and
would reading beats against each template find ventricular beats the one median template
misses?

V calls are grouped by average-linkage hierarchical clustering on the cosine distance of their
QRS stretches (scipy.cluster.hierarchy), cut at distance 0.1 (similarity 0.9); each group of at
least 3 calls is a template, kept only where it passes the V-template reading's own guards
(cosine with the typical QRS under 0.90, wider than it by >= 10 ms); a beat read as another
class is counted where it matches a kept template at >= 0.95 and beats its cosine with the
typical QRS by >= 0.10 (the committed marks). DS1-OOF (the 22 patients read by cross-validation
networks that never saw them) and the 36 QT validation records through the committed model. No
DS2 record, no held-out QT record. Writes measure.json.

    python models/experiments/v-templates-2026-12-05/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import _qrs_stretches, qrs_width_s, record_readings  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "atrial_measure", EXPERIMENTS / "atrial-activity-2026-12-05" / "measure.py")
_m = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_m)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())


def template_hits(q: np.ndarray, sig, samples, fs, v: int, cut: float = 0.1):
    """Beats read as another class that match a kept template of the V calls' groups (bool
    (n,)), and the groups' sizes, similarities to the typical QRS and width gains (ms)."""
    n = len(q)
    hits = np.zeros(n, bool)
    called = q.argmax(axis=1) == v
    groups = []
    if not 3 <= called.sum() <= 0.5 * n:
        return hits, groups
    stretch, whole = _qrs_stretches(sig, samples, fs)
    inside = called[whole]
    if inside.sum() < 3:
        return hits, groups
    typical = np.median(stretch, axis=0)
    nt = np.linalg.norm(typical)
    norms = np.linalg.norm(stretch, axis=1)
    vs = stretch[inside]
    ok = np.linalg.norm(vs, axis=1) > 0
    vs = vs[ok]
    if len(vs) < 3:
        return hits, groups
    labels = fcluster(linkage(vs, method="average", metric="cosine"), t=cut,
                      criterion="distance")
    with np.errstate(invalid="ignore", divide="ignore"):
        to_t = stretch @ typical / (norms * nt)
    for lab in np.unique(labels):
        members = vs[labels == lab]
        if len(members) < 3:
            continue
        tpl = np.median(members, axis=0)
        nv = np.linalg.norm(tpl)
        cl = float(tpl @ typical / (nv * nt))
        gain = 1000 * (qrs_width_s(tpl, fs) - qrs_width_s(typical, fs))
        kept = cl < 0.9 and gain >= 10 - 1e-6
        groups.append([int(len(members)), round(cl, 3), round(gain, 1), kept])
        if not kept:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            to_v = stretch @ tpl / (norms * nv)
            hit = ~inside & (to_v >= 0.95) & (to_v - to_t >= 0.10)
        hits[np.flatnonzero(whole)[hit]] = True
    return hits, groups


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    v = codes.index("V")
    out = {"DS1-OOF": {}, "QT36": {}}
    tot = {"DS1-OOF": [0, 0, 0], "QT36": [0, 0, 0]}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        q = record_readings(p[idx], sig, samples[idx], fs, codes,
                            dominant_qrs={"threshold": 2.0,
                                          "cluster": CARD["dominant_qrs"]["cluster"]},
                            af_fold=CARD["af_fold"], v_template=CARD["v_template"]
                            ).probabilities
        hits, groups = template_hits(q, sig, samples[idx], fs, v)
        yy = y[idx]
        missed = int(((yy == v) & (q.argmax(axis=1) != v)).sum())
        out["DS1-OOF"][name] = {"groups (size, cos typical, width gain ms, kept)": groups,
                                "more read V": int(hits.sum()),
                                "of them V": int((hits & (yy == v)).sum()),
                                "V missed by the committed reading": missed}
        tot["DS1-OOF"][0] += int(hits.sum())
        tot["DS1-OOF"][1] += int((hits & (yy == v)).sum())
        tot["DS1-OOF"][2] += missed
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        hits, groups = template_hits(res.probabilities, model_signal(rec, clf), res.samples,
                                     res.fs, v)
        ref = np.array([_m._dq.AAMI.get(s, "") for s in res.reference])
        out["QT36"][name] = {"groups (size, cos typical, width gain ms, kept)": groups,
                             "more read V": int(hits.sum()),
                             "of them V": int((hits & (ref == "V")).sum())}
        tot["QT36"][0] += int(hits.sum())
        tot["QT36"][1] += int((hits & (ref == "V")).sum())
    out["totals (more read V, of them V, DS1 V missed)"] = tot
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(tot))
    for part in ("DS1-OOF", "QT36"):
        for name, r in out[part].items():
            if r["more read V"] or len(r["groups (size, cos typical, width gain ms, kept)"]) > 1:
                print(part, name, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
