"""The demo's loop without Meta: `accueil whatsapp simulate` posts signed deliveries to a running server,
replies land in the local outbox, and a simulated status marks them read."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from accueil.channels.messaging.models import Delivery, DeliveryStatus
from accueil.channels.whatsapp.adapter import RecordingWhatsapp
from accueil.cli import main
from accueil.config import get_settings
from accueil.conversations import service as conversations
from accueil.conversations.models import Case, ChannelKind, Interaction
from accueil.customers.models import Customer
from accueil.db.jobs import run_due_jobs
from tests.channels.whatsapp.conftest import SECRET
from tests.factories import use_adapters


def _simulate(server_url: str, *args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["whatsapp", "simulate", "--url", server_url, *args])


def test_a_simulated_conversation_flows_both_ways(whatsapp, cast, server_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCUEIL_WHATSAPP_APP_SECRET", SECRET)
    get_settings.cache_clear()
    outbox = tmp_path / "whatsapp-outbox"
    restore = use_adapters(whatsapp, RecordingWhatsapp(folder=str(outbox)))
    try:
        result = _simulate(server_url, "--from", "+33698765432", "--name", "Inès", "--text", "Bonjour !",
                           "--wamid", "wamid.sim.1")
        assert result.exit_code == 0 and result.output.startswith("200 "), result.output
        assert '"duplicates": 1' in _simulate(server_url, "--from", "+33698765432", "--text", "Bonjour !",
                                              "--wamid", "wamid.sim.1").output
        assert _simulate(server_url, "--from", "+33698765432", "--location", "50.6366,3.0635").exit_code == 0
        with whatsapp.factory() as session:
            interaction = session.scalar(select(Interaction).where(Interaction.channel == ChannelKind.whatsapp))
            assert len(interaction.messages) == 2
            assert session.get(Customer, interaction.customer_id).display_name == "Inès"
            case_id = session.scalar(select(Case.id))
        with whatsapp.factory() as session, session.begin():
            conversations.do_reply(session, case_id=case_id, author_user_id=cast.users["alice"],
                                   body_text="Bonjour Inès, je regarde.", config=whatsapp.conversation_config)
        run_due_jobs(whatsapp.factory, worker="test")
        [sent] = list(outbox.glob("*.json"))
        assert json.loads(sent.read_text(encoding="utf-8"))["request"]["text"]["body"] == "Bonjour Inès, je regarde."
        read = _simulate(server_url, "--from", "+33698765432", "--status", "read", "--wamid", sent.stem)
        assert '"statuses": 1' in read.output
        with whatsapp.factory() as session:
            assert session.scalar(select(Delivery.status)) == DeliveryStatus.read
        monkeypatch.setenv("ACCUEIL_WHATSAPP_APP_SECRET", "another-secret")
        get_settings.cache_clear()
        refused = _simulate(server_url, "--from", "+33698765432", "--text", "Signé autrement")
        assert refused.exit_code == 1 and refused.output.startswith("403 ")
    finally:
        restore()
        get_settings.cache_clear()
