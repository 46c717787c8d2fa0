"""`pip install .` installs the package `blackbox_explain` (with `adapters/` inside) and nothing else."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_has_one_top_level_package(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert top_level == {"blackbox_explain"}
    assert "blackbox_explain/adapters/function.py" in names
    assert "blackbox_explain/py.typed" in names


def test_core_import_needs_numpy_only():
    code = (
        "import sys, blackbox_explain, blackbox_explain.adapters;"
        "heavy = {'torch', 'transformers', 'sentence_transformers', 'shap', 'lime', 'matplotlib',"
        " 'httpx', 'openai', 'anthropic', 'sklearn'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
