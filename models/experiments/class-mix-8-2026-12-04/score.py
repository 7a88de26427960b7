"""Score the class-mix shift candidates of RULE.md on the ten validation sets.

Run from the repository root (2 CPU cores: about 15 minutes, most of it drawing):

    python tools/matplotlib_beats.py --data data/beats-wide --look screenshot --split val \
        --out data/beats-screenshots-val
    python models/experiments/class-mix-8-2026-12-04/score.py

Writes validation.json beside this file and prints the rule's table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.canonical import canonical_from_bytes  # noqa: E402
from ecg_core.dataset import drawing_of, load_split, read_manifest  # noqa: E402
from ecg_core.errors import ImageDecodeError  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.robustness import ROBUSTNESS_SETS, draw_set, split_rows  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = ROOT / "data" / "beats-wide"
SCREENSHOTS = ROOT / "data" / "beats-screenshots-val"
SOURCES = {"mitdb": ROOT.parent / "shared" / "mitdb", "cudb": ROOT.parent / "shared" / "cudb"}
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def raw(clf: Classifier, images: np.ndarray, failed=()) -> np.ndarray:
    """The model's outputs without temperature (rows of unreadable images all zero)."""
    probs = np.zeros((len(images), len(clf.class_codes)), np.float64)
    ok = np.setdiff1d(np.arange(len(images)), np.asarray(list(failed), int))
    for s in range(0, len(ok), 512):
        idx = ok[s:s + 512]
        probs[idx] = clf.predict_canonical(images[idx], calibrated=False)
    return probs


def figures(y: np.ndarray, probs: np.ndarray, codes) -> dict:
    pred = np.where(probs.sum(1) > 0, probs.argmax(1), -1)
    se = {c: float((pred[y == i] == i).mean()) for i, c in enumerate(codes) if (y == i).any()}
    return {"accuracy": float((pred == y).mean()), "macro_se": float(np.mean(list(se.values()))),
            "se": se, "support": {c: int((y == i).sum()) for i, c in enumerate(codes)},
            "veb_found": int(((pred == y) & (y == list(codes).index("VEB"))).sum())}


def main() -> int:
    clf = Classifier.load(ROOT / "models" / "ecgnet.keras")
    assert not clf.card.get("prior_shift"), "the committed card already holds a shift"
    codes = list(clf.class_codes)
    ratio, info = class_mix_log_ratio(clf.card, DATA)
    sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    x, y, _ = load_split(DATA, "val", "beat", size=clf.input_size)
    sets["styled"] = (y, raw(clf, x))
    rows = split_rows(DATA, "val")
    labels = np.array([codes.index(r["label"]) for r in rows])
    for name in ROBUSTNESS_SETS:
        images, failed = draw_set(name, rows, SOURCES, size=tuple(clf.input_size))
        sets[name] = (labels, raw(clf, images, failed))
        print(f"{name}: drawn", flush=True)
    shot_rows = [r for r in read_manifest(SCREENSHOTS)
                 if r["split"] == "val" and drawing_of(r) == 0]
    images = np.zeros((len(shot_rows), *clf.input_size), np.uint8)
    failed = []
    for i, r in enumerate(shot_rows):
        try:
            images[i] = canonical_from_bytes((SCREENSHOTS / r["image"]).read_bytes(),
                                             tuple(clf.input_size))
        except ImageDecodeError:
            failed.append(i)
    sets["screenshots"] = (np.array([codes.index(r["label"]) for r in shot_rows]),
                           raw(clf, images, failed))
    out = {"model": "models/ecgnet.keras (committed, three networks)", "data": str(DATA),
           "class_mix": info, "candidates": {}}
    for a in STRENGTHS:
        per_set = {}
        for name, (yy, p) in sets.items():
            q = shift_probabilities(p, a * ratio) if a else p
            q[p.sum(1) == 0] = 0  # unreadable images stay wrong
            per_set[name] = figures(yy, q, codes)
        out["candidates"][str(a)] = {
            "V": float(np.mean([f["accuracy"] for f in per_set.values()])), "sets": per_set}
    base = out["candidates"]["0.0"]
    print("| a | V | " + " | ".join(sets) + " | styled macro Se | VEB found | guards |")
    print("|---|---:|" + "---:|" * len(sets) + "---:|---:|---|")
    for a in STRENGTHS:
        c = out["candidates"][str(a)]
        fails = []
        if c["sets"]["styled"]["macro_se"] < base["sets"]["styled"]["macro_se"] - 0.005:
            fails.append("G1")
        for name, f in c["sets"].items():
            b = base["sets"][name]
            for code, se in f["se"].items():
                if f["support"][code] >= 100 and se < b["se"][code] - 0.03:
                    fails.append(f"G2 {name} {code} {100 * (se - b['se'][code]):+.1f}")
        if c["sets"]["styled"]["veb_found"] < base["sets"]["styled"]["veb_found"] - 1:
            fails.append("G2 VEB")
        c["guards_failed"] = fails
        print(f"| {a:g} | {100 * c['V']:.2f} | "
              + " | ".join(f"{100 * f['accuracy']:.2f}" for f in c["sets"].values())
              + f" | {100 * c['sets']['styled']['macro_se']:.2f} | "
              f"{c['sets']['styled']['veb_found']} | {'; '.join(fails) or 'pass'} |")
    passing = [a for a in STRENGTHS[1:] if not out["candidates"][str(a)]["guards_failed"]]
    best = None
    if passing:
        top = max(out["candidates"][str(a)]["V"] for a in passing)
        best = min(a for a in passing if out["candidates"][str(a)]["V"] >= top - 1e-4)
        if out["candidates"][str(best)]["V"] < base["V"] + 0.0015:
            best = None
    out["decision"] = {"adopt": best}
    print(f"decision: {'a = ' + format(best, 'g') if best is not None else 'keep the committed model'}")
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
