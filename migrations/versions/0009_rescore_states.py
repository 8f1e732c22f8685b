"""Rescore jobs: no `failed` state (nothing ever set it; a job that cannot go on keeps its cursor and resumes).

Revision ID: 0009_rescore_states
Revises: 0008_assessments_lexicon
Create Date: 2026-12-01
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_rescore_states'
down_revision = '0008_assessments_lexicon'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE rescore_jobs SET state = 'queued' WHERE state = 'failed'")
    with op.batch_alter_table('rescore_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_rescore_jobs_state_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_rescore_jobs_state_known'), "state IN ('queued', 'running', 'done')")


def downgrade():
    with op.batch_alter_table('rescore_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_rescore_jobs_state_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_rescore_jobs_state_known'), "state IN ('queued', 'running', 'done', 'failed')")
