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
