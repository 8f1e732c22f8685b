"""Finding a comment and its current revision (the one its state comes from)."""
from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentRevision

SUPERSEDED = "superseded"  # a revision kept as history, never applied (an edit older than the current one)

# Built once (every webhook runs it): building a statement costs more than running it.
_FIND_COMMENT = sa.select(Comment).where(Comment.site_id == sa.bindparam("find_site_id"),
                                         Comment.external_id == sa.bindparam("find_external_id"))


def find_comment(site_id: int, external_id: str) -> Comment | None:
    return db.session.scalar(_FIND_COMMENT, {"find_site_id": site_id, "find_external_id": external_id})


def latest_revision(comment: Comment) -> CommentRevision | None:
    """The current revision: the newest one that was applied."""
    return db.session.scalar(
        sa.select(CommentRevision).where(CommentRevision.comment_id == comment.id,
                                         CommentRevision.status != SUPERSEDED)
        .order_by(CommentRevision.number.desc()).limit(1)
    )


def last_number(comment: Comment) -> int:
    """The highest revision number stored, applied or not."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(CommentRevision.number), 0))
        .where(CommentRevision.comment_id == comment.id)
    )


def has_body(comment: Comment, digest: str) -> bool:
    """Whether any revision of the comment had this body."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CommentRevision)
        .where(CommentRevision.comment_id == comment.id, CommentRevision.body_sha256 == digest)
    ) > 0
