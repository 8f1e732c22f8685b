"""Scoring: Detoxify scores, the slur lexicon and the pure assessment pipeline (no Flask, no database)."""

from .assess import Assessment, assess, detect_language
from .errors import ScorerUnavailable, ScoringFailed
from .lazy import LazyScorer
from .lexicon import Lexicon, Match, Term
from .settings import MODEL_LANGUAGES, MODEL_TYPES, ScorerSettings

__all__ = [
    "Assessment", "LazyScorer", "Lexicon", "MODEL_LANGUAGES", "MODEL_TYPES", "Match", "ScorerSettings",
    "ScorerUnavailable", "ScoringFailed", "Term", "assess", "detect_language",
]
