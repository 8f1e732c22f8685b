"""variants() folds the common text with translate tables: the skeletons are the ones built unit by unit."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.scoring.normalise import CYRILLIC, LATIN, _variants_by_table, _variants_by_units, variants

# Letters of both scripts and their look-alikes, doubles, separators between letters, leet digits
# and symbols, blanks and line breaks, and characters only the unit-by-unit path folds (ß is two
# units, the ellipsis three, a zero-width space none, * # % mask a letter).
ALPHABET = (list("abcegiklnorstuyAIKS") + ["ll", "ss", "ee"] + list("акнорстухчіαεο") + list(".-_'’,:;/|")
            + list("0134578@$!€?") + [" ", "  ", ". ", "\t", "\n"] + list("ÀéçıＡ！") + ["\x1e", "\x1f", "🙂"]
            + ["ß", "…", "\u200b", "*", "#", "%"])
texts = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)


@settings(max_examples=500, derandomize=True)
@given(text=texts)
def test_the_table_path_builds_the_same_skeletons(text):
    for script in (LATIN, CYRILLIC):
        by_units = _variants_by_units(text, script)
        by_table = _variants_by_table(text, script)
        assert by_table is None or by_table == by_units
        assert variants(text, script) == by_units


@pytest.mark.parametrize("text", [
    "", " ", "don't", "well-known e.g. a.b.c", "al-l", "l-l-l", "k h a c h", "n!gger", "Paki!", "wow!!! ok",
    "Pak!! win", "n!!gger", "k!ke!!", "a$$hole",
    "you k*ke", "straße", "wait…", "zero\u200bwidth", "Hello, World.  Twice  spaced", "x а ч", "ХАЧ-ХАЧ",
    "2021: 5 people, 10%", "tab\there\nline", "a - b - c",
])
def test_examples_take_the_path_they_should_and_agree(text):
    for script in (LATIN, CYRILLIC):
        assert variants(text, script) == _variants_by_units(text, script)


def test_ordinary_comments_take_the_table_path():
    for text in ["I don't think so, well-known facts.", "Thanks! Great article: 10/10", "Ну и что?"]:
        assert _variants_by_table(text, LATIN) is not None
        assert _variants_by_table(text, CYRILLIC) is not None


@pytest.mark.parametrize("text", ["a" + "!" * 4000 + "b", "Pak!! " * 800, "x" + "!@$" * 1500 + "y"])
def test_runs_of_symbols_are_looked_past_once(text, monkeypatch):
    """Whether a symbol reads as a letter depends on what follows its run; asking that per
    symbol would fold the rest of the run again each time (quadratic in a 256 KB body)."""
    from moderation.scoring import normalise

    calls = 0
    fold_char = normalise._fold_char

    def counted(ch, script):
        nonlocal calls
        calls += 1
        return fold_char(ch, script)

    monkeypatch.setattr(normalise, "_fold_char", counted)
    for script in (LATIN, CYRILLIC):
        assert variants(text, script) == _variants_by_units(text, script)
    assert calls < 20 * len(text)
