"""Helpers for the sign-in and review tests: users, sessions with CSRF tokens, comments in any state."""
from __future__ import annotations

import re
from typing import Any

import pytest

from moderation.extensions import db

PASSWORD = "correct horse battery staple"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def make_user(app, email: str, role: str = "moderator", site_slugs: tuple[str, ...] = ("news",),
              password: str = PASSWORD) -> int:
    from moderation.auth.users import create_user
    from moderation.sites import require

    with app.app_context():
        sites = [require(slug) for slug in site_slugs] if role != "admin" else []
        user = create_user(email, role=role, password=password, sites=sites)
        db.session.commit()
        return user.id


def csrf_token(client, path: str = "/auth/login") -> str:
    page = client.get(path)
    match = _CSRF_META.search(page.get_data(as_text=True))
    assert match, f"no CSRF meta tag on {path}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, *, request_options: dict[str, Any] | None = None, **extra):
    """Sign in through the form, CSRF token included; extra form fields, and options for the POST (base_url...)."""
    token = csrf_token(client)
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token, **extra},
                       **(request_options or {}))


def add_comment(app, site_slug: str = "news", external_id: str = "c1", **fields: Any) -> int:
    """Store a comment directly in a given state (the webhook path has its own tests)."""
    from moderation.models import Comment
    from moderation.sites import require

    values: dict[str, Any] = {
        "status": "queued", "html": "<p>Some text</p>", "text": "Some text", "harm": 0.5,
        "reasons": [{"code": "toxicity", "score": 0.5, "threshold": 0.4}], "matches": [],
        "scores": {"toxicity": 0.5}, "article_id": "a-1", "article_title": "An article",
        "article_url": "https://news.example/a-1", "author_id": "reader-1", "author_name": "Reader 1",
        "revision_count": 1,
    }
    values.update(fields)
    with app.app_context():
        comment = Comment(site_id=require(site_slug).id, external_id=external_id, **values)
        db.session.add(comment)
        db.session.commit()
        return comment.id


def comment_state(app, comment_id: int) -> dict[str, Any]:
    from moderation.models import Comment

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return {"status": comment.status, "decided_by": comment.decided_by,
                "decided_by_user_id": comment.decided_by_user_id, "reason_code": comment.reason_code,
                "moderator_note": comment.moderator_note, "claimed_by_user_id": comment.claimed_by_user_id}


def audit_actions(app, comment_id: int) -> list[str]:
    import sqlalchemy as sa

    from moderation.models import AuditEntry

    with app.app_context():
        return list(db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.comment_id == comment_id).order_by(AuditEntry.id)))


def outbox_count(app, comment_id: int) -> int:
    import sqlalchemy as sa

    from moderation.models import OutboxMessage

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.comment_id == comment_id))


class Reviewer:
    """A signed-in test client with the page's CSRF token, posting forms or fetches."""

    def __init__(self, client, email: str) -> None:
        self.client = client
        self.email = email
        response = login(client, email)
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = csrf_token(client, "/review/")

    def post(self, path: str, data: dict | None = None, *, fetch: bool = True, **kwargs):
        headers = {"X-CSRFToken": self.token}
        if fetch:
            headers["Accept"] = "application/json"
        return self.client.post(path, data=data or {}, headers=headers, **kwargs)

    def decide(self, comment_id: int, decision: str, expected: str = "queued", reason: str | None = None,
               note: str | None = None, **kwargs):
        data = {"decision": decision, "expected_status": expected}
        if reason:
            data["reason_code"] = reason
        if note:
            data["note"] = note
        return self.post(f"/review/comments/{comment_id}/decision", data, **kwargs)


@pytest.fixture
def moderator(app, site):
    make_user(app, "mod@news.example")
    return Reviewer(app.test_client(), "mod@news.example")
