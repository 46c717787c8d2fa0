"""The ``blackbox-explain`` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .api import DEFAULT_BUDGET, Explainer
from .errors import BlackboxExplainError, InputError
from .estimators import ESTIMATORS, option_defaults, parse_method_spec, parse_options
from .explanation import Explanation
from .progress import Progress

DEMO_TEXT = "The food was not good, but the staff were friendly and the service was fast."

MODEL_HELP = """model specs:
  example              built-in lexicon sentiment model (numpy only, instant)
  minilm-sentiment     all-MiniLM-L6-v2 zero-shot sentiment (embedded, offline)
  smollm2              SmolLM2-135M-Instruct (embedded, offline): explains the log-prob of its
                       answer (--target, or its own greedy answer), or --labels
  hf-lm:PATH           a local Hugging Face causal LM folder
  hf-classifier:PATH   a local Hugging Face sequence-classification folder
  PATH                 a local model folder (its config says which of the two)
  openai-chat:MODEL    an OpenAI-compatible chat endpoint (--base-url): label probabilities
                       with --labels, else the similarity of generated answers
  openai-completions:MODEL  the log-prob of --target (or of the greedy completion), via echo
  anthropic:MODEL      Anthropic Messages: label parsing with --labels, else answer similarity
  http-json:URL        any JSON endpoint (--request-template, --scores-path, --output-names)
API keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY / HTTPJSON_API_KEY; they are never written
to the cache, the JSON or the report.
  python:MODULE:NAME   a Python callable list[str] -> array, or a Scorer object / class
"""

METHOD_HELP = {
    "auto": "exact when 2^n fits the budget, else from 2n + 2 calls GP-SHAP (3n beyond 100 "
    "segments; up to 2048 calls, then KernelSHAP), from 2n permutation, fewer ridge KernelSHAP "
    "or partition (default)",
    "exact": "exact Shapley values by enumerating all 2^n coalitions",
    "kernelshap": "KernelSHAP: weighted regression, paired sampling, exact efficiency",
    "gpshap": "Shapley values of a Gaussian-process fit whose kernel weights each segment by "
    "its effect alone and left out (balanced design below 6 calls per segment; from there "
    "KernelSHAP's coalitions and regression on its residuals)",
    "permutation": "Shapley values from antithetic permutation sampling",
    "lime": "LIME: ridge surrogate with lime's cosine kernel",
    "banzhaf": "Banzhaf values by maximum sample reuse",
    "partition": "coarse-to-fine: sentences/chunks first, then the important parts (long texts)",
    "occlusion": "leave-one-out or sliding-window occlusion (n + 2 calls)",
    "sparse": "exact Shapley values when few words matter at all (lexicon and rule-based models), "
    "found by adaptive group testing in far fewer calls; other models go to its fallback",
    "lime.text": "lime's own LimeTextExplainer on our segments (needs the 'lime' extra)",
    "shap.partition": "shap's own Partition explainer on our segments (needs the 'shap' extra)",
}

#: explain()'s own keywords, which --option cannot set (they have options of their own)
EXPLAIN_KEYWORDS = ("granularity", "masker", "seed", "target", "tokenizer", "noise_samples")


def load_model(
    spec: str,
    labels: list[str] | None = None,
    max_new_tokens: int = 24,
    api: dict[str, Any] | None = None,
) -> Any:
    """A scorer (or a model with ``bind``) from a model spec (see ``explain --help``)."""
    lm_options: dict[str, Any] = {"labels": labels, "max_new_tokens": max_new_tokens}
    api = dict(api or {})
    if spec == "example":
        from .examples import example_scorer

        return example_scorer()
    if spec == "minilm-sentiment":
        from blackbox_explain.adapters import SentenceSimilarity

        return SentenceSimilarity.minilm_sentiment()
    if spec == "smollm2":
        from blackbox_explain.adapters import load_smollm2

        return load_smollm2(**lm_options)
    if spec.startswith("hf-lm:"):
        from blackbox_explain.adapters import HFCausalLM

        return HFCausalLM.from_pretrained(_folder(spec[6:]), **lm_options)
    if spec.startswith("hf-classifier:"):
        from blackbox_explain.adapters import HFClassifier

        return HFClassifier.from_pretrained(_folder(spec[14:]))
    if spec.startswith("openai-chat:"):
        from blackbox_explain.adapters import OpenAIChat

        return OpenAIChat(spec[12:], labels=labels, max_tokens=max_new_tokens, **api)
    if spec.startswith("openai-completions:"):
        from blackbox_explain.adapters import OpenAICompletions

        return OpenAICompletions(spec[19:], max_tokens=max_new_tokens, **api)
    if spec.startswith("anthropic:"):
        from blackbox_explain.adapters import AnthropicMessages

        return AnthropicMessages(spec[10:], labels=labels, max_tokens=max_new_tokens, **api)
    if spec.startswith("http-json:"):
        from blackbox_explain.adapters import HTTPJSON

        template, path, names = (
            api.pop(k, None) for k in ("request_template", "scores_path", "output_names")
        )
        if not (template and path and names):
            raise InputError(
                "http-json: needs --request-template, --scores-path and --output-names"
            )
        api.pop("base_url", None)
        return HTTPJSON(spec[10:], template, path, names, **api)
    if spec.startswith("python:"):
        try:
            _, module_name, attr = spec.split(":", 2)
            obj = getattr(importlib.import_module(module_name), attr)
        except (ValueError, ImportError, AttributeError) as exc:
            raise InputError(f"cannot load {spec!r}: {exc}") from exc
        return obj() if isinstance(obj, type) else obj
    if Path(spec).is_dir():
        kind = _folder_kind(Path(spec))
        return load_model(f"{kind}:{spec}", labels, max_new_tokens)
    raise InputError(f"unknown model spec {spec!r}\n{MODEL_HELP}")


def _folder(path: str) -> str:
    if not Path(path).is_dir():
        raise InputError(f"model folder {path!r} does not exist")
    return path


def _folder_kind(folder: Path) -> str:
    """``hf-lm`` or ``hf-classifier``, from the architectures named in the folder's config."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{folder} has no readable config.json; use hf-lm: or hf-classifier:"
        ) from exc
    architectures = config.get("architectures") or []
    if any(a.endswith("ForCausalLM") for a in architectures):
        return "hf-lm"
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return "hf-classifier"
    raise InputError(
        f"cannot tell what kind of model is in {folder} (architectures {architectures}); "
        "say it with hf-lm:PATH or hf-classifier:PATH"
    )


def read_texts(args: argparse.Namespace) -> list[str]:
    """The texts a command was given: as its argument, ``--text``, ``--file`` or ``--jsonl``
    (``-`` as the argument or the file: standard input)."""
    given = getattr(args, "text_arg", None)
    if given is not None:
        return [sys.stdin.read() if given == "-" else given]
    text = getattr(args, "text", None)  # not every command has every source
    if text is not None:
        return list(text) if isinstance(text, list) else [text]
    file = getattr(args, "file", None)
    if file is not None:
        if file == "-":
            return [sys.stdin.read()]
        return [Path(file).read_text(encoding="utf-8")]
    if getattr(args, "jsonl", None) is not None:
        texts = []
        for number, line in enumerate(Path(args.jsonl).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{args.jsonl}:{number}: not JSON: {exc}") from exc
            text = record.get("text") if isinstance(record, dict) else record
            if not isinstance(text, str):
                raise InputError(f"{args.jsonl}:{number}: needs a string or an object with 'text'")
            texts.append(text)
        return texts
    raise InputError("give the text as an argument, or with --text, --file or --jsonl")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="blackbox-explain",
        description="Explain why a text model produced its output, with perturbations only.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'blackbox-explain COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="explain the embedded SmolLM2's answer and a MiniLM sentiment classification",
        description="Explain why SmolLM2-135M-Instruct answered what it answered (per answer "
        "token and in total) and why MiniLM classifies a review's sentiment; writes an HTML "
        "report and prints the terminal view. Everything runs offline.",
    )
    demo.add_argument("--budget", type=int, default=128, help="calls for the LM explanation (128)")
    demo.add_argument(
        "--html",
        metavar="PATH",
        default="blackbox-explain-demo.html",
        help="where to write the report (default blackbox-explain-demo.html)",
    )
    demo.add_argument("--json", metavar="PATH", help="also write the explanations as JSON lines")
    demo.add_argument(
        "--model", default=None, help="explain only this model spec instead (e.g. example)"
    )

    ex = sub.add_parser(
        "explain",
        help="explain one text or many",
        description="Explain a model's output on a text.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    ex.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    src = ex.add_mutually_exclusive_group()
    src.add_argument(
        "text_arg", nargs="?", metavar="TEXT", help="the text to explain ('-': standard input)"
    )
    src.add_argument(
        "--text", "-t", action="append", help="a text to explain (same as TEXT; repeatable)"
    )
    src.add_argument(
        "--file", "-f", help="a file whose whole content is the text ('-': standard input)"
    )
    src.add_argument("--jsonl", help="a JSONL file: one string or {'text': ...} per line")
    ex.add_argument(
        "--method",
        default="auto",
        metavar="METHOD",
        help=f"one of {', '.join(sorted(ESTIMATORS))} (default auto); options may follow as "
        "NAME:KEY=VALUE[:KEY=VALUE...], e.g. gpshap:design=kernel (or use --option)",
    )
    ex.add_argument("--budget", "-b", type=int, default=DEFAULT_BUDGET, help="max model calls")
    ex.add_argument("--granularity", default="word", choices=["word", "sentence", "char"])
    ex.add_argument("--masker", default="delete", help="delete (default) or mask")
    ex.add_argument("--seed", type=int, default=0, help="seed of sampled methods (default 0)")
    ex.add_argument(
        "--option",
        "-o",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the method, e.g. -o design=balanced for gpshap (repeatable; the "
        "value is read as JSON when it parses: numbers, true/false, null; else as a string). "
        "'blackbox-explain methods' lists each method's options and defaults",
    )
    ex.add_argument(
        "--target",
        help="for LMs: the answer whose log-prob is explained "
        "(default: the model's own greedy answer)",
    )
    ex.add_argument("--labels", help="for LMs: comma-separated candidate answers (label mode)")
    ex.add_argument("--max-new-tokens", type=int, default=24, help="for LMs: answer length")
    ex.add_argument("--output", help="the output (class, token, 'total') to show")
    ex.add_argument("--json", metavar="PATH", help="write the explanations as JSON lines")
    ex.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    ex.add_argument(
        "--evaluate",
        action="store_true",
        help="also measure faithfulness (deletion/insertion AOPC, comprehensiveness, "
        "sufficiency, leave-one-out and, for short texts, exact-Shapley error)",
    )
    ex.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")
    ex.add_argument("--batch-size", type=int, default=None, help="texts per model call")
    ex.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    ex.add_argument(
        "--dry-run",
        action="store_true",
        help="make no call: print the planned calls, tokens and cost",
    )
    ex.add_argument(
        "--noise-samples",
        type=int,
        default=0,
        help="re-query the input this many times to measure the noise floor",
    )
    _add_api_options(ex)

    cf = sub.add_parser(
        "counterfactual",
        help="find the smallest edit that changes the model's answer",
        description="Search for the smallest deletions (and replacements from --substitutions) "
        "that change the predicted label, or move an output past --threshold or by --delta.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    cf.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    cf_src = cf.add_mutually_exclusive_group()
    cf_src.add_argument(
        "text_arg", nargs="?", metavar="TEXT", help="the text ('-': standard input)"
    )
    cf_src.add_argument("--text", "-t", action="append", help="the text (same as TEXT; repeatable)")
    cf_src.add_argument(
        "--file", "-f", help="a file whose whole content is the text ('-': standard input)"
    )
    cf_src.add_argument("--jsonl", help="a JSONL file: one string or {'text': ...} per line")
    cf.add_argument("--budget", "-b", type=int, default=256, help="max model calls (256)")
    cf.add_argument("--target-label", help="the label to reach (default: any other label)")
    cf.add_argument("--output", help="the output for --threshold / --delta")
    cf.add_argument("--threshold", type=float, help="an output value to cross")
    cf.add_argument("--delta", type=float, help="a signed change of the output to reach")
    cf.add_argument(
        "--substitutions", metavar="JSON", help='replacements to try, e.g. \'{"good": ["bad"]}\''
    )
    cf.add_argument("--no-deletions", action="store_true", help="only replacements")
    cf.add_argument("--max-edits", type=int, default=4, help="largest edit size tried (4)")
    cf.add_argument("-k", type=int, default=1, help="how many counterfactuals to return (1)")
    cf.add_argument("--labels", help="for LMs: comma-separated candidate answers (label mode)")
    cf.add_argument("--json", metavar="PATH", help="write the results as JSON lines")
    cf.add_argument("--html", metavar="PATH", help="write an HTML page with the diffs")
    cf.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")

    ev = sub.add_parser(
        "evaluate",
        help="measure the faithfulness of saved explanations (from explain --json)",
        description="Faithfulness of explanations saved with 'explain --json' (or "
        "Explanation.save_json), measured on the model that was explained: deletion and "
        "insertion curves and their AOPC, comprehensiveness and sufficiency at the top 1, 5, 10, "
        "20 and 50 % of segments, leave-one-out rank correlation and, for texts of at most "
        "--exact-max segments, the error against exact Shapley values. With the explanation's "
        "--cache, most texts are already answered; the new calls are reported.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    ev.add_argument("explanations", metavar="FILE", help="explanations: JSON lines or one object")
    ev.add_argument("--model", "-m", required=True, help="the model spec that was explained")
    ev.add_argument(
        "--output",
        help="the output to evaluate: a class, an LM answer's token or its 'total' (default: "
        "the total for an LM answer, else the first output)",
    )
    ev.add_argument(
        "--masker",
        help="the masker the explanations used (default: the one they recorded)",
    )
    ev.add_argument("--labels", help="for LMs: the comma-separated labels the explanation used")
    ev.add_argument(
        "--budget", "-b", type=int, help="max new model calls per explanation (default: no cap)"
    )
    _add_exact_max(ev, paid_too=False)
    ev.add_argument("--no-loo", action="store_true", help="skip the leave-one-out correlation")
    ev.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")
    ev.add_argument("--batch-size", type=int, default=None, help="texts per model call")
    ev.add_argument("--json", metavar="PATH", help="write the evaluations as JSON lines")
    ev.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    ev.add_argument(
        "--dry-run",
        action="store_true",
        help="make no call: print the new calls, tokens and cost of each evaluation",
    )
    _add_api_options(ev)

    bench = sub.add_parser(
        "bench",
        help="measure calls, time and accuracy of every method (and peer libraries) on your model",
        description="Run methods x budgets x seeds on your model and texts; accuracy against "
        "exact Shapley values where the text has few enough segments; peers (shap, lime, "
        "Captum) run on the same scorer, segments and deletion baseline. Writes bench.json, "
        "bench.md and bench.png. On a hosted API, --dry-run first prints the calls, tokens "
        "and cost (each short text costs 2^n calls for its exact Shapley values), --max-cost "
        "caps the money, and with --cache a stopped run resumes where it stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    bench.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    bench_src = bench.add_mutually_exclusive_group(required=True)
    bench_src.add_argument("--text", "-t", action="append", help="a text (repeatable)")
    bench_src.add_argument("--jsonl", help="a JSONL file: one string or {'text': ...} per line")
    bench.add_argument(
        "--methods",
        default="auto,gpshap,kernelshap,permutation,partition,sparse,lime",
        help="comma-separated methods (default: auto,gpshap,kernelshap,permutation,partition,"
        "sparse,lime); a method with options is NAME:KEY=VALUE[:KEY=VALUE...], e.g. gpshap:design=kernel "
        "(each spec is its own row)",
    )
    bench.add_argument(
        "--budgets",
        default="32,64,128,256",
        help="comma-separated budgets: model calls per explanation (32,64,128,256)",
    )
    bench.add_argument(
        "--peer-budgets",
        help="comma-separated budgets for the peers (default: --budgets); larger ones show "
        "how many calls a peer needs to reach the accuracy ours reach",
    )
    bench.add_argument("--seeds", type=int, default=2, help="seeds per cell (2)")
    bench.add_argument(
        "--peers",
        default="",
        help="comma-separated peers, or 'all': "
        "shap.partition, shap.permutation, shap.permutation.flat, lime, captum.featureablation, "
        "captum.shapleyvaluesampling, captum.kernelshap, captum.lime; for a Hugging Face "
        "causal LM explaining its answer also captum.llm.featureablation, "
        "captum.llm.shapleyvaluesampling, captum.llm.kernelshap, captum.llm.lime (Captum's "
        "LLMAttribution on the live model; needs --output sum)",
    )
    bench.add_argument(
        "--output",
        help="the output (class) to explain (default: the first), or 'sum' for the sum of all "
        "outputs (an LM answer's total log-prob)",
    )
    bench.add_argument(
        "--cache",
        metavar="PATH",
        help="persistent SQLite cache of model answers: a second run (other methods, budgets "
        "or peers) does not ask the model again",
    )
    _add_exact_max(bench)
    bench.add_argument("--out", default="bench-out", help="folder for the results (bench-out)")
    bench.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    bench.add_argument("--labels", help="for LMs: comma-separated candidate answers (label mode)")
    bench.add_argument("--max-new-tokens", type=int, default=24, help="for LMs: answer length (24)")
    bench.add_argument(
        "--dry-run",
        action="store_true",
        help="make no call: print the calls, tokens and cost the run would take (for a hosted "
        "API, set --price-in / --price-out; each short text costs 2^n calls for its exact "
        "Shapley values)",
    )
    _add_api_options(bench)

    sub.add_parser("methods", help="list the explanation methods")
    return parser


def _add_exact_max(parser: argparse.ArgumentParser, paid_too: bool = True) -> None:
    parser.add_argument(
        "--exact-max",
        type=int,
        default=12 if paid_too else None,
        help="texts of up to this many segments are compared with exact Shapley values, at 2^n "
        "calls each (12"
        + ("" if paid_too else "; for a hosted API none unless given: they are paid calls")
        + ")",
    )


def _add_api_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hosted APIs")
    group.add_argument(
        "--base-url", help="the API's base URL (OpenAI-compatible servers, Anthropic)"
    )
    group.add_argument("--max-concurrency", type=int, default=8, help="requests in flight (8)")
    group.add_argument("--rpm", type=float, help="client-side limit: requests per minute")
    group.add_argument("--tpm", type=float, help="client-side limit: tokens per minute")
    group.add_argument("--price-in", type=float, default=0.0, help="price per million input tokens")
    group.add_argument(
        "--price-out", type=float, default=0.0, help="price per million output tokens"
    )
    group.add_argument("--max-cost", type=float, help="hard stop: money")
    group.add_argument("--max-total-tokens", type=int, help="hard stop: tokens")
    group.add_argument("--request-template", help='http-json: the JSON body, with "{text}"')
    group.add_argument("--scores-path", help="http-json: dotted path to the scores in the answer")
    group.add_argument("--output-names", help="http-json: comma-separated names of the scores")


def _api_options(args: argparse.Namespace) -> dict[str, Any]:
    from .remote import Prices

    options: dict[str, Any] = {
        "base_url": args.base_url,
        "max_concurrency": args.max_concurrency,
        "requests_per_minute": args.rpm,
        "tokens_per_minute": args.tpm,
        "prices": Prices(args.price_in, args.price_out),
        "max_cost": args.max_cost,
        "max_total_tokens": args.max_total_tokens,
    }
    if args.request_template:
        try:
            options["request_template"] = json.loads(args.request_template)
        except json.JSONDecodeError as exc:
            raise InputError(f"--request-template is not JSON: {exc}") from exc
    if args.scores_path:
        options["scores_path"] = args.scores_path
    if args.output_names:
        options["output_names"] = args.output_names.split(",")
    return options


def _is_api(spec: str) -> bool:
    return spec.split(":", 1)[0] in ("openai-chat", "openai-completions", "anthropic", "http-json")


def cmd_methods() -> int:
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


def parse_method_options(method: str, pairs: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """The method's name and its options: those of a ``NAME:KEY=VALUE`` spec, then ``--option
    KEY=VALUE`` pairs (values read as JSON when they parse)."""
    name, options = parse_method_spec(method)
    options.update(parse_options(pairs or [], "--option"))
    for key in options:
        if key in EXPLAIN_KEYWORDS:
            flag = "--" + key.replace("_", "-")
            raise InputError(f"{key}=... is not a method option: use {flag}")
    return name, options


def _print(exp: Explanation, output: str | None) -> None:
    if output == "total" or (output is None and exp.meta.get("summable_outputs")):
        shown = exp.sum_outputs()
        print(shown.to_text(color=sys.stdout.isatty()))
        return
    print(exp.to_text(output=output, color=sys.stdout.isatty()))


def _write(results: list[Explanation], json_path: str | None, html_path: str | None) -> None:
    if json_path:
        Path(json_path).write_text("\n".join(e.to_json() for e in results) + "\n", encoding="utf-8")
        print(f"wrote {len(results)} explanation(s) to {json_path}")
    if html_path:
        from .render_html import render_html

        Path(html_path).write_text(render_html(results), encoding="utf-8")
        print(f"wrote the HTML report to {html_path}")


def cmd_explain(args: argparse.Namespace) -> int:
    """``blackbox-explain explain``: explain each text, print it, write JSON / HTML."""
    texts = read_texts(args)
    labels = [x for x in args.labels.split(",")] if args.labels else None
    api = _api_options(args) if _is_api(args.model) else None
    model = load_model(args.model, labels, args.max_new_tokens, api)
    explainer = Explainer(
        model,
        cache=args.cache,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
    )
    method, method_options = parse_method_options(args.method, args.option)
    results = []
    for text in texts:
        options = {
            "granularity": args.granularity,
            "masker": args.masker,
            "seed": args.seed,
            "target": args.target,
            "noise_samples": args.noise_samples,
            **method_options,
        }
        if args.dry_run:
            print(explainer.plan(text, method, args.budget, **options))
            continue
        exp = explainer.explain(text, method, args.budget, **options)
        _print(exp, args.output)
        _print_usage(model)
        print()
        if args.evaluate:
            output = None if args.output in (None, "total") else args.output
            evaluation = explainer.evaluate(exp, output=output)
            exp.meta["evaluation"] = evaluation.to_dict()
            print(evaluation.to_text())
            print()
        results.append(exp)
    _write(results, args.json, args.html)
    return 0


def cmd_counterfactual(args: argparse.Namespace) -> int:
    """``blackbox-explain counterfactual``: search the smallest edits that change the answer."""
    from .counterfactual import counterfactuals
    from .editors import SubstitutionTable

    texts = read_texts(args)
    labels = args.labels.split(",") if args.labels else None
    model = load_model(args.model, labels)
    editor = None
    if args.substitutions:
        try:
            table = json.loads(args.substitutions)
        except json.JSONDecodeError as exc:
            raise InputError(f"--substitutions is not JSON: {exc}") from exc
        if not isinstance(table, dict):
            raise InputError('--substitutions must be a JSON object like {"good": ["bad"]}')
        editor = SubstitutionTable(table)
    output: int | str | None = args.output
    results = []
    for text in texts:
        result = counterfactuals(
            model,
            text,
            args.budget,
            target_label=args.target_label,
            output=output,
            threshold=args.threshold,
            delta=args.delta,
            editor=editor,
            deletions=not args.no_deletions,
            max_edits=args.max_edits,
            k=args.k,
            cache=args.cache,
        )
        print(result.to_text())
        print()
        results.append(result)
    if args.json:
        Path(args.json).write_text("\n".join(r.to_json() for r in results) + "\n", encoding="utf-8")
        print(f"wrote {len(results)} result(s) to {args.json}")
    if args.html:
        from .render_html import counterfactual_page

        Path(args.html).write_text(counterfactual_page(results), encoding="utf-8")
        print(f"wrote the HTML page to {args.html}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """``blackbox-explain bench``: the methods x budgets grid (and peers), written to ``--out``."""
    from .bench import plan_bench, run_bench
    from .peers import LLM_PEERS, PEERS

    texts = args.text if args.text else read_texts(args)
    if args.peers == "all":
        peers = [p for p in PEERS if p not in LLM_PEERS or args.output == "sum"]
    else:
        peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise InputError(f"unknown peers {unknown}; valid: {', '.join(PEERS)}")
    budgets = _int_list(args.budgets, "--budgets")
    peer_budgets = (
        None if args.peer_budgets is None else _int_list(args.peer_budgets, "--peer-budgets")
    )
    methods = [m for m in args.methods.split(",") if m]
    labels = args.labels.split(",") if args.labels else None
    api = _api_options(args) if _is_api(args.model) else None
    model = load_model(args.model, labels, args.max_new_tokens, api)
    grid: dict[str, Any] = {
        "methods": methods,
        "budgets": budgets,
        "seeds": args.seeds,
        "peers": peers,
        "output": args.output,
        "exact_max_segments": args.exact_max,
        "cache": args.cache,
        "peer_budgets": peer_budgets,
    }
    if args.dry_run:
        print(plan_bench(model, texts, **grid))
        return 0
    per_text = len(methods) * len(budgets) + len(peers) * len(peer_budgets or budgets)
    bar = Progress(
        len(texts) * per_text * args.seeds,
        "bench",
        False if args.no_progress else None,
        unit="explanations",
    )
    try:
        result = run_bench(
            model,
            texts,
            progress=lambda _cell: bar.update(1),
            show_progress=False if args.no_progress else None,
            **grid,
        )
    except BlackboxExplainError as exc:
        partial = getattr(exc, "partial_bench", None)  # set when the model stopped the run
        bar.close()
        if partial is not None and partial.cells:
            for path in partial.save(args.out):
                print(f"wrote {path} (the {partial.meta['texts']} texts finished before the stop)")
        _print_usage(model)
        if partial is not None and not args.cache:
            print(
                "blackbox-explain: the answers received are lost with this run: pass --cache "
                "PATH to keep them, and a rerun asks the model only for the rest",
                file=sys.stderr,
            )
        raise
    bar.close()
    print(result.to_markdown())
    for path in result.save(args.out):
        print(f"wrote {path}")
    _print_usage(model)
    return 0


def _print_usage(model: Any) -> None:
    """A hosted API's requests, tokens and cost so far (nothing for local models)."""
    usage = getattr(model, "usage", None)
    if usage is not None:
        print(
            f"API usage so far: {usage.requests} requests, {usage.retries} retries, "
            f"{usage.input_tokens} input / {usage.output_tokens} output tokens, "
            f"cost {usage.cost:.4g}"
        )


def _int_list(value: str, option: str) -> list[int]:
    try:
        numbers = [int(b) for b in value.split(",") if b.strip()]
    except ValueError as exc:
        raise InputError(f"{option} must be comma-separated integers: {exc}") from exc
    if not numbers or min(numbers) < 1:
        raise InputError(f"{option} must be positive integers, got {value!r}")
    return numbers


DEMO_PROMPT = "Is a tomato a fruit or a vegetable? Answer in one short sentence."


def cmd_demo(args: argparse.Namespace) -> int:
    """``blackbox-explain demo``: explain the embedded models offline and write an HTML report."""
    _limit_threads()
    results: list[Explanation] = []
    if args.model is not None:
        specs = [(args.model, DEMO_TEXT, args.budget)]
    else:
        specs = [("smollm2", DEMO_PROMPT, args.budget), ("minilm-sentiment", DEMO_TEXT, 256)]
    for spec, text, budget in specs:
        print(f"== {spec}: {text!r}", flush=True)
        model = load_model(spec)
        exp = Explainer(model).explain(text, "auto", budget)
        if exp.meta.get("target") and exp.meta.get("summable_outputs"):
            print(f"answer explained: {exp.meta['target']!r}\n")
        _print(exp, "positive" if "positive" in exp.output_names else None)
        print(
            f"\n{exp.meta['n_calls']} model calls in {exp.meta['elapsed_seconds']:.1f}s "
            f"(method: {exp.meta.get('chosen_method', exp.meta['method'])})\n"
        )
        results.append(exp)
    _write(results, args.json, args.html)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``blackbox-explain evaluate``: faithfulness of saved explanations on the explained model."""
    from .maskers import masker_name

    explanations = Explanation.load_many(args.explanations)
    labels = [x for x in args.labels.split(",")] if args.labels else None
    api = _api_options(args) if _is_api(args.model) else None
    model = load_model(args.model, labels, api=api)  # an LM's answer is the recorded one
    explainer = Explainer(
        model,
        cache=args.cache,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
    )
    output = args.output
    records = []
    for number, exp in enumerate(explanations, 1):
        recorded = exp.meta.get("masker")
        masker = masker_name(recorded) if isinstance(recorded, str) else "delete"
        if masker is None:
            raise InputError(
                f"explanation {number} was made with the masker {recorded}, which the command "
                "line cannot rebuild: evaluate it in Python with "
                "blackbox_explain.evaluate(explanation, model, masker=...)"
            )
        if args.masker is not None and args.masker != masker:
            raise InputError(
                f"explanation {number} was made with the {masker!r} masker, not "
                f"{args.masker!r}: faithfulness must remove segments the same way"
            )
        options = {
            "output": output,
            "masker": masker,
            "loo": not args.no_loo,
            "exact_max_segments": args.exact_max,
            "budget": args.budget,
        }
        text = exp.segmentation.text
        shown = text if len(text) <= 60 else text[:57] + "..."
        method = exp.meta.get("method", "?")
        print(f"#{number} {shown!r} ({method}, {len(exp.segmentation)} segments)")
        if args.dry_run:
            print(explainer.plan_evaluation(exp, **options))
            continue
        evaluation = explainer.evaluate(exp, **options)
        print(evaluation.to_text())
        print()
        records.append({"text": text, "method": method, **evaluation.to_dict()})
    if args.json and not args.dry_run:
        lines = [json.dumps(r, allow_nan=False) for r in records]
        Path(args.json).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(records)} evaluation(s) to {args.json}")
    return 0


def _limit_threads() -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "no_progress", False) or not sys.stderr.isatty():
        # Hugging Face's own bars (e.g. "Loading weights") follow this, read at their import
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        if args.command == "methods":
            return cmd_methods()
        if args.command == "explain":
            return cmd_explain(args)
        if args.command == "counterfactual":
            return cmd_counterfactual(args)
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        return cmd_demo(args)
    except BlackboxExplainError as exc:
        print(f"blackbox-explain: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`| head`): not an error; keep Python's exit flush quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"blackbox-explain: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("blackbox-explain: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
