"""How well the per-beat noise estimate (``ecg_core.beats.beat_snr_db``) reads noise, and
what its flag says about the calls.

Run: python benchmarks/noise_estimate.py [--models ecgnet aami/ecgnet] [--nstdb ../shared/nstdb]
     [--mitdb ../shared/mitdb] [--json models/noise_estimate.json]

1. The noise stress test records (MIT-BIH 118 and 119 with electrode-motion noise added in
   alternate 2-minute segments from minute 5, at 24 to -6 dB SNR; Moody, Muldrow & Mark 1984):
   the median estimate over the reference beats of the noisy segments against the SNR added,
   the same over the clean segments, and the share of each read noisy (under
   ``NOISY_SNR_DB``). The estimate is made on the signal as recorded.
2. The 22 MIT-BIH DS1 records as recorded (no noise added): the median estimate per record
   and the share of beats read noisy, i.e. how often a clean-looking record would get the
   caveat. DS2 is not read.
3. Per model, over the noisy segments' beats of all twelve stress records: how often the
   model's call agrees with its call on the same beat of the clean record, for the beats read
   noisy and the rest (estimates of the signal as that model draws it, as on the Record page).
4. Per model, on new patients: the 36 QT Database records open to validation (patients in no
   other database here; none of them in either model's training), every reference beat
   classified from its position: the share read noisy, and accuracy against the reference
   labels for the beats read noisy and the rest. The 18 held-out QT records are not read.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from noise_robustness import SNRS, noisy_mask, stress_test_arguments  # noqa: E402

from ecg_core.analysis import NOISE_NOTE_SHARE, classify_database, classify_record  # noqa: E402
from ecg_core.beats import BEAT_SYMBOLS, NOISY_SNR_DB, beat_snr_db  # noqa: E402
from ecg_core.model import Classifier, model_name, resolve_model  # noqa: E402
from ecg_core.protocols import AAMI_DS1, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402


def _estimate(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    rec = read_record(path)
    ann = rec.annotations
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
    return beats, beat_snr_db(rec.signal, beats, rec.fs), rec.fs


def main(argv: list[str] | None = None) -> int:
    ap = stress_test_arguments(__doc__.split("\n\n")[0])
    ap.add_argument("--qtdb", default=str(ROOT.parent / "shared" / "qtdb"))
    args = ap.parse_args(argv)
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}; noisy: "
          f"estimate under {NOISY_SNR_DB:g} dB")
    out: dict = {"noisy_snr_db": NOISY_SNR_DB, "stress": [], "ds1": [], "calls": {}}
    print("\n| record | SNR added (dB) | median estimate, noisy segments | read noisy | "
          "median estimate, clean segments | read noisy |")
    print("|---|---:|---:|---:|---:|---:|")
    for base in ("118", "119"):
        for snr in SNRS:
            beats, est, fs = _estimate(Path(args.nstdb) / f"{base}e{snr}")
            m = noisy_mask(beats, fs)
            row = {"record": f"{base}e{snr}", "snr_db": int(snr.replace("_", "-")),
                   "noisy_median_db": float(np.nanmedian(est[m])),
                   "noisy_read_noisy": float(np.mean(est[m] < NOISY_SNR_DB)),
                   "clean_median_db": float(np.nanmedian(est[~m])),
                   "clean_read_noisy": float(np.mean(est[~m] < NOISY_SNR_DB))}
            out["stress"].append(row)
            print(f"| {row['record']} | {row['snr_db']} | {row['noisy_median_db']:.1f} | "
                  f"{100 * row['noisy_read_noisy']:.0f}% | {row['clean_median_db']:.1f} | "
                  f"{100 * row['clean_read_noisy']:.1f}% |")
    print("\n| DS1 record (as recorded) | beats | median estimate (dB) | read noisy |")
    print("|---|---:|---:|---:|")
    for record in AAMI_DS1:
        beats, est, _ = _estimate(Path(args.mitdb) / record)
        row = {"record": record, "beats": int(len(beats)), "median_db": float(np.nanmedian(est)),
               "read_noisy": float(np.mean(est < NOISY_SNR_DB))}
        out["ds1"].append(row)
        print(f"| {record} | {row['beats']:,} | {row['median_db']:.1f} | "
              f"{100 * row['read_noisy']:.1f}% |")
    for model in args.models:
        clf = Classifier.load(resolve_model(model))
        name = model_name(resolve_model(model))
        counts = {"noisy": [0, 0], "not noisy": [0, 0]}  # [beats, agreeing with clean]
        for base in ("118", "119"):
            clean = classify_record(read_record(Path(args.mitdb) / base, other_lead=True), clf)
            clean_by_sample = dict(zip(clean.samples.tolist(), clean.predicted))
            for snr in SNRS:
                res = classify_record(read_record(Path(args.nstdb) / f"{base}e{snr}",
                                                  other_lead=True), clf)
                keep = noisy_mask(res.samples, res.fs)
                for s, p, q, k in zip(res.samples.tolist(), res.predicted, res.snr_db, keep):
                    if k:
                        c = counts["noisy" if q < NOISY_SNR_DB else "not noisy"]
                        c[0] += 1
                        c[1] += int(p == clean_by_sample.get(s))
        out["calls"][name] = {k: {"beats": n, "agreement": a / n if n else None}
                              for k, (n, a) in counts.items()}
        qt = classify_database(Path(args.qtdb), clf, records=QTDB_TRAIN + QTDB_VAL)
        noisy = qt["snr_db"] < NOISY_SNR_DB
        right = qt["probabilities"].argmax(axis=1) == qt["y_true"]
        out["new_patients"] = out.get("new_patients", {})
        out["new_patients"][name] = {
            "records": len(set(qt["records"])), "beats": int(len(right)),
            "read_noisy": float(noisy.mean()),
            "accuracy_noisy": float(right[noisy].mean()) if noisy.any() else None,
            "accuracy_rest": float(right[~noisy].mean()),
            "records_with_caveat": sorted(r for r in set(qt["records"]) if np.mean(
                noisy[np.array(qt["records"]) == r]) >= NOISE_NOTE_SHARE)}
        q = out["new_patients"][name]
        print(f"{name}, 36 QT validation records ({q['beats']:,} beats): "
              f"{100 * q['read_noisy']:.1f}% read noisy, accuracy there "
              + ("n/a" if q["accuracy_noisy"] is None else f"{100 * q['accuracy_noisy']:.1f}%")
              + f", elsewhere {100 * q['accuracy_rest']:.1f}%; records with the caveat: "
              + (", ".join(q["records_with_caveat"]) or "none"))
        print(f"\n{name}, noisy segments of the twelve stress records: " + "; ".join(
            f"{k}: {n:,} beats, {100 * a / n:.1f}% agree with the clean call"
            for k, (n, a) in counts.items() if n))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
