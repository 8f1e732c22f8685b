"""A text scored through the Perspective-compatible API (kept only when doNotStore is false)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class ScoredText(db.Model):
    """Kept per site for the editors' score distributions; never a comment in the review queue."""

    __tablename__ = "scored_texts"
    __table_args__ = (
        sa.Index("ix_scored_texts_site_created", "site_id", "created_at"),
        sa.Index("ix_scored_texts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(16))
    scores: Mapped[dict[str, float]] = mapped_column(sa.JSON)
    # What the site's policy would have decided for it (it decides nothing here).
    status: Mapped[str] = mapped_column(sa.String(16))
    model: Mapped[str | None] = mapped_column(sa.String(100))
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    client_token: Mapped[str | None] = mapped_column(sa.String(255))
    community_id: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
