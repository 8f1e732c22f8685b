"""Perspective-compatible API: keys (hashed), scored texts kept for editors, human labels.

Revision ID: 0006_perspective
Revises: 0005_encrypt_secrets
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_perspective'
down_revision = '0005_encrypt_secrets'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('use_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_api_keys_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index('ix_api_keys_site', ['site_id', 'id'], unique=False)

    op.create_table('scored_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('client_token', sa.String(length=255), nullable=True),
    sa.Column('community_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_scored_texts_api_key_id_api_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_scored_texts_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scored_texts'))
    )
    with op.batch_alter_table('scored_texts', schema=None) as batch_op:
        batch_op.create_index('ix_scored_texts_site_created', ['site_id', 'created_at'], unique=False)
        batch_op.create_index('ix_scored_texts_created', ['created_at'], unique=False)

    op.create_table('human_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('attribute', sa.String(length=32), nullable=False),
    sa.Column('label', sa.Integer(), nullable=False),
    sa.Column('model_score', sa.Float(), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('client_token', sa.String(length=255), nullable=True),
    sa.Column('community_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_human_labels_api_key_id_api_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_human_labels_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_human_labels'))
    )
    with op.batch_alter_table('human_labels', schema=None) as batch_op:
        batch_op.create_index('ix_human_labels_site_created', ['site_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('human_labels', schema=None) as batch_op:
        batch_op.drop_index('ix_human_labels_site_created')
    op.drop_table('human_labels')
    with op.batch_alter_table('scored_texts', schema=None) as batch_op:
        batch_op.drop_index('ix_scored_texts_created')
        batch_op.drop_index('ix_scored_texts_site_created')
    op.drop_table('scored_texts')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_api_keys_site')
    op.drop_table('api_keys')
