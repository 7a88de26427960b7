"""Score RULE.md's candidate (the committed three networks and a fourth, averaged) on the
validation split. Run from the repository root after the training run of RULE.md:

    python models/experiments/wide-four-2026-12-04/score.py

The committed `ecgnet` averages its three networks' probabilities, so the four-network average
is (3 x its output + the new network's) / 4, before any temperature. Writes validation.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.canonical import canonical_from_bytes  # noqa: E402
from ecg_core.dataset import drawing_of, load_split, read_manifest  # noqa: E402
from ecg_core.errors import ImageDecodeError  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.robustness import ROBUSTNESS_SETS, draw_set, split_rows  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = ROOT / "data" / "beats-wide"
SHOTS = ROOT / "data" / "beats-screenshots-val"
NEW = ROOT / "data" / "runs-wide-scratch-s20180415" / "ecgnet.keras"
SOURCES = {"mitdb": ROOT.parent / "shared" / "mitdb", "cudb": ROOT.parent / "shared" / "cudb"}


def raw(clf: Classifier, images: np.ndarray, failed=()) -> np.ndarray:
    probs = np.zeros((len(images), len(clf.class_codes)), np.float64)
    ok = np.setdiff1d(np.arange(len(images)), np.asarray(list(failed), int))
    for s in range(0, len(ok), 512):
        probs[ok[s:s + 512]] = clf.predict_canonical(images[ok[s:s + 512]], calibrated=False)
    return probs


def figures(y: np.ndarray, probs: np.ndarray, codes) -> dict:
    pred = np.where(probs.sum(1) > 0, probs.argmax(1), -1)
    se = {c: float((pred[y == i] == i).mean()) for i, c in enumerate(codes) if (y == i).any()}
    return {"accuracy": float((pred == y).mean()), "macro_se": float(np.mean(list(se.values()))),
            "se": se}


def main() -> int:
    three = Classifier.load(ROOT / "models" / "ecgnet.keras")
    new = Classifier.load(NEW)
    codes = list(three.class_codes)
    assert list(new.class_codes) == codes
    size = tuple(three.input_size)
    sets = {}
    x, y, _ = load_split(DATA, "val", "beat", size=size)
    sets["styled"] = (y, x, [])
    rows = split_rows(DATA, "val")
    labels = np.array([codes.index(r["label"]) for r in rows])
    for name in ROBUSTNESS_SETS:
        images, failed = draw_set(name, rows, SOURCES, size=size)
        sets[name] = (labels, images, failed)
    shot_rows = [r for r in read_manifest(SHOTS) if r["split"] == "val" and drawing_of(r) == 0]
    images = np.zeros((len(shot_rows), *size), np.uint8)
    failed = []
    for i, r in enumerate(shot_rows):
        try:
            images[i] = canonical_from_bytes((SHOTS / r["image"]).read_bytes(), size)
        except ImageDecodeError:
            failed.append(i)
    sets["screenshots"] = (np.array([codes.index(r["label"]) for r in shot_rows]), images, failed)
    out = {"new_network": str(NEW.relative_to(ROOT)), "new_card": new.card.get("training"),
           "sets": {}}
    for name, (yy, imgs, failed) in sets.items():
        p3 = raw(three, imgs, failed)
        pn = raw(new, imgs, failed)
        p4 = (3 * p3 + pn) / 4
        out["sets"][name] = {"three": figures(yy, p3, codes), "new alone": figures(yy, pn, codes),
                             "four": figures(yy, p4, codes)}
        print(name, {k: round(100 * v["accuracy"], 2) for k, v in out["sets"][name].items()},
              flush=True)
    drawn = [n for n in out["sets"] if n != "styled"]
    mean = {m: float(np.mean([out["sets"][n][m]["accuracy"] for n in drawn]))
            for m in ("three", "new alone", "four")}
    s3, s4 = out["sets"]["styled"]["three"], out["sets"]["styled"]["four"]
    w3, w4 = out["sets"]["window-0.45"]["three"], out["sets"]["window-0.45"]["four"]
    checks = {"1 accuracy": s4["accuracy"] >= s3["accuracy"],
              "2 macro Se": s4["macro_se"] >= s3["macro_se"] - 0.001,
              "3 mean of the nine drawn sets": mean["four"] >= mean["three"] + 0.001,
              "4 window-0.45": w4["accuracy"] >= w3["accuracy"] - 0.002}
    out["mean_of_nine"] = mean
    out["checks"] = checks
    out["adopt"] = all(checks.values())
    print("mean of the nine:", {k: round(100 * v, 3) for k, v in mean.items()})
    print("styled:", {k: (round(100 * v["accuracy"], 2), round(100 * v["macro_se"], 2))
                      for k, v in out["sets"]["styled"].items()})
    print(checks, "adopt" if out["adopt"] else "keep the committed model")
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
