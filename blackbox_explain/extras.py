"""Lazy imports of optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import MissingDependencyError


def require(module: str, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install.

    A package that is there but fails to import (a dependency of its own missing or of the
    wrong version, a file in the working folder named like a module it imports) is not called
    missing: the error says so and carries the import's own message."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {purpose}" if purpose else ""
        if not is_installed(module):
            raise MissingDependencyError(
                f"{module!r} is needed{what} but is not installed; "
                f"install it with: pip install 'blackbox-explain[{extra}]'"
            ) from exc
        raise MissingDependencyError(
            f"{module!r} is needed{what} and is installed, but importing it failed: "
            f"{type(exc).__name__}: {exc}; a broken or mismatched install can be repaired with: "
            f"pip install --force-reinstall 'blackbox-explain[{extra}]'"
        ) from exc


def is_installed(module: str) -> bool:
    """Whether the top-level package of ``module`` can be found (without importing it)."""
    top = module.partition(".")[0]
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):  # a half-imported package left in sys.modules
        return True
