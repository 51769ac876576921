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
