"""A look, before any rule: what do the readings of whole records do to V calls when the
chosen lead is not MLII? Their bounds were chosen on MIT-BIH MLII (and the QT records' first
leads); a record of another database may come on any lead.

The committed `aami/ecgnet` (its networks trained on DS1 and on 27 of the QT36 records, on
both leads: the networks' own figures here flatter them; what this look measures is what each
reading adds or takes away) reads the 22 DS1 records and the 36 QT validation records
(QT36) twice: on the first lead (MLII for DS1) with the second as the other, and on the
second lead with the first as the other. Beats from the reference annotations. The readings
are added one at a time in the order they run. No DS2 record, no held-out QT record.

    python models/experiments/readings-other-lead-2026-12-06/look.py > look.txt
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import record_readings  # noqa: E402
from ecg_core.classes import AAMI_CLASSES  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import AAMI_DS1, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

SHARED = ROOT.parent / "shared"
AAMI = {sym: c.code for c in AAMI_CLASSES for sym in c.symbols}
CLF = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
ALIGN_S = CLF.qrs_align_s


def steps():
    """(name, dominant_qrs, af_fold, v_template) cumulative, as record_readings runs them."""
    dq, af, vt = CLF.dominant_qrs, CLF.af_fold, CLF.v_template
    dq1 = {k: v for k, v in dq.items() if k not in ("cluster", "two_leads")}
    dq2 = {k: v for k, v in dq.items() if k != "two_leads"}
    vt1 = {k: v for k, v in vt.items() if k != "two_leads"}
    return [("networks", None, None, None),
            ("+ dominant QRS", dq1, None, None),
            ("+ V cluster", dq2, None, None),
            ("+ AF fold", dq2, af, None),
            ("+ V template (chosen lead)", dq2, af, vt1),
            ("+ V template (both leads)", dq2, af, vt),
            ("+ last check on both leads (committed)", dq, af, vt)]


def main() -> int:
    bare = copy.copy(CLF)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    codes = tuple(CLF.class_codes)
    v = codes.index("V")
    table = {}
    per_record = []
    for db, folder, names in (("DS1", "mitdb", AAMI_DS1),
                              ("QT36", "qtdb", QTDB_TRAIN + QTDB_VAL)):
        for which in ("first", "second"):
            for name in names:
                head = read_record(SHARED / folder / name, annotator=None)
                leads = list(head.channels)
                first = "MLII" if "MLII" in leads else leads[0]
                second = next(c for c in leads if c != first)
                lead = first if which == "first" else second
                rec = read_record(SHARED / folder / name, lead=lead, annotator="atr",
                                  other_lead=True)
                res = classify_record(rec, bare)
                sig = model_signal(rec, CLF)
                other = condition_signal(rec.other_signal, rec.fs, CLF.conditioning)
                ref = np.array([AAMI.get(s, "") for s in res.reference], dtype=object)
                true_v = ref == "V"
                for step, dq, af, vt in steps():
                    p = (res.probabilities if dq is None and af is None and vt is None else
                         record_readings(res.probabilities, sig, res.samples, res.fs, codes,
                                         dominant_qrs=dq, af_fold=af, v_template=vt,
                                         other_signal=other, qrs_align_s=ALIGN_S
                                         ).probabilities)
                    call_v = p.argmax(axis=1) == v
                    t = table.setdefault((db, which, step), [0, 0, 0])
                    t[0] += int((call_v & true_v).sum())
                    t[1] += int(true_v.sum())
                    t[2] += int(call_v.sum())
                    if step.endswith("(committed)") or step == "networks":
                        per_record.append((db, which, name, lead, step,
                                           int((call_v & true_v).sum()), int(true_v.sum()),
                                           int((call_v & ~true_v).sum())))
    print("| set | chosen lead | readings | V found / V beats | V Se | V calls | V +P |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (db, which, step), (tp, nv, nc) in table.items():
        print(f"| {db} | {which} | {step} | {tp} / {nv} | {100 * tp / max(nv, 1):.1f} | {nc} | "
              f"{100 * tp / max(nc, 1):.1f} |")
    print()
    print("Per record (networks -> committed): V found / V beats, false V")
    rows = {}
    for db, which, name, lead, step, tp, nv, fp in per_record:
        rows.setdefault((db, which, name, lead), []).append((tp, nv, fp))
    for (db, which, name, lead), got in rows.items():
        (a, n, fa), (b, _, fb) = got
        if n and (a != b or fa != fb):
            print(f"  {db} {which} {name} ({lead}): {a} -> {b} of {n}, false {fa} -> {fb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
