"""The receiver is down for a while, decisions keep coming, it comes back: every callback arrives once.

The receiver is examples/receiver.py (the publisher kit), run as a real process and killed with
SIGKILL. It verifies each callback with the standardwebhooks library and deduplicates on
webhook-id, so a redelivery (the receiver applied the event, then its answer was lost) is
counted but not applied twice.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import OutboxMessage
from moderation.worker import Worker
from test_callbacks_support import ROOT, Clock, free_port, outbox, post
from support import make_site


class ExampleReceiver:
    def __init__(self, secret: str, db_path, port: int) -> None:
        self.secret, self.db_path, self.port = secret, db_path, port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/moderation"

    def start(self) -> None:
        env = dict(os.environ, WEBHOOK_SECRET=self.secret)
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "receiver.py"), "--port", str(self.port),
             "--db", str(self.db_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "listening" in self.process.stdout.readline()

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def applied(self) -> dict[str, str]:
        with sqlite3.connect(self.db_path) as connection:
            return dict(connection.execute("SELECT comment_id, status FROM comment_status"))

    def events(self) -> list[str]:
        with sqlite3.connect(self.db_path) as connection:
            return [row[0] for row in connection.execute("SELECT webhook_id FROM events")]


def test_receiver_outage_loses_nothing(make_app, tmp_path):
    intake = make_app(scorer=False)
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}/moderation"
    credentials = make_site(intake, callback_url=receiver_url)
    receiver = ExampleReceiver(credentials.secret, tmp_path / "receiver.sqlite3", port)
    clock = Clock()
    app = make_app(CALLBACK_ALLOW_PRIVATE=True, CALLBACK_TIMEOUT=2.0)
    worker = Worker(app, clock=clock)

    receiver.start()
    bodies = {"c0": "Fine words.", "c1": "You idiot.", "c2": "A stupid idea.", "c3": "Lovely park.",
              "c4": "Utter scum.", "c5": "Thanks for the article."}
    post(intake, credentials, "c0", f"<p>{bodies['c0']}</p>")
    worker.run_once()
    assert receiver.applied() == {"c0": "approved"}

    receiver.kill()  # down for a while; decisions keep being made
    for key in ("c1", "c2", "c3", "c4"):
        post(intake, credentials, key, f"<p>{bodies[key]}</p>")
        worker.run_once()
        clock.advance(minutes=10)
        worker.run_once()  # retries fail while it is down
    assert all(m.status == "pending" for m in outbox(app)[1:])
    assert all(m.attempts >= 1 and "failed" in m.last_error for m in outbox(app)[1:])

    receiver.start()  # back up; one more decision arrives meanwhile
    post(intake, credentials, "c5", f"<p>{bodies['c5']}</p>")
    for _ in range(8):  # enough clock for every backoff to come due
        clock.advance(hours=3)
        worker.run_once()
    assert {m.status for m in outbox(app)} == {"delivered"}
    assert receiver.applied() == {"c0": "approved", "c1": "rejected", "c2": "queued", "c3": "approved",
                                  "c4": "rejected", "c5": "approved"}

    # At least once: send one delivered callback again (its answer "was lost"); it is not applied twice.
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == outbox(app)[1].id)
                           .values(status="failed"))
        db.session.commit()
    app.test_cli_runner().invoke(args=["callbacks", "redeliver", str(outbox(app)[1].id)])
    worker.run_once()
    assert outbox(app)[1].status == "delivered"
    assert sorted(receiver.events()) == sorted(m.webhook_id for m in outbox(app)), \
        "every webhook-id applied exactly once"
    receiver.kill()


def test_receiver_refuses_forged_callbacks(tmp_path):
    """The example receiver applies nothing that is not signed with the site's secret."""
    import json
    import urllib.error
    import urllib.request
    from datetime import datetime, timezone

    from moderation.callbacks.delivery import serialise, signed_headers

    port = free_port()
    secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    receiver = ExampleReceiver(secret, tmp_path / "r.sqlite3", port)
    receiver.start()
    try:
        body = serialise({"type": "comment.moderated", "data": {"external_id": "c1", "status": "approved"}})
        forged = signed_headers(["whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0LTEyMzQ="], "msg_x", body,
                                datetime.now(timezone.utc))
        request = urllib.request.Request(receiver.url, data=body.encode(), headers=forged, method="POST")
        try:
            urllib.request.urlopen(request, timeout=5)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 401
        assert receiver.applied() == {}
        good = signed_headers([secret], "msg_y", body, datetime.now(timezone.utc))
        with urllib.request.urlopen(urllib.request.Request(receiver.url, data=body.encode(), headers=good,
                                                           method="POST"), timeout=5) as response:
            assert response.status == 200
        assert receiver.applied() == {"c1": "approved"} and json.loads(body)["type"] == "comment.moderated"
    finally:
        receiver.kill()
