"""Every assessment kept (assessments); the deployment's lexicon terms in the database (lexicon_terms).

Revision ID: 0008_assessments_lexicon
Revises: 0007_policy_authors
Create Date: 2026-12-01

Terms from the old file (MODERATION_LEXICON_PATH, instance/lexicon.tsv) are not copied here:
the migration cannot know each node's file. The app keeps reading that file until
`moderation lexicon import --format tsv FILE` has moved its terms into lexicon_terms.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_assessments_lexicon'
down_revision = '0007_policy_authors'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('matches', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_assessments_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revision_id'], ['comment_revisions.id'], name=op.f('fk_assessments_revision_id_comment_revisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_assessments_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_site_created', ['site_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_assessments_comment', ['comment_id', 'id'], unique=False)
        batch_op.create_index('ix_assessments_revision', ['revision_id', 'id'], unique=False)

    op.create_table('lexicon_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_by', sa.String(length=320), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('severity IN (1, 2, 3)', name=op.f('ck_lexicon_terms_severity_known')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lexicon_terms_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lexicon_terms'))
    )
    with op.batch_alter_table('lexicon_terms', schema=None) as batch_op:
        batch_op.create_index('ix_lexicon_terms_site', ['site_id', 'deleted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('lexicon_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_lexicon_terms_site')
    op.drop_table('lexicon_terms')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_revision')
        batch_op.drop_index('ix_assessments_comment')
        batch_op.drop_index('ix_assessments_site_created')
    op.drop_table('assessments')
