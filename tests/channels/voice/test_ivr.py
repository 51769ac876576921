"""IVR: definitions (YAML/JSON, validation), opening hours and holidays, and flows end to end over signed
Twilio webhooks — open, closed, holiday, long wait → callback offer keeping the caller's place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from accueil.channels.voice import ivr
from accueil.channels.voice.models import IvrFlow, VoiceCall
from accueil.channels.voice.service import do_save_flow, flow_for_number
from accueil.conversations.models import Interaction
from accueil.core import clock
from accueil.core.errors import ValidationFailed
from accueil.routing.models import RoutingItem
from tests.channels.voice.test_twilio import TOKEN, signed_post

MONDAY_10H = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Paris
CHRISTMAS_10H = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)  # a Friday, public holiday
SUNDAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

FLOW_YAML = """
code: standard
name: Standard
numbers: ["+33170000000"]
hours: {mon: ["08:30-19:00"], tue: ["08:30-19:00"], wed: ["08:30-19:00"], thu: ["08:30-19:00"],
        fri: ["08:30-19:00"], sat: ["09:00-12:00"]}
welcome: {fr: "Bienvenue chez Accueil.", en: "Welcome to Accueil."}
closed: {action: callback}
nodes:
  main:
    prompt: {fr: "Pour suivre une commande, tapez 1. Pour un remboursement, tapez 2.", en: "Order: 1. Refund: 2."}
    options:
      "1": {queue: tel_n1, motif: suivi_commande}
      "2": {node: refunds}
      "9": {action: voicemail}
    default: {queue: tel_n1}
  refunds:
    prompt: {fr: "Pour un remboursement, tapez 1."}
    options: {"1": {queue: tel_n1, motif: remboursement}}
waiting: {callback_offer_after_seconds: 60}
"""


def test_definition_round_trips_through_yaml_and_json():
    flow = ivr.parse_flow(FLOW_YAML)
    assert ivr.parse_flow(ivr.dump_flow(flow, "json"), fmt="json") == flow
    assert ivr.parse_flow(ivr.dump_flow(flow, "yaml")) == flow
    assert ivr.flow_from_document(ivr.DEFAULT_FLOW).start == "main"


@pytest.mark.parametrize("change, message", [
    ("start: nowhere", "start node 'nowhere'"),
    ("hours: {mon: ['19:00-08:00']}", "not a range"),
    ("hours: {lundi: ['08:00-12:00']}", "days are"),
    ("timezone: Mars/Olympus", "unknown time zone"),
])
def test_bad_definitions_are_refused_clearly(change, message):
    with pytest.raises(ValidationFailed) as caught:
        ivr.parse_flow(FLOW_YAML + change + "\n")
    assert message in caught.value.details["summary"]


def test_unknown_keys_links_and_syntax_are_refused():
    for text in (FLOW_YAML.replace('"9": {action: voicemail}', '"A": {action: voicemail}'),
                 FLOW_YAML.replace("{node: refunds}", "{node: nope}"),
                 FLOW_YAML.replace("{queue: tel_n1, motif: suivi_commande}", "{queue: tel_n1, node: refunds}"),
                 "code: [unclosed", "- a list"):
        with pytest.raises(ValidationFailed):
            ivr.parse_flow(text)


def test_opening_hours_holidays_and_next_opening():
    flow = ivr.parse_flow(FLOW_YAML)
    assert ivr.closed_reason(flow, MONDAY_10H) is None
    assert ivr.closed_reason(flow, CHRISTMAS_10H) == "holiday"
    assert ivr.closed_reason(flow, SUNDAY) == "hours"
    assert ivr.closed_reason(flow, datetime(2026, 11, 23, 18, 30, tzinfo=UTC)) == "hours"  # 19:30 Paris
    # Saturday 26 Dec 2026 opens at 09:00 Paris (08:00 UTC) after the Christmas holiday
    assert ivr.next_opening(flow, CHRISTMAS_10H) == datetime(2026, 12, 26, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 14, 9, 0, tzinfo=UTC)  # Bastille Day, CEST
    assert ivr.closed_reason(flow, summer) == "holiday"
    assert ivr.next_opening(flow, summer) == datetime(2026, 7, 15, 6, 30, tzinfo=UTC)


def test_menu_steps_retries_and_default():
    flow = ivr.parse_flow(FLOW_YAML)
    assert ivr.step(flow, "main", "1").queue == "tel_n1"
    assert ivr.step(flow, "main", "2").node == "refunds"
    wrong = ivr.step(flow, "main", "7")
    assert wrong.node == "main" and wrong.retry == 1
    assert ivr.step(flow, "main", "", retry=2).queue == "tel_n1"  # retries used up: the default
    assert ivr.step(flow, "refunds", "", retry=2).action == "hangup"  # no default there
    assert ivr.step(flow, "gone", "1").node == "main"  # a stale link restarts the menu


def test_saving_checks_queues_motifs_and_numbers(session, cast):
    flow = ivr.parse_flow(FLOW_YAML)
    do_save_flow(session, flow=flow)
    row = session.scalar(select(IvrFlow))
    assert row.is_default and row.definition["nodes"]["main"]["options"]["1"]["motif"] == "suivi_commande"
    with pytest.raises(ValidationFailed, match="inactive queue"):
        do_save_flow(session, flow=ivr.parse_flow(FLOW_YAML.replace("code: standard", "code: other")
                                                  .replace("{queue: tel_n1}", "{queue: nope}")))
    with pytest.raises(ValidationFailed, match="already answered"):
        do_save_flow(session, flow=ivr.parse_flow(FLOW_YAML.replace("code: standard", "code: other")))
    assert flow_for_number(session, "+33999999999").code == "standard"  # the default answers other numbers


@pytest.fixture
def flow(runtime, cast, monkeypatch):
    monkeypatch.setattr(runtime.settings, "twilio_auth_token", TOKEN)
    from accueil.routing.admin import do_save_queue

    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="rappel", channel="callback", name_fr="Rappels", name_en="Callbacks", level=1)
        do_save_flow(session, flow=ivr.parse_flow(FLOW_YAML))
    return ivr.parse_flow(FLOW_YAML)


def _call(sid: str) -> dict[str, str]:
    return {"CallSid": sid, "From": "+33612345678", "To": "+33170000000", "AccountSid": "AC1"}


def _at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_open_line_menu_then_queue_with_wait_and_callback_offer(http, server_url, runtime, cast, flow, monkeypatch):
    _at(monkeypatch, MONDAY_10H)
    call = _call("CA-open")
    answer = signed_post(http, server_url, "/webhooks/twilio/voice", call)
    assert answer.status_code == 200
    assert "Bienvenue chez Accueil." in answer.text and "<Gather" in answer.text
    assert 'action="/webhooks/twilio/ivr?flow=standard&amp;node=main&amp;retry=0"' in answer.text
    wrong = signed_post(http, server_url, "/webhooks/twilio/ivr?flow=standard&node=main&retry=0",
                        {**call, "Digits": "7"})
    assert "retry=1" in wrong.text and "Pour suivre une commande" in wrong.text
    queued = signed_post(http, server_url, "/webhooks/twilio/ivr?flow=standard&node=main&retry=1",
                         {**call, "Digits": "1"})
    # nobody logged in: the wait cannot be estimated, so the caller hears it and is offered a callback
    assert "Aucun conseiller n&#x27;est disponible" in queued.text or "Aucun conseiller n'est disponible" in queued.text
    assert "tapez 1" in queued.text and "/webhooks/twilio/ivr/wait?flow=standard" in queued.text
    assert ">tel_n1</Enqueue>" in queued.text
    with runtime.factory() as session:
        voice = session.scalar(select(VoiceCall).where(VoiceCall.provider_call_id == "CA-open"))
        assert voice.ivr_path == ["main#0:7", "main#1:1"]
        item = session.get(RoutingItem, voice.interaction_id)
        assert item is not None and item.status == "waiting"
        assert item.motif_id == cast.motifs["suivi_commande"]  # the key pressed gave the case its motif
    stay = signed_post(http, server_url, "/webhooks/twilio/ivr/wait?flow=standard&queue=tel_n1",
                       {**call, "Digits": ""})
    assert ">tel_n1</Enqueue>" in stay.text
    hold = signed_post(http, server_url, "/webhooks/twilio/hold?lang=fr", {**call, "QueuePosition": "1"})
    assert "Merci de patienter" in hold.text and "<Pause" in hold.text


def test_short_predicted_wait_is_announced_without_offer(http, server_url, runtime, flow, monkeypatch):
    _at(monkeypatch, MONDAY_10H)
    with runtime.factory() as session, session.begin():
        do_save_flow(session, flow=ivr.parse_flow(FLOW_YAML.replace("callback_offer_after_seconds: 60",
                                                                    "callback_offer_after_seconds: null")))
    call = _call("CA-nooffer")
    signed_post(http, server_url, "/webhooks/twilio/voice", call)
    queued = signed_post(http, server_url, "/webhooks/twilio/ivr?flow=standard&node=main&retry=0",
                         {**call, "Digits": "2"})
    assert "Pour un remboursement, tapez 1." in queued.text  # the sub-menu
    queued = signed_post(http, server_url, "/webhooks/twilio/ivr?flow=standard&node=refunds&retry=0",
                         {**call, "Digits": "1"})
    assert "ivr/wait" not in queued.text and ">tel_n1</Enqueue>" in queued.text


def test_closed_line_offers_a_callback_at_opening(http, server_url, runtime, flow, monkeypatch):
    from accueil.channels.callback.models import Callback

    _at(monkeypatch, SUNDAY)
    call = _call("CA-closed")
    answer = signed_post(http, server_url, "/webhooks/twilio/voice", call)
    assert "Nos conseillers sont joignables" in answer.text and "/webhooks/twilio/ivr/closed" in answer.text
    assert "<Enqueue" not in answer.text
    chosen = signed_post(http, server_url, "/webhooks/twilio/ivr/closed?flow=standard", {**call, "Digits": "1"})
    assert "dès l&#x27;ouverture" in chosen.text or "dès l'ouverture" in chosen.text
    again = signed_post(http, server_url, "/webhooks/twilio/ivr/closed?flow=standard", {**call, "Digits": "1"})
    assert again.status_code == 200
    with runtime.factory() as session:
        [callback] = session.scalars(select(Callback)).all()  # a retried webhook: still one callback
        assert callback.phone == "+33612345678"
        assert clock.ensure_utc(callback.due_at) == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # Monday 08:30
        voice = session.scalar(select(VoiceCall))
        assert voice.ivr_path == ["closed:hours"] and voice.callback_id == callback.id
        assert session.get(RoutingItem, voice.interaction_id) is None  # nothing waits in a queue


def test_holiday_is_closed(http, server_url, runtime, flow, monkeypatch):
    _at(monkeypatch, CHRISTMAS_10H)
    answer = signed_post(http, server_url, "/webhooks/twilio/voice", _call("CA-xmas"))
    assert "Nos conseillers sont joignables" in answer.text and "<Gather" in answer.text
    with runtime.factory() as session:
        assert session.scalar(select(VoiceCall.ivr_path)) == ["closed:holiday"]


def test_long_wait_callback_keeps_the_callers_place(http, server_url, runtime, flow, monkeypatch):
    from accueil.channels.callback.models import Callback

    _at(monkeypatch, MONDAY_10H)
    call = _call("CA-keep")
    signed_post(http, server_url, "/webhooks/twilio/voice", call)
    signed_post(http, server_url, "/webhooks/twilio/ivr?flow=standard&node=main&retry=0", {**call, "Digits": "1"})
    with runtime.factory() as session:
        voice = session.scalar(select(VoiceCall))
        queued_at = clock.ensure_utc(session.get(RoutingItem, voice.interaction_id).queued_at)
    _at(monkeypatch, datetime(2026, 11, 23, 9, 2, tzinfo=UTC))
    chosen = signed_post(http, server_url, "/webhooks/twilio/ivr/wait?flow=standard&queue=tel_n1",
                         {**call, "Digits": "1"})
    assert "un conseiller vous rappelle" in chosen.text and "<Hangup/>" in chosen.text
    done = {**call, "CallStatus": "completed", "Timestamp": "Mon, 23 Nov 2026 09:02:10 +0000", "SequenceNumber": "3"}
    assert signed_post(http, server_url, "/webhooks/twilio/status", done).status_code == 204
    with runtime.factory() as session:
        voice = session.scalar(select(VoiceCall))
        callback = session.get(Callback, voice.callback_id)
        assert callback is not None and callback.phone == "+33612345678"
        assert voice.abandon_kind is None  # asked for a callback: not an abandon
        assert session.get(RoutingItem, voice.interaction_id) is None
        kept = session.scalars(select(RoutingItem)).all()
        assert len(kept) == 1  # waiting in the callback's place...
        assert session.get(Interaction, kept[0].interaction_id).channel.value == "callback"
        assert clock.ensure_utc(kept[0].queued_at) <= queued_at  # ...from when the caller joined


def test_voicemail_leaves_a_recording_and_a_callback(http, server_url, runtime, flow, monkeypatch):
    from accueil.channels.callback.models import Callback

    _at(monkeypatch, MONDAY_10H)
    call = _call("CA-vm")
    signed_post(http, server_url, "/webhooks/twilio/voice", call)
    answer = signed_post(http, server_url, "/webhooks/twilio/ivr?flow=standard&node=main&retry=0",
                         {**call, "Digits": "9"})
    assert "<Record" in answer.text and "/webhooks/twilio/voicemail?flow=standard" in answer.text
    recorded = {**call, "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                "RecordingDuration": "14"}
    assert "Votre message est enregistré" in signed_post(
        http, server_url, "/webhooks/twilio/voicemail?flow=standard", recorded).text
    with runtime.factory() as session:
        voice = session.scalar(select(VoiceCall))
        assert voice.recording_ref.endswith("/RE1")
        assert "voicemail" in (session.get(Callback, voice.callback_id).note or "")


def test_forged_ivr_step_records_nothing(http, server_url, runtime, flow):
    forged = http.post("/webhooks/twilio/ivr?flow=standard&node=main", data={**_call("CA-x"), "Digits": "1"},
                       headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert forged.status_code == 403
    with runtime.factory() as session:
        assert session.scalar(select(VoiceCall)) is None
