"""Customers: identity normalisation, explicit creation, merges and the cross-channel timeline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accueil.core.errors import ValidationFailed
from accueil.customers.service import normalise_identity
from tests.api.test_inbound_api import assert_error
from tests.factories import DAVID_EMAIL, inbound


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("email", "  David.Martin@Example.FR ", "david.martin@example.fr"),
    ("phone", "06 12 34 56 78", "+33612345678"),
    ("phone", "+33 (0)6 12 34 56 78", "+33612345678"),
    ("phone", "0033612345678", "+33612345678"),
    ("whatsapp", "33612345678", "+33612345678"),
    ("customer_number", " cl 00042 ", "CL00042"),
    ("chat_visitor", "v_9f8e7d", "v_9f8e7d"),
])
def test_normalise_identity(kind, raw, expected):
    assert normalise_identity(kind, raw).value == expected


@pytest.mark.parametrize(("kind", "raw", "code"), [
    ("email", "nobody", "invalid_email"),
    ("phone", "123", "invalid_phone"),
    ("phone", "not a phone", "invalid_phone"),
    ("chat_visitor", "<script>", "invalid_identity"),
    ("telepathy", "x", "invalid_identity"),
])
def test_bad_identities(kind, raw, code):
    with pytest.raises(ValidationFailed) as caught:
        normalise_identity(kind, raw)
    assert caught.value.code == code


@given(st.text(max_size=40))
def test_normalise_never_crashes(raw):
    for kind in ("email", "phone", "whatsapp", "chat_visitor", "customer_number"):
        try:
            normalise_identity(kind, raw)
        except ValidationFailed:
            pass


def test_create_customer_and_conflict(http, cast):
    body = {"display_name": "Emma", "identities": [{"kind": "email", "value": "emma@example.fr"}]}
    created = http.post("/api/v1/customers", json=body, headers=cast.auth("alice"))
    assert created.status_code == 201, created.text
    assert created.json()["identities"][0]["value"] == "emma@example.fr"
    clash = {"identities": [{"kind": "email", "value": DAVID_EMAIL}]}
    assert_error(http.post("/api/v1/customers", json=clash, headers=cast.auth("alice")), 409, "identity_taken")
    found = http.get("/api/v1/customers", params={"identity": "email:EMMA@example.fr"}, headers=cast.auth("alice"))
    assert [c["display_name"] for c in found.json()["items"]] == ["Emma"]


def test_merge_moves_identities_and_history_and_leaves_a_trace(http, cast):
    other = http.post("/api/v1/inbound", json=inbound("sms", identities=[{"kind": "phone", "value": "+33698765432"}],
                                                      display_name="D. Martin"), headers=cast.auth("alice")).json()
    assert other["customer_id"] != cast.david_id
    merge = http.post(f"/api/v1/customers/{other['customer_id']}/merge", json={"into": cast.david_id,
                      "reason": "même personne (appel)"}, headers=cast.auth("bob"))
    assert merge.status_code == 201, merge.text
    assert merge.json()["moved"] == {"identities": 1, "cases": 1, "interactions": 1}
    david = http.get(f"/api/v1/customers/{cast.david_id}", headers=cast.auth("bob")).json()
    assert "+33698765432" in [i["value"] for i in david["identities"]]
    # The old id still answers, redirected to the survivor.
    assert http.get(f"/api/v1/customers/{other['customer_id']}", headers=cast.auth("bob")).json()["id"] == cast.david_id
    again = http.post(f"/api/v1/customers/{other['customer_id']}/merge", json={"into": cast.david_id},
                      headers=cast.auth("bob"))
    assert_error(again, 422, "customer_merged")
    assert_error(http.post(f"/api/v1/customers/{cast.david_id}/merge", json={"into": cast.david_id},
                           headers=cast.auth("bob")), 422, "merge_same_customer")
    # A new SMS from the merged number now lands on David.
    sms = http.post("/api/v1/inbound", json=inbound("sms", identities=[{"kind": "phone", "value": "+33698765432"}]),
                    headers=cast.auth("alice")).json()
    assert sms["customer_id"] == cast.david_id


def test_timeline_spans_every_channel(http, cast):
    http.post("/api/v1/inbound", json=inbound("email"), headers=cast.auth("alice"))
    http.post("/api/v1/inbound", json=inbound("voice", identities=[{"kind": "phone", "value": "+33612345678"}],
                                              motif="remboursement", body_text="Appel"), headers=cast.auth("alice"))
    http.post("/api/v1/inbound", json=inbound("chat", motif="reclamation", body_text="Chat"), headers=cast.auth("alice"))
    timeline = http.get(f"/api/v1/customers/{cast.david_id}/timeline", headers=cast.auth("alice")).json()
    assert [t["interaction"]["channel"] for t in timeline["items"]] == ["chat", "voice", "email"]
    assert timeline["items"][0]["preview"] == "Chat"
    only_voice = http.get(f"/api/v1/customers/{cast.david_id}/timeline", params={"channel": "voice"},
                          headers=cast.auth("alice")).json()
    assert len(only_voice["items"]) == 1
    assert_error(http.get("/api/v1/customers/NOPE/timeline", headers=cast.auth("alice")), 404, "not_found")
