"""The slur lexicon: terms with category, language and severity, matched through an Aho-Corasick automaton."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import ahocorasick

from .lexicon_files import read_lexicon_tsv
from .normalise import CYRILLIC, LATIN, MASK, MAX_MASKED, Skeleton, fold_term, script_of, term_runs, variants
from .terms import Term

SITE_LANGUAGE = "any"  # language of site banned/suspect words

# Endings a term may take and still be the same word (inflection), per term language.
# Kept short on purpose: "spic" + "es" would be "spices", "жид" + "кий" would be "жидкий",
# so diminutive forms (армяшка) are listed as their own terms.
_SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "en": ("s",),
    SITE_LANGUAGE: ("s",),
    "ru": ("а", "ы", "у", "е", "и", "ом", "ой", "ою", "ам", "ами", "ах", "ов", "ей", "ю", "я", "ям", "ями",
           "ях", "ем", "ь", "ик", "ика", "ики", "иков", "ику", "иком", "ье", "ьё", "ья", "ый", "ий", "ая", "ое",
           "ые", "ие", "ого", "ому", "ым", "им", "ых", "их", "ыми", "ими", "ую"),
    "tr": ("lar", "ler", "ları", "leri", "lara", "lere", "ların", "lerin", "larla", "lerle", "dan", "den",
           "tan", "ten", "da", "de", "a", "e", "ı", "i", "u", "ü", "ın", "in", "un", "ün", "ya", "ye", "yı",
           "yi", "sı", "si", "su", "sü", "lık", "lik", "cı", "ci", "ca", "ce"),
    "az": ("lar", "lər", "ları", "ləri", "lara", "lərə", "dan", "dən", "da", "də", "a", "ə", "ı", "i", "u",
           "ü", "ın", "in", "un", "ün", "ya", "yə", "sı", "si", "su", "sü", "lıq", "lik"),
    "hy": ("ը", "ն", "ի", "ին", "ից", "ով", "եր", "ներ", "երը", "ները", "երի", "ների"),
}


@dataclass(frozen=True)
class Match:
    """A term found in a text; start/end index the original string."""

    term: str
    category: str
    start: int
    end: int
    severity: int
    language: str

    def to_dict(self) -> dict:
        return {"term": self.term, "category": self.category, "start": self.start, "end": self.end,
                "severity": self.severity, "language": self.language}


@lru_cache(maxsize=None)
def _suffixes(language: str, script: str) -> frozenset[str]:
    return frozenset({""} | {fold_term(s, script) for s in _SUFFIXES.get(language, ())})


class Lexicon:
    """Finds terms in text despite case, homoglyphs, leetspeak, repeats, separators and spaced-out letters,
    on word boundaries. The packaged lexicon and a site's word lists are both instances of it."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._terms = tuple(dict.fromkeys(terms))
        self._automata: dict[str, ahocorasick.Automaton] = {}
        # key -> [(term, runs the text must have, whether only letters spaced out may match)]
        entries: dict[str, dict[str, list[tuple[Term, tuple[int, ...], bool]]]] = {}
        for term in self._terms:
            script = script_of(term.term)
            key = fold_term(term.term, script)
            if not any(c.isalpha() for c in key):
                continue
            keys = entries.setdefault(script, {})
            runs = term_runs(term.term, script)
            keys.setdefault(key, []).append((term, runs, False))
            for masked, masked_runs in _masked_keys(key, runs).items():
                keys.setdefault(masked, []).append((term, masked_runs, False))
            if " " in key:  # "d u m b a s s" loses the space between the words
                joined = "".join(term.term.split())
                keys.setdefault(fold_term(joined, script), []).append((term, term_runs(joined, script), True))
        for script, keys in entries.items():
            automaton = ahocorasick.Automaton()
            for key, found in keys.items():
                automaton.add_word(key, (key, tuple(found)))
            automaton.make_automaton()
            self._automata[script] = automaton

    @classmethod
    def default(cls) -> "Lexicon":
        """The packaged lexicon (moderation/data/lexicon.tsv), built once per process."""
        return _default_lexicon()

    @classmethod
    def from_terms(cls, terms: Iterable[Term]) -> "Lexicon":
        return cls(terms)

    @classmethod
    def from_words(cls, words: Iterable[str], category: str) -> "Lexicon":
        """A site's banned or suspect word list ("banned_word" / "suspect_word")."""
        return cls(Term(w.strip(), category, SITE_LANGUAGE, 3) for w in words if w.strip())

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self):
        return iter(self._terms)

    def find(self, text: str, skeletons: dict[str, tuple[Skeleton, ...]] | None = None) -> list[Match]:
        """Every term in text, by position; a match inside (or on the span of) another is left out.

        ``skeletons`` keeps the text's folded forms per script, so several lexicons searching
        the same text (the packaged one, a site's banned and suspect words) fold it once.
        """
        found: set[Match] = set()
        folded = {} if skeletons is None else skeletons
        for script, automaton in self._automata.items():
            if script not in folded:
                folded[script] = variants(text, script)
            for skeleton in folded[script]:
                found.update(self._find_in(skeleton, text, script, automaton))
        return _outermost(found)

    def _find_in(self, skeleton: Skeleton, text: str, script: str,
                 automaton: ahocorasick.Automaton) -> Iterable[Match]:
        folded = skeleton.text
        for last, (key, terms) in automaton.iter(folded):
            first = last - len(key) + 1
            if not skeleton.begins_word(first):
                continue  # inside a longer word: "Scunthorpe", or spaced "c l a s s"
            stop = folded.find(" ", last + 1)
            stop = len(folded) if stop < 0 else stop
            tail = folded[last + 1:stop]
            start, end = skeleton.starts[first], skeleton.ends[stop - 1]
            if not any(c.isalpha() for c in text[start:end]):
                continue  # digits and symbols alone are not a word
            for term, runs, spaced_only in terms:
                if spaced_only and not skeleton.in_one_chain(first, stop - 1):
                    continue  # "dumbass" written as one word is not the phrase "dumb ass"
                if any(skeleton.runs[first + i] < run for i, run in enumerate(runs) if run > 1):
                    continue  # the term doubles a letter the text does not: "Niger"
                if tail in _suffixes(term.language, script):
                    yield Match(term.term, term.category, start, end, term.severity, term.language)


def _masked_keys(key: str, runs: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """The key with inner letters hidden, each with the runs a text must have.

    One letter of the folded key ("k*ke"; a doubled letter counts once: "ni*er"), or a run of
    one to MAX_MASKED letters of the term as spelled ("nig*er", "n**ger", "n***er"), within one
    word, keeping its first and last letters and at least three in all, and hiding at most half
    of them. Keys of fewer than four letters are left alone (too many collisions).
    """
    if sum(c.isalpha() for c in key) < 4:
        return {}
    found = {key[:i] + MASK + key[i + 1:]: runs[:i] + (1,) + runs[i + 1:]
             for i in range(1, len(key)) if key[i].isalpha()}
    spelled = "".join(c * r for c, r in zip(key, runs))
    offset = 0
    for word in spelled.split(" "):
        for hidden in range(1, MAX_MASKED + 1):
            if len(word) - hidden < 3 or hidden > len(word) // 2 or not word.isalpha():
                break
            for start in range(offset + 1, offset + len(word) - hidden):
                masked = spelled[:start] + MASK * hidden + spelled[start + hidden:]
                found.setdefault(*_collapsed(masked))
        offset += len(word) + 1
    return found


def _collapsed(spelled: str) -> tuple[str, tuple[int, ...]]:
    """A spelled-out key folded as text is: a doubled letter becomes one with run 2; MASKs stay apart."""
    chars: list[str] = []
    runs: list[int] = []
    for c in spelled:
        if chars and c == chars[-1] and c not in (MASK, " "):
            runs[-1] = 2
        else:
            chars.append(c)
            runs.append(1)
    return "".join(chars), tuple(runs)


def _outermost(matches: set[Match]) -> list[Match]:
    ordered = sorted(matches, key=lambda m: (m.start, -(m.end - m.start), -m.severity, m.term))
    kept: list[Match] = []
    reach = -1  # the furthest end of a kept match; every kept one starts at or before this one
    for match in ordered:
        # one term per span ("k*ke" is kike or kyke), none inside a longer match
        if match.end <= reach:
            continue
        kept.append(match)
        reach = match.end
    return kept


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    source = resources.files("moderation") / "data" / "lexicon.tsv"
    with resources.as_file(source) as path:
        return Lexicon(read_lexicon_tsv(path))


__all__ = ["CYRILLIC", "LATIN", "Lexicon", "Match", "Term"]
