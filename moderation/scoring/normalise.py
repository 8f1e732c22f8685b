"""Folds text into matching skeletons (case, homoglyphs, leetspeak, separators) that map back to the original."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

LATIN, CYRILLIC = "latin", "cyrillic"

# Letters that distinguish words in Turkish and Azerbaijani: kept, not stripped of their marks.
_KEEP_MARKED = frozenset("çşğöüə")
# Invisible characters inserted to defeat filters.
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e")
# Characters people put between the letters of a word ("k.h.a.c.h", "kh-ach", "k_h").
_SEPARATORS = frozenset(".-_*·•'’`~^+|/\\\",:;=")

# Look-alikes folded towards the script a term is written in (applied after casefold).
_TO_LATIN = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "s", "σ": "o",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n",
    # Turkish dotless i is typed for i and vice versa
    "ı": "i",
}
_TO_CYRILLIC_UPPER = {  # capitals that look alike even where the small letters do not
    "B": "в", "H": "н", "M": "м", "T": "т", "K": "к",
}
_TO_CYRILLIC = {
    "a": "а", "b": "б", "c": "с", "e": "е", "ё": "е", "k": "к", "n": "п", "o": "о", "p": "р", "r": "г",
    "t": "т", "x": "х", "y": "у", "u": "и", "i": "и", "m": "м",
    "α": "а", "ε": "е", "κ": "к", "ο": "о", "ρ": "р", "τ": "т", "χ": "х", "γ": "у",
    "і": "и", "й": "и",
}
_LEET = {
    LATIN: {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
            "@": "a", "$": "s", "!": "i", "€": "e"},
    CYRILLIC: {"0": "о", "3": "з", "4": "ч", "6": "б", "8": "в", "@": "а", "$": "с", "€": "е"},
}
# A masking character inside a word stands for one hidden letter ("k*ke"), a run of them
# between letters for as many ("n**ger", up to MAX_MASKED); matched by lexicon keys with
# letters replaced by MASK (scoring/lexicon.py).
MASK = "?"
_MASKS = frozenset("*#%")
MAX_MASKED = 3
# Words of one letter that may stand before a spaced-out term ("you are a n i g g e r"), per skeleton.
_ONE_LETTER_WORDS = {LATIN: frozenset("aeiouy"), CYRILLIC: frozenset("аивкосуя")}
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Leet symbols count as letters only inside a word ("n!gger"), never at its end ("Paki!").
_SYMBOL_LEET = frozenset("@$!€")


def script_of(term: str) -> str:
    """The skeleton a term is matched in: Cyrillic terms in the Cyrillic one, all others in the Latin one."""
    return CYRILLIC if any("CYRILLIC" in unicodedata.name(c, "") for c in term) else LATIN


@dataclass(frozen=True)
class Skeleton:
    """Folded text: letters and single spaces, each mapped to a [start, end) range of the original.

    ``runs`` counts the repeated letters each character stands for, so a term's double
    letter can require a double in the text ("nigger" is not "Niger"). ``chains`` are the
    [first, last] ranges of letters that were spaced out ("k h a c h"), and ``word_starts``
    the positions inside them where a word may begin after one-letter words ("a k i k e").
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    runs: tuple[int, ...]
    word_starts: frozenset[int] = frozenset()
    chains: tuple[tuple[int, int], ...] = ()

    def begins_word(self, i: int) -> bool:
        """True where a word starts at position i."""
        return i == 0 or self.text[i - 1] == " " or i in self.word_starts

    def in_one_chain(self, first: int, last: int) -> bool:
        i = bisect.bisect_right(self.chains, (first, len(self.text))) - 1
        return i >= 0 and self.chains[i][0] <= first and last <= self.chains[i][1]


@lru_cache(maxsize=8192)
def _fold_char(ch: str, script: str) -> str:
    """One original character as folded letters ("" when invisible, a symbol when not a letter)."""
    if ch in _INVISIBLE:
        return ""
    if script == CYRILLIC and ch in _TO_CYRILLIC_UPPER:
        return _TO_CYRILLIC_UPPER[ch]
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        if c not in _KEEP_MARKED:
            c = "".join(d for d in unicodedata.normalize("NFD", c) if not unicodedata.combining(d))
        for d in c:
            table = _TO_LATIN if script == LATIN else _TO_CYRILLIC
            out.append(table.get(d, d))
    return "".join(out)


def fold(text: str, script: str, *, join: bool, masked: bool = False) -> Skeleton:
    """Folds text for one script; ``join`` also removes separators inside words and between spaced letters;
    ``masked`` turns a masking character between letters into MASK."""
    units = _units(text, script)
    if masked:
        units = _masked(units)
    if join:
        units = _join_spaced_letters(_join_separated(units), script)
    return _collapse(units)


def variants(text: str, script: str) -> tuple[Skeleton, ...]:
    """The distinct skeletons a lexicon searches text in: fold() plain, joined, and masked when the
    text has a masking character. The text is read once; a variant that folds to the same units
    as the plain one (most texts have nothing to join) is not built or searched twice."""
    found = _variants_by_table(text, script)
    return found if found is not None else _variants_by_units(text, script)


def _variants_by_units(text: str, script: str) -> tuple[Skeleton, ...]:
    """variants(), unit by unit: for any text (_variants_by_table gives the same for the common ones)."""
    units = _units(text, script)
    found = [_collapse(units)]
    joined = _join_spaced_letters(_join_separated(units), script)
    if joined != units:
        found.append(_collapse(joined))
    if any(c in _MASKS for c in text):
        masked = _masked(units)
        if masked != units:
            found.append(_collapse(masked))
    return tuple(found)


def _masked(units: list[Unit]) -> list[Unit]:
    """Each run of up to MAX_MASKED masking characters with a letter on both sides becomes as many MASKs."""
    out = list(units)
    i = 0
    while i < len(units):
        if units[i][0] not in _MASKS:
            i += 1
            continue
        end = i
        while end < len(units) and units[end][0] in _MASKS:
            end += 1
        if 0 < i and end < len(units) and end - i <= MAX_MASKED and units[i - 1][3] == "L" and units[end][3] == "L":
            out[i:end] = [(MASK, u[1], u[2], "L") for u in units[i:end]]
        i = end
    return out


def fold_term(term: str, script: str) -> str:
    """A lexicon term (or suffix) folded the way text is, spaces kept as single spaces."""
    return fold(term, script, join=False).text.strip()


def term_runs(term: str, script: str) -> tuple[int, ...]:
    """Per character of fold_term(term): 2 where the term doubles the letter, else 1."""
    skeleton = fold(term.strip(), script, join=False)
    return tuple(min(run, 2) for run in skeleton.runs)


# A unit is (char, start, end, kind); kind "L" letter, "S" separator, "W" whitespace, "O" other;
# letters of a spaced-out chain become "C", or "B" where a word may begin inside the chain.
Unit = tuple[str, int, int, str]


# Per script, each character seen: its folded letters with their kinds, or None when it is a leet
# symbol (which depends on the next character). Read for every character of every text.
_CHAR_UNITS: dict[str, dict[str, tuple[tuple[str, str], ...] | None]] = {LATIN: {}, CYRILLIC: {}}


def _char_units(ch: str, script: str) -> tuple[tuple[str, str], ...] | None:
    folded = _fold_char(ch, script)
    if folded in _LEET[script]:
        parts = None
    else:
        parts = tuple((c, "L" if c.isalpha() else "W" if c.isspace() else "S" if c in _SEPARATORS else "O")
                      for c in folded)
    if len(_CHAR_UNITS[script]) < 8192:
        _CHAR_UNITS[script][ch] = parts
    return parts


def _units(text: str, script: str) -> list[Unit]:
    leet = _LEET[script]
    known = _CHAR_UNITS[script]
    units: list[Unit] = []
    append = units.append
    run_end, run_is_letters = -1, False  # the run of leet symbols last looked past, and its answer
    for i, ch in enumerate(text):
        parts = known.get(ch, False)
        if parts is False:
            parts = _char_units(ch, script)
        if parts is None:  # a leet character
            folded = _fold_char(ch, script)
            if folded in _SYMBOL_LEET and i >= run_end:
                run_end = _after_symbols(text, i, script)
                run_is_letters = _letter_at(text, run_end, script)
            if folded not in _SYMBOL_LEET or run_is_letters:
                append((leet[folded], i, i + 1, "L"))
                continue
            parts = (((folded, "L" if folded.isalpha() else "S" if folded in _SEPARATORS else "O")),)
        for c, kind in parts:
            append((c, i, i + 1, kind))
    return units


def _after_symbols(text: str, i: int, script: str) -> int:
    """The index of the first character after text[i] that is not a leet symbol (or len(text)).

    A symbol such as "!" reads as a letter only inside a word: when a letter (or a leet digit)
    comes after it, past any more symbols (_letter_at that index). "n!!gger" and "a$$hole" yes;
    "Pak!!" no (not "Paki"). Every symbol of a run has the same answer, so callers ask once per
    run: asking per symbol would cost a run of thousands of "!" its length squared.
    """
    j, n = i + 1, len(text)
    while j < n and _fold_char(text[j], script) in _SYMBOL_LEET:
        j += 1
    return j


def _letter_at(text: str, j: int, script: str) -> bool:
    return j < len(text) and (_fold_char(text[j], script)[:1].isalpha() or text[j] in _LEET[script])


def _join_separated(units: list[Unit]) -> list[Unit]:
    """Drops short separator runs between letters: "kh.ach", "k-h-a-c-h", "n*gger"."""
    out: list[Unit] = []
    i, n = 0, len(units)
    while i < n:
        if units[i][3] != "S":
            out.append(units[i])
            i += 1
            continue
        j = i
        while j < n and units[j][3] == "S":
            j += 1
        between_letters = out and out[-1][3] == "L" and j < n and units[j][3] == "L"
        if not (between_letters and j - i <= 3):
            out.extend(units[i:j])
        i = j
    return out


def _join_spaced_letters(units: list[Unit], script: str) -> list[Unit]:
    """Joins three or more single letters spaced out by short gaps into one word: "k h a c h", "n  i g g e r",
    "k. h. a. c. h.", "k - i - k - e".

    A gap is one to three blanks or separators on one line. Inside a chain a word may also begin
    after leading one-letter words ("a n i g g e r" is "a" then the term): such letters get kind
    "B", the chain's other letters "C", so "c l a s s" never holds "ass" but "a k i k e" holds "kike".
    """
    if not _MAY_CHAIN.search("".join(unit[3] for unit in units)):
        return units  # no three single letters spaced out: nothing to join (most texts)
    words: list[list[Unit]] = []  # alternating runs of letters and of non-letters
    for unit in units:
        if words and (words[-1][0][3] == "L") == (unit[3] == "L"):
            words[-1].append(unit)
        else:
            words.append([unit])
    out: list[Unit] = []
    i = 0
    while i < len(words):
        j = i
        # a chain: single letter, short gap, single letter, ...
        while (j + 2 < len(words) and len(words[j]) == 1 and words[j][0][3] == "L"
               and _is_gap(words[j + 1]) and len(words[j + 2]) == 1 and words[j + 2][0][3] == "L"):
            j += 2
        if j == i:
            out.extend(words[i])
            i += 1
            continue
        # The commonest gap spaces the letters of a word; another width ends a word:
        # "H A T E  W O M E N", "you are a k  h  a  c  h".
        widths = Counter(len(words[k]) for k in range(i + 1, j, 2))
        spacing = min(widths, key=lambda width: (-widths[width], width))
        first = i
        for k in [*range(i + 1, j, 2), j + 1]:
            if k > j or len(words[k]) != spacing:
                out.extend(_chain(words[first:k], script))
                if k <= j:
                    out.extend(words[k])
                first = k + 1
        i = j + 1
    return out


# Over the units' kinds: three single letters with gaps (1 to 3 blanks or separators) between them,
# which every chain below needs. A quick no for most texts; a match is then read in detail.
_MAY_CHAIN = re.compile(r"(?<!L)L[WS]{1,3}L[WS]{1,3}L(?!L)")


def _chain(words: list[list[Unit]], script: str) -> list[Unit]:
    """Single letters and the gaps between them: joined when three or more, else kept as they are."""
    if len(words) < 5:
        return [u for word in words for u in word]
    letters = [word[0] for word in words[::2]]
    one_letter_words = _ONE_LETTER_WORDS[script]
    out = []
    words_so_far = False  # every letter before this one is a one-letter word (kept linear: texts can be long)
    for n, unit in enumerate(letters):
        out.append((unit[0], unit[1], unit[2], "B" if words_so_far else "C"))
        words_so_far = (n == 0 or words_so_far) and unit[0] in one_letter_words
    return out


def _is_gap(units: list[Unit]) -> bool:
    return len(units) <= 3 and all(u[3] in "WS" and u[0] not in _LINE_BREAKS for u in units)


def _collapse(units: list[Unit]) -> Skeleton:
    """Repeated letters become one, every run of non-letters one space; ranges grow to cover what merged."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    runs: list[int] = []
    word_starts: set[int] = set()
    chained: list[int] = []
    previous = None  # chars[-1]
    for c, start, end, kind in units:
        if kind != "L":
            if kind == "C" or kind == "B":
                if c == previous and c != MASK:
                    if end > ends[-1]:
                        ends[-1] = end
                    runs[-1] += 1
                    continue
                if kind == "B":
                    word_starts.add(len(chars))
                chained.append(len(chars))
            else:
                c = " "
        if c == previous and c != MASK:
            if end > ends[-1]:
                ends[-1] = end
            runs[-1] += 1
            continue
        chars.append(c)
        starts.append(start)
        ends.append(end)
        runs.append(1)
        previous = c
    return Skeleton("".join(chars), tuple(starts), tuple(ends), tuple(runs), frozenset(word_starts),
                    _ranges(chained))


def _ranges(positions: list[int]) -> tuple[tuple[int, int], ...]:
    """Sorted positions as [first, last] ranges of consecutive ones."""
    ranges: list[tuple[int, int]] = []
    for p in positions:
        if ranges and ranges[-1][1] == p - 1:
            ranges[-1] = (ranges[-1][0], p)
        else:
            ranges.append((p, p))
    return tuple(ranges)


# The common text is folded with str.translate and regular expressions instead of unit by unit
# (the units' loops cost a comment about a millisecond). That applies where every character of
# the text folds to exactly one unit whatever surrounds it (a leet symbol counts when no letter
# follows it), there is no masking character, and no letters are spaced out: the skeletons are
# then the ones _variants_by_units() builds, which any other text still goes through (the tests
# compare the two). In the translated text a letter stands for itself, whitespace is a blank,
# and these two stand for a separator and for any other character:
_SEPARATOR, _OTHER = "\x1f", "\x1e"
_MARKS = {"L": None, "W": " ", "S": _SEPARATOR, "O": _OTHER}
# _join_separated's separators: one to three between letters.
_JOINABLE = re.compile(r"\x1f(?<=[^ \x1e\x1f]\x1f)\x1f{0,2}(?=[^ \x1e\x1f])")  # starts with a literal: quick to find
# _MAY_CHAIN over the translated text: a letter is [^ \x1e\x1f], a gap's character [ \x1f].
_MAY_CHAIN_MARKED = re.compile(r"(?<![^ \x1e\x1f])[^ \x1e\x1f][ \x1f]{1,3}[^ \x1e\x1f][ \x1f]{1,3}[^ \x1e\x1f]"
                               r"(?![^ \x1e\x1f])")
_REPEATS = re.compile(r"(.)\1+", re.DOTALL)


class _Table:
    """Per script, a str.translate table of the characters seen that fold to one unit."""

    def __init__(self, script: str) -> None:
        self.script = script
        self.marks: dict[int, str] = {}
        self.simple: set[str] = set()  # in the table, one unit wherever they stand
        self.symbols: set[str] = set()  # in the table, but a letter where one follows (leet symbols)
        self.other: set[str] = set(_MASKS)  # not in the table: the unit-by-unit path folds them

    def learn(self, ch: str) -> bool:
        """Puts a character in the table; False where only the unit-by-unit path folds it."""
        if ch in self.symbols:
            return True
        if ch in self.other or len(self.marks) >= 8192:
            return False
        parts = _CHAR_UNITS[self.script].get(ch, False)
        if parts is False:
            parts = _char_units(ch, self.script)
        if parts is None:  # a leet character
            folded = _fold_char(ch, self.script)
            if folded in _SYMBOL_LEET:  # as _units() reads it where no letter follows
                unit = (folded, "L" if folded.isalpha() else "S" if folded in _SEPARATORS else "O")
            else:
                unit = (_LEET[self.script][folded], "L")
        elif len(parts) == 1:
            unit = parts[0]
        else:
            self.other.add(ch)
            return False
        self.marks[ord(ch)] = _MARKS[unit[1]] or unit[0]
        (self.symbols if parts is None and unit[1] != "L" else self.simple).add(ch)
        return True


_TABLES = {LATIN: _Table(LATIN), CYRILLIC: _Table(CYRILLIC)}


def _variants_by_table(text: str, script: str) -> tuple[Skeleton, ...] | None:
    """variants() for the common text; None for any other."""
    table = _TABLES[script]
    for ch in set(text).difference(table.simple):
        if not table.learn(ch):
            return None
        if ch in table.symbols:
            i = text.find(ch)
            while i >= 0:
                end = _after_symbols(text, i, script)
                if _letter_at(text, end, script):
                    return None
                i = text.find(ch, end)  # the rest of this run has the same answer
    marked = text.translate(table.marks)
    gaps = [m.span() for m in _JOINABLE.finditer(marked)]
    joined = marked
    if gaps:
        ends = [0] + [end for _, end in gaps]
        joined = "".join(marked[end:start] for end, (start, _) in zip(ends, gaps)) + marked[ends[-1]:]
    if _MAY_CHAIN_MARKED.search(joined):
        return None
    plain = _collapse_marked(marked)
    if not gaps:
        return (plain,)
    return plain, _without_gaps(plain, [start for start, _ in gaps])


def _collapse_marked(marked: str) -> Skeleton:
    """_collapse() of a translated text."""
    letters = marked.replace(_SEPARATOR, " ").replace(_OTHER, " ")
    n = len(letters)
    starts: list[int] = []
    runs: list[int] = []
    pieces: list[str] = []
    previous = 0
    for repeat in _REPEATS.finditer(letters):
        first, end = repeat.span()
        starts.extend(range(previous, first + 1))
        runs.extend([1] * (first - previous))
        runs.append(end - first)
        pieces.append(letters[previous:first + 1])
        previous = end
    starts.extend(range(previous, n))
    runs.extend([1] * (n - previous))
    pieces.append(letters[previous:])
    ends = starts[1:]
    if n:
        ends.append(n)
    return Skeleton("".join(pieces), tuple(starts), tuple(ends), tuple(runs))


def _without_gaps(plain: Skeleton, gaps: list[int]) -> Skeleton:
    """The skeleton of the text without the separator runs starting at ``gaps`` (each between two
    letters, so a blank of its own in ``plain``): each blank taken out, and the letters either side
    of it made one where they are the same letter ("al-l" is "al")."""
    chars, starts, ends, runs = list(plain.text), list(plain.starts), list(plain.ends), list(plain.runs)
    for gap in reversed(gaps):
        i = bisect.bisect_left(plain.starts, gap)
        if chars[i - 1] == chars[i + 1]:
            ends[i - 1] = ends[i + 1]
            runs[i - 1] += runs[i + 1]
            stop = i + 2
        else:
            stop = i + 1
        del chars[i:stop], starts[i:stop], ends[i:stop], runs[i:stop]
    return Skeleton("".join(chars), tuple(starts), tuple(ends), tuple(runs))
