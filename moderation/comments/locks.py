"""Row locks on comments: serialise edits of one comment, and guard a decision against changes."""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentRevision

_COMMENTS = Comment.__table__
# Both statements are built once: on SQLAlchemy, building a statement (and its cache key) costs
# several times what running it does on an indexed row. Core, not ORM: nothing to synchronise.
_LOCK_AND_READ = (
    sa.update(_COMMENTS).where(_COMMENTS.c.id.in_(sa.bindparam("lock_ids", expanding=True)))
    .values(score_attempts=_COMMENTS.c.score_attempts)
    .returning(_COMMENTS.c.id, _COMMENTS.c.revision_count, _COMMENTS.c.status, _COMMENTS.c.decided_by)
)
_LOCK_ONE = (
    sa.update(_COMMENTS)
    .where(_COMMENTS.c.site_id == sa.bindparam("lock_site_id"),
           _COMMENTS.c.external_id == sa.bindparam("lock_external_id"))
    .values(revision_count=_COMMENTS.c.revision_count)
    .returning(_COMMENTS.c.id)
)


def lock_unchanged(comments: Sequence[Comment], revisions: Sequence[CommentRevision],
                   seen: Sequence[tuple[int, str]] | None = None) -> set[int]:
    """Take the rows' write lock, then return the ids nobody edited or decided during scoring.

    `seen`: each comment's (revision number, status) when scoring began. Pass it whenever the
    comments may have been committed before scoring: their attributes then reload on first
    access, and a status read only now would already show a decision made meanwhile.

    Scoring takes long enough for a webhook edit or a moderator's decision to land meanwhile.
    On SQLite the first write of a transaction takes the database's write lock, and on
    PostgreSQL the UPDATE locks the rows, so nothing can change between this check and the
    commit.
    """
    ids = [comment.id for comment in comments]
    if seen is None:
        seen = [(revision.number, comment.status) for comment, revision in zip(comments, revisions)]
    before = dict(zip(ids, seen))
    # One statement locks and reads (RETURNING: SQLite 3.35+, PostgreSQL): the values returned
    # are the rows as they are under the lock just taken.
    rows = db.session.execute(_LOCK_AND_READ, {"lock_ids": ids})
    return {row.id for row in rows
            if (row.revision_count, row.status) == before[row.id] and row.decided_by != "human"}


def lock_for_edit(site_id: int, external_id: str) -> int | None:
    """Take the write lock on a stored comment before reading it, so its edits run one at a time;
    returns its id, None when it is not stored yet.

    Two edits read at once would both number their revision N+1 (UNIQUE comment_revisions).
    A no-op UPDATE is the first statement of the transaction: on PostgreSQL it locks the row,
    on SQLite it takes the database's write lock (waiting up to the busy timeout); either way
    the second edit reads only after the first has committed. A comment not yet stored takes
    no lock: two first deliveries race on the (site_id, external_id) key instead, and the
    loser retries as an edit.
    """
    return db.session.execute(_LOCK_ONE, {"lock_site_id": site_id, "lock_external_id": external_id}).scalar()
