"""A look, before any rule: does the atrial-fibrillation reading fold S beats outside
atrial fibrillation when the record comes on another lead or at another sampling rate than
MIT-BIH's MLII at 360 Hz, where its threshold was chosen? And would asking for low atrial
consistency on both leads (a P wave consistent on either lead says it is not fibrillation)
change what it folds?

DS1 only (22 MIT-BIH records, reference beats and rhythm annotations) and the 36 QT
validation records (reference beats; no rhythm annotations). No DS2 record, no held-out QT
record. Beats labelled V by the reference are left out of the consistency (the reading leaves
out beats read V; this look does not run the networks). Signals band-passed as the model
draws them; 128 Hz by scipy.signal.resample_poly, as the sampling-rate measurement wrote it.
Writes look.txt's table to stdout.

    python models/experiments/af-reading-leads-2026-12-06/look.py > look.txt
"""

from __future__ import annotations

import importlib.util
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import BEAT_SYMBOLS, atrial_consistency, irregular_rr  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.protocols import AAMI_DS1, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared"
_spec = importlib.util.spec_from_file_location(
    "af", HERE.parent / "af-context-2026-12-05" / "measure.py")
_af = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_af)
AAMI_S = set("AaJS")
THRESHOLD = 0.5


def flags(rec, fs_to):
    """Per lead ('first', 'second') at rate fs_to: (irregular, consistency), beats from the
    reference annotations; and the beats' labels."""
    ann = rec.annotations
    keep = np.array([s in BEAT_SYMBOLS for s in ann.symbol])
    pos = np.asarray(ann.sample)[keep]
    sym = np.asarray(ann.symbol)[keep]
    ratio = Fraction(fs_to / rec.fs).limit_denominator(1000)
    out = {}
    for lead, x in (("first", rec.signal), ("second", rec.other_signal)):
        if x is None:
            continue
        if fs_to != rec.fs:
            x = resample_poly(x, ratio.numerator, ratio.denominator)
        p = np.round(pos * fs_to / rec.fs).astype(np.int64)
        sig = condition_signal(np.asarray(x, np.float32), fs_to, "bandpass")
        out[lead] = (irregular_rr(p, fs_to),
                     atrial_consistency(sig, p, fs_to, usable=sym != "V"))
    return pos, sym, out


def counts(sym, in_af, irr, cons):
    with np.errstate(invalid="ignore"):
        folded = irr & (cons < THRESHOLD)
    s = np.isin(sym, list(AAMI_S))
    return {"S folded": int((folded & s & ~in_af).sum()), "S": int((s & ~in_af).sum()),
            "non-AF folded": int((folded & ~in_af).sum()), "non-AF": int((~in_af).sum()),
            "AF folded": int((folded & in_af).sum()), "AF": int(in_af.sum())}


def main() -> int:
    rows = []
    for db, names in (("DS1", AAMI_DS1), ("QT36", QTDB_TRAIN + QTDB_VAL)):
        for fs_to in (None, 128):
            tot = {}
            per = []
            for name in names:
                folder = "mitdb" if db == "DS1" else "qtdb"
                rec = read_record(SHARED / folder / name, lead="MLII" if db == "DS1" else None,
                                  annotator="atr", other_lead=True)
                pos, sym, f = flags(rec, fs_to or rec.fs)
                in_af = (np.isin(_af.rhythm_at(name, pos), _af.AF_RHYTHMS) if db == "DS1"
                         else np.zeros(len(pos), bool))
                versions = {k: (irr, c) for k, (irr, c) in f.items()}
                if "second" in f:
                    (i1, c1), (_, c2) = f["first"], f["second"]
                    versions["both low"] = (i1, np.fmax(c1, c2))
                for k, (irr, c) in versions.items():
                    got = counts(sym, in_af, irr, c)
                    tot.setdefault(k, {a: 0 for a in got})
                    for a in got:
                        tot[k][a] += got[a]
                    if got["S folded"] or (got["non-AF folded"] and db == "DS1"):
                        per.append(f"  {name} {k}: " + ", ".join(f"{a} {b}" for a, b in
                                                                 got.items() if b))
            rate = "as recorded" if fs_to is None else f"{fs_to} Hz"
            for k, t in tot.items():
                rows.append(f"| {db} | {rate} | {k} | {t['S folded']} / {t['S']} | "
                            f"{t['non-AF folded']} / {t['non-AF']} | "
                            f"{t['AF folded']} / {t['AF']} |")
            print(f"{db} {rate}, records with folds:")
            print("\n".join(per))
    print()
    print("| set | rate | consistency on | S beats folded (outside AF) | beats folded outside AF "
          "| beats folded in AF/AFL |")
    print("|---|---|---|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
