"""The look before RULE.md (disclosed): the three QT validation records of look_rates.txt
read at both rates with every QRS stretch aligned to the typical QRS within +-N samples at
360 Hz (argv[1]; 0 = as committed), by replacing ecg_core.beats._qrs_stretches. Output:
look_align.txt (N = 0 and 3)."""
import sys, tempfile
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[3]; sys.path.insert(0, str(ROOT))
import importlib.util
spec = importlib.util.spec_from_file_location("sr", ROOT/"models/experiments/sampling-rate-2026-11-28/measure.py")
sr = importlib.util.module_from_spec(spec); spec.loader.exec_module(sr)
import ecg_core.beats as B
from ecg_core.analysis import classify_record
from ecg_core.records import read_record
from ecg_core.model import Classifier
orig = B._qrs_stretches
SHIFT = int(sys.argv[1])
def aligned(signal, positions, fs):
    x = np.asarray(signal, dtype=np.float64).reshape(-1)
    pos = np.asarray(positions, dtype=np.int64).reshape(-1)
    st, whole = orig(x, pos, fs)
    if whole.sum() < 3 or SHIFT == 0: return st, whole
    typ = np.median(st, 0)
    before, after = (int(round(s * fs)) for s in B.QRS_SIMILARITY_S)
    best = np.full(len(st), -np.inf); out = st.copy()
    for d in range(-SHIFT, SHIFT + 1):
        p = pos[whole] + d
        ok = (p - before >= 0) & (p + after < len(x))
        s = np.zeros_like(st)
        s[ok] = x[p[ok][:, None] + np.arange(-before, after)[None]]
        s -= np.median(s, axis=1, keepdims=True)
        c = s @ typ / (np.linalg.norm(s, axis=1) * np.linalg.norm(typ) + 1e-12)
        c[~ok] = -np.inf
        better = c > best; best[better] = c[better]; out[better] = s[better]
    return out, whole
B._qrs_stretches = aligned
clf = Classifier.load(ROOT/"models/aami/ecgnet.keras")
src = ROOT.parent/"shared"/"qtdb"
with tempfile.TemporaryDirectory() as tmp:
    for name in ["sel308", "sele0116", "sele0409"]:
        sr.write_low_rate(src, name, Path(tmp))
        a = classify_record(read_record(src/name, annotator="atr", other_lead=True), clf)
        b = classify_record(read_record(Path(tmp)/name, annotator="atr", other_lead=True), clf)
        ref = np.array(a.reference)
        f = lambda r: int(((np.array(r.predicted) == "V") & ~np.isin(ref, ["V", "E"])).sum())
        t = lambda r: int(((np.array(r.predicted) == "V") & np.isin(ref, ["V", "E"])).sum())
        print(SHIFT, name, "false V native/128", f(a), f(b), "true V", t(a), t(b), flush=True)
