"""Site secrets encrypted at rest: wider columns for Fernet tokens, existing rows encrypted.

Revision ID: 0005_encrypt_secrets
Revises: 0004_deliveries
Create Date: 2026-12-01

The webhook and Coral secrets become Fernet tokens ("fernet:..." under the first key of
MODERATION_SECRET_ENCRYPTION_KEYS) when that setting is present while migrating; without it the
rows stay as they are and `moderation site reencrypt-secrets` encrypts them later. Downgrading
decrypts them again (which needs the keys) before the columns narrow back to 200 characters.
"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from moderation.encryption import SecretBox, parse_keys

# revision identifiers, used by Alembic.
revision = '0005_encrypt_secrets'
down_revision = '0004_deliveries'
branch_labels = None
depends_on = None

COLUMNS = ('secret', 'previous_secret', 'coral_secret', 'coral_previous_secret')
NULLABLE = {'secret': False, 'previous_secret': True, 'coral_secret': True, 'coral_previous_secret': True}


def _box() -> SecretBox:
    return SecretBox(parse_keys(current_app.config.get('SECRET_ENCRYPTION_KEYS')))


def _rewrite(change) -> None:
    """Apply `change` to every non-null secret of every site (raw values, no model types)."""
    sites = sa.table('sites', sa.column('id', sa.Integer), *(sa.column(c, sa.String) for c in COLUMNS))
    connection = op.get_bind()
    for row in connection.execute(sa.select(sites)).all():
        values = {c: change(getattr(row, c)) for c in COLUMNS if getattr(row, c) is not None}
        values = {c: v for c, v in values.items() if v != getattr(row, c)}
        if values:
            connection.execute(sa.update(sites).where(sites.c.id == row.id).values(**values))


def _resize(old: int, new: int) -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new),
                                  existing_nullable=NULLABLE[column])


def upgrade():
    _resize(200, 500)
    box = _box()
    if box.enabled:
        _rewrite(lambda stored: stored if box.is_sealed(stored) else box.seal(stored))


def downgrade():
    # open() refuses a sealed value without the keys, before the columns narrow.
    _rewrite(_box().open)
    _resize(500, 200)
