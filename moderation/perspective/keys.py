"""API keys for the Perspective-compatible API: issue, look up (by hash), revoke, count use."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import ApiKey, Site, utcnow
from ..sites import hash_token

KEY_PREFIX = "pk_"
SHOWN_CHARACTERS = 11  # "pk_" and 8 random characters: enough to tell keys apart, useless to an attacker


@dataclass(frozen=True)
class IssuedKey:
    site: str
    key: str
    prefix: str
    id: int

    def to_dict(self) -> dict[str, str]:
        return {"site": self.site, "key": self.key}


def create_key(site: Site, *, actor_type: str = "cli", actor_id: str | None = None) -> IssuedKey:
    """A new key for the site; only its hash is stored, so the caller must show it now."""
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    row = ApiKey(site_id=site.id, prefix=key[:SHOWN_CHARACTERS], key_hash=hash_token(key),
                 created_by=actor_id or actor_type, use_count=0)
    db.session.add(row)
    db.session.flush()
    audit.record("apikey.created", actor_type=actor_type, actor_id=actor_id, site_id=site.id,
                 details={"key_id": row.id, "prefix": row.prefix})
    return IssuedKey(site=site.slug, key=key, prefix=row.prefix, id=row.id)


def active_key(key: str) -> ApiKey | None:
    """The unrevoked key row for a presented key, else None (hash lookup, then a constant-time check)."""
    digest = hash_token(key)
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return row


def revoke(row: ApiKey, *, actor_type: str = "cli", actor_id: str | None = None) -> bool:
    """Revoke a key; False if it already was (nothing changes then)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit.record("apikey.revoked", actor_type=actor_type, actor_id=actor_id, site_id=row.site_id,
                 details={"key_id": row.id, "prefix": row.prefix})
    return True


def by_key(key: str) -> ApiKey | None:
    """The key row for a presented key, revoked or not (for `apikey revoke KEY`)."""
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_token(key.strip())))


def by_id(key_id: int) -> ApiKey | None:
    return db.session.get(ApiKey, key_id)


def all_keys() -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.site_id, ApiKey.id)))


def count_use(row: ApiKey) -> None:
    """One more use of the key (a single UPDATE, so concurrent requests do not lose counts)."""
    db.session.execute(sa.update(ApiKey).where(ApiKey.id == row.id).values(
        use_count=ApiKey.use_count + 1, last_used_at=utcnow()))
