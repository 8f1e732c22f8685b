"""A received webhook delivery (its webhook-id) and what it was answered: the idempotency record."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "webhook_id"),
        sa.Index("ix_deliveries_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # The Standard Webhooks `webhook-id` (a SHA-256 of it when longer than fits).
    webhook_id: Mapped[str] = mapped_column(sa.String(255))
    comment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id", ondelete="SET NULL"))
    status_code: Mapped[int] = mapped_column(sa.Integer)
    answer: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # A copy of this delivery was answered `pending` while the first was still deciding: the
    # decision it then makes is owed to the publisher as a callback (DESIGN, Callbacks).
    callback_owed: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
