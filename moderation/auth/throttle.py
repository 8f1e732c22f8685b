"""Sign-in throttling: Flask-Limiter limits keyed by client address and by the email tried.

Both limits count failed attempts only, so a moderator who signs in often is never locked
out; an attacker spraying one address or one account is. The answer when throttled is as
generic as a wrong password's: it tells nothing about whether the account exists.
"""
from __future__ import annotations

from flask import current_app, request
from flask.wrappers import Response
from flask_limiter.util import get_remote_address

DEFAULT_PER_ADDRESS = "30 per 15 minutes"
DEFAULT_PER_EMAIL = "10 per 15 minutes"


def per_address_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN_ADDRESS", DEFAULT_PER_ADDRESS))


def per_email_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN_EMAIL", DEFAULT_PER_EMAIL))


def address_key() -> str:
    return "login-address:" + (get_remote_address() or "unknown")


def email_key() -> str:
    # Normalised like users.by_email, so "A@x.org " and "a@x.org" share one budget.
    return "login-email:" + (request.form.get("email") or "").strip().lower()[:320]


def failed_attempt(response: Response) -> bool:
    """Only failed sign-ins use up the budget (a success redirects)."""
    return response.status_code != 302
