"""Model specs on the command line: from ``-m SPEC`` (and the hosted-API options) to a scorer."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import InputError
from ..redact import redact_url

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
  python:MODULE:NAME   a Python callable list[str] -> array, or a Scorer object / class, from a
                       module of the current folder or a file (python:path/to/file.py:NAME)
API keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY / HTTPJSON_API_KEY; they are never written
to the cache, the JSON or the report.
"""


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
        from ..examples import example_scorer

        return example_scorer()
    if spec == "minilm-sentiment":
        from blackbox_explain.adapters import SentenceSimilarity

        return SentenceSimilarity.minilm_sentiment()
    if spec == "smollm2":
        from blackbox_explain.adapters import load_smollm2

        return load_smollm2(**lm_options)
    if spec.startswith("hf-lm:"):
        from blackbox_explain.adapters import HFCausalLM

        return HFCausalLM.from_pretrained(model_folder(spec[6:]), **lm_options)
    if spec.startswith("hf-classifier:"):
        from blackbox_explain.adapters import HFClassifier

        return HFClassifier.from_pretrained(model_folder(spec[14:]))
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
        module_name, _, attr = spec[7:].rpartition(":")
        if not (module_name and attr):
            raise InputError(f"{spec!r}: write python:MODULE:NAME or python:FILE.py:NAME")
        try:
            obj = getattr(user_module(module_name), attr)
        except (ValueError, ImportError, AttributeError) as exc:
            raise InputError(f"cannot load {spec!r}: {exc}") from exc
        return obj() if isinstance(obj, type) else obj
    if Path(spec).is_dir():
        kind = folder_kind(Path(spec))
        return load_model(f"{kind}:{spec}", labels, max_new_tokens)
    hint = spec_hint(spec)
    raise InputError(
        f"unknown model spec {redact_url(spec)!r}"
        + (f": {hint}" if hint else "")
        + f"\n{MODEL_HELP}"
    )


#: the specs' prefixes (before ``:``) and whole names, for :func:`spec_hint`
SPEC_PREFIXES = (
    "hf-lm",
    "hf-classifier",
    "openai-chat",
    "openai-completions",
    "anthropic",
    "http-json",
    "python",
)
SPEC_NAMES = ("example", "minilm-sentiment", "smollm2")


def spec_hint(spec: str) -> str | None:
    """What an unknown model spec probably meant: a Python file or module without ``python:``,
    a misspelt prefix or name, or a model folder that does not exist."""
    import difflib

    prefix, colon, rest = spec.partition(":")
    if prefix.lower() in ("http", "https") and rest.startswith("//"):
        return (
            "a JSON endpoint is http-json:URL; an OpenAI-compatible server is "
            "openai-chat:MODEL with --base-url URL"
        )
    if colon and prefix.endswith(".py") and rest.isidentifier():
        return f"a callable in a Python file is python:{spec}"
    if colon and rest and not rest.startswith("//"):
        close = difflib.get_close_matches(prefix.lower(), SPEC_PREFIXES, n=1, cutoff=0.6)
        if close:
            return f"did you mean {close[0]}:{redact_url(rest)}?"
        if rest.isidentifier() and all(p.isidentifier() for p in prefix.split(".")):
            return f"a callable in a Python module is python:{spec}"
    if not colon:
        close = difflib.get_close_matches(spec.lower(), SPEC_NAMES, n=1, cutoff=0.6)
        if close:
            return f"did you mean {close[0]}?"
        path = Path(spec)
        if path.is_file():
            return "a file, not a model folder (a Python model: python:FILE.py:NAME)"
        if "/" in spec or "\\" in spec or spec.startswith("."):
            return "no such model folder"
    return None


def user_module(name: str) -> ModuleType:
    """The module of a ``python:`` spec: a dotted name importable from the current folder (as
    ``python -m`` would find it; an installed console script does not look there), or the path
    of a ``.py`` file, run as a module of its own (a file named like a module already imported,
    ``test.py`` or ``json.py``, is still that file) with its folder importable for its own
    imports."""
    if not name.endswith(".py"):
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        return importlib.import_module(name)
    path = Path(name).resolve()
    if not path.is_file():
        raise ImportError(f"no file {name}")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    unique = f"blackbox_explain_user_{path.stem}_{abs(hash(str(path))):x}"
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module  # before it runs: dataclasses and pickle look it up there
    spec.loader.exec_module(module)
    return module


def model_folder(path: str) -> str:
    """The path, when it is a folder; a clear error otherwise."""
    if not Path(path).is_dir():
        raise InputError(f"model folder {path!r} does not exist")
    return path


def folder_kind(folder: Path) -> str:
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


def add_api_options(parser: argparse.ArgumentParser) -> None:
    """The options of the hosted-API adapters (base URL, concurrency, limits, prices, caps)."""
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


def api_options(args: argparse.Namespace) -> dict[str, Any]:
    """The hosted-API adapters' keyword arguments from :func:`add_api_options`' options."""
    from ..remote import Prices

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


def is_api(spec: str) -> bool:
    """Whether a model spec names a hosted API."""
    return spec.split(":", 1)[0] in ("openai-chat", "openai-completions", "anthropic", "http-json")


def print_usage(model: Any) -> None:
    """A hosted API's requests, tokens and cost so far (nothing for local models)."""
    usage = getattr(model, "usage", None)
    if usage is not None:
        print(
            f"API usage so far: {usage.requests} requests, {usage.retries} retries, "
            f"{usage.input_tokens} input / {usage.output_tokens} output tokens, "
            f"cost {usage.cost:.4g}"
        )


def model_from_args(args: argparse.Namespace) -> Any:
    """The model a subcommand's ``--model`` names, with its ``--labels``, ``--max-new-tokens``
    and hosted-API options where the subcommand has them."""
    return model_spec_from_args(args).load()


def model_spec_from_args(args: argparse.Namespace) -> ModelSpec:
    """The :class:`ModelSpec` of a subcommand's ``--model`` and its options (nothing loaded)."""
    labels = tuple(args.labels.split(",")) if getattr(args, "labels", None) else None
    has_api_options = hasattr(args, "max_concurrency")
    api = api_options(args) if has_api_options and is_api(args.model) else None
    return ModelSpec(args.model, labels, getattr(args, "max_new_tokens", 24), api)


#: hosted-API options that cap what all copies of a model spend or ask together
SHARED_CAPS = ("max_cost", "max_total_tokens", "requests_per_minute", "tokens_per_minute")


@dataclass(frozen=True)
class ModelSpec:
    """A model by its spec string (as after ``-m``) and options, not loaded: what travels to
    the Ray actors of ``explain_many(engine="ray")``, each of which loads the model itself.

    Hosted-API keys are not part of it: each actor reads them from its own environment
    (``OPENAI_API_KEY``, ...; on a cluster, set them in Ray's ``runtime_env``).

    Example: ``ModelSpec("openai-chat:gpt-4o-mini", labels=("positive", "negative"),
    api={"max_cost": 5.0, "max_concurrency": 16})``.
    """

    spec: str
    labels: tuple[str, ...] | None = None
    max_new_tokens: int = 24
    api: dict[str, Any] | None = None

    def __repr__(self) -> str:
        # Ray prints what it ships to its actors: a base URL's secrets stay out of its logs
        from ..redact import redact_url

        api = dict(self.api or {})
        if api.get("base_url"):
            api["base_url"] = redact_url(str(api["base_url"]))
        shown = api if self.api is not None else None
        return (
            f"ModelSpec(spec={redact_url(self.spec)!r}, labels={self.labels!r}, "
            f"max_new_tokens={self.max_new_tokens!r}, api={shown!r})"
        )

    def load(self) -> Any:
        """The scorer (or model with ``bind``) the spec names."""
        labels = list(self.labels) if self.labels else None
        return load_model(self.spec, labels, self.max_new_tokens, self.api)

    def shared_by(self, parts: int) -> ModelSpec:
        """The spec for each of ``parts`` copies running at once: the money and token caps,
        the rate limits and ``max_concurrency`` divided among them, so that together they
        never spend or ask more than the spec allows."""
        if not self.api or parts <= 1:
            return self
        api = dict(self.api)
        for name in SHARED_CAPS:
            if api.get(name) is not None:
                share = api[name] / parts
                api[name] = int(share) if name == "max_total_tokens" else share
        concurrency = api.get("max_concurrency")
        if concurrency is not None:
            api["max_concurrency"] = max(1, int(concurrency) // parts)
        return replace(self, api=api)
