"""Put the adopted recipe in place as ``record/ecgnet`` (RULE-both-leads.md, RESULT.md).

    python -m ecg_core train --arch ecgnet --rhythm ecgnet --data data/beats-one-bp-vfrr-leads \
        --protocol record --out data/runs-record-leads --epochs 20 --patience 4 \
        --max-train-per-class 12000
    python models/experiments/two-lead-8-2026-12-06/adopt.py install data/runs-record-leads
    python -m ecg_core evaluate --model record/ecgnet --data data/beats-one-bp-vfrr-leads \
        --protocol record
    python models/experiments/two-lead-8-2026-12-06/adopt.py finish

``install`` keeps the replaced card and its evaluation artifacts in this folder, copies the
new network (``.keras``, ``.tflite``, card, history) into ``models/record/`` and writes the
card's ``both_leads`` (method, rule, validation figures of ``score.py``) and ``replaces``.
``finish`` makes the card's ``test`` the record split read on both leads (the ``evaluate``
artifact) and keeps the network's one-lead test as ``both_leads.test_without``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.model import BOTH_LEADS_METHOD  # noqa: E402

HERE = Path(__file__).resolve().parent
MODELS = ROOT / "models" / "record"
REPLACED = HERE / "record-ecgnet-replaced.card.json"
TEST_KEYS = ("n", "accuracy", "per_class", "macro_sensitivity", "macro_precision", "confusion")


def _summary(doc: dict) -> dict:
    return {k: doc[k] for k in TEST_KEYS if k in doc}


def _validation(name: str) -> dict:
    doc = json.loads((HERE / f"{name}.json").read_text())
    return {"accuracy": round(100 * doc["accuracy"], 2),
            "macro Se (NOR, LBB, RBB, APC, PVC, VFW)": round(100 * doc["macro_se_3plus"], 2),
            "Se": {c: None if v["Se"] is None else round(100 * v["Se"], 1)
                   for c, v in doc["per_class"].items()}}


def install(run_dir: Path) -> None:
    old = json.loads((MODELS / "ecgnet.card.json").read_text())
    if not REPLACED.is_file():
        REPLACED.write_text(json.dumps(old, indent=1) + "\n")
        for path in MODELS.glob("ecgnet.eval.*.beats-one-bp-vfrr.*"):
            shutil.move(str(path), HERE / ("replaced-" + path.name))
    for ext in (".keras", ".tflite", ".card.json", ".history.json"):
        shutil.copy2(run_dir / f"ecgnet{ext}", MODELS / f"ecgnet{ext}")
    card = json.loads((MODELS / "ecgnet.card.json").read_text())
    card["both_leads"] = {
        "method": BOTH_LEADS_METHOD,
        "rule": "models/experiments/two-lead-8-2026-12-06/",
        "validation": {
            "protocol": "patient-grouped 5-fold cross-validation, each fold network on its "
                        "own fold's validation records only, pooled (score.py)",
            "one lead, networks trained on MLII (the recipe replaced)": _validation("baseline"),
            "one lead, networks trained on both leads": _validation("candidate"),
            "both leads, networks trained on both leads (adopted)": _validation("both-leads"),
        },
    }
    card["replaces"] = {"card": str(REPLACED.relative_to(ROOT)), "name": old["name"],
                        "architecture": old["architecture"], "created": old["created"],
                        "test": _summary(old["test"])}
    (MODELS / "ecgnet.card.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"installed {run_dir} as {MODELS / 'ecgnet.keras'}")


def finish() -> None:
    card = json.loads((MODELS / "ecgnet.card.json").read_text())
    art = json.loads((MODELS / "ecgnet.eval.record.test.beats-one-bp-vfrr-leads.json")
                     .read_text())
    if "test_without" not in card["both_leads"]:
        card["both_leads"]["test_without"] = _summary(card["test"])
    card["test"] = _summary(art["figures"])
    (MODELS / "ecgnet.card.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"card test: accuracy {card['test']['accuracy']:.4f} on both leads "
          f"({card['both_leads']['test_without']['accuracy']:.4f} on MLII alone)")


if __name__ == "__main__":
    if sys.argv[1] == "install":
        install(Path(sys.argv[2]))
    else:
        finish()
