"""Helpers the tests import by name (conftest.py is for fixtures: two of them share that module name)."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from standardwebhooks.webhooks import Webhook

# MODERATION_TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test runs the suite on PostgreSQL;
# by default it runs on a SQLite file in a temporary folder.
POSTGRES_URL = os.environ.get("MODERATION_TEST_DATABASE_URL")
REPO = Path(__file__).resolve().parent.parent


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


def make_site(app, slug: str = "news", *, name: str | None = None, callback_url: str | None = None,
              coral_secret: str | None = None):
    """A site with fresh credentials (slug, webhook secret, API token), made the way the CLI makes one."""
    import sqlalchemy as sa

    from moderation.extensions import db
    from moderation.models import Site
    from moderation.sites import create_site, update_site

    with app.app_context():
        credentials = create_site(slug, name=name or slug.capitalize(), callback_url=callback_url)
        if coral_secret:
            update_site(db.session.scalar(sa.select(Site).where(Site.slug == slug)), coral_secret=coral_secret)
        db.session.commit()
    return credentials


def signed_post(client, slug: str, secret: str, data, *, message_id: str | None = None):
    """POST a JSON body to a site's webhook, signed as a publisher signs it."""
    body = json.dumps(data).encode()
    headers = sign(secret, body, message_id=message_id) | {"Content-Type": "application/json"}
    return client.post(f"/api/v1/sites/{slug}/comments", data=body, headers=headers)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class gunicorn_served:
    """`moderation serve` (gunicorn, preloaded app) in its own process group."""

    def __init__(self, database_url: str, tiny_model, *, workers: int, threads: int = 4,
                 env: dict[str, str] | None = None) -> None:
        checkpoint, config_dir = tiny_model
        self.port = free_port()
        self.env = dict(os.environ, MODERATION_DATABASE_URL=database_url, MODERATION_SECRET_KEY="x",
                        MODERATION_DETOXIFY_CHECKPOINT=str(checkpoint),
                        MODERATION_DETOXIFY_CONFIG_DIR=str(config_dir), **(env or {}))
        self.args = [sys.executable, "-m", "moderation.cli", "serve", "--bind", f"127.0.0.1:{self.port}",
                     "--workers", str(workers), "--threads", str(threads)]

    def __enter__(self) -> str:
        self.server = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=2).ok:
                    return base
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting
                time.sleep(0.3)
        self.__exit__()
        raise AssertionError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(timeout=30)
