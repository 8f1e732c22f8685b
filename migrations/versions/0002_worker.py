"""Worker: rescoring jobs (the outbox and comments tables already serve the other claims).

Revision ID: 0002_worker
Revises: 0001
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_worker'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rescore_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('statuses', sa.String(length=100), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('requested_by', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_rescore_jobs_state_known')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_rescore_jobs_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rescore_jobs'))
    )
    with op.batch_alter_table('rescore_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_rescore_jobs_state', ['state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('rescore_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_rescore_jobs_state')
    op.drop_table('rescore_jobs')
