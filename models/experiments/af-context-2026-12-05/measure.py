"""PLAN.md's two measurements on the 22 DS1 records (no DS2 record is read). Run from the
repository root with ``data/aami-bp-leads`` built (about a minute on 2 CPU cores):

    python models/experiments/af-context-2026-12-05/measure.py

Writes result.json beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.protocols import AAMI_DS1, DS1_CV_PROTOCOLS  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = ROOT / "data" / "aami-bp-leads"
MITDB = ROOT.parent / "shared" / "mitdb"
RECIPES = {"local RR (committed recipe)": "ds1-cv-2026-11-28",
           "record RR": "record-rr-cv-2026-11-28"}
AF_RHYTHMS = ("(AFIB", "(AFL")
CODES = ("N", "S", "V", "F", "Q")
WINDOW, DROP = 32, 4
DENSE = ("106", "119", "208", "215", "223")


def rhythm_at(record: str, samples: np.ndarray) -> np.ndarray:
    """The reference rhythm label (e.g. ``"(AFIB"``) in force at each sample."""
    import wfdb

    ann = wfdb.rdann(str(MITDB / record), "atr")
    starts, labels = [], []
    for s, sym, note in zip(ann.sample, ann.symbol, ann.aux_note):
        note = note.strip("\x00").strip()
        if sym == "+" and note.startswith("("):
            starts.append(int(s))
            labels.append(note)
    if not starts:
        return np.full(len(samples), "(N", dtype=object)
    idx = np.searchsorted(np.asarray(starts), samples, side="right") - 1
    out = np.asarray(labels, dtype=object)[np.clip(idx, 0, None)]
    out[idx < 0] = "(N"
    return out


def irregularity(samples: np.ndarray, fs: float) -> np.ndarray:
    """nRMSSD of the WINDOW RR intervals around each beat (the DROP longest and shortest left
    out), samples sorted."""
    rr = np.diff(samples) / fs
    out = np.zeros(len(samples))
    for i in range(len(samples)):
        lo = max(0, min(i - WINDOW // 2, len(rr) - WINDOW))
        w = rr[lo:lo + WINDOW]
        if len(w) > 2 * DROP + 2:
            w = _trim(w)
        d = np.diff(w)
        out[i] = np.sqrt(np.mean(d ** 2)) / np.mean(w) if len(d) else 0.0
    return out


def _trim(w: np.ndarray) -> np.ndarray:
    """``w`` in its time order with its DROP longest and DROP shortest intervals left out."""
    order = np.argsort(w, kind="stable")
    keep = np.sort(order[DROP:len(w) - DROP])
    return w[keep]


def ds1_oof_beats() -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """The DS1 beats in the order the cross-validated outputs hold them (each fold's test
    split, fold after fold): rows, labels, record names, R-peak samples."""
    rows, ys = [], []
    for protocol in DS1_CV_PROTOCOLS:
        _, y, r = load_split(DATA, "test", protocol)
        rows += r
        ys.append(y)
    records = np.array([r["record"] for r in rows])
    samples = np.array([int(r["sample"]) for r in rows])
    return rows, np.concatenate(ys), records, samples


def figures(y: np.ndarray, p: np.ndarray) -> dict:
    pred = p.argmax(axis=1)
    out = {"accuracy": float((pred == y).mean())}
    for c in ("S", "V"):
        i = CODES.index(c)
        tp = int(((pred == i) & (y == i)).sum())
        out[f"{c} Se"] = tp / max(1, int((y == i).sum()))
        out[f"{c} +P"] = tp / max(1, int((pred == i).sum()))
        out[f"{c} false"] = int(((pred == i) & (y != i)).sum())
    return out


def main() -> int:
    from sklearn.metrics import roc_auc_score, roc_curve

    rows, y, records, samples = ds1_oof_beats()
    assert set(records) == set(AAMI_DS1), sorted(set(records))
    rhythm = np.empty(len(rows), dtype=object)
    irr = np.zeros(len(rows))
    for rec in sorted(set(records)):
        m = np.flatnonzero(records == rec)
        order = m[np.argsort(samples[m])]
        rhythm[order] = rhythm_at(rec, samples[order])
        irr[order] = irregularity(samples[order], float(rows[order[0]]["fs"]))
    af = np.isin(rhythm, AF_RHYTHMS)
    out = {"beats": int(len(y)), "beats_in_af_or_flutter": int(af.sum()),
           "af_beats_by_record": {r: int(af[records == r].sum())
                                  for r in sorted(set(records)) if af[records == r].any()},
           "S_beats_in_af_or_flutter": int(((y == 1) & af).sum()), "ceiling": {}}
    s, n = CODES.index("S"), CODES.index("N")
    for name, folder in RECIPES.items():
        z = np.load(HERE.parent / folder / "ecgnet.eval.cv.test.aami-bp-leads.npz")
        assert np.array_equal(z["y_true"], y)
        p = z["y_prob"].astype(np.float64)
        folded = p.copy()
        folded[af, n] += folded[af, s]
        folded[af, s] = 0.0
        before, after = figures(y, p), figures(y, folded)
        false_s = {r: [int(((p.argmax(1) == s) & (y != s) & (records == r)).sum()),
                       int(((folded.argmax(1) == s) & (y != s) & (records == r)).sum())]
                   for r in ("201", "203")}
        out["ceiling"][name] = {"before": before, "after": after,
                                "false S in 201, 203 (before, after)": false_s}
    auc = float(roc_auc_score(af, irr))
    fpr, tpr, thr = roc_curve(af, irr)
    t90 = float(thr[np.argmax(tpr >= 0.9)])
    flagged = irr >= t90
    out["irregularity"] = {
        "measure": f"nRMSSD of {WINDOW} RR intervals, {DROP} longest and shortest left out",
        "auc": auc, "threshold_at_90pct_of_af_beats": t90,
        "af_beats_found": float(flagged[af].mean()),
        "other_beats_flagged": float(flagged[~af].mean()),
        "other_beats_flagged_by_record": {r: float(flagged[(records == r) & ~af].mean())
                                          for r in sorted(set(records))
                                          if ((records == r) & ~af).any()},
        "S_beats_flagged": float(flagged[(y == 1) & ~af].mean())}
    (HERE / "result.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
