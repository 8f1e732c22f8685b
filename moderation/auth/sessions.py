"""Session rules for the signed-in UI: idle timeout, and clear answers when a session is gone.

Fetches from the review page get JSON (401 with a message the page shows); forms get a
redirect to the sign-in page that says why. Both cases also cover a CSRF failure that is
really an expired session: without a session there is no CSRF token to compare with.
"""
from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from ..extensions import login_manager

LAST_SEEN_KEY = "last_seen"
EXPIRED_KEY = "expired"
SESSION_EXPIRED_MESSAGE = "Your session has expired. Sign in again to continue."
# Refreshing the timestamp rewrites the cookie; once a minute is precise enough.
TOUCH_EVERY_SECONDS = 60


def wants_json() -> bool:
    """True for the review page's fetches (they send Accept: application/json)."""
    accept = request.accept_mimetypes
    return accept.quality("application/json") > accept.quality("text/html")


def idle_limit() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("SESSION_IDLE_MINUTES", 30)))


def start_session() -> None:
    """Called right after login_user: the session lives while it is used."""
    session.permanent = True
    session[LAST_SEEN_KEY] = int(time.time())


def end_session(*, expired: bool) -> None:
    logout_user()
    session.clear()
    if expired:
        session[EXPIRED_KEY] = True


def _enforce_idle_timeout() -> None:
    # The API and static files never carry a UI session; leave their responses cookie-free.
    if request.blueprint == "api" or request.endpoint in (None, "static"):
        return
    if "_user_id" not in session:
        return
    now = int(time.time())
    last_seen = session.get(LAST_SEEN_KEY)
    if not isinstance(last_seen, int) or now - last_seen > idle_limit().total_seconds():
        end_session(expired=True)
        return
    if now - last_seen >= TOUCH_EVERY_SECONDS:
        session[LAST_SEEN_KEY] = now


def session_gone_response(message: str | None = SESSION_EXPIRED_MESSAGE):
    """401 for fetches, else the sign-in page; `message` (None: none) says why on that page."""
    if wants_json():
        response = jsonify(error="session_expired", message=message or "Sign in to continue.",
                           login_url=url_for("auth.login"))
        response.status_code = 401
        return response
    if message:
        flash(message, "warning")
    target = request.full_path if request.method == "GET" else request.referrer
    return redirect(url_for("auth.login", next=local_path(target)))


def local_path(target: str | None) -> str | None:
    """Keep `next` on this site: a path, never a scheme or another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _unauthorized():
    expired = session.pop(EXPIRED_KEY, False)
    if expired:
        return session_gone_response()
    # Never signed in (a first visit): the sign-in form says enough; "signed out" would puzzle.
    return session_gone_response(None)


def _csrf_error(error: CSRFError):
    if request.endpoint == "auth.login":
        flash("The sign-in form had expired. Please sign in again.", "warning")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return session_gone_response()
    message = "This form is out of date (its security token was refused). Reload the page and try again."
    if wants_json():
        response = jsonify(error="csrf", message=message)
        response.status_code = 400
        return response
    return render_template("error.html", title="Form refused", message=message), 400


def init_app(app: Flask) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=int(app.config.get("SESSION_IDLE_MINUTES", 30)))
    # We never set a remember-me cookie (it would outlive the idle timeout), but keep it safe anyway.
    app.config.setdefault("REMEMBER_COOKIE_SECURE", bool(app.config.get("SESSION_COOKIE_SECURE")))
    app.before_request(_enforce_idle_timeout)
    app.register_error_handler(CSRFError, _csrf_error)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.login_message = None  # _unauthorized says it
