"""Operations on sites: creation, secrets and their rotation, API tokens."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from . import audit
from .encryption import SecretBox
from .extensions import db
from .models import PolicyVersion, Site, utcnow

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Longer secrets would not fit the column once encrypted (models.site.SEALED_LENGTH).
MAX_SECRET_LENGTH = 200
SECRET_COLUMNS = ("secret", "previous_secret", "coral_secret", "coral_previous_secret")


class SiteError(ValueError):
    """A site operation that cannot be done, with a message for the user."""


@dataclass(frozen=True)
class SiteCredentials:
    slug: str
    secret: str
    api_token: str

    def to_dict(self) -> dict[str, str]:
        return {"slug": self.slug, "secret": self.secret, "api_token": self.api_token}


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_api_token() -> str:
    return "mod_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_BY_SLUG = sa.select(Site).where(Site.slug == sa.bindparam("by_slug"))  # built once: every request reads it


def by_slug(slug: str) -> Site | None:
    return db.session.scalar(_BY_SLUG, {"by_slug": slug})


def require(slug: str) -> Site:
    site = by_slug(slug)
    if site is None:
        raise SiteError(f"no site with slug {slug!r}")
    return site


def validate_callback_url(url: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+", url):
        raise SiteError(f"callback URL must be an http or https URL, got {url!r}")
    return url


def validate_coral_secret(value: str) -> str:
    if not value.startswith("empsec_") or not 16 <= len(value) <= MAX_SECRET_LENGTH:
        raise SiteError(f"Coral secrets look like empsec_... (as Coral shows them, at most {MAX_SECRET_LENGTH} "
                        "characters); got something else")
    return value


def create_site(slug: str, *, name: str | None = None, callback_url: str | None = None,
                actor: str = "cli") -> SiteCredentials:
    """Create a site with fresh credentials and the default policy as version 1."""
    from .policy_versions import default_policy_document

    if not SLUG_RE.match(slug):
        raise SiteError(
            f"slug {slug!r} is not valid: use 1-64 lowercase letters, digits and dashes, "
            "starting and ending with a letter or digit"
        )
    if by_slug(slug) is not None:
        raise SiteError(f"a site with slug {slug!r} already exists")
    if callback_url:
        validate_callback_url(callback_url)
    secret, token = new_webhook_secret(), new_api_token()
    site = Site(slug=slug, name=name or slug, secret=secret, api_token_hash=hash_token(token),
                callback_url=callback_url)
    db.session.add(site)
    db.session.flush()
    db.session.add(PolicyVersion(site_id=site.id, version=1, document=default_policy_document(),
                                 note="default policy", author=actor))
    audit.record("site.created", actor_type=actor, site_id=site.id, details={"slug": slug})
    return SiteCredentials(slug=slug, secret=secret, api_token=token)


def update_site(site: Site, *, callback_url: str | None = None, coral_secret: str | None = None,
                rotate_secret: bool = False, grace: timedelta = timedelta(hours=72),
                actor: str = "cli") -> str | None:
    """Change a site's settings. Returns the new webhook secret when it was rotated."""
    changed: list[str] = []
    new_secret = None
    if callback_url is not None:
        site.callback_url = validate_callback_url(callback_url) if callback_url else None
        site.callback_disabled_at = None
        site.callback_disabled_reason = None
        changed.append("callback_url")
    if coral_secret is not None:
        validate_coral_secret(coral_secret)
        if site.coral_secret and site.coral_secret != coral_secret:
            site.coral_previous_secret = site.coral_secret
            site.coral_previous_secret_expires_at = utcnow() + grace
        site.coral_secret = coral_secret
        changed.append("coral_secret")
    if rotate_secret:
        # The old secret keeps working for a grace period, so publishers can switch without loss.
        site.previous_secret = site.secret
        site.previous_secret_expires_at = utcnow() + grace
        site.secret = new_secret = new_webhook_secret()
        changed.append("secret")
    if changed:
        audit.record("site.updated", actor_type=actor, site_id=site.id, details={"changed": changed})
    return new_secret


def site_for_token(slug: str, token: str) -> Site | None:
    """The site if the bearer token is its API token (compared in constant time)."""
    site = by_slug(slug)
    if site is None:
        return None
    if not hmac.compare_digest(site.api_token_hash, hash_token(token)):
        return None
    return site


def reencrypt_secrets(box: SecretBox) -> int:
    """Encrypt every stored site secret under the box's first key; returns how many values were rewritten.

    Run after adding a key in front of MODERATION_SECRET_ENCRYPTION_KEYS (rotation) or after
    setting one for the first time (plaintext rows). Works on the stored values directly, so a
    value the keys cannot decrypt stops it with an error before anything is written.
    """
    raw = sa.table("sites", sa.column("id", sa.Integer), *(sa.column(c, sa.String) for c in SECRET_COLUMNS))
    rows = db.session.execute(sa.select(raw).order_by(raw.c.id)).all()
    updates = []
    for row in rows:
        values = {c: box.reseal(getattr(row, c)) for c in SECRET_COLUMNS if getattr(row, c) is not None}
        if values:
            updates.append((row.id, values))
    for site_id, values in updates:
        db.session.execute(sa.update(raw).where(raw.c.id == site_id).values(**values))
    changed = sum(len(values) for _, values in updates)
    if changed:
        audit.record("site.secrets_reencrypted", actor_type="cli", details={"values": changed})
    return changed
