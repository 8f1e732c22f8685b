"""Site policies as versions: read the current one, save a new one."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import audit
from .extensions import db
from .models import PolicyVersion, Site
from .policy import DEFAULT_POLICY, Policy


def default_policy_document() -> dict[str, Any]:
    return DEFAULT_POLICY.to_dict()


def current_version(site_id: int) -> PolicyVersion | None:
    return db.session.scalar(
        sa.select(PolicyVersion).where(PolicyVersion.site_id == site_id)
        .order_by(PolicyVersion.version.desc()).limit(1)
    )


def current_policy(site: Site) -> tuple[int | None, Policy]:
    """The site's policy and its version number (the default policy if none was saved)."""
    version = current_version(site.id)
    if version is None:
        return None, DEFAULT_POLICY
    return version.version, Policy.from_dict(version.document)


def save_policy(site: Site, document: Any, *, actor_type: str, actor_id: str | None = None,
                user_id: int | None = None, note: str | None = None) -> PolicyVersion:
    """Validate and store a new policy version (raises PolicyError with the failing fields)."""
    policy = Policy.from_dict(document)
    latest = current_version(site.id)
    version = PolicyVersion(
        site_id=site.id, version=(latest.version + 1) if latest else 1,
        document=policy.to_dict(), created_by_id=user_id, note=note,
    )
    db.session.add(version)
    audit.record("policy.saved", actor_type=actor_type, actor_id=actor_id, site_id=site.id,
                 details={"version": version.version, "previous": latest.version if latest else None,
                          "document": version.document})
    return version
