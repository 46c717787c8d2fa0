"""The global view: per word, per predicted label, per cohort, errors against correct
predictions; its JSON, and its page in a real headless Chromium (issue 23, part 3)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import blackbox_explain as bbx
from blackbox_explain.examples import example_scorer
from blackbox_explain.segmentation import Segmentation

HOSTILE_WORD = "<img src=x onerror=alert(1)>"


def made(text, values, names=("negative", "positive"), full=(0.2, 0.8), **record):
    """An explanation with chosen values (one row per word), filed with a record."""
    spans, start = [], 0
    for word in text.split(" "):  # words with their punctuation, to check the normalising
        spans.append((start, start + len(word)))
        start += len(word) + 1
    seg = Segmentation.from_spans(text, spans)
    exp = bbx.Explanation(seg, np.array(values, float), list(names), np.zeros(2), np.array(full))
    exp.meta.update(id=record.pop("id"), record=record)
    return exp


def corpus():
    return [
        # predicted positive (full 0.8 > 0.2); the positive column is read
        made("Good food", [[0, 0.4], [0, 0.1]], id="a", group="x", label="positive"),
        made("good, SERVICE", [[0, 0.2], [0, -0.1]], id="b", group="y", label="negative"),
        # predicted negative: the negative column
        made(
            "bad food", [[0.5, 0], [0.1, 0]], full=(0.9, 0.1), id="c", group="x", label="negative"
        ),
    ]


def test_words_are_normalised_and_averaged_per_predicted_label_and_cohort():
    g = bbx.summarize(corpus(), by="group")
    assert g.labels == ["positive", "negative"] and g.cohorts == ["x", "y"]
    good = {w.word: w for w in g.top(10, label="positive")}["good"]
    assert (
        good.count == 2 and good.mean == pytest.approx(0.3) and good.mean_abs == pytest.approx(0.3)
    )
    assert good.texts == [("a", 0.4), ("b", 0.2)]  # where it mattered most first
    service = {w.word: w for w in g.top(10, label="positive")}["service"]
    assert service.mean == pytest.approx(-0.1)
    # the same word, another label: its own cell
    assert {w.word: w.mean for w in g.top(10, label="negative")} == pytest.approx(
        {"bad": 0.5, "food": 0.1}
    )
    assert [w.word for w in g.top(10, label="positive", cohort="y")] == ["good", "service"]
    # ranked by mean |value| over everything
    assert [w.word for w in g.top(2)] == ["bad", "good"]


def test_errors_against_correct_predictions():
    g = bbx.summarize(corpus())
    # b is predicted positive but labelled negative: an error
    wrong = {w.word: w.mean for w in g.top(10, correct=False)}
    right = {w.word: w.mean for w in g.top(10, correct=True)}
    assert wrong == pytest.approx({"good": 0.2, "service": -0.1})
    assert right == pytest.approx({"good": 0.4, "food": 0.1, "bad": 0.5})
    # a gold field named but in no record was read as "no true labels" without a word
    with pytest.raises(bbx.InputError, match="no explanation's record has the gold field"):
        bbx.summarize(corpus(), gold="nothing")


def test_json_round_trip_and_clear_errors(tmp_path):
    g = bbx.summarize(corpus(), by="group")
    again = bbx.GlobalExplanation.from_json(g.to_json())
    assert [(w.word, w.count, w.mean) for w in again.top(5)] == [
        (w.word, w.count, w.mean) for w in g.top(5)
    ]
    with pytest.raises(bbx.InputError, match="no explanation's record has the field 'city'"):
        bbx.summarize(corpus(), by="city")
    with pytest.raises(bbx.InputError, match="nothing to summarize"):
        bbx.summarize([bbx.FailedText("1", "x", "boom")])
    with pytest.raises(bbx.UnknownNameError):
        g.top(3, label="neutral")
    with pytest.raises(bbx.InputError):
        bbx.GlobalExplanation.from_json(json.dumps({"format": "other"}))


def test_a_results_file_summarized_from_the_command_line(tmp_path, capsys):
    from blackbox_explain.cli import main

    records = tmp_path / "in.jsonl"
    rows = [
        {"text": "the food was good", "id": "1", "city": "Paris", "label": "positive"},
        {"text": "rude staff and bad food", "id": "2", "city": "Lyon", "label": "negative"},
        {"text": "good staff but slow", "id": "3", "city": "Paris", "label": "negative"},
    ]
    records.write_text("\n".join(json.dumps(r) for r in rows))
    out, page = tmp_path / "results.jsonl", tmp_path / "global.html"
    argv = ["explain", "-m", "example", "--jsonl", str(records), "--json", str(out)]
    assert main([*argv, "--method", "exact", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["summarize", str(out), "--html", str(page), "--by", "city"]) == 0
    printed = capsys.readouterr().out
    assert "predicted positive" in printed and "good" in printed and "city = Paris" in printed
    assert page.read_text().startswith("<!DOCTYPE html>")
    summary = bbx.summarize(out, by="city")
    expected = bbx.summarize([bbx.explain(example_scorer(), r["text"], "exact", 512) for r in rows])
    assert {w.word: w.mean for w in summary.top(20)} == pytest.approx(
        {w.word: w.mean for w in expected.top(20)}
    )


def test_the_page_in_headless_chromium(tmp_path):
    from tests_browser import CHROMIUM, browser_args, playwright_or_skip

    playwright = playwright_or_skip()
    hostile = [
        *corpus(),
        made(
            f"{HOSTILE_WORD} food",
            [[0, 0.9]] * 3 + [[0, 0.1]],
            id="<b>d</b>",
            group="</table><script>alert(2)</script>",
            label="positive",
        ),
    ]
    page_file = tmp_path / "global.html"
    bbx.summarize(hostile, by="group").save_html(page_file)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=browser_args())
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        body = page.inner_text("body")
        assert HOSTILE_WORD in body and "<script>alert(2)</script>" in body  # as text
        assert page.evaluate("document.querySelectorAll('script, img').length") == 0
        assert dialogs == []
        # charts: per label, per cohort, errors against correct predictions
        titles = page.locator("h3").all_inner_texts()
        assert "all texts" in titles and "group = x" in titles and "errors" in titles
        # each word links to the texts where it mattered most
        link = page.locator("table tr", has_text="bad").locator("a").first
        link.click()
        target = page.evaluate("location.hash")
        assert page.locator(target).inner_text().startswith("c")
        assert "bad food" in page.locator(target).inner_text()
        browser.close()


def test_top_words_counts_are_checked_and_zero_on_the_command_line_means_every_word(
    tmp_path, capsys
):
    from blackbox_explain.cli import main

    g = bbx.summarize(corpus())
    with pytest.raises(bbx.InputError, match="k must be a whole number"):
        g.top(-1)  # was every word but the last
    assert len(g.top(None)) >= len(g.top(3)) == 3
    out = tmp_path / "results.jsonl"
    out.write_text("\n".join(e.to_json() for e in corpus()) + "\n")
    assert main(["summarize", str(out), "--top", "-1"]) == 2
    capsys.readouterr()
    assert main(["summarize", str(out), "--top", "0"]) == 0  # printed nothing before
    assert capsys.readouterr().out.count("\n") > 2 * len(g.labels)
