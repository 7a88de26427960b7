"""Shared fixtures: paths to the real databases, a tiny dataset build, the committed model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ECG_SHARED", ROOT.parent / "shared"))
MITDB = SHARED / "mitdb"
CUDB = SHARED / "cudb"
MODEL = ROOT / "models" / "ecgnet.keras"
EXAMPLES = ROOT / "data" / "examples"

needs_mitdb = pytest.mark.skipif(not (MITDB / "100.hea").is_file(),
                                 reason=f"MIT-BIH database not found at {MITDB}")
needs_cudb = pytest.mark.skipif(not (CUDB / "cu01.hea").is_file(),
                                reason=f"CU database not found at {CUDB}")


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A dataset built from records 100, 207 and 232 (mitdb) and cu01 (cudb)."""
    if not (MITDB / "100.hea").is_file() or not (CUDB / "cu01.hea").is_file():
        pytest.skip(f"databases not found under {SHARED}")
    from ecg_core.dataset import BuildConfig, build_dataset

    out = tmp_path_factory.mktemp("beats")
    build_dataset(out, mitdb=MITDB, cudb=CUDB,
                  config=BuildConfig(records=["100", "207", "232", "cu01"]),
                  progress=False)
    return out


@pytest.fixture(scope="session")
def classifier():
    """The committed model."""
    from ecg_core.model import Classifier

    return Classifier.load(MODEL)
