"""Score RULE.md's candidates (W: the wide network alone; W+3: it and the committed three
networks averaged) on the validation split. Run from the repository root after the training
run of RULE.md (2 CPU cores: about 10 minutes, most of it drawing):

    python models/experiments/wide-network-2026-12-04/score.py [--draw-only]

The committed `ecgnet` averages its three networks' probabilities, so W+3 is (3 x its output +
the wide network's) / 4, before any temperature. Writes validation.json.
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
NEW = ROOT / "data" / "runs-wide-net-s20180412" / "ecgnet-wide.keras"
CACHE = ROOT / "data" / "wide-network-val-sets.npz"
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


def drawn_sets(codes: list[str], size: tuple[int, int]) -> dict:
    """The ten validation sets as (labels, canonical images, unreadable rows), drawn once and
    kept in data/ (git-ignored) so that a second scoring does not redraw them."""
    if CACHE.exists():
        z = np.load(CACHE)
        return {n: (z[f"{n}/y"], z[f"{n}/x"], list(z[f"{n}/failed"]))
                for n in json.loads(str(z["names"]))}
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
    np.savez(CACHE, names=json.dumps(list(sets)),
             **{f"{n}/{k}": v for n, (yy, xx, ff) in sets.items()
                for k, v in (("y", yy), ("x", xx), ("failed", np.asarray(ff, int)))})
    return sets


def main() -> int:
    three = Classifier.load(ROOT / "models" / "ecgnet.keras")
    codes = list(three.class_codes)
    size = tuple(three.input_size)
    sets = drawn_sets(codes, size)
    if "--draw-only" in sys.argv:
        return 0
    new = Classifier.load(NEW)
    assert list(new.class_codes) == codes
    out = {"new_network": str(NEW.relative_to(ROOT)), "new_card": new.card.get("training"),
           "sets": {}}
    for name, (yy, imgs, failed) in sets.items():
        p3 = raw(three, imgs, failed)
        pw = raw(new, imgs, failed)
        out["sets"][name] = {"three": figures(yy, p3, codes), "W": figures(yy, pw, codes),
                             "W+3": figures(yy, (3 * p3 + pw) / 4, codes)}
        print(name, {k: round(100 * v["accuracy"], 2) for k, v in out["sets"][name].items()},
              flush=True)
    drawn = [n for n in out["sets"] if n != "styled"]
    models = ("three", "W", "W+3")
    mean = {m: float(np.mean([out["sets"][n][m]["accuracy"] for n in drawn])) for m in models}
    out["mean_of_nine"] = mean
    s3, w3 = out["sets"]["styled"]["three"], out["sets"]["window-0.45"]["three"]
    shot3 = out["sets"]["screenshots"]["three"]
    out["checks"] = {}
    for m in ("W", "W+3"):
        s, w = out["sets"]["styled"][m], out["sets"]["window-0.45"][m]
        out["checks"][m] = {
            "1 accuracy": s["accuracy"] >= s3["accuracy"],
            "2 macro Se": s["macro_se"] >= s3["macro_se"] - 0.001,
            "3 mean of the nine drawn sets": mean[m] >= mean["three"] + 0.001,
            "4 window-0.45": w["accuracy"] >= w3["accuracy"] - 0.002,
            "5 screenshots": out["sets"]["screenshots"][m]["accuracy"] >= shot3["accuracy"]}
    qualify = [m for m in ("W", "W+3") if all(out["checks"][m].values())]
    adopt = None
    if qualify:
        adopt = max(qualify, key=lambda m: mean[m])
        if adopt == "W+3" and "W" in qualify and mean["W+3"] < mean["W"] + 0.0002:
            adopt = "W"
    out["qualify"] = qualify
    out["adopt_if_fast_enough"] = adopt
    print("mean of the nine:", {k: round(100 * v, 3) for k, v in mean.items()})
    print("styled:", {k: (round(100 * v["accuracy"], 2), round(100 * v["macro_se"], 2))
                      for k, v in out["sets"]["styled"].items()})
    print(json.dumps(out["checks"], indent=1))
    print("qualifying:", qualify, "-> adopt (speed check next):", adopt)
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
