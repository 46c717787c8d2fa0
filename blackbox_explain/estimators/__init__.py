"""Estimators: how coalitions are chosen and turned into attributions."""

from __future__ import annotations

from typing import Any

from ..errors import UnknownNameError
from .auto import Auto
from .banzhaf import Banzhaf
from .base import Estimate, Estimator
from .delegated import LimeText, ShapPartition
from .exact import ExactShapley
from .gpshap import GPSHAP
from .kernelshap import KernelSHAP
from .lime import LIME
from .occlusion import Occlusion
from .partition import Partition
from .permutation import PermutationSampling

ESTIMATORS: dict[str, type[Estimator]] = {
    cls.name: cls
    for cls in (
        Occlusion,
        ExactShapley,
        KernelSHAP,
        GPSHAP,
        PermutationSampling,
        LIME,
        Banzhaf,
        Partition,
        ShapPartition,
        LimeText,
        Auto,
    )
}


def get_estimator(method: str | Estimator, **options: Any) -> Estimator:
    """An estimator from its method name (options go to its constructor) or an instance."""
    if isinstance(method, Estimator):
        return method
    if method not in ESTIMATORS:
        raise UnknownNameError("method", method, ESTIMATORS)
    _check_options(method, options)
    try:
        return ESTIMATORS[method](**options)
    except TypeError as exc:
        from ..errors import InputError

        raise InputError(f"bad options for method {method!r}: {exc}") from exc


__all__ = [
    "ESTIMATORS",
    "GPSHAP",
    "LIME",
    "Auto",
    "Banzhaf",
    "Estimate",
    "Estimator",
    "ExactShapley",
    "KernelSHAP",
    "LimeText",
    "Occlusion",
    "Partition",
    "PermutationSampling",
    "ShapPartition",
    "get_estimator",
]


def _check_options(method: str, options: dict[str, Any]) -> None:
    """Name an option the method does not have, with the ones it has."""
    import inspect

    from ..errors import InputError

    init = ESTIMATORS[method].__init__
    parameters = {} if init is object.__init__ else dict(inspect.signature(init).parameters)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    known = [name for name in parameters if name != "self"]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(
            f"method {method!r} has no option {', '.join(map(repr, unknown))}; its options: "
            f"{', '.join(known) if known else 'none'}"
        )
