"""New patients under noise: the AAMI DS2 records with real recorded noise added at set SNRs.

Run: python benchmarks/noise_ds2.py [--model aami/ecgnet] [--detector xqrs] [--workers 2]
     [--json models/noise_ds2.json]

For each of the 22 DS2 records (patients no AAMI model saw in training), each noise record of
the MIT-BIH Noise Stress Test Database (`bw` baseline wander, `em` electrode motion, `ma`
muscle artefact; Moody, Muldrow & Mark, "A noise stress test for arrhythmia detectors",
Computers in Cardiology 1984) and each SNR of 24, 12, 6 and 0 dB, the noise record's first
channel is added to the whole MLII signal and its second channel to the record's second lead
(read as the Record page reads it, for the readings that use it), each scaled by its own
lead's amplitude as the noise stress test scales it: the
signal power S is that of a sine of the QRS complexes' peak-to-peak amplitude (A^2 / 8, A the
mean peak-to-peak amplitude within 50 ms of each reference beat, the largest and smallest 5%
left out), the noise power N its mean square, and the noise is multiplied by
sqrt(S / (N * 10^(SNR/10))). Then:

* classification: every reference beat is classified from the reference positions
  (`classify_record` with annotations), and compared with the model's answer on the clean
  record (agreement: how far noise changes the answer) and with the reference label mapped to
  the model's classes (accuracy; AAMI N/S/V/F/Q);
* detection: the QRS detector finds the beats of the noisy record, matched to the reference
  beats within 150 ms (Se, +P).

Figures are gross (beats summed over the 22 records). The DS2 patients are new to the model;
the noise records are new to every model (none was trained on added noise).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, scheme_of  # noqa: E402
from ecg_core.beats import BEAT_SYMBOLS  # noqa: E402
from ecg_core.classes import symbol_map  # noqa: E402
from ecg_core.conditioning import RECORDED_NOISES, add_recorded_noise  # noqa: E402
from ecg_core.model import Classifier, model_name, resolve_model  # noqa: E402
from ecg_core.protocols import AAMI_DS2  # noqa: E402
from ecg_core.records import ECGRecord, read_record  # noqa: E402

NOISES = tuple(RECORDED_NOISES)
SNRS = (24, 12, 6, 0)


def _one_record(model: str, mitdb: str, nstdb: str, record: str, detector: str) -> dict:
    clf = Classifier.load(resolve_model(model), threads=1)
    mapping = symbol_map(scheme_of(clf.class_codes))
    codes = list(clf.class_codes)
    clean = read_record(Path(mitdb) / record, other_lead=True)
    ann = clean.annotations
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
    base = classify_record(clean, clf)
    keep = np.array([s in mapping for s in base.reference])
    truth = np.array([codes.index(mapping[s]) if s in mapping else -1 for s in base.reference])
    clean_pred = base.probabilities.argmax(axis=1)
    out = {"record": record, "clean": {"n": int(keep.sum()),
                                       "correct": int((clean_pred == truth)[keep].sum())},
           "noisy": {}}
    for kind in NOISES:
        noise_record = read_record(Path(nstdb) / kind, annotator=None, other_lead=True)
        noise, noise2 = noise_record.signal, noise_record.other_signal
        for snr in SNRS:
            signal = add_recorded_noise(clean.signal, beats, clean.fs, noise, snr)
            other = (None if clean.other_signal is None else
                     add_recorded_noise(clean.other_signal, beats, clean.fs,
                                        noise if noise2 is None else noise2,
                                        snr).astype(np.float32))
            noisy = ECGRecord(name=record, signal=signal.astype(np.float32), fs=clean.fs,
                              lead=clean.lead, original_fs=clean.original_fs,
                              annotations=ann, channels=clean.channels,
                              other_signal=other, other_lead=clean.other_lead)
            res = classify_record(noisy, clf)
            pred = res.probabilities.argmax(axis=1)
            det = classify_record(noisy, clf, use_annotations=False, detector=detector)
            f = det.detection
            out["noisy"][f"{kind} {snr}"] = {
                "n": int(keep.sum()), "agree": int((pred == clean_pred)[keep].sum()),
                "correct": int((pred == truth)[keep].sum()),
                "ref_beats": f["reference_beats"], "detected": f["detected_beats"],
                "matched": f["matched"]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="aami/ecgnet")
    ap.add_argument("--mitdb", default=str(ROOT.parent / "shared" / "mitdb"))
    ap.add_argument("--nstdb", default=str(ROOT.parent / "shared" / "nstdb"))
    ap.add_argument("--detector", default="xqrs")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--json", default=None, help="write the table here as JSON")
    args = ap.parse_args(argv)
    with ProcessPoolExecutor(args.workers) as pool:
        per_record = list(pool.map(_one_record, [args.model] * len(AAMI_DS2),
                                   [args.mitdb] * len(AAMI_DS2), [args.nstdb] * len(AAMI_DS2),
                                   AAMI_DS2, [args.detector] * len(AAMI_DS2)))
    n = sum(r["clean"]["n"] for r in per_record)
    clean_acc = sum(r["clean"]["correct"] for r in per_record) / n
    rows = []
    for kind in NOISES:
        for snr in SNRS:
            key = f"{kind} {snr}"
            tot = {k: sum(r["noisy"][key][k] for r in per_record)
                   for k in ("n", "agree", "correct", "ref_beats", "detected", "matched")}
            rows.append({"noise": kind, "snr_db": snr, "beats": tot["n"],
                         "agreement": tot["agree"] / tot["n"],
                         "accuracy": tot["correct"] / tot["n"],
                         "detection_se": tot["matched"] / tot["ref_beats"],
                         "detection_ppv": tot["matched"] / tot["detected"]})
    print(f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} CPU cores; model "
          f"{model_name(resolve_model(args.model))}; detector {args.detector}; DS2 clean "
          f"accuracy {100 * clean_acc:.2f}% on {n:,} beats")
    print("| noise | SNR dB | beats | agreement with clean % | accuracy % | detection Se % | "
          "detection +P % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['noise']} | {r['snr_db']} | {r['beats']:,} | {100 * r['agreement']:.1f} | "
              f"{100 * r['accuracy']:.1f} | {100 * r['detection_se']:.2f} | "
              f"{100 * r['detection_ppv']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "model": args.model, "detector": args.detector, "records": list(AAMI_DS2),
            "clean_accuracy": clean_acc, "beats": n, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
