"""Who may review what: every query and action of the review UI goes through here.

Admins see every site; moderators and editors only the sites assigned to them. A comment
outside a user's sites is reported as not found, so a crafted id learns nothing.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Comment, Site, User

REVIEW_ROLES = ("moderator", "editor", "admin")


class NotVisible(LookupError):
    """The comment or site does not exist, or the user may not see it (told apart to no one)."""


def can_review(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in REVIEW_ROLES


def site_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting comments to the user's sites."""
    if user.role == "admin":
        return sa.true()
    ids = sorted(user.site_ids())
    return Comment.site_id.in_(ids) if ids else sa.false()


def visible_sites(user: User) -> list[Site]:
    if user.role == "admin":
        return list(db.session.scalars(sa.select(Site).order_by(Site.name)))
    return sorted(user.sites, key=lambda site: site.name)


def site_for(user: User, slug: str) -> Site:
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None or not user.can_access_site(site.id):
        raise NotVisible(slug)
    return site


def comment_for(user: User, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not user.can_access_site(comment.site_id):
        raise NotVisible(comment_id)
    return comment
