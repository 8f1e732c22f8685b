"""The sentence that drove each model reason of a queued comment, for the moderators' card."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from markupsafe import Markup

from ..policy import CATEGORIES
from ..review.present import highlight, label
from ..scoring import LazyScorer, ScorerUnavailable, ScoringFailed
from .sentence_scores import sentence_scores

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrivingSentence:
    code: str  # the reason's category, e.g. "identity_attack"
    label: str
    start: int  # code point offsets in comment.text
    end: int
    score: float


@dataclass(frozen=True)
class ReasonSentences:
    sentences: list[DrivingSentence]
    text: Markup  # comment.text, escaped, each driving sentence in a <mark>


def reason_sentences(comment, scorer: LazyScorer) -> ReasonSentences | None:
    """For a queued comment with model reasons: the highest-scoring sentence per reason; else None."""
    codes = [r.get("code") for r in comment.reasons or [] if r.get("code") in CATEGORIES]
    if comment.status != "queued" or not codes or not comment.text:
        return None
    try:
        spans = sentence_scores(comment.text, scorer, comment.language)
    except (ScorerUnavailable, ScoringFailed) as error:
        logger.warning("no sentence scores for comment %s: %s", comment.id, type(error).__name__)
        return None
    if len(spans) < 2:
        return None  # one sentence: the whole text drove every reason, nothing to point at
    driving = []
    for code in dict.fromkeys(codes):
        top = max(spans, key=lambda span: span.scores.get(code, 0.0))
        driving.append(DrivingSentence(code, label(code), top.start, top.end, float(top.scores.get(code, 0.0))))
    marks = [{"start": d.start, "end": d.end, "category": d.code, "term": f"{d.score:.2f}"} for d in driving]
    return ReasonSentences(driving, highlight(comment.text, marks))
