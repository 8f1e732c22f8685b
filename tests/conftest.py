"""Shared fixtures: an app on a migrated database (SQLite or PostgreSQL), clients, signing."""
from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation import create_app
from support import POSTGRES_URL, comment_payload, make_site, sign  # noqa: F401 (re-exported for older imports)
from moderation.extensions import db


TABLES_CHILD_FIRST = (
    "assessments", "lexicon_terms", "human_labels", "scored_texts", "api_keys", "rescore_jobs", "deliveries", "outbox",
    "audit_log", "comment_revisions", "comments", "policy_versions", "user_sites",
    "users", "sites",
)


def _postgres_schema(url: str, schema: str, *, drop: bool = False) -> None:
    from moderation.config import database_uri

    engine = sa.create_engine(database_uri({"DATABASE_URL": url}, "/tmp"))
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if not drop:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database built by running the migrations, once per test session.

    On PostgreSQL each run gets a schema of its own (through search_path), so runs side by
    side on one server do not disturb each other.
    """
    from flask_migrate import upgrade

    schema = None
    if POSTGRES_URL:
        schema = f"test_{os.getpid()}_{secrets.token_hex(3)}"
        _postgres_schema(POSTGRES_URL, schema)
        separator = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    if schema:
        _postgres_schema(POSTGRES_URL, schema, drop=True)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny Detoxify checkpoint in Detoxify's own format, with local tokenizer files."""
    from tiny_detoxify import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model"), "unbiased",
                                toxic_words=("idiot", "scum"))


def _clean(app) -> None:
    with app.app_context():
        with db.engine.begin() as connection:
            for table in TABLES_CHILD_FIRST:
                connection.execute(sa.text(f"DELETE FROM {table}"))
        db.engine.dispose()


@pytest.fixture
def make_app(database_url, tmp_path, tiny_model):
    """Build an app on the test database; `scorer=False` configures a missing checkpoint."""
    apps = []

    def build(scorer: bool = True, **overrides):
        checkpoint, config_dir = tiny_model
        config = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "TESTING": True,
            "RATELIMIT_WEBHOOK": "1000 per minute",
            "LEXICON_PATH": str(tmp_path / "lexicon.tsv"),
            # The default per-machine file, but one per test: counts never leak between tests.
            "RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "ratelimits.sqlite3"),
            "DETOXIFY_CHECKPOINT": str(checkpoint) if scorer else str(tmp_path / "missing.ckpt"),
            "DETOXIFY_CONFIG_DIR": str(config_dir) if scorer else str(tmp_path / "missing-config"),
        }
        config.update(overrides)
        app = create_app(config)
        app.instance_path = str(tmp_path)
        apps.append(app)
        return app

    yield build
    if apps:
        _clean(apps[0])


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def site(app):
    """A site with fresh credentials: (slug, webhook secret, API token)."""
    return make_site(app, "news")


@pytest.fixture
def post_comment(client, site):
    """POST a comment to the webhook, signed with the site's secret."""

    def post(data, *, secret: str | None = None, slug: str | None = None, headers=None,
             raw: bytes | None = None, content_type: str = "application/json"):
        body = raw if raw is not None else json.dumps(data).encode()
        signed = sign(secret or site.secret, body)
        signed.update(headers or {})
        signed["Content-Type"] = content_type
        return client.post(f"/api/v1/sites/{slug or site.slug}/comments", data=body, headers=signed)

    return post


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database of its own (a file, or a PostgreSQL schema), for walking the migrations."""
    if not POSTGRES_URL:
        yield "sqlite:///" + str(tmp_path / "migrate.sqlite3")
        return
    schema = f"test_mig_{os.getpid()}_{secrets.token_hex(3)}"
    _postgres_schema(POSTGRES_URL, schema)
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        _postgres_schema(POSTGRES_URL, schema, drop=True)
