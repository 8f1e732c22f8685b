"""Every assessment is kept: the webhook, an edit, Coral and a rescore each add a row and change none."""
from __future__ import annotations

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import StoredAssessment
from test_callbacks_support import comment, post
from support import make_site
from test_coral import coral, coral_post, coral_request  # noqa: F401 (fixture)
from test_worker import premoderate


def _rows(app, external_id=None):
    with app.app_context():
        query = sa.select(StoredAssessment).order_by(StoredAssessment.id)
        if external_id:
            query = query.where(StoredAssessment.comment_id == comment(app, external_id).id)
        rows = list(db.session.scalars(query))
        return [(r.revision_id, r.status, r.source, r.policy_version, r.model, dict(r.scores or {}),
                 [m["term"] for m in r.matches]) for r in rows]


def test_webhook_edit_and_rescore_each_add_an_assessment(make_app):
    app = make_app()
    credentials = make_site(app)
    post(app, credentials, "c1", "<p>A stupid idea.</p>")
    [first] = _rows(app, "c1")
    assert first[1:3] == ("queued", "webhook") and first[4] and first[5]["toxicity"] > 0

    post(app, credentials, "c1", "<p>A fine idea.</p>")  # an edit: a new revision, a new assessment
    edited = _rows(app, "c1")
    assert edited[0] == first and len(edited) == 2
    assert edited[1][0] != first[0] and edited[1][1] == "approved"

    premoderate(app)
    result = app.test_cli_runner().invoke(args=["rescore", "--status", "approved"])
    assert result.exit_code == 0, result.output
    rescored = _rows(app, "c1")
    assert rescored[:2] == edited, "earlier assessments are never rewritten"
    assert rescored[2][1:4] == ("queued", "cli", 2) and rescored[2][0] == edited[1][0]
    with app.app_context():
        from moderation.assessments import history

        assert [a.status for a in history(comment(app, "c1").id)] == ["queued", "approved", "queued"]


def test_coral_and_worker_assessments_are_kept(make_app):
    from moderation.worker import Worker
    from test_callbacks_support import Clock

    intake = make_app(scorer=False)
    credentials = make_site(intake)
    post(intake, credentials, "p1", "<p>You idiot.</p>")
    assert _rows(intake, "p1")[0][1] == "pending"  # could not score: kept too, with no scores
    app = make_app()
    with app.app_context():
        assert Worker(app, clock=Clock()).pending.step() == 1
    assert [(r[1], r[2]) for r in _rows(app, "p1")] == [("pending", "webhook"), ("rejected", "worker")]



def test_coral_assessments_are_kept(coral):
    answer = coral_post(coral.test_client(), coral_request("You are an idiot and scum.")).get_json()
    assert answer["status"] == "REJECTED"
    assert [(r[1], r[2]) for r in _rows(coral)] == [("rejected", "coral")]


def test_the_history_partial_lists_every_assessment(make_app):
    from flask import render_template

    from moderation.assessments import history

    app = make_app()
    credentials = make_site(app)
    post(app, credentials, "c1", "<p>A stupid idea.</p>")
    post(app, credentials, "c1", "<p>You idiot.</p>")
    with app.test_request_context():
        html = render_template("settings/_assessments.html", assessments=history(comment(app, "c1").id))
    assert html.count("<tr>") == 3 and "queued" in html and "rejected" in html and "webhook" in html
    assert "toxicity" in html


def test_an_unscored_assessment_has_no_scores_and_the_newest_scored_one_is_found(make_app):
    """An edit the scorer could not score stores SQL NULL (not the JSON value null), so "the newest
    scored assessment" (what the humans were shown, for the agreement figures) is the earlier one."""
    from moderation.assessments import latest_for_comments

    app = make_app()
    credentials = make_site(app)
    post(app, credentials, "c1", "<p>A stupid idea.</p>")
    post(make_app(scorer=False), credentials, "c1", "<p>A stupid idea, edited.</p>")
    rows = _rows(app, "c1")
    assert [r[1] for r in rows] == ["queued", "pending"] and rows[0][5] and not rows[1][5]
    with app.app_context():
        for table in ("assessments", "comment_revisions", "comments"):
            nulls = db.session.execute(sa.text(f"SELECT scores IS NULL FROM {table} ORDER BY id")).scalars().all()
            assert [bool(n) for n in nulls] == {"assessments": [False, True], "comment_revisions": [False, True],
                                                 "comments": [True]}[table], table
        commented = comment(app, "c1")
        newest = latest_for_comments([commented.id])[commented.id]
        assert newest.status == "queued" and newest.scores == rows[0][5]
