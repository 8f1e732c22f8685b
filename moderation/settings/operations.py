"""Write side of the policy page: save the form as a new version, restore an old one (flush only; the view commits)."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import PolicyVersion, Site, User
from ..policy_versions import current_version, restore_policy, save_policy, version
from .form import PolicyForm
from .history import diff


class StaleForm(RuntimeError):
    """Someone saved a newer version since the editor opened the page; nothing was saved."""

    def __init__(self, latest: PolicyVersion) -> None:
        self.latest = latest
        super().__init__(f"version {latest.version} was saved by {latest.author} meanwhile")


class NothingChanged(ValueError):
    """The form holds the current policy: no version to add."""


@dataclass(frozen=True)
class Saved:
    version: PolicyVersion
    previous: int | None


def _check_base(site: Site, base_version: int | None) -> PolicyVersion | None:
    latest = current_version(site.id)
    if latest is not None and base_version != latest.version:
        raise StaleForm(latest)
    return latest


def save_form(site: Site, user: User, form: PolicyForm, *, base_version: int | None) -> Saved:
    """Store a valid form as the site's next version, authored by the user.

    `base_version` is the version the page was showing: if another editor saved since, this
    save is refused rather than silently undoing their change.
    """
    latest = _check_base(site, base_version)
    if latest is not None and not diff(latest.document, form.document):
        raise NothingChanged("the policy is the same as the current version")
    saved = save_policy(site, form.document, actor_type="user", actor_id=user.email, user_id=user.id,
                        author=user.email, note=form.note or None)
    return Saved(saved, latest.version if latest else None)


def restore(site: Site, user: User, number: int, *, base_version: int | None, note: str | None = None) -> Saved:
    """Save version `number`'s document again as the newest version (raises UnknownVersion, StaleForm)."""
    latest = _check_base(site, base_version)
    if latest is not None and not diff(latest.document, version(site.id, number).document):
        raise NothingChanged(f"version {number} holds the same policy as the current version {latest.version}")
    saved = restore_policy(site, number, actor_type="user", actor_id=user.email, user_id=user.id,
                           author=user.email, note=note)
    return Saved(saved, latest.version if latest else None)
