"""Sign-in and sign-out pages."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user

from .. import audit
from ..extensions import db, limiter
from ..models import User, utcnow
from . import sessions, throttle
from .forms import LoginForm
from .passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from .users import by_email

bp = Blueprint("auth", __name__, url_prefix="/auth")

BAD_CREDENTIALS = "The email or password is not right."
THROTTLED = "Too many sign-in attempts. Wait a few minutes, then try again."


@bp.record_once
def _init(state) -> None:
    sessions.init_app(state.app)


def authenticate(email: str, password: str) -> User | None:
    """The user if the password is theirs and the account is active; same work either way."""
    user = by_email(email)
    if user is None:
        verify_password(DUMMY_HASH, password)  # spend the same time as a real check
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(throttle.per_address_limit, key_func=throttle.address_key, methods=["POST"],
               deduct_when=throttle.failed_attempt)
@limiter.limit(throttle.per_email_limit, key_func=throttle.email_key, methods=["POST"],
               deduct_when=throttle.failed_attempt)
def login() -> ResponseReturnValue:
    next_path = sessions.local_path(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_path or url_for("review.queue"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            # A fresh session: nothing from before sign-in (a planted value, an old user) survives.
            session.clear()
            login_user(user)
            sessions.start_session()
            user.last_login_at = utcnow()
            audit.record("user.signed_in", actor_type="user", actor_id=user.email,
                         details={"user_id": user.id, "address": request.remote_addr})
            db.session.commit()
            return redirect(next_path or url_for("review.queue"))
        error = BAD_CREDENTIALS
    elif request.method == "POST":
        error = BAD_CREDENTIALS if not form.errors else "Enter your email and password."
    return render_template("auth/login.html", form=form, next=next_path, error=error)


@bp.errorhandler(429)
def _throttled(error) -> ResponseReturnValue:
    return render_template("auth/login.html", form=LoginForm(), next=None, error=THROTTLED), 429


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    # Bumping the generation ends this account's sessions everywhere: a copied cookie dies too.
    user.session_generation = (user.session_generation or 0) + 1
    audit.record("user.signed_out", actor_type="user", actor_id=user.email, details={"user_id": user.id})
    db.session.commit()
    sessions.end_session(expired=False)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
