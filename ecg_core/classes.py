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

#: The five beat classes of ANSI/AAMI EC57 (1998, R2008), as grouped by de Chazal et al.
#: (2004) for the inter-patient benchmark. Codes are one letter, so they never clash with the
#: three-letter codes above.
AAMI_CLASSES: tuple[BeatClass, ...] = (
    BeatClass("N", "Normal and bundle branch block beats (AAMI N)", ("N", "L", "R", "e", "j"),
              "Beats conducted from the sinus node or a junctional/atrial escape focus through "
              "the ventricles: normal beats, bundle branch block beats and escape beats."),
    BeatClass("S", "Supraventricular ectopic beats (AAMI SVEB)", ("A", "a", "J", "S"),
              "Early beats from the atria or the AV junction: the QRS looks almost normal; "
              "what gives them away is that they come early (a short RR interval)."),
    BeatClass("V", "Ventricular ectopic beats (AAMI VEB)", ("V", "E"),
              "Beats started in a ventricle (premature or escape): wide, bizarre QRS with no "
              "P wave before it."),
    BeatClass("F", "Fusion of ventricular and normal beats (AAMI F)", ("F",),
              "A normal and a ventricular activation meet: a QRS shaped between the two."),
    BeatClass("Q", "Unclassifiable and paced beats (AAMI Q)", ("/", "f", "Q"),
              "Paced beats, fusions of paced and normal beats, and beats that could not be "
              "classified."),
)

#: Class schemes: name -> classes in model output order.
SCHEMES: dict[str, tuple[BeatClass, ...]] = {"jun8": BEAT_CLASSES, "aami": AAMI_CLASSES}


def scheme_classes(scheme: str) -> tuple[BeatClass, ...]:
    """The classes of a scheme (``"jun8"``: the eight classes above; ``"aami"``: AAMI EC57).

    Raises:
        ValueError: for an unknown scheme.
    """
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"Unknown class scheme '{scheme}'; choose from {list(SCHEMES)}.")


def scheme_codes(scheme: str) -> tuple[str, ...]:
    """Class codes of a scheme, in model output order."""
    return tuple(c.code for c in scheme_classes(scheme))


def symbol_map(scheme: str) -> dict[str, str]:
    """MIT-BIH annotation symbol -> class code under a scheme."""
    return {s: c.code for c in scheme_classes(scheme) for s in c.symbols}


#: Class code -> BeatClass, for the codes of every scheme.
#: What each MIT-BIH beat annotation symbol means (the database's own list of beat labels).
MITBIH_SYMBOLS: dict[str, str] = {
    "N": "normal beat", "L": "left bundle branch block beat",
    "R": "right bundle branch block beat", "B": "bundle branch block beat (unspecified)",
    "A": "atrial premature beat", "a": "aberrated atrial premature beat",
    "J": "nodal (junctional) premature beat", "S": "supraventricular premature beat",
    "V": "premature ventricular contraction", "r": "R-on-T premature ventricular contraction",
    "F": "fusion of ventricular and normal beat", "e": "atrial escape beat",
    "j": "nodal (junctional) escape beat", "n": "supraventricular escape beat",
    "E": "ventricular escape beat", "/": "paced beat", "f": "fusion of paced and normal beat",
    "Q": "unclassifiable beat", "?": "beat not classified during learning",
    "!": "ventricular flutter wave",
}


def describe_symbol(symbol: str, class_codes: tuple[str, ...] | list[str]) -> str:
    """A reference symbol in words, and the model class it counts as (or that it has none).

    Args:
        symbol: a MIT-BIH annotation symbol, e.g. ``"F"``.
        class_codes: the model's class codes (they say which scheme it uses).

    Returns:
        e.g. ``"F (fusion of ventricular and normal beat; not a class of this model)"`` or
        ``"A (atrial premature beat; class APC)"``.
    """
    codes = tuple(class_codes)
    scheme = next((name for name, classes in SCHEMES.items()
                   if tuple(c.code for c in classes) == codes), "jun8")
    code = symbol_map(scheme).get(symbol)
    meaning = MITBIH_SYMBOLS.get(symbol, "annotation")
    tail = f"class {code}" if code else "not a class of this model"
    return f"{symbol} ({meaning}; {tail})"


BY_CODE: dict[str, BeatClass] = {c.code: c for cs in SCHEMES.values() for c in cs}

# Folder names of the widely shared 6-class ECG image dataset, and common synonyms, mapped to
# our codes. The shared dataset's labels are not all what they say (see
# shared/reference/README.md): its "Premature Atrial Contraction" folder holds MIT-BIH paced
# beats (3,246) and 305 true atrial premature beats of records 222 and 232, and its
# "Ventricular Fibrillation" folder holds the flutter waves of record 207.
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
    # Known mislabel in the shared dataset: this folder holds mostly paced beats ('/').
    "premature atrial contraction": "PAB",
}

#: Folder names whose label is known to be wrong in the shared image dataset.
KNOWN_MISLABELLED_FOLDERS: dict[str, str] = {
    "premature atrial contraction": (
        "In the widely shared ECG image dataset this folder holds mostly MIT-BIH paced beats "
        "('/', 3,246 of records 102, 104, 107 and 217) and also 305 true atrial premature "
        "beats ('A', records 222 and 232, whose file names collide with paced-beat names); "
        "it is mapped to PAB, so the 305 atrial beats count as errors whatever the model "
        "says. Map it to 'leave out' for figures without them."),
    "ventricular fibrillation": (
        "In the widely shared ECG image dataset this folder holds the ventricular flutter "
        "waves ('!') of MIT-BIH record 207 (one patient); it is mapped to VFW."),
    "premature ventricular contractions": (
        "In the widely shared ECG image dataset this folder also holds the 106 ventricular "
        "escape beats ('E'); they are counted as PVC here."),
}


#: How the six labels of the widely shared image dataset cover our eight classes, as groups:
#: its PVC folder also holds the escape beats (VEB), and it has no folder of atrial premature
#: beats (APC is absent; its "Premature Atrial Contraction" folder holds paced beats, PAB, and
#: 305 atrial premature beats among them).
SHARED_DATASET_GROUPS: dict[str, str] = {
    "NOR": "NOR", "LBB": "LBB", "RBB": "RBB", "PVC": "PVC", "VEB": "PVC", "PAB": "PAB",
    "VFW": "VFW"}


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
