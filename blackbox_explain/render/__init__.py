"""How explanations are shown: self-contained HTML reports (:mod:`.html`), the terminal view
(:mod:`.text`) and matplotlib charts (:mod:`.plot`).  All model or user text is escaped in HTML
and stripped of control sequences in the terminal."""

from .html import counterfactual_page, render_counterfactuals, render_html, render_section
from .text import render_terminal

__all__ = [
    "counterfactual_page",
    "render_counterfactuals",
    "render_html",
    "render_section",
    "render_terminal",
]
