"""Helpers the tests import by name (conftest.py is for fixtures: two of them share that module name)."""
from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

# MODERATION_TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test runs the suite on PostgreSQL;
# by default it runs on a SQLite file in a temporary folder.
POSTGRES_URL = os.environ.get("MODERATION_TEST_DATABASE_URL")


def sign(secret: str, body: bytes, *, message_id: str | None = None, when: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers for a body, made by the reference library (a fresh webhook-id
    unless given: the id is the delivery's idempotency key)."""
    message_id = message_id or "msg_" + secrets.token_hex(12)
    when = when or datetime.now(timezone.utc)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, when, body.decode()),
    }


def comment_payload(comment_id: str = "c1", body: str = "<p>Armenians are rightfully angry.</p>", **extra):
    data = {
        "id": comment_id,
        "article": {"id": "a-1", "url": "https://news.example/a-1", "title": "An article"},
        "author": {"id": "reader-1", "name": "Reader 1"},
        "body": body,
        "created_at": "2021-04-16T12:00:00Z",
        "parent_id": None,
        "language": None,
    }
    data.update(extra)
    return data
