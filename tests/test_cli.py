"""The CLI end to end (click's runner, real database): db, user, token, worker and demo."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import func, select

from accueil.cli import main
from accueil.config import Settings, get_settings
from accueil.conversations.models import Case, ChannelKind, Interaction, Outcome
from accueil.db import migrate
from accueil.demo.generator import DemoSpec, build_demo
from accueil.routing.models import Queue, RoutingItem


@pytest.fixture
def cli_env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ACCUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ACCUEIL_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_db_user_token_and_worker_commands(cli_env):
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    assert f"database at revision {head}" in result.output
    assert runner.invoke(main, ["db", "current"]).output.strip() == head
    created = runner.invoke(main, ["user", "create", "zoe", "--role", "supervisor", "--password", "pw-123456"])
    assert created.exit_code == 0 and "zoe (supervisor) created" in created.output
    duplicate = runner.invoke(main, ["user", "create", "zoe", "--password", "x"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    token = runner.invoke(main, ["token", "create", "zoe", "--scope", "cases:read"])
    assert token.exit_code == 0 and token.output.startswith("acc_")
    too_much = runner.invoke(main, ["token", "create", "zoe", "--scope", "admin"])
    assert too_much.exit_code != 0 and "admin" in too_much.output
    assert runner.invoke(main, ["worker", "--once"]).output.strip().endswith("0 job(s) run")
    partner = runner.invoke(main, ["user", "create", "paul", "--role", "partner_agent", "--password", "x"])
    assert partner.exit_code != 0 and "partner" in partner.output
    down = runner.invoke(main, ["db", "downgrade", "base"])
    assert down.exit_code == 0 and runner.invoke(main, ["db", "current"]).output.strip() == "empty"


def test_production_refuses_the_default_secret(monkeypatch):
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValueError, match="ACCUEIL_PUBLIC_URL"):
        Settings(environment="production", secret_key="x" * 40)
    assert Settings(environment="production", secret_key="x" * 40, public_url="https://crc.example.fr").secret_key


def test_demo_builds_a_believable_company(runtime, database_url, tmp_path):
    settings = Settings(environment="test", secret_key="s" * 40, database_url=database_url, data_dir=tmp_path)
    now = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    summary = build_demo(settings, DemoSpec(days=7, customers=40, seed=3), now=now)
    assert summary.created and summary.customers > 20 and summary.cases > 50
    assert {"alice", "bob", "chloe", "admin"} <= {login[0] for login in summary.logins}
    assert summary.api_token and summary.api_token.startswith("acc_")
    with runtime.factory() as session:
        channels = set(session.scalars(select(Interaction.channel).distinct()))
        assert {ChannelKind.voice, ChannelKind.email, ChannelKind.chat} <= channels
        abandoned = session.scalar(select(func.count()).select_from(Interaction).where(
            Interaction.outcome == Outcome.abandoned))
        assert abandoned > 0
        assert session.scalar(select(func.count()).select_from(Case).where(Case.level == 2)) > 0
        latest = session.scalar(select(func.max(Interaction.arrived_at)))
        assert latest < now
        # Routing holds exactly the live work: interactions not ended yet, none of the finished history.
        live = set(session.scalars(select(RoutingItem.interaction_id)))
        unended = set(session.scalars(select(Interaction.id).where(Interaction.ended_at.is_(None),
                                                                    Interaction.queue_id.is_not(None))))
        assert live == unended and live
        assert session.scalar(select(Queue.overflow).where(Queue.code == "tel_n1"))
    again = build_demo(settings, DemoSpec(days=7, customers=40, seed=3), now=now)
    assert not again.created and again.cases == summary.cases
