"""``blackbox-explain methods``: every method with a line on it, and its options."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..estimators import ESTIMATORS, option_defaults

METHOD_HELP = {
    "auto": "exact when 2^n fits the budget, else from n + 2 calls GP-SHAP (up to 2048 calls, "
    "then KernelSHAP; beyond 64 segments a LASSO on random halves up to 12n, then GP-SHAP up "
    "to 4096 calls (beyond, the LASSO below 16n and KernelSHAP from there), or GP-SHAP from "
    "n + 2 calls for a lexicon model), fewer a LASSO on random halves (from 8 "
    "calls and n/4), fewer still partition (default)",
    "exact": "exact Shapley values by enumerating all 2^n coalitions",
    "kernelshap": "KernelSHAP: weighted regression, paired sampling, exact efficiency",
    "gpshap": "Shapley values of a Gaussian-process fit whose kernel weights each segment by "
    "its effect alone and left out, plus those of its misses where asked (below 2n + 2 calls "
    "every segment left out, then up to a quarter of them alone, the ones that mattered most, "
    "then balanced halves; balanced design below 12 calls per segment; from there, on 7-14 "
    "segments, the coalitions that most reduce the values' posterior variance (up to 128 per "
    "segment), on other texts, up to 24, more halves when the fit reproduces them, else "
    "KernelSHAP's coalitions; from 24 or 70% of all 2^n coalitions, KernelSHAP's coalitions); "
    "from 2n + 2 calls its amplitude may "
    "shrink with the coalition's size (a text model's answer moves less as more of the text is "
    "there), and on 24 segments or more below 7 calls per segment it may have an additive part "
    "(the main effects' own share of the prior); words that change nothing alone or left out "
    "(outside a lexicon) are pooled into one segment",
    "permutation": "Shapley values from antithetic permutation sampling",
    "lime": "LIME: ridge surrogate with lime's cosine kernel",
    "banzhaf": "Banzhaf values by maximum sample reuse",
    "lasso": "a LASSO-selected linear fit on random halves of the segments: for fewer calls "
    "than segments, finds the few sentences of a long context an answer rests on",
    "partition": "coarse-to-fine: sentences/chunks first, then the important parts (long texts)",
    "occlusion": "leave-one-out or sliding-window occlusion (n + 2 calls)",
    "sparse": "exact Shapley values when few words matter at all (lexicon and rule-based models), "
    "found by adaptive group testing in far fewer calls; other models go to its fallback",
    "lime.text": "lime's own LimeTextExplainer on our segments (needs the 'lime' extra)",
    "shap.partition": "shap's own Partition explainer on our segments (needs the 'shap' extra)",
}


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    sub.add_parser("methods", help="list the explanation methods")


def run(args: argparse.Namespace) -> int:
    """``blackbox-explain methods``: list the methods with a line on each, and their options."""
    import inspect
    import textwrap

    indent = " " * 17
    for name in ESTIMATORS:
        lines = [METHOD_HELP.get(name, "")]
        defaults = option_defaults(name)
        if defaults:
            lines.append(
                "options: "
                + ", ".join(
                    k if v is inspect.Parameter.empty else f"{k}={json.dumps(v)}"
                    for k, v in defaults.items()
                )
            )
        for k, line in enumerate(lines):
            first = f"  {name:<14} " if k == 0 else indent
            print(textwrap.fill(line, 100, initial_indent=first, subsequent_indent=indent))
    print("\nSet an option with 'explain --option KEY=VALUE' (or as a keyword of explain()).")
    return 0
