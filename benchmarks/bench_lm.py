"""SmolLM2: explanation time against the raw cost of the same forward passes, and against
Captum's LLMAttribution (FeatureAblation, ShapleyValueSampling) on the same prompts, features
(words, deleted) and number of perturbations.

    python benchmarks/bench_lm.py --out benchmarks/out

"raw" is the time of one batched teacher-forced pass over exactly the prompts the method sent
(our own `continuation_logprobs`, batch size 16); a ratio of 1.0 means no overhead at all.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from blackbox_explain.adapters import load_smollm2

import blackbox_explain as bbx
from blackbox_explain.segmentation import Segmentation

PROMPTS = [
    "Is a tomato a fruit or a vegetable? Answer in one short sentence.",
    "Name the capital city of France and nothing else.",
    "Translate the word cat into French. Give only the word.",
    "Is the sentence 'I loved this film' positive or negative?",
    "What is two plus three? Reply with a number.",
]


class Recording:
    """Wraps a bound LM scorer and records every text it scores."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.output_names = inner.output_names
        self.max_batch_size = inner.max_batch_size
        self.name = inner.name
        self.summable_outputs = True
        self.texts: list[str] = []

    def score(self, texts):
        self.texts.extend(texts)
        return self.inner.score(texts)


def raw_seconds(lm, texts, target_ids) -> float:
    started = time.perf_counter()
    lm.continuation_logprobs(texts, target_ids)
    return time.perf_counter() - started


def raw_seconds_for_ids(lm, prompts_ids, target_ids) -> float:
    """``raw_seconds`` for prompts given as token ids (the chat template already applied)."""
    started = time.perf_counter()
    lm.continuation_logprobs_of_ids(prompts_ids, target_ids)
    return time.perf_counter() - started


def captum_run(lm, prompt: str, target: str, method: str, n_samples: int, in_tokens: bool):
    import torch
    from captum.attr import FeatureAblation, LLMAttribution, ShapleyValueSampling, TextTemplateInput

    seg = Segmentation.words(prompt)
    gaps = [g.replace("{", "{{").replace("}", "}}") for g in seg.gaps]
    user_template = gaps[0] + "".join("{}" + g for g in gaps[1:])
    messages = [{"role": "user", "content": "\x00"}]
    chat = lm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    before, after = chat.split("\x00")
    template = (
        before.replace("{", "{{").replace("}", "}}")
        + user_template
        + after.replace("{", "{{").replace("}", "}}")
    )
    words = [s.text for s in seg.segments]
    inp = TextTemplateInput(template, values=words, baselines=[""] * len(words))
    sequences: list[list[int]] = []  # the input ids of every forward Captum runs
    original_forward = lm.model.forward

    def recording_forward(*a, **k):  # captum calls forward directly, so hooks do not see it
        ids = k["input_ids"] if "input_ids" in k else a[0]
        sequences.extend(ids.tolist())
        return original_forward(*a, **k)

    lm.model.forward = recording_forward
    algo = (
        FeatureAblation(lm.model) if method == "FeatureAblation" else ShapleyValueSampling(lm.model)
    )
    attr = LLMAttribution(algo, lm.tokenizer)
    kwargs = {"n_samples": n_samples} if method == "ShapleyValueSampling" else {}
    started = time.perf_counter()
    with torch.inference_mode():
        result = attr.attribute(inp, target=target, forward_in_tokens=in_tokens, **kwargs)
    seconds = time.perf_counter() - started
    del lm.model.forward  # back to the class's method
    return seconds, sequences, result


def captum_prompts(sequences: list[list[int]], target_ids: list[int], in_tokens: bool):
    """The perturbed prompts (token ids) behind Captum's forwards: with
    ``forward_in_tokens=False`` each forward is prompt + answer; with ``True`` the first forward
    of each prompt is the prompt itself, the next ones add one answer token each (the whole
    sequence again, or only the new token when the model's cache is used)."""
    n = len(target_ids)
    if not in_tokens:
        assert all(ids[-n:] == target_ids for ids in sequences)
        return [ids[:-n] for ids in sequences]
    prompts = []
    for i, ids in enumerate(sequences):
        grows_previous = i > 0 and ids[:-1] == sequences[i - 1]
        if len(ids) > 1 and not grows_previous:
            prompts.append(ids)
    return prompts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--samples", type=int, default=3, help="permutations for sampling methods")
    parser.add_argument("--out", default="benchmarks/out")
    parser.add_argument("--no-captum", action="store_true")
    parser.add_argument(
        "--captum-default-prompts",
        type=int,
        default=1,
        help="prompts on which Captum's (slow) default forward_in_tokens=True also runs",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    lm = load_smollm2(max_new_tokens=8, batch_size=16)
    rows = []
    for p_index, prompt in enumerate(PROMPTS[: args.prompts]):
        target_ids = lm.generate_ids(prompt)
        target = lm.tokenizer.decode(target_ids, skip_special_tokens=True)
        n = len(Segmentation.words(prompt))
        lm.continuation_logprobs([prompt], target_ids)  # warm-up
        direct = lm.continuation_logprobs([prompt], target_ids)[0]
        for method, budget in (
            ("occlusion", n + 2),
            ("permutation", 2 * args.samples * (n - 1) + 2),
        ):
            timings, raws = [], []
            for _ in range(2):  # best of two, each with a fresh cache (this machine is shared)
                bound = Recording(lm.bind(prompt, target))
                started = time.perf_counter()
                exp = bbx.explain(bound, prompt, method=method, budget=budget, seed=0)
                timings.append(time.perf_counter() - started)
                raws.append(raw_seconds(lm, bound.texts, target_ids))
            seconds, raw = min(timings), min(raws)
            rows.append(
                {
                    "prompt": prompt,
                    "n": n,
                    "tool": "blackbox-explain",
                    "method": method,
                    "forwards": len(bound.texts),
                    "seconds": seconds,
                    "raw_seconds": raw,
                    "ratio": seconds / raw,
                    "full_value_error": float(np.abs(exp.full_value - direct).max()),
                }
            )
            print(rows[-1], flush=True)
        if args.no_captum:
            continue
        for method in ("FeatureAblation", "ShapleyValueSampling"):
            for in_tokens in (False, True)[: 2 if p_index < args.captum_default_prompts else 1]:
                seconds, sequences, result = captum_run(
                    lm, prompt, target, method, args.samples, in_tokens
                )
                forwards = len(sequences)
                # with forward_in_tokens=True Captum runs one forward per target token; the job
                # itself is one teacher-forced pass per perturbed prompt: the raw cost is ours
                # on exactly the prompts Captum perturbed
                prompts_ids = captum_prompts(sequences, target_ids, in_tokens)
                perturbations = len(prompts_ids)
                raw = raw_seconds_for_ids(lm, prompts_ids, target_ids)
                captum_total = (
                    float(result.seq_attr.sum()) if result.seq_attr is not None else float("nan")
                )
                rows.append(
                    {
                        "prompt": prompt,
                        "n": n,
                        "tool": "captum",
                        "method": f"{method} (forward_in_tokens={in_tokens})",
                        "forwards": forwards,
                        "perturbations": perturbations,
                        "seconds": seconds,
                        "raw_seconds": raw,
                        "ratio": seconds / raw,
                        "captum_sum": captum_total,
                    }
                )
                print(rows[-1], flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lm.json").write_text(json.dumps(rows, indent=1))
    lines = [
        f"Command: `{' '.join(sys.argv)}`",
        "",
        f"Machine: Python {platform.python_version()}, {platform.machine()}, torch threads 2",
        "",
        "| tool | method | model forwards | perturbed prompts | s / explanation "
        "| raw batched pass (s) | time / raw |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for key in dict.fromkeys((r["tool"], r["method"]) for r in rows):
        sel = [r for r in rows if (r["tool"], r["method"]) == key]
        lines.append(
            f"| {key[0]} | {key[1]} | {np.mean([r['forwards'] for r in sel]):.0f} | "
            f"{np.mean([r.get('perturbations', r['forwards']) for r in sel]):.0f} | "
            f"{np.mean([r['seconds'] for r in sel]):.2f} | {np.mean([r['raw_seconds'] for r in sel]):.2f} | "
            f"{np.median([r['ratio'] for r in sel]):.2f}x |"
        )
    ours = [r for r in rows if r["tool"] == "blackbox-explain"]
    lines += [
        "",
        f"Largest difference between our v(full prompt) and a direct teacher-forced pass: "
        f"{max(r['full_value_error'] for r in ours):.2e}",
    ]
    report = "\n".join(lines)
    (out / "lm.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
