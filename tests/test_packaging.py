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
    assert "blackbox_explain/estimators/variance_orders.json" in names  # GP-SHAP's design


def test_core_import_needs_numpy_only():
    code = (
        "import sys, blackbox_explain, blackbox_explain.adapters;"
        "heavy = {'torch', 'transformers', 'sentence_transformers', 'shap', 'lime', 'matplotlib',"
        " 'httpx', 'openai', 'anthropic', 'sklearn'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_has_a_docstring():
    """Public functions, classes and their public methods (inherited docs count)."""
    import importlib
    import inspect
    import pkgutil

    import blackbox_explain.adapters

    import blackbox_explain

    packages = [
        (blackbox_explain.__path__, "blackbox_explain."),
        (blackbox_explain.adapters.__path__, "blackbox_explain.adapters."),
    ]
    infos = [i for path, prefix in packages for i in pkgutil.walk_packages(path, prefix)]
    missing = []
    for info in infos:
        if info.name.endswith("__main__") or "._" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not inspect.getdoc(obj):
                missing.append(f"{info.name}.{name}")
            if inspect.isclass(obj):
                for attribute in vars(obj):
                    static = inspect.getattr_static(obj, attribute)
                    member = static if isinstance(static, property) else getattr(obj, attribute)
                    function = member.fget if isinstance(member, property) else member
                    if attribute.startswith("_") or not inspect.isfunction(function):
                        continue
                    if not inspect.getdoc(member):
                        missing.append(f"{info.name}.{name}.{attribute}")
    assert missing == [], "\n".join(missing)
