"""Who may open a site's policy workspace: that site's editors and admins (moderators 403, other sites 404)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from ..extensions import db, login_manager
from ..models import Site

EDITOR_ROLES = ("editor", "admin")


def require_site_editor(slug: str) -> Site:
    """The site, if the signed-in user may edit its policy; otherwise abort (sign-in, 403 or 404)."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not current_user.is_active or current_user.role not in EDITOR_ROLES:
        abort(403)
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None or not current_user.can_access_site(site.id):
        abort(404)  # another site's page looks like no page at all
    return site
