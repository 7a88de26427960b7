"""Score RULE.md's candidate C (the committed wide network trained a second cosine cycle)
against W (the committed network) on the ten validation sets. Run from the repository root
after the training run of RULE.md (2 CPU cores: about 3 minutes):

    python models/experiments/wide-continued-2026-12-04/score.py

The ten sets are the cached canonical images that `../wide-network-2026-12-04/score.py` drew
(`data/wide-network-val-sets.npz`; that script with `--draw-only` draws them again, about 10
minutes). Writes validation.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.model import Classifier  # noqa: E402

HERE = Path(__file__).resolve().parent
COMMITTED = ROOT / "models" / "ecgnet.keras"
NEW = ROOT / "data" / "runs-wide-continued" / "ecgnet-wide.keras"
CACHE = ROOT / "data" / "wide-network-val-sets.npz"


def _drawing_script():
    """``../wide-network-2026-12-04/score.py``, which drew the cached sets: its ``raw`` reads
    them, and its ``figures`` counts them, the same way here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "wide_network_score", HERE.parent / "wide-network-2026-12-04" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_earlier = _drawing_script()
raw = _earlier.raw  # probabilities without temperature; zero rows where no canonical form


def figures(y: np.ndarray, probs: np.ndarray, codes) -> dict:
    """The earlier script's accuracy, macro Se and Se per class, and the number of errors (a
    row without a canonical form counts as one)."""
    pred = np.where(probs.sum(1) > 0, probs.argmax(1), -1)
    return {**_earlier.figures(y, probs, codes), "errors": int((pred != y).sum())}


def main() -> int:
    if not CACHE.exists():
        raise SystemExit(f"{CACHE} is missing: run "
                         "models/experiments/wide-network-2026-12-04/score.py --draw-only")
    z = np.load(CACHE)
    sets = {n: (z[f"{n}/y"], z[f"{n}/x"], list(z[f"{n}/failed"]))
            for n in json.loads(str(z["names"]))}
    w, c = Classifier.load(COMMITTED), Classifier.load(NEW)
    codes = list(w.class_codes)
    assert list(c.class_codes) == codes and w.card["training"]["arch"] == "ecgnet-wide"
    out = {"committed": str(COMMITTED.relative_to(ROOT)), "new_network": str(NEW.relative_to(ROOT)),
           "new_card": c.card.get("training"), "sets": {}}
    for name, (y, images, failed) in sets.items():
        out["sets"][name] = {"W": figures(y, raw(w, images, failed), codes),
                             "C": figures(y, raw(c, images, failed), codes)}
        print(name, {k: round(100 * v["accuracy"], 2) for k, v in out["sets"][name].items()},
              flush=True)
    drawn = [n for n in out["sets"] if n != "styled"]
    mean = {m: float(np.mean([out["sets"][n][m]["accuracy"] for n in drawn])) for m in ("W", "C")}
    out["mean_of_nine"] = mean
    s = {m: out["sets"]["styled"][m] for m in ("W", "C")}
    acc = {m: {n: out["sets"][n][m]["accuracy"] for n in out["sets"]} for m in ("W", "C")}
    out["checks"] = {
        "1 accuracy": s["C"]["accuracy"] >= s["W"]["accuracy"],
        "2 macro Se": s["C"]["macro_se"] >= s["W"]["macro_se"] - 0.001,
        "3 mean of the nine drawn sets": mean["C"] >= mean["W"] + 0.001,
        "4 window-0.45": acc["C"]["window-0.45"] >= acc["W"]["window-0.45"] - 0.002,
        "5 screenshots": acc["C"]["screenshots"] >= acc["W"]["screenshots"]}
    out["qualifies"] = all(out["checks"].values())
    print("mean of the nine:", {k: round(100 * v, 3) for k, v in mean.items()})
    print("styled:", {k: (round(100 * v["accuracy"], 2), round(100 * v["macro_se"], 2))
                      for k, v in s.items()})
    print(json.dumps(out["checks"], indent=1))
    print("C qualifies (speed check next):" if out["qualifies"] else "C does not qualify:",
          out["qualifies"])
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
