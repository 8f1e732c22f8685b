"""Keeping every assessment: one row per scoring of a revision, read back for history, preview and agreement."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from .extensions import db
from .models import Comment, CommentRevision, StoredAssessment, utcnow
from .scoring.assess import Assessment

_INSERT = sa.insert(StoredAssessment.__table__)  # built once: every decision writes one row


def record_assessment(comment: Comment, revision: CommentRevision, assessment: Assessment,
                      policy_version: int | None, *, source: str) -> None:
    """Insert the assessment as a new row (the caller commits with the decision it led to).

    The comment's own columns are overwritten by the next rescore or edit; this row is not.
    One Core INSERT, run at once in the current transaction.
    """
    if comment.id is None or revision.id is None:
        db.session.flush()
    db.session.execute(_INSERT, {
        "site_id": comment.site_id, "comment_id": comment.id, "revision_id": revision.id,
        "model": assessment.model, "scores": assessment.scores, "matches": list(assessment.matches),
        "reasons": list(assessment.reasons), "language": assessment.language, "policy_version": policy_version,
        "status": assessment.status, "source": source[:16],
        "error": (assessment.error or None) and assessment.error[:500], "created_at": utcnow(),
    })


def history(comment_id: int) -> list[StoredAssessment]:
    """Every assessment of a comment, oldest first."""
    return list(db.session.scalars(sa.select(StoredAssessment).where(StoredAssessment.comment_id == comment_id)
                                   .order_by(StoredAssessment.id)))


def latest_for_comments(comment_ids: Iterable[int]) -> dict[int, StoredAssessment]:
    """The newest scored assessment of each comment."""
    ids = list(comment_ids)
    if not ids:
        return {}
    newest = (sa.select(sa.func.max(StoredAssessment.id))
              .where(StoredAssessment.scores.is_not(None)).group_by(StoredAssessment.comment_id))
    found: dict[int, StoredAssessment] = {}
    for start in range(0, len(ids), 500):  # keeps the IN list within every database's limits
        chunk = ids[start:start + 500]
        rows = db.session.scalars(sa.select(StoredAssessment).where(
            StoredAssessment.id.in_(newest.where(StoredAssessment.comment_id.in_(chunk)))))
        found.update({row.comment_id: row for row in rows})
    return found
