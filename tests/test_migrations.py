"""The migrations build exactly the schema the models declare (so `flask db migrate` finds nothing)."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from moderation import create_app
from moderation.extensions import db
from support import make_site
from test_callbacks_support import post


def _index_name(change) -> str | None:
    return getattr(change[1], "name", None) if isinstance(change, tuple) and len(change) > 1 else None


def test_models_match_the_migrated_database(app):
    with app.app_context():
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        if db.engine.dialect.name == "sqlite":
            # SQLite cannot reflect the queue's `harm DESC` expression index, so Alembic always
            # reports it as changed there; PostgreSQL compares it properly.
            differences = [d for d in differences if _index_name(d) != "ix_comments_queue"]
    assert differences == []


def test_scores_stored_as_json_null_become_sql_null(fresh_database, tmp_path):
    """0010: rows that an unscored comment left with the JSON value null hold SQL NULL after it."""
    from flask_migrate import downgrade, upgrade

    app = create_app({"DATABASE_URL": fresh_database, "SECRET_KEY": "test", "TESTING": True,
                      "RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "ratelimits.sqlite3"),
                      "LEXICON_PATH": str(tmp_path / "lexicon.tsv"),
                      "DETOXIFY_CHECKPOINT": str(tmp_path / "missing.ckpt"),  # no scorer: the comment waits
                      "DETOXIFY_CONFIG_DIR": str(tmp_path / "missing-config")})
    tables = ("comments", "comment_revisions", "assessments")

    def nulls() -> list[bool]:
        return [bool(db.session.execute(sa.text(f"SELECT scores IS NULL FROM {table}")).scalar_one())
                for table in tables]

    with app.app_context():
        upgrade()
    stored = post(app, make_site(app), "c1", "<p>Kept while the scorer is away.</p>")
    assert stored.status_code == 202, stored.get_data(as_text=True)
    with app.app_context():
        downgrade(revision="0009_rescore_states")  # the later migrations' own downgrades, too
        # 0012's downgrade copies `sites` on SQLite: with foreign keys on while migrating, dropping
        # the old table cascaded to every comment (migrations/env.py turns them off meanwhile).
        assert db.session.execute(sa.text("SELECT COUNT(*) FROM comments")).scalar_one() == 1
        # What the models before 0010 wrote for None (SQLite keeps JSON as text; a CAST to its
        # JSON type, of numeric affinity, would store 0).
        null = "'null'" if db.engine.dialect.name == "sqlite" else "CAST('null' AS JSON)"
        for table in tables:
            db.session.execute(sa.text(f"UPDATE {table} SET scores = {null}"))
        db.session.commit()
        assert nulls() == [False, False, False]
        db.session.remove()
        upgrade()
        assert nulls() == [True, True, True]
        if db.engine.dialect.name == "sqlite":  # and back on for the connections the app goes on with
            assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
        db.session.remove()
        db.engine.dispose()


def test_migrating_down_and_up_again_keeps_every_comment(fresh_database, tmp_path):
    """Revisions that alter `sites` copy it on SQLite (0005 widens its secret columns, 0012 adds a
    column): with foreign keys on, dropping the old copy deleted every comment by cascade."""
    from flask_migrate import downgrade, upgrade

    app = create_app({"DATABASE_URL": fresh_database, "SECRET_KEY": "test", "TESTING": True,
                      "RATELIMIT_STORAGE_URI": "sqlite://" + str(tmp_path / "ratelimits.sqlite3"),
                      "LEXICON_PATH": str(tmp_path / "lexicon.tsv"),
                      "DETOXIFY_CHECKPOINT": str(tmp_path / "missing.ckpt"),
                      "DETOXIFY_CONFIG_DIR": str(tmp_path / "missing-config")})

    def count() -> int:
        return db.session.execute(sa.text("SELECT COUNT(*) FROM comments")).scalar_one()

    with app.app_context():
        upgrade()
    for n in range(3):
        assert post(app, make_site(app, f"site{n}"), "c1", "<p>Kept through every migration.</p>").status_code == 202
    with app.app_context():
        downgrade(revision="0004_deliveries")  # through 0005's downgrade, which copies `sites`
        assert count() == 3
        upgrade()  # and 0005's upgrade, which copies it again
        assert count() == 3
        db.session.remove()
        db.engine.dispose()
