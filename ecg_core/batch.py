"""Batch classification of many recordings on a Dask cluster, with Parquet output.

An archive of Holter recordings is thousands of records of ~100,000 beats each. Each record is
one task of Dask distributed (Rocklin, "Dask: parallel computation with blocked algorithms and
task scheduling", SciPy 2015): on a local cluster of the machine's cores by default, or on a
running cluster (``dask scheduler`` / ``dask worker``) given its address. Every worker loads the
model once and classifies one record at a time, streamed from disk, with the same code as
``ecg-core classify-record`` (:func:`ecg_core.analysis.classify_record`).

Output, under ``OUT``:

* ``beats/record=ID/part-KEY.parquet``: one row per beat (sample, time, detector, reference
  symbol, predicted class, probabilities), partitioned by record (Hive style: the ``record``
  column comes from the folder name when the dataset is read);
* ``summary/record=ID/part-KEY.parquet``: one row per record (status, beats per class, ectopic
  burden, heart rate, error), and ``summary.parquet``, all of them in one table.

``KEY`` is a content hash of the record's files, the model and the settings. Each part is
written to a temporary name and renamed, so a part is either whole or absent: a worker that
dies mid-record leaves nothing, Dask runs the task again elsewhere, and the rerun writes the
same file name (never a second copy). A second run skips every record whose parts for its key
are there, so an interrupted job goes on where it stopped. A record that cannot be read, has
no beats or is not a record at all becomes a summary row with ``status`` "error" and the
message; the job goes on.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from .errors import ECGCoreError, RecordError

#: Columns of the summary table, in order (then one ``n_CODE`` column per class).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "record", "path", "key", "status", "error", "detector", "duration_s", "beats",
    "mean_hr_bpm", "ectopic_per_hour", "ectopic_percent", "ventricular_couplets",
    "ventricular_runs_3_or_more", "irregular_rr_percent", "noisy_percent", "v_reread",
    "s_folded", "v_template", "s_premature")


#: Suffixes of signal files read as CSV/TXT (one column in mV, or time then mV).
TEXT_SIGNALS: tuple[str, ...] = (".csv", ".txt")


def find_records(inputs: Iterable[str | Path], text_signals: bool = False) -> list[Path]:
    """Records under the inputs: a folder is walked for WFDB ``.hea`` headers (and, with
    ``text_signals``, for ``.csv``/``.txt`` signal files); a file is taken as a record whatever
    its suffix (a non-record then gives an error row, not a silent skip).

    Args:
        inputs: folders and files.
        text_signals: also take CSV/TXT signal files (the Record page's other format).

    Returns:
        WFDB record paths without extension and text signal files with theirs, sorted,
        without duplicates.

    Raises:
        RecordError: if an input does not exist, or nothing is found.
    """
    found: set[Path] = set()
    for item in map(Path, inputs):
        if item.is_dir():
            found.update(h.with_suffix("") for h in item.rglob("*.hea"))
            if text_signals:
                found.update(f for f in item.rglob("*") if f.suffix.lower() in TEXT_SIGNALS
                             and f.is_file())
        elif item.exists() or item.with_suffix(".hea").exists():
            found.add(item.with_suffix("") if item.suffix in (".hea", ".dat", ".atr")
                      else item)
        else:
            raise RecordError(f"No such file or folder: {item}")
    if not found:
        raise RecordError("No records (.hea files" + (", .csv or .txt signals" if text_signals
                                                      else "") + ") found in the inputs.")
    return sorted(p.resolve() for p in found)


def record_ids(paths: list[Path]) -> list[str]:
    """A short, unique, file-name-safe id per record: its name, or with its parent folders
    where two records share a name (``mitdb_100``)."""
    def sanitise(parts):
        return re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(parts))

    depth = 1
    while True:
        ids = [sanitise(p.parts[-depth:]) for p in paths]
        if len(set(ids)) == len(ids) or depth >= max(len(p.parts) for p in paths):
            return ids
        depth += 1


def record_key(path: Path, model_sha256: str, settings: str) -> str:
    """Content hash of a record's files (every file named ``NAME.*`` next to it), the model
    and the settings: the same key means the same output."""
    h = hashlib.sha256(f"{model_sha256}|{settings}".encode())
    files = [path] if path.suffix.lower() in TEXT_SIGNALS else \
        sorted(path.parent.glob(path.name + ".*"))
    for f in files:
        if f.is_file():
            h.update(f.name.encode())
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def _part(out: Path, table: str, record_id: str, key: str) -> Path:
    return out / table / f"record={record_id}" / f"part-{key}.parquet"


def is_done(out: Path, record_id: str, key: str) -> bool:
    """Whether a record's output for this key is complete (its summary part is written last)."""
    return _part(out, "summary", record_id, key).is_file()


def _write_atomic(frame, path: Path, *, drop_other_parts: bool = False) -> None:
    """Write a DataFrame to Parquet under a temporary name, then rename: whole or absent.
    With ``drop_other_parts``, parts of the same folder with another name (an earlier key's
    output for the record) are removed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if drop_other_parts:
        for stale in path.parent.glob("part-*.parquet"):
            if stale != path:
                stale.unlink()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


@functools.lru_cache(maxsize=4)
def _classifier(model_path: str):
    """The model, loaded once per worker process, with one thread for inference and drawing:
    the workers share the cores, one task each."""
    import cv2

    from .model import Classifier

    cv2.setNumThreads(1)
    return Classifier.load(model_path, threads=1)


def classify_one(path: str, record_id: str, key: str, out: str, model_path: str,
                 annotator: str | None, text_fs: float | None = None,
                 detector: str = "xqrs") -> dict:
    """Classify one record and write its beat and summary parts (the task a worker runs).

    Args:
        path: record path without extension.
        record_id: its id in the output (see :func:`record_ids`).
        key: its content key (see :func:`record_key`).
        out: the output folder.
        model_path: the ``.keras`` file (its LiteRT twin serves where current).
        annotator: take beats from this annotation file where present, else detect them.
        text_fs: sampling rate (Hz) of CSV/TXT signals without a time column.
        detector: QRS detector for records without annotations
            (:data:`ecg_core.analysis.DETECTORS`).

    Returns:
        The summary row (a dict with :data:`SUMMARY_COLUMNS` and ``n_CODE`` per class).
    """
    import numpy as np
    import pandas as pd

    from .analysis import ECTOPIC_CLASSES, classify_record, classify_record_file, summarise
    from .records import read_signal_csv

    clf = _classifier(model_path)
    row = {c: None for c in SUMMARY_COLUMNS}
    row.update(record=record_id, path=path, key=key, status="ok", error="")
    row.update({f"n_{c}": 0 for c in clf.class_codes})
    try:
        if Path(path).suffix.lower() in TEXT_SIGNALS:
            rec = read_signal_csv(Path(path).read_bytes(), text_fs, name=Path(path).stem)
            result = classify_record(rec, clf, use_annotations=False, detector=detector)
        else:
            # read and classified 30 minutes at a time: a 24-hour Holter record in the memory
            # of half an hour; annotations where the record has them, else the detector
            result = classify_record_file(path, clf, annotator=annotator,
                                          use_annotations=True, detector=detector)
    except Exception as exc:  # any record that cannot be classified is a row, not a crash
        row.update(status="error", error=str(exc) if isinstance(exc, ECGCoreError)
                   else f"unexpected {type(exc).__name__}: {exc}")
        beats = None
    else:
        frame = result.to_frame()
        # no record column: the partition (record=ID) gives it when the dataset is read
        beats = pd.DataFrame({"sample": frame["sample"],
                              "time_s": frame["time_s"], "detector": result.source,
                              "reference": frame["reference"], "predicted": frame["predicted"],
                              "snr_db": frame["snr_db"].astype(np.float32),
                              **{c: frame[c].astype(np.float32)
                                 for c in ("qrs_similarity", "atrial_consistency")
                                 if c in frame},
                              **{c: frame[c].astype(bool)
                                 for c in ("v_reread", "s_folded", "v_template", "s_premature")
                                 if c in frame},
                              **{c: frame[c].astype(np.float32) for c in clf.class_codes}})
        s = summarise(result)
        n = s["beats"]
        row.update(detector=result.source, duration_s=s["duration_s"], beats=n,
                   mean_hr_bpm=s["mean_hr_bpm"], ectopic_per_hour=s["ectopic_per_hour"],
                   ectopic_percent=(100.0 * sum(v for c, v in s["per_class"].items()
                                                if c in ECTOPIC_CLASSES) / n) if n else None,
                   ventricular_couplets=s["ventricular_runs"]["couplets"],
                   ventricular_runs_3_or_more=s["ventricular_runs"]["runs_3_or_more"],
                   irregular_rr_percent=100.0 * s["irregular_share"],
                   noisy_percent=None if s["noisy_share"] is None else 100.0 * s["noisy_share"],
                   v_reread=s["v_reread"], s_folded=s["s_folded"], v_template=s["v_promoted"],
                   s_premature=s["s_promoted"],
                   **{f"n_{c}": v for c, v in s["per_class"].items()})
    out_dir = Path(out)
    if beats is not None:
        _write_atomic(beats, _part(out_dir, "beats", record_id, key), drop_other_parts=True)
    _write_atomic(pd.DataFrame([row]), _part(out_dir, "summary", record_id, key),
                  drop_other_parts=True)
    return row


def classify_records(inputs: Iterable[str | Path], out: str | Path, *, model: str | Path,
                     workers: int | None = None, cluster: str | None = None,
                     annotator: str | None = "atr", text_fs: float | None = None,
                     detector: str = "xqrs", progress=None) -> dict:
    """Classify every record under the inputs on a Dask cluster; write Parquet under ``out``.

    Args:
        inputs: folders (walked for ``.hea``) and record files.
        out: output folder (created).
        model: the ``.keras`` file.
        workers: processes of the local cluster (default: one per core); ignored with
            ``cluster``.
        cluster: address of a running Dask scheduler (``tcp://host:8786``), or ``None`` for
            a local cluster.
        annotator: annotation file to take beats from where present (``None``: detect).
        text_fs: where given, CSV/TXT signal files are records too (values in mV), at this
            sampling rate in Hz unless a time column gives theirs.
        detector: QRS detector for records without annotations.
        progress: optional callable ``progress(done, total)``.

    Returns:
        ``{"records", "skipped" (already complete), "classified", "errors", "beats",
        "summary" (path of summary.parquet)}``.

    Raises:
        RecordError: if no record is found.
        ECGCoreError: if the model cannot be loaded or the cluster cannot be reached.
    """
    import pandas as pd

    from .model import Classifier
    from .runtime import file_sha256

    out = Path(out)
    paths = find_records(inputs, text_signals=text_fs is not None)
    ids = record_ids(paths)
    model_path = str(Path(model).resolve())
    Classifier.load(model_path)  # fail here, once, rather than in every task
    settings = f"annotator={annotator};text_fs={text_fs};detector={detector}"
    keys = [record_key(p, file_sha256(model_path), settings) for p in paths]
    todo = [(str(p), i, k) for p, i, k in zip(paths, ids, keys) if not is_done(out, i, k)]
    done = len(paths) - len(todo)
    if progress is not None:
        progress(done, len(paths))
    if todo:
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError as exc:
            raise ECGCoreError("Batch classification needs Dask: pip install "
                               "'dask[distributed]' (or the package's [archive] extra).") \
                from exc

        try:
            if cluster:
                client = Client(cluster, timeout="20s")
                local = None
            else:
                import dask

                # Dask sets MALLOC_TRIM_THRESHOLD_ in its workers to return memory sooner; it
                # also fixes glibc's mmap threshold, and the many small image arrays of a
                # record then cost 40% more time (measured). Memory stays bounded by the
                # one record each worker holds.
                with dask.config.set({"distributed.nanny.pre-spawn-environ."
                                      "MALLOC_TRIM_THRESHOLD_": None}):
                    local = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
                client = Client(local)
        except (OSError, TimeoutError) as exc:
            raise ECGCoreError(f"Could not reach the Dask cluster {cluster}: {exc}") from exc
        try:
            futures = [client.submit(classify_one, p, i, k, str(out), model_path, annotator,
                                     text_fs, detector, key=f"classify-{i}-{k}", pure=False,
                                     retries=2)
                       for p, i, k in todo]
            for future in as_completed(futures):
                done += 1
                if future.status == "error":  # the task died on every try (workers lost)
                    p, i, k = todo[futures.index(future)]
                    _write_atomic(pd.DataFrame([{
                        "record": i, "path": p, "key": k, "status": "error",
                        "error": f"the task failed on every worker that ran it: "
                                 f"{future.exception()}"}]),
                        _part(out, "summary", i, k), drop_other_parts=True)
                if progress is not None:
                    progress(done, len(paths))
        finally:
            client.close()
            if local is not None:
                local.close()
    parts = [pd.read_parquet(_part(out, "summary", i, k)) for i, k in zip(ids, keys)]
    summary = pd.concat(parts, ignore_index=True)
    summary_path = out / "summary.parquet"
    _write_atomic(summary, summary_path)
    return {"records": len(paths), "skipped": len(paths) - len(todo),
            "classified": len(todo), "errors": int((summary["status"] == "error").sum()),
            "beats": int(summary["beats"].fillna(0).sum()), "summary": str(summary_path)}
