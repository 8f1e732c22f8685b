"""A site's moderation policy, versioned: every change is a new row."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class PolicyVersion(db.Model):
    __tablename__ = "policy_versions"
    __table_args__ = (sa.UniqueConstraint("site_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    # The contract's JSON shape: thresholds, banned_words, suspect_words, premoderation.
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    # Who saved it, never blank: the signed-in user's email, or the person behind a CLI import.
    author: Mapped[str] = mapped_column(sa.String(320), default="system")
    restored_from: Mapped[int | None] = mapped_column(sa.Integer)  # the version a "Restore" copied
