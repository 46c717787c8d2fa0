"""The HTML report: rendered in a real headless Chromium; hostile strings stay text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from tests_browser import CHROMIUM, browser_args, playwright_or_skip

import blackbox_explain as bbx
from blackbox_explain.render import render_html

HOSTILE = [
    "<script>alert('text')</script>",
    '" onmouseover="alert(2)',
    "<img src=x onerror=alert(3)>",
    "</script><script>alert(4)</script>",
]
ARGS = browser_args()


class HostileLM:
    """A model with bind() whose outputs are per-token and whose target and names are hostile."""

    name = "<b>model</b><script>alert(5)</script>"

    def bind(self, text, target):
        tokens = ["<script>alert(6)</script>", "<img src=x onerror=alert(7)>", "ok"]

        def fn(texts):
            return np.array(
                [[t.count("a") - 3.0, -len(t) / 10.0, t.count("<") * 0.5] for t in texts]
            )

        scorer = FunctionScorer(fn, output_names=tokens, name=self.name)
        scorer.target = "</script><script>alert(8)</script>"
        scorer.summable_outputs = True
        return scorer


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    text = "Hi " + " and ".join(HOSTILE) + " bye"
    classifier = FunctionScorer(
        lambda ts: np.array([[t.count("<") / 10, t.count("alert") / 10] for t in ts]),
        output_names=HOSTILE[:2],
        name=HOSTILE[2],
    )
    explainer = bbx.Explainer(classifier)
    exp1 = explainer.explain(text, "kernelshap", 80)
    # a faithfulness evaluation, as `explain --evaluate` records it, with hostile keys and values
    # (an explanation file may come from anywhere)
    evaluation = explainer.evaluate(exp1, output=1, exact_max_segments=0).to_dict()
    evaluation["comprehensiveness"]["<img src=x onerror=alert(9)>"] = "<script>alert(10)</script>"
    exp1.meta["evaluation"] = evaluation
    exp2 = bbx.explain(HostileLM(), text, method="kernelshap", budget=80, target="anything")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html([exp1, exp2], title=HOSTILE[3]), encoding="utf-8")
    return path


def test_no_hostile_markup_in_source(report):
    source = report.read_text()
    for needle in ("<script>alert", "<img src=x", 'onmouseover="alert', "<b>model"):
        assert needle not in source
    assert source.count("<script>") == 1  # only our own toggling script
    assert "http://" not in source and "https://" not in source  # self-contained


def browser_page():
    return playwright_or_skip()


def test_report_in_headless_chromium(report):
    playwright = browser_page()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        # hover every segment: an injected onmouseover would fire here
        for span in page.query_selector_all("span.seg")[:40]:
            span.hover()
        assert dialogs == [] and errors == []
        assert page.evaluate("document.querySelectorAll('script').length") == 1
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.evaluate("document.querySelectorAll('[onmouseover],[onerror]').length") == 0
        body = page.inner_text("body")
        for hostile in HOSTILE:
            assert hostile in body  # shown as text
        assert "alert(8)" in body and "alert(5)" in body  # target and model name, as text

        # the selector switches the visible panel
        section = page.locator("#explanation-1")
        visible = section.locator(".panel:not([hidden]) .summary")
        assert visible.count() == 1
        assert visible.inner_text().startswith("total (sum of all outputs)")
        section.locator("select").select_option("0")
        assert visible.count() == 1
        assert visible.inner_text().startswith("<script>alert(6)</script>")
        section.locator("select").select_option("1")
        assert visible.inner_text().startswith("<img src=x onerror=alert(7)>")
        # hover titles carry the values
        title = section.locator(".panel:not([hidden]) span.seg").first.get_attribute("title")
        assert title is not None and ("+" in title or "-" in title)
        # the LM section has a segment x token matrix
        assert section.locator("table.matrix tr").count() > 5
        # the classifier's section shows its faithfulness evaluation, curves drawn as SVG
        first = page.locator("#explanation-0")
        faithfulness = first.locator("table.faithfulness").inner_text()
        assert "AOPC deletion" in faithfulness and HOSTILE[1] in faithfulness
        assert "alert(9)" in faithfulness and "alert(10)" in faithfulness  # as text
        assert first.locator("svg.curves polyline").count() == 2
        assert section.locator("table.faithfulness").count() == 0  # not evaluated
        browser.close()


def test_repr_html_and_plot(tmp_path):
    text = bbx.Segmentation.from_spans("one <two> three", [(0, 3), (4, 9), (10, 15)])
    exp = bbx.explain(lambda ts: [len(t) for t in ts], text, method="exact", budget=64)
    fragment = exp._repr_html_()
    assert "&lt;two&gt;" in fragment and "<two>" not in fragment
    pytest.importorskip("matplotlib")
    png = tmp_path / "bars.png"
    exp.plot(path=png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
