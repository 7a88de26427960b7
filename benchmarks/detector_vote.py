"""Do QRS detectors voting together find beats better than each alone?

Run: python benchmarks/detector_vote.py [--shared ../shared] [--cache DIR]

Runs five detectors (`ecg_core.analysis.detect_beats`) over the 48 MIT-BIH records, the nstdb
noise stress records (118 and 119, 24 to -6 dB) and the 54 annotated QT Database records, and
keeps their beats in ``--cache`` (one .npz per record; a second run reads them). Then scores
every vote (`ecg_core.analysis.vote_detections`) of 3 to 5 of them, needing 2 to all of their
votes, with the rule of models/experiments/detector-vote-2026-11-27/RULE.md:

* development data, the only data that decide: the 22 MIT-BIH DS1 records (de Chazal et al.
  2004) and nstdb 118 at 6 dB; score = gross F1 on DS1 + gross F1 on 118e06, in %;
* held out, reported: DS2 and the 4 paced records, nstdb 119, the QT Database records.

Then the same for votes across both leads of each record (the record's second channel as well
as its MLII), with the rule of models/experiments/detector-vote-leads-2026-11-27/RULE.md.

Whole-record protocol (every reference beat but those within 0.7 s of either end), matched
within 150 ms (`wfdb.processing.compare_annotations`), as `benchmarks/qrs_detectors.py`
scores; EC57 protocol figures for MIT-BIH and QT as well.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ecg_core.analysis import detect_beats, match_detections, vote_detections  # noqa: E402
from ecg_core.beats import BEAT_SYMBOLS, MAX_HALF_WINDOW_S  # noqa: E402
from ecg_core.errors import RecordError  # noqa: E402
from ecg_core.records import read_record  # noqa: E402
from qrs_detectors import _ec57_keep, _sets  # noqa: E402

POOL = ("xqrs", "sleepecg", "pantompkins1985", "neurokit", "elgendi2010")
#: de Chazal et al. 2004's training half of MIT-BIH
DS1 = {"101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124",
       "201", "203", "205", "207", "208", "209", "215", "220", "223", "230"}


def _cache(shared: Path, cache: Path) -> dict[str, dict]:
    """Reference beats, protocol masks and each pool detector's beats, per record."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    for paths in _sets(shared).values():
        for path in paths:
            name = f"{path.parent.name}_{path.name}"
            file = cache / f"{name}.npz"
            if not file.is_file():
                rec = read_record(path, other_lead=True)
                if rec.annotations is None:
                    continue
                n = len(rec.signal)
                margin = int(MAX_HALF_WINDOW_S * rec.fs)
                keep = np.zeros(n, dtype=bool)
                keep[margin:n - margin] = True
                ref = np.array([s for s, sym in zip(rec.annotations.sample,
                                                    rec.annotations.symbol)
                                if sym in BEAT_SYMBOLS and 0 <= s < n], dtype=np.int64)
                found, seconds = {}, {}
                leads = {"det": rec.signal, "det2": rec.other_signal}
                for d in POOL:
                    for key, signal in leads.items():
                        if signal is None:
                            continue
                        t = time.perf_counter()
                        try:
                            found[f"{key}_{d}"] = detect_beats(signal, rec.fs, d)
                        except RecordError:
                            found[f"{key}_{d}"] = np.array([], dtype=np.int64)
                        if key == "det":
                            seconds[d] = time.perf_counter() - t
                np.savez(file, ref=ref, keep=keep, ec57=_ec57_keep(rec, n) & keep, fs=rec.fs,
                         duration_s=rec.duration_s, **found,
                         **{f"s_{d}": v for d, v in seconds.items()})
                print(f"{name}: {len(ref)} reference beats", flush=True)
            out[name] = dict(np.load(file))
    return out


def _score(recs: list[dict], beats, protocol: str = "keep") -> tuple[float, float, float]:
    """Gross Se, +P and F1 (%) of ``beats(record)`` over ``recs``."""
    ref_n = det_n = matched = 0
    for r in recs:
        keep = r[protocol]
        n = len(keep)
        ref = r["ref"][keep[r["ref"]]]
        found = beats(r)
        found = found[keep[np.clip(found, 0, n - 1)]]
        _, f = match_detections(ref, found, float(r["fs"]))
        ref_n += f["reference_beats"]
        det_n += f["detected_beats"]
        matched += f["matched"]
    se, pp = matched / ref_n, matched / det_n if det_n else 0.0
    return 100 * se, 100 * pp, 100 * 2 * se * pp / (se + pp) if se + pp else 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "ecg-detector-vote"))
    args = ap.parse_args()
    recs = _cache(Path(args.shared), Path(args.cache))
    mit = {k.split("_")[1]: v for k, v in recs.items() if k.startswith("mitdb_")}
    dev = {"MIT-BIH DS1 (22)": [v for k, v in mit.items() if k in DS1],
           "nstdb 118e06": [recs["nstdb_118e06"]]}
    held = {"MIT-BIH DS2 + paced (26)": [v for k, v in mit.items() if k not in DS1],
            "MIT-BIH (48)": list(mit.values())}
    for snr in ("24", "18", "12", "06", "00", "_6"):
        held[f"nstdb 118e{snr}"] = [recs[f"nstdb_118e{snr}"]]
        held[f"nstdb 119e{snr}"] = [recs[f"nstdb_119e{snr}"]]
    held["QT Database (54)"] = [v for k, v in recs.items() if k.startswith("qtdb_")]
    minutes = sum(float(r["duration_s"]) for r in mit.values()) / 60

    def seconds(members) -> float:
        return sum(float(r[f"s_{d}"]) for r in mit.values() for d in members) / minutes * 30

    singles = {}
    for d in POOL:
        figs = [_score(v, lambda r, d=d: r[f"det_{d}"]) for v in dev.values()]
        singles[d] = (figs[0][2] + figs[1][2], figs)
    order = sorted(POOL, key=lambda d: -singles[d][1][0][2])  # by DS1 F1 alone
    rows = [((d,), 1, *singles[d]) for d in order]
    for k in range(3, len(POOL) + 1):
        for members in itertools.combinations(order, k):
            for m in range(2, k + 1):
                def beats(r, members=members, m=m):
                    return vote_detections([r[f"det_{d}"] for d in members], float(r["fs"]), m)
                figs = [_score(v, beats) for v in dev.values()]
                rows.append((members, m, figs[0][2] + figs[1][2], figs))
    rows.sort(key=lambda row: (-row[2], seconds(row[0])))
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}")
    print("\nDevelopment data (decides): score = F1 DS1 + F1 118e06")
    print("| detectors | votes needed | DS1 Se / +P / F1 % | 118e06 Se / +P / F1 % | score "
          "| s per 30 min |")
    print("|---|---:|---|---|---:|---:|")
    for members, m, score, figs in rows[:12] + [r for r in rows[12:] if len(r[0]) == 1]:
        print(f"| {', '.join(members)} | {m} | " + " | ".join(
            " / ".join(f"{x:.2f}" for x in f) for f in figs) +
            f" | {score:.2f} | {seconds(members):.2f} |")
    best = rows[0]
    best_single = max(rows, key=lambda row: row[2] if len(row[0]) == 1 else -1)

    def chosen(r):
        return vote_detections([r[f"det_{d}"] for d in best[0]], float(r["fs"]), best[1])

    print(f"\nBest vote: {', '.join(best[0])}, {best[1]} votes; score {best[2]:.2f} against "
          f"{best_single[2]:.2f} for {best_single[0][0]} alone")
    print("\nAll data, the best vote against the best single detector (whole records; EC57 "
          "for MIT-BIH and QT below)")
    print("| records | protocol | detector | Se % | +P % | F1 % |\n|---|---|---|---:|---:|---:|")
    for protocol in ("keep", "ec57"):
        for name, group in {**dev, **held}.items():
            if protocol == "ec57" and not name.startswith(("MIT", "QT")):
                continue
            for label, fn in ((best_single[0][0],
                               lambda r: r[f"det_{best_single[0][0]}"]), ("vote", chosen)):
                se, pp, f1 = _score(group, fn, protocol)
                print(f"| {name} | {'whole' if protocol == 'keep' else 'EC57'} | {label} | "
                      f"{se:.2f} | {pp:.2f} | {f1:.2f} |")
    _two_leads(dev, held, best[2], singles["xqrs"][1][0][2])
    return 0


def _two_leads(dev: dict, held: dict, best_one_lead: float, xqrs_ds1_f1: float) -> None:
    """The two-lead vote (models/experiments/detector-vote-leads-2026-11-27/RULE.md): each
    detector set on both leads, every number of votes needed."""
    def beats(members, m):
        def run(r):
            found = [r[f"det_{d}"] for d in members]
            if f"det2_{members[0]}" not in r:  # one lead: a majority of it, as detect_beats
                return vote_detections(found, float(r["fs"]), len(members) // 2 + 1)
            found += [r[f"det2_{d}"] for d in members]
            return vote_detections(found, float(r["fs"]), m)
        return run

    sets = [("xqrs",), ("xqrs", "sleepecg", "elgendi2010"),
            ("xqrs", "sleepecg", "neurokit", "pantompkins1985", "elgendi2010")]
    rows = []
    for members in sets:
        for m in range(2, 2 * len(members) + 1):
            figs = [_score(v, beats(members, m)) for v in dev.values()]
            rows.append((members, m, figs[0][2] + figs[1][2], figs))
    rows.sort(key=lambda row: -row[2])
    print("\nTwo leads, development data (decides): score = F1 DS1 + F1 118e06")
    print("| detectors on both leads | votes needed of | DS1 Se / +P / F1 % | "
          "118e06 Se / +P / F1 % | score |\n|---|---|---|---|---:|")
    for members, m, score, figs in rows:
        print(f"| {', '.join(members)} | {m} of {2 * len(members)} | " + " | ".join(
            " / ".join(f"{x:.2f}" for x in f) for f in figs) + f" | {score:.2f} |")
    members, m, score, figs = rows[0]
    passes = (score >= best_one_lead + 0.5, figs[0][2] >= xqrs_ds1_f1)
    print(f"\nBest two-lead vote: {', '.join(members)}, {m} of {2 * len(members)}; score "
          f"{score:.2f} against {best_one_lead:.2f} (best on one lead); DS1 F1 "
          f"{figs[0][2]:.2f} against XQRS's {xqrs_ds1_f1:.2f}: "
          + ("default" if all(passes) else "offered" if passes[0] else "not adopted"))
    print("| records | protocol | XQRS on one lead Se / +P / F1 % | two-lead vote Se / +P / F1 % |"
          "\n|---|---|---|---|")
    for protocol in ("keep", "ec57"):
        for name, group in {**dev, **held}.items():
            if protocol == "ec57" and not name.startswith(("MIT", "QT")):
                continue
            one = _score(group, lambda r: r["det_xqrs"], protocol)
            two = _score(group, beats(members, m), protocol)
            print(f"| {name} | {'whole' if protocol == 'keep' else 'EC57'} | "
                  + " / ".join(f"{x:.2f}" for x in one) + " | "
                  + " / ".join(f"{x:.2f}" for x in two) + " |")


if __name__ == "__main__":
    sys.exit(main())
