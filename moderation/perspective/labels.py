"""Suggestscore: humans' 0/1 labels, kept beside the model's score for the same text (agreement data)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import ApiKey, HumanLabel
from ..sanitise import sanitise
from ..scoring import LazyScorer, ScorerUnavailable, ScoringFailed
from .schemas import SuggestRequest


def suggest(key: ApiKey, request: SuggestRequest, scorer: LazyScorer) -> dict[str, Any]:
    """Store each human label with the model's score for the same text (None while the model is down)."""
    plain = sanitise(request.text).text
    scores: dict[str, float] | None = None
    if plain:
        try:
            [scores] = scorer.score([plain])
        except (ScorerUnavailable, ScoringFailed):
            scores = None  # the label is a human's: keep it even when the model cannot compare
    for suggestion in request.suggestions:
        db.session.add(HumanLabel(
            site_id=key.site_id, api_key_id=key.id, attribute=suggestion.category,
            label=int(suggestion.value), model_score=(scores or {}).get(suggestion.category),
            model=scorer.name if scores is not None else None,
            text=None if request.do_not_store else plain,
            client_token=request.client_token, community_id=request.community_id,
        ))
    return {"clientToken": request.client_token} if request.client_token is not None else {}


@dataclass(frozen=True)
class LabelPair:
    """One human label beside the model's score for the same text: a point for agreement figures."""
    attribute: str
    label: int
    model_score: float | None
    model: str | None
    created_at: datetime


def human_labels(site_id: int, *, since: datetime | None = None, attribute: str | None = None) -> list[LabelPair]:
    """The site's suggestscore labels, oldest first (for the editors' agreement figures)."""
    query = sa.select(HumanLabel).where(HumanLabel.site_id == site_id)
    if since is not None:
        query = query.where(HumanLabel.created_at >= since)
    if attribute is not None:
        query = query.where(HumanLabel.attribute == attribute)
    return [LabelPair(row.attribute, row.label, row.model_score, row.model, row.created_at)
            for row in db.session.scalars(query.order_by(HumanLabel.id))]


