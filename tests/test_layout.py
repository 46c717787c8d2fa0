"""The package's architecture, checked: module sizes, import rules, and every public name the
README and the docstrings mention still importable."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 500
#: what an estimator may import from the package besides its own family
ESTIMATOR_MAY_IMPORT = {
    "blackbox_explain.errors",
    "blackbox_explain.extras",
    "blackbox_explain.game",
    "blackbox_explain.interop",
    "blackbox_explain.segmentation",
}
#: folders the core (the package's top-level modules) never imports at import time
NOT_CORE = ("adapters", "bench", "cli", "render")


def package_modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name (``adapters/`` is installed as
    ``blackbox_explain.adapters``)."""
    found = {}
    for base, prefix in (
        (ROOT / "blackbox_explain", "blackbox_explain"),
        (ROOT / "adapters", "blackbox_explain.adapters"),
    ):
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([prefix, *parts])] = path
    return found


MODULES = package_modules()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``from ... import`` names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, module_level_only: bool) -> list[tuple[str, list[str]]]:
    """``(imported module, names)`` of a module's imports of the package; with
    ``module_level_only``, those run at import time (not in functions, not under TYPE_CHECKING)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if not module_level_only:
                    visit(child, False)
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                if not module_level_only:
                    visit(child, top)
                continue
            if isinstance(child, ast.ImportFrom):
                target = resolve(module, child)
                if target.startswith("blackbox_explain"):
                    names = [a.name for a in child.names]
                    submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
                    found.append((target, names))
                    found.extend((s, []) for s in submodules)
            elif isinstance(child, ast.Import):
                found.extend(
                    (a.name, []) for a in child.names if a.name.startswith("blackbox_explain")
                )
            visit(child, top)

    visit(tree, True)
    return found


def test_the_module_table_is_read() -> None:
    # the checks below mean nothing if the walk found nothing
    assert "blackbox_explain.api" in MODULES and "blackbox_explain.adapters.function" in MODULES
    assert len(MODULES) > 40


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_500_lines(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines"


def test_no_private_name_crosses_a_module() -> None:
    crossings = []
    for module in MODULES:
        for target, names in imports(module, module_level_only=False):
            private_module = any(part.startswith("_") for part in target.split("."))
            private_names = [n for n in names if n.startswith("_")]
            if private_module or private_names:
                crossings.append(f"{module} imports {private_names or ''} from {target}")
    assert not crossings, "\n".join(crossings)


def test_no_circle_among_module_level_imports() -> None:
    graph = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _ in imports(module, module_level_only=True):
            # importing a package runs its __init__; a module does not depend on its own package
            if target in MODULES and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)


def test_estimators_import_only_the_core() -> None:
    wrong = []
    for module in MODULES:
        if not module.startswith("blackbox_explain.estimators"):
            continue
        for target, _ in imports(module, module_level_only=False):
            if not (
                target.startswith("blackbox_explain.estimators") or target in ESTIMATOR_MAY_IMPORT
            ):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_core_imports_no_adapter_renderer_cli_or_benchmark() -> None:
    core = [
        m
        for m in MODULES
        if m.count(".") == 1 and not is_package(m) and m != "blackbox_explain.__main__"
    ]
    assert "blackbox_explain.game" in core and "blackbox_explain.api" in core
    wrong = []
    for module in core:
        for target, _ in imports(module, module_level_only=True):
            if any(target.startswith(f"blackbox_explain.{folder}") for folder in NOT_CORE):
                wrong.append(f"{module} imports {target} at import time")
    assert not wrong, "\n".join(wrong)


def documented_names() -> set[str]:
    """Every ``blackbox_explain.x.Y`` the README and the docstrings name, and every name the
    README's code imports from the package."""
    names: set[str] = set()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sources = [readme] + [p.read_text(encoding="utf-8") for p in MODULES.values()]
    for source in sources:
        names.update(re.findall(r"\bblackbox_explain(?:\.[A-Za-z_][A-Za-z0-9_]*)+", source))
    names.update(f"blackbox_explain.{n}" for n in re.findall(r"\bbbx\.([A-Za-z_]\w*)", readme))
    pattern = r"from (blackbox_explain[\w.]*) import (?:\(([\w,\s]+)\)|([\w, ]+))"
    for module, grouped, inline in re.findall(pattern, readme):
        names.update(f"{module}.{n.strip()}" for n in (grouped or inline).split(",") if n.strip())
    return {n for n in names if not n.endswith(".py")}


def test_every_documented_public_name_imports() -> None:
    names = documented_names()
    assert (
        "blackbox_explain.remote.Prices" in names
        and "blackbox_explain.adapters.HFCausalLM" in names
    )
    missing = []
    for name in sorted(names):
        parts = name.split(".")
        for split in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            try:
                for attr in parts[split:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, f"documented but not importable: {missing}"


def test_every_import_of_the_package_names_a_module_that_exists() -> None:
    # lazy imports too: a moved module leaves no import behind that fails only when it runs
    broken = [
        f"{module} imports {target}"
        for module in MODULES
        for target, _ in imports(module, module_level_only=False)
        if target not in MODULES
    ]
    assert not broken, "\n".join(broken)
