"""Install the wide network alone (candidate W of RULE.md) as the committed 8-class `ecgnet`.

Run from the repository root after the training run of RULE.md:

    python models/experiments/wide-network-2026-12-04/install.py [REPLACED.card.json]

Copies `data/runs-wide-net-s20180412/ecgnet-wide.{keras,tflite,history.json}` to
`models/ecgnet.*` and writes its card there as `ecgnet`, with the test figures of the model it
replaces (`replaces`, as `ecg-core ensemble --replaces` writes them) so that the Evaluation page
and the docs show the two side by side. The network, its LiteRT twin (checked by `train` when it
exported it) and its temperature (fitted by `train` on the validation split) are unchanged.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.training import figure_summary  # noqa: E402

RUN = ROOT / "data" / "runs-wide-net-s20180412"
MODELS = ROOT / "models"


def main() -> int:
    # the card of the model replaced: models/ecgnet.card.json before the install, or a copy of
    # it named on the command line (to install again)
    old_path = Path(sys.argv[1]) if len(sys.argv) > 1 else MODELS / "ecgnet.card.json"
    old = json.loads(old_path.read_text())
    card = json.loads((RUN / "ecgnet-wide.card.json").read_text())
    if old.get("architecture") == card["architecture"]:
        raise SystemExit("models/ecgnet.card.json is already the wide network's; name the "
                         "replaced model's card: install.py OLD.card.json")
    for suffix in (".keras", ".tflite", ".history.json"):
        shutil.copyfile(RUN / f"ecgnet-wide{suffix}", MODELS / f"ecgnet{suffix}")
    card.pop("same_run", None)  # the run's other models: none
    # the other models measured on the same test images (the baseline) still compare
    card.update({"name": "ecgnet", "file": "ecgnet.keras",
                 "compared_with": old.get("compared_with", {}),
                 "replaces": {"card": "models/ecgnet.card.json", "name": old.get("name"),
                              "architecture": old.get("architecture"),
                              "created": old.get("created"),
                              "test": figure_summary(old["test"])}})
    card["runtime"]["file"] = "ecgnet.tflite"
    (MODELS / "ecgnet.card.json").write_text(json.dumps(card, indent=2))
    print(f"models/ecgnet.keras: {card['architecture']}, replaces {old['architecture']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
