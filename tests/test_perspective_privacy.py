"""doNotStore: the text is nowhere afterwards (database file and WAL, logs, metrics); otherwise it is kept."""
from __future__ import annotations

import io
import logging
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from perspective_support import analyze, new_key, request_body


@pytest.fixture
def captured_logs():
    """Everything any logger writes, at every level, while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("moderation"), logging.getLogger("werkzeug")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield stream
    for logger, level in zip(loggers, levels):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _database_holds(app, marker: str) -> bool:
    """Whether the marker is in any stored byte: the SQLite file and its WAL, or every PostgreSQL row."""
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            db.session.remove()
            path = Path(url.database)
            files = [str(f) for f in (path, Path(str(path) + "-wal"), Path(str(path) + "-journal")) if f.exists()]
            # Read by another process: closing a descriptor of the database file here would drop
            # every POSIX lock this process holds on it, SQLite's included, and the next process
            # to close the database would take itself for the last one and delete the WAL index
            # from under this process's open connections (a "disk I/O error" in later tests).
            found = subprocess.run(
                [sys.executable, "-c", "import sys; marker = sys.argv[1].encode(); "
                 "sys.exit(0 if any(marker in open(f, 'rb').read() for f in sys.argv[2:]) else 1)",
                 marker, *files], check=False, timeout=60)
            return found.returncode == 0
        tables = sa.inspect(db.engine).get_table_names()
        with db.engine.connect() as connection:
            for table in tables:
                for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                    if marker in repr(tuple(row)):
                        return True
        return False


def test_do_not_store_leaves_no_trace(app, client, site, captured_logs):
    key = new_key(app)
    marker = f"idiot-marker-{uuid.uuid4().hex}"
    text = f"You are an {marker}. Another sentence here."
    response = analyze(client, key, request_body(text, "TOXICITY", "INSULT", doNotStore=True, spanAnnotations=True, languages=["en"],
                                                 clientToken="t-1"))
    assert response.status_code == 200
    labelled = client.post(f"/v1alpha1/comments:suggestscore?key={key}", json={
        "comment": {"text": text}, "doNotStore": True,
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}})
    assert labelled.status_code == 200
    # Errors on such a text (a language no model covers here) leave no trace either.
    refused = analyze(client, key, request_body(text, languages=["de"], doNotStore=True))
    assert refused.status_code == 400 and marker not in refused.get_data(as_text=True)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "moderation_perspective_requests_total" in metrics and marker not in metrics
    assert marker not in captured_logs.getvalue()
    assert captured_logs.getvalue(), "the capture must see the request logs, or it proves nothing"
    assert not _database_holds(app, marker)


def test_without_do_not_store_the_text_is_kept(app, client, site):
    """The same search finds a stored text: the check above can fail."""
    key = new_key(app)
    marker = f"kept-marker-{uuid.uuid4().hex}"
    response = analyze(client, key, request_body(f"Words and {marker}", doNotStore=False, languages=["en"]))
    assert response.status_code == 200
    assert _database_holds(app, marker)


def test_inference_failure_is_503_and_its_message_stays_out_of_logs(app, client, site, captured_logs, monkeypatch):
    from moderation import runtime
    from moderation.scoring import ScoringFailed

    key = new_key(app)
    with app.app_context():
        scorer = runtime.scorer()
        scorer.ensure_loaded()

    def failing(texts, boundaries=None):
        raise ScoringFailed(f"inference failed: ValueError: cannot read {texts[0]!r}")

    monkeypatch.setattr(scorer, "score", failing)
    marker = f"failing-marker-{uuid.uuid4().hex}"
    response = analyze(client, key, request_body(f"You {marker}", doNotStore=True, languages=["en"]))
    assert response.status_code == 503 and response.get_json()["error"]["status"] == "UNAVAILABLE"
    assert marker not in response.get_data(as_text=True)
    assert "model unavailable" in captured_logs.getvalue() and marker not in captured_logs.getvalue()
    assert not _database_holds(app, marker)
