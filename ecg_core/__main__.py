"""Command-line interface: ``ecg-core <command> ...`` (the same as ``python -m ecg_core``).

Commands:
    build-dataset   render MIT-BIH (and cudb) beats into class folders with a manifest
    train           train a model (baseline or ecgnet) on a built dataset
    predict         classify beat images (files or folders) with a trained model; a
                    ``warning`` column says where an image does not look like one clean beat
    evaluate        accuracy, per-class Se and +P of models on a dataset split
    classify-record find and classify every beat of a WFDB record (per-beat CSV)
    classify-records  every record under folders, on a Dask cluster, into Parquet
    examples        draw a few test-split beats per class into data/examples
    export          write each model's LiteRT twin (NAME.tflite), which serves predictions
                    without TensorFlow (``train`` writes it too)
    install         install a trained run as a named model, its card naming the one replaced
    download        download mitdb / cudb from PhysioNet with wfdb (needs internet)

Errors caused by input (missing files, unknown lead, unreadable model) end the run with a
one-line message on stderr and exit status 2, before TensorFlow is imported where the input
can be checked without it; per-image errors in ``predict`` (an image that cannot be decoded)
go into the ``error`` column. Models are named by path or by name under the models folder
(``--models``, ``$ECG_MODELS_DIR``, or the checkout's ``models/``): ``ecgnet``,
``aami/ecgnet``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from . import __version__
from .analysis import DEFAULT_DETECTOR, DETECTORS, TWO_LEAD_DETECTORS
from .canonical import CANONICAL_SIZE
from .errors import ECGCoreError
from .formats import FORMAT_EXTENSIONS
from .protocols import PROTOCOLS
from .training import CLASS_WEIGHTINGS, MIN_INPUT_SIZE, PRIOR_ADJUSTMENTS, SCHEDULES

#: What ``--model`` defaults to: a name under the models folder.
DEFAULT_MODEL = "ecgnet"


def _classifier(args: argparse.Namespace, model):
    """Load a model (path or name) with the chosen backend; say on stderr when its LiteRT twin
    cannot serve it."""
    from .model import Classifier, resolve_model

    clf = Classifier.load(resolve_model(model), backend=args.backend)
    if clf.warning:
        print(f"warning: {clf.warning}", file=sys.stderr)
    return clf


def _cmd_build(args: argparse.Namespace) -> int:
    from .dataset import BuildConfig, build_dataset

    config = BuildConfig(seed=args.seed, max_per_class=None if args.max_per_class <= 0
                         else args.max_per_class, styled=not args.plain,
                         scheme=args.scheme, drawings=args.drawings,
                         extra_styles=args.extra_styles, conditioning=args.conditioning,
                         vf_rr=args.vf_rr, other_lead=args.other_lead,
                         noisy_drawings=args.noisy_drawings,
                         records=args.records.split(",") if args.records else None)
    info = build_dataset(args.out, mitdb=args.mitdb, cudb=args.cudb, qtdb=args.qtdb,
                         nstdb=args.nstdb, config=config,
                         workers=args.workers, overwrite=args.overwrite)
    print(f"{info['n_images']} images of {info['n_beats']} beats from "
          f"{len(info['records'])} records in {args.out}; beats per class and split:")
    for code, c in info["counts"].items():
        print(f"  {code}: train {c['train']:6d}  val {c['val']:5d}  test {c['test']:5d}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .model import ARCHITECTURES
    from .training import TrainConfig, train_models

    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    unknown = [a for a in archs if a not in ARCHITECTURES]
    if unknown or not archs:
        print(f"error: unknown architecture {unknown}; choose from {ARCHITECTURES}",
              file=sys.stderr)
        return 2
    if args.input_size < MIN_INPUT_SIZE:
        print(f"error: --input-size {args.input_size} px is too small (at least "
              f"{MIN_INPUT_SIZE})", file=sys.stderr)
        return 2
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                         patience=args.patience, learning_rate=args.lr,
                         schedule=args.schedule,
                         max_train=args.max_train, protocol=args.protocol,
                         input_size=(args.input_size, args.input_size),
                         class_weighting=args.class_weight,
                         prior_adjustment=args.prior_adjustment,
                         max_train_per_class=args.max_train_per_class or None,
                         init_from=args.init,
                         rhythm_archs=tuple(a.strip() for a in args.rhythm.split(",")
                                            if a.strip()),
                         rhythm_context=args.rhythm_context,
                         deterministic=not args.nondeterministic)
    results = train_models(args.data, args.out, archs, config)
    for arch, result in results.items():
        test = result["card"]["test"]
        tr = result["card"]["training"]
        prior = result["card"].get("prior_adjustment")
        shift = f", prior shift {prior['strength']:g}" if prior else ""
        print(f"{arch}: test accuracy {test['accuracy']:.4f}  macro Se "
              f"{test['macro_sensitivity']:.4f}  macro +P {test['macro_precision']:.4f}  "
              f"({tr['epochs_run']} epochs, {tr['batch_seconds']:.0f} s of batches{shift}) "
              f"-> {result['model_path']}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import csv

    from .canonical import decode_image, image_warnings
    from .model import iter_image_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"error: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    paths = list(iter_image_paths(args.paths))
    if not paths:
        print("error: no image files (png/jpg/jpeg/bmp) found in the given paths",
              file=sys.stderr)
        return 2
    clf = _classifier(args, args.model)
    codes = list(clf.class_codes)
    fields = ["path", "predicted", *codes, "warning", "error"]
    out = open(args.out, "w", newline="") if args.out else sys.stdout
    failed = 0
    try:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for path in paths:
            row = {"path": str(path), "predicted": "", "error": ""}
            try:
                gray = decode_image(Path(path).read_bytes())
                canonical = clf.canonical(gray)
                probs = clf.predict_canonical(canonical)
                row["predicted"] = codes[int(probs.argmax())]
                row.update({c: f"{p:.6f}" for c, p in zip(codes, probs)})
                row["warning"] = " ".join(image_warnings(canonical, gray))
            except (ECGCoreError, OSError) as exc:
                row["error"] = str(exc) if isinstance(exc, ECGCoreError) else (
                    f"cannot read the file ({exc.strerror or type(exc).__name__})")
                failed += 1
            writer.writerow(row)
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"{len(paths)} rows written to {args.out}"
              + (f" ({failed} image(s) could not be read: see the error column)"
                 if failed else ""))
    elif failed:
        print(f"{failed} of {len(paths)} image(s) could not be read: see the error column",
              file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .dataset import dataset_codes, load_split
    from .evaluation import comparison_table, detailed_figures, save_evaluation
    from .model import model_name, resolve_model

    if _no_dataset(args.data):
        return 2
    docs = []
    loaded: dict[tuple, tuple] = {}
    for path in map(resolve_model, args.model):
        clf = _classifier(args, path)
        protocol = args.protocol or clf.card.get("protocol", {}).get("name", "beat")
        key = (protocol, clf.input_size)
        if key not in loaded:
            loaded[key] = load_split(args.data, args.split, protocol, progress=True,
                                     size=clf.input_size)
        x, y, rows = loaded[key]
        if args.lone_images:
            _lone_image_figures(clf, path, x, y, rows, protocol, args)
            continue
        probs = _split_probabilities(clf, x, rows, data_dir=args.data)
        y_model = _labels_for(clf, y, dataset_codes(args.data))
        records = ([f"{r.get('database', '')}/{r.get('record', '')}" for r in rows]
                   if any(r.get("record") for r in rows) else None)  # None: plain folders
        figures, arrays = detailed_figures(y_model, probs, clf.class_codes, records)
        out_model = Path(args.out) / Path(path).name if args.out else Path(path)
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
        name = model_name(path)
        saved = save_evaluation(out_model, figures, arrays, protocol=protocol, split=args.split,
                                data=args.data,
                                extra={"model_name": name,
                                       "model_protocol": clf.card.get("protocol", {}),
                                       "classes": clf.card.get("classes", [])})
        docs.append({"model": name, "protocol": protocol, "split": args.split,
                     "figures": figures})
        print(f"{name} ({protocol} split, {args.split}): n {figures['n']}  "
              f"accuracy {figures['accuracy']:.4f}  macro Se {figures['macro_sensitivity']:.4f}"
              f"  macro +P {figures['macro_precision']:.4f} -> {saved}", file=sys.stderr)
    if not docs:  # --lone-images: figures written into the cards
        return 0
    table = comparison_table(docs)
    print(table)
    if args.table:
        Path(args.table).write_text(table + "\n")
    if args.by_record:
        _print_by_record(docs)
    return 0


def _lone_image_figures(clf, path, x: np.ndarray, y: np.ndarray, rows: list[dict],
                        protocol: str, args: argparse.Namespace) -> None:
    """``evaluate --lone-images``: a split read as the Predict page reads lone images (each
    image alone: no RR intervals, one lead, no readings of whole records), its headline
    figures written into the model's card (``lone_image``), where the Predict page says how
    well a model that needs a record reads a lone image."""
    import json

    from .calibration import reliability
    from .dataset import dataset_codes
    from .evaluation import classification_figures
    from .model import card_path, model_name, write_card
    from .training import figure_summary

    probs = _split_probabilities(clf, x, rows, data_dir=args.data, lone=True)
    y_model = _labels_for(clf, y, dataset_codes(args.data))
    fig = figure_summary(classification_figures(y_model, probs, clf.class_codes))
    fig["records"] = len({(r.get("database", ""), r.get("record", "")) for r in rows})
    # calibrated as the Predict page serves it (the lone-image temperature where the card has one)
    fig["ece"] = reliability(y_model, probs)["ece"]
    fig["temperature"] = clf.lone_temperature if clf.uses_rhythm else clf.temperature
    card = json.loads(card_path(path).read_text())
    card["lone_image"] = {
        "method": "each image read alone, as the Predict page reads an uploaded beat image: "
                  "no RR intervals (the rhythm input given 'not available'), one lead, no "
                  "readings of whole records",
        "protocol": protocol, "split": args.split, "data": str(args.data), "n": int(len(y)),
        **fig}
    write_card(path, card)
    print(f"{model_name(path)} ({protocol} split, {args.split}), each image read alone: "
          f"n {len(y)}  accuracy {fig['accuracy']:.4f}  macro Se {fig['macro_sensitivity']:.4f}"
          f" -> {card_path(path)} (lone_image)")


def _print_by_record(docs: list[dict]) -> None:
    from .evaluation import record_markdown

    for d in docs:
        by_record = d["figures"].get("by_record")
        if not by_record:
            print(f"\n{d['model']}: no records to count by (plain class folders)")
            continue
        print(f"\n{d['model']} ({d['protocol']}, {d['split']}), record by record:\n")
        print(record_markdown(by_record, list(d["figures"]["per_class"])))


def _cmd_calibrate(args: argparse.Namespace) -> int:
    import json

    from .calibration import calibration_card, mean_reading
    from .dataset import dataset_codes, load_split
    from .model import card_path, model_name, resolve_model, write_card

    if args.class_mix_shift is not None and not 0.0 <= args.class_mix_shift <= 1.0:
        print(f"error: --class-mix-shift must lie between 0 and 1 (got {args.class_mix_shift:g}).",
              file=sys.stderr)
        return 2
    if _no_dataset(args.data):
        return 2
    for path in map(resolve_model, args.model):
        clf = _classifier(args, path)
        if args.class_mix_shift is not None:
            _write_class_mix_shift(path, clf.card, args.class_mix_shift, args.data)
            clf = _classifier(args, path)  # the card's new shift applies from here on
        protocol = clf.card.get("protocol", {}).get("name", "beat")
        x, y, rows = load_split(args.data, "val", protocol, progress=True, size=clf.input_size)
        # each reading as served before the temperature: a model that reads each beat on
        # both leads serves the mean of the two readings after it, and T is fitted on that
        readings = _split_readings(clf, x, rows, calibrated=False, data_dir=args.data)
        probs = mean_reading(readings)
        y_model = _labels_for(clf, y, dataset_codes(args.data))
        cal = calibration_card(y_model, readings if len(readings) > 1 else probs)
        cal["data"] = str(args.data)
        cal["protocol"] = protocol
        if clf.uses_rhythm:
            lone = _lone_image_temperature(clf, x, rows, y_model, cal["temperature"], args.data)
            if lone is not None:
                cal["lone_image"] = lone
        card = json.loads(card_path(path).read_text())
        card["calibration"] = cal
        if args.class_mix_shift is not None:
            # the shift changes the model's decisions: its card's figures are recomputed, as
            # `train --prior-adjustment` does (the test split is scored, never chosen on), from
            # the probabilities the model now serves: with the new temperature, the mean of
            # its readings where it reads both leads, and its readings of whole records
            from .evaluation import classification_figures

            write_card(path, card)
            served = _classifier(args, path)
            xt, yt, rows_t = load_split(args.data, "test", protocol, progress=True,
                                        size=clf.input_size)
            p_val = _split_probabilities(served, x, rows, data_dir=args.data)
            p_test = _split_probabilities(served, xt, rows_t, data_dir=args.data)
            card["validation"] = classification_figures(y_model, p_val, clf.class_codes)
            card["test"] = classification_figures(_labels_for(clf, yt, dataset_codes(args.data)),
                                                  p_test, clf.class_codes)
        write_card(path, card)
        read = " (each read on both leads)" if cal.get("readings", 1) > 1 else ""
        print(f"{model_name(path)}: T = {cal['temperature']:.3f} on {cal['n']} validation beats"
              f"{read} ({protocol} protocol); ECE {100 * cal['ece_before']:.2f}% -> "
              f"{100 * cal['ece_after']:.2f}%, written to {card_path(path)}")
        if clf.uses_rhythm:
            lone = cal.get("lone_image")
            print(f"{model_name(path)}: the same beats read alone (a lone image): "
                  + (f"T = {lone['temperature']:.3f}, ECE {100 * lone['ece_with_temperature']:.2f}%"
                     f" with T = {cal['temperature']:.3f} -> {100 * lone['ece_after']:.2f}%"
                     if lone else "no temperature of their own calibrates them better; lone "
                                  "images keep T = " + f"{cal['temperature']:.3f}"))
    return 0


def _lone_image_temperature(clf, x: np.ndarray, rows: list[dict], y: np.ndarray,
                            temperature: float, data_dir) -> dict | None:
    """For a model with a rhythm input: a temperature fitted on validation beats read as lone
    images (no RR intervals, one lead: :func:`_split_probabilities` with ``lone``), which
    :class:`ecg_core.model.Classifier` applies where no rhythm is given; ``None`` where it
    does not lower the expected calibration error of those readings below that with the
    model's own ``temperature`` (fitted on its reading of records)."""
    from .calibration import apply_temperature, calibration_card, reliability

    raw = _split_probabilities(clf, x, rows, calibrated=False, data_dir=data_dir, lone=True)
    lone = calibration_card(y, raw)
    lone["method"] += (", on the validation beats read as lone images (no RR intervals, one "
                       "lead); applied where a model with a rhythm input is given none")
    lone["ece_with_temperature"] = reliability(y, apply_temperature(raw, temperature))["ece"]
    return lone if lone["ece_after"] < lone["ece_with_temperature"] else None


def _write_class_mix_shift(path, card: dict, strength: float, data_dir) -> None:
    """Write ``strength`` times the model's class-mix log ratio into its card
    (``prior_shift``; strength 0 removes it)."""
    import json

    from .model import card_path, model_name, write_card
    from .training import class_mix_log_ratio, figure_summary

    card = json.loads(card_path(path).read_text())
    if strength == 0:
        card.pop("prior_shift", None)
        print(f"{model_name(path)}: class-mix shift removed")
    else:
        ratio, info = class_mix_log_ratio(card, data_dir)
        codes = [c["code"] for c in card["classes"]]
        before = card.get("prior_shift") or {}
        card["prior_shift"] = {
            "method": "outputs moved toward the class mix of the training records (Saerens, "
                      "Latinne & Decaestecker 2002): strength x log(pi_data / pi_train) added "
                      "to the logits before the temperature",
            "strength": float(strength),
            "shift": {c: float(strength * r) for c, r in zip(codes, ratio)},
            **info,
            # the figures of the outputs without a shift, as the card last had them
            "before": before.get("before") or {k: figure_summary(card[k])
                                               for k in ("validation", "test") if k in card},
        }
        print(f"{model_name(path)}: class-mix shift of strength {strength:g} written: "
              + ", ".join(f"{c} {strength * r:+.2f}" for c, r in zip(codes, ratio)))
    write_card(path, card)


def _cmd_evaluate_database(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .analysis import classify_database
    from .errors import RecordError
    from .evaluation import detailed_figures, save_evaluation
    from .model import model_name, resolve_model
    from .protocols import QTDB_HELD_OUT

    folder = Path(args.database)
    if not folder.is_dir():
        print(f"error: database folder not found: {args.database}", file=sys.stderr)
        return 2
    records = QTDB_HELD_OUT if args.held_out else (args.records or None)
    for path in map(resolve_model, args.model):
        clf = _classifier(args, path)
        with tqdm(desc=f"{model_name(path)}: records", unit="record", file=sys.stderr) as bar:
            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)

            try:
                found = classify_database(folder, clf, annotator=args.annotations,
                                          records=records, progress=progress)
            except RecordError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        if not len(found["y_true"]):
            print(f"error: no beat of {folder} maps to the classes of {model_name(path)}",
                  file=sys.stderr)
            return 2
        figures, arrays = detailed_figures(found["y_true"], found["probabilities"],
                                           clf.class_codes, found["records"])
        figures["outside"] = found["outside"]
        figures["skipped"] = found["skipped"]
        figures["leads"] = found["leads"]
        saved = save_evaluation(path, figures, arrays, protocol="cross-database",
                                split="held-out" if args.held_out else "test",
                                data=str(folder), extra={"model_name": model_name(path),
                                                         "classes": clf.card.get("classes", []),
                                                         "records": sorted(found["leads"])})
        ci = figures["ci95"]
        per = "  ".join(f"{c} {v['sensitivity']:.3f}/{v['precision']:.3f}"
                        for c, v in figures["per_class"].items() if v["support"])
        acc_ci = ci.get("accuracy") or [float("nan")] * 2
        print(f"{model_name(path)} on {folder.name}: {figures['n']} beats of "
              f"{figures['n_records']} records; accuracy {figures['accuracy']:.4f} (95% CI "
              f"{acc_ci[0]:.4f}-{acc_ci[1]:.4f}); Se/+P: {per} -> {saved}")
        if args.by_record:
            _print_by_record([{"model": model_name(path), "protocol": "cross-database",
                               "split": "held-out" if args.held_out else "test",
                               "figures": figures}])
    return 0


def _cmd_cross_validate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .dataset import dataset_codes, load_split
    from .evaluation import detailed_figures, save_evaluation
    from .model import BOTH_LEADS_METHOD, Classifier, resolve_model
    from .protocols import CV_PROTOCOLS, DS1_CV_PROTOCOLS
    from .training import TrainConfig, train_models

    if _no_dataset(args.data):
        return 2
    attach = resolve_model(args.attach) if args.attach else None
    if attach is not None and not attach.is_file():
        print(f"error: model file not found: {args.attach}", file=sys.stderr)
        return 2
    base = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                       patience=args.patience, learning_rate=args.lr, schedule=args.schedule,
                       class_weighting=args.class_weight,
                       max_train_per_class=args.max_train_per_class or None,
                       rhythm_archs=(args.arch,) if args.rhythm else (),
                       rhythm_context=args.rhythm_context,
                       deterministic=not args.nondeterministic)
    out = Path(args.out)
    y_all, p_all, records = [], [], []
    codes = None
    protocols = DS1_CV_PROTOCOLS if args.within == "ds1" else CV_PROTOCOLS
    for protocol in protocols:
        result = train_models(args.data, out / protocol, [args.arch],
                              replace(base, protocol=protocol))[args.arch]
        clf = Classifier.load(result["model_path"])
        if args.both_leads:
            clf.both_leads = {"method": BOTH_LEADS_METHOD}
        x, y, rows = load_split(args.data, "test", protocol, size=clf.input_size)
        probs = _split_probabilities(clf, x, rows, data_dir=args.data)
        y_all.append(_labels_for(clf, y, dataset_codes(args.data)))
        p_all.append(probs)
        records += [f"{r.get('database', '')}/{r.get('record', '')}" for r in rows]
        codes = clf.class_codes
        print(f"{protocol}: {len(y)} test beats of {len(set(records[-len(y):]))} records, "
              f"accuracy {float((probs.argmax(1) == y_all[-1]).mean()):.4f}", file=sys.stderr)
    figures, arrays = detailed_figures(np.concatenate(y_all), np.concatenate(p_all), codes,
                                       records)
    figures["folds"] = len(protocols)
    target = attach or out / f"{args.arch}.keras"
    within = " over the AAMI DS1 records" if args.within == "ds1" else ""
    saved = save_evaluation(target, figures, arrays, protocol="cv", split="test",
                            data=args.data, extra={"model_name": f"{args.arch} (5-fold recipe"
                                                                 f"{within})",
                                                   "within": args.within,
                                                   "folds_dir": str(out),
                                                   "recipe": {k: v for k, v in vars(base).items()
                                                              if k != "protocol"},
                                                   "both_leads": bool(args.both_leads)})
    few = [c for c, v in figures["per_class"].items() if 0 < v.get("records", 0) < 3]
    kept = [v["sensitivity"] for c, v in figures["per_class"].items() if v.get("records", 0) >= 3]
    print(f"pooled over {len(protocols)} folds: {figures['n']} beats of "
          f"{figures['n_records']} records; accuracy {figures['accuracy']:.4f}; macro Se over "
          f"the classes with at least 3 records {np.mean(kept):.4f}"
          + (f" (left out: {', '.join(few)})" if few else "") + f" -> {saved}")
    for c, v in figures["per_class"].items():
        print(f"  {c}: Se {v['sensitivity']:.3f}  +P {v['precision']:.3f}  beats {v['support']}"
              f"  records {v.get('records', 0)}")
    return 0


def _cmd_robustness(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .model import model_name, resolve_model
    from .robustness import ROBUSTNESS_SETS, evaluate_robustness, save_robustness

    if _no_dataset(args.data):
        return 2
    sets = [s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else None
    unknown = [s for s in sets or [] if s not in ROBUSTNESS_SETS]
    if unknown:
        print(f"error: unknown robustness set(s) {', '.join(unknown)}; choose from "
              f"{', '.join(ROBUSTNESS_SETS)}", file=sys.stderr)
        return 2
    folders = {}
    for spec in args.folder or []:
        name, _, folder = spec.partition("=")
        if not folder or not Path(folder).is_dir():
            print(f"error: --folder takes NAME=FOLDER with an existing folder, not '{spec}'",
                  file=sys.stderr)
            return 2
        folders[name] = folder
    sources = {k: v for k, v in (("mitdb", args.mitdb), ("cudb", args.cudb)) if v}
    for path in map(resolve_model, args.model):
        clf = _classifier(args, path)
        bars: dict[str, tqdm] = {}

        def progress(name, done, total):
            bar = bars.setdefault(name, tqdm(total=total, desc=name, unit="beat", leave=False))
            bar.n = done
            bar.refresh()

        result = evaluate_robustness(clf, args.data, sources, split=args.split, sets=sets,
                                     folders=folders, progress=progress)
        for bar in bars.values():
            bar.close()
        saved = save_robustness(path, result, {"model_name": model_name(path)})
        print(f"{model_name(path)} ({args.split} split of {args.data}) -> {saved}")
        print("| set | n | accuracy | macro Se | lowest class Se |")
        print("|---|---|---|---|---|")
        for name, fig in result["sets"].items():
            low = min(fig["per_class"].items(), key=lambda kv: kv[1]["Se"])
            print(f"| {name} | {fig['n']} | {100 * fig['accuracy']:.2f} | "
                  f"{100 * fig['macro_sensitivity']:.2f} | {low[0]} {100 * low[1]['Se']:.1f} |")
    return 0


def _split_readings(clf, x: np.ndarray, rows: list[dict], calibrated: bool = True,
                    data_dir: str | Path | None = None, lone: bool = False) -> np.ndarray:
    """Each reading of a loaded split's beats by the network (canonical images ``x``, uint8
    (n, H, W), and their manifest ``rows``, whose RR intervals, and for a template model the
    records named by ``data_dir``'s sources, feed a model with a rhythm input), 512 images a
    call, with the card's class-mix shift and (``calibrated``) temperature: float32 (1, n, k);
    for a model that reads each beat on both leads (``both_leads``), (2, n, k), the second the
    beats that ``data_dir``'s build drew on their record's other lead
    (:func:`ecg_core.dataset.other_lead_rows`), NaN rows for beats it did not draw there. With
    ``lone``, each image as the Predict page reads a lone image: no rhythm, one lead."""
    from .dataset import context_from_rows, load_images, other_lead_rows

    def read(images, rows_):
        rhythm = (context_from_rows(rows_, data_dir, template=clf.rhythm_context == "template")
                  if clf.uses_rhythm and not lone else None)
        return np.concatenate([
            clf.predict_canonical(images[i:i + 512],
                                  None if rhythm is None else rhythm[i:i + 512],
                                  calibrated=calibrated) for i in range(0, len(images), 512)])

    first = read(x, rows)
    if getattr(clf, "both_leads", None) and data_dir is not None and len(rows) and not lone:
        others = other_lead_rows(rows, data_dir)
        at = [i for i, r in enumerate(others) if r is not None]
        if at:
            second = np.full_like(first, np.nan)
            rows2 = [others[i] for i in at]
            x2 = load_images([str(Path(data_dir) / r["image"]) for r in rows2],
                             size=clf.input_size)
            second[at] = read(x2, rows2)
            return np.stack([first, second])
    return first[None]


def _split_probabilities(clf, x: np.ndarray, rows: list[dict], calibrated: bool = True,
                         data_dir: str | Path | None = None, lone: bool = False) -> np.ndarray:
    """Class probabilities of a loaded split, as the Record page reads them: the network's
    readings (:func:`_split_readings`; for a model that reads each beat on both leads, the
    mean of the two where the beat was drawn on both); for a model with readings of whole
    records (dominant QRS, atrial fibrillation, V template, premature beats), the calibrated
    probabilities then read record by record
    (:func:`ecg_core.dataset.record_readings_from_rows`). With ``lone``, as the Predict page
    reads lone images: each image alone, no rhythm, no second lead, no record readings.
    Returns float32 (n, k)."""
    from .calibration import mean_reading
    from .dataset import record_readings_from_rows

    probs = mean_reading(_split_readings(clf, x, rows, calibrated, data_dir, lone))
    if lone:
        return probs
    readings = {"dominant_qrs": getattr(clf, "dominant_qrs", None),
                "af_fold": getattr(clf, "af_fold", None),
                "v_template": getattr(clf, "v_template", None),
                "premature_s": getattr(clf, "premature_s", None)}
    if calibrated and any(readings.values()) and data_dir is not None:
        partial: list[str] = []
        probs = record_readings_from_rows(probs, rows, clf.class_codes, **readings,
                                          data_dir=data_dir, partial=partial,
                                          qrs_align_s=float(getattr(clf, "qrs_align_s", 0.0)))[0]
        if partial:
            names = sorted(set(partial))
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            print(f"Note: this split holds a sample of the beats of {len(names)} record(s) "
                  f"({shown}); their beats are read without the readings of whole records, "
                  "which need every beat (evaluate-database reads whole records).",
                  file=sys.stderr)
    return probs


def _labels_for(clf, y: np.ndarray, data_codes: tuple[str, ...]) -> np.ndarray:
    """Dataset labels (indices into ``data_codes``) as indices into a model's classes.

    Raises:
        ECGCoreError: if the data hold a class the model does not know.
    """
    if tuple(clf.class_codes) == tuple(data_codes):
        return y
    index = {c: i for i, c in enumerate(clf.class_codes)}
    missing = sorted({data_codes[i] for i in np.unique(y)} - set(index))
    if missing:
        raise ECGCoreError(f"The data hold classes {missing} that the model does not know "
                           f"(its classes: {', '.join(clf.class_codes)}).")
    return np.array([index[data_codes[i]] for i in y], dtype=np.int64)


def _no_dataset(folder: str) -> bool:
    """True (after saying so on stderr) where the dataset folder is missing."""
    if Path(folder).is_dir():
        return False
    print(f"error: dataset folder not found: {folder}", file=sys.stderr)
    return True


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _cmd_classify_record(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .analysis import (agreement, classify_record, classify_record_file, record_notes,
                           summarise)
    from .records import TARGET_FS, choose_lead, read_record, record_base, record_header

    path = Path(args.record)
    record = None
    if path.suffix.lower() in FORMAT_EXTENSIONS:
        from .formats import read_recording_bytes

        if not path.is_file():
            print(f"error: no such file: {args.record}", file=sys.stderr)
            return 2
        if args.annotations:
            print("error: --annotations needs a WFDB record (beat annotations of other "
                  "formats are not read)", file=sys.stderr)
            return 2
        record = read_recording_bytes(path.read_bytes(), name=path.name, lead=args.lead)
        if record is None:
            print(f"error: {path.name} is in none of the formats read here (see "
                  "docs/cli.md); a plain CSV of numbers needs its sampling rate: use the "
                  "Record page", file=sys.stderr)
            return 2
        name, lead, original_fs = record.name, record.lead, record.original_fs
    else:
        base = record_base(path)
        _, original_fs, channels = record_header(base)
        lead = channels[choose_lead(list(channels), args.lead)] if channels else "unknown"
        name = Path(base).name
        if args.annotations and not Path(f"{base}.{args.annotations}").is_file():
            print(f"error: annotation file '{args.record}.{args.annotations}' not found",
                  file=sys.stderr)
            return 2
    clf = _classifier(args, args.model)
    bar = None

    def progress(done: float, total: float) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=round(total), desc="classifying beats", unit="s of signal",
                       file=sys.stderr)
        bar.update(round(done) - bar.n)

    try:
        if record is not None:
            result = classify_record(record, clf, use_annotations=False,
                                     detector=args.detector,
                                     progress=lambda d, t: progress(
                                         record.duration_s * d / t, record.duration_s))
        else:
            # read and classified a stretch at a time: a 24-hour record in bounded memory
            result = classify_record_file(base, clf, lead=args.lead,
                                          annotator=args.annotations,
                                          use_annotations=bool(args.annotations),
                                          detector=args.detector, workers=args.workers,
                                          progress=progress)
    finally:
        if bar is not None:
            bar.close()
    frame = result.to_frame()
    # the summary goes where the person reads: stdout, unless the CSV itself goes there
    report = sys.stdout if args.out else sys.stderr
    if args.out:
        frame.to_csv(args.out, index=False)
    else:
        frame.to_csv(sys.stdout, index=False)
    summary = summarise(result)
    hr = summary["mean_hr_bpm"]
    print(f"{name}: {summary['beats']} beats ({result.source}), lead {lead}, "
          f"{original_fs:g} Hz -> {TARGET_FS:g} Hz; mean HR "
          f"{'n/a' if hr is None else f'{hr:.0f} bpm'}; "
          + ", ".join(f"{c} {n}" for c, n in summary["per_class"].items() if n),
          file=report)
    for note in record_notes(summary, result.class_codes):
        print(f"note: {note}", file=report)
    from .model import model_new_patient_note, models_dir

    patients = (None if clf.path is None else
                model_new_patient_note(clf.path, clf.card, models_dir(),
                                       choose="give --model {model}"))
    if patients:
        print(f"note: {patients}", file=report)
    from .evaluation import new_patient_tables, new_patient_words

    trust = (next(iter(new_patient_tables(clf.path)), None) if clf.path is not None
             else None)
    found = new_patient_words(trust, [c for c, n in summary["per_class"].items() if n])
    if found:
        print(f"on patients it never saw ({trust['label']}), Se/+P of the classes found here: "
              f"{found}", file=report)
    agree = agreement(result)
    if agree and agree["figures"]:
        f = agree["figures"]
        per = "  ".join(f"{c} {v['sensitivity']:.3f}/{v['precision']:.3f}"
                        for c, v in f["per_class"].items() if v["support"])
        print(f"agreement with {args.annotations}: accuracy {f['accuracy']:.4f} on "
              f"{f['n']} beats; Se/+P: {per}", file=report)
        if agree["outside"]:
            print("  symbols outside the model's classes: " + ", ".join(
                f"{s} {n}" for s, n in sorted(agree["outside"].items())), file=report)
    if args.out:
        print(f"{len(frame)} rows written to {args.out}", file=report)
    if args.report:
        from .model import model_name
        from .report import record_report

        if record is None:  # the example strips need the signal: the chosen lead, whole
            record = read_record(base, lead=args.lead, annotator=None)
        Path(args.report).write_text(record_report(record, result, clf,
                                                   model_label=model_name(clf.path)
                                                   if clf.path else ""), encoding="utf-8")
        print(f"report written to {args.report}", file=report)
    return 0


def _cmd_classify_records(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .batch import classify_records
    from .model import resolve_model

    missing = [p for p in args.inputs if not Path(p).exists()
               and not Path(p).with_suffix(".hea").exists()]
    if missing:
        print(f"error: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    model = resolve_model(args.model)
    if not model.is_file():
        print(f"error: model file not found: {model}", file=sys.stderr)
        return 2
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="records", unit="record", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        info = classify_records(args.inputs, args.out, model=model, workers=args.workers,
                                cluster=args.cluster,
                                annotator=None if args.annotations == "none" else
                                args.annotations, text_fs=args.csv_fs,
                                detector=args.detector, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    print(f"{info['records']} records ({info['skipped']} already done, {info['classified']} "
          f"classified, {info['errors']} with errors), {info['beats']:,} beats; summary: "
          f"{info['summary']}; beats: {Path(args.out) / 'beats'}")
    return 0


def _cmd_examples(args: argparse.Namespace) -> int:
    from .dataset import write_examples

    sources = {k: v for k, v in (("mitdb", args.mitdb), ("cudb", args.cudb)) if v}
    passed_over: list[str] = []
    clf = _classifier(args, args.model) if args.model else None

    def read_right(png: bytes, code: str) -> bool:
        predicted = clf.class_codes[int(clf.predict_bytes(png).argmax())]
        if predicted != code:
            passed_over.append(f"{code} beat called {predicted}")
        return predicted == code
    paths = write_examples(args.data, sources, args.out, per_class=args.per_class,
                           accept=read_right if clf is not None else None)
    print(f"{len(paths)} example images written to {args.out}")
    if passed_over:
        print(f"passed over {len(passed_over)}: " + "; ".join(passed_over))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .model import list_models, models_dir, resolve_model
    from .runtime import export_twin

    paths = [resolve_model(m) for m in args.model] if args.model else list_models(models_dir())
    missing = [p for p in paths if not p.is_file()]
    if missing or not paths:
        print(f"error: model file not found: {missing[0] if missing else models_dir()}",
              file=sys.stderr)
        return 2
    for path in paths:
        info = export_twin(path)
        print(f"{path} -> {info['file']} (checked on {info['check']['random_inputs']} random "
              f"inputs: largest difference {info['check']['max_abs_difference']:.1e})")
    return 0


def _cmd_ensemble(args: argparse.Namespace) -> int:
    from .errors import ModelLoadError
    from .training import ensemble_networks

    if _no_dataset(args.data):
        return 2
    missing = [m for m in [*args.members, *(args.v_from or [])] if not Path(m).is_file()]
    if missing:
        print(f"error: model file not found: {missing[0]}", file=sys.stderr)
        return 2
    try:
        result = ensemble_networks(args.members, args.data, args.out, replaces=args.replaces,
                                   guard_paths=args.v_from, guard_class="V",
                                   same_images_as=args.same_images_as)
    except (ModelLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    card = result["card"]
    val, test = card["validation"], card["test"]
    print(f"{len(card['ensemble']['members'])} networks -> {result['model_path']}: "
          "validation accuracy "
          f"{val['accuracy']:.4f}, macro Se {val['macro_sensitivity']:.4f}; test accuracy "
          f"{test['accuracy']:.4f}, macro Se {test['macro_sensitivity']:.4f}")
    return 0


def _cmd_install(args: argparse.Namespace) -> int:
    from .errors import ModelLoadError
    from .training import install_model

    if args.replaces and not Path(args.replaces).is_file():
        print(f"error: card of the replaced model not found: {args.replaces}", file=sys.stderr)
        return 2
    try:
        card = install_model(args.run, args.target, replaces=args.replaces,
                             keep_replaced=args.keep_replaced)
    except (ModelLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    old = card.get("replaces")
    print(f"{args.target}: {card['architecture']} (created {card['created']})"
          + (f", replaces {old['name']} (created {old['created']})" if old else ""))
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from .records import download_database

    for name in args.databases:
        folder = download_database(name, Path(args.out) / name)
        print(f"{name} downloaded to {folder}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m ecg_core``."""
    p = argparse.ArgumentParser(prog="ecg-core",
                                description="CNN-based ECG beat classification (research and "
                                            "teaching; not a medical device). The same as "
                                            "`python -m ecg_core`.")
    p.add_argument("--models", metavar="DIR",
                   help="folder of trained models, in which --model names are looked up "
                        "(default: $ECG_MODELS_DIR, else the checkout's models/, else the "
                        "models installed with the package)")
    p.add_argument("--backend", choices=["auto", "keras"], default="auto",
                   help="what runs the predictions: auto (each model's LiteRT twin, without "
                        "TensorFlow, where it is current; else Keras) or keras")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build-dataset", help="render beats from WFDB records into class folders")
    b.add_argument("--mitdb", help="MIT-BIH Arrhythmia Database folder")
    b.add_argument("--cudb", help="CU Ventricular Tachyarrhythmia Database folder (VFW windows)")
    b.add_argument("--qtdb", help="QT Database folder: its annotated records join the AAMI "
                                  "protocol's training (27) and validation (9); the other 18 "
                                  "are never built in (the cross-database test)")
    b.add_argument("--out", default="data/beats", help="output folder (default data/beats)")
    b.add_argument("--seed", type=int, default=20180412)
    b.add_argument("--max-per-class", type=int, default=15000,
                   help="cap on beats per class (0: no cap); default 15000")
    b.add_argument("--records", help="comma-separated record names to use (default: all)")
    b.add_argument("--scheme", choices=["jun8", "aami"], default="jun8",
                   help="class scheme: jun8 (eight classes, mitdb + cudb) or aami (AAMI EC57 "
                        "N/S/V/F/Q from the 44 non-paced mitdb records; use --max-per-class 0)")
    b.add_argument("--plain", action="store_true",
                   help="draw every beat in the default style (no style variation)")
    b.add_argument("--drawings", type=int, default=1, metavar="N",
                   help="draw each beat N times, each in its own random style (default 1); "
                        "the extra drawings are used in training only")
    b.add_argument("--extra-styles", choices=["screen", "wide"], default="screen",
                   help="style family of the extra drawings: screen (like drawing 0) or wide "
                        "(the shared image dataset's drawing, windows of 0.4-1.6 s, fixed mV "
                        "scales with clipping, the first channel)")
    b.add_argument("--other-lead", action="store_true",
                   help="draw the extra drawings from the record's other channel (MIT-BIH: "
                        "mostly V1), so that a model learns beats on more than one lead; with "
                        "--plain, --drawings 2 draws each training beat on both leads")
    b.add_argument("--noisy-drawings", type=int, default=0, metavar="N",
                   help="draw each beat N more times from lead MLII with recorded noise added "
                        "(bw, em or ma of the noise stress test database at 24, 18, 12 or 6 "
                        "dB SNR; needs --nstdb); training only (default 0)")
    b.add_argument("--nstdb", help="MIT-BIH Noise Stress Test Database folder (noise records "
                                   "for --noisy-drawings)")
    b.add_argument("--conditioning", choices=["none", "bandpass"], default="none",
                   help="condition each record's signal before drawing: none (as recorded, "
                        "the default) or bandpass (0.5-40 Hz: baseline wander and noise "
                        "removed); models trained on the build carry it")
    b.add_argument("--vf-rr", default=DEFAULT_DETECTOR,
                   choices=["none"] + [d for d in DETECTORS if d not in TWO_LEAD_DETECTORS],
                   help="QRS detector run over each cudb record to give its VF windows the RR "
                        "intervals of the 'beats' it finds inside fibrillation, as on the "
                        "Record page (default: %(default)s); none: no RR intervals")
    b.add_argument("--workers", type=int, default=None)
    b.add_argument("--overwrite", action="store_true",
                   help="replace a dataset built with other settings")
    b.set_defaults(func=_cmd_build)

    t = sub.add_parser("train", help="train a model on a built dataset")
    t.add_argument("--arch", default="baseline,ecgnet",
                   help="architecture(s), comma-separated, trained in one run on the same "
                        "split: baseline, ecgnet, ecgnet-wide (default baseline,ecgnet)")
    t.add_argument("--data", default="data/beats")
    t.add_argument("--out", default="models",
                   help="folder for NAME.keras, NAME.card.json, NAME.history.json")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--schedule", choices=SCHEDULES, default="plateau",
                   help="learning-rate schedule: plateau (x0.3 when the validation loss "
                        "stalls) or cosine (decay over all epochs)")
    t.add_argument("--patience", type=int, default=5)
    t.add_argument("--seed", type=int, default=20180412)
    t.add_argument("--nondeterministic", action="store_true",
                   help="let TensorFlow's multi-threaded kernels add in any order (default: "
                        "deterministic ops: the same data, settings and seed give the "
                        "same weights; benchmarks/train_speed.py measures the difference)")
    t.add_argument("--protocol", choices=PROTOCOLS, default="beat",
                   help="split protocol: beat (random beats) or record (patients kept apart)")
    t.add_argument("--max-train-per-class", type=int, default=None,
                   help="keep at most this many training images per class (seeded): the cap "
                        "on the majority class; validation and test keep every beat")
    t.add_argument("--rhythm", default="",
                   help="comma-separated architectures that also take RR-interval rhythm "
                        "features as a second input (e.g. ecgnet)")
    t.add_argument("--rhythm-context", choices=["local", "record", "template"], default="local",
                   help="rhythm features: the four local ones (default); also the local "
                        "mean RR over the record's mean RR (record); or the four and the beat "
                        "compared with its record's typical beat (template)")
    t.add_argument("--class-weight", choices=CLASS_WEIGHTINGS, default="inverse",
                   help="loss weights against imbalance: inverse class frequency (default), "
                        "its square root, or none")
    t.add_argument("--prior-adjustment", choices=PRIOR_ADJUSTMENTS, default="none",
                   help="keep the outputs as trained (none, the default), or shift them from "
                        "the capped, weighted training mix toward the data's class mix as far "
                        "as the validation split says (validation)")
    t.add_argument("--input-size", type=int, default=CANONICAL_SIZE[0], metavar="PX",
                   help=f"square canonical input size in pixels (default {CANONICAL_SIZE[0]})")
    t.add_argument("--max-train", type=int, default=None,
                   help="use at most this many training images (quick runs)")
    t.add_argument("--init", default=None, metavar="MODEL.keras",
                   help="start from this model's weights (same architecture, classes and "
                        "input size) instead of random ones: fine-tuning; the card records "
                        "it with its SHA-256")
    t.set_defaults(func=_cmd_train)

    pr = sub.add_parser("predict", help="classify beat images")
    pr.add_argument("paths", nargs="+", help="image files or folders (walked for images)")
    pr.add_argument("--model", default=DEFAULT_MODEL,
                    help="model: a .keras path, or a name under the models folder such as ecgnet, "
                         "baseline, aami/ecgnet, record/ecgnet (default ecgnet)")
    pr.add_argument("--out", help="write CSV here instead of printing it")
    pr.set_defaults(func=_cmd_predict)

    ev = sub.add_parser("evaluate", help="figures of one or more models on a dataset split, "
                                         "saved as evaluation artifacts next to the models")
    ev.add_argument("--model", nargs="+", default=[DEFAULT_MODEL],
                    help="one or more models: .keras paths or names (default ecgnet)")
    ev.add_argument("--data", default="data/beats")
    ev.add_argument("--split", default="test", help="train, val, test, or all (plain folders)")
    ev.add_argument("--protocol", choices=PROTOCOLS, default=None,
                    help="split protocol (default: the one each model was trained under)")
    ev.add_argument("--out", help="folder for the artifacts (default: next to each model)")
    ev.add_argument("--table", help="also write the Markdown comparison table here")
    ev.add_argument("--by-record", action="store_true",
                    help="also print each model's figures record by record (patient by "
                         "patient), the records with the most errors first")
    ev.add_argument("--lone-images", action="store_true",
                    help="read each image alone, as the Predict page reads an uploaded beat "
                         "(no RR intervals, one lead, no readings of whole records), and write "
                         "the headline figures into the model's card (lone_image) instead of "
                         "saving artifacts")
    ev.set_defaults(func=_cmd_evaluate)

    ed = sub.add_parser("evaluate-database",
                        help="figures of one or more models on every labelled beat of another "
                             "database (patients never seen, e.g. ../shared/qtdb), saved next "
                             "to the models")
    ed.add_argument("--model", nargs="+", default=["aami/ecgnet"],
                    help="one or more models (default aami/ecgnet)")
    ed.add_argument("--database", default="../shared/qtdb",
                    help="folder of WFDB records with reference beat annotations")
    ed.add_argument("--annotations", default="atr", metavar="EXT",
                    help="annotation file extension of the reference beat labels (atr)")
    held = ed.add_mutually_exclusive_group()
    held.add_argument("--records", nargs="+", metavar="NAME",
                      help="only these records (default: every annotated record)")
    held.add_argument("--held-out", action="store_true",
                      help="only the QT Database records that no model ever trains or "
                           "validates on (ecg_core.protocols.QTDB_HELD_OUT), saved as the "
                           "'held-out' split")
    ed.add_argument("--by-record", action="store_true",
                    help="also print each model's figures record by record, the records "
                         "with the most errors first")
    ed.set_defaults(func=_cmd_evaluate_database)

    cv = sub.add_parser("cross-validate",
                        help="patient-grouped 5-fold cross-validation of a training recipe: "
                             "five models, each tested on records it never saw, predictions "
                             "pooled (every record tested once)")
    cv.add_argument("--arch", default="ecgnet", help="architecture (default ecgnet)")
    cv.add_argument("--data", default="data/beats")
    cv.add_argument("--out", default="data/runs-cv", help="folder for the five fold models")
    cv.add_argument("--attach", default=None, metavar="MODEL",
                    help="save the pooled figures next to this model (the same recipe "
                         "trained on one record split), for the Evaluation page, replacing its "
                         "cross-validation figures (record/ecgnet's are the mean of several runs: "
                         "docs/results.md); default: in --out")
    cv.add_argument("--epochs", type=int, default=10)
    cv.add_argument("--batch-size", type=int, default=64)
    cv.add_argument("--lr", type=float, default=1e-3)
    cv.add_argument("--schedule", choices=SCHEDULES, default="plateau")
    cv.add_argument("--patience", type=int, default=3)
    cv.add_argument("--seed", type=int, default=20180412)
    cv.add_argument("--nondeterministic", action="store_true",
                    help="let TensorFlow's multi-threaded kernels add in any order (default: "
                         "deterministic ops: the same data, settings and seed give the "
                         "same weights; benchmarks/train_speed.py measures the difference)")
    cv.add_argument("--rhythm", action="store_true",
                    help="the network also takes each beat's RR-interval features (as "
                         "train --rhythm ARCH)")
    cv.add_argument("--both-leads", action="store_true",
                    help="each fold model reads every test beat on both leads and averages "
                         "the two (as a card's both_leads makes the Record page read "
                         "records); needs a build with --other-lead")
    cv.add_argument("--rhythm-context", choices=["local", "record", "template"],
                    default="local",
                    help="with --rhythm: which rhythm features (as train --rhythm-context)")
    cv.add_argument("--max-train-per-class", type=int, default=None,
                    help="keep at most this many training images per class (seeded)")
    cv.add_argument("--class-weight", choices=CLASS_WEIGHTINGS, default="inverse",
                    help="loss weights against imbalance (as in train)")
    cv.add_argument("--within", choices=("all", "ds1"), default="all",
                    help="deal the folds among every record of the dataset (default), or among "
                         "the 22 AAMI DS1 records only, leaving DS2 and every other record "
                         "unseen (for an AAMI build: judge a recipe on DS1's patients)")
    cv.set_defaults(func=_cmd_cross_validate)

    ca = sub.add_parser("calibrate",
                        help="fit a temperature on a model's validation split (temperature "
                             "scaling) and write it to its card; every prediction then uses it")
    ca.add_argument("--model", nargs="+", default=[DEFAULT_MODEL],
                    help="one or more models: .keras paths or names (default ecgnet)")
    ca.add_argument("--data", default="data/beats",
                    help="the built dataset the model was trained on (its validation split)")
    ca.add_argument("--class-mix-shift", type=float, default=None, metavar="A",
                    help="first move the model's outputs toward the class mix of its training "
                         "records by A (0-1; 1 is the full correction, 0 removes a shift), "
                         "written to its card; choose A on validation records")
    ca.set_defaults(func=_cmd_calibrate)

    rb = sub.add_parser("robustness",
                        help="accuracy on the beats of a split drawn other ways: the shared "
                             "image dataset's drawing, other windows, fixed mV scales, photos "
                             "of ECG paper (and folder sets such as screenshots)")
    rb.add_argument("--model", nargs="+", default=[DEFAULT_MODEL],
                    help="one or more models: .keras paths or names (default ecgnet)")
    rb.add_argument("--data", default="data/beats", help="built dataset whose split is drawn")
    rb.add_argument("--split", default="test", choices=["val", "test"],
                    help="val (for choices) or test (for reporting); default test")
    rb.add_argument("--sets", default=None,
                    help="comma-separated drawn sets (default all): shared-dataset, "
                         "window-0.45, window-0.6, window-0.8, window-1, window-1.3, fixed-mv, "
                         "photo")
    rb.add_argument("--folder", action="append", metavar="NAME=FOLDER",
                    help="also score a folder set drawn by another tool, e.g. "
                         "screenshots=data/beats-screenshots (repeatable)")
    rb.add_argument("--mitdb", default="../shared/mitdb")
    rb.add_argument("--cudb", default="../shared/cudb")
    rb.set_defaults(func=_cmd_robustness)

    c = sub.add_parser("classify-record",
                       help="find and classify every beat of a WFDB record (any sampling rate)")
    c.add_argument("record", help="WFDB record path without extension (e.g. "
                   "../shared/mitdb/208), or a file of another format, told from its content: "
                   "EDF/EDF+/BDF, DICOM waveform, HL7 aECG, SCP-ECG, ISHNE, MFER, GE MUSE, "
                   "Philips Sierra, Mortara, AliveCor Kardia JSON, Apple Watch ECG export")
    c.add_argument("--annotations", default=None, metavar="EXT",
                   help="take beats and reference symbols from this annotation file (atr); "
                        "without it, beats are found by the QRS detector (--detector)")
    c.add_argument("--detector", choices=list(DETECTORS), default=DEFAULT_DETECTOR,
                   help=f"QRS detector where beats are not taken from annotations (default "
                        f"{DEFAULT_DETECTOR})")
    c.add_argument("--lead", default=None,
                   help="lead (channel name) to classify; default MLII where the record has "
                        "it, else its first channel. The models were trained on MLII.")
    c.add_argument("--model", default=DEFAULT_MODEL,
                   help="model: a .keras path, or a name under the models folder such as ecgnet, "
                        "baseline, aami/ecgnet, record/ecgnet (default ecgnet)")
    c.add_argument("--out", help="per-beat CSV (default: print it)")
    c.add_argument("--workers", type=int, default=_usable_cores(), metavar="N",
                   help="processes that classify the 30-minute stretches of a longer WFDB "
                        "record side by side (default: the usable CPU cores, here "
                        f"{_usable_cores()}); records of 30 minutes or less use one")
    c.add_argument("--report", metavar="PATH.html",
                   help="also write a one-page HTML report of the record (beat counts, ectopic "
                        "burden, runs, heart-rate trend, RR histogram, example strips)")
    c.set_defaults(func=_cmd_classify_record)

    cr = sub.add_parser("classify-records",
                        help="classify every record under folders on a Dask cluster (local "
                             "by default) into Parquet; resumable")
    cr.add_argument("inputs", nargs="+", help="folders (walked for .hea) and record files")
    cr.add_argument("--out", required=True, help="output folder (beats/, summary/, "
                                                 "summary.parquet)")
    cr.add_argument("--workers", type=int, default=None,
                    help="worker processes of the local cluster (default: one per core)")
    cr.add_argument("--cluster", default=None, metavar="ADDRESS",
                    help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a "
                         "local cluster)")
    cr.add_argument("--annotations", default="atr", metavar="EXT",
                    help="take beats from this annotation file where a record has one "
                         "(default atr; none: always detect them)")
    cr.add_argument("--detector", choices=list(DETECTORS), default=DEFAULT_DETECTOR,
                    help=f"QRS detector for records without annotations (default "
                         f"{DEFAULT_DETECTOR})")
    cr.add_argument("--csv-fs", type=float, default=None, metavar="HZ",
                    help="also classify CSV/TXT signal files (values in mV), sampled at HZ "
                         "unless a time column gives their rate")
    cr.add_argument("--model", default=DEFAULT_MODEL,
                    help="model: a .keras path or a name (default ecgnet)")
    cr.set_defaults(func=_cmd_classify_records)

    e = sub.add_parser("examples", help="draw a few test-split beats per class (data/examples)")
    e.add_argument("--data", default="data/beats")
    e.add_argument("--mitdb", default="../shared/mitdb")
    e.add_argument("--cudb", default="../shared/cudb")
    e.add_argument("--out", default="data/examples")
    e.add_argument("--per-class", type=int, default=3)
    e.add_argument("--model", help="keep only beats this model (path or name) classifies as "
                                   "their class")
    e.set_defaults(func=_cmd_examples)

    x = sub.add_parser("export", help="write the LiteRT twin (NAME.tflite) of each model, which "
                                      "serves predictions without TensorFlow")
    x.add_argument("--model", nargs="+",
                   help="models (paths or names); default: every model in the models folder")
    x.set_defaults(func=_cmd_export)

    en = sub.add_parser("ensemble", help="join networks of one design trained on the same "
                                         "data (different seeds or starting weights) into one "
                                         "model that averages their probabilities")
    en.add_argument("members", nargs="+",
                    help=".keras files of the networks (two or more); an ensemble among them "
                         "joins network by network")
    en.add_argument("--data", required=True, help="the dataset folder they were trained on")
    en.add_argument("--out", required=True, help="the ensemble's .keras file")
    en.add_argument("--replaces", metavar="CARD.json",
                    help="card of the model the ensemble replaces: its test figures are kept "
                         "in the new card, shown beside the ensemble's")
    en.add_argument("--v-from", nargs="+", metavar="MODEL.keras",
                    help="networks whose mean probability of V (ventricular ectopic beat) is "
                         "the ensemble's; the members then decide among the other classes "
                         "(for example, networks of the record's own rhythm context as members, "
                         "networks of local RR features deciding V)")
    en.add_argument("--same-images-as", nargs="+", metavar="SHA256",
                    help="manifest checksums of earlier builds of --data with the same images "
                         "(a rebuild that changed only other columns): networks trained on "
                         "them may join; the card records it")
    en.set_defaults(func=_cmd_ensemble)

    ins = sub.add_parser("install", help="install a trained run as a named model (e.g. "
                                         "models/ecgnet.keras), its card keeping the test "
                                         "figures of the model it replaces")
    ins.add_argument("run", help="the run's .keras file (its card, LiteRT twin and history "
                                 "beside it, as train writes them)")
    ins.add_argument("target", help="the .keras path to install as; its name is the model's")
    ins.add_argument("--replaces", metavar="CARD.json",
                     help="card of the model replaced (default: the target's card, if any)")
    ins.add_argument("--keep-replaced", metavar="CARD.json",
                     help="where to keep a copy of the replaced card, which the new card names")
    ins.set_defaults(func=_cmd_install)

    d = sub.add_parser("download", help="download PhysioNet databases (needs internet)")
    d.add_argument("databases", nargs="*", default=["mitdb", "cudb"])
    d.add_argument("--out", default="data")
    d.set_defaults(func=_cmd_download)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI. Returns the process exit status (0 done, 2 bad input, 130 interrupted).

    TensorFlow is imported only by the commands that need a model, after their arguments are
    checked, and quietly (:func:`ecg_core.backend.load_backend`).
    """
    import os

    from .model import MODELS_DIR_ENV

    args = build_parser().parse_args(argv)
    if args.models:
        if not Path(args.models).is_dir():
            print(f"error: models folder not found: {args.models}", file=sys.stderr)
            return 2
        os.environ[MODELS_DIR_ENV] = str(Path(args.models).resolve())
    try:
        return int(args.func(args))
    except ECGCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cli() -> None:
    """Entry point of the ``ecg-core`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
