"""The pure assessment pipeline the webhook and the worker call: language, lexicon, scores, decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import unicodedata
from functools import lru_cache

from moderation.policy import BANNED, SUSPECT, Policy, decide

from .boundaries import policy_boundaries
from .errors import ScorerUnavailable, ScoringFailed
from .lazy import LazyScorer
from .lexicon import Lexicon, Match

# Below this, language identification guesses (py3langid is unreliable on a few words).
_MIN_LETTERS = 20
_MIN_CONFIDENCE = 0.9
# On a short or uncertain text, a language the model does not cover is taken as the text's
# language when it is at least this likely and this many times likelier than every covered
# one ("hijo de puta": es 0.35, en 0.001), so short foreign abuse goes to a human; English
# chatter that py3langid cannot place ("lol", "you idiot": no language above 0.05) stays scored.
_SHORT_MIN_PROBABILITY = 0.2
_SHORT_MIN_RATIO = 10.0
# The scripts the model's languages are written in (unicodedata names start with them).
_SCRIPTS = {"ru": "CYRILLIC", "uk": "CYRILLIC", "bg": "CYRILLIC", "el": "GREEK"}


@dataclass
class Assessment:
    status: str
    scores: dict[str, float] | None
    reasons: list[dict]
    matches: list[dict]
    model: str | None
    language: str | None
    error: str | None  # why scores is None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code by py3langid (its model ships with it); None for short or uncertain text."""
    if sum(c.isalpha() for c in text) < _MIN_LETTERS:
        return None
    language, probability = _identifier().classify(text)
    return str(language) if probability >= _MIN_CONFIDENCE else None


def _script(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def _uncovered_guess(text: str, covered: frozenset[str]) -> str | None:
    """For a short or uncertain text: the uncovered language it most likely is, or None.

    Two signs, either enough: most letters are in a script none of the covered languages
    is written in (Armenian letters for an English model), or py3langid's likeliest language
    is uncovered and clearly likelier than every covered one.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    ranking = _identifier().rank(text)
    top_language = str(ranking[0][0])
    scripts = {_SCRIPTS.get(language, "LATIN") for language in covered}
    foreign = sum(_script(c) not in scripts for c in letters)
    if foreign * 2 > len(letters):
        return top_language if top_language not in covered else "und"
    best_covered = max((p for language, p in ranking if language in covered), default=0.0)
    for language, probability in ranking:
        if language not in covered:
            if probability >= _SHORT_MIN_PROBABILITY and probability >= _SHORT_MIN_RATIO * best_covered:
                return str(language)
            break
    return None


def language_for(text: str, declared: str | None, covered: frozenset[str] | None) -> str | None:
    """The language a decision should use: the publisher's, unless the text is clearly another.

    A declared language is kept, but it does not skip the check: a confidently detected
    language, or for short and uncertain texts a clear uncovered guess (see _uncovered_guess),
    that the model does not cover replaces it, so the comment goes to a human. None: unknown
    and nothing suggests a language the model does not cover.
    """
    detected = detect_language(text)
    if covered is None:
        return declared or detected
    if detected is not None:
        if detected not in covered:
            return detected
        return declared or detected
    if declared is not None and declared.split("-")[0] not in covered:
        return declared
    return _uncovered_guess(text, covered) or declared


@lru_cache(maxsize=256)
def _site_lexicon(words: tuple[str, ...], category: str) -> Lexicon:
    return Lexicon.from_words(words, category)


def _word_matches(text: str, policy: Policy, lexicon: Lexicon) -> list[Match]:
    skeletons: dict = {}  # the text folded once per script for all three lexicons
    matches = list(lexicon.find(text, skeletons))
    for words, category in ((policy.banned_words, BANNED), (policy.suspect_words, SUSPECT)):
        if words:
            matches.extend(_site_lexicon(words, category).find(text, skeletons))
    return sorted(matches, key=lambda m: (m.start, m.end, m.category))


def assess(
    texts: Sequence[str],
    policy: Policy,
    scorer: LazyScorer | None,
    *,
    lexicon: Lexicon | None = None,
    languages: Sequence[str | None] | None = None,
) -> list[Assessment]:
    """Assesses plain-text comments in one batch (languages: the publisher's, checked by language_for)."""
    if languages is not None and len(languages) != len(texts):
        raise ValueError(f"languages: expected {len(texts)} entries, got {len(languages)}")
    lexicon = Lexicon.default() if lexicon is None else lexicon
    scores: list[dict[str, float]] | list[None] = [None] * len(texts)
    error = None
    if scorer is None:
        error = "no scorer configured"
    elif texts:
        try:
            scores = scorer.score(texts, policy_boundaries(policy))
        except (ScorerUnavailable, ScoringFailed) as exc:
            error = str(exc)
    covered = scorer.languages if scorer is not None else None
    categories = (getattr(scorer, "classes", ()) or None) if scorer is not None else None
    model = scorer.name if scorer is not None and error is None else None

    results = []
    for i, text in enumerate(texts):
        language = language_for(text, languages[i] if languages is not None else None, covered)
        matches = _word_matches(text, policy, lexicon)
        decision = decide(scores[i], matches, policy, language=language, covered_languages=covered,
                          categories=categories)
        if decision.unusable_scores is not None:
            # Fail closed: the numbers are not stored (NaN is not even valid JSON) nor trusted.
            results.append(Assessment(decision.status, None, decision.reasons, decision.matches, None,
                                      language, decision.unusable_scores))
            continue
        results.append(Assessment(decision.status, scores[i], decision.reasons, decision.matches, model,
                                  language, error))
    return results
