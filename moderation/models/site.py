"""A publishing site: its webhook secrets, API token, Coral secret and callback URL."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..encryption import SecretBox
from ..extensions import db
from .types import UTCDateTime, utcnow

# Room for a Fernet token of a 200-character secret (about 370 characters with the prefix).
SEALED_LENGTH = 500


class SealedSecret(TypeDecorator):
    """A secret the application reads in the clear and the database holds encrypted (when a key is set).

    The app's SecretBox (built from MODERATION_SECRET_ENCRYPTION_KEYS in security.init_app) seals
    on write and opens on read. Encryption is randomised: never compare these columns in SQL.
    """

    impl = sa.String(SEALED_LENGTH)
    cache_ok = True

    @staticmethod
    def _box() -> SecretBox:
        return current_app.extensions["secret_box"]  # type: ignore[no-any-return]

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else self._box().seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else self._box().open(value)


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Verifying an HMAC needs the key itself, so secrets cannot be hashed; encrypted when a key is set.
    secret: Mapped[str] = mapped_column(SealedSecret())
    previous_secret: Mapped[str | None] = mapped_column(SealedSecret())
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Only a hash of the API token is stored; the token is shown once at creation.
    api_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    coral_secret: Mapped[str | None] = mapped_column(SealedSecret())
    coral_previous_secret: Mapped[str | None] = mapped_column(SealedSecret())
    # As for the webhook secret: the replaced Coral secret verifies only for a grace period.
    coral_previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
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

    def coral_secrets(self, now: datetime | None = None) -> list[str]:
        """The secrets a Coral request may be signed with now: current, then the one being replaced
        while its grace lasts (Coral signs with every active secret while one is rotated)."""
        secrets = [self.coral_secret] if self.coral_secret else []
        expires = self.coral_previous_secret_expires_at
        if self.coral_previous_secret and (expires is None or expires > (now or utcnow())):
            secrets.append(self.coral_previous_secret)
        return secrets

    def __repr__(self) -> str:
        return f"<Site {self.slug}>"
