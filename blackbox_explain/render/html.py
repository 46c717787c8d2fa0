"""Self-contained HTML reports (no network, no CDN): heatmaps, an output selector, a segment x
output matrix for LMs, the faithfulness evaluation when there is one (its curves as inline SVG),
and a provenance table.

Every piece of model or user text goes through :func:`html.escape` on the Python side; the small
script only shows and hides panels that are already rendered, so no text ever reaches the DOM
as markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..explanation import Explanation

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.text{line-height:2.1;font-size:1.05em;white-space:pre-wrap;border:1px solid #eee;padding:.8em;border-radius:6px}
.seg{border-radius:3px;padding:1px 1px;cursor:default}
.legend{font-size:.85em;color:#555;margin:.4em 0}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
.matrix td{text-align:right;min-width:3.2em}.matrix th{font-weight:normal;background:#fafafa}
.bar{display:inline-block;height:.8em;vertical-align:middle}
select{font-size:1em;margin:.3em 0}
.summary{font-size:.9em;color:#333}
"""

SCRIPT = """
document.querySelectorAll('select.output-select').forEach(function(sel){
  function show(){
    var section = document.getElementById(sel.dataset.section);
    section.querySelectorAll('.panel').forEach(function(p){
      p.hidden = p.dataset.output !== sel.value;
    });
  }
  sel.addEventListener('change', show);
  show();
});
"""


def _color(value: float, scale: float) -> str:
    if scale <= 0 or value == 0:
        return "transparent"
    alpha = min(abs(value) / scale, 1.0) * 0.85
    return f"rgba(220,40,40,{alpha:.3f})" if value > 0 else f"rgba(40,90,220,{alpha:.3f})"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _views(exp: Explanation) -> list[tuple[str, np.ndarray, np.ndarray | None, float, float]]:
    """(label, values, std, full, base) for each output, plus their sum when there are several."""
    views = []
    for j, name in enumerate(exp.output_names):
        std = None if exp.std is None else exp.std[:, j]
        views.append(
            (name, exp.values[:, j], std, float(exp.full_value[j]), float(exp.base_value[j]))
        )
    if exp.n_outputs > 1 and exp.meta.get("summable_outputs"):
        total = exp.sum_outputs()
        std = None if total.std is None else total.std[:, 0]
        views.append(
            (
                "total (sum of all outputs)",
                total.values[:, 0],
                std,
                float(total.full_value[0]),
                float(total.base_value[0]),
            )
        )
    return views


def _heatmap(exp: Explanation, values: np.ndarray, std: np.ndarray | None) -> str:
    scale = float(np.abs(values).max()) if len(values) else 0.0
    gaps = exp.segmentation.gaps
    labels = exp.segmentation.names
    out = [_esc(gaps[0])]
    for i, seg in enumerate(exp.segments):
        tip = f"{values[i]:+.4g}" + plus_minus(std, i)
        if labels is not None:
            tip = f"{labels[i]}: {tip}"
        out.append(
            f'<span class="seg" style="background:{_color(float(values[i]), scale)}" '
            f'title="{_esc(tip)}" data-value="{values[i]:.6g}">{_esc(seg.text)}</span>'
        )
        out.append(_esc(gaps[i + 1]))
    return "".join(out)


def plus_minus(std: np.ndarray | None, i: int) -> str:
    """`` ± 0.012`` for a standard error, `` ± n/a`` where the method gives none, nothing when
    the values are exact (``std`` None)."""
    if std is None:
        return ""
    return " ± n/a" if not np.isfinite(std[i]) else f" ± {std[i]:.2g}"


def _top_table(exp: Explanation, values: np.ndarray, std: np.ndarray | None, k: int = 10) -> str:
    order = np.argsort(-np.abs(values), kind="stable")[:k]
    scale = float(np.abs(values).max()) or 1.0
    labels = exp.segmentation.labels()
    rows = ["<table><tr><th>segment</th><th>value</th><th></th></tr>"]
    for i in order:
        v = float(values[i])
        err = plus_minus(std, i)
        width = int(120 * abs(v) / scale)
        rows.append(
            f"<tr><td>{_esc(labels[i])}</td><td>{v:+.4g}{_esc(err)}</td>"
            f'<td><span class="bar" style="width:{width}px;background:{_color(v, scale)}"></span></td></tr>'
        )
    rows.append("</table>")
    return "".join(rows)


def _matrix(exp: Explanation, max_columns: int = 60) -> str:
    """Segments (rows) x outputs (columns), e.g. prompt words x answer tokens."""
    k = min(exp.n_outputs, max_columns)
    scale = float(np.abs(exp.values[:, :k]).max()) or 1.0
    head = "".join(f"<th>{_esc(name)}</th>" for name in exp.output_names[:k])
    rows = [f'<table class="matrix"><tr><th>segment \\ output</th>{head}</tr>']
    for i, label in enumerate(exp.segmentation.labels()):
        cells = "".join(
            f'<td style="background:{_color(float(exp.values[i, j]), scale)}" '
            f'title="{_esc(label)} → {_esc(exp.output_names[j])}: {exp.values[i, j]:+.4g}">'
            f"{exp.values[i, j]:+.2f}</td>"
            for j in range(k)
        )
        rows.append(f"<tr><th>{_esc(label)}</th>{cells}</tr>")
    rows.append("</table>")
    if exp.n_outputs > k:
        rows.append(f"<p class=legend>first {k} of {exp.n_outputs} outputs shown</p>")
    return "".join(rows)


PROVENANCE_KEYS = [
    ("method", "method"),
    ("chosen_method", "method chosen"),
    ("scorer", "model"),
    ("target", "target explained"),
    ("scalarizer", "scalarizer"),
    ("budget", "budget (calls)"),
    ("n_calls", "calls made"),
    ("n_cache_hits", "cache hits"),
    ("elapsed_seconds", "time (s)"),
    ("seed", "seed"),
    ("masker", "masker"),
    ("granularity", "segments"),
    ("efficient", "values sum to full - empty"),
    ("values_note", "values"),
    ("std_note", "standard errors"),
    ("interval_note", "intervals"),
]


def _provenance(exp: Explanation) -> str:
    rows = ["<table class=provenance>"]
    for key, label in PROVENANCE_KEYS:
        if key not in exp.meta or exp.meta[key] is None:
            continue
        value = exp.meta[key]
        if isinstance(value, float):
            value = f"{value:.3g}"
        elif not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        rows.append(f"<tr><th>{_esc(label)}</th><td>{_esc(value)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _number(value: Any, digits: int = 4) -> str:
    """A recorded number formatted, or the value as text (escaped by the caller)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:+.{digits}g}" if np.isfinite(number) else "n/a"


def _curves_svg(deletion: Any, insertion: Any) -> str:
    """Deletion (red) and insertion (blue) curves as an inline SVG (numbers only, no text)."""
    curves = []
    for values in (deletion, insertion):
        try:
            array = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            return ""
        if len(array) < 2 or not np.all(np.isfinite(array)):
            return ""
        curves.append(array)
    width, height, pad = 320, 140, 8
    low = min(float(c.min()) for c in curves)
    high = max(float(c.max()) for c in curves)
    span = high - low or 1.0
    lines = []
    for array, color in zip(curves, ("#d22", "#25d"), strict=True):
        xs = pad + np.arange(len(array)) * (width - 2 * pad) / (len(array) - 1)
        ys = height - pad - (array - low) * (height - 2 * pad) / span
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        lines.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
    return (
        f'<svg class="curves" width="{width}" height="{height}" role="img" '
        'aria-label="deletion and insertion curves" style="border:1px solid #eee">'
        f"{''.join(lines)}</svg>"
        '<p class="legend">red: the output as the top segments are removed; blue: as they are '
        "added to the empty input</p>"
    )


def _faithfulness(evaluation: Any) -> str:
    """The faithfulness evaluation ``explain --evaluate`` recorded in the explanation's meta."""
    if not isinstance(evaluation, dict):
        return ""
    rows = [
        ("output evaluated", str(evaluation.get("output", ""))),
        (
            "AOPC deletion (mean drop as top segments are removed)",
            _number(evaluation.get("aopc_deletion")),
        ),
        (
            "AOPC insertion (mean gain as top segments are added)",
            _number(evaluation.get("aopc_insertion")),
        ),
    ]
    for key, label in (("comprehensiveness", "comprehensiveness"), ("sufficiency", "sufficiency")):
        per_fraction = evaluation.get(key)
        if isinstance(per_fraction, dict):
            cells = ", ".join(
                f"top {_number(100 * float(q), 3).lstrip('+')} %: {_number(v, 3)}"
                if _is_number(q)
                else f"{q}: {_number(v, 3)}"
                for q, v in per_fraction.items()
            )
            rows.append((label, cells))
    for key, label in (
        ("loo_spearman", "leave-one-out Spearman"),
        ("exact_rel_l2", "relative L2 error against exact Shapley values"),
        ("exact_spearman", "Spearman against exact Shapley values"),
    ):
        if evaluation.get(key) is not None:
            rows.append((label, _number(evaluation[key], 3).lstrip("+")))
    meta = evaluation.get("meta")
    if isinstance(meta, dict):
        rows.append(
            (
                "model calls",
                f"{meta.get('n_calls', '?')} new, {meta.get('n_cache_hits', '?')} cached",
            )
        )
    table = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    svg = _curves_svg(evaluation.get("deletion_curve"), evaluation.get("insertion_curve"))
    return f"<h3>Faithfulness</h3><table class=faithfulness>{table}</table>{svg}"


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def render_section(exp: Explanation, section_id: str, title: str | None = None) -> str:
    """One explanation: selector, heatmap + top segments per output, matrix, provenance."""
    views = _views(exp)
    default = len(views) - 1 if len(views) > exp.n_outputs else 0
    options = "".join(
        f'<option value="{j}"{" selected" if j == default else ""}>{_esc(label)}</option>'
        for j, (label, *_rest) in enumerate(views)
    )
    parts = [f'<section id="{section_id}">']
    method = exp.meta.get("chosen_method") or exp.meta.get("method", "")
    heading = title or f"{exp.meta.get('scorer', 'model')}: {method} explanation"
    parts.append(f"<h2>{_esc(heading)}</h2>")
    parts.append(
        f'<label>Output explained: <select class="output-select" data-section="{section_id}">'
        f"{options}</select></label>"
    )
    parts.append(
        '<p class="legend">red raises the output, blue lowers it; hover a segment for its value</p>'
    )
    for j, (label, values, std, full, base) in enumerate(views):
        hidden = "" if j == default else " hidden"
        parts.append(f'<div class="panel" data-output="{j}"{hidden}>')
        parts.append(
            f'<p class="summary">{_esc(label)}: full input {full:.4g}, empty input {base:.4g}, '
            f"sum of values {float(values.sum()):.4g}</p>"
        )
        parts.append(f'<div class="text">{_heatmap(exp, values, std)}</div>')
        parts.append(_top_table(exp, values, std))
        parts.append("</div>")
    if exp.n_outputs > 1:
        parts.append("<h3>Segments × outputs</h3>")
        parts.append(_matrix(exp))
    parts.append(_faithfulness(exp.meta.get("evaluation")))
    parts.append(similar_examples_table(exp.meta.get("examples")))
    parts.append("<h3>Provenance</h3>")
    parts.append(_provenance(exp))
    parts.append("</section>")
    return "".join(parts)


def similar_examples_table(found: Any) -> str:
    """The nearest corpus texts with the model's label (``meta["examples"]``, as
    :meth:`~blackbox_explain.SimilarExamples.attach` keeps them), or nothing."""
    if not isinstance(found, dict) or not found.get("examples"):
        return ""
    kind = "Contrastive examples" if found.get("contrastive") else "Similar examples"
    rows = "".join(
        f"<tr><td>{_number(e.get('similarity'), 3)}</td><td>{_esc(e.get('label'))}</td>"
        f"<td>{_esc(e.get('text'))}</td></tr>"
        for e in found["examples"]
        if isinstance(e, dict)
    )
    return (
        f"<h3>{kind}</h3><p class=legend>nearest corpus texts ({_esc(found.get('embedder'))}) "
        f"and the model's label for each</p><table class=examples><tr><th>similarity</th>"
        f"<th>label</th><th>text</th></tr>{rows}</table>"
    )


def render_html(
    explanations: Explanation | Sequence[Explanation],
    title: str = "blackbox-explain report",
    section_titles: Sequence[str] | None = None,
) -> str:
    """A complete, self-contained HTML page for one or more explanations."""
    items = list(explanations) if isinstance(explanations, Sequence) else [explanations]
    sections = [
        render_section(
            exp, f"explanation-{i}", None if section_titles is None else section_titles[i]
        )
        for i, exp in enumerate(items)
    ]
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_esc(title)}</h1>{''.join(sections)}<script>{SCRIPT}</script></body></html>"
    )


def counterfactual_section(result: Any) -> str:
    """Counterfactuals as diffs: deleted text struck through, new text underlined."""
    parts = ['<section class="counterfactuals"><h2>Counterfactuals</h2>']
    parts.append(
        f"<p class=summary>goal: {_esc(result.meta.get('goal', ''))}; original label "
        f"{_esc(result.original_label)}</p>"
    )
    if not result.found:
        parts.append(
            f"<p><strong>No counterfactual found</strong> within the budget of "
            f"{_esc(result.meta.get('budget'))} calls.</p>"
        )
    for number, cf in enumerate(result.counterfactuals, 1):
        pieces, position = [], 0
        for edit in sorted(cf.edits, key=lambda e: e.start):
            pieces.append(_esc(result.original_text[position : edit.start]))
            pieces.append(f'<del style="background:#fdd">{_esc(edit.old)}</del>')
            if edit.new:
                pieces.append(f'<ins style="background:#dfd">{_esc(edit.new)}</ins>')
            position = edit.end
        pieces.append(_esc(result.original_text[position:]))
        parts.append(
            f"<p class=summary>#{number}: {cf.size} edit(s), new label {_esc(cf.label)}, "
            f"scores {_esc(', '.join(f'{v:.3g}' for v in cf.scores))}</p>"
            f'<div class="text">{"".join(pieces)}</div>'
        )
    rows = "".join(
        f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
        for k, v in result.meta.items()
        if k in ("budget", "n_calls", "n_cache_hits", "candidates_scored", "minimal", "scorer")
    )
    parts.append(f"<table class=provenance>{rows}</table></section>")
    return "".join(parts)


def render_counterfactuals(result: Any, title: str = "blackbox-explain counterfactuals") -> str:
    """A complete self-contained page for a :class:`CounterfactualResult`."""
    return counterfactual_page([result], title)


def counterfactual_page(
    results: Sequence[Any], title: str = "blackbox-explain counterfactuals"
) -> str:
    """A complete self-contained page for several counterfactual results."""
    sections = "".join(counterfactual_section(result) for result in results)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_esc(title)}</h1>{sections}</body></html>"
    )
