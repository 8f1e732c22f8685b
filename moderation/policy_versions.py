"""Site policies as versions: read the current one, save a new one, list and restore past ones."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from . import audit
from .extensions import db
from .models import PolicyVersion, Site, User
from .policy import DEFAULT_POLICY, Policy

NOTE_MAX = 500  # the column's length
POLICY_CACHE_KEY = "moderation.policies"  # app.extensions: site id -> (its current version's row, Policy)

_VERSIONS = PolicyVersion.__table__
# Built once (every comment's decision runs it): building a statement costs more than running it.
_LATEST = (sa.select(_VERSIONS.c.id, _VERSIONS.c.version, _VERSIONS.c.created_at)
           .where(_VERSIONS.c.site_id == sa.bindparam("latest_site_id"))
           .order_by(_VERSIONS.c.version.desc()).limit(1))


class UnknownVersion(LookupError):
    """The site has no policy version with that number."""


def default_policy_document() -> dict[str, Any]:
    return DEFAULT_POLICY.to_dict()


def current_version(site_id: int) -> PolicyVersion | None:
    return db.session.scalar(
        sa.select(PolicyVersion).where(PolicyVersion.site_id == site_id)
        .order_by(PolicyVersion.version.desc()).limit(1)
    )


def current_policy(site: Site) -> tuple[int | None, Policy]:
    """The site's policy and its version number (the default policy if none was saved).

    Every call reads which version is current (one indexed row, no document), so a policy
    saved a moment ago applies to the next comment; the document is read and validated only
    when that version is not the one this process last parsed for the site.
    """
    latest = db.session.execute(_LATEST, {"latest_site_id": site.id}).first()
    if latest is None:
        return None, DEFAULT_POLICY
    # Versions are never changed once saved; the row's id and time also tell apart a version
    # of the same number in another database (tests) or after a site was recreated.
    key = (latest.id, latest.version, latest.created_at)
    cache: dict[int, tuple[tuple, Policy]] = current_app.extensions.setdefault(POLICY_CACHE_KEY, {})
    cached = cache.get(site.id)
    if cached is not None and cached[0] == key:
        return latest.version, cached[1]
    document = db.session.scalar(sa.select(_VERSIONS.c.document).where(_VERSIONS.c.id == latest.id))
    policy = Policy.from_dict(document)
    cache[site.id] = (key, policy)
    return latest.version, policy


def versions(site_id: int, *, limit: int | None = None) -> list[PolicyVersion]:
    """The site's policy versions, newest first."""
    query = (sa.select(PolicyVersion).where(PolicyVersion.site_id == site_id)
             .order_by(PolicyVersion.version.desc()))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def version(site_id: int, number: int) -> PolicyVersion:
    found = db.session.scalar(sa.select(PolicyVersion).where(PolicyVersion.site_id == site_id,
                                                              PolicyVersion.version == number))
    if found is None:
        raise UnknownVersion(number)
    return found


def _author(author: str | None, user_id: int | None, actor_id: str | None, actor_type: str) -> str:
    """Who saved a version: the given name, else the user's email, else the actor; never blank."""
    if author and author.strip():
        return author.strip()[:320]
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is not None:
            return user.email
    return (actor_id or actor_type)[:320]


def save_policy(site: Site, document: Any, *, actor_type: str, actor_id: str | None = None,
                user_id: int | None = None, note: str | None = None, author: str | None = None,
                restored_from: int | None = None) -> PolicyVersion:
    """Validate and store a new policy version (raises PolicyError with the failing fields).

    The version number comes from the latest one plus one; the UNIQUE (site_id, version)
    constraint refuses the second of two concurrent saves instead of letting one vanish.
    """
    policy = Policy.from_dict(document)
    latest = current_version(site.id)
    new = PolicyVersion(
        site_id=site.id, version=(latest.version + 1) if latest else 1,
        document=policy.to_dict(), created_by_id=user_id, note=(note or "").strip()[:NOTE_MAX] or None,
        author=_author(author, user_id, actor_id, actor_type), restored_from=restored_from,
    )
    db.session.add(new)
    db.session.flush()
    audit.record("policy.restored" if restored_from is not None else "policy.saved",
                 actor_type=actor_type, actor_id=actor_id or new.author, site_id=site.id,
                 reason=new.note,
                 details={"version": new.version, "previous": latest.version if latest else None,
                          "restored_from": restored_from, "author": new.author, "document": new.document})
    return new


def restore_policy(site: Site, number: int, *, actor_type: str, actor_id: str | None = None,
                   user_id: int | None = None, note: str | None = None,
                   author: str | None = None) -> PolicyVersion:
    """Save an earlier version's document again as the newest version (raises UnknownVersion)."""
    old = version(site.id, number)
    return save_policy(site, old.document, actor_type=actor_type, actor_id=actor_id, user_id=user_id,
                       note=note or f"restored version {number}", author=author, restored_from=number)
