"""Score the canonical-form candidates of RULE.md on the validation screenshots.

Run from the repository root (2 CPU cores, about 5 minutes):

    python tools/matplotlib_beats.py --data data/beats-wide --look screenshot --split val \
        --out data/beats-screenshots-val
    python models/experiments/grid-remnants-2026-12-04/score.py

The candidates are written here as variants of the committed
``ecg_core.canonical.remove_plot_furniture`` (the same steps, only the erasing differs) and
swapped in while each is read. Writes validation.json beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core import canonical as C  # noqa: E402
from ecg_core.dataset import drawing_of, read_manifest  # noqa: E402
from ecg_core.errors import ImageDecodeError  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.robustness import draw_set, split_rows  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = ROOT / "data" / "beats-wide"
SHOTS = ROOT / "data" / "beats-screenshots-val"
SOURCES = {"mitdb": ROOT.parent / "shared" / "mitdb", "cudb": ROOT.parent / "shared" / "cudb"}
COMMITTED = C.remove_plot_furniture


def variant(mode: str):
    """remove_plot_furniture with the erasing of candidate C1 or C2."""

    def remove(ink: np.ndarray) -> np.ndarray:
        lines = C.plot_lines(ink)
        if not lines.any():
            return ink
        trace = (ink >= C._INK_THRESHOLD) & ~lines
        if not trace.any():
            return ink
        near = cv2.dilate(trace.astype(np.uint8), np.ones((5, 5), np.uint8))
        n, labels = cv2.connectedComponents(near, connectivity=8)
        sizes = np.bincount(labels[trace], minlength=n)
        sizes[0] = 0
        pieces = np.isin(labels, np.flatnonzero(sizes >= C._KEEP_PIECE * sizes.max())) & trace
        ys, xs = np.nonzero(pieces)
        border = cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if mode == "C1":
            erase = border
        else:  # C2: the line itself, and weak ink beside it
            erase = lines | (border & (ink < C._INK_THRESHOLD))
        out = np.zeros_like(ink)
        box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        out[box] = np.where(erase[box], 0.0, ink[box])
        peak = float(out.max())
        return out / peak if peak > 0 else ink

    return remove


def canon_folder(rows, size):
    images = np.zeros((len(rows), *size), np.uint8)
    failed = []
    for i, r in enumerate(rows):
        try:
            images[i] = C.canonical_from_bytes((SHOTS / r["image"]).read_bytes(), size)
        except ImageDecodeError:
            failed.append(i)
    return images, failed


def main() -> int:
    clf = Classifier.load(ROOT / "models" / "ecgnet.keras")
    codes = list(clf.class_codes)
    size = tuple(clf.input_size)
    rows = [r for r in read_manifest(SHOTS) if r["split"] == "val" and drawing_of(r) == 0]
    y = np.array([codes.index(r["label"]) for r in rows])
    out: dict = {"model": "models/ecgnet.keras (committed)", "set": str(SHOTS), "n": len(y),
                 "candidates": {}, "unchanged_elsewhere": {}}
    check_rows = split_rows(DATA, "val")
    reference = {}
    for mode in ("C0", "C1", "C2"):
        C.remove_plot_furniture = COMMITTED if mode == "C0" else variant(mode)
        images, failed = canon_folder(rows, size)
        probs = np.zeros((len(y), len(codes)))
        ok = np.setdiff1d(np.arange(len(y)), np.asarray(failed, int))
        for s in range(0, len(ok), 512):
            probs[ok[s:s + 512]] = clf.predict_canonical(images[ok[s:s + 512]])
        pred = np.where(probs.sum(1) > 0, probs.argmax(1), -1)
        se = {c: float((pred[y == i] == i).mean()) for i, c in enumerate(codes) if (y == i).any()}
        out["candidates"][mode] = {"accuracy": float((pred == y).mean()),
                                   "macro_se": float(np.mean(list(se.values()))), "se": se,
                                   "unreadable": len(failed)}
        # images without a frame or grid: the same canonical form to the byte
        same = {}
        styled = np.stack([C.canonical_from_bytes((DATA / r["image"]).read_bytes(), size)
                           for r in check_rows])  # the built images, read afresh
        for name in ("shared-dataset", "photo"):
            drawn, _ = draw_set(name, check_rows, SOURCES, size=size)
            if mode == "C0":
                reference[name] = drawn
            same[name] = bool(np.array_equal(drawn, reference[name]))
        if mode == "C0":
            reference["styled"] = styled
        same["styled (canonical form of the built images)"] = bool(
            np.array_equal(styled, reference["styled"]))
        out["unchanged_elsewhere"][mode] = same
        print(mode, out["candidates"][mode]["accuracy"], out["candidates"][mode]["macro_se"],
              same, flush=True)
    C.remove_plot_furniture = COMMITTED
    c0 = out["candidates"]["C0"]
    best = max(("C1", "C2"), key=lambda m: (round(out["candidates"][m]["accuracy"], 4),
                                            m == "C1"))
    b = out["candidates"][best]
    adopt = (b["accuracy"] >= c0["accuracy"] + 0.001 and b["macro_se"] >= c0["macro_se"] - 0.003
             and all(out["unchanged_elsewhere"][best].values()))
    out["decision"] = {"best": best, "adopt": adopt}
    print(f"best {best}; {'adopt' if adopt else 'keep C0'}")
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
