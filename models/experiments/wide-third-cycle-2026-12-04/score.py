"""Make and score RULE.md's candidates against C (the committed network) on the ten validation
sets. Run from the repository root after the training run of RULE.md (2 CPU cores: about
6 minutes):

    python models/experiments/wide-third-cycle-2026-12-04/score.py

Candidates: C3 (the third cycle's network), A2 (C's and C3's weights averaged) and A3 (W's, C's
and C3's weights averaged); the averaged networks get batch-normalisation statistics
recomputed on 20,000 training images (stochastic weight averaging, Izmailov et al. 2018) and
are written beside C3 as ``A2.keras`` and ``A3.keras``. The ten sets are the cached canonical
images that ``../wide-network-2026-12-04/score.py`` drew (``data/wide-network-val-sets.npz``;
that script with ``--draw-only`` draws them again, about 10 minutes). Every network is read the
same way, by Keras, without temperature. Writes validation.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.backend import load_backend  # noqa: E402
from ecg_core.dataset import load_split  # noqa: E402

HERE = Path(__file__).resolve().parent
COMMITTED = ROOT / "models" / "ecgnet.keras"
RUN = ROOT / "data" / "runs-wide-third"
NEW = RUN / "ecgnet-wide.keras"
FIRST = ROOT / "data" / "runs-wide-net-s20180412" / "ecgnet-wide.keras"
CACHE = ROOT / "data" / "wide-network-val-sets.npz"
TRAINING_DATA = ROOT / "data" / "beats-wide"
BN_IMAGES, BN_SEED = 20_000, 20180414


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bn_images() -> tuple[np.ndarray, list[str]]:
    """RULE.md's 20,000 training images (uint8 (n, 64, 64, 1)) and their file names."""
    x, _, rows = load_split(TRAINING_DATA, "train", progress=True)
    pick = np.sort(np.random.default_rng(BN_SEED).choice(len(x), BN_IMAGES, replace=False))
    return x[pick][..., None], [rows[i]["image"] for i in pick]


def averaged(models: list, images: np.ndarray):
    """A network of the members' architecture with their weights averaged and each batch-
    normalisation layer's moving statistics recomputed, in layer order, as the mean and
    (population) variance of its inputs over ``images``."""
    import keras

    out = keras.models.clone_model(models[0])
    out.set_weights([np.mean(ws, axis=0) for ws in zip(*(m.get_weights() for m in models))])
    for layer in out.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        probe = keras.Model(out.inputs, layer.input)
        s = s2 = 0.0
        for b in range(0, len(images), 500):
            a = np.asarray(probe(images[b:b + 500], training=False), np.float64)
            s = s + a.sum(axis=(0, 1, 2))
            s2 = s2 + (a ** 2).sum(axis=(0, 1, 2))
        n = len(images) * a.shape[1] * a.shape[2]
        mean = s / n
        layer.moving_mean.assign(mean.astype(np.float32))
        layer.moving_variance.assign(np.maximum(s2 / n - mean ** 2, 0.0).astype(np.float32))
    return out


def probabilities(model, images: np.ndarray, failed) -> np.ndarray:
    """The network's probabilities, float64 (n, 8); zero rows where no canonical form."""
    probs = np.zeros((len(images), model.output_shape[-1]), np.float64)
    ok = np.setdiff1d(np.arange(len(images)), np.asarray(list(failed), int))
    for s in range(0, len(ok), 512):
        idx = ok[s:s + 512]
        probs[idx] = np.asarray(model(images[idx][..., None], training=False))
    return probs


def _earlier_figures():
    """``figures(y, probs, codes)`` of the second cycle's ``score.py``, so that both rules
    count accuracy, macro Se and errors the same way (a row without a canonical form is an
    error)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "wide_continued_score", HERE.parent / "wide-continued-2026-12-04" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.figures


figures = _earlier_figures()


def score(out: dict, nets: dict, sets: dict, scored: list[str], codes: list[str]) -> None:
    """Each network of ``scored`` on each cached validation set, into ``out["sets"]``."""
    for name, (y, images, failed) in sets.items():
        out["sets"][name] = {m: figures(y, probabilities(nets[m], images, failed), codes)
                             for m in scored}
        print(name, {k: round(100 * v["accuracy"], 2) for k, v in out["sets"][name].items()},
              flush=True)


def decide(out: dict, base: str, candidates: list[str]) -> None:
    """RULE.md's five conditions for each candidate against the committed network ``base``,
    and the choice among those that meet them, from ``out["sets"]`` into ``out``
    (``mean_of_nine``, ``checks``, ``chosen``); the fourth cycle's rule reuses it."""
    scored = [base] + candidates
    drawn = [n for n in out["sets"] if n != "styled"]
    mean = {m: float(np.mean([out["sets"][n][m]["accuracy"] for n in drawn])) for m in scored}
    out["mean_of_nine"] = mean
    acc = {m: {n: out["sets"][n][m]["accuracy"] for n in out["sets"]} for m in scored}
    mse = {m: out["sets"]["styled"][m]["macro_se"] for m in scored}
    out["checks"] = {m: {
        "1 accuracy": acc[m]["styled"] >= acc[base]["styled"],
        "2 macro Se": mse[m] >= mse[base] - 0.001,
        "3 mean of the nine drawn sets": mean[m] >= mean[base] + 0.001,
        "4 window-0.45": acc[m]["window-0.45"] >= acc[base]["window-0.45"] - 0.002,
        "5 screenshots": acc[m]["screenshots"] >= acc[base]["screenshots"]} for m in candidates}
    qualifying = [m for m in candidates if all(out["checks"][m].values())]
    best = max((mean[m] for m in qualifying), default=None)
    # a tie to within 0.01 points goes to the simpler (the candidates' order)
    out["chosen"] = next((m for m in qualifying if mean[m] >= best - 0.0001), None)
    print("mean of the nine:", {k: round(100 * v, 3) for k, v in mean.items()})
    print("styled:", {m: (round(100 * acc[m]["styled"], 2), round(100 * mse[m], 2))
                      for m in scored})
    print(json.dumps(out["checks"], indent=1))
    print("chosen:", out["chosen"])


def main() -> int:
    if not CACHE.exists():
        raise SystemExit(f"{CACHE} is missing: run "
                         "models/experiments/wide-network-2026-12-04/score.py --draw-only")
    load_backend()
    import keras

    warnings.filterwarnings("ignore", message=".*structure of `inputs`")
    card = json.loads(COMMITTED.with_suffix(".card.json").read_text())
    codes = [c["code"] for c in card["classes"]]
    w_sha = card["training"]["initialised_from"]["sha256"]
    members = {"C": sha256(COMMITTED), "C3": sha256(NEW)}
    if members["C"] == members["C3"]:
        raise SystemExit("models/ecgnet.keras is C3 already (install.py ran): this script "
                         "compares the candidates with the network committed before them; "
                         "its result is validation.json.")
    nets = {"C": keras.saving.load_model(COMMITTED), "C3": keras.saving.load_model(NEW)}
    w_ok = FIRST.is_file() and sha256(FIRST) == w_sha
    if w_ok:
        nets["W"] = keras.saving.load_model(FIRST)
        members["W"] = w_sha
    x_bn, bn_names = bn_images()
    nets["A2"] = averaged([nets["C"], nets["C3"]], x_bn)
    nets["A2"].save(RUN / "A2.keras")
    if w_ok:
        nets["A3"] = averaged([nets["W"], nets["C"], nets["C3"]], x_bn)
        nets["A3"].save(RUN / "A3.keras")
    candidates = ["C3", "A2"] + (["A3"] if w_ok else [])
    z = np.load(CACHE)
    sets = {n: (z[f"{n}/y"], z[f"{n}/x"], list(z[f"{n}/failed"]))
            for n in json.loads(str(z["names"]))}
    out = {"committed": str(COMMITTED.relative_to(ROOT)), "members_sha256": members,
           "W_available": w_ok, "batch_norm_images": {
               "data": str(TRAINING_DATA.relative_to(ROOT)), "split": "train",
               "count": BN_IMAGES, "seed": BN_SEED,
               "names_sha256": hashlib.sha256("\n".join(bn_names).encode()).hexdigest()},
           "new_card": json.loads(NEW.with_suffix(".card.json").read_text()).get("training"),
           "sets": {}}
    score(out, nets, sets, ["C"] + candidates, codes)
    decide(out, "C", candidates)
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
