"""Example-based explanations: nearest corpus texts by embedding, with the model's outputs
(issue 23, part 4)."""

from __future__ import annotations

import numpy as np
import pytest

import blackbox_explain as bbx
from blackbox_explain.examples import example_scorer

CORPUS = [
    "the food was good",
    "the food was bad",
    "the staff were rude",
    "good food and friendly staff",
    "terrible food, rude staff",
    "a lovely evening",
]
VOCAB = sorted({w.strip(",") for t in CORPUS for w in t.split()} | {"great"})


class BagOfWords:
    """A deterministic embedder: word counts over a fixed vocabulary."""

    fingerprint = "bag-of-words/v1"

    def __init__(self):
        self.calls: list[str] = []

    def encode(self, texts):
        self.calls.extend(texts)
        return np.array(
            [[t.replace(",", "").split().count(w) for w in VOCAB] for t in texts], float
        )


def cosine(a, b):
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_the_nearest_texts_by_cosine_with_the_models_outputs():
    embedder = BagOfWords()
    text = "the food was great"
    found = bbx.similar_examples(example_scorer(), text, CORPUS, k=3, embedder=embedder)
    vectors = embedder.encode([text, *CORPUS])
    brute = sorted(CORPUS, key=lambda t: -cosine(vectors[0], vectors[1 + CORPUS.index(t)]))[:3]
    assert [e.text for e in found.examples] == brute
    for e in found.examples:
        assert e.similarity == pytest.approx(cosine(vectors[0], vectors[1 + CORPUS.index(e.text)]))
        assert e.outputs == pytest.approx(example_scorer().score([e.text])[0].tolist())
    assert found.label == "positive" and "nearest examples" in found.to_text()


def test_contrastive_examples_are_the_nearest_labelled_differently():
    found = bbx.similar_examples(
        example_scorer(), "the food was great", CORPUS, k=2, embedder=BagOfWords(), contrastive=True
    )
    assert found.examples and all(e.label != found.label for e in found.examples)
    assert found.examples[0].text == "the food was bad"


def test_corpus_embeddings_are_cached_by_embedder_and_text(tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = BagOfWords()
    bbx.similar_examples(example_scorer(), "good staff", CORPUS, embedder=first, cache=cache)
    again = BagOfWords()
    bbx.similar_examples(example_scorer(), "rude food", CORPUS, embedder=again, cache=cache)
    assert len(first.calls) == len(CORPUS) + 1 and again.calls == ["rude food"]


def test_clear_errors():
    with pytest.raises(bbx.InputError, match="no text other"):
        bbx.similar_examples(example_scorer(), "x", ["x"], embedder=BagOfWords())
    with pytest.raises(bbx.InputError, match="k must be"):
        bbx.similar_examples(example_scorer(), "x", CORPUS, k=0, embedder=BagOfWords())


def test_the_embedded_minilm_by_default():
    pytest.importorskip("sentence_transformers")
    found = bbx.similar_examples(example_scorer(), "The meal was delicious", CORPUS, k=2)
    assert found.meta["embedder"].startswith("all-MiniLM-L6-v2")
    assert "food" in found.examples[0].text  # meaning, not shared words


def test_the_examples_command(tmp_path, capsys):
    pytest.importorskip("sentence_transformers")
    from blackbox_explain.cli import main

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(f'"{t}"' for t in CORPUS) + "\n")
    argv = ["examples", "-m", "example", "--corpus", str(corpus), "-t", "great food", "-k", "2"]
    assert main([*argv, "--contrastive"]) == 0
    printed = capsys.readouterr().out
    assert "contrastive examples" in printed and "negative" in printed
    assert main(["examples", "-m", "example", "--corpus", str(corpus), "-t", "x", "-k", "0"]) == 2


def test_the_examples_are_shown_in_the_explanations_report():
    hostile = [*CORPUS, "<script>alert(1)</script> food was great"]
    text = "the food was great"
    exp = bbx.explain(example_scorer(), text, "exact", 64)
    found = bbx.similar_examples(example_scorer(), text, hostile, k=3, embedder=BagOfWords())
    found.attach(exp)
    page = exp.to_html()
    assert "Similar examples" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    again = bbx.Explanation.from_json(exp.to_json())
    assert [e["text"] for e in again.meta["examples"]["examples"]] == [
        e.text for e in found.examples
    ]


def test_explain_with_examples_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("sentence_transformers")
    from blackbox_explain.cli import main

    corpus, page = tmp_path / "corpus.jsonl", tmp_path / "r.html"
    corpus.write_text("\n".join(f'"{t}"' for t in CORPUS) + "\n")
    argv = ["explain", "-m", "example", "-t", "great food", "--examples", str(corpus)]
    assert main([*argv, "--html", str(page), "-b", "16"]) == 0
    assert "nearest examples" in capsys.readouterr().out
    assert "Similar examples" in page.read_text()


def test_the_examples_are_shown_in_the_global_report():
    text = "the food was great"
    exp = bbx.explain(example_scorer(), text, "exact", 64)
    exp.meta["id"] = "q"
    bbx.similar_examples(example_scorer(), text, CORPUS, k=2, embedder=BagOfWords()).attach(exp)
    summary = bbx.summarize([exp])
    page = bbx.GlobalExplanation.from_json(summary.to_json()).to_html()
    assert "Similar examples" in page and "the food was bad" in page


class FailsOnItsSecondCall(BagOfWords):
    def encode(self, texts):
        if self.calls:
            raise RuntimeError("the embedding server went away")
        return super().encode(texts)


def test_the_corpus_is_embedded_a_chunk_at_a_time_and_each_chunk_kept(monkeypatch):
    from blackbox_explain.cache import MemoryCache
    from blackbox_explain.dataset import neighbours

    monkeypatch.setattr(neighbours, "EMBEDDING_CHUNK", 4)
    cache = MemoryCache()
    with pytest.raises(RuntimeError, match="went away"):
        bbx.similar_examples(
            example_scorer(), "good", CORPUS, embedder=FailsOnItsSecondCall(), cache=cache
        )
    again = BagOfWords()
    found = bbx.similar_examples(example_scorer(), "good", CORPUS, embedder=again, cache=cache)
    assert again.calls == CORPUS[3:]  # the first chunk ("good" and 3 texts) was kept
    whole = bbx.similar_examples(example_scorer(), "good", CORPUS, embedder=BagOfWords())
    assert [e.text for e in found.examples] == [e.text for e in whole.examples]


def test_the_examples_command_embeds_the_corpus_once_for_all_its_texts(
    tmp_path, monkeypatch, capsys
):
    from blackbox_explain.cli import main
    from blackbox_explain.dataset import neighbours

    embedder = BagOfWords()
    monkeypatch.setattr(neighbours, "load_embedder", lambda _: embedder)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(f'"{t}"' for t in CORPUS) + "\n")
    argv = ["examples", "-m", "example", "--corpus", str(corpus), "--no-progress"]
    assert main([*argv, "-t", "great food", "-t", "rude staff", "-k", "2"]) == 0
    assert capsys.readouterr().out.count("nearest examples") == 2
    assert sorted(embedder.calls) == sorted([*CORPUS, "great food", "rude staff"])


def test_many_texts_at_once_each_with_its_nearest_examples(tmp_path, monkeypatch, capsys):
    # --jsonl with --examples ran one text at a time; now the many-at-once engine finds each
    # text's examples as its explanation finishes, the corpus embedded once before the first
    from blackbox_explain.cli import main
    from blackbox_explain.dataset import neighbours

    embedder = BagOfWords()
    monkeypatch.setattr(neighbours, "load_embedder", lambda e: e if e is not None else embedder)
    queries = ["great food", "rude staff", "a good evening"]
    many = bbx.explain_many(
        example_scorer(), queries, "exact", 64, examples={"corpus": CORPUS, "k": 2}
    )
    for exp, query in zip(many, queries, strict=True):
        alone = bbx.similar_examples(example_scorer(), query, CORPUS, k=2, embedder=BagOfWords())
        got = bbx.SimilarExamples.from_dict(exp.meta["examples"])
        assert [(e.text, e.label) for e in got.examples] == [
            (e.text, e.label) for e in alone.examples
        ]
        np.testing.assert_allclose(
            [e.similarity for e in got.examples], [e.similarity for e in alone.examples]
        )
        assert got.to_dict() == exp.meta["examples"]
    assert sorted(embedder.calls) == sorted([*CORPUS, *queries])  # the corpus once
    with pytest.raises(bbx.InputTypeError, match="a non-empty list of texts"):
        bbx.explain_many(example_scorer(), queries, examples="the food was good")
    with pytest.raises(bbx.InputError, match="examples has no option"):
        bbx.explain_many(example_scorer(), queries, examples={"corpus": CORPUS, "n": 2})
    # the command line: one run, every line with its examples, a rerun skips them
    texts, corpus = tmp_path / "in.jsonl", tmp_path / "corpus.jsonl"
    texts.write_text("\n".join(f'"{q}"' for q in queries) + "\n")
    corpus.write_text("\n".join(f'"{t}"' for t in CORPUS) + "\n")
    out = tmp_path / "out.jsonl"
    argv = ["explain", "-m", "example", "--jsonl", str(texts), "--json", str(out)]
    assert main([*argv, "--examples", str(corpus), "--no-progress"]) == 0
    assert capsys.readouterr().out.count("nearest examples") == 3
    assert all("examples" in e.meta for e in bbx.Explanation.load_many(out))
