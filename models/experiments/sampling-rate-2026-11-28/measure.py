"""Does a record sampled at 128 Hz read as well as the same record at its own rate?

Other databases of new patients are recorded at other rates: the MIT-BIH Supraventricular
Arrhythmia Database, for one, at 128 Hz with channels named ECG1 and ECG2. This script writes
each record of a set again as a 128 Hz WFDB record (both channels decimated with
``scipy.signal.resample_poly``, an anti-aliasing polyphase filter; channels renamed ECG1 and
ECG2; reference beats moved to the nearest 128 Hz sample), then reads both versions with the
committed ``aami/ecgnet`` on the Record page's path from the reference beats, as
``classify-record --annotations atr`` does, and compares them beat by beat.

Sets: the 36 QT records open to training and validation (patients the model never saw), and
the 22 DS1 records of MIT-BIH (the model's own training patients: only the difference between
the two rates means anything there).

Run from the repository root (about 8 min on 2 cores):
    python models/experiments/sampling-rate-2026-11-28/measure.py \
        --out models/experiments/sampling-rate-2026-11-28/measured.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_database  # noqa: E402
from ecg_core.evaluation import se_ppv_percent  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import AAMI_DS1, QTDB_TRAIN, QTDB_VAL  # noqa: E402

LOW_FS = 128


def write_low_rate(src: Path, name: str, out: Path) -> None:
    """Write record ``name`` of ``src`` at 128 Hz into ``out`` (signals and 'atr')."""
    import wfdb
    from scipy.signal import resample_poly

    rec = wfdb.rdrecord(str(src / name))
    ann = wfdb.rdann(str(src / name), "atr")
    ratio = Fraction(LOW_FS) / Fraction(rec.fs).limit_denominator(1000)
    sig = resample_poly(rec.p_signal, ratio.numerator, ratio.denominator, axis=0)
    sig = np.nan_to_num(sig)
    names = [f"ECG{i + 1}" for i in range(sig.shape[1])]
    wfdb.wrsamp(name, fs=LOW_FS, units=["mV"] * len(names), sig_name=names, p_signal=sig,
                fmt=["16"] * len(names), adc_gain=[200.0] * len(names),
                baseline=[0] * len(names), write_dir=str(out))
    sample = np.round(np.asarray(ann.sample) * LOW_FS / rec.fs).astype(np.int64)
    keep = sample < len(sig)
    wfdb.wrann(name, "atr", sample[keep], np.asarray(ann.symbol)[keep].tolist(),
               write_dir=str(out))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "aami" / "ecgnet.keras"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    codes = tuple(clf.class_codes)
    result = {}
    for label, db, names in (("V-QT36", "qtdb", QTDB_TRAIN + QTDB_VAL),
                             ("DS1 (training patients)", "mitdb", AAMI_DS1)):
        src = Path(args.shared) / db
        native = classify_database(src, clf, records=names)
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                write_low_rate(src, name, Path(tmp))
            low = classify_database(tmp, clf, records=names)
        same = len(native["y_true"]) == len(low["y_true"]) and \
            np.array_equal(native["y_true"], low["y_true"])
        entry = {"native": se_ppv_percent(native["y_true"], native["probabilities"], codes),
                 "128 Hz": se_ppv_percent(low["y_true"], low["probabilities"], codes),
                 "same beats": bool(same)}
        if same:
            entry["beats read alike (%)"] = 100 * float(np.mean(
                native["probabilities"].argmax(1) == low["probabilities"].argmax(1)))
        result[label] = entry
        for k in ("native", "128 Hz"):
            e = entry[k]
            print(f"{label} {k}: n {e['n']} acc {e['accuracy']:.2f} N Se {e['N Se']:.1f} "
                  f"S {e['S Se']:.1f}/{e['S +P']:.1f} V {e['V Se']:.1f}/{e['V +P']:.1f}",
                  flush=True)
        print(label, "beats read alike:", entry.get("beats read alike (%)"), flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
