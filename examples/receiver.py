"""A publisher's callback receiver: verifies Standard Webhooks signatures and applies each event once.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python examples/receiver.py --port 8080 --db receiver.sqlite3

Point the site at it with `moderation site update SLUG --callback-url https://your.host/moderation`.

What a receiver must do, and this one shows:
- verify the signature over the *raw* body (with the library, which also refuses timestamps
  more than 5 minutes off, so a captured request cannot be replayed later);
- deduplicate on `webhook-id`: delivery is at least once, and a retry after a lost answer
  carries the same id. The id is stored in the same transaction as the effect, so a crash
  between the two cannot apply an event twice or lose it;
- answer 2xx quickly once the event is stored (anything else, redirects included, is retried
  with backoff for about three days); answer 410 only to stop all callbacks to this URL.

Standard library plus `standardwebhooks`; swap the http.server for your framework's route.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    webhook_id TEXT PRIMARY KEY,           -- the dedupe key
    comment_id TEXT NOT NULL,              -- your comment id (the service's external_id)
    status TEXT NOT NULL,                  -- approved | queued | rejected
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS comment_status (
    comment_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    revision INTEGER NOT NULL
);
"""


class Store:
    """Events and the resulting comment visibility, in SQLite (your CMS's database in real life)."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.connection.executescript(SCHEMA)
        self.lock = threading.Lock()

    def apply_once(self, webhook_id: str, event: dict) -> bool:
        """Record the event and apply it, in one transaction; False if it was seen before."""
        data = event["data"]
        with self.lock:
            cursor = self.connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                cursor.execute(
                    "INSERT OR IGNORE INTO events (webhook_id, comment_id, status, payload) VALUES (?, ?, ?, ?)",
                    (webhook_id, data["external_id"], data["status"], json.dumps(event)))
                if cursor.rowcount == 0:
                    cursor.execute("ROLLBACK")
                    return False
                # Events may arrive out of order (retries): never let an older revision win.
                cursor.execute(
                    "INSERT INTO comment_status (comment_id, status, revision) VALUES (?, ?, ?) "
                    "ON CONFLICT (comment_id) DO UPDATE SET status = excluded.status, "
                    "revision = excluded.revision WHERE excluded.revision >= comment_status.revision",
                    (data["external_id"], data["status"], int(data.get("revision") or 0)))
                cursor.execute("COMMIT")
                return True
            except BaseException:
                cursor.execute("ROLLBACK")
                raise


def make_handler(secret: str, store: Store) -> type[BaseHTTPRequestHandler]:
    webhook = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._answer(413, "body too large")
            body = self.rfile.read(length)
            headers = {name: self.headers.get(name, "") for name in
                       ("webhook-id", "webhook-timestamp", "webhook-signature")}
            try:
                event = webhook.verify(body, headers)  # raw bytes: never re-serialise before verifying
            except WebhookVerificationError as error:
                return self._answer(401, f"bad signature: {error}")
            if event.get("type") != "comment.moderated":
                return self._answer(204, "")  # unknown event types are acknowledged and ignored
            fresh = store.apply_once(headers["webhook-id"], event)
            self._answer(200, "applied" if fresh else "duplicate ignored")

        def _answer(self, status: int, text: str) -> None:
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:  # one line per request on stderr
            super().log_message(format, *args)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", default="receiver.sqlite3")
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        parser.error("set WEBHOOK_SECRET to the site's webhook secret (whsec_...)")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(secret, Store(args.db)))
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
