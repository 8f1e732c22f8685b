"""Comment state changes shared by the webhook, the worker and the review queue."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from . import audit
from .extensions import db
from .models import Comment, CommentRevision, utcnow
from .scoring.assess import Assessment


def harm_of(reasons: list[dict[str, Any]], scores: dict[str, float] | None) -> float:
    """How harmful a comment looks: its highest reason score (word hits count as 1)."""
    values = [float(r["score"]) for r in reasons if isinstance(r.get("score"), (int, float))]
    if any("term" in r for r in reasons):
        values.append(1.0)
    if not values and scores:
        values.append(max(scores.values()))
    return max(values, default=0.0)


def payload(comment: Comment) -> dict[str, Any]:
    """The contract's representation of a comment (webhook answers, GET, callbacks)."""
    return {
        "id": comment.id,
        "external_id": comment.external_id,
        "status": comment.status,
        "scores": comment.scores or {},
        "reasons": comment.reasons or [],
        "matches": comment.matches or [],
        "html": comment.html,
        # The plain text that was scored: match spans (start, end) are offsets into it.
        "text": comment.text,
        "model": comment.model,
        "policy_version": comment.policy_version,
        "language": comment.language,
        "revision": comment.revision_count,
        "decided_by": comment.decided_by,
        "reason_code": comment.reason_code,
        "decided_at": comment.decided_at.isoformat() if comment.decided_at else None,
    }


def _decided_by(assessment: Assessment) -> str | None:
    if assessment.status == "pending":
        return None
    if assessment.scores is None:
        return "words"
    return "model"


def apply_assessment(comment: Comment, revision: CommentRevision, assessment: Assessment,
                     policy_version: int | None, *, actor_type: str) -> str:
    """Store an assessment on the comment and its revision; returns the previous status."""
    previous = comment.status
    for target in (comment, revision):
        target.status = assessment.status
        target.scores = assessment.scores
        target.reasons = assessment.reasons
        target.matches = assessment.matches
        target.model = assessment.model
        target.policy_version = policy_version
        target.language = assessment.language
    comment.harm = harm_of(assessment.reasons, assessment.scores)
    comment.scoring_error = assessment.error
    if assessment.status != "pending":
        comment.decided_at = utcnow()
        comment.decided_by = _decided_by(assessment)
        comment.decided_by_user_id = None
        comment.reason_code = None
        comment.moderator_note = None
    else:
        comment.score_attempts = (comment.score_attempts or 0) + 1
    audit.record(
        "comment.assessed", actor_type=actor_type, site_id=comment.site_id, comment_id=comment.id,
        from_status=previous, to_status=assessment.status,
        reason=assessment.error or ", ".join(r.get("code", "") for r in assessment.reasons) or None,
        details={"revision": revision.number, "model": assessment.model,
                 "policy_version": policy_version},
    )
    return previous


def lock_unchanged(comments: Sequence[Comment], revisions: Sequence[CommentRevision]) -> set[int]:
    """Take the rows' write lock, then return the ids nobody edited or decided during scoring.

    Scoring takes long enough for a webhook edit or a moderator's decision to land meanwhile.
    On SQLite the first write of a transaction takes the database's write lock, and on
    PostgreSQL the UPDATE locks the rows, so nothing can change between this check and the
    commit.
    """
    ids = [comment.id for comment in comments]
    db.session.execute(sa.update(Comment).where(Comment.id.in_(ids))
                       .values(score_attempts=Comment.score_attempts)
                       .execution_options(synchronize_session=False))
    seen = {comment.id: (revision.number, comment.status) for comment, revision in zip(comments, revisions)}
    rows = db.session.execute(sa.select(Comment.id, Comment.revision_count, Comment.status, Comment.decided_by)
                              .where(Comment.id.in_(ids)))
    return {row.id for row in rows
            if (row.revision_count, row.status) == seen[row.id] and row.decided_by != "human"}
