"""Evaluation protocols: how beats are split between training, validation and test.

The split decides what a test figure means. A beat-level random split puts beats of the same
patients on both sides, so a model can recognise the patient's own beat shapes; papers that
report 99% on MIT-BIH use it. A split by record keeps patients apart and tells how a model
does on a person it has never seen (de Chazal et al. 2004 made this point for MIT-BIH).
"""

from __future__ import annotations

#: Protocol names, in the order the app lists them.
PROTOCOLS: tuple[str, ...] = ("beat", "record", "aami")

#: Folds of the patient-grouped cross-validation: protocol ``foldK`` tests on fold K of
#: :data:`CV_FOLDS` (``ecg_core.dataset.cv_split``); ``cv`` names the pooled result.
CV_FOLDS: int = 5
CV_PROTOCOLS: tuple[str, ...] = tuple(f"fold{k}" for k in range(1, CV_FOLDS + 1))
#: The same folds dealt among the 22 AAMI DS1 records only (protocol ``ds1-foldK``): every
#: other record (DS2, the paced records, cudb, the QT Database) is left out of training,
#: validation and test, so that a recipe can be judged on DS1's patients with DS2 unseen.
DS1_CV_PROTOCOLS: tuple[str, ...] = tuple(f"ds1-fold{k}" for k in range(1, CV_FOLDS + 1))

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
    "aami": ("AAMI inter-patient benchmark (de Chazal et al. 2004): train on the 22 records of "
             "DS1, test on the 22 records of DS2, paced records 102, 104, 107 and 217 left out, "
             "AAMI EC57 classes N, S, V, F, Q. Validation data (for early stopping) are "
             "records carved from DS1; DS2 is used only for testing. Where the build holds "
             "the QT Database, 27 of its annotated records join training and 9 validation; "
             "its other 18 are never built in, and are the cross-database test."),
    "cv": ("Patient-grouped 5-fold cross-validation: the records (patients) are dealt into "
           "five folds, stratified by class as far as whole records allow (scikit-learn "
           "StratifiedGroupKFold); five models of one recipe are trained, each tested on one "
           "fold it never saw (validation records carved from the other four), and their "
           "test predictions are pooled, so that every record is tested once by a model that "
           "never met that patient."),
    "cross-database": ("Cross-database: every labelled beat of another database's records, "
                       "none of whose patients the model has seen (e.g. the QT Database: "
                       "other people, other recorders, other leads, 250 Hz), located from the "
                       "reference annotations and classified as `classify-record --annotations "
                       "atr` does; reference symbols mapped to the model's classes."),
}

#: Short labels for menus.
PROTOCOL_LABELS: dict[str, str] = {
    "beat": "beat split (same patients on both sides)",
    "record": "record split (patients kept apart)",
    "aami": "AAMI DS1 -> DS2 (inter-patient benchmark)",
    "cross-database": "another database (patients never seen)",
    "cv": "5-fold cross-validation by patient (every record tested once)",
}

#: de Chazal et al. (2004) DS1 (training) and DS2 (test) record sets of MIT-BIH, and the
#: paced records that the AAMI recommended practice leaves out.
AAMI_DS1: tuple[str, ...] = ("101", "106", "108", "109", "112", "114", "115", "116", "118",
                             "119", "122", "124", "201", "203", "205", "207", "208", "209",
                             "215", "220", "223", "230")
AAMI_DS2: tuple[str, ...] = ("100", "103", "105", "111", "113", "117", "121", "123", "200",
                             "202", "210", "212", "213", "214", "219", "221", "222", "228",
                             "231", "232", "233", "234")
AAMI_EXCLUDED: tuple[str, ...] = ("102", "104", "107", "217")

#: The QT Database's 54 records with reference beat labels (other patients, other recorders
#: and leads, 250 Hz), dealt once into records that may train and validate an AAMI model and
#: records always held out for the cross-database figures. Dealt within each of the
#: database's source groups (sel1...: MIT-BIH Long-Term ECG and Normal Sinus Rhythm; sel3...:
#: MIT-BIH ST Change; sele...: European ST-T) by a permutation seeded with 20180412: half to
#: training, a sixth to validation, the rest held out (27 / 9 / 18 records).
QTDB_TRAIN: tuple[str, ...] = (
    "sel14172", "sel16265", "sel16272", "sel16273", "sel16420", "sel16483", "sel17152",
    "sel17453", "sel302", "sel308", "sel310", "sele0104", "sele0107", "sele0116", "sele0126",
    "sele0133", "sele0136", "sele0211", "sele0405", "sele0406", "sele0409", "sele0411",
    "sele0604", "sele0606", "sele0607", "sele0612", "sele0704")
QTDB_VAL: tuple[str, ...] = ("sel14157", "sel16773", "sel307", "sele0106", "sele0111",
                             "sele0112", "sele0122", "sele0124", "sele0166")
QTDB_HELD_OUT: tuple[str, ...] = (
    "sel14046", "sel15814", "sel16539", "sel16786", "sel16795", "sel301", "sel306", "sele0110",
    "sele0114", "sele0121", "sele0129", "sele0170", "sele0203", "sele0210", "sele0303",
    "sele0509", "sele0603", "sele0609")

#: Published figures on the AAMI DS1 -> DS2 protocol, for comparison (gross statistics).
AAMI_PUBLISHED: tuple[dict, ...] = (
    {"source": "de Chazal et al. 2004", "accuracy": 0.862, "S_Se": 0.759, "S_+P": 0.385,
     "V_Se": 0.777, "V_+P": 0.819},
    {"source": "Mondejar-Guerra et al. 2019", "accuracy": 0.945},
    {"source": "Sellami & Hwang 2019", "S_Se": 0.909, "S_+P": 0.483},
)
