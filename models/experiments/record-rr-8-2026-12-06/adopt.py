"""Put the adopted reading in place as ``record/ecgnet`` (RULE-mean.md, RULE-third.md,
RESULT.md): three networks averaged, the local recipe with two seeds and the record-context
recipe.

    python -m ecg_core train --arch ecgnet --rhythm ecgnet --rhythm-context record \
        --data data/beats-one-bp-vfrr-leads --protocol record --out data/runs-record-recrr \
        --epochs 20 --patience 4 --max-train-per-class 12000
    python -m ecg_core train --arch ecgnet --rhythm ecgnet --data data/beats-one-bp-vfrr-leads \
        --protocol record --out data/runs-record-leads-s2 --epochs 20 --patience 4 \
        --max-train-per-class 12000 --seed 20180413
    python -m ecg_core ensemble data/runs-record-leads/ecgnet.keras \
        data/runs-record-recrr/ecgnet.keras data/runs-record-leads-s2/ecgnet.keras \
        --data data/beats-one-bp-vfrr-leads --out data/runs-record-three/ecgnet.keras \
        --replaces models/experiments/record-rr-8-2026-12-06/record-ecgnet-replaced.card.json
    python models/experiments/record-rr-8-2026-12-06/adopt.py install data/runs-record-three
    python models/experiments/record-rr-8-2026-12-06/adopt.py cv \
        models/experiments/record-rr-8-2026-12-06/replaced-ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json \
        data/runs-cv-recrr-leads/ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json \
        data/runs-cv-vfrr-leads-s2/ecgnet.eval.cv.test.beats-one-bp-vfrr-leads.json
    python -m ecg_core evaluate --model record/ecgnet --data data/beats-one-bp-vfrr-leads \
        --protocol record
    python models/experiments/two-lead-8-2026-12-06/adopt.py finish

``data/runs-record-leads/ecgnet.keras`` is the network installed as ``record/ecgnet`` by
``two-lead-8-2026-12-06`` (the same SHA-256). ``install`` keeps the replaced card, history and
evaluation artifacts in this folder, copies the ensemble (``.keras``, ``.tflite``, card) into
``models/record/`` and writes the card's ``both_leads`` (method, rules, validation figures).
``cv`` writes the cross-validation artifact of the installed model: each test beat's
probabilities, the mean of the runs' pooled test probabilities (the replaced model's
artifact, kept here, the record-context run's and the second seed's; each read every beat on
both leads; the same beats in the same order, checked), through the library's
``detailed_figures`` and ``save_evaluation``. ``finish`` (the earlier experiment's) makes the
card's ``test`` the record split read on both leads.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.evaluation import detailed_figures, load_evaluation, save_evaluation  # noqa: E402
from ecg_core.model import BOTH_LEADS_METHOD  # noqa: E402
from ecg_core.protocols import CV_PROTOCOLS  # noqa: E402

HERE = Path(__file__).resolve().parent
EARLIER = HERE.parent / "two-lead-8-2026-12-06"
MODELS = ROOT / "models" / "record"
DATA = "data/beats-one-bp-vfrr-leads"
REPLACED = HERE / "record-ecgnet-replaced.card.json"

_spec = importlib.util.spec_from_file_location("earlier_adopt", EARLIER / "adopt.py")
earlier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(earlier)


def _validation(path: Path) -> dict:
    doc = json.loads(path.read_text())
    return {"accuracy": round(100 * doc["accuracy"], 2),
            "macro Se (NOR, LBB, RBB, APC, PVC, VFW)": round(100 * doc["macro_se_3plus"], 2),
            "Se": {c: None if v["Se"] is None else round(100 * v["Se"], 1)
                   for c, v in doc["per_class"].items()}}


def install(run_dir: Path) -> None:
    if not REPLACED.is_file():
        shutil.copy2(MODELS / "ecgnet.card.json", REPLACED)
        for path in [MODELS / "ecgnet.history.json",
                     *MODELS.glob(f"ecgnet.eval.*.{Path(DATA).name}.*")]:
            shutil.move(str(path), HERE / ("replaced-" + path.name))
    for ext in (".keras", ".tflite", ".card.json"):
        shutil.copy2(run_dir / f"ecgnet{ext}", MODELS / f"ecgnet{ext}")
    card = json.loads((MODELS / "ecgnet.card.json").read_text())
    if card.get("replaces"):  # ensemble --replaces named the card's old place
        card["replaces"]["card"] = str(REPLACED.relative_to(ROOT))
    protocol = ("patient-grouped 5-fold cross-validation, each fold network on its own fold's "
                "validation records only, every beat read on both leads, pooled (score.py)")
    card["both_leads"] = {
        "method": BOTH_LEADS_METHOD,
        "rule": "models/experiments/two-lead-8-2026-12-06/ (both leads), "
                "models/experiments/record-rr-8-2026-12-06/ (the two networks)",
        "validation": {
            "protocol": protocol,
            "local RR features (the network replaced alone)": _validation(
                EARLIER / "both-leads.json"),
            "record RR context": _validation(HERE / "record-rr.json"),
            "mean of the local and record RR networks": _validation(HERE / "mean.json"),
            "mean of two local RR seeds (a control)": _validation(HERE / "seeds.json"),
            "mean of the three (adopted)": _validation(HERE / "three.json"),
        },
    }
    (MODELS / "ecgnet.card.json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"installed {run_dir} as {MODELS / 'ecgnet.keras'}")


def cross_validation(paths: list[str]) -> None:
    docs, probs = [], []
    for path in paths:
        doc, arrays = load_evaluation(path)
        if doc["data"] != DATA or not doc.get("both_leads") or doc["protocol"] != "cv":
            raise SystemExit(f"{path}: not a both-leads cross-validation on {DATA}")
        docs.append(doc)
        probs.append(arrays)
    if any(not np.array_equal(probs[0]["y_true"], p["y_true"]) for p in probs[1:]):
        raise SystemExit("the runs' test beats differ")
    records, labels = [], []
    for protocol in CV_PROTOCOLS:
        _, y, rows = load_split(DATA, "test", protocol, size=(8, 8))
        labels.append(y)
        records += [f"{r.get('database', '')}/{r.get('record', '')}" for r in rows]
    if not np.array_equal(np.concatenate(labels), probs[0]["y_true"]):
        raise SystemExit("the split's beats are not the runs' beats")
    codes = [c["code"] for c in json.loads((MODELS / "ecgnet.card.json").read_text())["classes"]]
    mean = np.mean([p["y_prob"].astype(np.float64) for p in probs], axis=0)
    figures, arrays = detailed_figures(probs[0]["y_true"], mean.astype(np.float32), codes,
                                       records)
    figures["folds"] = len(CV_PROTOCOLS)
    saved = save_evaluation(MODELS / "ecgnet.keras", figures, arrays, protocol="cv",
                            split="test", data=DATA,
                            extra={"model_name": f"ecgnet (5-fold recipe: {len(paths)} "
                                                 "networks averaged, local and record RR)",
                                   "within": "all",
                                   "folds_dir": " + ".join(d["folds_dir"] for d in docs),
                                   "recipe": [d["recipe"] for d in docs],
                                   "both_leads": True})
    print(f"{saved}: accuracy {figures['accuracy']:.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "install":
        install(Path(sys.argv[2]))
    elif sys.argv[1] == "cv":
        cross_validation(sys.argv[2:])
    else:
        earlier.finish()
