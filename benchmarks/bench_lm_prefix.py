"""SmolLM2: scoring perturbed prompts with the shared prompt prefix run once, against running
every prompt in full.

    python benchmarks/bench_lm_prefix.py --out benchmarks/out

For each prompt, the texts an explanation sends (random coalitions of its words, absent words
deleted) are scored as the log-probs of the prompt's greedy answer (teacher forcing) in two
ways, alternated over several repetitions on the same texts:

- "full prompts": the previous algorithm, kept here as the reference: each batch left-padded
  to its longest prompt, every prompt run from its first token, logits for every position;
- "shared prefix": ``HFCausalLM.continuation_logprobs``: the tokens the batch's prompts share
  (the chat template's head, SmolLM2's default system prompt, a user system prompt) run once
  and their keys and values reused, logits only where the answer is read.

Reported: the best time of each (the machine is shared), their ratio, and the largest absolute
difference between the two results.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from functools import partial
from pathlib import Path

import numpy as np
from bench_lm import PROMPTS  # the same 5 instructions as section 3
from blackbox_explain.adapters import load_smollm2

SYSTEM_PROMPT = (
    "You are a careful assistant. Answer briefly and precisely, in plain English, without "
    "repeating the question."
)


def full_prompt_logprobs(lm, prompts, tail) -> np.ndarray:
    """The previous algorithm: every prompt in full, left-padded, logits everywhere."""
    import torch

    out = np.empty((len(prompts), len(tail)))
    for start in range(0, len(prompts), lm.batch_size):
        chunk = [lm.prompt_ids(p) + tail for p in prompts[start : start + lm.batch_size]]
        width = max(len(ids) for ids in chunk)
        pad = lm._pad_id()
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in chunk])
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in chunk])
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        with torch.inference_mode():
            logits = lm.model(
                input_ids=input_ids, attention_mask=mask, position_ids=positions
            ).logits.float()
        n = len(tail)
        logprobs = torch.log_softmax(logits[:, -n - 1 : -1, :], dim=-1)
        index = torch.tensor(tail).view(1, n, 1).expand(len(chunk), n, 1)
        out[start : start + len(chunk)] = logprobs.gather(2, index).squeeze(2).numpy()
    return out


def coalitions(prompt: str, n_texts: int, rng: np.random.Generator) -> list[str]:
    words = prompt.split()
    texts = {prompt}
    while len(texts) < n_texts:
        keep = rng.random(len(words)) < 0.5
        texts.add(" ".join(w for w, k in zip(words, keep, strict=True) if k))
    return sorted(texts)


def timed(fn) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=64, help="perturbed prompts per prompt")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions of each way")
    parser.add_argument("--batch-size", type=int, default=8, help="HFCausalLM's default: 8")
    parser.add_argument("--out", default="benchmarks/out")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    rows = []
    for system in (None, SYSTEM_PROMPT):
        lm = load_smollm2(system_prompt=system, batch_size=args.batch_size, max_new_tokens=8)
        for prompt in PROMPTS:
            tail = lm.generate_ids(prompt)
            texts = coalitions(prompt, args.texts, rng)
            full_s, shared_s = [], []
            full = shared = None
            for _ in range(args.repeats):  # alternated, so both see the same machine load
                seconds, full = timed(partial(full_prompt_logprobs, lm, texts, tail))
                full_s.append(seconds)
                seconds, shared = timed(partial(lm.continuation_logprobs, texts, tail))
                shared_s.append(seconds)
            row = {
                "system_prompt": system is not None,
                "prompt": prompt,
                "prompt_tokens": len(lm.prompt_ids(prompt)),
                "answer_tokens": len(tail),
                "texts": len(texts),
                "full_s": min(full_s),
                "shared_s": min(shared_s),
                "max_abs_diff": float(np.abs(full - shared).max()),
                "max_rel_diff": float((np.abs(full - shared) / np.abs(full).clip(1e-3)).max()),
            }
            rows.append(row)
            print(
                f"system={row['system_prompt']!s:5} {row['prompt_tokens']:3} tokens: "
                f"full {row['full_s']:.2f}s shared {row['shared_s']:.2f}s "
                f"ratio {row['shared_s'] / row['full_s']:.2f} diff {row['max_abs_diff']:.1e}",
                flush=True,
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lm_prefix.json").write_text(json.dumps(rows, indent=1))
    lines = [
        f"Machine: Python {platform.python_version()}, {platform.machine()}, torch threads 2; "
        f"{args.texts} perturbed prompts per prompt, batch size {args.batch_size}, best of "
        f"{args.repeats}.",
        "",
        "| system prompt | prompt tokens | full prompts (s) | shared prefix (s) | ratio "
        "| max abs. diff |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {'yes' if row['system_prompt'] else 'default'} | {row['prompt_tokens']} "
            f"| {row['full_s']:.2f} | {row['shared_s']:.2f} "
            f"| {row['shared_s'] / row['full_s']:.2f} | {row['max_abs_diff']:.1e} |"
        )
    for system in (False, True):
        picked = [r for r in rows if r["system_prompt"] == system]
        total = sum(r["shared_s"] for r in picked) / sum(r["full_s"] for r in picked)
        label = "with a system prompt" if system else "default template"
        lines.append(f"\nTotal ratio, {label}: {total:.2f}")
    text = "\n".join(lines)
    (out / "lm_prefix.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
