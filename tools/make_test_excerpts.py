"""Write the short real-record excerpts under ``tests/data/`` (and the app's one-click examples).

Each excerpt is a few minutes of a PhysioNet record, cut with ``wfdb`` and written back in WFDB
format with the record's own ADC values, gains, channel names and reference annotations
(positions shifted to the excerpt's start; annotations outside it dropped). Nothing is
filtered or resampled, so an excerpt reads exactly like the same minutes of the full record.

    python tools/make_test_excerpts.py --shared ../shared --out tests/data

The excerpts (ODC-By 1.0; see ``tests/data/README.md`` for the attribution):

* mitdb 100, 0:00-5:00: normal beats and atrial premature beats.
* mitdb 207, 25:00-30:00: the longest ventricular flutter episode (``[`` ... ``]``, ``!``
  waves), the idioventricular rhythm after it (ventricular escape beats), left bundle
  branch block beats and a run of atrial premature beats (SVTA).
* mitdb 208, 0:00-5:00: normal, premature ventricular and fusion beats, couplets.
* mitdb 232, 0:00-5:00: right bundle branch block with atrial premature beats, long pauses.
* cudb cu09, 3:00-6:00: one whole ventricular fibrillation episode (3:59-4:57).

And, in ``tests/data/formats/``, the first 30 s of mitdb 208 in the file formats of other ECG
software, each written by that format's own library where one exists:

* ``208.edf`` (edfio's writer): both channels, labelled ``ECG MLII`` and ``ECG V1``, in mV.
* ``208.bdf`` (edfio's writer): the same in uV, 24 bits.
* ``208_12lead.edf`` (edfio): channels labelled as a 12-lead file labels them (``I``, ``II``,
  ``III``): MLII as ``II``, V1 as ``I`` and their difference as ``III``, for the default-lead
  test.
* ``208_apple.csv``: MLII resampled to 512 Hz (``scipy.signal.resample_poly``) in uV, with the
  header lines of the Health app's Apple Watch ECG export (no library writes that format).
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: (database, record, start in s, end in s)
EXCERPTS: tuple[tuple[str, str, float, float], ...] = (
    ("mitdb", "100", 0.0, 300.0),
    ("mitdb", "207", 1500.0, 1800.0),
    ("mitdb", "208", 0.0, 300.0),
    ("mitdb", "232", 0.0, 300.0),
    ("cudb", "cu09", 180.0, 360.0),
)


def write_excerpt(source: Path, out_dir: Path, record: str, start_s: float, end_s: float
                  ) -> list[Path]:
    """Cut ``record`` of the database folder ``source`` to [start_s, end_s) and write it.

    Args:
        source: database folder holding ``record.hea``, ``.dat`` and ``.atr``.
        out_dir: folder to write the excerpt into (created).
        record: record name.
        start_s, end_s: the excerpt's limits in seconds.

    Returns:
        The files written.
    """
    import numpy as np
    import wfdb

    header = wfdb.rdheader(str(source / record))
    fs = float(header.fs)
    a, b = int(round(start_s * fs)), min(int(round(end_s * fs)), int(header.sig_len))
    rec = wfdb.rdrecord(str(source / record), sampfrom=a, sampto=b, physical=False)
    ann = wfdb.rdann(str(source / record), "atr", sampfrom=a, sampto=b - 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    minutes = f"{int(start_s // 60)}:{int(start_s % 60):02d}-{int(end_s // 60)}:{int(end_s % 60):02d}"
    wfdb.wrsamp(record, fs=fs, units=rec.units, sig_name=rec.sig_name, d_signal=rec.d_signal,
                fmt=rec.fmt, adc_gain=rec.adc_gain, baseline=rec.baseline,
                comments=[f"Excerpt {minutes} of PhysioNet {source.name} record {record} "
                          "(ODC-By 1.0)", *(rec.comments or [])], write_dir=str(out_dir))
    keep = np.asarray(ann.sample) - a
    wfdb.wrann(record, "atr", keep, symbol=ann.symbol, subtype=ann.subtype, chan=ann.chan,
               num=ann.num, aux_note=ann.aux_note, fs=fs, write_dir=str(out_dir))
    return [out_dir / f"{record}.{ext}" for ext in ("hea", "dat", "atr")]


def write_format_fixtures(source: Path, out_dir: Path, record: str = "208",
                          seconds: float = 30.0) -> list[Path]:
    """Write the first ``seconds`` of ``record`` as EDF, BDF, a 12-lead-labelled EDF and an
    Apple Watch ECG CSV (see the module docstring)."""
    import edfio
    import numpy as np
    import wfdb
    from scipy.signal import resample_poly

    rec = wfdb.rdrecord(str(source / record), sampto=int(seconds * 360))
    fs = float(rec.fs)
    sig = rec.p_signal.astype(np.float64)
    names = list(rec.sig_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    note = f"PhysioNet mitdb {record} 0-{seconds:g}s ODC-By"

    def signal(x, label, unit, scale):
        return edfio.EdfSignal(x * scale, fs, label=label, physical_dimension=unit,
                               physical_range=(float(x.min() * scale) - 1,
                                               float(x.max() * scale) + 1))

    written = []
    edf = edfio.Edf([signal(sig[:, i], f"ECG {n}", "mV", 1.0) for i, n in enumerate(names)],
                    recording=edfio.Recording(additional=(note.replace(" ", "_"),)))
    edf.write(out_dir / f"{record}.edf")
    written.append(out_dir / f"{record}.edf")
    bdf = edfio.Bdf([edfio.BdfSignal(sig[:, i] * 1000, fs, label=n, physical_dimension="uV",
                                     physical_range=(float(sig[:, i].min() * 1000) - 1,
                                                     float(sig[:, i].max() * 1000) + 1))
                     for i, n in enumerate(names)])
    bdf.write(out_dir / f"{record}.bdf")
    written.append(out_dir / f"{record}.bdf")
    mlii = sig[:, names.index("MLII")]
    other = sig[:, 1 - names.index("MLII")]
    twelve = edfio.Edf([signal(other, "I", "mV", 1.0), signal(mlii, "II", "mV", 1.0),
                        signal(mlii - other, "III", "mV", 1.0)])
    twelve.write(out_dir / f"{record}_12lead.edf")
    written.append(out_dir / f"{record}_12lead.edf")
    at512 = resample_poly(mlii, 64, 45) * 1000.0  # 360 Hz * 64 / 45 = 512 Hz, in uV
    lines = ["Name,Test Person", "Date of Birth,1970-01-01",
             "Recorded Date,2026-01-01 12:00:00 +0000", "Classification,Sinus Rhythm",
             "Symptoms,", "Software Version,2", "Device,Watch",
             "Sample Rate,512 Hertz", "Lead,Lead I", "Unit,µV", "", "",
             *(f"{v:.3f}" for v in at512)]
    (out_dir / f"{record}_apple.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(out_dir / f"{record}_apple.csv")
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default="../shared", help="folder holding mitdb/ and cudb/")
    p.add_argument("--out", default="tests/data")
    args = p.parse_args(argv)
    written: dict[str, list[str]] = {}
    for database, record, start, end in EXCERPTS:
        write_excerpt(Path(args.shared) / database, Path(args.out) / database, record, start,
                      end)
        written.setdefault(database, []).append(record)
    for database, records in written.items():
        (Path(args.out) / database / "RECORDS").write_text("\n".join(records) + "\n")
    write_format_fixtures(Path(args.shared) / "mitdb", Path(args.out) / "formats")
    total = sum(f.stat().st_size for f in Path(args.out).rglob("*") if f.is_file())
    print(f"{sum(map(len, written.values()))} excerpts written to {args.out} "
          f"({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
