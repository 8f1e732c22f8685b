"""Policy versions name their author and what they restored; comments are found by received time.

Revision ID: 0007_policy_authors
Revises: 0006_perspective
Create Date: 2026-12-01

Every policy version gets an author (the signed-in editor's email, or the person behind a CLI
import): rows from before are filled from the linked user, else "unknown". `restored_from`
holds the version a "Restore" copied. The editors' preview reads a site's comments by
received time, so (site_id, received_at) gets an index.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_policy_authors'
down_revision = '0006_perspective'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('restored_from', sa.Integer(), nullable=True))
    op.execute("UPDATE policy_versions SET author = (SELECT users.email FROM users "
               "WHERE users.id = policy_versions.created_by_id) WHERE created_by_id IS NOT NULL")
    op.execute("UPDATE policy_versions SET author = 'unknown' WHERE author IS NULL")
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.alter_column('author', existing_type=sa.String(length=320), nullable=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_site_received', ['site_id', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_received')
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_column('restored_from')
        batch_op.drop_column('author')
