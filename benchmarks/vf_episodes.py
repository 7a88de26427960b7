"""Beats found inside ventricular fibrillation: how often a model calls them VFW on the Record
page's path.

Run: python benchmarks/vf_episodes.py [--model record/ecgnet ...] [--cudb ../shared/cudb]
     [--records cu01,cu09,...]

For every record of the CU Ventricular Tachyarrhythmia Database (Nolle et al. 1986) with VF or
flutter episodes (its rhythm annotations, `ecg_core.beats.vf_episodes`), runs
`classify_record` as the Record page does: beats found by the default QRS detector (XQRS) on
the whole record, and for a model with a rhythm input, each beat's RR-interval features. It
counts the detected beats that fall inside an episode and the share of them predicted VFW.
A rhythm model is also run with the RR features hidden ("not available"), as the VF windows
of its training data had them: the difference measures how much the RR intervals of a
detector running through fibrillation move the model. Most cudb records are training
patients of the 8-class models: compare the rows, not the figures with a test split.
"""

from __future__ import annotations

import argparse
import platform
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _RhythmHidden:
    """A classifier whose rhythm input is always "not available" (everything else delegated)."""

    def __init__(self, classifier):
        self._clf = classifier

    def __getattr__(self, name):
        return getattr(self._clf, name)

    def predict_canonical(self, images, rhythm=None, **kwargs):
        return self._clf.predict_canonical(images, None, **kwargs)


def main() -> int:
    from ecg_core.analysis import classify_record
    from ecg_core.beats import vf_episodes
    from ecg_core.errors import RecordError
    from ecg_core.model import Classifier, model_name, resolve_model
    from ecg_core.records import read_record

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", nargs="+", default=["record/ecgnet"])
    ap.add_argument("--cudb", default=str(ROOT.parent / "shared" / "cudb"))
    ap.add_argument("--records", help="comma-separated record names (e.g. the cudb records of "
                                      "a model's validation split); default: every record")
    args = ap.parse_args()
    wanted = set(args.records.split(",")) if args.records else None
    warnings.simplefilter("ignore", FutureWarning)  # wfdb's pandas deprecation
    records = []
    for hea in sorted(Path(args.cudb).glob("cu*.hea")):
        if wanted is not None and hea.stem not in wanted:
            continue
        try:
            rec = read_record(hea.with_suffix(""), annotator="atr")
        except RecordError:
            continue
        episodes = vf_episodes(rec.annotations, len(rec.signal))
        if episodes:
            records.append((rec, episodes))
    if not records:
        print(f"no cudb record with VF episodes under {args.cudb}", file=sys.stderr)
        return 2
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}; "
          f"{len(records)} cudb records with VF or flutter episodes")
    print("| model | RR features | beats found inside the episodes | called VFW | share |")
    print("|---|---|---:|---:|---:|")
    for name in args.model:
        clf = Classifier.load(resolve_model(name))
        variants = [("given", clf), ("hidden", _RhythmHidden(clf))] if clf.uses_rhythm \
            else [("none (image only)", clf)]
        for label, model in variants:
            found = called = 0
            for rec, episodes in records:
                res = classify_record(rec, model, use_annotations=False)
                inside = np.zeros(len(res.samples), dtype=bool)
                for start, stop in episodes:
                    inside |= (res.samples >= start) & (res.samples < stop)
                found += int(inside.sum())
                called += int((np.asarray(res.predicted)[inside] == "VFW").sum())
            print(f"| {model_name(resolve_model(name))} | {label} | {found:,} | {called:,} | "
                  f"{100 * called / max(found, 1):.1f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
