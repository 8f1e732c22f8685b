"""Shared pieces for the callback, worker and SSRF tests: a switchable receiver, a clock, helpers.

(No tests here; the module is named test_* only so it sits with the tests it serves.)
"""
from __future__ import annotations

import secrets
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, OutboxMessage
from support import free_port, signed_post  # noqa: F401 (free_port: the callback tests' import)

ROOT = Path(__file__).resolve().parent.parent
# Read here rather than imported from conftest: tests/scoring/conftest.py is also importable as
# `conftest`, and a full run may resolve the name to that one.
POSTGRES_URL = os.environ.get("MODERATION_TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(
    not (POSTGRES_URL or "").startswith("postgres"),
    reason="needs PostgreSQL: set MODERATION_TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test "
           "(SQLite runs one worker, so there is no claim race to test)")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    """A threaded HTTP receiver on 127.0.0.1; `mode` picks its answer, `stop()` makes it refuse connections."""

    mode: str = "ok"         # ok | error | slow | ratelimit | ratelimit-date | gone | redirect | hang
    delay: float = 0.0       # seconds to wait before answering in "slow" and "ok" modes
    retry_after: str = "120"
    requests: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: int = 0   # the most requests with one webhook-id handled at the same time
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                webhook_id = self.headers.get("webhook-id", "")
                with lock:
                    receiver.requests.append(Received(dict(self.headers.items()), body, self.path))
                    receiver.in_flight[webhook_id] = receiver.in_flight.get(webhook_id, 0) + 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight[webhook_id])
                try:
                    receiver._respond(self)
                finally:
                    with lock:
                        receiver.in_flight[webhook_id] -= 1

            def log_message(self, *args) -> None:
                pass

        lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the listening socket: connections are refused until start() (same port)."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._release = threading.Event()

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        mode = self.mode
        if mode == "hang":
            self._release.wait(60)
            return
        if mode in ("slow", "ok") and self.delay:
            time.sleep(self.delay)
        status, headers, text = {
            "ok": (200, {}, "ok"),
            "slow": (200, {}, "late"),
            "error": (500, {}, "database is down"),
            "ratelimit": (429, {"Retry-After": self.retry_after}, "slow down"),
            "gone": (410, {}, "gone"),
            "redirect": (302, {"Location": f"http://127.0.0.1:{self.port}/elsewhere"}, ""),
        }[mode]
        try:
            handler.send_response(status)
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(text)))
            handler.end_headers()
            handler.wfile.write(text.encode())
        except OSError:
            pass  # the client gave up (timeout test)

    def webhook_ids(self) -> list[str]:
        return [r.headers.get("webhook-id", "") for r in self.requests]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


class Clock:
    """An injectable clock for the worker: real time plus an offset that tests move forward
    instead of sleeping through backoff (rows written "now" by the app are never in its future)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    @property
    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def to(self, when: datetime) -> None:
        self.offset += max(timedelta(0), when - self.now)


def post(app, credentials, comment_id: str, body: str):
    """POST a comment to the signed webhook, as a publisher does (each delivery its own id)."""
    data = {"id": comment_id, "body": body, "article": {"id": "a-1", "url": "https://news.example/a-1"},
            "author": {"id": "reader-1", "name": "Reader 1"}}
    return signed_post(app.test_client(), credentials.slug, credentials.secret, data,
                       message_id=f"msg_{comment_id}_{secrets.token_hex(6)}")


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def comment(app, external_id: str) -> Comment:
    with app.app_context():
        row = db.session.scalar(sa.select(Comment).where(Comment.external_id == external_id))
        db.session.expunge_all()
        return row


def worker_process(database_url: str, *, tmp_path: Path, extra_env: dict[str, str] | None = None,
                   args: tuple[str, ...] = ()) -> subprocess.Popen:
    """`moderation worker` as a real process on the test database (no model: nothing to score)."""
    env = dict(os.environ)
    env.update({
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_SECRET_KEY": "test-secret-key",
        "MODERATION_CALLBACK_ALLOW_PRIVATE": "true",
        "MODERATION_DETOXIFY_CHECKPOINT": str(tmp_path / "missing.ckpt"),
        "MODERATION_WORKER_POLL_SECONDS": "0.1",
        "MODERATION_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra_env or {})
    return subprocess.Popen([sys.executable, "-c", "from moderation.cli import main; main()", "worker", *args],
                            cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05, message: str = "condition") -> None:
    """Poll until predicate() is true (a liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
