"""Install candidate C4 of RULE.md (the wide network trained a fourth cosine cycle) as the
committed 8-class `ecgnet`, if the rule chose it, as the third cycle's ``install.py`` installed
C3: ``ecg_core.training.install_model`` copies ``data/runs-wide-fourth/ecgnet-wide.{keras,
tflite,history.json}`` to ``models/ecgnet.*`` and writes its card, with the replaced model's
test figures (``replaces``; that card is kept beside this file as
``ecgnet-replaced.card.json``) and how the weights C4 started from were trained. Run from
anywhere:

    python models/experiments/wide-fourth-cycle-2026-12-06/install.py [REPLACED.card.json]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.training import install_model  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> int:
    if json.loads((HERE / "validation.json").read_text())["chosen"] != "C4":
        raise SystemExit("RULE.md did not choose C4 (validation.json): nothing to install.")
    os.chdir(ROOT)  # the card names the kept card by its path in the repository
    try:
        card = install_model("data/runs-wide-fourth/ecgnet-wide.keras", "models/ecgnet.keras",
                             replaces=sys.argv[1] if len(sys.argv) > 1
                             else "models/ecgnet.card.json",
                             keep_replaced=HERE.relative_to(ROOT) / "ecgnet-replaced.card.json")
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    print(f"models/ecgnet.keras: {card['architecture']} (created {card['created']}), "
          f"replaces the one created {card['replaces']['created']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
