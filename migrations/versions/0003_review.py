"""Review queue: indexes for the pending and decided lists and for a moderator's own decisions.

Revision ID: 0003_review
Revises: 0002_worker
Create Date: 2026-11-27

The queued list is served by ix_comments_queue (0001). The pending list pages by id within a
site and status; the approved and rejected lists page newest decision first; undo looks up a
moderator's last decisions in the audit log by actor.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003_review'
down_revision = '0002_worker'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_site_status_id', ['site_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_comments_decided', ['site_id', 'status', 'decided_at', 'id'], unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_actor', ['actor_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_actor')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_decided')
        batch_op.drop_index('ix_comments_site_status_id')
