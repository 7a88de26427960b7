"""Put the four-network reading in place as ``record/ecgnet`` (RULE.md, RESULT.md): the local
recipe and the record-context recipe, two seeds each, every beat read on both leads.

    python -m ecg_core ensemble data/runs-record-leads/ecgnet.keras \
        data/runs-record-recrr/ecgnet.keras data/runs-record-leads-s2/ecgnet.keras \
        data/runs-record-recrr-s2/ecgnet.keras --data data/beats-one-bp-vfrr-leads \
        --out data/runs-record-four/ecgnet.keras \
        --replaces models/experiments/fourth-network-8-2026-12-06/record-ecgnet-replaced.card.json
    python models/experiments/fourth-network-8-2026-12-06/adopt.py install data/runs-record-four
    python models/experiments/fourth-network-8-2026-12-06/adopt.py cv \
        models/experiments/record-rr-8-2026-12-06/replaced-ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json \
        data/runs-cv-recrr-leads/ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json \
        data/runs-cv-vfrr-leads-s2/ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json \
        data/runs-cv-recrr-leads-s2/ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json
    python -m ecg_core evaluate --model record/ecgnet --data data/beats-one-bp-vfrr-leads \
        --protocol record
    python models/experiments/fourth-network-8-2026-12-06/adopt.py finish

The first three networks are those of the committed three-network ensemble (the same files).
``install`` keeps the replaced card, history and evaluation artifacts in this folder (the
replaced ensemble must be copied to ``record-ecgnet-replaced.card.json`` first, as the
``--replaces`` above reads it), copies the ensemble into ``models/record/`` and writes the
card's ``both_leads`` (method, rules, validation figures of every reading judged). ``cv``
writes the cross-validation artifact of the installed model: the mean of the four runs'
pooled test probabilities (record-rr-8-2026-12-06's ``cross_validation``). ``finish``
(two-lead-8-2026-12-06's) makes the card's ``test`` the record split read on both leads.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.model import BOTH_LEADS_METHOD  # noqa: E402

HERE = Path(__file__).resolve().parent
EARLIER = HERE.parent / "record-rr-8-2026-12-06"
REPLACED = HERE / "record-ecgnet-replaced.card.json"
_spec = importlib.util.spec_from_file_location("earlier_adopt", EARLIER / "adopt.py")
earlier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(earlier)
FIRST, MODELS, DATA = earlier.EARLIER, earlier.MODELS, earlier.DATA  # the same places


def install(run_dir: Path) -> None:
    for path in [MODELS / "ecgnet.history.json",
                 *MODELS.glob(f"ecgnet.eval.*.{Path(DATA).name}.*")]:
        if path.is_file():
            shutil.move(str(path), HERE / ("replaced-" + path.name))
    for ext in (".keras", ".tflite", ".card.json"):
        shutil.copy2(run_dir / f"ecgnet{ext}", MODELS / f"ecgnet{ext}")
    card = json.loads((MODELS / "ecgnet.card.json").read_text())
    if card.get("replaces"):
        card["replaces"]["card"] = str(REPLACED.relative_to(ROOT))
    protocol = ("patient-grouped 5-fold cross-validation, each fold network on its own fold's "
                "validation records only, every beat read on both leads, pooled (score.py)")
    v = earlier._validation
    card["both_leads"] = {
        "method": BOTH_LEADS_METHOD,
        "rule": "models/experiments/two-lead-8-2026-12-06/ (both leads), "
                "models/experiments/record-rr-8-2026-12-06/ (the first three networks), "
                "models/experiments/fourth-network-8-2026-12-06/ (the fourth)",
        "validation": {
            "protocol": protocol,
            "local RR features (one network)": v(FIRST / "both-leads.json"),
            "record RR context (one network)": v(EARLIER / "record-rr.json"),
            "mean of the local and record RR networks": v(EARLIER / "mean.json"),
            "mean of two local RR seeds (a control)": v(EARLIER / "seeds.json"),
            "mean of two local seeds and one record network (replaced)": v(
                EARLIER / "three.json"),
            "mean of two record RR seeds (a control)": v(HERE / "record-seeds.json"),
            "mean of the four (adopted)": v(HERE / "four.json"),
        },
    }
    (MODELS / "ecgnet.card.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"installed {run_dir} as {MODELS / 'ecgnet.keras'}")


if __name__ == "__main__":
    if sys.argv[1] == "install":
        install(Path(sys.argv[2]))
    elif sys.argv[1] == "cv":
        earlier.cross_validation(sys.argv[2:])
    elif sys.argv[1] == "finish":  # the card's test: the record split read on both leads
        earlier.earlier.finish()
    else:
        raise SystemExit("install RUN_DIR | cv ARTIFACT ... | finish")
