"""Who may review what: every query and action of the review UI goes through here.

Admins see every site; moderators and editors only the sites assigned to them. A comment
outside a user's sites is reported as not found, so a crafted id learns nothing.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..auth.access import site_of, sites_of
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
    return sites_of(user)


def site_for(user: User, slug: str) -> Site:
    site = site_of(user, slug)
    if site is None:
        raise NotVisible(slug)
    return site


def comment_for(user: User, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or not user.can_access_site(comment.site_id):
        raise NotVisible(comment_id)
    return comment
