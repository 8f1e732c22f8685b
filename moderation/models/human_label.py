"""A human's 0/1 label for a text and attribute, sent with Perspective's suggestscore."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class HumanLabel(db.Model):
    __tablename__ = "human_labels"
    __table_args__ = (sa.Index("ix_human_labels_site_created", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"))
    attribute: Mapped[str] = mapped_column(sa.String(32))  # the Detoxify class, e.g. "toxicity"
    label: Mapped[int] = mapped_column(sa.Integer)  # 1: the human says it is; 0: it is not
    # The model's score for the same text when the label arrived (None: the scorer was down).
    model_score: Mapped[float | None] = mapped_column(sa.Float)
    model: Mapped[str | None] = mapped_column(sa.String(100))
    text: Mapped[str | None] = mapped_column(sa.Text)  # None when the client sent doNotStore
    client_token: Mapped[str | None] = mapped_column(sa.String(255))
    community_id: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
