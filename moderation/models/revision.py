"""One received version of a comment: the raw body and what the service made of it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class CommentRevision(db.Model):
    __tablename__ = "comment_revisions"
    __table_args__ = (sa.UniqueConstraint("comment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    # The hash of the raw body tells a redelivery (same body) from an edit (new body).
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    html: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(16))
    # A comment status, or "superseded": an edit older than the current one, kept as history.
    status: Mapped[str] = mapped_column(sa.String(16))
    scores: Mapped[dict[str, float] | None] = mapped_column(sa.JSON(none_as_null=True))  # unscored: SQL NULL
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    model: Mapped[str | None] = mapped_column(sa.String(100))
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The publisher's `updated_at` for this body: an edit sent before it is history, not applied.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    comment = relationship("Comment", back_populates="revisions")
