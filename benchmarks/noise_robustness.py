"""Beat classification under real noise: the MIT-BIH Noise Stress Test Database by SNR.

Run: python benchmarks/noise_robustness.py [--models ecgnet aami/ecgnet] [--nstdb ../shared/nstdb]
     [--mitdb ../shared/mitdb] [--json models/noise.json]

For each model and each noise stress test record (MIT-BIH 118 and 119 with electrode-motion
noise added in 2-minute segments after the first 5 minutes, at 24, 18, 12, 6, 0 and -6 dB SNR;
Moody, Muldrow & Mark 1984), every reference beat is classified from the reference beat
positions (``classify_record`` with annotations, as ``classify-record --annotations atr``), and
compared with (a) the model's own answer on the same beat of the clean record (agreement: how
far noise changes the answer) and (b) the reference label mapped to the model's classes
(accuracy). Only beats inside the noisy segments count (the stress records alternate noisy and
clean 2-minute segments after minute 5), so the figures are those of noise, not of the clean
stretches. Records 118 and 119 are training patients of the beat-split and AAMI models: the
figures measure noise, not new patients.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, scheme_of  # noqa: E402
from ecg_core.classes import symbol_map  # noqa: E402
from ecg_core.model import Classifier, model_name, resolve_model  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

SNRS = ("24", "18", "12", "06", "00", "_6")


def noisy_mask(samples: np.ndarray, fs: float) -> np.ndarray:
    """Beats inside the noisy 2-minute segments: from minute 5, noise in [5, 7), [9, 11), ...
    (nstdb.txt: noise added in alternate 2-minute segments, the first starting at 5:00)."""
    minutes = samples / fs / 60.0
    return (minutes >= 5.0) & (((minutes - 5.0) % 4.0) < 2.0)


def stress_test_arguments(description: str) -> argparse.ArgumentParser:
    """The options of the noise stress test benchmarks: --models, --nstdb, --mitdb, --json."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--models", nargs="+", default=["ecgnet", "aami/ecgnet"])
    ap.add_argument("--nstdb", default=str(ROOT.parent / "shared" / "nstdb"))
    ap.add_argument("--mitdb", default=str(ROOT.parent / "shared" / "mitdb"))
    ap.add_argument("--json", default=None, help="also write the figures as JSON here")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = stress_test_arguments(__doc__.split("\n\n")[0]).parse_args(argv)
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}")
    out = {}
    for model in args.models:
        clf = Classifier.load(resolve_model(model))
        mapping = symbol_map(scheme_of(clf.class_codes))
        name = model_name(resolve_model(model))
        rows = []
        for base in ("118", "119"):
            clean = classify_record(read_record(Path(args.mitdb) / base, other_lead=True), clf)
            clean_by_sample = dict(zip(clean.samples.tolist(), clean.predicted))
            for snr in SNRS:
                rec = read_record(Path(args.nstdb) / f"{base}e{snr}", other_lead=True)
                res = classify_record(rec, clf)
                keep = noisy_mask(res.samples, res.fs)
                same = [p == clean_by_sample.get(s) for s, p, k in
                        zip(res.samples.tolist(), res.predicted, keep) if k]
                right = [mapping[r] == p for r, p, k in
                         zip(res.reference, res.predicted, keep) if k and r in mapping]
                rows.append({"record": base, "snr_db": int(snr.replace("_", "-")),
                             "beats": len(same), "agreement": float(np.mean(same)),
                             "accuracy": float(np.mean(right))})
        out[name] = rows
        print(f"\n{name}")
        print("| SNR (dB) | beats (118 + 119, noisy segments) | agreement with the clean record | accuracy vs reference |")
        print("|---|---:|---:|---:|")
        for snr in SNRS:
            sel = [r for r in rows if r["snr_db"] == int(snr.replace("_", "-"))]
            n = sum(r["beats"] for r in sel)
            agree = sum(r["agreement"] * r["beats"] for r in sel) / n
            acc = sum(r["accuracy"] * r["beats"] for r in sel) / n
            print(f"| {int(snr.replace('_', '-'))} | {n} | {100 * agree:.1f}% | {100 * acc:.1f}% |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
