"""The look before RULE.md (disclosed): which of the 36 QT validation records read
differently when written at 128 Hz (as the sampling-rate measurement writes them) and why:
false V calls, beats re-read by the dominant-QRS reading, QRS similarity and V probability of
the beats newly read V. Output: look_rates.txt."""
import sys, tempfile
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[3]; sys.path.insert(0, str(ROOT))
import importlib.util
spec = importlib.util.spec_from_file_location("sr", ROOT/"models/experiments/sampling-rate-2026-11-28/measure.py")
sr = importlib.util.module_from_spec(spec); spec.loader.exec_module(sr)
from ecg_core.analysis import classify_record
from ecg_core.records import read_record
from ecg_core.model import Classifier
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL
clf = Classifier.load(ROOT/"models/aami/ecgnet.keras")
src = ROOT.parent/"shared"/"qtdb"
VSYM = {"V", "E"}
with tempfile.TemporaryDirectory() as tmp:
    for name in QTDB_TRAIN + QTDB_VAL:
        sr.write_low_rate(src, name, Path(tmp))
        a = classify_record(read_record(src/name, annotator="atr", other_lead=True), clf)
        b = classify_record(read_record(Path(tmp)/name, annotator="atr", other_lead=True), clf)
        if len(a.samples) != len(b.samples): print(name, "beats differ", len(a.samples), len(b.samples)); continue
        ref = np.array(a.reference); pa = np.array(a.predicted); pb = np.array(b.predicted)
        fa = ((pa == "V") & ~np.isin(ref, list(VSYM))).sum(); fb = ((pb == "V") & ~np.isin(ref, list(VSYM))).sum()
        if fa != fb or (pa != pb).sum() > 20:
            flip = (pb == "V") & (pa != "V")
            print(name, "falseV", fa, fb, "changed", (pa != pb).sum(), "new V", flip.sum(),
                  "reread a/b", a.reread.sum(), b.reread.sum(), "vprom a/b", a.v_promoted.sum(), b.v_promoted.sum(),
                  "sim of new V (a,b):", np.round(a.qrs_similarity[flip][:6], 2), np.round(b.qrs_similarity[flip][:6], 2),
                  "V prob a,b", np.round(a.probabilities[flip, 2][:6], 2), np.round(b.probabilities[flip, 2][:6], 2), flush=True)
