"""The package as users install it: `pip install .` builds one package with its models and the
`ecg-core` command, and `import ecg_core` stays light."""

import os
import subprocess
import sys
import zipfile

from tests.conftest import EXAMPLES, ROOT


def test_import_is_light_and_the_public_api_loads_on_first_use():
    code = ("import sys, ecg_core\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'cv2', 'streamlit')\n"
            "         if m in sys.modules]\n"
            "names = [ecg_core.Classifier, ecg_core.read_record, ecg_core.classify_record,\n"
            "         ecg_core.render_beat, ecg_core.canonical_form, ecg_core.grad_cam,\n"
            "         ecg_core.ECGCoreError, ecg_core.RecordError, ecg_core.ImageDecodeError,\n"
            "         ecg_core.ModelLoadError, ecg_core.DatasetError]\n"
            "print(heavy, 'tensorflow' in sys.modules, len(names))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[] False 11", res.stdout  # no heavy import, even after


def test_wheel_holds_one_package_the_models_and_the_command(tmp_path):
    """Build the wheel, install it alone into a folder, and run `ecg-core predict` from
    another folder: it finds the committed models installed inside the package."""
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path / "wheel"), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "wheel").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.startswith("ecg_beat_cnn-")} == {"ecg_core"}
    for model in ("ecgnet", "baseline", "aami/ecgnet", "record/ecgnet"):
        assert f"ecg_core/bundled_models/{model}.keras" in names
        assert f"ecg_core/bundled_models/{model}.card.json" in names
    assert not any("experiments" in n or ".eval." in n for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ecg-core = ecg_core.__main__:cli" in zipfile.ZipFile(wheel).read(entry).decode()
    site = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                          str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ECG_MODELS_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    image = sorted((EXAMPLES / "PVC").glob("*.png"))[0]
    res = subprocess.run([str(site / "bin" / "ecg-core"), "predict", str(image)],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].split(",")[1] == "PVC"
    assert res.stderr == ""  # no TensorFlow start-up lines
    res = subprocess.run([sys.executable, "-c", "import ecg_core; print(ecg_core.models_dir())"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == str(site / "ecg_core" / "bundled_models")
