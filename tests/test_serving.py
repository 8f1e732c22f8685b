"""Real HTTP: the demo command end to end, and gunicorn with the app preloaded."""
from __future__ import annotations

import json

import pytest
import requests
import sqlalchemy as sa

from support import comment_payload, free_port, gunicorn_served, sign
from moderation.extensions import db
from moderation.models import Comment

def test_demo_posts_the_samples_through_the_signed_webhook(app, runner):
    port = free_port()
    result = runner.invoke(args=["demo", "--no-serve", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert "admin@demo.example  password:" in result.output
    with app.app_context():
        comments = db.session.scalars(sa.select(Comment).order_by(Comment.id)).all()
        assert [c.external_id for c in comments] == ["c1", "c1r", "c2", "c3", "c4", "c5"]
        assert all(c.model == "detoxify-unbiased" and c.scores for c in comments)
        assert {c.status for c in comments} <= {"approved", "queued", "rejected"}
    # A second run reuses the site, resets the passwords and gets the stored results back.
    again = runner.invoke(args=["demo", "--no-serve", "--port", str(port)])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 6


def test_demo_refuses_a_database_that_holds_a_real_deployment(app, runner):
    """MODERATION_DATABASE_URL may point at production: the demo would add an admin account there
    with a password printed on a terminal, and post its sample comments."""
    from moderation.models import Site, User
    from review_support import make_user
    from support import make_site

    make_site(app, "news")
    make_user(app, "editor@news.example")
    result = runner.invoke(args=["demo", "--no-serve", "--port", str(free_port())])
    assert result.exit_code != 0
    assert "not running the demo on this database" in result.output and "1 site(s) and 1 account(s)" in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(Site.slug)).all() == ["news"]
        assert db.session.scalars(sa.select(User.email)).all() == ["editor@news.example"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_demo_prints_the_database_without_its_password(make_app, runner, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite URL has no password to hide")
    app = make_app(DATABASE_URL=database_url.replace("://", "://demo:s3cret-pw@", 1))
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--port", str(free_port())])
    assert "s3cret-pw" not in result.output and "demo:***@" in result.output


def test_demo_without_a_model_says_so_and_keeps_comments_pending(make_app):
    app = make_app(scorer=False)
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--port", str(free_port())])
    assert result.exit_code == 0, result.output
    assert "The scorer is DOWN" in result.output
    assert "HTTP 202  pending" in result.output
    with app.app_context():
        assert set(db.session.scalars(sa.select(Comment.status))) == {"pending"}


@pytest.mark.parametrize("threads", ["2", None])
def test_gunicorn_preloaded_workers_score_comments(app, site, database_url, tiny_model, threads):
    """The master loads the weights (shared by the forked workers) and never runs inference."""
    env = {"MODERATION_SCORING_THREADS": threads} if threads else {}
    with gunicorn_served(database_url, tiny_model, workers=2, env=env) as base:
        statuses = []
        for n in range(4):  # several requests, so both workers are likely to score
            body = json.dumps(comment_payload(f"g{n}", f"<p>Comment number {n} about the park.</p>")).encode()
            headers = sign(site.secret, body) | {"Content-Type": "application/json"}
            response = requests.post(f"{base}/api/v1/sites/{site.slug}/comments", data=body,
                                     headers=headers, timeout=60)
            assert response.status_code == 200, response.text
            statuses.append(response.json()["status"])
            assert response.json()["scores"]["toxicity"] < 0.5
        assert statuses == ["approved"] * 4
        assert requests.get(base + "/readyz", timeout=30).status_code == 200
