"""rows: Core INSERTs and UPDATEs leave the row and the object as an ORM flush of the same objects would."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, Site, utcnow
from moderation.rows import insert_row, update_columns


def _stored_comment() -> Comment:
    site_id = db.session.scalar(sa.select(Site.id))
    comment = Comment(site_id=site_id, external_id="c1", status="pending", html="<p>x</p>", text="x",
                      reasons=[], matches=[], revision_count=1)
    db.session.add(comment)
    db.session.commit()
    return comment


def _row(comment_id: int) -> dict:
    with db.engine.connect() as connection:  # another connection: what is committed
        return dict(connection.execute(sa.select(Comment.__table__).where(Comment.id == comment_id)).mappings().one())


def test_values_are_written_and_set_as_stored(app, site):
    with app.app_context():
        comment = _stored_comment()
        before = _row(comment.id)
        update_columns(comment, {"status": "approved", "scores": {"toxicity": 0.5}, "reasons": [{"code": "x"}],
                                 "decided_by": "model", "reason_code": None})
        assert comment.status == "approved" and comment.scores == {"toxicity": 0.5}
        assert not db.session.dirty  # nothing left for a flush to write again
        assert "updated_at" in sa.inspect(comment).expired_attributes  # its onupdate ran in the statement
        db.session.commit()
        row = _row(comment.id)
        assert (row["status"], row["scores"], row["reasons"], row["decided_by"]) == (
            "approved", {"toxicity": 0.5}, [{"code": "x"}], "model")
        assert row["updated_at"] > before["updated_at"]
        assert {key: value for key, value in row.items()
                if key not in {"status", "scores", "reasons", "decided_by", "updated_at"}} == {
            key: value for key, value in before.items() if key not in {"status", "scores", "reasons", "decided_by",
                                                                     "updated_at"}}
        assert comment.updated_at == row["updated_at"]  # read back when used


def test_pending_changes_are_flushed_first_and_the_values_win(app, site):
    with app.app_context():
        comment = _stored_comment()
        comment.author_name = "Ann"  # a change the session holds
        comment.status = "rejected"  # overwritten by the update, as a later assignment would
        update_columns(comment, {"status": "approved"})
        db.session.commit()
        row = _row(comment.id)
        assert (row["author_name"], row["status"]) == ("Ann", "approved")


def test_a_rollback_expires_the_values_like_any_loaded_ones(app, site):
    with app.app_context():
        comment = _stored_comment()
        update_columns(comment, {"status": "approved", "decided_at": utcnow() - timedelta(days=1)})
        db.session.rollback()
        assert comment.status == "pending" and comment.decided_at is None


def test_an_object_not_yet_stored_is_refused(app, site):
    with app.app_context():
        with pytest.raises(ValueError, match="not stored yet"):
            update_columns(Comment(site_id=1, external_id="new"), {"status": "approved"})


def _statements(app) -> list[str]:
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_an_inserted_row_comes_back_as_a_stored_object_with_its_defaults(app, site):
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id))
        comment = insert_row(Comment, {"site_id": site_id, "external_id": "c1", "text": "x", "revision_count": 1})
        seen = _statements(app)
        assert sa.inspect(comment).persistent and not db.session.dirty and not db.session.new
        # every column as stored, defaults included, read without another statement
        assert (comment.status, comment.html, comment.reasons, comment.harm, comment.model) == ("pending", "", [], 0.0,
                                                                                               None)
        assert comment.updated_at is not None and comment.updated_at.tzinfo is not None
        assert seen == []
        assert db.session.get(Comment, comment.id) is comment
        db.session.commit()
        assert _row(comment.id)["external_id"] == "c1"


def test_a_key_given_out_again_after_a_rollback_replaces_the_stale_object(app, site):
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id))
        first = insert_row(Comment, {"site_id": site_id, "external_id": "c1"})
        first_id = first.id
        db.session.rollback()  # SQLite gives the same id out again; PostgreSQL's sequence does not
        second = insert_row(Comment, {"site_id": site_id, "external_id": "c2"})
        assert db.session.get(Comment, second.id) is second
        assert second.external_id == "c2"
        if second.id == first_id:
            assert first not in db.session
        db.session.commit()
        assert _row(second.id)["external_id"] == "c2"
