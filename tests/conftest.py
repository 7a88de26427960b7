"""Shared fixtures: paths to the real databases and their excerpts, a tiny dataset build, the
committed model.

Two sources of real records:

* ``EXCERPT_MITDB`` / ``EXCERPT_CUDB``: five-minute (cudb: three-minute) excerpts of real
  PhysioNet records under ``tests/data/`` (mitdb 100, 207, 208, 232; cudb cu09), cut at the
  start of the run from the databases under ``$ECG_SHARED`` (or downloaded from PhysioNet)
  by ``ecg_core.records.ensure_excerpts``: the raw files are not in the repository.
* ``MITDB`` / ``CUDB``: the whole databases under ``$ECG_SHARED`` (default ``../shared``), for
  the tests that need whole records (published beat counts, lead layouts); those tests are
  skipped, with the reason, where the databases are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecg_core.records import ensure_excerpts

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ECG_SHARED", ROOT.parent / "shared"))
MITDB = SHARED / "mitdb"
CUDB = SHARED / "cudb"
NSTDB = SHARED / "nstdb"
MODEL = ROOT / "models" / "ecgnet.keras"
EXAMPLES = ROOT / "data" / "examples"
EXCERPTS = ROOT / "tests" / "data"
EXCERPT_MITDB = EXCERPTS / "mitdb"
EXCERPT_CUDB = EXCERPTS / "cudb"
EXCERPTS_MISSING = ensure_excerpts(EXCERPTS, SHARED)
#: The records of the tiny dataset: every class of the eight but the paced one.
TINY_RECORDS = ["100", "207", "208", "232", "cu09"]

needs_mitdb = pytest.mark.skipif(not (MITDB / "100.hea").is_file(),
                                 reason=f"MIT-BIH database not found at {MITDB}")
needs_cudb = pytest.mark.skipif(not (CUDB / "cu01.hea").is_file(),
                                reason=f"CU database not found at {CUDB}")
needs_nstdb = pytest.mark.skipif(not (NSTDB / "em.hea").is_file(),
                                 reason=f"MIT-BIH Noise Stress Test Database not found at {NSTDB}")


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A dataset built from the committed excerpts (mitdb 100, 207, 208, 232; cudb cu09)."""
    from ecg_core.dataset import BuildConfig, build_dataset

    out = tmp_path_factory.mktemp("beats")
    build_dataset(out, mitdb=EXCERPT_MITDB, cudb=EXCERPT_CUDB,
                  config=BuildConfig(records=TINY_RECORDS), progress=False)
    return out


@pytest.fixture(scope="session")
def classifier():
    """The committed model."""
    from ecg_core.model import Classifier

    return Classifier.load(MODEL)
