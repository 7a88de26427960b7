"""Make and score RULE.md's candidates against C3 (the committed network) on the ten validation
sets. Run from the repository root after the training run of RULE.md (2 CPU cores: about
6 minutes):

    python models/experiments/wide-fourth-cycle-2026-12-06/score.py

Candidates: C4 (the fourth cycle's network) and A34 (C3's and C4's weights averaged, with
batch-normalisation statistics recomputed on 20,000 training images: stochastic weight
averaging, Izmailov et al. 2018), written beside C4 as ``A34.keras``. The ten sets are the
cached canonical images that ``../wide-network-2026-12-04/score.py`` drew
(``data/wide-network-val-sets.npz``; that script with ``--draw-only`` draws them, about 10
minutes). Every network is read the same way, by Keras, without temperature. Writes
validation.json.
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
RUN = ROOT / "data" / "runs-wide-fourth"
NEW = RUN / "ecgnet-wide.keras"
CACHE = ROOT / "data" / "wide-network-val-sets.npz"
TRAINING_DATA = ROOT / "data" / "beats-wide"
BN_IMAGES, BN_SEED = 20_000, 20180415


def _third_cycle_script():
    """The third cycle's ``score.py`` as a module: this run reads, averages, scores and judges
    the networks with its functions (``sha256``, ``averaged``, ``score``, ``decide``), so that
    both rules are measured and decided the same way."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "wide_third_score", HERE.parent / "wide-third-cycle-2026-12-04" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_third = _third_cycle_script()
sha256, averaged = _third.sha256, _third.averaged


def bn_images() -> tuple[np.ndarray, list[str]]:
    """RULE.md's 20,000 training images (uint8 (n, 64, 64, 1)) and their file names."""
    x, _, rows = load_split(TRAINING_DATA, "train", progress=True)
    pick = np.sort(np.random.default_rng(BN_SEED).choice(len(x), BN_IMAGES, replace=False))
    return x[pick][..., None], [rows[i]["image"] for i in pick]


def main() -> int:
    if not CACHE.exists():
        raise SystemExit(f"{CACHE} is missing: run "
                         "models/experiments/wide-network-2026-12-04/score.py --draw-only")
    load_backend()
    import keras

    warnings.filterwarnings("ignore", message=".*structure of `inputs`")
    card = json.loads(COMMITTED.with_suffix(".card.json").read_text())
    codes = [c["code"] for c in card["classes"]]
    members = {"C3": sha256(COMMITTED), "C4": sha256(NEW)}
    if members["C3"] == members["C4"]:
        raise SystemExit("models/ecgnet.keras is C4 already (install.py ran): this script "
                         "compares the candidates with the network committed before them; "
                         "its result is validation.json.")
    nets = {"C3": keras.saving.load_model(COMMITTED), "C4": keras.saving.load_model(NEW)}
    x_bn, bn_names = bn_images()
    nets["A34"] = averaged([nets["C3"], nets["C4"]], x_bn)
    nets["A34"].save(RUN / "A34.keras")
    candidates = ["C4", "A34"]
    z = np.load(CACHE)
    sets = {n: (z[f"{n}/y"], z[f"{n}/x"], list(z[f"{n}/failed"]))
            for n in json.loads(str(z["names"]))}
    out = {"committed": str(COMMITTED.relative_to(ROOT)), "members_sha256": members,
           "batch_norm_images": {
               "data": str(TRAINING_DATA.relative_to(ROOT)), "split": "train",
               "count": BN_IMAGES, "seed": BN_SEED,
               "names_sha256": hashlib.sha256("\n".join(bn_names).encode()).hexdigest()},
           "new_card": json.loads(NEW.with_suffix(".card.json").read_text()).get("training"),
           "sets": {}}
    _third.score(out, nets, sets, ["C3"] + candidates, codes)
    _third.decide(out, "C3", candidates)
    (HERE / "validation.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
