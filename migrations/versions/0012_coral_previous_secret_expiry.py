"""sites.coral_previous_secret_expires_at: a replaced Coral secret verifies for a grace period only.

Revision ID: 0012_coral_secret_expiry
Revises: 0011_delivery_callback_owed
Create Date: 2026-12-03

Before, the previous Coral secret stayed valid until the next change. A previous secret kept
from before this migration gets the default grace (72 hours) from the upgrade, not forever.
"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_coral_secret_expiry'
down_revision = '0011_delivery_callback_owed'
branch_labels = None
depends_on = None

GRACE = timedelta(hours=72)  # MODERATION_PREVIOUS_SECRET_GRACE_HOURS' default


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coral_previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True))
    sites = sa.table('sites', sa.column('coral_previous_secret', sa.String),
                     sa.column('coral_previous_secret_expires_at', sa.DateTime(timezone=True)))
    op.execute(sites.update().where(sites.c.coral_previous_secret.is_not(None))
               .values(coral_previous_secret_expires_at=datetime.now(timezone.utc) + GRACE))


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('coral_previous_secret_expires_at')
