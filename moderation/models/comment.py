"""A comment's current state; its history lives in CommentRevision."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..policy import STATUSES
from .types import UTCDateTime, utcnow



class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "external_id"),
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        # The review queue: per site and status, most harmful first, then oldest (keyset pagination).
        sa.Index("ix_comments_queue", "site_id", "status", sa.desc("harm"), "id"),
        sa.Index("ix_comments_status_id", "status", "id"),
        sa.Index("ix_comments_author", "site_id", "author_id", "id"),
        sa.Index("ix_comments_article", "site_id", "article_id", "id"),
        # Past decisions (approved / rejected lists) newest first, and plain per-status pages.
        sa.Index("ix_comments_site_status_id", "site_id", "status", "id"),
        sa.Index("ix_comments_decided", "site_id", "status", "decided_at", "id"),
        # The editors' preview: a site's comments received in a window.
        sa.Index("ix_comments_site_received", "site_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(255))
    article_id: Mapped[str | None] = mapped_column(sa.String(255))
    article_url: Mapped[str | None] = mapped_column(sa.String(2000))
    article_title: Mapped[str | None] = mapped_column(sa.String(1000))
    author_id: Mapped[str | None] = mapped_column(sa.String(255))
    author_name: Mapped[str | None] = mapped_column(sa.String(255))
    parent_external_id: Mapped[str | None] = mapped_column(sa.String(255))
    language: Mapped[str | None] = mapped_column(sa.String(16))

    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    html: Mapped[str] = mapped_column(sa.Text, default="")
    text: Mapped[str] = mapped_column(sa.Text, default="")
    scores: Mapped[dict[str, float] | None] = mapped_column(sa.JSON(none_as_null=True))  # unscored: SQL NULL
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    model: Mapped[str | None] = mapped_column(sa.String(100))
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    # The highest reason score, so the queue can sort "most harmful first" with an index.
    harm: Mapped[float] = mapped_column(sa.Float, default=0.0)
    revision_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    scoring_error: Mapped[str | None] = mapped_column(sa.String(500))
    score_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)

    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the publisher's timestamp
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "model", "words", "policy" or "human": what moved the comment out of pending.
    decided_by: Mapped[str | None] = mapped_column(sa.String(16))
    decided_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason_code: Mapped[str | None] = mapped_column(sa.String(32))
    moderator_note: Mapped[str | None] = mapped_column(sa.String(1000))
    claimed_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    site = relationship("Site", lazy="joined")
    revisions = relationship(
        "CommentRevision", back_populates="comment", order_by="CommentRevision.number", lazy="select"
    )

    def __repr__(self) -> str:
        return f"<Comment {self.id} {self.external_id} {self.status}>"
