"""Stated window or not: validation accuracy of the committed ecgnet on drawn sets.

Run from the repository root: python models/experiments/stated-window-2026-11-27/measure.py
(needs data/beats-wide's manifest and ../shared/mitdb, ../shared/cudb). See RULE.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.model import Classifier  # noqa: E402
from ecg_core.robustness import draw_set, score, split_rows  # noqa: E402

def rescale_window(canonical: np.ndarray, window_s: float,
                   reference_s: float = 1.0) -> np.ndarray:
    """Put a canonical image drawn over ``window_s`` seconds at the time scale of one drawn
    over ``reference_s`` (the default drawing: 1 s), for an image whose window is known.

    The canonical form stretches the trace to the full width, so a beat drawn over 0.53 s
    looks twice as wide in time as the same beat over 1 s. Knowing the window undoes that: a
    shorter window is shrunk to ``window_s / reference_s`` of the width and centred on black
    (no trace beyond what was drawn); a longer one keeps its middle ``reference_s``.

    Args:
        canonical: uint8 array, shape (H, W), from :func:`canonical_form`.
        window_s: the time the image shows, in s (0.1-5).
        reference_s: the time scale to bring it to, in s.

    Returns:
        uint8 array, shape (H, W).

    Raises:
        ValueError: if ``window_s`` is outside 0.1-5 s.
    """
    if not 0.1 <= window_s <= 5.0:
        raise ValueError(f"A window of {window_s} s is outside 0.1-5 s.")
    h, w = canonical.shape
    ratio = window_s / reference_s
    if abs(ratio - 1.0) < 1e-6:
        return canonical
    if ratio < 1.0:
        new_w = max(2, int(round(w * ratio)))
        small = cv2.resize(canonical, (new_w, h), interpolation=cv2.INTER_AREA)
        out = np.zeros_like(canonical)
        left = (w - new_w) // 2
        out[:, left:left + new_w] = small
        return out
    keep = max(2, int(round(w / ratio)))
    left = (w - keep) // 2
    return cv2.resize(canonical[:, left:left + keep], (w, h), interpolation=cv2.INTER_LINEAR)


SETS = {"window-0.45": 0.45, "window-0.6": 0.6, "window-0.8": 0.8, "window-1.3": 1.3,
        "shared-dataset": 0.533}


def main() -> int:
    clf = Classifier.load(ROOT / "models" / "ecgnet.keras")
    rows = split_rows(ROOT / "data" / "beats-wide", "val")
    labels = np.array([clf.class_codes.index(r["label"]) for r in rows])
    sources = {"mitdb": ROOT.parent / "shared" / "mitdb", "cudb": ROOT.parent / "shared" / "cudb"}
    out = {}
    for name, window in SETS.items():
        images, failed = draw_set(name, rows, sources, size=clf.input_size)
        plain = score(clf, images, labels, failed)
        stated = score(clf, np.stack([rescale_window(im, window) for im in images]), labels,
                       failed)
        out[name] = {"window_s": window, "as_today": plain["accuracy"],
                     "window_stated": stated["accuracy"]}
        print(f"{name}: as today {100 * plain['accuracy']:.2f}%, window stated "
              f"{100 * stated['accuracy']:.2f}%", flush=True)
    (Path(__file__).parent / "result.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
