"""The pure assessment pipeline the webhook and the worker call: language, lexicon, scores, decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from moderation.policy import BANNED, SUSPECT, Policy, decide

from .errors import ScorerUnavailable, ScoringFailed
from .lazy import LazyScorer
from .lexicon import Lexicon, Match

# Below this, language identification guesses (py3langid is unreliable on a few words).
_MIN_LETTERS = 20
_MIN_CONFIDENCE = 0.9


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


@lru_cache(maxsize=256)
def _site_lexicon(words: tuple[str, ...], category: str) -> Lexicon:
    return Lexicon.from_words(words, category)


def _word_matches(text: str, policy: Policy, lexicon: Lexicon) -> list[Match]:
    matches = list(lexicon.find(text))
    for words, category in ((policy.banned_words, BANNED), (policy.suspect_words, SUSPECT)):
        if words:
            matches.extend(_site_lexicon(words, category).find(text))
    return sorted(matches, key=lambda m: (m.start, m.end, m.category))


def assess(
    texts: Sequence[str],
    policy: Policy,
    scorer: LazyScorer | None,
    *,
    lexicon: Lexicon | None = None,
    languages: Sequence[str | None] | None = None,
) -> list[Assessment]:
    """Assesses plain-text comments in one batch; a given language wins over detection."""
    if languages is not None and len(languages) != len(texts):
        raise ValueError(f"languages: expected {len(texts)} entries, got {len(languages)}")
    lexicon = Lexicon.default() if lexicon is None else lexicon
    scores: list[dict[str, float]] | list[None] = [None] * len(texts)
    error = None
    if scorer is None:
        error = "no scorer configured"
    elif texts:
        try:
            scores = scorer.score(texts)
        except (ScorerUnavailable, ScoringFailed) as exc:
            error = str(exc)
    covered = scorer.languages if scorer is not None else None
    categories = (getattr(scorer, "classes", ()) or None) if scorer is not None else None
    model = scorer.name if scorer is not None and error is None else None

    results = []
    for i, text in enumerate(texts):
        language = languages[i] if languages is not None and languages[i] else detect_language(text)
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
