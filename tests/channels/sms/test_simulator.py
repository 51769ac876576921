"""The demo's SMS loop without an operator: `accueil sms simulate` posts signed gateway deliveries to a running
server, the agent's reply lands in the local outbox (RecordingSms), a simulated status marks it delivered."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from accueil.channels.messaging.models import Delivery, DeliveryStatus
from accueil.channels.sms.adapter import RecordingSms
from accueil.cli import main
from accueil.config import get_settings
from accueil.conversations import service as conversations
from accueil.conversations.models import Case, ChannelKind, Interaction
from accueil.db.jobs import run_due_jobs
from tests.factories import use_adapters

SECRET = "simulated-gateway-secret"


def _simulate(server_url: str, *args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["sms", "simulate", "--url", server_url, *args])


def test_a_simulated_sms_conversation_flows_both_ways(runtime, sms_queue, cast, server_url, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime.settings, "sms_webhook_secret", SECRET)
    monkeypatch.setenv("ACCUEIL_SMS_WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()
    outbox = tmp_path / "sms-outbox"
    restore = use_adapters(runtime, RecordingSms(folder=str(outbox)))
    try:
        first = _simulate(server_url, "--from", "+33698765432", "--text", "Mon colis ?", "--id", "sim-1")
        assert first.exit_code == 0 and first.output.strip() == "sim-1: received", first.output
        assert _simulate(server_url, "--from", "+33698765432", "--text", "Mon colis ?", "--id", "sim-1") \
            .output.strip() == "sim-1: duplicate"
        with runtime.factory() as session:
            assert session.scalar(select(Interaction.channel)) == ChannelKind.sms
            case_id = session.scalar(select(Case.id))
        with runtime.factory() as session, session.begin():
            conversations.do_reply(session, case_id=case_id, author_user_id=cast.users["alice"],
                                   body_text="Il part ce soir.", config=runtime.conversation_config)
        run_due_jobs(runtime.factory, worker="test")
        [sent] = list(outbox.glob("*.json"))
        record = json.loads(sent.read_text(encoding="utf-8"))
        assert record["to"] == "+33698765432" and record["text"] == "Il part ce soir."
        assert _simulate(server_url, "--status", "delivered", "--id", record["id"]).exit_code == 0
        with runtime.factory() as session:
            assert session.scalar(select(Delivery.status)) == DeliveryStatus.delivered
        monkeypatch.setattr(runtime.settings, "sms_webhook_secret", "another-secret")
        refused = _simulate(server_url, "--from", "+33698765432", "--text", "Signé autrement")
        assert refused.exit_code == 1 and refused.output.startswith("Error: 403")
    finally:
        restore()
        get_settings.cache_clear()
