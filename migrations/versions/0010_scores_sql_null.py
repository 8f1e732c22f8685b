"""Unscored comments, revisions and assessments hold SQL NULL scores, not the JSON value null.

Revision ID: 0010_scores_sql_null
Revises: 0009_rescore_states
Create Date: 2026-12-03

Before, Python's None was written as the JSON text `null`, which `scores IS NOT NULL` matches:
"the newest scored assessment" could be an unscored one. The models now write SQL NULL
(`JSON(none_as_null=True)`); this turns the rows written before into SQL NULL too.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_scores_sql_null'
down_revision = '0009_rescore_states'
branch_labels = None
depends_on = None

TABLES = ('comments', 'comment_revisions', 'assessments')


def upgrade():
    for table in TABLES:
        op.execute(f"UPDATE {table} SET scores = NULL WHERE CAST(scores AS TEXT) = 'null'")


def downgrade():
    pass  # SQL NULL reads back as None under either revision's models
