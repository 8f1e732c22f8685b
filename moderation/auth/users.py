"""Operations on users: create, scope to sites."""
from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import ROLES, Site, User
from .passwords import MIN_LENGTH, hash_password

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """A user operation that cannot be done, with a message for the user."""


def by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def create_user(email: str, *, role: str, password: str, sites: Sequence[Site] = (),
                actor: str = "cli") -> User:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise UserError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if len(password) < MIN_LENGTH:
        raise UserError(f"the password must have at least {MIN_LENGTH} characters")
    if by_email(email) is not None:
        raise UserError(f"a user with email {email!r} already exists")
    if role != "admin" and not sites:
        raise UserError(f"a {role} must be given at least one site (--site SLUG)")
    user = User(email=email, role=role, password_hash=hash_password(password), sites=list(sites))
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor_type=actor, details={
        "user_id": user.id, "email": email, "role": role, "sites": [s.slug for s in sites]})
    return user
