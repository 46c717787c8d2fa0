"""Shared helpers of the local (torch) adapters: lazy imports and device choice."""

from __future__ import annotations

from typing import Any

from blackbox_explain.extras import require


def torch_module() -> Any:
    """torch, or an error naming the ``hf`` extra."""
    return require("torch", "hf", "local Hugging Face models")


def transformers_module() -> Any:
    """transformers, or an error naming the ``hf`` extra."""
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


class PlacedModel:
    """Mixin for adapters holding ``self.model``: moved to its device and put in eval mode once,
    on first use (constructors only store parameters)."""

    model: Any
    device: str | None
    _placed: bool = False

    def _ready(self) -> None:
        if not self._placed:
            self.device = choose_device(self.device)
            self.model.to(self.device)
            self.model.eval()
            self._placed = True
