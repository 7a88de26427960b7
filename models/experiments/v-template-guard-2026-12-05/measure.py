"""A look, before any rule: where the V-template reading (``v-template-2026-12-05``: beats read
N or S whose QRS matches the median QRS of the record's V calls at >= 0.95 and beats the typical
QRS by >= 0.10, where that template is not the typical QRS) fires on DS1, what tells the records
whose template is made of true V calls from DS1 108, whose template is made of false ones?

Per firing record: the V calls' own network confidence, the template's QRS width and amplitude
against the typical QRS, and for the beats it would read V, the network's V probability and
the RR prematurity, by truth. DS1 only (the 22 patients, each read by the cross-validation
networks that never saw it, committed reading). No DS2 record, no held-out QT record. Writes
measure.json.

    python models/experiments/v-template-guard-2026-12-05/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import QRS_SIMILARITY_S, _qrs_stretches, record_readings  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "atrial_measure", EXPERIMENTS / "atrial-activity-2026-12-05" / "measure.py")
_m = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_m)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())


def width_ms(x: np.ndarray, fs: float, level: float = 0.5) -> float:
    """Time (ms) the stretch spends at or above ``level`` of its largest absolute value."""
    a = np.abs(x)
    return float((a >= level * a.max()).sum() / fs * 1000.0)


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    v = codes.index("V")
    out = {}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        q = record_readings(p[idx], sig, samples[idx], fs, codes,
                            dominant_qrs={"threshold": 2.0,
                                          "cluster": CARD["dominant_qrs"]["cluster"]},
                            af_fold=CARD["af_fold"]).probabilities
        called = q.argmax(axis=1) == v
        if not 3 <= called.sum() <= 0.5 * len(q):
            continue
        stretch, whole = _qrs_stretches(sig, samples[idx], fs)
        inside = called[whole]
        if inside.sum() < 3:
            continue
        typical = np.median(stretch, axis=0)
        template = np.median(stretch[inside], axis=0)
        nt, nv = np.linalg.norm(typical), np.linalg.norm(template)
        norms = np.linalg.norm(stretch, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            to_v = stretch @ template / (norms * nv)
            to_t = stretch @ typical / (norms * nt)
        cluster = float(template @ typical / (nt * nv))
        if cluster >= 0.9:
            continue
        hit = ~inside & (to_v >= 0.95) & (to_v - to_t >= 0.10)
        rows = np.flatnonzero(whole)[hit]
        if not len(rows):
            continue
        yy = y[idx]
        pos = samples[idx].astype(float)
        rr_prev = np.diff(pos, prepend=np.nan) / fs
        local = np.convolve(np.nan_to_num(rr_prev, nan=np.nanmedian(rr_prev)),
                            np.ones(9) / 9, mode="same")
        prem = rr_prev / local
        pv = p[idx][:, v]  # the networks' V probability, before the readings
        rank = (p[idx] > pv[:, None]).sum(axis=1)  # 0: V first, 1: second ...
        true_v = yy[rows] == v

        def quant(a):
            a = a[np.isfinite(a)]
            return [round(float(x), 3) for x in np.percentile(a, [10, 50, 90])] if len(a) \
                else []

        out[name] = {
            "beats": int(len(idx)), "V calls": int(called.sum()),
            "V calls true": int((called & (yy == v)).sum()),
            "V calls' V probability, 10/50/90%": quant(q[called, v]),
            "V calls' tightness (median cosine to template)": round(float(
                np.nanmedian(to_v[inside])), 3),
            "cluster (template vs typical)": round(cluster, 3),
            "template / typical QRS width at half amplitude (ms)": [
                width_ms(template, fs), width_ms(typical, fs)],
            "template / typical peak-to-peak (mV)": [
                round(float(np.ptp(template)), 3), round(float(np.ptp(typical)), 3)],
            "read V": int(len(rows)), "read V true": int(true_v.sum()),
            "network V probability of those read V, true V, 10/50/90%": quant(pv[rows][true_v]),
            "network V probability of those read V, not V, 10/50/90%": quant(pv[rows][~true_v]),
            "V rank of those read V (0 = first), true V, median": (
                float(np.median(rank[rows][true_v])) if true_v.any() else None),
            "V rank of those read V, not V, median": (
                float(np.median(rank[rows][~true_v])) if (~true_v).any() else None),
            "RR before / local mean RR of those read V, true V": quant(prem[rows][true_v]),
            "RR before / local mean RR of those read V, not V": quant(prem[rows][~true_v]),
        }
    out["_stretch"] = f"QRS stretch {QRS_SIMILARITY_S} s before/after R"
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
