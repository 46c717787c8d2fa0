"""Shared helpers of the local (torch) adapters: lazy imports and device choice."""

from __future__ import annotations

from typing import Any

from blackbox_explain._optional import require


def torch_module() -> Any:
    return require("torch", "hf", "local Hugging Face models")


def transformers_module() -> Any:
    return require("transformers", "hf", "local Hugging Face models")


def choose_device(device: str | None) -> str:
    """``device`` if given, else cuda, then mps, then cpu."""
    if device:
        return device
    torch = torch_module()
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
