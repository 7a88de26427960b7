"""Measurement: the 36 QT validation records with recorded electrode-motion noise (nstdb em, its
two channels on the record's two leads) at 6 and 0 dB, through the committed aami/ecgnet: which
answers change against the clean record, and which of the readings of records made the change
(V-template promotions, dominant-QRS re-reads), and whether the noise estimate flags those beats."""
import sys
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[3]; sys.path.insert(0, str(ROOT))
from ecg_core.analysis import classify_record
from ecg_core.beats import BEAT_SYMBOLS, NOISY_SNR_DB
from ecg_core.conditioning import add_recorded_noise
from ecg_core.model import Classifier
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL
from ecg_core.records import ECGRecord, read_record
clf = Classifier.load(ROOT / "models/aami/ecgnet.keras")
SH = ROOT.parent / "shared"
em = read_record(SH / "nstdb" / "em", annotator=None, other_lead=True)
AAMI_V = {"V", "E"}
tot = {}
for name in QTDB_TRAIN + QTDB_VAL:
    rec = read_record(SH / "qtdb" / name, annotator="atr", other_lead=True)
    ann = rec.annotations
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
    clean = classify_record(rec, clf)
    ref = np.array(clean.reference)
    for snr in (6, 0):
        sig = add_recorded_noise(rec.signal, beats, rec.fs, em.signal, snr).astype(np.float32)
        oth = (None if rec.other_signal is None else
               add_recorded_noise(rec.other_signal, beats, rec.fs, em.other_signal, snr).astype(np.float32))
        noisy = ECGRecord(name=name, signal=sig, fs=rec.fs, lead=rec.lead, original_fs=rec.original_fs,
                          annotations=ann, channels=rec.channels, other_signal=oth, other_lead=rec.other_lead)
        res = classify_record(noisy, clf)
        a, b = np.array(clean.predicted), np.array(res.predicted)
        ch = a != b
        newv = (b == "V") & (a != "V")
        prom = res.v_promoted & ~clean.v_promoted
        flagged = res.snr_db < NOISY_SNR_DB
        t = tot.setdefault(snr, dict(beats=0, changed=0, newV=0, newV_false=0, newV_by_template=0,
                                     newV_by_template_false=0, newV_flagged=0, template_false_flagged=0, lostV=0))
        t["beats"] += len(a); t["changed"] += ch.sum(); t["newV"] += newv.sum()
        t["newV_false"] += (newv & ~np.isin(ref, list(AAMI_V))).sum()
        t["newV_by_template"] += (newv & prom).sum()
        t["newV_by_template_false"] += (newv & prom & ~np.isin(ref, list(AAMI_V))).sum()
        t["newV_flagged"] += (newv & flagged).sum()
        t["template_false_flagged"] += (newv & prom & ~np.isin(ref, list(AAMI_V)) & flagged).sum()
        t["lostV"] += ((a == "V") & (b != "V") & np.isin(ref, list(AAMI_V))).sum()
    print(name, {k: {kk: int(vv) for kk, vv in v.items()} for k, v in tot.items()}, flush=True)
