"""A look, before any rule: does the consistency of the stretch before each QRS (where the P
wave lies in sinus rhythm and fibrillatory waves in atrial fibrillation) tell atrial
fibrillation from frequent atrial premature beats, where RR irregularity cannot?

DS1 only (22 records), beats as built, each read by the committed composite (E2 + R95) from
the cross-validation outputs that never saw its patient; reference rhythm annotations say
which beats lie in atrial fibrillation or flutter. Writes measure.json beside this file.

    python models/experiments/atrial-activity-2026-12-05/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import irregular_rr  # noqa: E402
from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS  # noqa: E402
from ecg_core.records import read_record  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_dq = _load("dq", EXPERIMENTS / "dominant-qrs-2026-12-05" / "score.py")
_af = _load("af", EXPERIMENTS / "af-context-2026-12-05" / "measure.py")
BEFORE_S, AFTER_S = 0.30, 0.05   # the stretch: R - 0.30 s to R - 0.05 s
NEIGHBOURS = 8                   # beats each side whose median is a beat's template
WINDOW = 32                      # beats whose median consistency is the stretch's score


def atrial_consistency(signal, samples, fs, usable):
    """Per beat: Pearson correlation of its pre-QRS stretch with the median stretch of up to
    NEIGHBOURS usable beats each side (itself left out); NaN for unusable beats. Then the
    median over the WINDOW beats around each beat (usable ones)."""
    x = np.asarray(signal, np.float64)
    b, a = int(round(BEFORE_S * fs)), int(round(AFTER_S * fs))
    pos = np.asarray(samples, np.int64)
    ok = usable & (pos - b >= 0) & (pos - a < len(x))
    seg = np.zeros((len(pos), b - a))
    seg[ok] = x[pos[ok][:, None] + np.arange(-b, -a)[None]]
    seg -= seg.mean(axis=1, keepdims=True)
    corr = np.full(len(pos), np.nan)
    idx = np.flatnonzero(ok)
    for j, i in enumerate(idx):
        nb = np.r_[idx[max(0, j - NEIGHBOURS):j], idx[j + 1:j + 1 + NEIGHBOURS]]
        if len(nb) < 4:
            continue
        t = np.median(seg[nb], axis=0)
        t = t - t.mean()
        den = np.linalg.norm(seg[i]) * np.linalg.norm(t)
        corr[i] = seg[i] @ t / den if den > 0 else np.nan
    score = np.full(len(pos), np.nan)
    half = WINDOW // 2
    for i in range(len(pos)):
        w = corr[max(0, i - half):i + half + 1]
        w = w[np.isfinite(w)]
        if len(w) >= 8:
            score[i] = np.median(w)
    return corr, score


def committed_reading():
    """DS1-OOF: labels, the committed reading's probabilities (E2, shift, R95), record names,
    samples, codes; fold after fold as the saved outputs hold them."""
    local, _ = _dq._rn._recipe("ds1-cv-2026-11-28")
    record, _ = _dq._rn._recipe("record-rr-cv-2026-11-28")
    ys, ps, recs, samp, start, codes = [], [], [], [], 0, None
    signals = {}
    for protocol in DS1_CV_PROTOCOLS:
        _, y, rows = load_split(_dq.DATA, "test", protocol)
        sl = slice(start, start + len(y))
        start += len(y)
        card = _dq._fold_card(protocol)
        ratio = class_mix_log_ratio(card, _dq.DATA)[0]
        codes = codes or [c["code"] for c in card["classes"]]
        v = codes.index("V")
        p = shift_probabilities(_dq._rn.guarded(local[sl], record[sl], v), _dq.SHIFT * ratio)
        names = np.array([row["record"] for row in rows])
        s = np.array([int(row["sample"]) for row in rows])
        for name in sorted(set(names)):
            idx = np.flatnonzero(names == name)
            rec = read_record(_dq.SHARED / "mitdb" / name, lead="MLII", annotator=None)
            sig = condition_signal(rec.signal, rec.fs, "bandpass")
            signals[name] = (sig, rec.fs)
            order = idx[np.argsort(s[idx])]
            r = _dq.similarity(sig, s[order], rec.fs)
            p[order] = _dq.r95(p[order], r, v)
        ys.append(y), ps.append(p), recs.append(names), samp.append(s)
    return (np.concatenate(ys), np.concatenate(ps), np.concatenate(recs),
            np.concatenate(samp), codes, signals)


def main() -> int:
    from sklearn.metrics import roc_auc_score

    y, p, names, samples, codes, signals = committed_reading()
    pred = p.argmax(axis=1)
    v, s_ = codes.index("V"), codes.index("S")
    n = len(y)
    score, irregular, in_af = np.full(n, np.nan), np.zeros(n, bool), np.zeros(n, bool)
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        _, score[idx] = atrial_consistency(sig, samples[idx], fs, pred[idx] != v)
        irregular[idx] = irregular_rr(samples[idx], fs)
        in_af[idx] = np.isin(_af.rhythm_at(name, samples[idx]), _af.AF_RHYTHMS)
    fin = np.isfinite(score)
    out = {"beats": n, "in AF/AFL": int(in_af.sum()), "irregular": int(irregular.sum()),
           "AUC (low score = AF), all beats": float(roc_auc_score(in_af[fin], -score[fin])),
           "AUC among irregular beats": float(roc_auc_score(in_af[fin & irregular],
                                                           -score[fin & irregular]))}
    q = [10, 25, 50, 75, 90]
    groups = {"AF beats": in_af, "non-AF irregular": irregular & ~in_af,
              "non-AF regular": ~irregular & ~in_af,
              "S beats outside AF": (y == s_) & ~in_af,
              "S beats outside AF, irregular": (y == s_) & ~in_af & irregular,
              "beats read S in AF": in_af & (pred == s_),
              "beats read S outside AF, not S": ~in_af & (pred == s_) & (y != s_)}
    out["score quantiles 10/25/50/75/90"] = {
        k: [round(float(x), 3) for x in np.nanpercentile(score[m], q)] + [int(m.sum())]
        for k, m in groups.items()}
    out["by threshold (irregular & score < t)"] = {}
    for t in (0.2, 0.3, 0.4, 0.5, 0.6):
        flag = irregular & fin & (score < t)
        out["by threshold (irregular & score < t)"][t] = {
            "AF beats flagged %": round(100 * flag[in_af].mean(), 1),
            "non-AF beats flagged %": round(100 * flag[~in_af].mean(), 2),
            "S beats outside AF flagged": int((flag & (y == s_) & ~in_af).sum()),
            "false S calls removed": int((flag & (pred == s_) & (y != s_)).sum()),
            "true S calls removed": int((flag & (pred == s_) & (y == s_)).sum())}
    per = {}
    for name in sorted(set(names)):
        m = names == name
        per[name] = {"median score": round(float(np.nanmedian(score[m])), 3),
                     "AF %": round(100 * in_af[m].mean(), 1),
                     "irregular %": round(100 * irregular[m].mean(), 1),
                     "S": int((y[m] == s_).sum()), "read S": int((pred[m] == s_).sum())}
    out["by record"] = per
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
