import itertools

import numpy as np
import pytest

import blackbox_explain as bbx
from blackbox_explain.maskers import Delete, get_masker
from blackbox_explain.segmentation import Segmentation

TEXT = "The movie (a remake) was great, really.\n\nI loved it!"


def keep_all_but(seg, *drop):
    keep = np.ones(len(seg), bool)
    keep[list(drop)] = False
    return keep


def test_delete_tidies_whitespace():
    seg = Segmentation.words(TEXT)
    labels = seg.labels()
    d = bbx.Delete()
    assert d.render(seg, np.ones(len(seg), bool)) == TEXT
    assert (
        d.render(seg, keep_all_but(seg, labels.index("a")))
        == "The movie (remake) was great, really.\n\nI loved it!"
    )
    assert (
        d.render(seg, keep_all_but(seg, 0)) == "movie (a remake) was great, really.\n\nI loved it!"
    )
    assert (
        d.render(seg, keep_all_but(seg, labels.index("really")))
        == "The movie (a remake) was great,.\n\nI loved it!"
    )
    # a deleted sentence keeps the paragraph break that separated it
    first_sentence = range(0, labels.index(".") + 1)
    assert d.render(seg, keep_all_but(seg, *first_sentence)) == "I loved it!"
    assert d.render(seg, np.zeros(len(seg), bool)) == ""
    no_spaces = d.render(seg, keep_all_but(seg, 1, 2))
    assert "  " not in no_spaces


def test_mask_string_and_runs():
    seg = Segmentation.words("a b c d")
    keep = np.array([True, False, False, True])
    assert bbx.MaskString().render(seg, keep) == "a [MASK] [MASK] d"
    assert bbx.MaskString("_", merge_runs=True).render(seg, keep) == "a _ d"


def test_baseline_and_replace():
    seg = Segmentation.words("good movie")
    keep = np.array([False, True])
    assert bbx.Baseline(["bad", "film"]).render(seg, keep) == "bad movie"
    calls = []

    def propose(text, index):
        calls.append(index)
        return text.upper()

    assert get_masker(propose).render(seg, keep) == "GOOD movie"
    with pytest.raises(bbx.InputError):
        bbx.Baseline(["one"]).render(seg, keep)
    with pytest.raises(bbx.InputTypeError):
        bbx.Replace(lambda t, i: 3).render(seg, keep)
    with pytest.raises(bbx.InputTypeError, match="needs a callable"):  # was Python's TypeError
        bbx.Replace("synonym").render(seg, keep)


def test_masker_names():
    assert isinstance(get_masker("delete"), bbx.Delete)
    assert isinstance(get_masker("mask"), bbx.MaskString)
    with pytest.raises(bbx.UnknownNameError, match="delete"):
        get_masker("erase")


def test_explain_with_mask_string():
    seen = []

    def scorer(texts):
        seen.extend(texts)
        return [t.count("[MASK]") for t in texts]

    exp = bbx.explain(scorer, "one two three", method="exact", budget=8, masker="mask")
    assert "[MASK] [MASK] [MASK]" in seen
    np.testing.assert_allclose(exp.values[:, 0], -1.0)


def test_delete_keeps_text_between_kept_segments_untouched():
    seg = Segmentation.words("Hello , odd  spacing stays here")
    out = bbx.Delete().render(seg, keep_all_but(seg, len(seg) - 1))
    assert out == "Hello , odd  spacing stays"


def test_delete_keeps_leading_and_trailing_whitespace_when_nothing_is_deleted_there():
    seg = Segmentation.words("  one two three\n")
    assert bbx.Delete().render(seg, keep_all_but(seg, 1)) == "  one three\n"
    assert bbx.Delete().render(seg, keep_all_but(seg, 0)) == "two three\n"
    assert bbx.Delete().render(seg, keep_all_but(seg, 2)) == "  one two"


def test_delete_keeps_template_text():
    seg = Segmentation.from_template("Q: {q}\nA: {a}", {"q": "why", "a": "because"})
    assert bbx.Delete().render(seg, np.array([False, True])) == "Q: \nA: because"
    assert bbx.Delete().render(seg, np.array([True, False])) == "Q: why\nA: "


def test_delete_never_glues_words():
    seg = Segmentation.words("great, really. Next one")
    d = bbx.Delete()
    assert d.render(seg, keep_all_but(seg, 1)) == "great really. Next one"
    assert d.render(seg, keep_all_but(seg, 3)) == "great, really Next one"
    rng = np.random.default_rng(0)
    words = {s.text for s in seg.segments if s.text.isalnum()}
    for _ in range(200):
        out = d.render(seg, rng.random(len(seg)) < 0.5)
        assert all(token in words for token in out.replace(",", " ").replace(".", " ").split())


def reference_delete(seg, keep):
    """Delete's rendering gap by gap (every run of deleted segments through _merge_gaps), as it
    was before the running gap counts."""
    from blackbox_explain.maskers import _merge_gaps, _word_join

    gaps, texts = list(seg.pieces()[0]), list(seg.pieces()[1])
    kept = np.flatnonzero(keep).tolist()
    first, last = kept[0], kept[-1]
    lead = gaps[: first + 1]
    pieces = [lead[0] if first == 0 else ("".join(lead) if any(g.strip() for g in lead) else "")]
    pieces.append(texts[first])
    for previous, i in itertools.pairwise(kept):
        gap = _merge_gaps(gaps[previous + 1 : i + 1])
        if not gap and i > previous + 1 and _word_join(pieces[-1], texts[i]):
            gap = " "
        pieces += [gap, texts[i]]
    tail = gaps[last + 1 :]
    if last == len(texts) - 1:
        pieces.append(tail[0])
    elif any(g.strip() for g in tail):
        pieces.append("".join(tail))
    return "".join(pieces)


def long_template(rng, n_fields):
    """A segmentation of fields (one-letter words) between literals: spaces, text, nothing,
    line breaks."""
    literals = [" ", " ", " ", "", " | ", "\n", " \n\n ", "\t", "  "]
    text, spans = "", []
    for _ in range(n_fields):
        text += str(rng.choice(literals))
        spans.append((len(text), len(text) + 1))
        text += str(rng.choice(list("abc,.")))
    return Segmentation(text + str(rng.choice(literals)), spans)


def test_delete_renders_long_texts_from_running_gap_counts_as_gap_by_gap():
    # runs of deleted segments between whitespace gaps are merged in constant time, and with
    # many segments kept all at once with numpy; gaps with line breaks or template text go the
    # long way: the same text either way, both ways
    from blackbox_explain.maskers import WHOLE_ARRAY_RENDERING

    rng = np.random.default_rng(0)
    words = ["the", "a,", "(b)", "c.", "\n\nd", "e!", "f", "  g", "h\n", "i\t"]
    texts = [" ".join(rng.choice(words, size=size)) for size in [60] * 10 + [400] * 4]
    texts.append("Hello, world! (a remake) of the   film.\n\nNew para: great, really.")
    segmentations = [bbx.segment(t) for t in texts]
    segmentations.append(Segmentation("a [x] b  c | d", [(0, 1), (6, 7), (9, 10), (13, 14)]))
    segmentations += [long_template(rng, 300) for _ in range(3)]
    checked = {False: 0, True: 0}
    for seg in segmentations:
        for _ in range(100):
            keep = rng.random(len(seg)) < rng.uniform(0.05, 0.95)
            if keep.any() and not keep.all():
                assert Delete().render(seg, keep) == reference_delete(seg, keep)
                checked[int(keep.sum()) >= WHOLE_ARRAY_RENDERING] += 1
    assert checked[False] > 1000 and checked[True] > 300, checked


def test_replace_asks_for_each_segments_proposal_once():
    # the proposal may be a model's call: asked once per segment and remembered, as documented
    asked = []

    def propose(text, index):
        asked.append((text, index))
        return text.upper()

    seg = bbx.segment("the film was not bad at all")
    masker = bbx.Replace(propose)
    rng = np.random.default_rng(0)
    for _ in range(50):
        keep = rng.random(len(seg)) < 0.5
        expected = " ".join(w if k else w.upper() for w, k in zip(seg.labels(), keep, strict=True))
        assert masker.render(seg, keep) == expected
    assert sorted(asked) == sorted(set(asked))
    assert len(asked) == len(seg)


def test_replace_remembers_a_bounded_number_of_proposals(monkeypatch):
    # a masker shared by a whole dataset keeps the latest proposals, not every one ever asked
    import blackbox_explain.maskers as maskers

    monkeypatch.setattr(maskers, "REMEMBERED_PROPOSALS", 4)
    asked = []
    masker = bbx.Replace(lambda text, index: asked.append(text) or text.upper())
    for text in ("a b c d e f", "g h i j k l"):
        seg = bbx.segment(text)
        for _ in range(3):
            assert masker.render(seg, np.zeros(len(seg), bool)) == text.upper()
    assert len(asked) == 3 * 12  # six words each, only four remembered: asked again each time
    masker = bbx.Replace(lambda text, index: asked.append(text) or text.upper())
    asked.clear()
    seg = bbx.segment("a b c")
    for _ in range(3):
        masker.render(seg, np.zeros(3, bool))
    assert asked == ["a", "b", "c"]


def upper_case(text, index):
    return text.upper()


def test_a_used_replace_masker_still_pickles():
    # a dataset's workers get the masker with the other options
    import pickle

    masker = bbx.Replace(upper_case)
    seg = bbx.segment("not bad")
    assert masker.render(seg, np.array([True, False])) == "not BAD"
    again = pickle.loads(pickle.dumps(masker))
    assert again.render(seg, np.array([False, True])) == "NOT bad"
