"""Folds text into matching skeletons (case, homoglyphs, leetspeak, separators) that map back to the original."""

from __future__ import annotations

import unicodedata
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
# A masking character inside a word stands for one hidden letter ("k*ke"); matched by
# lexicon keys with one letter replaced by MASK.
MASK = "?"
_MASKS = frozenset("*#%")
# Leet symbols count as letters only inside a word ("n!gger"), never at its end ("Paki!").
_SYMBOL_LEET = frozenset("@$!€")


def script_of(term: str) -> str:
    """The skeleton a term is matched in: Cyrillic terms in the Cyrillic one, all others in the Latin one."""
    return CYRILLIC if any("CYRILLIC" in unicodedata.name(c, "") for c in term) else LATIN


@dataclass(frozen=True)
class Skeleton:
    """Folded text: letters and single spaces, each mapped to a [start, end) range of the original.

    ``runs`` counts the repeated letters each character stands for, so a term's double
    letter can require a double in the text ("nigger" is not "Niger").
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    runs: tuple[int, ...]


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
        units = [(MASK, u[1], u[2], "L") if u[0] in _MASKS and 0 < i < len(units) - 1
                 and units[i - 1][3] == "L" and units[i + 1][3] == "L" else u for i, u in enumerate(units)]
    if join:
        units = _join_spaced_letters(_join_separated(units))
    return _collapse(units)


def fold_term(term: str, script: str) -> str:
    """A lexicon term (or suffix) folded the way text is, spaces kept as single spaces."""
    return fold(term, script, join=False).text.strip()


def term_runs(term: str, script: str) -> tuple[int, ...]:
    """Per character of fold_term(term): 2 where the term doubles the letter, else 1."""
    skeleton = fold(term.strip(), script, join=False)
    return tuple(min(run, 2) for run in skeleton.runs)


# A unit is (char, start, end, kind); kind "L" letter, "S" separator, "W" whitespace, "O" other.
Unit = tuple[str, int, int, str]


def _units(text: str, script: str) -> list[Unit]:
    leet = _LEET[script]
    units: list[Unit] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch, script)
        if not folded:
            continue
        if folded in leet and (folded not in _SYMBOL_LEET or _letter_follows(text, i, script)):
            units.append((leet[folded], i, i + 1, "L"))
            continue
        for c in folded:
            kind = "L" if c.isalpha() else "W" if c.isspace() else "S" if c in _SEPARATORS else "O"
            units.append((c, i, i + 1, kind))
    return units


def _letter_follows(text: str, i: int, script: str) -> bool:
    return i + 1 < len(text) and (_fold_char(text[i + 1], script)[:1].isalpha() or text[i + 1] in _LEET[script])


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


def _join_spaced_letters(units: list[Unit]) -> list[Unit]:
    """Joins three or more single letters split by one space or separator each: "k h a c h"."""
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
        # a chain: single letter, single gap, single letter, ...
        while (j + 2 < len(words) and len(words[j]) == 1 and words[j][0][3] == "L"
               and len(words[j + 1]) == 1 and len(words[j + 2]) == 1 and words[j + 2][0][3] == "L"):
            j += 2
        if j - i >= 4:  # at least three letters
            out.extend(words[k][0] for k in range(i, j + 1, 2))
            i = j + 1
        else:
            out.extend(words[i])
            i += 1
    return out


def _collapse(units: list[Unit]) -> Skeleton:
    """Repeated letters become one, every run of non-letters one space; ranges grow to cover what merged."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    runs: list[int] = []
    for c, start, end, kind in units:
        c = c if kind == "L" else " "
        if chars and chars[-1] == c and c != MASK:
            ends[-1] = max(ends[-1], end)
            runs[-1] += 1
            continue
        chars.append(c)
        starts.append(start)
        ends.append(end)
        runs.append(1)
    return Skeleton("".join(chars), tuple(starts), tuple(ends), tuple(runs))
