"""The beat-image dataset: building it from MIT-BIH (and cudb) and loading it for the model.

Layout of a built dataset (the same as the widely shared ECG image dataset, one folder per
class, so any such folder can be used for training or evaluation)::

    data/beats/
        NOR/mitdb_100_0001809.png ...
        LBB/ ... (one folder per class code)
        manifest.csv      one row per image: image, label, symbol, database, record, sample,
                          fs, lead, rr_prev_s, rr_next_s, rr_local_s, style_seed, drawing,
                          split
        dataset.json      what the build used: seed, sources, window, cap, counts, versions

The ``split`` column holds the beat-level random split (stratified 70/15/15). Other split
protocols (by record, patients kept apart; AAMI DS1 -> DS2) are computed from the ``record``
column by :func:`assign_split` without re-rendering any image.

A build may draw every beat several times, each drawing in its own random style
(``BuildConfig.drawings``; ``drawing`` 0 is the beat's one image of a single-drawing build).
The extra drawings are training material only: under every protocol, the extra drawings of
validation and test beats are left out (split ``"excluded"``), so each beat is scored once.

Two class schemes can be built (``BuildConfig.scheme``): ``"jun8"``, the eight classes of
Jun et al. (2018) from mitdb and cudb, and ``"aami"``, the five AAMI EC57 classes from every
beat of the 44 non-paced mitdb records (no cap: the AAMI benchmark tests on every DS2 beat).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .beats import (BEAT_SYMBOLS, Beat, beat_context, beats_from_annotations,
                    readings_use_second_lead, record_readings, rhythm_features,
                    template_features, vf_windows, with_detected_rr)
from .canonical import (CANONICAL_SIZE, CANONICAL_VERSION, IMAGE_EXTENSIONS, canonical_form,
                        decode_image)
from .classes import SCHEMES, folder_to_class, scheme_codes, symbol_map
from .conditioning import CONDITIONINGS, RECORDED_NOISES, add_recorded_noise, condition_signal
from .errors import DatasetError, ECGCoreError, RecordError
from .protocols import (AAMI_DS1, AAMI_DS2, AAMI_EXCLUDED, CV_FOLDS, CV_PROTOCOLS,
                        DS1_CV_PROTOCOLS, PROTOCOLS, QTDB_HELD_OUT, QTDB_TRAIN, QTDB_VAL)
from .records import TARGET_FS, list_records, read_annotations, read_record, record_header
from .rendering import DEFAULT_STYLE, STYLE_FAMILIES, random_style, render_beat

MANIFEST_COLUMNS: tuple[str, ...] = (
    "image", "label", "symbol", "database", "record", "sample", "fs", "lead",
    "rr_prev_s", "rr_next_s", "rr_local_s", "style_seed", "drawing", "split")

#: Split fractions of the beat-level protocol (train, validation, test).
BEAT_SPLIT: tuple[float, float, float] = (0.70, 0.15, 0.15)


@dataclass
class BuildConfig:
    """Settings of a dataset build, written to ``dataset.json``.

    Attributes:
        seed: master seed (beat selection, split, drawing styles).
        max_per_class: cap on the beats kept per class (the majority class, NOR, has 75,000
            in MIT-BIH); ``None`` keeps all.
        vf_stride_s: stride in s of the windows taken inside cudb VF/flutter episodes.
        styled: draw each image in a random style (:func:`random_style`) rather than the
            default one, so that the model learns other tools' drawings.
        records: restrict to these record names (``None``: all records of each database).
        scheme: class scheme, ``"jun8"`` (eight classes, mitdb + cudb) or ``"aami"`` (AAMI
            EC57 N/S/V/F/Q, mitdb without the paced records; cudb is not used).
        drawings: images drawn of each beat, each in its own random style (needs
            ``styled``). Drawing 0 is the image a one-drawing build makes (same style seed,
            same file name); drawings 1.. are named ``..._d1.png`` and so on. Only training
            beats' extra drawings are used (see :func:`assign_split`).
        extra_styles: style family of drawings 1.. (:data:`~ecg_core.rendering.STYLE_FAMILIES`):
            ``"screen"`` (:func:`~ecg_core.rendering.random_style`, like drawing 0) or
            ``"wide"`` (:func:`~ecg_core.rendering.wide_random_style`: the shared image
            dataset's drawing, windows of 0.4-1.6 s, fixed mV scales with clipping, the first
            channel). Drawing 0, which validation and test use, is always in the screen family,
            so builds of both families validate and test on the same images.
        conditioning: how each record's signal is conditioned before its beats are drawn
            (:data:`~ecg_core.conditioning.CONDITIONINGS`: ``"none"`` or ``"bandpass"``);
            models trained on the build carry it in their card.
        vf_rr: the QRS detector (a name of :data:`ecg_core.analysis.DETECTORS`) run over each
            cudb record, as recorded, to give its VF windows the RR intervals of the nearest
            "beat" it finds inside fibrillation, as the Record page's detector does
            (:func:`~ecg_core.beats.with_detected_rr`); ``"none"`` leaves them without RR
            intervals (builds made before this setting existed).
        other_lead: draw a beat's extra drawings (1..) from the record's other channel (the
            file's first channel other than the lead of drawing 0: in MIT-BIH mostly V1,
            some V2, V4 or V5), in the drawing style of drawing 0 (or of its style family
            when ``styled``), so that a model learns beat shapes on more than one lead. A
            record with a single channel draws its extra drawings from that channel. Like
            every extra drawing, used in training only.
        noisy_drawings: drawings added after the others (numbers ``drawings`` ..
            ``drawings + noisy_drawings - 1``), each of lead MLII (drawing 0's lead) in drawing
            0's style family, with recorded noise of the MIT-BIH Noise Stress Test Database
            added before conditioning (needs ``nstdb`` in :func:`build_dataset`). Each such
            drawing's seed chooses the noise record (:data:`~ecg_core.conditioning.
            RECORDED_NOISES`, equally likely) and the SNR (:data:`NOISY_SNRS_DB`, equally
            likely, as the noise stress test defines it: :func:`~ecg_core.conditioning.
            noise_gain`); the noise is the noise record's second channel (``noise2``; the
            project's noise benchmarks use the first), read circularly from an offset drawn
            per record and noise record. Training material only, like every extra drawing.
    """

    seed: int = 20180412
    max_per_class: int | None = 15000
    vf_stride_s: float = 1.5
    styled: bool = True
    records: list[str] | None = None
    fs: float = TARGET_FS
    split: tuple[float, float, float] = BEAT_SPLIT
    scheme: str = "jun8"
    drawings: int = 1
    extra_styles: str = "screen"
    conditioning: str = "none"
    vf_rr: str = "xqrs"
    other_lead: bool = False
    noisy_drawings: int = 0
    extra: dict = field(default_factory=dict)


#: SNRs in dB of the noisy training drawings (``BuildConfig.noisy_drawings``).
NOISY_SNRS_DB: tuple[float, ...] = (24.0, 18.0, 12.0, 6.0)

#: The noise records' channel that noisy training drawings take (the benchmarks use the other).
NOISE_TRAINING_CHANNEL = "noise2"


def _stable_id(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def style_seed(seed: int, database: str, record: str, sample: int, drawing: int = 0) -> int:
    """Deterministic seed of the drawing style of one drawing of a beat (independent of build
    order); drawing 0 keeps the seed that single-drawing builds have always used."""
    entropy = [seed, _stable_id(database), _stable_id(record), int(sample)]
    if drawing:
        entropy.append(int(drawing))
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def image_name(database: str, record: str, sample: int, drawing: int = 0) -> str:
    """File name of a beat image, e.g. ``mitdb_100_0001809.png``; a beat's extra drawings
    add ``_d1``, ``_d2``, ... (``mitdb_100_0001809_d1.png``)."""
    suffix = f"_d{int(drawing)}" if drawing else ""
    return f"{database}_{record}_{int(sample):07d}{suffix}.png"


def drawing_of(row: dict) -> int:
    """A manifest row's drawing number (0 for manifests built before drawings existed)."""
    return int(row.get("drawing") or 0)


def _select(sources: dict[str, Path], config: BuildConfig, progress=None) -> list[dict]:
    """All candidate beats of all records, as manifest rows without ``image``/``split``."""
    rows: list[dict] = []
    classes = symbol_map(config.scheme)
    for database, folder in sources.items():
        names = _record_names(database, folder, config)
        for name in names:
            ann, n_samples = read_annotations(folder / name, "atr", config.fs)
            if database == "cudb":
                beats: list[Beat] = vf_windows(name, ann, n_samples, config.fs, config.vf_stride_s)
                if beats and config.vf_rr != "none":
                    from .analysis import detect_beats

                    record = read_record(folder / name, annotator=None, target_fs=config.fs)
                    beats = with_detected_rr(beats, detect_beats(record.signal, record.fs,
                                                                 config.vf_rr), config.fs)
            else:
                beats = beats_from_annotations(name, ann, n_samples, config.fs, classes=classes)
            for b in beats:
                rows.append({"label": b.label, "symbol": b.symbol, "database": database,
                             "record": name, "sample": b.sample, "fs": config.fs,
                             "rr_prev_s": b.rr_prev_s, "rr_next_s": b.rr_next_s,
                             "rr_local_s": b.rr_local_s})
            if progress is not None:
                progress(f"{database}/{name}")
    return rows


def _record_names(database: str, folder: Path, config: BuildConfig) -> list[str]:
    """Records of a database that a build uses (the AAMI scheme drops the paced records; of
    the QT Database, the annotated records outside :data:`~ecg_core.protocols.QTDB_HELD_OUT`)."""
    names = list_records(folder)
    if database == "qtdb":  # annotated records, never the held-out ones
        names = [n for n in names if n not in QTDB_HELD_OUT and (folder / f"{n}.atr").is_file()]
    if config.records is not None:
        names = [n for n in names if n in set(config.records)]
    if config.scheme == "aami":
        names = [n for n in names if n not in AAMI_EXCLUDED]
    return names


def _cap(rows: list[dict], max_per_class: int | None, rng: np.random.Generator) -> list[dict]:
    if max_per_class is None:
        return rows
    by_class: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_class.setdefault(r["label"], []).append(i)
    keep: list[int] = []
    for label in sorted(by_class):
        idx = by_class[label]
        if len(idx) > max_per_class:
            idx = sorted(rng.choice(idx, size=max_per_class, replace=False).tolist())
        keep.extend(idx)
    return [rows[i] for i in sorted(keep)]


def beat_split(labels: list[str], fractions: tuple[float, float, float],
               seed: int) -> list[str]:
    """Beat-level random split, stratified by class (scikit-learn ``train_test_split``).

    Beats of one patient fall on both sides, which flatters every model: see the README.
    Classes with fewer than 3 beats (possible in builds from a few records) go to train.

    Args:
        labels: class code of each beat.
        fractions: (train, validation, test) fractions summing to 1.
        seed: random seed.

    Returns:
        ``"train"``, ``"val"`` or ``"test"`` for each beat.
    """
    from sklearn.model_selection import train_test_split

    n = len(labels)
    y = np.asarray(labels)
    out = np.full(n, "train", dtype=object)
    # Classes with fewer than 3 beats cannot be spread over three splits: they stay in train.
    values, counts = np.unique(y, return_counts=True)
    small = set(values[counts < 3].tolist())
    idx = np.array([i for i in range(n) if y[i] not in small], dtype=np.int64)
    if len(idx) == 0:
        return out.tolist()
    train_f, val_f, test_f = fractions
    rest_idx, test_idx = train_test_split(idx, test_size=test_f, stratify=y[idx],
                                          random_state=seed)
    train_idx, val_idx = train_test_split(rest_idx, test_size=val_f / (train_f + val_f),
                                          stratify=y[rest_idx], random_state=seed + 1)
    out[train_idx], out[val_idx], out[test_idx] = "train", "val", "test"
    return out.tolist()


def record_split(labels: list[str], groups: list[str], fractions: tuple[float, float, float],
                 seed: int) -> list[str]:
    """Split by record (patients kept apart), stratified by class as far as records allow.

    Every record (one patient in MIT-BIH, with two records from one subject there and one per
    patient in cudb) lies wholly in one split. scikit-learn's ``StratifiedGroupKFold`` first
    carves a test fold of about ``test`` of the beats from the records, then a validation fold
    from the rest; it balances the class mix of the folds as far as whole records allow. A
    class that lives in one or two records (VEB, PAB in MIT-BIH) cannot be on all sides: its
    patient counts per split say so.

    Args:
        labels: class code of each beat.
        groups: record key of each beat (e.g. ``"mitdb/207"``).
        fractions: (train, validation, test) fractions; the folds approximate them.
        seed: random seed.

    Returns:
        ``"train"``, ``"val"`` or ``"test"`` for each beat.

    Raises:
        DatasetError: if there are fewer than 3 records.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(labels)
    g = np.asarray(groups)
    if len(np.unique(g)) < 3:
        raise DatasetError("A split by record needs at least 3 records.")
    out = np.full(len(y), "train", dtype=object)
    train_f, val_f, test_f = fractions

    def carve(idx: np.ndarray, frac: float, fold_seed: int) -> np.ndarray:
        n_splits = max(2, min(int(round(1 / frac)), len(np.unique(g[idx]))))
        sgkf = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=fold_seed)
        _, held = next(iter(sgkf.split(idx, y[idx], g[idx])))
        return idx[held]

    all_idx = np.arange(len(y))
    test_idx = carve(all_idx, test_f, seed)
    rest = np.setdiff1d(all_idx, test_idx)
    val_idx = carve(rest, val_f / (train_f + val_f), seed + 1)
    out[test_idx], out[val_idx] = "test", "val"
    return out.tolist()


def cv_split(labels: list[str], groups: list[str], fold: int, k: int = 5,
             seed: int = 20180412) -> list[str]:
    """One fold of a patient-grouped k-fold cross-validation.

    The records are dealt into ``k`` folds by scikit-learn's ``StratifiedGroupKFold``
    (shuffled with ``seed``; the class mix of the folds balanced as far as whole records
    allow); fold ``fold`` is the test split, and validation records are carved from the
    other folds (about 15% of the beats, the same way). Over ``fold = 1..k`` every record is
    tested exactly once.

    Args:
        labels: class code of each beat.
        groups: record key of each beat.
        fold: 1-based fold number, 1..k.
        k: number of folds.
        seed: random seed.

    Returns:
        ``"train"``, ``"val"`` or ``"test"`` for each beat.

    Raises:
        DatasetError: for a fold outside 1..k or fewer than k + 1 records.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y, g = np.asarray(labels), np.asarray(groups)
    if not 1 <= fold <= k:
        raise DatasetError(f"Fold {fold} is outside 1..{k}.")
    if len(np.unique(g)) <= k:
        raise DatasetError(f"A {k}-fold split by record needs more than {k} records.")
    idx = np.arange(len(y))
    sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    test_idx = list(sgkf.split(idx, y, g))[fold - 1][1]
    rest = np.setdiff1d(idx, test_idx)
    n_val = max(2, min(int(round(0.85 / 0.15)), len(np.unique(g[rest]))))
    inner = StratifiedGroupKFold(n_splits=n_val, shuffle=True, random_state=seed + fold)
    val_idx = rest[next(iter(inner.split(rest, y[rest], g[rest])))[1]]
    out = np.full(len(y), "train", dtype=object)
    out[test_idx], out[val_idx] = "test", "val"
    return out.tolist()


def aami_split(rows: list[dict], val_records: int = 4, min_val_beats: int = 50) -> list[str]:
    """The AAMI inter-patient split (de Chazal et al. 2004): DS1 trains, DS2 tests.

    Validation records (for early stopping and learning-rate schedules) are carved from DS1
    only, so DS2 is never used to choose anything. Among all sets of ``val_records`` DS1
    records, the one chosen keeps the largest share of every class's DS1 beats for training
    (the rare classes live in few records: 208 alone holds most fusion beats) while giving
    validation at least ``min_val_beats`` S and V beats; ties go to the set whose share of
    N beats is closest to ``val_records / 22``. The rule looks at DS1 label counts only.
    Beats of records in neither set (the paced records, cudb) get ``"excluded"``. QT
    Database beats (a build with ``qtdb``) follow the fixed deal of
    :data:`ecg_core.protocols.QTDB_TRAIN` and :data:`~ecg_core.protocols.QTDB_VAL`; no QT
    record is ever in the test split.

    Args:
        rows: manifest rows with ``database``, ``record`` and ``label``.
        val_records: number of DS1 records for validation.
        min_val_beats: fewest S and V beats validation must hold.

    Returns:
        ``"train"``, ``"val"``, ``"test"`` or ``"excluded"`` for each row.
    """
    from itertools import combinations

    ds1, ds2 = set(AAMI_DS1), set(AAMI_DS2)
    out = []
    counts: dict[str, dict[str, int]] = {}
    qt_train, qt_val = set(QTDB_TRAIN), set(QTDB_VAL)
    for r in rows:
        rec = r["record"] if r.get("database", "mitdb") == "mitdb" else None
        if r.get("database") == "qtdb":  # other patients: the fixed deal of protocols.py
            out.append("train" if r["record"] in qt_train else
                       "qt-val" if r["record"] in qt_val else "excluded")
            continue
        out.append("train" if rec in ds1 else "test" if rec in ds2 else "excluded")
        if rec in ds1:
            counts.setdefault(rec, {}).setdefault(r["label"], 0)
            counts[rec][r["label"]] += 1
    records = sorted(counts)
    labels = sorted({lab for c in counts.values() for lab in c})
    totals = {lab: sum(c.get(lab, 0) for c in counts.values()) for lab in labels}
    best, best_key = (), None
    for combo in combinations(records, min(val_records, max(len(records) - 1, 0))):
        held = {lab: sum(counts[r].get(lab, 0) for r in combo) for lab in labels}
        if any(held.get(lab, 0) < min_val_beats for lab in ("S", "V") if lab in totals):
            continue
        keep = min(1 - held[lab] / totals[lab] for lab in labels)
        n_share = held.get("N", 0) / totals["N"] if totals.get("N") else 0.0
        key = (round(keep, 6), -abs(n_share - val_records / 22))
        if best_key is None or key > best_key:
            best, best_key = combo, key
    val = set(best)
    return ["val" if s == "qt-val" or (s == "train" and r.get("database", "mitdb") == "mitdb"
                                       and r["record"] in val) else s
            for r, s in zip(rows, out)]


def assign_split(rows: list[dict], protocol: str = "beat", seed: int = 20180412) -> list[str]:
    """The split of each manifest row under a protocol.

    The split is decided on the beats (the rows of drawing 0); every extra drawing of a beat
    follows its beat into training, and is ``"excluded"`` when its beat is in validation or
    test (or excluded), so that a held-out beat is scored once, on its first drawing.

    Args:
        rows: manifest rows (dicts with at least ``split``, ``label``, ``database`` and
            ``record``; ``drawing`` and ``sample`` where a build drew beats more than once).
        protocol: ``"beat"``: the beat-level random split stored in the manifest (same
            patients on both sides). ``"record"``: :func:`record_split` computed from the
            manifest's record column (patients kept apart); no image is re-rendered.
            ``"aami"``: :func:`aami_split` (DS1 -> DS2). ``"foldK"``: fold K of
            :func:`cv_split` over every record; ``"ds1-foldK"``: the same over the AAMI DS1
            records only, every other row ``"excluded"``.
        seed: seed of the record split.

    Returns:
        One split name per row: ``"train"``, ``"val"``, ``"test"`` or ``"excluded"``.

    Raises:
        DatasetError: for an unknown protocol, or an extra drawing whose beat has no drawing 0.
    """
    first = [i for i, r in enumerate(rows) if drawing_of(r) == 0]
    if len(first) == len(rows):
        return _beat_splits(rows, protocol, seed)
    base = _beat_splits([rows[i] for i in first], protocol, seed)
    by_beat = {_beat_key(rows[i]): s for i, s in zip(first, base)}
    out = []
    for r in rows:
        try:
            s = by_beat[_beat_key(r)]
        except KeyError:
            raise DatasetError(f"Image {r.get('image')} is an extra drawing of a beat that "
                               "has no drawing 0 in the manifest.") from None
        out.append(s if drawing_of(r) == 0 or s == "train" else "excluded")
    return out


def _beat_key(row: dict) -> tuple[str, str, str]:
    return row.get("database", ""), row["record"], str(row.get("sample", row.get("image")))


def _beat_splits(rows: list[dict], protocol: str, seed: int) -> list[str]:
    if protocol == "beat":
        return [r["split"] for r in rows]
    if protocol == "record":
        return record_split([r["label"] for r in rows],
                            [f"{r.get('database', '')}/{r['record']}" for r in rows],
                            (0.70, 0.15, 0.15), seed)
    if protocol == "aami":
        return aami_split(rows)
    if protocol in CV_PROTOCOLS:
        return cv_split([r["label"] for r in rows],
                        [f"{r.get('database', '')}/{r['record']}" for r in rows],
                        int(protocol[4:]), CV_FOLDS, seed)
    if protocol in DS1_CV_PROTOCOLS:
        ds1 = [i for i, r in enumerate(rows)
               if r.get("database", "mitdb") == "mitdb" and r["record"] in AAMI_DS1]
        if not ds1:
            raise DatasetError("The dataset holds no AAMI DS1 record (MIT-BIH); the "
                               f"'{protocol}' protocol deals DS1's records into folds.")
        out = ["excluded"] * len(rows)
        for i, s in zip(ds1, cv_split([rows[i]["label"] for i in ds1],
                                      [rows[i]["record"] for i in ds1],
                                      int(protocol[len("ds1-fold"):]), CV_FOLDS, seed)):
            out[i] = s
        return out
    raise DatasetError(f"Unknown split protocol '{protocol}'; choose from "
                       f"{', '.join(PROTOCOLS + CV_PROTOCOLS + DS1_CV_PROTOCOLS)}.")


def _render_record(job: tuple) -> list[tuple[str, str]]:
    """Worker: render the selected beats of one record. Returns (image path, lead) pairs."""
    (database, folder, name, beats, out_dir, styled, fs, extra_styles, conditioning,
     other_lead, plain_drawings, nstdb, master_seed) = job
    record = read_record(Path(folder) / name, annotator=None, target_fs=fs,
                         other_lead=other_lead)
    conditioned = condition_signal(record.signal, fs, conditioning)
    noisy: dict[tuple[str, float], np.ndarray] = {}  # (noise, SNR) -> conditioned noisy MLII
    noises: dict[str, tuple[np.ndarray, int]] = {}  # noise -> (noise signal, offset)
    qrs = np.array(sorted({b[1] for b in beats}), dtype=np.int64)

    def noisy_signal(drawing_seed: int) -> np.ndarray:
        rng = np.random.default_rng([drawing_seed, 1])
        kind = list(RECORDED_NOISES)[int(rng.integers(len(RECORDED_NOISES)))]
        snr = NOISY_SNRS_DB[int(rng.integers(len(NOISY_SNRS_DB)))]
        if kind not in noises:
            n = read_record(Path(nstdb) / kind, lead=NOISE_TRAINING_CHANNEL, annotator=None,
                            target_fs=fs).signal
            offset = int(np.random.default_rng(style_seed(master_seed, database, f"{name}:{kind}",
                                                              0))
                         .integers(len(n)))
            noises[kind] = (n, offset)
        if (kind, snr) not in noisy:
            n, offset = noises[kind]
            noisy[(kind, snr)] = condition_signal(
                add_recorded_noise(record.signal, qrs, fs, n, snr, offset), fs, conditioning)
        return noisy[(kind, snr)]

    second = None  # the other channel, conditioned: (signal, lead)
    if other_lead:
        second = ((condition_signal(record.other_signal, fs, conditioning), record.other_lead)
                  if record.other_signal is not None else (conditioned, record.lead))
    first = None
    import cv2

    done: list[tuple[str, str]] = []
    for rel, sample, seed, drawing in beats:
        path = Path(out_dir) / rel
        with_noise = drawing >= plain_drawings
        on_other = bool(drawing) and second is not None and not with_noise
        lead = second[1] if on_other else record.lead
        if not path.exists():
            rng = np.random.default_rng(seed)
            family = STYLE_FAMILIES[extra_styles] if drawing and not with_noise else random_style
            style = family(rng) if styled else DEFAULT_STYLE
            signal = (noisy_signal(seed) if with_noise else second[0] if on_other
                      else conditioned)
            if (not on_other and not with_noise and style.first_channel and record.channels
                    and record.channels[0] != record.lead):
                if first is None:
                    other = read_record(Path(folder) / name, lead=record.channels[0],
                                        annotator=None, target_fs=fs)
                    first = (condition_signal(other.signal, fs, conditioning), other.lead)
                signal, lead = first
            img = render_beat(signal, sample, fs, style)
            if img.ndim == 3:
                img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
            tmp = path.with_suffix(".tmp.png")
            cv2.imwrite(str(tmp), img, [cv2.IMWRITE_PNG_COMPRESSION, 6])
            os.replace(tmp, path)
        elif styled and drawing and not on_other and not with_noise:  # which lead did it take?
            style = STYLE_FAMILIES[extra_styles](np.random.default_rng(seed))
            if style.first_channel and record.channels:
                lead = record.channels[0]
        done.append((rel, lead))
    return done


def build_dataset(out_dir: str | Path, *, mitdb: str | Path | None, cudb: str | Path | None = None,
                  qtdb: str | Path | None = None, nstdb: str | Path | None = None,
                  config: BuildConfig | None = None, workers: int | None = None,
                  overwrite: bool = False, progress: bool = True) -> dict:
    """Build the beat-image dataset: PNGs per class, ``manifest.csv`` and ``dataset.json``.

    Deterministic for a given seed (beat selection, split and drawing style of each beat are
    seeded) and idempotent: images already present from a build with the same settings are
    kept; a second run writes the same manifest.

    Args:
        out_dir: output folder (``data/beats``).
        mitdb: folder of the MIT-BIH Arrhythmia Database (WFDB files).
        cudb: folder of the CU Ventricular Tachyarrhythmia Database, or ``None``.
        qtdb: folder of the QT Database, or ``None``: its annotated records other than
            :data:`~ecg_core.protocols.QTDB_HELD_OUT` (lead MLII where a record has one, else
            its first channel; 250 Hz resampled to ``config.fs``).
        nstdb: folder of the MIT-BIH Noise Stress Test Database (its ``bw``, ``em``, ``ma``
            noise records), needed when ``config.noisy_drawings`` > 0.
        config: build settings (:class:`BuildConfig`).
        workers: rendering processes (default: number of CPU cores).
        overwrite: allow replacing a dataset built with other settings.
        progress: show a progress bar (tqdm) on stderr.

    Returns:
        The contents written to ``dataset.json`` (settings, counts per class and split).

    Raises:
        DatasetError: if no source is given, noisy drawings are asked for without ``nstdb``,
            or ``out_dir`` holds a build with other settings and ``overwrite`` is false.
        RecordError: if a record cannot be read.
    """
    from tqdm.auto import tqdm

    config = config or BuildConfig()
    if config.drawings < 1:
        raise DatasetError(f"A build draws each beat at least once, not {config.drawings} times.")
    if config.conditioning not in CONDITIONINGS:
        raise DatasetError(f"Unknown conditioning '{config.conditioning}'; choose from "
                           f"{', '.join(CONDITIONINGS)}.")
    if config.extra_styles not in STYLE_FAMILIES:
        raise DatasetError(f"Unknown style family '{config.extra_styles}'; choose from "
                           f"{', '.join(STYLE_FAMILIES)}.")
    from .analysis import DETECTORS, TWO_LEAD_DETECTORS

    if config.vf_rr != "none" and (config.vf_rr not in DETECTORS
                                   or config.vf_rr in TWO_LEAD_DETECTORS):
        raise DatasetError(f"Unknown one-lead QRS detector '{config.vf_rr}' for the VF windows' "
                           f"RR intervals; choose 'none' or one of "
                           f"{', '.join(d for d in DETECTORS if d not in TWO_LEAD_DETECTORS)}.")
    if config.noisy_drawings < 0:
        raise DatasetError(f"A build cannot draw {config.noisy_drawings} noisy drawings.")
    if config.noisy_drawings and not nstdb:
        raise DatasetError("Noisy drawings need the MIT-BIH Noise Stress Test Database "
                           "(--nstdb): its noise records are what is added.")
    if config.drawings > 1 and not (config.styled or config.other_lead):
        raise DatasetError("Several drawings of a beat need random styles or the other lead; "
                           "a plain build would draw the same image each time.")
    sources: dict[str, Path] = {}
    if mitdb:
        sources["mitdb"] = Path(mitdb)
    if cudb:
        sources["cudb"] = Path(cudb)
    if qtdb:
        sources["qtdb"] = Path(qtdb)
    if not sources:
        raise DatasetError("Give at least one database folder (--mitdb, --cudb, --qtdb).")
    out = Path(out_dir)
    settings = {k: v for k, v in asdict(config).items()}
    settings["split"] = list(config.split)
    settings["sources"] = {k: str(v) for k, v in sources.items()}
    if config.noisy_drawings:
        settings["sources"]["nstdb"] = str(nstdb)
        settings["noisy_snrs_db"] = list(NOISY_SNRS_DB)
        settings["noise_channel"] = NOISE_TRAINING_CHANNEL
    info_path = out / "dataset.json"
    if info_path.exists():
        old = json.loads(info_path.read_text())
        # builds made before drawings and style families had them
        old_settings = {"drawings": 1, "extra_styles": "screen", "conditioning": "none",
                        "vf_rr": "none", "other_lead": False, "noisy_drawings": 0,
                        **(old.get("settings") or {})}
        if old_settings != json.loads(json.dumps(settings)):
            if not overwrite:
                raise DatasetError(
                    f"{out} holds a dataset built with other settings; use --overwrite to "
                    "replace it.")
            for code in scheme_codes(config.scheme):
                for p in (out / code).glob("*.png"):
                    p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for code in scheme_codes(config.scheme):
        (out / code).mkdir(exist_ok=True)

    n_records = sum(len(_record_names(db, f, config)) for db, f in sources.items())
    bar = tqdm(total=n_records, desc="reading annotations", unit="record", disable=not progress)
    rows = _select(sources, config, progress=lambda _: bar.update(1))
    bar.close()
    if not rows:
        raise DatasetError("No labelled beats found in the given records.")
    rng = np.random.default_rng(config.seed)
    rows = _cap(rows, config.max_per_class, rng)
    splits = beat_split([r["label"] for r in rows], config.split, config.seed)
    for r, split in zip(rows, splits):
        r["split"] = split
    beats = rows
    rows = [{**r, "drawing": d} for r in beats
            for d in range(config.drawings + config.noisy_drawings)]
    jobs: dict[tuple[str, str], list] = {}
    for r in rows:
        key = (r["database"], r["record"], r["sample"], r["drawing"])
        r["image"] = f"{r['label']}/{image_name(key[0], key[1], key[2], key[3])}"
        r["style_seed"] = style_seed(config.seed, *key)
        jobs.setdefault((r["database"], r["record"]), []).append(
            (r["image"], r["sample"], r["style_seed"], r["drawing"]))
    leads: dict[str, str] = {}
    job_list = [(db, str(sources[db]), name, beats, str(out), config.styled, config.fs,
                 config.extra_styles, config.conditioning, config.other_lead, config.drawings,
                 str(nstdb) if nstdb else None, config.seed)
                for (db, name), beats in sorted(jobs.items())]
    workers = workers or max(1, min(os.cpu_count() or 1, len(job_list)))
    bar = tqdm(total=len(rows), desc="rendering beats", unit="beat", disable=not progress)
    if workers == 1:
        results = map(_render_record, job_list)
        for done in results:
            leads.update(dict(done))
            bar.update(len(done))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done in pool.map(_render_record, job_list):
                leads.update(dict(done))
                bar.update(len(done))
    bar.close()
    for r in rows:
        r["lead"] = leads[r["image"]]
    write_manifest(out / "manifest.csv", rows)
    counts: dict[str, dict[str, int]] = {}
    for r in beats:
        counts.setdefault(r["label"], {"train": 0, "val": 0, "test": 0})[r["split"]] += 1
    info = {
        "settings": settings,
        "scheme": config.scheme,
        "counts": {c: counts.get(c, {"train": 0, "val": 0, "test": 0})
                   for c in scheme_codes(config.scheme)},
        "n_beats": len(beats),
        "n_images": len(rows),
        "records": sorted({f"{r['database']}/{r['record']}" for r in rows}),
        "manifest_sha256": hashlib.sha256((out / "manifest.csv").read_bytes()).hexdigest(),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    info_path.write_text(json.dumps(info, indent=2))
    return info


def _versions() -> dict[str, str]:
    import cv2
    import wfdb

    return {"python": platform.python_version(), "numpy": np.__version__,
            "opencv": cv2.__version__, "wfdb": wfdb.__version__}


def write_manifest(path: str | Path, rows: list[dict]) -> None:
    """Write manifest rows to CSV with :data:`MANIFEST_COLUMNS` (floats to 4 decimals)."""
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(MANIFEST_COLUMNS), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            row = dict(r)
            for k in ("rr_prev_s", "rr_next_s", "rr_local_s"):
                v = float(row.get(k, "nan") or "nan")
                row[k] = "" if np.isnan(v) else f"{v:.4f}"
            row["fs"] = f"{float(row['fs']):g}"
            w.writerow(row)


def read_manifest(data_dir: str | Path) -> list[dict]:
    """Read ``manifest.csv`` of a built dataset.

    Returns:
        Rows as dicts (all values strings).

    Raises:
        DatasetError: if the manifest is missing.
    """
    path = Path(data_dir) / "manifest.csv"
    if not path.is_file():
        raise DatasetError(f"No manifest.csv in {data_dir}: build the dataset first "
                           "(python -m ecg_core build-dataset).")
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def other_lead_rows(rows: list[dict], data_dir: str | Path) -> list[dict | None]:
    """For each manifest row, the row of the same beat drawn on its record's other lead.

    A build with ``--other-lead`` draws each beat's drawing 1 from the record's second
    channel (in MIT-BIH mostly V1); a model whose card reads both leads (``both_leads``) reads
    a split's beats on both, as it reads a record's. A record with one channel (cudb) draws its
    drawing 1 on the same lead: such a beat has no other-lead row.

    Args:
        rows: manifest rows (as :func:`load_split` returns them).
        data_dir: the built dataset they come from.

    Returns:
        A list as long as ``rows``: the other-lead row (its ``image`` relative to
        ``data_dir``), or ``None`` where the build has none.

    Raises:
        DatasetError: if the folder has no manifest.
    """
    found: dict[tuple, dict] = {}
    for row in read_manifest(data_dir):
        if drawing_of(row) == 1:
            found[(row.get("database", ""), row.get("record", ""), row.get("sample", ""),
                   row.get("label", ""))] = row
    out: list[dict | None] = []
    for row in rows:
        other = found.get((row.get("database", ""), row.get("record", ""),
                           row.get("sample", ""), row.get("label", "")))
        out.append(other if other is not None and other.get("lead") != row.get("lead")
                   else None)
    return out


def scan_folder(data_dir: str | Path) -> list[dict]:
    """Rows for a plain folder of class folders (no manifest), e.g. the shared image dataset.

    Class folder names are mapped with :func:`ecg_core.classes.folder_to_class`; unknown
    folders are skipped. All rows get split ``"all"``.

    Raises:
        DatasetError: if no image in a known class folder is found.
    """
    root = Path(data_dir)
    rows = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        code = folder_to_class(sub.name)
        if code is None:
            continue
        for img in sorted(sub.rglob("*")):
            if img.suffix.lower() in IMAGE_EXTENSIONS:
                rows.append({"image": str(img.relative_to(root)), "label": code, "split": "all",
                             "record": ""})
    if not rows:
        raise DatasetError(f"No images in known class folders under {data_dir}.")
    return rows


def _canonical_file(path: str, size: tuple[int, int] = CANONICAL_SIZE) -> np.ndarray:
    try:
        return canonical_form(decode_image(Path(path).read_bytes()), size)
    except (ECGCoreError, OSError):
        return np.zeros(size, dtype=np.uint8)


def load_images(paths: list[str], workers: int | None = None, progress: bool = False,
                size: tuple[int, int] = CANONICAL_SIZE) -> np.ndarray:
    """Decode image files and bring them to canonical form, in parallel.

    Args:
        paths: image file paths.
        workers: processes (default: CPU count).
        progress: show a tqdm progress bar.
        size: canonical (height, width) in pixels.

    Returns:
        uint8 array, shape (len(paths), height, width). Unreadable files give all-zero images.

    Raises:
        ValueError: if ``size`` is not two integers of at least 8.
    """
    from functools import partial

    from tqdm.auto import tqdm

    size = _check_size(size)
    workers = workers or os.cpu_count() or 1
    out = np.zeros((len(paths), *size), dtype=np.uint8)
    bar = tqdm(total=len(paths), desc="loading images", unit="img", disable=not progress)
    if workers == 1 or len(paths) < 256:
        for i, p in enumerate(paths):
            out[i] = _canonical_file(p, size)
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, arr in enumerate(pool.map(partial(_canonical_file, size=size), paths,
                                             chunksize=256)):
                out[i] = arr
                bar.update(1)
    bar.close()
    return out


def load_split(data_dir: str | Path, split: str, protocol: str = "beat", progress: bool = False,
               cache: bool = True, size: tuple[int, int] = CANONICAL_SIZE,
               ) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Load one split of a dataset as canonical images and integer labels.

    A folder without ``manifest.csv`` is read as plain class folders (split ``"all"``).
    Canonical arrays are cached next to the manifest, one file per size
    (``canonical_64x64.npz``), keyed by the manifest's hash and the canonical form's version
    (:data:`ecg_core.canonical.CANONICAL_VERSION`), so that training and evaluation
    decode each PNG once. The cache may be written compressed (``np.savez_compressed``) to
    move it between machines; it is read the same way.

    Args:
        data_dir: dataset folder.
        split: ``"train"``, ``"val"``, ``"test"`` or ``"all"`` (every row the protocol
            uses: all but the ``"excluded"`` ones).
        protocol: split protocol (see :func:`assign_split`).
        progress: show a progress bar while decoding.
        cache: read/write the canonical-array cache.
        size: canonical (height, width) in pixels, the model's input size.

    Returns:
        ``(x, y, rows)``: x uint8 (n, height, width); y int64 (n,) indices into the dataset's class
        codes (:func:`dataset_codes`); the manifest rows of the split.

    Raises:
        DatasetError: if the folder holds no usable data or the split is empty.
        ValueError: if ``size`` is not two integers of at least 8.
    """
    size = _check_size(size)
    root = Path(data_dir)
    codes = dataset_codes(root)
    if (root / "manifest.csv").is_file():
        rows = read_manifest(root)
        splits = assign_split(rows, protocol)
    else:
        rows = scan_folder(root)
        splits = ["all"] * len(rows)
        cache = False
    all_paths = [str(root / r["image"]) for r in rows]
    x_all = None
    cache_path = root / f"canonical_{size[0]}x{size[1]}.npz"
    if cache:
        key = (hashlib.sha256((root / "manifest.csv").read_bytes()).hexdigest()
               + f":canonical-{CANONICAL_VERSION}")
        if cache_path.is_file():
            with np.load(cache_path) as z:
                if str(z["key"]) == key and len(z["x"]) == len(rows):
                    x_all = z["x"]
    if x_all is None and split != "all" and not cache:
        sel = [i for i, s in enumerate(splits) if s == split]
        if not sel:
            raise DatasetError(f"Split '{split}' is empty in {data_dir}.")
        x = load_images([all_paths[i] for i in sel], progress=progress, size=size)
        return x, _labels([rows[i] for i in sel], codes), [rows[i] for i in sel]
    if x_all is None:
        x_all = load_images(all_paths, progress=progress, size=size)
        if cache:
            np.savez(cache_path, x=x_all, key=key)
    sel = [i for i, s in enumerate(splits)
           if s == split or (split == "all" and s != "excluded")]
    if not sel:
        raise DatasetError(f"Split '{split}' is empty in {data_dir}.")
    return x_all[sel], _labels([rows[i] for i in sel], codes), [rows[i] for i in sel]


def _check_size(size) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"An image size is (height, width) in pixels, not {size!r}.") from None
    if h < 8 or w < 8:
        raise ValueError(f"An image size must be at least 8 x 8 pixels, not {h} x {w}.")
    return h, w


def dataset_scheme(data_dir: str | Path) -> str:
    """Class scheme of a dataset folder: ``dataset.json``'s ``scheme``; ``"jun8"`` for builds
    made before schemes existed and for plain class folders."""
    info = Path(data_dir) / "dataset.json"
    try:
        return str(json.loads(info.read_text()).get("scheme", "jun8"))
    except (OSError, ValueError, AttributeError):
        return "jun8"


def dataset_codes(data_dir: str | Path) -> tuple[str, ...]:
    """Class codes of a dataset folder, in label-index order."""
    return scheme_codes(dataset_scheme(data_dir))


def rhythm_from_rows(rows: list[dict]) -> np.ndarray:
    """Rhythm features (:func:`ecg_core.beats.rhythm_features`) of manifest rows, with the
    record's context: each record's mean RR is the mean ``rr_prev_s`` of its rows among
    ``rows``, each beat counted once (the rows of the record's lowest drawing present, so that
    a set of other-lead drawings alone has the same context as their first drawings).

    Returns:
        float32 array, shape (len(rows), 5); all zero (not available) for rows without RR
        intervals (cudb windows, plain folders, manifests built before ``rr_local_s``). A
        model trained on the four local features takes the first four.
    """
    def col(name):
        return np.array([float(r.get(name) or "nan") for r in rows], dtype=np.float64)

    prev = col("rr_prev_s")
    keys = [(r.get("database", ""), r.get("record", "")) for r in rows]
    drawings = [drawing_of(r) for r in rows]
    lowest: dict[tuple, int] = {}
    for key, d in zip(keys, drawings):
        lowest[key] = min(d, lowest.get(key, d))
    sums: dict[tuple, list[float]] = {}
    for key, value, d in zip(keys, prev, drawings):
        if d == lowest[key] and np.isfinite(value):
            sums.setdefault(key, []).append(value)
    means = {key: float(np.mean(v)) for key, v in sums.items()}
    record = np.array([means.get(key, np.nan) for key in keys], dtype=np.float64)
    return rhythm_features(prev, col("rr_next_s"), col("rr_local_s"), record)


def _record_settings(data_dir, sources, conditioning, fs) -> tuple[dict, str, float]:
    """The record sources, conditioning and sampling rate of a built dataset
    (``dataset.json``), each overridden where given."""
    settings: dict = {}
    if data_dir is not None:
        try:
            settings = json.loads((Path(data_dir) / "dataset.json").read_text()).get(
                "settings", {})
        except (OSError, ValueError):
            settings = {}
    return (sources if sources is not None else settings.get("sources", {}),
            conditioning or settings.get("conditioning") or "none",
            float(fs or settings.get("fs") or 360.0))


def _rows_by_record(rows: list[dict], sources: dict) -> dict[tuple[str, str, str], list[int]]:
    """Indices of the rows of each (database, record, lead) found in ``sources``; VF windows
    (symbol ``!``) are not beats and are left out."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, r in enumerate(rows):
        if r.get("database") in sources and r.get("record") and r.get("symbol") != "!":
            groups.setdefault((r["database"], r["record"], r.get("lead") or ""), []).append(i)
    return groups


def _row_record(sources: dict, database: str, name: str, lead: str, fs: float,
                annotator: str | None, need: str, other_lead: bool = False):
    """The record of manifest rows, on the rows' lead where it has it (else its default),
    at ``fs`` (with ``other_lead``, its second lead too). Raises DatasetError, naming what
    needed it (``need``), if it cannot be read."""
    path = Path(sources[database]) / name
    try:
        channels = record_header(path)[2]
        return read_record(path, lead=lead if lead in channels else None,
                           annotator=annotator, target_fs=fs, other_lead=other_lead)
    except RecordError as exc:
        raise DatasetError(f"The {need} of {database}/{name} needs its record: {exc}") from None


def context_from_rows(rows: list[dict], data_dir: str | Path | None = None, *,
                      template: bool = True, sources: dict[str, str | Path] | None = None,
                      conditioning: str | None = None, fs: float | None = None) -> np.ndarray:
    """The beat-context vector (:data:`ecg_core.beats.CONTEXT_FEATURES`) of manifest rows:
    their rhythm features (:func:`rhythm_from_rows`) and their beat-to-template features
    (:func:`ecg_core.beats.template_features`), each record's typical beat formed from every
    annotated beat of that record and lead, drawn from the signal conditioned as the images
    were.

    Args:
        rows: manifest rows (``database``, ``record``, ``sample``, ``lead``, ``rr_*``).
        data_dir: the dataset folder, whose ``dataset.json`` gives the record ``sources``,
            the ``conditioning`` and the sampling rate ``fs`` (each may be given instead).
        template: form the template features (reading every record); ``False`` leaves them
            zero ("not available"), for models that do not read them.
        sources, conditioning, fs: override the build's settings.

    Returns:
        float32 array, shape (len(rows), 10). Rows without a record (plain folders, cudb
        windows) have template features all zero ("not available").

    Raises:
        DatasetError: if a row's record cannot be read from its source folder.
    """
    if not template:
        return beat_context(rhythm_from_rows(rows))
    sources, conditioning, fs = _record_settings(data_dir, sources, conditioning, fs)
    template = np.zeros((len(rows), 5), dtype=np.float32)
    groups = _rows_by_record(rows, sources)
    for (database, name, lead), idx in groups.items():
        record = _row_record(sources, database, name, lead, fs, "atr", "typical beat")
        if record.annotations is None:
            continue
        ann = record.annotations
        beats = np.asarray([s for s, sym in zip(ann.sample, ann.symbol)
                            if sym in BEAT_SYMBOLS], dtype=np.int64)
        signal = condition_signal(record.signal, fs, conditioning)
        samples = np.array([int(rows[i]["sample"]) for i in idx], dtype=np.int64)
        template[idx] = template_features(signal, samples, fs, beats)
    return beat_context(rhythm_from_rows(rows), template)


#: Share of a record's annotated beats that a split's rows must hold for the readings of
#: whole records to read that record (:func:`record_readings_from_rows`); a build keeps a few
#: beats at a record's ends out of its windows, a class-capped build most of its normal beats.
WHOLE_RECORD_SHARE: float = 0.98


def record_readings_from_rows(probabilities: np.ndarray, rows: list[dict], class_codes, *,
                              dominant_qrs: dict | None = None, af_fold: dict | None = None,
                              v_template: dict | None = None,
                              data_dir: str | Path | None = None,
                              sources: dict[str, str | Path] | None = None,
                              conditioning: str | None = None, fs: float | None = None,
                              qrs_align_s: float = 0.0, premature_s: dict | None = None,
                              partial: list[str] | None = None
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A model card's readings of whole records (:func:`ecg_core.beats.record_readings`:
    the dominant-QRS reading of V calls, the atrial-fibrillation reading of S calls, the
    V-template reading of the other beats, the last check of V calls on both leads, the
    premature-beat reading of N calls, on the
    record's second lead where the card asks, :func:`ecg_core.beats.readings_use_second_lead`)
    applied to a built split's beats, each record read as the
    Record page reads it: the rows of one record and lead are its beats, in time order,
    measured on the signal conditioned as the images were drawn.

    Args:
        probabilities: float array, shape (len(rows), k), the beats' class probabilities.
        rows: manifest rows (``database``, ``record``, ``sample``, ``lead``).
        class_codes: the k class codes.
        dominant_qrs, af_fold, v_template, premature_s: the model card's settings (``None``
            leaves a reading out).
        data_dir: the dataset folder, whose ``dataset.json`` gives the record ``sources``, the
            ``conditioning`` and ``fs`` (each may be given instead).
        qrs_align_s: the largest shift (s) of the alignment of QRS stretches (the
            classifier's ``qrs_align_s``; 0: none).
        partial: optional list; the ``database/record`` names whose rows hold less than
            :data:`WHOLE_RECORD_SHARE` of the record's annotated beats are appended to it.

    Returns:
        ``(probabilities, reread, folded)``: float32 (n, k), and bool (n,) each, the beats
        whose V reading was dropped and the beats in stretches read as atrial fibrillation.
        Rows without a record (plain folders, cudb windows) keep their probabilities, and so
        do the rows of a record that the split does not hold whole (fewer than
        :data:`WHOLE_RECORD_SHARE` of its annotated beats: a build that drew a sample of each
        class, or a beat-level split): the readings compare each beat with the record's other
        beats and their rhythm, which a sample does not give.

    Raises:
        DatasetError: if a row's record cannot be read from its source folder.
    """
    out = np.array(probabilities, dtype=np.float32)
    reread = np.zeros(len(rows), dtype=bool)
    folded = np.zeros(len(rows), dtype=bool)
    if not dominant_qrs and not af_fold and not v_template and not premature_s:
        return out, reread, folded
    sources, conditioning, fs = _record_settings(data_dir, sources, conditioning, fs)
    two_leads = readings_use_second_lead(dominant_qrs, v_template, af_fold)
    # the beats a whole record gives this build: those of its scheme's classes (VF windows,
    # symbol "!", are not beats)
    try:
        scheme = json.loads((Path(data_dir) / "dataset.json").read_text()).get("scheme")
    except (OSError, ValueError, TypeError):
        scheme = None
    counted = (set(symbol_map(scheme)) if scheme in SCHEMES else set(BEAT_SYMBOLS)) - {"!"}
    for (database, name, lead), idx in _rows_by_record(rows, sources).items():
        record = _row_record(sources, database, name, lead, fs, "atr",
                             "reading of the whole record", other_lead=two_leads)
        if record.annotations is not None:
            annotated = sum(sym in counted for sym in record.annotations.symbol)
            if len(idx) < WHOLE_RECORD_SHARE * annotated:
                if partial is not None:
                    partial.append(f"{database}/{name}")
                continue
        idx = np.asarray(idx)[np.argsort([int(rows[i]["sample"]) for i in idx], kind="stable")]
        samples = np.array([int(rows[i]["sample"]) for i in idx], dtype=np.int64)
        second = (None if record.other_signal is None
                  else condition_signal(record.other_signal, fs, conditioning))
        got = record_readings(out[idx], condition_signal(record.signal, fs, conditioning),
                              samples, fs, class_codes, dominant_qrs=dominant_qrs,
                              other_signal=second, qrs_align_s=qrs_align_s,
                              af_fold=af_fold, v_template=v_template,
                              premature_s=premature_s)
        out[idx] = got.probabilities
        if got.reread is not None:
            reread[idx] = got.reread
        if got.s_folded is not None:
            folded[idx] = got.s_folded
    return out, reread, folded


def _labels(rows: list[dict], codes: tuple[str, ...]) -> np.ndarray:
    index = {c: i for i, c in enumerate(codes)}
    try:
        return np.array([index[r["label"]] for r in rows], dtype=np.int64)
    except KeyError as exc:
        raise DatasetError(f"Unknown class label {exc} in manifest.") from exc


def write_examples(data_dir: str | Path, sources: dict[str, str | Path], out_dir: str | Path,
                   per_class: int = 3, seed: int = 7, accept=None) -> list[Path]:
    """Draw a few test-split beats per class in the default style, for the app and the docs.

    Beats are picked at random (seeded) from the *test* split of the beat protocol, one per
    record first (as many different patients as possible), and drawn with
    :data:`DEFAULT_STYLE`. With ``accept``, a candidate is kept only if ``accept(png_bytes,
    code)`` is true; ``python -m ecg_core examples --model`` uses this to keep beats the
    committed model classifies correctly, so that the bundled examples illustrate each class
    as the model knows it. Such examples say nothing about accuracy (the Evaluation page does).

    Args:
        data_dir: built dataset (its manifest chooses the beats).
        sources: {database name: folder}, e.g. {"mitdb": "../shared/mitdb", "cudb": ...}.
        out_dir: output folder (``data/examples``); one sub-folder per class code, whose
            PNGs from an earlier selection are replaced.
        per_class: images per class.
        seed: selection seed.
        accept: optional filter ``accept(png: bytes, code: str) -> bool``.

    Returns:
        Paths of the written PNGs.

    Raises:
        DatasetError: if the manifest is missing.
    """
    import cv2

    rows = [r for r in read_manifest(data_dir) if r["split"] == "test" and drawing_of(r) == 0]
    rng = np.random.default_rng(seed)
    written: list[Path] = []
    cache: dict[tuple[str, str], np.ndarray] = {}

    def draw(r: dict) -> bytes:
        key = (r["database"], r["record"])
        if key not in cache:
            cache[key] = read_record(Path(sources[r["database"]]) / r["record"],
                                     annotator=None).signal
        img = render_beat(cache[key], int(r["sample"]), float(r["fs"]))
        ok, buf = cv2.imencode(".png", img)
        return buf.tobytes()

    for code in dataset_codes(data_dir):
        cand = [r for r in rows if r["label"] == code and r["database"] in sources]
        rng.shuffle(cand)
        # one beat per record first, then fill up from records already used
        first, rest, seen = [], [], set()
        for r in cand:
            (rest if r["record"] in seen else first).append(r)
            seen.add(r["record"])
        order = first + rest
        folder = Path(out_dir) / code
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.png"):  # a previous selection's images
            stale.unlink()
        kept = 0
        for r in order:
            if kept == per_class:
                break
            png = draw(r)
            if accept is not None and not accept(png, code):
                continue
            path = folder / image_name(r["database"], r["record"], int(r["sample"]))
            path.write_bytes(png)
            written.append(path)
            kept += 1
    return written
