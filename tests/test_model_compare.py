"""`moderation model compare`: stored comments scored at fp32 and at a reduced precision."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from support import comment_payload
from moderation.extensions import db
from moderation.model_cli import compare_precisions
from moderation.models import Comment
from moderation.scoring import LazyScorer, ScorerSettings

TEXTS = ["you idiot", "A calm remark about the new park and its trees.", "scum, all of them",
         "Thank you for the pictures and the story."]


def post_all(post_comment):
    for n, text in enumerate(TEXTS):
        assert post_comment(comment_payload(f"cmp-{n}", f"<p>{text}</p>")).status_code == 200


def test_compare_reports_every_stored_comment_and_changes_nothing(app, runner, site, post_comment):
    post_all(post_comment)
    with app.app_context():
        before = [(c.id, c.status, c.scores) for c in db.session.scalars(sa.select(Comment).order_by(Comment.id))]
    result = runner.invoke(args=["model", "compare", "--precision", "int8", "--site", "news"])
    assert result.exit_code == 0, result.output
    assert "Compared 4 comment(s), fp32 against int8" in result.output
    assert "Decisions that would change:" in result.output and "of 4" in result.output
    assert "With scores within 0.02 of a threshold confirmed at fp32 (the service's way): 0 of 4" in result.output
    assert result.output.count("  largest: comment ") == 4
    with app.app_context():
        after = [(c.id, c.status, c.scores) for c in db.session.scalars(sa.select(Comment).order_by(Comment.id))]
    assert after == before  # stores nothing


def test_compare_filters_by_site_and_time(runner, site, post_comment):
    post_all(post_comment)
    assert "No stored comments" in runner.invoke(args=["model", "compare", "--since", "2999-01-01"]).output
    unknown = runner.invoke(args=["model", "compare", "--site", "nowhere"])
    assert unknown.exit_code != 0 and "nowhere" in unknown.output


class Shifted(LazyScorer):
    """The tiny model with every score raised: what a precision that moves scores would do."""

    def score(self, texts, boundaries=None):
        return [{k: min(1.0, v + 0.5) for k, v in row.items()} for row in super().score(texts)]


def test_a_precision_that_moves_scores_is_reported_as_changed_decisions(app, site, post_comment):
    post_all(post_comment)
    with app.app_context():
        settings = ScorerSettings.from_mapping(app.config)
        reference = LazyScorer(dataclasses.replace(settings, batch_max=1))
        shifted = Shifted(dataclasses.replace(settings, batch_max=1))
        comments = list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))
        differences = compare_precisions(comments, reference, shifted)
    assert [d.comment_id for d in differences] == [c.id for c in comments]
    calm = differences[1]
    assert calm.status[0] == "approved" and calm.status[1] != "approved"
    assert 0.45 < calm.delta <= 0.5
    same = compare_precisions_same(app, comments)
    assert all(d.status[0] == d.status[1] and d.delta == 0 for d in same)


def compare_precisions_same(app, comments):
    with app.app_context():
        settings = dataclasses.replace(ScorerSettings.from_mapping(app.config), batch_max=1)
        merged = [db.session.merge(c) for c in comments]
        return compare_precisions(merged, LazyScorer(settings), LazyScorer(settings))


def test_confirmation_is_reported_separately(app, site, post_comment):
    post_all(post_comment)
    with app.app_context():
        settings = ScorerSettings.from_mapping(app.config)
        reference = LazyScorer(dataclasses.replace(settings, precision="fp32", batch_max=1))
        shifted = Shifted(dataclasses.replace(settings, batch_max=1))
        comments = list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))
        differences = compare_precisions(comments, reference, shifted, confirmed=reference)
    assert any(d.status[0] != d.status[1] for d in differences)
    assert all(d.confirmed == d.status[0] for d in differences)
