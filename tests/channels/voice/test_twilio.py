"""Twilio voice webhooks: signatures checked against Twilio's own example, calls recorded, duplicates ignored."""

from __future__ import annotations

from sqlalchemy import func, select

from accueil.channels.voice.models import VoiceCall
from accueil.channels.voice.twilio import expected_signature, signature_is_valid
from accueil.conversations.models import Interaction

TOKEN = "12345"


def test_signature_matches_twilios_documented_example():
    # Twilio's published example (api-snippets, security/signature_validation): token, URL, params, signature
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
              "From": "+14158675310", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert expected_signature(TOKEN, url, params) == "GvWf1cFY/Q7PnoempGyD5oXAezc="
    assert signature_is_valid(TOKEN, url, params, "GvWf1cFY/Q7PnoempGyD5oXAezc=")
    assert not signature_is_valid(TOKEN, url, {**params, "Digits": "1235"}, "GvWf1cFY/Q7PnoempGyD5oXAezc=")
    assert not signature_is_valid("", url, params, "GvWf1cFY/Q7PnoempGyD5oXAezc=")


def signed_post(http, server_url, path, params, token=TOKEN):
    return http.post(path, data=params, headers={
        "X-Twilio-Signature": expected_signature(token, server_url + path, params)})


def test_incoming_call_and_its_status_callbacks(http, server_url, runtime, cast, monkeypatch):
    monkeypatch.setattr(runtime.settings, "twilio_auth_token", TOKEN)
    call = {"CallSid": "CA42", "From": "+33612345678", "To": "+33170000000", "AccountSid": "AC1"}
    forged = http.post("/webhooks/twilio/voice", data=call, headers={"X-Twilio-Signature": "bm90IGl0"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
    unsigned = http.post("/webhooks/twilio/voice", data=call)
    assert unsigned.status_code == 403
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 0  # nothing recorded
    answer = signed_post(http, server_url, "/webhooks/twilio/voice", call)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    assert "<Say language=\"fr-FR\">Bonjour" in answer.text and ">tel_n1</Enqueue>" in answer.text
    again = signed_post(http, server_url, "/webhooks/twilio/voice", call)  # Twilio retries: nothing new
    assert again.status_code == 200
    status = {**call, "CallStatus": "in-progress", "Timestamp": "Mon, 23 Nov 2026 08:00:40 +0000",
              "SequenceNumber": "1"}
    assert signed_post(http, server_url, "/webhooks/twilio/status", status).status_code == 204
    done = {**call, "CallStatus": "completed", "Timestamp": "Mon, 23 Nov 2026 08:05:40 +0000",
            "SequenceNumber": "2", "CallDuration": "300"}
    assert signed_post(http, server_url, "/webhooks/twilio/status", done).status_code == 204
    assert signed_post(http, server_url, "/webhooks/twilio/status", done).status_code == 204  # duplicate
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(VoiceCall)) == 1
        interaction = session.scalar(select(Interaction))
        assert interaction.customer_id == cast.david_id and interaction.outcome.value == "handled"
        assert (interaction.ended_at - interaction.answered_at).total_seconds() == 300
        assert session.scalar(select(VoiceCall.hung_up_by)) is None  # Twilio does not say who hung up


def test_a_call_never_answered_is_an_abandon(http, server_url, runtime, cast, monkeypatch):
    monkeypatch.setattr(runtime.settings, "twilio_auth_token", TOKEN)
    call = {"CallSid": "CA43", "From": "+33699999999", "To": "+33170000000"}
    assert signed_post(http, server_url, "/webhooks/twilio/voice", call).status_code == 200
    gone = {**call, "CallStatus": "no-answer", "SequenceNumber": "1"}
    assert signed_post(http, server_url, "/webhooks/twilio/status", gone).status_code == 204
    with runtime.factory() as session:
        assert session.scalar(select(Interaction.outcome)).value == "abandoned"
        assert session.scalar(select(VoiceCall.abandon_kind)) in ("short", "queue")
