"""The policy workspace's routes: who may use them, agreement and charts from stored decisions, lexicon edits, rescoring."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, LexiconTerm, RescoreJob, utcnow
from review_support import Reviewer, add_comment, make_user
from support import make_site
from support import comment_payload


@pytest.fixture
def app(make_app):
    return make_app(LEXICON_CHECK_SECONDS=0)  # every request checks the lexicon table (5 s by default)


@pytest.fixture
def people(app, site):
    make_site(app, "other")
    make_user(app, "editor@example.org", "editor", ("news",))
    make_user(app, "other-editor@example.org", "editor", ("other",))
    make_user(app, "mod@example.org", "moderator", ("news",))
    make_user(app, "admin@example.org", "admin")
    return app


def _as(app, email):
    return Reviewer(app.test_client(), email)


@pytest.mark.parametrize("email, status", [
    ("editor@example.org", 200), ("admin@example.org", 200),
    ("mod@example.org", 403), ("other-editor@example.org", 404),
])
def test_only_the_sites_editors_and_admins_get_in(people, email, status):
    user = _as(people, email)
    assert user.client.get("/sites/news/policy/insights").status_code == status
    posted = user.post("/sites/news/policy/rescore", {"window": "24h"}, fetch=False)
    assert posted.status_code == (302 if status == 200 else status)
    with people.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RescoreJob)) == (1 if status == 200 else 0)


def test_anonymous_is_sent_to_sign_in_and_unknown_sites_are_404(people):
    response = people.test_client().get("/sites/news/policy/insights")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert _as(people, "admin@example.org").client.get("/sites/nope/policy/insights").status_code == 404


def _decided(app, n, score, status):
    add_comment(app, external_id=f"d{n}", status=status, decided_by="human", decided_at=utcnow(),
                scores={"insult": score, "toxicity": 0.1}, reasons=[], harm=score)


def test_agreement_and_charts_come_from_stored_decisions(people, post_comment):
    for n, score in enumerate((0.05, 0.1, 0.2, 0.3, 0.4, 0.42)):
        _decided(people, n, score, "approved")
    for n, score in enumerate((0.5, 0.55, 0.58, 0.7, 0.8, 0.9), start=10):
        _decided(people, n, score, "rejected")
    post_comment(comment_payload("w1", "<p>A stupid idea.</p>"))  # queued by the model: on the queue chart
    page = _as(people, "editor@example.org").client.get("/sites/news/policy/insights?window=24h")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "12 decision(s) in the window (6 rejected by a human)" in html
    # The suggestion for insult, with its counts, as a link the policy form can read.
    assert 'href="/sites/news/policy?thresholds.insult.review=0.5&amp;window=24h"' in html
    assert "agrees on 12, disagrees on 0" in html
    assert html.count("<svg") == 9  # seven categories, queue size and age
    assert 'style="' not in html
    assert "dashed" in html and "Insult: 13 scored comments" in html
    assert "Comments waiting in the queue: 1.0 comments at the end of the window" in html
    headers = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers and "<script>" not in html

    proposed = _as(people, "editor@example.org").client.get(
        "/sites/news/policy/insights?window=24h&thresholds.insult.review=0.5").get_data(as_text=True)
    assert "0.60 → 0.50" in proposed and "proposed 0.50" in proposed
    bad = _as(people, "editor@example.org").client.get(
        "/sites/news/policy/insights?thresholds.insult.review=2").get_data(as_text=True)
    assert "thresholds.insult.review" in bad and "from 0 to 1" in bad


def test_editors_add_and_remove_their_sites_terms(people, post_comment):
    editor = _as(people, "editor@example.org")
    response = editor.post("/sites/news/policy/lexicon", {
        "terms": "zorblax\nquoblin\n", "category": "ethnic_slur", "language": "en", "severity": "3",
        "scope": "site", "next": "/sites/news/policy#lexicon"}, fetch=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sites/news/policy#lexicon")
    data = post_comment(comment_payload("z1", "<p>such a z0rbl4x</p>")).get_json()
    assert data["status"] == "queued" and data["matches"][0]["term"] == "zorblax"

    page = editor.client.get("/sites/news/policy/insights").get_data(as_text=True)
    assert "zorblax" in page and "quoblin" in page
    assert editor.post("/sites/news/policy/lexicon", {"terms": "x", "category": "slur", "language": "en",
                                                      "severity": "2", "scope": "global"},
                       fetch=False).status_code == 403
    with people.app_context():
        term_id = db.session.scalar(sa.select(LexiconTerm.id).where(LexiconTerm.term == "zorblax"))
    # Another site's editor cannot touch it, even by crafted request.
    assert _as(people, "other-editor@example.org").post(
        f"/sites/other/policy/lexicon/{term_id}/remove", fetch=False).status_code == 404
    assert editor.post(f"/sites/news/policy/lexicon/{term_id}/remove", fetch=False).status_code == 302
    data = post_comment(comment_payload("z2", "<p>such a zorblax</p>")).get_json()
    assert data["matches"] == []
    with people.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.actor_id + " " + AuditEntry.action)
                                     .where(AuditEntry.action.like("lexicon.%")).order_by(AuditEntry.id)).all()
    assert actions == ["editor@example.org lexicon.terms_added", "editor@example.org lexicon.term_removed"]


def test_bad_terms_are_explained_next_to_the_field_and_nothing_is_stored(people):
    editor = _as(people, "editor@example.org")
    response = editor.post("/sites/news/policy/lexicon", {"terms": "fine\n1234\n", "category": "slur",
                                                          "language": "english", "severity": "2"}, fetch=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="lexicon-terms-error">line 2: a term needs at least one letter', html)
    assert 'id="lexicon-language-error"' in html and "fine\n1234" in html  # what was typed stays
    with people.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LexiconTerm)) == 0


def test_admins_choose_global_terms_and_only_they_remove_them(people, post_comment):
    admin = _as(people, "admin@example.org")
    admin.post("/sites/news/policy/lexicon", {"terms": "vexnork", "category": "slur", "language": "any",
                                              "severity": "2", "scope": "global"}, fetch=False)
    with people.app_context():
        row = db.session.scalar(sa.select(LexiconTerm))
        assert row.site_id is None and row.created_by == "admin@example.org"
    assert _as(people, "editor@example.org").post(f"/sites/news/policy/lexicon/{row.id}/remove",
                                                  fetch=False).status_code == 403
    assert _as(people, "other-editor@example.org").client.get("/sites/other/policy/insights").status_code == 200


def test_rescore_from_the_page_runs_in_the_worker_and_reports_progress(people, post_comment):
    from moderation.worker import Worker
    from test_callbacks_support import Clock

    post_comment(comment_payload("r1", "<p>A stupid idea.</p>"))
    post_comment(comment_payload("r2", "<p>Fine words.</p>"))
    human = add_comment(people, external_id="h1", status="approved", decided_by="human", decided_at=utcnow(),
                        received_at=utcnow())
    with people.app_context():
        from moderation.policy_versions import save_policy
        from moderation.sites import require
        save_policy(require("news"), {"premoderation": True}, actor_type="cli")
        db.session.commit()
    editor = _as(people, "editor@example.org")
    response = editor.post("/sites/news/policy/rescore", {"window": "24h", "scope": "all"}, fetch=False)
    assert response.status_code == 302
    with people.app_context():
        job = db.session.scalar(sa.select(RescoreJob))
        assert (job.state, job.total, job.requested_by) == ("queued", 2, "editor@example.org")
        assert job.since > utcnow() - timedelta(hours=25)
    status = editor.client.get(f"/sites/news/policy/rescore/{job.id}").get_json()
    assert status["state"] == "queued" and status["percent"] == 0
    page = editor.client.get("/sites/news/policy/insights").get_data(as_text=True)
    assert f'data-status-url="/sites/news/policy/rescore/{job.id}"' in page and "js/insights.js" in page

    Worker(people, clock=Clock()).run(until_idle=True)
    status = editor.client.get(f"/sites/news/policy/rescore/{job.id}").get_json()
    assert (status["state"], status["processed"], status["changed"], status["percent"]) == ("done", 2, 1, 100)
    with people.app_context():
        assert db.session.get(Comment, human).status == "approved"  # a human decision stays
    assert _as(people, "other-editor@example.org").client.get(
        f"/sites/other/policy/rescore/{job.id}").status_code == 404
    refused = editor.post("/sites/news/policy/rescore", {"window": "1y"}, fetch=False)
    assert refused.status_code == 302
    assert "Rescore not started" in editor.client.get("/sites/news/policy/insights").get_data(as_text=True)


def test_queue_history_starts_from_what_was_queued_before_the_window(people):
    from moderation import audit
    from moderation.settings.insights import bucket_edges, queue_events
    from moderation.settings.queue_history import queue_series

    now = utcnow()
    with people.app_context():
        from moderation.sites import require
        site_id = require("news").id
        rows = [  # (hours ago, comment, from, to)
            (80, 1, "pending", "queued"), (30, 1, "queued", "queued"),  # waiting since 80 h ago
            (50, 2, "pending", "queued"), (40, 2, "queued", "approved"),  # left before the window
            (10, 3, "pending", "queued"), (5, 3, "queued", "rejected"),
        ]
        for hours, comment_id, before, after in rows:
            entry = audit.record("comment.assessed", actor_type="model", site_id=site_id, comment_id=comment_id,
                                 from_status=before, to_status=after)
            entry.at = now - timedelta(hours=hours)
        db.session.commit()
        since = now - timedelta(hours=24)
        initial, events = queue_events(site_id, since)
        assert set(initial) == {1} and abs((now - initial[1]) - timedelta(hours=80)) < timedelta(seconds=1)
        points = queue_series(initial, events, bucket_edges(since, now, True))
    assert len(points) == 24
    sizes = [p.size for p in points]
    # Comment 3 waits from hour 14 to hour 19 of the window (an edge counts what happened at it).
    assert sizes[:13] == [1] * 13 and sizes[13:18] == [2] * 5 and sizes[18:] == [1] * 6
    assert round(points[-1].oldest_seconds / 3600) == 80
