"""Install candidate C3 of RULE.md (the wide network trained a third cosine cycle) as the
committed 8-class `ecgnet`, if the rule adopted it. Run from the repository root:

    python models/experiments/wide-third-cycle-2026-12-04/install.py [REPLACED.card.json]

Copies `data/runs-wide-third/ecgnet-wide.{keras,tflite,history.json}` to `models/ecgnet.*`
and writes its card there as `ecgnet`, with the test figures of the model it replaces
(`replaces`; that card is kept beside this file as `ecgnet-replaced.card.json`) and the
baseline's comparison on the same test images (`compared_with`). The
network, its LiteRT twin (checked by `train` when it exported it) and its temperature (fitted by
`train` on the validation split) are unchanged.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.training import figure_summary, member_training  # noqa: E402

RUN = ROOT / "data" / "runs-wide-third"
MODELS = ROOT / "models"
HERE = Path(__file__).resolve().parent


def main() -> int:
    if json.loads((Path(__file__).parent / "validation.json").read_text())["chosen"] != "C3":
        raise SystemExit("RULE.md did not choose C3 (validation.json): nothing to install.")
    old_path = Path(sys.argv[1]) if len(sys.argv) > 1 else MODELS / "ecgnet.card.json"
    old = json.loads(old_path.read_text())
    card = json.loads((RUN / "ecgnet-wide.card.json").read_text())
    if old.get("created") == card["created"]:
        raise SystemExit("models/ecgnet.card.json is already C3's; name the replaced model's "
                         "card: install.py OLD.card.json")
    for suffix in (".keras", ".tflite", ".history.json"):
        shutil.copyfile(RUN / f"ecgnet-wide{suffix}", MODELS / f"ecgnet{suffix}")
    kept = HERE / "ecgnet-replaced.card.json"  # the replaced model's card, as committed
    if old_path.resolve() != kept.resolve():
        shutil.copyfile(old_path, kept)
    card.pop("same_run", None)  # the run's other models: none
    start = card["training"].get("initialised_from") or {}
    if start.get("sha256") == old.get("runtime", {}).get("keras_sha256"):
        # C3 started from the replaced model: say how that was trained, back along its chain
        # of runs (member_training records the run before it; train wrote only C's own)
        start["training"] = member_training(old)
    card.update({"name": "ecgnet", "file": "ecgnet.keras",
                 "compared_with": old.get("compared_with", {}),
                 "replaces": {"card": str(kept.relative_to(ROOT)), "name": old.get("name"),
                              "architecture": old.get("architecture"),
                              "created": old.get("created"),
                              "test": figure_summary(old["test"])}})
    card["runtime"]["file"] = "ecgnet.tflite"
    (MODELS / "ecgnet.card.json").write_text(json.dumps(card, indent=2))
    print(f"models/ecgnet.keras: {card['architecture']} (created {card['created']}), "
          f"replaces the one created {old['created']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
