"""One assessment of one revision (model, scores, matches, policy version, outcome), never overwritten."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class StoredAssessment(db.Model):
    """Append-only: a rescore or an edit adds a row; the comment's columns show only the latest."""

    __tablename__ = "assessments"
    __table_args__ = (
        # Charts and agreement read a site's assessments over a window of time.
        sa.Index("ix_assessments_site_created", "site_id", "created_at", "id"),
        sa.Index("ix_assessments_comment", "comment_id", "id"),
        sa.Index("ix_assessments_revision", "revision_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(sa.ForeignKey("comment_revisions.id", ondelete="CASCADE"))
    model: Mapped[str | None] = mapped_column(sa.String(100))
    scores: Mapped[dict[str, float] | None] = mapped_column(sa.JSON(none_as_null=True))  # unscored: SQL NULL
    matches: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    language: Mapped[str | None] = mapped_column(sa.String(16))
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    # The status this assessment decided (pending when it could not score).
    status: Mapped[str] = mapped_column(sa.String(16))
    # "webhook", "coral", "worker", "cli": which path assessed it.
    source: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredAssessment {self.id} revision {self.revision_id} {self.status}>"
