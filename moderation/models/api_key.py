"""A key for the Perspective-compatible API: belongs to a site, stored as a hash only."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class ApiKey(db.Model):
    __tablename__ = "api_keys"
    __table_args__ = (sa.Index("ix_api_keys_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # The first characters, shown to admins and used as the metrics label: never the key itself.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    use_count: Mapped[int] = mapped_column(sa.Integer, default=0)

    site = relationship("Site", lazy="joined")

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} site={self.site_id}>"
