"""A lexicon term added by this deployment: global (site_id NULL) or one site's; removed rows are kept."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class LexiconTerm(db.Model):
    """Removal sets deleted_at instead of deleting, so (max id, removed count) changes on every edit:
    that pair is the version every process compares to know its automaton is stale."""

    __tablename__ = "lexicon_terms"
    __table_args__ = (
        sa.CheckConstraint("severity IN (1, 2, 3)", name="severity_known"),
        sa.Index("ix_lexicon_terms_site", "site_id", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(32))
    language: Mapped[str] = mapped_column(sa.String(16))
    severity: Mapped[int] = mapped_column(sa.Integer)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_by: Mapped[str | None] = mapped_column(sa.String(320))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<LexiconTerm {self.term!r} {self.category} site={self.site_id}>"
