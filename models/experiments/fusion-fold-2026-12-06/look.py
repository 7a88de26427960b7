"""The look that led to RULE.md (disclosed): on DS1-OOF (the 22 DS1 patients, each read by the
cross-validation networks that never saw it) after every committed reading of whole records,
the confusion matrix, the F calls by record and true class, and the class each F call would
take next. Writes look.txt.

    python models/experiments/fusion-fold-2026-12-06/look.py
"""

from __future__ import annotations

import collections
import importlib.util
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import record_readings  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "lead_score", HERE.parent / "readings-other-lead-2026-12-06" / "score.py")
_s = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_s)
CARD = _s.CARD


def committed(p, names, samples, codes):
    """DS1-OOF probabilities after every committed reading (MLII chosen, V1 second)."""
    out = p.copy()
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_s.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        out[idx] = record_readings(
            p[idx], sig, samples[idx], rec.fs, codes, dominant_qrs=CARD["dominant_qrs"],
            af_fold=CARD["af_fold"], v_template=CARD["v_template"], other_signal=other,
            qrs_align_s=_s.ALIGN_S).probabilities
    return out


def main() -> int:
    y, p, names, samples, codes = _s._a.ds1_oof()
    out = committed(p, names, samples, codes)
    pred = out.argmax(axis=1)
    f = codes.index("F")
    lines = [f"classes {codes}", "DS1-OOF after the committed readings (rows true, columns read):",
             str(confusion_matrix(y, pred, labels=range(len(codes))))]
    calls = pred == f
    lines.append(f"F calls: {int(calls.sum())}, right: {int((calls & (y == f)).sum())}")
    lines.append("F calls by (record, true class): " + str(sorted(
        collections.Counter(zip(names[calls].tolist(), [codes[i] for i in y[calls]])).items(),
        key=lambda kv: -kv[1])))
    q = out[calls].copy()
    q[:, f] = 0.0
    nxt = q.argmax(axis=1)
    lines.append("F calls by (true class, next most likely class): " + str(sorted(
        collections.Counter(zip([codes[i] for i in y[calls]], [codes[i] for i in nxt])).items(),
        key=lambda kv: -kv[1])))
    true_f = y == f
    lines.append(f"true F beats: {int(true_f.sum())}, read as "
                 + str(dict(collections.Counter(codes[i] for i in pred[true_f]))))
    (HERE / "look.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
