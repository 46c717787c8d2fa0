"""Estimators: how coalitions are chosen and turned into attributions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import UnknownNameError
from .auto import Auto
from .banzhaf import Banzhaf
from .base import Estimate, Estimator
from .delegated import LimeText, ShapPartition
from .exact import ExactShapley
from .gpshap import GPSHAP
from .kernelshap import KernelSHAP
from .lasso import LassoHalves
from .lime import LIME
from .occlusion import Occlusion
from .partition import Partition
from .permutation import PermutationSampling
from .sparse import SparseShapley

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
        LassoHalves,
        SparseShapley,
        ShapPartition,
        LimeText,
        Auto,
    )
}


def parse_options(pairs: Iterable[str], what: str = "an option") -> dict[str, Any]:
    """``KEY=VALUE`` strings as keyword arguments; a value is read as JSON when it parses
    (numbers, ``true``/``false``, ``null``, quoted strings), else kept as the string itself."""
    import json

    from ..errors import InputError

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise InputError(f"{what} must be KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def parse_method_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A method and its options from ``"NAME[:KEY=VALUE[:KEY=VALUE...]]"``, e.g.
    ``"gpshap:design=kernel:n_bootstrap=0"`` (names and options are checked)."""
    name, *pairs = spec.split(":")
    name = name.strip()
    if name not in ESTIMATORS:
        raise UnknownNameError("method", name, ESTIMATORS)
    options = parse_options(pairs, f"an option of {spec!r}")
    _check_options(name, options)
    return name, options


def get_estimator(method: str | Estimator, **options: Any) -> Estimator:
    """An estimator from its method name (options go to its constructor) or an instance.

    The name may carry options as on the command line, ``"gpshap:design=kernel"``
    (:func:`parse_method_spec`); keyword ``options`` take precedence over them."""
    if isinstance(method, Estimator):
        return method
    if isinstance(method, str) and ":" in method:
        method, from_spec = parse_method_spec(method)
        options = {**from_spec, **options}
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
    "SparseShapley",
    "get_estimator",
    "option_defaults",
    "parse_method_spec",
    "parse_options",
]


def option_defaults(method: str) -> dict[str, Any]:
    """A method's constructor options and their defaults (``inspect.Parameter.empty`` for one
    without a default)."""
    return {name: p.default for name, p in _init_parameters(method).items()}


def _init_parameters(method: str) -> dict[str, Any]:
    import inspect

    init = ESTIMATORS[method].__init__
    if init is object.__init__:
        return {}
    return {n: p for n, p in inspect.signature(init).parameters.items() if n != "self"}


def _check_options(method: str, options: dict[str, Any]) -> None:
    """Name an option the method does not have, with the ones it has."""
    import inspect

    from ..errors import InputError

    parameters = _init_parameters(method)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    known = list(parameters)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(
            f"method {method!r} has no option {', '.join(map(repr, unknown))}; its options: "
            f"{', '.join(known) if known else 'none'}"
        )
    for name, value in options.items():
        _check_option_type(method, name, value, parameters[name].annotation)


#: the annotations an option's value is checked against (others are left to the method)
SIMPLE_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "None": (type(None),),
}
#: how an error names them
TYPE_WORDS = {
    "bool": "true or false",
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "None": "None (null)",
}


def _check_option_type(method: str, name: str, value: Any, annotation: Any) -> None:
    """An option whose annotation is made of ``bool``, ``int``, ``float``, ``str`` and
    ``None`` must be one of them (``true``/``false`` only where a bool is meant: a bool is no
    number, and a string "false" no bool)."""
    from ..errors import InputTypeError

    if not isinstance(annotation, str):
        return
    names = [part.strip() for part in annotation.split("|")]
    if not all(part in SIMPLE_TYPES for part in names):
        return
    allowed = tuple(t for part in names for t in SIMPLE_TYPES[part])
    if isinstance(value, bool) and "bool" not in names:
        allowed = ()
    if not isinstance(value, allowed):
        raise InputTypeError(
            f"{name} must be {' or '.join(TYPE_WORDS[part] for part in names)} (an option of "
            f"method {method!r}), got {value!r}"
        )
