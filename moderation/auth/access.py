"""Which sites a user works on, and the admins-only gate: shared by the review UI, the policy page and the admin pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import db, login_manager
from ..models import Site, User


def sites_of(user: User) -> list[Site]:
    """Admins: every site; others: the sites assigned to them. By name."""
    if user.role == "admin":
        return list(db.session.scalars(sa.select(Site).order_by(Site.name)))
    return sorted(user.sites, key=lambda site: site.name)


def site_of(user: User, slug: str) -> Site | None:
    """The site named slug if it exists and the (active) user works on it; else None, told apart to no one."""
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None or not user.is_active or not user.can_access_site(site.id):
        return None
    return site


def require_admin() -> ResponseReturnValue | None:
    """A blueprint's before_request for admins' pages: sign-in first, then 403 for anyone but an active admin."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != "admin" or not current_user.is_active:
        abort(403)
    return None
