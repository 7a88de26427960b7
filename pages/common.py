"""UI helpers shared by the pages: the cached classifier, the notice, charts, examples.

Only Streamlit and Plotly code lives here; everything computed comes from ``ecg_core``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ecg_core.classes import BY_CODE
from ecg_core.errors import ModelLoadError
from ecg_core.explanation import explained_network
from ecg_core.model import ensemble_roles, models_dir, resolve_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "data" / "examples"
MODELS_DIR = models_dir()
DEFAULT_MODEL = resolve_model()
#: Largest labelled-set zip the Evaluation page takes (also capped by .streamlit/config.toml).
MAX_ZIP_UPLOAD_BYTES = 50 * 1024 * 1024

#: The bundled example records (real excerpts, see tests/data/README.md): name -> (record
#: path without extension, label shown in the menu). The first is the default.
_EXCERPTS = ROOT / "tests" / "data"
_EXAMPLES: dict[str, tuple[Path, str]] = {
    "208": (_EXCERPTS / "mitdb" / "208", "MIT-BIH 208 (5 min): frequent PVCs, couplets, "
                                         "fusion beats"),
    "100": (_EXCERPTS / "mitdb" / "100", "MIT-BIH 100 (5 min): normal sinus rhythm, a few "
                                         "atrial premature beats"),
    "232": (_EXCERPTS / "mitdb" / "232", "MIT-BIH 232 (5 min): right bundle branch block, "
                                         "many atrial premature beats, pauses"),
    "207": (_EXCERPTS / "mitdb" / "207", "MIT-BIH 207 (5 min): ventricular flutter, then "
                                         "escape beats; left bundle branch block"),
    "cu09": (_EXCERPTS / "cudb" / "cu09", "CU cu09 (3 min, 250 Hz): a ventricular "
                                          "fibrillation episode"),
}
@st.cache_resource(show_spinner="Preparing the example records (once per server)...")
def example_records() -> dict[str, tuple[Path, str]]:
    """The example records that are there: name -> (record path, menu label).

    The raw PhysioNet excerpts are not in the repository: the first call cuts them from the
    databases beside the checkout (``$ECG_SHARED``, else ``../shared``) or downloads the
    records from PhysioNet (:func:`ecg_core.records.ensure_excerpts`); an example that cannot
    be made is left out.
    """
    if not all(item[0].with_suffix(".hea").is_file() for item in _EXAMPLES.values()):
        from ecg_core.records import ensure_excerpts

        ensure_excerpts(_EXCERPTS, os.environ.get("ECG_SHARED", str(ROOT.parent / "shared")))
    return {name: item for name, item in _EXAMPLES.items()
            if item[0].with_suffix(".hea").is_file()}


def megabytes(n_bytes: int) -> float:
    """Bytes in the megabytes (2**20 bytes) that Streamlit's upload limits count in."""
    return n_bytes / 2**20

NOTICE = ("**Research and teaching only. Not a medical device:** do not use these outputs "
          "to diagnose or treat anyone.")


def model_path() -> Path:
    """The model the app serves by default: ``$ECG_MODEL_PATH``, or ``ecgnet`` in the models
    folder (``$ECG_MODELS_DIR``, else ``models/``)."""
    return Path(os.environ.get("ECG_MODEL_PATH", str(DEFAULT_MODEL)))


@st.cache_resource(show_spinner="Loading the model (once per server process)...")
def _load_classifier(path: str, mtime: float):
    from ecg_core.model import Classifier

    return Classifier.load(path)


def choose_model() -> Path:
    """A sidebar menu of the committed models (with a card); returns the chosen path.

    The default is ``$ECG_MODEL_PATH`` or ``models/ecgnet.keras``; the choice is kept for the
    session, so every page uses the same model.
    """
    from ecg_core.model import list_models, model_name

    default = model_path()
    options = list_models(MODELS_DIR)
    if default not in options:
        options.insert(0, default)
    labels = [model_name(p) for p in options]
    # a widget's own state does not outlive its page: the choice is kept under a key of
    # its own, so that the next page opens on it
    kept = st.session_state.get("chosen_model")
    index = labels.index(kept) if kept in labels else options.index(default)
    chosen = st.sidebar.selectbox("Model", labels, index=index,
                                  key="model_choice",
                                  help="ecgnet: this project's CNN; baseline: the textbook "
                                       "CNN; aami/...: AAMI N/S/V/F/Q models trained on DS1; "
                                       "record/...: trained with patients kept apart.")
    st.session_state["chosen_model"] = chosen
    return options[labels.index(chosen)]


@st.cache_data(max_entries=8, show_spinner=False)
def _new_patient_figures(folder: str, stamp: tuple) -> dict:
    """Every committed model's figures on patients it never saw, by name (``stamp``: the
    artifacts' names and times, so that a new measurement is read)."""
    from ecg_core.evaluation import new_patient_figures
    from ecg_core.model import list_models, model_name

    return {model_name(p): new_patient_figures(p) for p in list_models(Path(folder))}


def new_patient_note(path: Path, card: dict) -> str | None:
    """:func:`ecg_core.model.model_new_patient_note` for the chosen model (its card), beside
    the committed models' figures (read once per change of their artifacts)."""
    from ecg_core.model import model_new_patient_note

    if (card.get("protocol") or {}).get("name") != "beat":
        return None
    stamp = tuple(sorted((str(p), p.stat().st_mtime)
                         for p in MODELS_DIR.rglob("*.eval.cross-database.test.*.json")))
    return model_new_patient_note(path, card, MODELS_DIR,
                                  figures=_new_patient_figures(str(MODELS_DIR), stamp))


@st.cache_data(max_entries=16, show_spinner=False)
def _new_patient_tables(path: str, stamp: tuple) -> list[dict]:
    from ecg_core.evaluation import new_patient_tables

    return new_patient_tables(path)


def new_patient_tables(path: Path) -> list[dict]:
    """:func:`ecg_core.evaluation.new_patient_tables` of a model, read again when the model
    file or one of its evaluation artifacts changes."""
    files = [path, *sorted(path.parent.glob(f"{path.stem}.eval.*.json"))]
    stamp = tuple((str(p), p.stat().st_mtime) for p in files if p.exists())
    return _new_patient_tables(str(path), stamp)


def get_classifier(path: Path | None = None):
    """The cached classifier, or ``None`` after showing what to do on the page."""
    path = path or model_path()
    try:
        mtime = path.stat().st_mtime if path.exists() else 0.0
        clf = _load_classifier(str(path), mtime)
        if clf.warning:
            st.warning(clf.warning)
        return clf
    except ModelLoadError as exc:
        st.error(f"The model could not be loaded. {exc}")
        st.info("To fix: restore the committed model with `git checkout -- models`, or "
                "train one with `python -m ecg_core build-dataset ...` then "
                "`python -m ecg_core train --out models` (see the README).")
        return None


def release_freed_memory() -> None:
    """Hand the memory Python has freed back to the operating system (glibc's
    ``malloc_trim``), after a large passing job such as a whole record: without it the
    server's resident memory stays at the job's peak for as long as it runs. Does nothing
    where the C library is not glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def notice() -> None:
    """The not-a-medical-device notice, shown on every page (which first makes sure the app
    runs under its own navigation, see :func:`_ensure_navigation`)."""
    _ensure_navigation()
    st.warning(NOTICE, icon="⚠️")


def _ensure_navigation() -> None:
    """Leave Streamlit's legacy ``pages/`` mode if a deep link started the server in it.

    Streamlit treats a ``pages/`` folder next to the entry script as a version-1 multipage
    app until ``st.navigation`` is first called. A first visit to ``/predict`` on a fresh
    server therefore runs ``pages/predict.py`` alone, with every file of ``pages/`` (helpers
    included) listed as a page. ``streamlit_app.py`` calls ``st.navigation`` on every run;
    this switches the flag it would have switched and reruns, so the page comes back under
    the app's own navigation.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def probability_chart(probs: np.ndarray, codes: tuple[str, ...], title: str = "") -> go.Figure:
    """Horizontal Plotly bar chart of class probabilities, highest at the top."""
    order = np.argsort(probs)
    labels = [f"{codes[i]} · {BY_CODE[codes[i]].name}" if codes[i] in BY_CODE else codes[i]
              for i in order]
    best = int(np.argmax(probs))
    colours = ["#d62728" if i == best else "#1f77b4" for i in order]
    fig = go.Figure(go.Bar(x=[float(probs[i]) for i in order], y=labels, orientation="h",
                           marker_color=colours,
                           text=[f"{probs[i]:.1%}" for i in order], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_layout(title=title or None, xaxis=dict(range=[0, 1], tickformat=".0%",
                                                      title="probability"),
                      height=300, margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    return fig


def example_files() -> dict[str, Path]:
    """Bundled example images, ``{"CODE/file.png": path}``, sorted by class then name."""
    if not EXAMPLES_DIR.is_dir():
        return {}
    return {f"{p.parent.name}/{p.name}": p
            for p in sorted(EXAMPLES_DIR.glob("*/*.png"))}


def upscale(img: np.ndarray, target: int = 192) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor to about ``target`` px high, so that the
    model's pixels stay visible (64 x 64 -> 192 x 192; 128 x 128 -> 256 x 256)."""
    factor = max(1, round(target / max(1, img.shape[0])))
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


@st.cache_data(max_entries=64, show_spinner="Grad-CAM: the gradients of each network...")
def _network_maps(model_key: str, image: np.ndarray, class_index: int, layer: str | None,
                  rhythm: np.ndarray | None, _clf) -> list[np.ndarray]:
    from ecg_core.explanation import network_grad_cams

    return network_grad_cams(_clf.model, image, class_index, layer, rhythm)


def grad_cam_maps(clf, image: np.ndarray, class_index: int, layer: str | None = None,
                  rhythm: np.ndarray | None = None) -> list[np.ndarray]:
    """The Grad-CAM map of each network behind ``class_index``
    (:func:`ecg_core.explanation.network_grad_cams`; one map for a single network), kept
    across reruns: every widget on a page reruns it, and an ensemble's maps take a few tenths
    of a second. :func:`ecg_core.explanation.mean_map` of them is the model's map."""
    key = f"{clf.path}:{clf.path.stat().st_mtime if clf.path and clf.path.exists() else 0}"
    return _network_maps(key, np.asarray(image, np.uint8), int(class_index), layer,
                         None if rhythm is None else np.asarray(rhythm, np.float32), clf)


def cam_overlay(image: np.ndarray, cam: np.ndarray, target: int = 192) -> np.ndarray:
    """A canonical image (uint8 (H, W)) with a Grad-CAM map (float (H, W) in [0, 1]) laid over
    it in red, enlarged by :func:`upscale` to about ``target`` px: uint8 (h, w, 3)."""
    overlay = np.dstack([image] * 3).astype(np.float32)
    overlay[..., 0] = np.clip(overlay[..., 0] * 0.6 + 255 * cam * 0.6, 0, 255)
    return upscale(overlay.astype(np.uint8), target)


def keras_model(clf, layers: bool = True):
    """The network to explain (:func:`ecg_core.explanation.explained_network`: the model, or
    the first member of a seed ensemble), its Keras model loaded (with TensorFlow, a few
    seconds and several hundred MB the first time in a server process) under a spinner that
    says so. For an ensemble a caption says what is shown: Grad-CAM of the whole model (the
    mean of the maps of the networks behind the explained class,
    :func:`ecg_core.explanation.grad_cam` given ``clf.model``) and, where the page shows them
    (``layers``), the layers and feature maps of the first network."""
    if not clf.keras_loaded:
        with st.spinner("Loading TensorFlow and the Keras model for its layers and gradients "
                        "(the first time only: a few seconds)..."):
            clf.model
    network, members = explained_network(clf.model)
    if members > 1:
        roles = ensemble_roles(clf.card)
        what = (f"This model {roles}" if roles else
                f"This model averages the probabilities of {members} networks of one design, "
                "trained on the same images from different starting weights")
        st.caption(what + "; its Grad-CAM is the mean of the maps of the networks that give the "
                   "explained class its probability, each scaled to its own peak first"
                   + ("; the layers and feature maps shown are those of the first network."
                      if layers else "."))
    return network
