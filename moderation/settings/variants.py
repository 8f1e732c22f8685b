"""What the lexicon's normaliser also catches for a site word: spellings built from its rules, each verified.

The candidates come from the folding rules in scoring/normalise.py (leetspeak, separators,
spaced letters, repeated letters, a masked letter, look-alike letters of another script,
the plural ending site words may take); only those the real matcher finds are shown, so the
page never claims a catch the service does not make.
"""
from __future__ import annotations

from functools import lru_cache

from ..policy import BANNED
from ..scoring.lexicon import Lexicon
# The folding tables themselves, so the spellings shown follow the rules as they are.
from ..scoring.normalise import (_LEET, _MASKS, _TO_CYRILLIC, _TO_LATIN, CYRILLIC, LATIN, fold_term, script_of,
                                 term_runs)

MAX_SHOWN = 6
_VOWELS = frozenset("aeiouyаеиоуыэюяё")


def _inverse(table: dict[str, str]) -> dict[str, str]:
    """letter -> the first symbol the normaliser reads as that letter (tables map symbol -> letter)."""
    inverse: dict[str, str] = {}
    for symbol, letter in table.items():
        inverse.setdefault(letter, symbol)
    return inverse


def _swap_first(word: str, table: dict[str, str], *, skip_first: bool = False) -> str | None:
    for i, ch in enumerate(word):
        if (i or not skip_first) and ch.lower() in table:
            return word[:i] + table[ch.lower()] + word[i + 1:]
    return None


def _candidates(word: str) -> list[tuple[str, str]]:
    """(spelling, what rule it shows), in the order worth showing."""
    script = script_of(word)
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    candidates: list[tuple[str, str]] = []
    leet = _inverse(_LEET[script])
    swapped = _swap_first(word, leet, skip_first=True)
    if swapped:
        candidates.append((swapped, "digits or symbols for letters"))
    if " " not in word and len(letters) >= 2:
        candidates.append((".".join(word), "separators inside the word"))
        if len(letters) >= 3:
            candidates.append((" ".join(word), "spaced letters"))
    if letters:
        vowels = [i for i in letters if word[i].lower() in _VOWELS]
        i = (vowels or letters)[0]
        candidates.append((word[:i + 1] + word[i:], "repeated letters"))
    inner = [i for i in letters if 0 < i < len(word) - 1]
    if len(letters) >= 4 and inner:
        i = inner[0]
        mask = "*" if "*" in _MASKS else sorted(_MASKS)[0]
        candidates.append((word[:i] + mask + word[i + 1:], "a masked letter"))
    # Another script's look-alike letter: shown with a note, since it looks the same on screen.
    lookalike = _inverse(_TO_LATIN) if script == LATIN else _inverse(_TO_CYRILLIC)
    swapped = _swap_first(word, lookalike)
    if swapped:
        other = "Cyrillic or Greek" if script == LATIN else "Latin"
        candidates.append((swapped, f"{other} look-alike letters"))
    candidates.append((word.upper(), "any case"))
    candidates.append((word + "s", "plural"))
    return candidates


@lru_cache(maxsize=4096)
def also_catches(word: str) -> tuple[tuple[str, str], ...]:
    """Spellings of a site word the matcher also finds, as (spelling, rule); empty if none verify."""
    word = word.strip()
    if not word:
        return ()
    lexicon = Lexicon.from_words([word], BANNED)
    shown: list[tuple[str, str]] = []
    seen = {word}
    for spelling, rule in _candidates(word):
        if spelling in seen:
            continue
        seen.add(spelling)
        found = lexicon.find(spelling)
        if any(m.start == 0 and m.end == len(spelling) for m in found):
            shown.append((spelling, rule))
        if len(shown) == MAX_SHOWN:
            break
    return tuple(shown)


def matchable(word: str) -> bool:
    """Whether the matcher can find the word at all (it needs a letter once folded)."""
    return any(c.isalpha() for c in fold_term(word, script_of(word)))


def same_word_key(word: str) -> str:
    """Two entries with the same key are one word to the matcher ("K1KE" and "kike"; not "niger" and "nigger")."""
    script = script_of(word)
    return f"{script}|{fold_term(word, script)}|{term_runs(word, script)}"


__all__ = ["CYRILLIC", "LATIN", "also_catches", "matchable", "same_word_key"]
