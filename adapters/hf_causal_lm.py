"""Causal language models as scorers: log-probability of a fixed answer given each prompt.

``HFCausalLM.bind(prompt, target)`` returns a scorer whose outputs are the log-probabilities of
each target token given a perturbed prompt (teacher forcing, one forward pass per batch).  With
no target, the answer is first generated greedily from the unperturbed prompt.  For chat models
the perturbation applies to the user's message and the chat template is applied after rendering,
so template tokens are never masked.  With ``labels=[...]`` the model becomes a classifier over
candidate continuations (log-probs or normalised probabilities).
"""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_explain.errors import InputError, UnknownNameError
from blackbox_explain.resolve import check_target, label_list
from blackbox_explain.scoring import CallableScorer

from .local_files import files_revision
from .torch_runtime import PlacedModel, torch_module, transformers_module

LABEL_OUTPUTS = ("logprobs", "probabilities")
#: shared leading tokens from which a batch runs them once and reuses their keys and values
MIN_SHARED_PREFIX = 4


class HFCausalLM(PlacedModel):
    """A transformers causal LM that can be explained through :func:`blackbox_explain.explain`.

    Parameters
    ----------
    model, tokenizer:
        A loaded ``AutoModelForCausalLM`` and its tokenizer.
    chat:
        Wrap each (perturbed) prompt as a user message with the tokenizer's chat template
        (default: when the tokenizer has one).
    system_prompt:
        Optional system message for chat models (never perturbed).
    labels:
        Candidate answers for label mode (e.g. ``[" positive", " negative"]``).
    label_output:
        ``"probabilities"`` (normalised over the labels, default) or ``"logprobs"``.
    max_new_tokens:
        Length limit of the greedy answer generated when no target is given.
    batch_size:
        Prompts per forward pass.
    model_id:
        A stable identifier of the model (set by :meth:`from_pretrained` to the resolved path);
        it keys the persistent cache.  Without it, answers are cached for this process only.
    revision:
        The version of the model's weights, also part of the cache key (set by
        :meth:`from_pretrained` from the files' names, sizes and modification times, so a model
        re-saved in place never gets the old model's cached answers; pass your own, e.g. a
        training step, for a model built in memory).
    """

    #: its answers are greedy (no sampling): the same prompt, the same answer
    deterministic = True

    _share_prefix = True  # off after an architecture refused a shared prefix cache

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        chat: bool | None = None,
        system_prompt: str | None = None,
        labels: Sequence[str] | None = None,
        label_output: str = "probabilities",
        max_new_tokens: int = 24,
        batch_size: int = 8,
        device: str | None = None,
        model_id: str | None = None,
        name: str | None = None,
        revision: str | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.chat = chat
        self.system_prompt = system_prompt
        self.labels = label_list(labels, "HFCausalLM")
        self.label_output = label_output
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.device = device
        self.model_id = model_id
        self.revision = revision
        self.name = name or f"hf-lm:{model_id or type(model).__name__}"

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(
        cls, path: str | Path, gguf_file: str | None = None, **options: Any
    ) -> HFCausalLM:
        """Load a causal LM and its tokenizer from a local folder (optionally a GGUF file in it)."""
        transformers = transformers_module()
        torch = torch_module()
        folder = str(path)
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        options.setdefault("revision", files_revision(Path(folder) / (gguf_file or "")))
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, **extra)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch.float32, **extra
        )
        options.setdefault("model_id", str(Path(folder).resolve() / (gguf_file or "")))
        return cls(model, tokenizer, **options)

    # ------------------------------------------------------------------ identity
    @property
    def fingerprint(self) -> str | None:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        if self.model_id is None:
            return None
        return json.dumps(
            [
                "hf-causal-lm",
                self.model_id,
                self.revision,
                self.uses_chat,
                self.system_prompt,
                self.labels,
                self.label_output,
                self.max_new_tokens,
            ]
        )

    @property
    def uses_chat(self) -> bool:
        """Whether prompts are wrapped in the tokenizer's chat template (``chat=`` decides when
        given)."""
        if self.chat is not None:
            return self.chat
        return bool(getattr(self.tokenizer, "chat_template", None))

    def __repr__(self) -> str:
        return f"HFCausalLM(name={self.name!r}, chat={self.uses_chat}, labels={self.labels!r})"

    # ------------------------------------------------------------------ prompts
    def _messages(self, user_text: str) -> list[dict[str, str]]:
        messages = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": user_text})
        return messages

    def prompt_text(self, user_text: str) -> str:
        """The prompt as text: the chat template around the user text, or the plain text."""
        if not self.uses_chat:
            return user_text
        return str(
            self.tokenizer.apply_chat_template(
                self._messages(user_text), add_generation_prompt=True, tokenize=False
            )
        )

    def prompt_ids(self, user_text: str) -> list[int]:
        """Token ids of a prompt: the chat template around the user text, or the plain text."""
        if self.uses_chat:
            ids = self.tokenizer.apply_chat_template(
                self._messages(user_text),
                add_generation_prompt=True,
                tokenize=True,
                return_dict=False,
            )
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return [int(i) for i in ids]
        ids = self.tokenizer(user_text, add_special_tokens=True)["input_ids"]
        if not ids:
            bos = self.tokenizer.bos_token_id or self.tokenizer.eos_token_id
            ids = [bos] if bos is not None else []
        return [int(i) for i in ids]

    def target_ids(self, target: str) -> list[int]:
        """Token ids of an answer as it follows the prompt (no special tokens)."""
        ids = self.tokenizer(target, add_special_tokens=False)["input_ids"]
        if not ids:
            raise InputError(f"the target {target!r} has no tokens")
        return [int(i) for i in ids]

    # ------------------------------------------------------------------ model calls
    def generate_ids(self, prompt: str) -> list[int]:
        """Greedy continuation of ``prompt`` (its token ids, end-of-sequence excluded)."""
        torch = torch_module()
        self._ready()
        ids = self.prompt_ids(prompt)
        self.check_context(len(ids), 1, "answer")
        room = self.max_new_tokens
        if self.context_length is not None:  # an answer stops at the end of the context
            room = min(room, self.context_length - len(ids))
        input_ids = torch.tensor([ids], device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=room,
                do_sample=False,
                pad_token_id=self._pad_id(),
            )
        new = [int(t) for t in out[0, len(ids) :]]
        stops = {
            self.tokenizer.eos_token_id,
            *(_as_list(self.model.generation_config.eos_token_id)),
        }
        for position, token in enumerate(new):
            if token in stops:
                return new[:position]
        return new

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """Greedy answers to many prompts (text in, text out)."""
        return [
            self.tokenizer.decode(self.generate_ids(p), skip_special_tokens=True) for p in prompts
        ]

    @property
    def context_length(self) -> int | None:
        """The longest sequence the model was built for (its config's position limit)."""
        config = getattr(self.model, "config", None)
        for name in ("max_position_embeddings", "n_positions", "n_ctx"):
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def check_context(self, prompt_tokens: int, answer_tokens: int, answer: str) -> None:
        """Refuse a prompt plus answer longer than the model's context, naming both lengths
        (past it a model with learned positions fails deep inside torch, others degrade)."""
        limit = self.context_length
        if limit is not None and prompt_tokens + answer_tokens > limit:
            plural = "" if answer_tokens == 1 else "s"
            raise InputError(
                f"the prompt ({prompt_tokens} tokens) plus the {answer} ({answer_tokens} "
                f"token{plural}) exceed the {limit}-token context of {self.name}; shorten the text"
            )

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        return int(pad if pad is not None else 0)

    def continuation_logprobs(
        self, prompts: Sequence[str], continuation: Sequence[int]
    ) -> np.ndarray:
        """``(len(prompts), len(continuation))`` log-probs of each continuation token.

        One forward pass per batch.  The tokens every prompt of the batch starts with (the chat
        template's head, a system prompt) are run once and their keys and values shared by the
        batch; the rest is right-padded after them, and logits are computed only where the
        continuation is read.  A batched result equals the one-at-a-time result up to float
        rounding (~1e-5 relative).
        """
        self._ready()
        return self.continuation_logprobs_of_ids(
            [self.prompt_ids(p) for p in prompts], continuation
        )

    def continuation_logprobs_of_ids(
        self, prompts_ids: Sequence[Sequence[int]], continuation: Sequence[int]
    ) -> np.ndarray:
        """:meth:`continuation_logprobs` for prompts already tokenized (the chat template
        applied, as :meth:`prompt_ids` returns them)."""
        self._ready()
        tail = [int(t) for t in continuation]
        out = np.empty((len(prompts_ids), len(tail)))
        for start in range(0, len(prompts_ids), self.batch_size):
            chunk = [
                [int(t) for t in ids] + tail for ids in prompts_ids[start : start + self.batch_size]
            ]
            out[start : start + len(chunk)] = self._tail_logprobs(chunk, tail)
        return out

    def _tail_logprobs(self, chunk: list[list[int]], tail: list[int]) -> np.ndarray:
        """Log-probs of ``tail`` at the end of each token sequence of ``chunk``."""
        torch = torch_module()
        n_tail = len(tail)
        # the logits read start at the token before the tail: never inside the shared part
        shared = _common_prefix_length(chunk, min(len(ids) for ids in chunk) - n_tail - 1)
        if len(chunk) < 2 or shared < MIN_SHARED_PREFIX or not self._share_prefix:
            shared = 0
        rests = [ids[shared:] for ids in chunk]
        width = max(len(ids) for ids in rests)
        # right-padded: every real token sits at its own position, so sliding-window attention
        # sees the same neighbours as in a one-prompt pass; the padding after it is never seen
        pad = self._pad_id()
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids in rests])
        rest_mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in rests])
        mask = torch.cat([torch.ones(len(chunk), shared, dtype=rest_mask.dtype), rest_mask], 1)
        positions = (shared + torch.arange(width)).expand(len(chunk), width)
        # the column of each row's token before its tail; logits are kept from the earliest on
        starts = torch.tensor([len(ids) - n_tail - 1 for ids in rests])
        if int(starts.min()) < 0:
            raise InputError(f"{self.name}: a prompt has no token to condition the answer on")
        keep = width - int(starts.min())
        try:
            with torch.inference_mode():
                cache = self._shared_cache(chunk[0][:shared], len(chunk)) if shared else None
                logits = self.model(
                    input_ids=input_ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    position_ids=positions.to(self.device),
                    **self._cache_keyword(cache),
                    use_cache=cache is not None,
                    logits_to_keep=keep,
                ).logits.float()
        except Exception as error:
            if not shared:
                raise
            # an architecture whose cache cannot be shared this way: correct, only slower
            warnings.warn(
                f"{self.name}: the prompts' shared prefix cannot be reused ({error!r}); "
                "every prompt is run in full",
                stacklevel=3,
            )
            self._share_prefix = False
            return self._tail_logprobs(chunk, tail)
        columns = (starts - (width - keep)).view(-1, 1) + torch.arange(n_tail).view(1, -1)
        rows = torch.arange(len(chunk)).view(-1, 1)
        logprobs = torch.log_softmax(logits[rows, columns.to(logits.device)], dim=-1)
        index = torch.tensor(tail, device=logprobs.device).view(1, n_tail, 1)
        picked = logprobs.gather(2, index.expand(len(chunk), n_tail, 1)).squeeze(2)
        return picked.cpu().numpy()

    def _cache_keyword(self, cache: Any) -> dict[str, Any]:
        """The key-value cache as the model's forward takes it: ``cache`` from transformers 5.25
        on (``past_key_values`` is deprecated there, its removal announced for 5.40), else
        ``past_key_values`` (older releases)."""
        if cache is None:
            return {}
        parameters = inspect.signature(type(self.model).forward).parameters
        return {"cache" if "cache" in parameters else "past_key_values": cache}

    def _shared_cache(self, prefix: list[int], batch: int) -> Any:
        """Keys and values of ``prefix``, run once and repeated for a batch of ``batch``."""
        torch = torch_module()
        cache = transformers_module().DynamicCache(config=self.model.config)
        ids = torch.tensor([prefix], device=self.device)
        self.model(input_ids=ids, **self._cache_keyword(cache), use_cache=True, logits_to_keep=1)
        cache.batch_repeat_interleave(batch)
        return cache

    # ------------------------------------------------------------------ explanation
    def bind(self, text: str, target: str | None = None) -> LMTargetScorer | LMLabelScorer:
        """The scorer for explaining this prompt.

        Label mode (``labels`` set): a classifier over the labels.  Otherwise the log-probs of
        the target's tokens; with ``target=None`` the greedy answer to ``text`` is the target.
        """
        check_target(target, "HFCausalLM")
        if self.labels is not None:
            if target is not None:
                raise InputError("this model is in label mode; pass either labels or a target")
            if self.label_output not in LABEL_OUTPUTS:
                raise UnknownNameError("label output", self.label_output, LABEL_OUTPUTS)
            label_ids = [self.target_ids(label) for label in self.labels]
            self.check_context(
                len(self.prompt_ids(text)), max(map(len, label_ids)), "longest label"
            )
            return LMLabelScorer(self, label_ids)
        if target is None:
            ids = self.generate_ids(text)
            if not ids:
                raise InputError(f"{self.name} generated an empty answer; give a target")
            target_text = self.tokenizer.decode(ids, skip_special_tokens=True)
        else:
            ids = self.target_ids(target)
            target_text = target
        self.check_context(len(self.prompt_ids(text)), len(ids), "target")
        return LMTargetScorer(self, ids, target_text)


class LMTargetScorer(CallableScorer):
    """Log-prob of every target token given a prompt; outputs named ``"i:token"``.

    The outputs add up to the log-prob of the whole answer (``summable_outputs``).
    """

    summable_outputs = True

    def __init__(self, lm: HFCausalLM, target_ids: list[int], target: str) -> None:
        self.lm = lm
        self.target_ids = target_ids
        self.target = target
        self.max_batch_size = lm.batch_size
        self.name = lm.name
        self.scalarizer = "target log-prob per token (teacher forcing)"

    @property
    def output_names(self) -> list[str]:
        """One output per target token, ``"i:token"``."""
        pieces = [self.lm.tokenizer.decode([t]) for t in self.target_ids]
        return [f"{i}:{piece}" for i, piece in enumerate(pieces)]

    @property
    def fingerprint(self) -> str | None:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        base = self.lm.fingerprint
        return None if base is None else json.dumps(["target", base, self.target_ids])

    def score(self, texts: list[str]) -> np.ndarray:
        """Log-prob of each target token after each prompt: ``(len(texts), n_tokens)``."""
        return self.lm.continuation_logprobs(texts, self.target_ids)


class LMLabelScorer(CallableScorer):
    """Each label's log-prob (summed over its tokens), or probabilities normalised over labels."""

    def __init__(self, lm: HFCausalLM, label_ids: list[list[int]]) -> None:
        self.lm = lm
        self.label_ids = label_ids
        self.max_batch_size = lm.batch_size
        self.name = lm.name
        self.target = {"labels": lm.labels, "output": lm.label_output}
        self.scalarizer = f"label {lm.label_output} (continuation log-probs)"

    @property
    def output_names(self) -> list[str]:
        """The labels, stripped of surrounding spaces."""
        return [label.strip() or label for label in self.lm.labels or []]

    @property
    def fingerprint(self) -> str | None:
        """The cache key of this scorer's answers: all that changes them, never the API key."""
        base = self.lm.fingerprint
        return None if base is None else json.dumps(["labels", base])

    def score(self, texts: list[str]) -> np.ndarray:
        """Each label's log-prob, or probabilities normalised over the labels."""
        columns = [self.lm.continuation_logprobs(texts, ids).sum(axis=1) for ids in self.label_ids]
        logprobs = np.stack(columns, axis=1)
        if self.lm.label_output == "logprobs":
            return logprobs
        shifted = logprobs - logprobs.max(axis=1, keepdims=True)
        weights = np.exp(shifted)
        return weights / weights.sum(axis=1, keepdims=True)


def _common_prefix_length(sequences: list[list[int]], limit: int) -> int:
    """How many leading tokens all ``sequences`` share (at most ``limit``)."""
    first = sequences[0]
    length = 0
    while length < limit and all(ids[length] == first[length] for ids in sequences):
        length += 1
    return length


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
