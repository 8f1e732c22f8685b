"""A publishing site: its webhook secrets, API token, Coral secret and callback URL."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Webhook secrets must be kept in the clear: verifying an HMAC needs the key itself.
    secret: Mapped[str] = mapped_column(sa.String(200))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Only a hash of the API token is stored; the token is shown once at creation.
    api_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    coral_secret: Mapped[str | None] = mapped_column(sa.String(200))
    coral_previous_secret: Mapped[str | None] = mapped_column(sa.String(200))
    callback_url: Mapped[str | None] = mapped_column(sa.String(2000))
    callback_disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def webhook_secrets(self, now: datetime) -> list[str]:
        """The secrets a webhook may be signed with now: current, then the rotating-out one."""
        secrets = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at is None or self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets

    def coral_secrets(self) -> list[str]:
        return [s for s in (self.coral_secret, self.coral_previous_secret) if s]

    def __repr__(self) -> str:
        return f"<Site {self.slug}>"
