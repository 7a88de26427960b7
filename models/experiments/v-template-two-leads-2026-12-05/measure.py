"""The look before RULE.md (disclosed): do the V beats the committed reading misses on DS1-OOF
differ from the normal beats in the second lead's QRS?

Needs /tmp/look/ds1oof.npz: the DS1-OOF outputs after the committed readings (written by
``score.py``'s ``committed()``, saved as y, out, names, samples). Per record and group of beats
(missed V, found V, normal read N, fusion): the 10th/50th/90th percentiles of the cosine
similarity with the typical QRS (t), with the best group template of the V calls (b, groups
cut at 0.10, >= 5 calls) and b - t, on the chosen lead (L1), the other lead (L2) and both side by
side (each divided by its own typical QRS's norm). Output: measure.txt.
"""
import sys
from pathlib import Path
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
ROOT = Path(__file__).resolve().parents[3]; sys.path.insert(0, str(ROOT))
from ecg_core.beats import _qrs_stretches
from ecg_core.records import read_record
from ecg_core.conditioning import condition_signal
d = np.load("/tmp/look/ds1oof.npz")
y, out, names, samples = d["y"], d["out"], d["names"], d["samples"]
pred = out.argmax(1); V=2
def feats(st, called):
    nrm=np.linalg.norm(st,axis=1); typ=np.median(st,0)
    to_t = st@typ/(nrm*np.linalg.norm(typ)+1e-12)
    best=np.full(len(st),np.nan)
    lab = fcluster(linkage(st[called],"average",metric="cosine"),t=0.10,criterion="distance")
    for l in np.unique(lab):
        mem=st[called][lab==l]
        if len(mem)<5: continue
        tpl=np.median(mem,0); best=np.fmax(best, st@tpl/(nrm*np.linalg.norm(tpl)+1e-12))
    return to_t, best
for name in ["223","106","124","109","208","201","203","116","119","207","215","208"]:
    idx=np.flatnonzero(names==name); idx=idx[np.argsort(samples[idx])]
    rec=read_record(ROOT.parent / "shared" / "mitdb" / name, lead="MLII", annotator=None, other_lead=True)
    s1=condition_signal(rec.signal, rec.fs, "bandpass"); s2=condition_signal(rec.other_signal, rec.fs, "bandpass")
    a1,w1=_qrs_stretches(s1,samples[idx],rec.fs); a2,w2=_qrs_stretches(s2,samples[idx],rec.fs)
    ii=idx[w1]; called=pred[ii]==V
    if called.sum()<5: print(name,"few V"); continue
    t1,b1=feats(a1,called); t2,b2=feats(a2,called)
    # concatenated, each lead scaled by its typical QRS norm
    c = np.hstack([a1/np.linalg.norm(np.median(a1,0)), a2/np.linalg.norm(np.median(a2,0))])
    tc,bc=feats(c,called)
    for lab,sel in [("missedV",(y[ii]==V)&~called),("foundV",(y[ii]==V)&called),("N->N",(y[ii]==0)&(pred[ii]==0)),("F",(y[ii]==3))]:
        if sel.sum()==0: continue
        q=lambda a: np.round(np.nanpercentile(a[sel],[10,50,90]),2)
        mg=lambda t,b: np.round(np.nanpercentile((b-t)[sel],[10,50,90]),2)
        print(name,lab,sel.sum(),"L1 t/b/marg",q(t1),q(b1),mg(t1,b1),"| L2",q(t2),q(b2),mg(t2,b2),"| both",q(tc),q(bc),mg(tc,bc))
    print(rec.other_lead if hasattr(rec,'other_lead') else '')
