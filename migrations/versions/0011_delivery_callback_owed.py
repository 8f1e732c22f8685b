"""deliveries.callback_owed: a retry answered `pending` while the first copy was being decided.

Revision ID: 0011_delivery_callback_owed
Revises: 0010_scores_sql_null
Create Date: 2026-12-03

The retry is answered what the first copy had stored (`202 pending`), which promises a callback;
the first copy, deciding without one, reads this flag when it stores its answer and queues it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_delivery_callback_owed'
down_revision = '0010_scores_sql_null'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_owed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('callback_owed')
