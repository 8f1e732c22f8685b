"""Who may edit a site's policy: its editors and admins. Every view of the policy page goes through here.

A site the user does not work on, or that does not exist, is "not found" (404), so a crafted
slug learns nothing; a moderator of the site is refused outright (403): they can see that the
site exists, but its policy is not theirs to change.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from ..auth.access import site_of, sites_of
from ..extensions import login_manager
from ..models import Site, User

POLICY_ROLES = ("editor", "admin")


class NotVisible(LookupError):
    """No such site, or not one of the user's sites."""


class Forbidden(PermissionError):
    """The user works on the site but may not edit its policy."""


def can_edit_policies(user: User) -> bool:
    """Whether the user edits any policy at all (for the top bar's link)."""
    return bool(user.is_authenticated and user.is_active and user.role in POLICY_ROLES)


def editable_sites(user: User) -> list[Site]:
    """The sites whose policy the user may edit, by name."""
    return sites_of(user) if can_edit_policies(user) else []


def policy_site_for(user: User, slug: str) -> Site:
    """The site whose policy the user is about to read or change; raises NotVisible or Forbidden."""
    site = site_of(user, slug)
    if site is None:
        raise NotVisible(slug)
    if user.role not in POLICY_ROLES:
        raise Forbidden(slug)
    return site


def require_site_editor(slug: str) -> Site:
    """The site, if the signed-in user may edit its policy; otherwise abort (sign-in, 403 or 404)."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    try:
        return policy_site_for(current_user, slug)
    except NotVisible:
        abort(404)  # another site's page looks like no page at all
    except Forbidden:
        abort(403, description="Only the site's editors and admins can change its policy.")
