"""The global view as a self-contained HTML page: for each predicted label, the words that move
the model most, overall, per cohort, and on its errors against its correct predictions; every
word links to the texts where it mattered most (listed at the end of the page).

All model and user text is escaped; the page has no script and loads nothing.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .html import similar_examples_table

if TYPE_CHECKING:
    from ..dataset.summary import GlobalExplanation, WordStat

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1em}
.charts{display:flex;flex-wrap:wrap;gap:2em}.chart{min-width:420px}
table{border-collapse:collapse}td{padding:.15em .5em;font-size:.92em}
.bar{display:inline-block;height:.8em;border-radius:2px}.pos{background:#d33}.neg{background:#36c}
.n{color:#777}.text{white-space:pre-wrap;border-left:3px solid #ddd;padding:.3em .8em;margin:.4em 0}
"""


def esc(value: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


def anchor(text_id: str) -> str:
    """The id attribute of a text's entry (escaped by the caller's attribute quoting)."""
    return "text-" + "".join(c if c.isalnum() else f"_{ord(c):x}" for c in text_id)


def chart(title: str, words: list[WordStat]) -> str:
    """A bar chart of mean attributions, each word linking to its texts."""
    if not words:
        return ""
    scale = max(abs(w.mean) for w in words) or 1.0
    rows = []
    for w in words:
        width = int(160 * abs(w.mean) / scale)
        links = " ".join(
            f'<a href="#{anchor(text_id)}" title="{esc(f"{value:+.4g}")}">{n + 1}</a>'
            for n, (text_id, value) in enumerate(w.texts)
        )
        rows.append(
            f"<tr><td>{esc(w.word)}</td>"
            f'<td><span class="bar {"pos" if w.mean >= 0 else "neg"}" style="width:{width}px">'
            f"</span></td><td>{w.mean:+.4g}</td><td class=n>|{w.mean_abs:.3g}|, "
            f"n={w.count}</td><td>{links}</td></tr>"
        )
    return (
        f"<div class=chart><h3>{esc(title)}</h3><table><tr><td>word</td><td></td>"
        f"<td>mean</td><td>mean |value|, count</td><td>texts</td></tr>{''.join(rows)}</table></div>"
    )


def render_global(summary: GlobalExplanation, title: str, k: int) -> str:
    """The page (see the module docstring)."""
    parts = [f"<h1>{esc(title)}</h1>"]
    meta = summary.meta
    parts.append(
        f"<p>{esc(meta.get('explanations'))} explanations; each word's mean attribution to the "
        "output explained for each text (the predicted label, unless one was chosen).</p>"
    )
    has_errors = any(s.correct is False for s in summary.stats)
    for label in summary.labels:
        parts.append(f"<h2>predicted: {esc(label)}</h2><div class=charts>")
        parts.append(chart("all texts", summary.top(k, label=label)))
        for cohort in summary.cohorts:
            words = [w for w in summary.top(k, label=label, cohort=cohort)]
            parts.append(chart(f"{meta.get('by')} = {cohort}", words))
        if has_errors:
            parts.append(chart("correct predictions", summary.top(k, label=label, correct=True)))
            parts.append(chart("errors", summary.top(k, label=label, correct=False)))
        parts.append("</div>")
    linked = {text_id for s in summary.stats for text_id, _ in s.texts}
    parts.append("<h2>texts</h2>")
    for text_id, text in summary.texts.items():
        if text_id in linked:
            parts.append(
                f'<div id="{anchor(text_id)}"><b>{esc(text_id)}</b>'
                f"<div class=text>{esc(text)}</div>"
                f"{similar_examples_table(summary.examples.get(text_id))}</div>"
            )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"{''.join(parts)}</body></html>"
    )
