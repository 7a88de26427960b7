"""A 24-hour Holter-length record through `ecg-core classify-record`: time and peak memory.

Run: python benchmarks/long_record.py [--mitdb ../shared/mitdb] [--work /tmp/long-record]

The record is made by joining the 48 MIT-BIH Arrhythmia records end to end (about 24 h,
about 110,000 reference beats): their first two channels, in the records' own ADC units and
format, written as one WFDB record `mitdb24h` (channel 0 named MLII: it is MLII in 46 of the
48 records, V5 in 102 and 104), with their reference annotations shifted to match. It is
written once into `--work` and reused.

Each case runs the command line as a user does, in a fresh process (`python -m ecg_core
classify-record mitdb24h ... --workers N --out beats.csv`), and reports its wall time and the
peak resident memory of that process and its worker processes together (their VmRSS summed,
sampled every 0.1 s, or the main process's own peak, `ru_maxrss`, where that is higher). Cases: beats from the reference annotations, and beats from each QRS
detector given by `--detectors`, each with each `--workers` value.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.records import list_records  # noqa: E402

NAME = "mitdb24h"


def make_long_record(mitdb: Path, work: Path) -> Path:
    """Join every record of ``mitdb`` into one WFDB record ``work/mitdb24h`` (if absent).

    Returns:
        The record path without extension.
    """
    import wfdb

    base = work / NAME
    if (work / f"{NAME}.hea").is_file() and (work / f"{NAME}.atr").is_file():
        return base
    work.mkdir(parents=True, exist_ok=True)
    signals, samples, symbols, aux, offset = [], [], [], [], 0
    for rec_name in list_records(mitdb):
        rec = wfdb.rdrecord(str(mitdb / rec_name), physical=False, channels=[0, 1])
        ann = wfdb.rdann(str(mitdb / rec_name), "atr")
        signals.append(rec.d_signal.astype(np.int16))
        samples.append(np.asarray(ann.sample, dtype=np.int64) + offset)
        symbols += list(ann.symbol)
        aux += [a or "" for a in ann.aux_note]
        offset += rec.sig_len
        gain, baseline = rec.adc_gain, rec.baseline
    d_signal = np.concatenate(signals)
    wfdb.wrsamp(NAME, fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"],
                d_signal=d_signal, fmt=["212", "212"], adc_gain=gain, baseline=baseline,
                comments=["The 48 MIT-BIH Arrhythmia Database records joined end to end "
                          "(PhysioNet, ODC-By 1.0)"], write_dir=str(work))
    wfdb.wrann(NAME, "atr", np.concatenate(samples), symbol=symbols, aux_note=aux, fs=360,
               write_dir=str(work))
    return base


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants now, in MB (from /proc)."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), None)
        rss[int(entry.name)] = int(line.split()[1]) / 1024 if line else 0.0
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0.0) for pid in tree)


def run_case(base: Path, extra: list[str], out: Path) -> tuple[float, float, str]:
    """Run ``classify-record`` in a child process; (seconds, peak resident memory in MB of
    the process and its worker processes together, sampled every 0.1 s, its summary line)."""
    log = out.with_suffix(".log")
    peak = 0.0
    with open(log, "w") as sink:
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "ecg_core", "classify-record",
                                  str(base), "--out", str(out), *extra],
                                 stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
        while True:
            waited, status, usage = os.wait4(child.pid, os.WNOHANG)
            if waited:
                break
            peak = max(peak, _tree_rss_mb(child.pid))
            time.sleep(0.1)
        seconds = time.perf_counter() - t0
    text = log.read_text(errors="replace")
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(text[-2000:])
    line = next((x for x in text.splitlines() if x.startswith(NAME)), "")
    # the sampled sum can miss a short peak; the main process's own peak is exact
    return seconds, max(peak, usage.ru_maxrss / 1024.0), line


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mitdb", default=str(ROOT.parent / "shared" / "mitdb"))
    ap.add_argument("--work", default="/tmp/long-record")
    ap.add_argument("--detectors", default="sleepecg,xqrs")
    ap.add_argument("--workers", default="1,2",
                    help="comma-separated --workers values to run each case with")
    args = ap.parse_args()
    # joined in a process of its own: a child started from a process that has held the 48
    # records inherits that peak in its own ru_maxrss (Linux counts the memory of the fork
    # before exec), which would be reported as the classifier's
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        base = pool.submit(make_long_record, Path(args.mitdb), Path(args.work)).result()
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}")
    print("| beats from | workers | beats | wall s | peak RSS MB (all processes) |")
    print("|---|---:|---:|---:|---:|")
    cases = [("annotations (atr)", ["--annotations", "atr"])]
    cases += [(d, ["--detector", d]) for d in args.detectors.split(",") if d]
    for label, extra in cases:
        for workers in args.workers.split(","):
            seconds, rss, line = run_case(base, [*extra, "--workers", workers],
                                          Path(args.work) / "beats.csv")
            beats = line.split(":")[1].split(" beats")[0].strip() if ":" in line else "?"
            print(f"| {label} | {workers} | {int(beats):,} | {seconds:.1f} | {rss:.0f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
