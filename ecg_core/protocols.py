"""Evaluation protocols: how beats are split between training, validation and test.

The split decides what a test figure means. A beat-level random split puts beats of the same
patients on both sides, so a model can recognise the patient's own beat shapes; papers that
report 99% on MIT-BIH use it. A split by record keeps patients apart and tells how a model
does on a person it has never seen (de Chazal et al. 2004 made this point for MIT-BIH).
"""

from __future__ import annotations

#: Protocol names, in the order the app lists them.
PROTOCOLS: tuple[str, ...] = ("beat", "record")

#: One plain paragraph per protocol, for model cards, the README and the Evaluation page.
PROTOCOL_DESCRIPTIONS: dict[str, str] = {
    "beat": ("Beat-level random split, stratified by class, 70/15/15 (train/validation/test), "
             "as in the papers that report 99%. Beats of the same patients fall on both sides, "
             "which flatters every model: these figures do not say how the model does on a "
             "new patient."),
    "record": ("Split by record: every record (patient) lies wholly in training, validation "
               "or test, about 70/15/15 of the beats, stratified by class as far as whole "
               "records allow (scikit-learn StratifiedGroupKFold). This is how the model does "
               "on patients it has never seen. Classes that live in few patients (VEB: 2 "
               "records, LBB: 4, PAB: 4) may be missing from a split; their patient counts "
               "are shown next to every figure."),
}

#: Short labels for menus.
PROTOCOL_LABELS: dict[str, str] = {
    "beat": "beat split (same patients on both sides)",
    "record": "record split (patients kept apart)",
}
