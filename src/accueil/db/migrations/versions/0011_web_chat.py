"""web chat

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accueil.db.base

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chat_sessions',
    sa.Column('interaction_id', sa.String(length=26), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('customer_id', sa.String(length=26), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='chatstatus', native_enum=False, length=20), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_chat_sessions_case_id_cases')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_chat_sessions_customer_id_customers')),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                            name=op.f('fk_chat_sessions_interaction_id_interactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_sessions')),
    sa.UniqueConstraint('interaction_id', name=op.f('uq_chat_sessions_interaction_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_chat_sessions_token_hash'))
    )
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_sessions_case_id'), ['case_id'], unique=False)

    op.create_table('chat_log',
    sa.Column('chat_id', sa.String(length=26), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('author', sa.Enum('customer', 'agent', 'system', name='chatauthor', native_enum=False, length=20),
              nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.String(length=26), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chat_sessions.id'], name=op.f('fk_chat_log_chat_id_chat_sessions')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_chat_log_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_log')),
    sa.UniqueConstraint('chat_id', 'client_id', name=op.f('uq_chat_log_chat_id_client_id')),
    sa.UniqueConstraint('chat_id', 'seq', name=op.f('uq_chat_log_chat_id_seq')),
    sa.UniqueConstraint('message_id', name=op.f('uq_chat_log_message_id'))
    )


def downgrade() -> None:
    op.drop_table('chat_log')
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_sessions_case_id'))
    op.drop_table('chat_sessions')
