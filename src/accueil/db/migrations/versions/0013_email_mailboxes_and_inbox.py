"""email: mailboxes, the raw mail inbox, message ids and undeliverable identities

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:21:21
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accueil.db.base
from sqlalchemy.dialects import postgresql

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mailboxes',
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('motif_code', sa.String(length=60), nullable=True),
    sa.Column('queue_code', sa.String(length=60), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('acknowledge', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imap_host', sa.String(length=255), nullable=False),
    sa.Column('imap_port', sa.Integer(), nullable=False),
    sa.Column('imap_security', sa.String(length=10), nullable=False),
    sa.Column('imap_username', sa.String(length=255), nullable=False),
    sa.Column('imap_password', sa.Text(), nullable=False),
    sa.Column('imap_folder', sa.String(length=255), nullable=False),
    sa.Column('imap_move_to', sa.String(length=255), nullable=False),
    sa.Column('imap_uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('imap_last_uid', sa.BigInteger(), nullable=False),
    sa.Column('imap_polled_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('imap_error', sa.Text(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailboxes')),
    sa.UniqueConstraint('address', name=op.f('uq_mailboxes_address'))
    )
    op.create_table('mail_inbox',
    sa.Column('received_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('mailbox_id', sa.String(length=26), nullable=True),
    sa.Column('envelope_from', sa.String(length=254), nullable=False),
    sa.Column('envelope_to', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_path', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('message_id_header', sa.String(length=255), nullable=True),
    sa.Column('case_id', sa.String(length=26), nullable=True),
    sa.Column('interaction_id', sa.String(length=26), nullable=True),
    sa.Column('processed_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mail_inbox_case_id_cases')),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_mail_inbox_interaction_id_interactions')),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_mail_inbox_mailbox_id_mailboxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_inbox'))
    )
    with op.batch_alter_table('mail_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_inbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_inbox_mailbox_id'), ['mailbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_inbox_message_id_header'), ['message_id_header'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_inbox_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_inbox_status'), ['status'], unique=False)

    op.create_table('mail_message_ids',
    sa.Column('message_id_header', sa.String(length=255), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('message_id', sa.String(length=26), nullable=True),
    sa.Column('outbound', sa.Boolean(), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mail_message_ids_case_id_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_mail_message_ids_message_id_messages')),
    sa.PrimaryKeyConstraint('message_id_header', name=op.f('pk_mail_message_ids'))
    )
    with op.batch_alter_table('mail_message_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_message_ids_case_id'), ['case_id'], unique=False)



    op.create_table('web_forms',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title_fr', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('mailbox_id', sa.String(length=26), nullable=False),
    sa.Column('queue_code', sa.String(length=60), nullable=True),
    sa.Column('motif_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_web_forms_mailbox_id_mailboxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_forms')),
    sa.UniqueConstraint('code', name=op.f('uq_web_forms_code'))
    )
    op.create_table('form_submissions',
    sa.Column('form_id', sa.String(length=26), nullable=False),
    sa.Column('case_id', sa.String(length=26), nullable=False),
    sa.Column('interaction_id', sa.String(length=26), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', accueil.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_form_submissions_case_id_cases')),
    sa.ForeignKeyConstraint(['form_id'], ['web_forms.id'], name=op.f('fk_form_submissions_form_id_web_forms')),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_form_submissions_interaction_id_interactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions'))
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_submissions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_submissions_form_id'), ['form_id'], unique=False)

    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undeliverable_at', accueil.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('undeliverable_reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_submissions_form_id'))
        batch_op.drop_index(batch_op.f('ix_form_submissions_case_id'))
    op.drop_table('form_submissions')
    op.drop_table('web_forms')
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_column('undeliverable_reason')
        batch_op.drop_column('undeliverable_at')

    with op.batch_alter_table('mail_message_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_message_ids_case_id'))

    op.drop_table('mail_message_ids')
    with op.batch_alter_table('mail_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_inbox_status'))
        batch_op.drop_index(batch_op.f('ix_mail_inbox_received_at'))
        batch_op.drop_index(batch_op.f('ix_mail_inbox_message_id_header'))
        batch_op.drop_index(batch_op.f('ix_mail_inbox_mailbox_id'))
        batch_op.drop_index(batch_op.f('ix_mail_inbox_case_id'))

    op.drop_table('mail_inbox')
    op.drop_table('mailboxes')
