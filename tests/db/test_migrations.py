"""Migrations: upgrade from empty equals the models (autogenerate finds no diff); downgrade works."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from accueil.db import migrate
from accueil.db.models import metadata


def test_upgrade_matches_models_and_downgrade_empties(database_url):
    # ``database_url`` is already upgraded to head by the fixture.
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == [], diff
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(database_url):
    head = migrate.current(database_url)
    assert head is not None
    migrate.downgrade(database_url, "base")
    engine = create_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == head


def test_0015_fills_the_reply_due_time_of_the_written_backlog(database_url):
    """Written contacts still awaiting a reply get a due time from the settings; answered ones and calls none."""
    from datetime import UTC, datetime

    from sqlalchemy import delete, insert, select

    from accueil.conversations.models import Case, Interaction
    from accueil.customers.models import Customer

    migrate.downgrade(database_url, "0013")
    engine = create_engine(database_url)
    friday = datetime(2026, 1, 9, 16, 30, tzinfo=UTC)  # 17:30 in Paris
    columns = ("id", "case_id", "customer_id", "channel", "direction", "arrived_at", "answered_at", "is_repeat_contact")
    rows = [("i-mail", "email", None), ("i-letter", "letter", None), ("i-done", "email", friday),
            ("i-call", "voice", None)]
    try:
        with engine.begin() as conn:
            conn.execute(insert(Customer.__table__).values(id="c-1", preferred_language="fr", created_at=friday,
                                                           updated_at=friday))
            conn.execute(insert(Case.__table__).values(
                id="k-1", reference="D-2026-999999", customer_id="c-1", status="open", level=1, priority=0,
                reopen_count=0, repeat_contact_count=0, first_channel="email", created_at=friday, updated_at=friday))
            table = Interaction.__table__
            for interaction_id, channel, answered in rows:
                conn.execute(insert(table).values(dict(zip(columns, (
                    interaction_id, "k-1", "c-1", channel, "inbound", friday, answered, False), strict=True))))
        migrate.upgrade(database_url)
        with engine.connect() as conn:
            due = dict(conn.execute(select(Interaction.id, Interaction.reply_due_at)).all())
        assert due["i-mail"] == datetime(2026, 1, 12, 8, 30, tzinfo=UTC)  # Monday 09:30 in Paris
        assert due["i-letter"] == datetime(2026, 1, 16, 16, 30, tzinfo=UTC)  # Friday 17:30, 5 open days on
        assert due["i-done"] is None and due["i-call"] is None
    finally:
        migrate.upgrade(database_url)
        with engine.begin() as conn:
            conn.execute(delete(Interaction.__table__).where(Interaction.case_id == "k-1"))
            conn.execute(delete(Case.__table__).where(Case.id == "k-1"))
            conn.execute(delete(Customer.__table__).where(Customer.id == "c-1"))
        engine.dispose()
