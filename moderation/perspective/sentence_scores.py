"""Each sentence's own scores: sentences found in the text as given, each sanitised and scored like a comment."""
from __future__ import annotations

from dataclasses import dataclass

from ..sanitise import sanitise
from ..scoring import LazyScorer
from .segment import sentences


@dataclass(frozen=True)
class SentenceScore:
    start: int  # code point offsets in the text as given
    end: int
    scores: dict[str, float]


def sentence_scores(text: str, scorer: LazyScorer, language: str | None = None) -> list[SentenceScore]:
    """One batch through the scorer; raises ScorerUnavailable or ScoringFailed like LazyScorer.score."""
    found = [(s, sanitise(s.text).text) for s in sentences(text, language)]
    found = [(s, plain) for s, plain in found if plain]  # markup only: nothing a reader sees
    scores = scorer.score([plain for _, plain in found]) if found else []
    return [SentenceScore(s.start, s.end, score) for (s, _), score in zip(found, scores)]
