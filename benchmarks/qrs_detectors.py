"""QRS detectors measured against reference annotations: Se, +P, F1 and time.

Run: python benchmarks/qrs_detectors.py [--shared ../shared] [--out docs/detectors-table.md]

For each detector of `ecg_core.analysis.DETECTORS` (through `detect_beats`, the function the
Record page and the CLI call; peaks centred on the R peak alike), on
* the 48 MIT-BIH Arrhythmia records (MLII where present),
* the 12 MIT-BIH Noise Stress Test records (118 and 119 with electrode-motion noise at
  24 to -6 dB SNR), grouped by SNR,
* the QT Database records with reference beat labels (`atr`), first channel,
the two-lead detectors also reading each record's second channel;
detected beats are matched to the reference beats within 150 ms
(`wfdb.processing.compare_annotations` via `ecg_core.analysis.match_detections`; ANSI/AAMI
EC57). Gross Se, +P and F1 sum matched, reference and detected beats over the records; seconds
are per 30 minutes of signal.

Two protocols (`--protocol`):
* `whole` (default): every beat of the record but its first and last 0.7 s.
* `ec57`: as ANSI/AAMI EC57 evaluates a QRS detector on these databases (and as wfdb's `bxb`
  does by default): the first 5 minutes are a learning period and are left out, and so are
  the ventricular flutter and fibrillation episodes (from a `(VFL` or `(VF` rhythm annotation,
  or a `[` marker, to the next rhythm change or `]`), detections in them included.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import DETECTORS, detect_beats, match_detections  # noqa: E402
from ecg_core.beats import BEAT_SYMBOLS, MAX_HALF_WINDOW_S  # noqa: E402
from ecg_core.errors import RecordError  # noqa: E402
from ecg_core.records import list_records, read_record  # noqa: E402


def _sets(shared: Path) -> dict[str, list[Path]]:
    sets = {"MIT-BIH (48)": [shared / "mitdb" / r for r in list_records(shared / "mitdb")]}
    nst = shared / "nstdb"
    if nst.is_dir():
        for name in sorted(p.stem for p in nst.glob("11[89]e*.hea")):
            snr = int(name[4:].replace("_", "-"))  # 118e_6: -6 dB
            sets.setdefault(f"nstdb {snr} dB", []).append(nst / name)
    qt = shared / "qtdb"
    if qt.is_dir():
        sets["QT Database (annotated)"] = sorted(p.with_suffix("") for p in qt.glob("*.atr"))
    return sets


def _ec57_keep(rec, n: int) -> np.ndarray:
    """Boolean mask over samples: True where EC57 compares beats (after the first 5 minutes,
    outside ventricular flutter/fibrillation episodes)."""
    keep = np.ones(n, dtype=bool)
    keep[: int(300 * rec.fs)] = False
    ann = rec.annotations
    start = None
    for sample, sym, aux in zip(ann.sample, ann.symbol, ann.aux_note):
        rhythm = (aux or "").strip("\x00 ")
        if sym == "[" or (sym == "+" and rhythm.startswith("(VF")):
            start = int(sample) if start is None else start
        elif start is not None and (sym == "]" or sym == "+"):
            keep[start:int(sample)] = False
            start = None
    if start is not None:
        keep[start:] = False
    return keep


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument("--protocol", choices=["whole", "ec57"], default="whole")
    args = ap.parse_args()
    detectors = args.detectors.split(",")
    rows = []
    for set_name, paths in _sets(Path(args.shared)).items():
        totals = {d: [0, 0, 0, 0.0, 0.0, 0] for d in detectors}  # ref, det, match, s, min, fail
        for path in paths:
            try:
                rec = read_record(path, other_lead=True)  # for the two-lead detector
            except RecordError:
                continue
            if rec.annotations is None:
                continue
            margin = int(MAX_HALF_WINDOW_S * rec.fs)
            n = len(rec.signal)
            keep = np.zeros(n, dtype=bool)
            keep[margin:n - margin] = True
            if args.protocol == "ec57":
                keep &= _ec57_keep(rec, n)
            ref = np.array([s for s, sym in zip(rec.annotations.sample, rec.annotations.symbol)
                            if sym in BEAT_SYMBOLS and 0 <= s < n and keep[s]], dtype=np.int64)
            for d in detectors:
                t = time.perf_counter()
                try:
                    found = detect_beats(rec.signal, rec.fs, d, other=rec.other_signal)
                except RecordError:
                    found = np.array([], dtype=np.int64)
                    totals[d][5] += 1
                seconds = time.perf_counter() - t
                found = found[keep[np.clip(found, 0, n - 1)]]
                _, f = match_detections(ref, found, rec.fs)
                totals[d][0] += f["reference_beats"]
                totals[d][1] += f["detected_beats"]
                totals[d][2] += f["matched"]
                totals[d][3] += seconds
                totals[d][4] += rec.duration_s / 60
        for d, (r, k, m, s, minutes, fails) in totals.items():
            if not r:
                continue
            se, pp = m / r, (m / k if k else 0.0)
            f1 = 2 * se * pp / (se + pp) if se + pp else 0.0
            rows.append((set_name, len(paths), d, r, se, pp, f1, s / minutes * 30, fails))
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}; "
          f"protocol: {args.protocol}")
    print("| records | detector | reference beats | Se % | +P % | F1 % | s per 30 min |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for set_name, n, d, r, se, pp, f1, sec, fails in rows:
        note = f" ({fails} found none)" if fails else ""
        print(f"| {set_name} | {d}{note} | {r:,} | {100 * se:.2f} | {100 * pp:.2f} | "
              f"{100 * f1:.2f} | {sec:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
