"""`moderation demo`: a working service on SQLite with a demo site, an admin, an editor, a moderator and the sample comments."""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from datetime import datetime, timezone
from importlib import resources

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db

DEMO_SITE = "demo"
DEMO_ADMIN = "admin@demo.example"
DEMO_MODERATOR = "moderator@demo.example"
DEMO_EDITOR = "editor@demo.example"


def sample_comments() -> list[dict]:
    """The real comments from the article in moderation/data (a copy of shared/samples)."""
    text = resources.files("moderation").joinpath("data/seed-article-comments.json").read_text("utf-8")
    return json.loads(text)


def not_a_demo_database() -> str | None:
    """Why this database must not get the demo (it holds a real deployment's sites or accounts), or None.

    The demo creates an admin account and resets its password, and posts comments: on the
    database MODERATION_DATABASE_URL points at, that could be production's.
    """
    import sqlalchemy as sa

    from .models import Site, User

    other_sites = db.session.scalar(sa.select(sa.func.count()).select_from(Site).where(Site.slug != DEMO_SITE))
    other_users = db.session.scalar(sa.select(sa.func.count()).select_from(User)
                                    .where(User.email.not_in((DEMO_ADMIN, DEMO_EDITOR, DEMO_MODERATOR))))
    if not (other_sites or other_users):
        return None
    return (f"{other_sites} site(s) and {other_users} account(s) besides the demo's are stored there; the demo "
            "creates an admin account and resets its password. Run it on its own database: unset "
            "MODERATION_DATABASE_URL for SQLite in the instance folder.")


def ensure_demo_accounts() -> tuple[str, dict[str, str]]:
    """Create (or reset) the demo site and accounts; returns the site's secret and passwords."""
    from .auth.passwords import hash_password
    from .auth.users import by_email, create_user
    from .sites import by_slug, create_site, new_webhook_secret

    site = by_slug(DEMO_SITE)
    if site is None:
        secret = create_site(DEMO_SITE, name="Demo newsroom").secret
        site = by_slug(DEMO_SITE)
    else:
        # The demo prints fresh credentials each run: the old ones were only ever on a terminal.
        site.secret = secret = new_webhook_secret()
    passwords = {}
    for email, role in ((DEMO_ADMIN, "admin"), (DEMO_EDITOR, "editor"), (DEMO_MODERATOR, "moderator")):
        password = passwords[email] = secrets.token_urlsafe(12)
        user = by_email(email)
        if user is None:
            create_user(email, role=role, password=password, sites=[site], actor="demo")
        else:
            user.password_hash = hash_password(password)
            user.session_generation += 1
    db.session.commit()
    return secret, passwords


def post_samples(base_url: str, secret: str) -> list[tuple[str, int, str]]:
    """Post each sample comment through the real, signed webhook; returns (id, HTTP status, status)."""
    import requests
    from standardwebhooks.webhooks import Webhook

    signer = Webhook(secret)
    results = []
    for comment in sample_comments():
        body = json.dumps(comment)
        message_id = "msg_demo_" + comment["id"]
        now = datetime.now(timezone.utc)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(message_id, now, body),
        }
        response = requests.post(f"{base_url}/api/v1/sites/{DEMO_SITE}/comments", data=body.encode(),
                                 headers=headers, timeout=120)
        status = response.json().get("status", response.json().get("detail", "?"))
        results.append((comment["id"], response.status_code, status))
    return results


def _start_server(app: Flask, host: str, port: int):
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="demo-http", daemon=True)
    thread.start()
    return server


def _start_worker(app: Flask):
    from .worker import Worker

    worker = Worker(app)
    threading.Thread(target=worker.run, name="demo-worker", daemon=True).start()
    return worker


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and post the samples, then exit.")
@click.option("--verbose", is_flag=True, help="Print a log line for every request.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool, verbose: bool) -> None:
    """Migrate, create a demo site and accounts, post the sample comments, and serve."""
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    if not verbose:
        # The credentials and results below are what a newcomer needs; request logs drown them.
        for name in ("moderation.requests", "werkzeug"):
            logging.getLogger(name).setLevel(logging.WARNING)
    app = current_app._get_current_object()
    click.echo(f"Database: {make_url(app.config['SQLALCHEMY_DATABASE_URI']).render_as_string(hide_password=True)}")
    upgrade()
    refusal = not_a_demo_database()
    if refusal is not None:
        raise click.ClickException(f"not running the demo on this database: {refusal}")
    secret, passwords = ensure_demo_accounts()
    from . import runtime
    from .scoring import ScorerUnavailable

    scorer = runtime.scorer()
    click.echo(f"Loading the scorer ({scorer.name}; the first use downloads it)...")
    try:
        scorer.ensure_loaded()
    except ScorerUnavailable:
        pass  # reported below; the comments wait as pending
    server = _start_server(app, host, port)
    base_url = f"http://{host}:{port}"
    click.echo(f"Posting {len(sample_comments())} sample comments through the signed webhook...")
    for comment_id, http_status, status in post_samples(base_url, secret):
        click.echo(f"  {comment_id:>4}  HTTP {http_status}  {status}")

    loaded, reason = scorer.status()
    if not loaded:
        click.secho(f"\nThe scorer is DOWN: {reason}", fg="yellow", bold=True)
        click.echo("Comments wait as 'pending' (never approved) until a model is available: set "
                   "MODERATION_DETOXIFY_CHECKPOINT and MODERATION_DETOXIFY_CONFIG_DIR "
                   "(see `moderation model download`), then run `moderation worker`.")
    worker = None
    if not no_serve:
        worker = _start_worker(app)
    click.echo(f"\nServing on {base_url}  (UI: {base_url}/, API: {base_url}/api/v1/)")
    click.echo(f"  admin:      {DEMO_ADMIN}  password: {passwords[DEMO_ADMIN]}")
    click.echo(f"  editor:     {DEMO_EDITOR}  password: {passwords[DEMO_EDITOR]}  "
               f"(the policy page: {base_url}/sites/{DEMO_SITE}/policy)")
    click.echo(f"  moderator:  {DEMO_MODERATOR}  password: {passwords[DEMO_MODERATOR]}")
    click.echo(f"  site '{DEMO_SITE}' webhook secret: {secret}")
    if no_serve:
        server.shutdown()
        return
    click.echo("A worker runs alongside: it decides pending comments once a model loads, and "
               "delivers callbacks.\nPress Ctrl+C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        if worker is not None:
            worker.stop()
        server.shutdown()
