"""The knowledge base: categories, articles, their versions (with embeddings), votes, the base's version

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-07 20:35:59.720661
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import accueil.db.base

revision: str = '0021'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('knowledge_categories',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_knowledge_categories_code'))
    )
    op.create_table('knowledge_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_state'))
    )
    op.create_table('knowledge_articles',
    sa.Column('code', sa.String(length=120), nullable=False),
    sa.Column('category_id', sa.String(length=26), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'partner', 'agents', name='visibility', native_enum=False, length=20), nullable=False),
    sa.Column('motif_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('review_due_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('helpful', sa.Integer(), nullable=False),
    sa.Column('unhelpful', sa.Integer(), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['knowledge_categories.id'], name=op.f('fk_knowledge_articles_category_id_knowledge_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_articles')),
    sa.UniqueConstraint('code', name=op.f('uq_knowledge_articles_code'))
    )
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_articles_category_id'), ['category_id'], unique=False)

    op.create_table('knowledge_votes',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('voter', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Enum('unclear', 'outdated', 'not_my_question', 'incomplete', 'other', name='votereason', native_enum=False, length=20), nullable=True),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_votes_article_id_knowledge_articles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_votes')),
    sa.UniqueConstraint('article_id', 'voter', name='uq_knowledge_vote_voter')
    )
    with op.batch_alter_table('knowledge_votes', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_votes_article', ['article_id', 'created_at'], unique=False)

    op.create_table('knowledge_article_versions',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title_fr', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('body_fr', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('embedding_fr', sa.LargeBinary(), nullable=True),
    sa.Column('embedding_en', sa.LargeBinary(), nullable=True),
    sa.Column('author_id', sa.String(length=26), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_article_versions_article_id_knowledge_articles')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_knowledge_article_versions_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article_versions')),
    sa.UniqueConstraint('article_id', 'number', name='uq_knowledge_version')
    )
    with op.batch_alter_table('knowledge_article_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_article_versions_article_id'), ['article_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('knowledge_article_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_article_versions_article_id'))

    op.drop_table('knowledge_article_versions')
    with op.batch_alter_table('knowledge_votes', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_votes_article')

    op.drop_table('knowledge_votes')
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_articles_category_id'))

    op.drop_table('knowledge_articles')
    op.drop_table('knowledge_state')
    op.drop_table('knowledge_categories')
