"""Beat classes: the eight classes of Jun et al. (2018) and how other labels map onto them.

Jun TJ, Nguyen HM, Kang D, Kim D, Kim D, Kim Y-H. "ECG arrhythmia classification using a
2-D convolutional neural network", arXiv:1804.06812 (2018).

The class *codes* (``NOR``, ``LBB``, ...) are the names used everywhere in the project:
dataset folders, CSV columns, model cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class BeatClass:
    """One beat class.

    Attributes:
        code: three-letter class code used as folder, column and card name.
        name: the class in words.
        symbols: MIT-BIH annotation symbols that belong to the class.
        description: one plain clinical sentence: what the beat is and how it looks.
    """

    code: str
    name: str
    symbols: tuple[str, ...]
    description: str


BEAT_CLASSES: tuple[BeatClass, ...] = (
    BeatClass("NOR", "Normal beat", ("N",),
              "Impulse from the sinus node conducted normally: a P wave, then a narrow QRS "
              "complex (under 0.12 s) and a T wave, at a regular interval."),
    BeatClass("LBB", "Left bundle branch block beat", ("L",),
              "Conduction through the left bundle is blocked, so the left ventricle is "
              "activated late: a wide QRS (0.12 s or more), often notched, with the T wave "
              "pointing the other way."),
    BeatClass("RBB", "Right bundle branch block beat", ("R",),
              "Conduction through the right bundle is blocked: a wide QRS with a late extra "
              "deflection (the rSR' 'rabbit ears' in right-sided leads)."),
    BeatClass("APC", "Atrial premature contraction", ("A",),
              "An early beat started in the atria rather than the sinus node: a normal-looking "
              "QRS that arrives early, often with a differently shaped P wave."),
    BeatClass("PVC", "Premature ventricular contraction", ("V",),
              "An early beat started in a ventricle: a wide, bizarre QRS with no P wave before "
              "it and a large T wave opposite to the QRS, usually followed by a pause."),
    BeatClass("PAB", "Paced beat", ("/",),
              "A beat triggered by an artificial pacemaker: a sharp, narrow pacing spike "
              "followed by a wide QRS complex."),
    BeatClass("VFW", "Ventricular flutter / fibrillation wave", ("!",),
              "Chaotic or sine-like ventricular activity with no distinct QRS, P or T waves; "
              "life-threatening when sustained."),
    BeatClass("VEB", "Ventricular escape beat", ("E",),
              "A late beat from a ventricular pacemaker that takes over after a pause: a wide "
              "QRS like a PVC, but arriving late instead of early."),
)

#: Class codes in the model's output order.
CLASS_CODES: tuple[str, ...] = tuple(c.code for c in BEAT_CLASSES)

#: MIT-BIH annotation symbol -> class code, for the eight classes.
SYMBOL_TO_CLASS: dict[str, str] = {s: c.code for c in BEAT_CLASSES for s in c.symbols}

#: Class code -> BeatClass.
BY_CODE: dict[str, BeatClass] = {c.code: c for c in BEAT_CLASSES}

# Folder names of the widely shared 6-class ECG image dataset, and common synonyms, mapped to
# our codes. The shared dataset's labels are not all what they say (see
# shared/reference/README.md): its "Premature Atrial Contraction" folder holds MIT-BIH paced
# beats and its "Ventricular Fibrillation" folder holds the flutter waves of record 207.
_FOLDER_SYNONYMS: dict[str, str] = {
    "normal": "NOR", "normal beat": "NOR", "n": "NOR", "nor": "NOR",
    "left bundle branch block": "LBB", "lbbb": "LBB", "lbb": "LBB", "l": "LBB",
    "right bundle branch block": "RBB", "rbbb": "RBB", "rbb": "RBB", "r": "RBB",
    "atrial premature contraction": "APC", "atrial premature beat": "APC", "apc": "APC",
    "a": "APC",
    "premature ventricular contraction": "PVC", "premature ventricular contractions": "PVC",
    "pvc": "PVC", "v": "PVC",
    "paced": "PAB", "paced beat": "PAB", "pab": "PAB", "pace": "PAB",
    "ventricular fibrillation": "VFW", "ventricular flutter": "VFW", "vf": "VFW",
    "vfw": "VFW", "vfl": "VFW", "ventricular flutter wave": "VFW",
    "ventricular escape beat": "VEB", "veb": "VEB", "e": "VEB",
    # Known mislabel in the shared dataset: this folder holds paced beats ('/').
    "premature atrial contraction": "PAB",
}

#: Folder names whose label is known to be wrong in the shared image dataset.
KNOWN_MISLABELLED_FOLDERS: dict[str, str] = {
    "premature atrial contraction": (
        "In the widely shared ECG image dataset this folder holds MIT-BIH paced beats ('/'), "
        "not atrial premature beats; it is mapped to PAB."),
    "ventricular fibrillation": (
        "In the widely shared ECG image dataset this folder holds the 472 ventricular flutter "
        "waves ('!') of MIT-BIH record 207 (one patient); it is mapped to VFW."),
    "premature ventricular contractions": (
        "In the widely shared ECG image dataset this folder also holds the 106 ventricular "
        "escape beats ('E'); they are counted as PVC here."),
}


def folder_to_class(folder_name: str) -> str | None:
    """Map a class-folder name to a class code.

    Args:
        folder_name: a folder name such as ``"Left Bundle Branch Block"``, ``"LBB"`` or
            ``"left_bundle_branch_block"`` (case, underscores, hyphens and repeated spaces
            are ignored).

    Returns:
        The class code (one of :data:`CLASS_CODES`), or ``None`` if the name is unknown.
    """
    key = re.sub(r"[\s_\-]+", " ", folder_name).strip().lower()
    if key.upper() in CLASS_CODES:
        return key.upper()
    return _FOLDER_SYNONYMS.get(key)
