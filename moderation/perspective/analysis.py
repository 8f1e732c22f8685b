"""Analyze: the webhook's scoring path (sanitise, assess, site policy) behind Perspective's shapes.

summaryScore.value is the score the webhook reports for the same text: the same sanitised
plain text goes to the same LazyScorer through the same `assess` call, alone in its batch as a
webhook comment is. Span scores are each sentence's own score, from one further batch.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..lexicon.store import lexicon
from ..models import ApiKey, ScoredText, utcnow
from ..policy_versions import current_policy
from ..sanitise import sanitise
from ..scoring import LazyScorer, ScorerUnavailable, ScoringFailed, assess, detect_language
from .errors import ApiError, analyzer_error, invalid
from .schemas import AnalyzeRequest, Requested
from .segment import utf16_offset
from .sentence_scores import sentence_scores

logger = logging.getLogger(__name__)


def unavailable(reason: str) -> ApiError:
    # 503 is what Google's clients retry; a made-up score would be worse than no answer. The
    # reason (file paths, library errors) is for the operator's log, not for API clients.
    logger.warning("perspective: model unavailable: %s", reason[:300])
    return ApiError(503, "The model is unavailable; try again later.")


@dataclass(frozen=True)
class Span:
    begin: int  # UTF-16 code units in the text as sent, as Perspective's clients count
    end: int
    scores: dict[str, float]


def _loaded(scorer: LazyScorer) -> tuple[str, ...]:
    try:
        scorer.ensure_loaded()
    except ScorerUnavailable as error:
        raise unavailable(str(error)) from None
    return scorer.classes


def _served(requested: list[Requested], classes: tuple[str, ...], drop: bool) -> list[Requested]:
    """The attributes the loaded model scores; the others are refused, or dropped when asked to."""
    served = []
    for attribute in requested:
        if attribute.category is not None and attribute.category in classes:
            served.append(attribute)
        elif not drop:
            raise invalid(f"requested_attributes[{attribute.name}]",
                          f"Attribute {attribute.name} is not supported by this service's model; "
                          "send dropUnsupportedAttributes: true to leave it out.")
    return served


def _language(request: AnalyzeRequest, plain: str, covered: frozenset[str],
              served: list[Requested]) -> tuple[str | None, list[str], bool]:
    """(language to score in, detected languages, whether the attributes support it)."""
    # Perspective reports what it detected even when the client named the language.
    detected = [code for code in [detect_language(plain)] if code]
    asked = request.languages or detected
    unsupported = [code for code in asked if code not in covered]
    if unsupported and not request.drop_unsupported and served:
        name = served[0].name
        raise analyzer_error(
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            f"Attribute {name} does not support request languages: {', '.join(unsupported)}",
            languageNotSupportedByAttributeError={"detectedLanguages": detected, "attribute": name},
        )
    return (asked[0] if asked else None), detected, not unsupported


def _span_scores(text: str, language: str | None, scorer: LazyScorer) -> list[Span]:
    try:
        found = sentence_scores(text, scorer, language)
    except (ScorerUnavailable, ScoringFailed) as error:
        raise unavailable(type(error).__name__) from None  # its message may quote the text
    return [Span(utf16_offset(text, s.start), utf16_offset(text, s.end), s.scores) for s in found]


def _attribute_scores(served: list[Requested], scores: dict[str, float], spans: list[Span] | None) -> dict:
    result: dict[str, Any] = {}
    for attribute in served:
        value = float(scores[attribute.category])
        threshold = attribute.threshold
        # Perspective leaves out what falls under the requested threshold.
        if threshold is not None and value < threshold:
            continue
        entry: dict[str, Any] = {"summaryScore": {"value": value, "type": "PROBABILITY"}}
        if spans is not None:
            entry["spanScores"] = [
                {"begin": span.begin, "end": span.end,
                 "score": {"value": float(span.scores[attribute.category]), "type": "PROBABILITY"}}
                for span in spans
                if threshold is None or span.scores[attribute.category] >= threshold
            ]
        result[attribute.name] = entry
    return result


def analyze(key: ApiKey, request: AnalyzeRequest, scorer: LazyScorer) -> dict[str, Any]:
    """The AnalyzeCommentResponse; stores the analysis for the key's site unless doNotStore."""
    classes = _loaded(scorer)
    served = _served(request.attributes, classes, request.drop_unsupported)
    plain = sanitise(request.text).text
    language, detected, supported = _language(request, plain, scorer.languages, served)
    answer: dict[str, Any] = {"attributeScores": {}, "languages": request.languages or detected,
                              "detectedLanguages": detected}
    if request.client_token is not None:
        answer["clientToken"] = request.client_token
    if not supported or not served:
        # dropUnsupportedAttributes with a language no attribute supports: nothing to score.
        return answer
    version, policy = current_policy(key.site)
    [assessment] = assess([plain], policy, scorer, lexicon=lexicon(key.site_id), languages=[language])
    if assessment.scores is None:
        # "inference failed: <library message>": only the first part, the rest may quote the text.
        raise unavailable((assessment.error or "no scores").split(":")[0])
    spans = _span_scores(request.text, language, scorer) if request.span_annotations else None
    answer["attributeScores"] = _attribute_scores(served, assessment.scores, spans)
    if not request.do_not_store:
        db.session.add(ScoredText(
            site_id=key.site_id, api_key_id=key.id, text=plain, language=assessment.language,
            scores=assessment.scores, status=assessment.status, model=assessment.model,
            policy_version=version, client_token=request.client_token, community_id=request.community_id,
        ))
    return answer


def purge_scored_texts(retention_days: float) -> int:
    """Delete scored texts older than the retention; returns how many went."""
    cutoff = utcnow() - timedelta(days=retention_days)
    result = db.session.execute(sa.delete(ScoredText).where(ScoredText.created_at < cutoff))
    return result.rowcount or 0
