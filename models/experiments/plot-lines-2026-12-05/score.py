"""Score RULE.md's change to the canonical form on validation. Run from the repository root
with the change in place (2 CPU cores: about 10 minutes, most of it drawing the sets again):

    python models/experiments/plot-lines-2026-12-05/score.py

Reads the canonical images that ``../wide-network-2026-12-04/score.py`` cached with the code
before the change (``data/wide-network-val-sets.npz``), computes them again with the code now
in ``ecg_core.canonical``, counts the images that changed and scores the committed ``ecgnet``
(Keras, no temperature) on both. Also compares 20,000 training images of ``data/beats-wide``
(their cached canonical forms against the forms computed now) and the bundled examples
(against the code before the change, kept here as ``_thin_before``). Writes validation.json.
"""

from __future__ import annotations

import json
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core import canonical  # noqa: E402
from ecg_core.canonical import canonical_from_bytes  # noqa: E402
from ecg_core.dataset import drawing_of, load_split, read_manifest  # noqa: E402
from ecg_core.errors import ImageDecodeError  # noqa: E402
from ecg_core.robustness import draw_set, split_rows  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = ROOT / "data" / "wide-network-val-sets.npz"
DATA = ROOT / "data" / "beats"
TRAINING_DATA = ROOT / "data" / "beats-wide"
SHOTS = ROOT / "data" / "beats-screenshots-val"
EXAMPLES = ROOT / "data" / "examples"
SOURCES = {"mitdb": ROOT.parent / "shared" / "mitdb", "cudb": ROOT.parent / "shared" / "cudb"}
DRAWN = ["shared-dataset", "window-0.45", "window-0.6", "window-0.8", "window-1", "window-1.3",
         "fixed-mv", "photo"]
TRAIN_IMAGES, TRAIN_SEED = 20_000, 20180414


def _thin_before(runs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``canonical._thin`` as it was before the change (ink 3 px above or below: no line)."""
    out = runs.copy()
    h = mask.shape[0]
    for r in np.flatnonzero(runs.any(axis=1)):
        cols = runs[r]
        above = mask[r - canonical._LINE_GAP, cols].mean() if r >= canonical._LINE_GAP else 0.0
        below = mask[r + canonical._LINE_GAP, cols].mean() \
            if r + canonical._LINE_GAP < h else 0.0
        if above > 0.5 or below > 0.5:
            out[r] = False
    return out


def _forms(paths: list[Path]) -> tuple[np.ndarray, list[int]]:
    images = np.zeros((len(paths), *canonical.CANONICAL_SIZE), np.uint8)
    failed = []
    for i, p in enumerate(paths):
        try:
            images[i] = canonical_from_bytes(p.read_bytes())
        except ImageDecodeError:
            failed.append(i)
    return images, failed


def _draw(name: str) -> tuple[str, np.ndarray, list[int]]:
    images, failed = draw_set(name, split_rows(DATA, "val"), SOURCES)
    return name, images, failed


def _probabilities(model, images: np.ndarray, failed) -> np.ndarray:
    """The network's probabilities, read as the third cycle's ``score.py`` reads them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "wide_third_score", HERE.parent / "wide-third-cycle-2026-12-04" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.probabilities(model, images, failed)


def main() -> int:
    z = np.load(CACHE)
    before = {n: (z[f"{n}/y"], z[f"{n}/x"], list(z[f"{n}/failed"]))
              for n in json.loads(str(z["names"]))}
    now = {}
    with ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(_draw, n) for n in DRAWN]
        _, _, rows = load_split(DATA, "val")
        now["styled"] = _forms([DATA / r["image"] for r in rows]) + (None,)
        shot_rows = [r for r in read_manifest(SHOTS) if r["split"] == "val"
                     and drawing_of(r) == 0]
        now["screenshots"] = _forms([SHOTS / r["image"] for r in shot_rows]) + (None,)
        x_train, _, train_rows = load_split(TRAINING_DATA, "train")
        pick = np.sort(np.random.default_rng(TRAIN_SEED).choice(len(x_train), TRAIN_IMAGES,
                                                                replace=False))
        train_now, train_failed = _forms([TRAINING_DATA / train_rows[i]["image"] for i in pick])
        for job in jobs:
            name, images, failed = job.result()
            now[name] = (images, failed, None)
            print("drawn", name, flush=True)
    examples = sorted(p for p in EXAMPLES.rglob("*") if p.suffix.lower() in (".png", ".jpg"))
    ex_now, _ = _forms(examples)
    thin = canonical._thin
    canonical._thin = _thin_before
    ex_before, _ = _forms(examples)
    canonical._thin = thin

    from ecg_core.backend import load_backend

    load_backend()
    import keras

    warnings.filterwarnings("ignore", message=".*structure of `inputs`")
    model = keras.saving.load_model(ROOT / "models" / "ecgnet.keras")
    out = {"model": "models/ecgnet.keras", "sets": {}}
    for name, (y, x_before, failed_before) in before.items():
        x_now, failed_now, _ = now[name]
        changed = int(np.sum(np.any(x_now != x_before, axis=(1, 2))))
        acc = {}
        for tag, x, failed in (("before", x_before, failed_before), ("now", x_now, failed_now)):
            pred = _probabilities(model, x, failed).argmax(axis=1)
            right = (pred == y)
            right[np.asarray(list(failed), int)] = False
            acc[tag] = float(right.mean())
        out["sets"][name] = {"images": int(len(y)), "changed": changed,
                             "failed_before": len(failed_before), "failed_now": len(failed_now),
                             "accuracy_before": acc["before"], "accuracy_now": acc["now"]}
        print(name, out["sets"][name], flush=True)
    train_changed = int(np.sum(np.any(train_now != x_train[pick], axis=(1, 2))))
    out["training_images"] = {"data": str(TRAINING_DATA.relative_to(ROOT)), "count": TRAIN_IMAGES,
                              "seed": TRAIN_SEED, "changed": train_changed,
                              "failed": len(train_failed)}
    out["examples"] = {"count": len(examples),
                       "changed": int(np.sum(np.any(ex_now != ex_before, axis=(1, 2))))}
    print("training", out["training_images"], "examples", out["examples"])
    own = ["styled", "shared-dataset", "window-0.45", "window-0.6", "window-0.8", "window-1",
           "window-1.3", "fixed-mv"]
    s, p = out["sets"]["screenshots"], out["sets"]["photo"]
    out["checks"] = {
        "1 screenshots": s["accuracy_now"] >= s["accuracy_before"],
        "2 own drawings unchanged": all(out["sets"][n]["changed"] == 0 for n in own)
        and train_changed == 0 and out["examples"]["changed"] == 0,
        "3 photos": p["accuracy_now"] >= p["accuracy_before"] - 0.0005}
    out["kept"] = all(out["checks"].values())
    print(json.dumps(out["checks"], indent=1), "kept:", out["kept"])
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
