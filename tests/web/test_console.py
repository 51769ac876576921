"""The agent console and the wallboard over real HTTP: the customer's journey, escaping, scope, live counts."""

from __future__ import annotations

from accueil.conversations.service import do_escalate_case
from tests.factories import inbound


def post(http, cast, channel: str, **extra) -> dict:
    response = http.post("/api/v1/inbound", json=inbound(channel, **extra), headers=cast.auth("alice"))
    assert response.status_code == 201, response.text
    return response.json()


def test_the_conversation_shows_the_customer_journey_across_channels(web, http, cast):
    call = post(http, cast, "voice", motif="remboursement", body_text="(appel)")
    mail = post(http, cast, "email", subject="Colis abîmé", body_text="Mon colis est arrivé abîmé.")
    alice = web("alice")
    page = alice.get(f"/agent?case={mail['case_id']}")
    assert page.status_code == 200
    journey = page.text.split('class="timeline"')[1]
    assert "téléphone" in journey and "e-mail" in journey  # both channels, labelled in French
    assert "Colis abîmé" in page.text and "David Martin" in page.text and "+33612345678" in page.text
    assert call["case_id"] != mail["case_id"]
    fragment = alice.get(f"/agent/cases/{call['case_id']}", htmx=True)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<section id="conversation"')


def test_message_bodies_show_as_text_never_as_markup(web, http, cast):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    created = post(http, cast, "chat", body_text=hostile, subject="<b>gras</b>")
    alice = web("alice")
    page = alice.get(f"/agent?case={created['case_id']}").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>gras</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page and "&lt;b&gt;gras&lt;/b&gt;" in page
    answered = alice.post(f"/agent/cases/{created['case_id']}/reply", {"body": "<i>ok</i> & merci"})
    assert "&lt;i&gt;ok&lt;/i&gt; &amp; merci" in answered.text


def test_a_partner_agent_cannot_open_a_case_outside_its_scope(web, http, cast, runtime):
    created = post(http, cast, "email")
    with runtime.factory() as session, session.begin():
        do_escalate_case(session, case_id=created["case_id"], level=2)
    chloe = web("chloe")
    page = chloe.get(f"/agent?case={created['case_id']}")
    assert page.status_code == 403 and "hors du périmètre de votre site" in page.text
    assert chloe.get(f"/agent/cases/{created['case_id']}", htmx=True).status_code == 403
    reply = chloe.post(f"/agent/cases/{created['case_id']}/reply", {"body": "Bonjour"})
    assert reply.status_code == 403
    api = http.get(f"/api/v1/cases/{created['case_id']}", headers=cast.auth("chloe"))
    assert api.status_code == 403 and api.json()["error"]["code"] == "case_out_of_scope"
    level_one = post(http, cast, "email", email="zoe@example.fr")
    assert chloe.get(f"/agent?case={level_one['case_id']}").status_code == 200


def test_resolve_from_the_console(web, http, cast):
    created = post(http, cast, "email")
    alice = web("alice")
    resolved = alice.post(f"/agent/cases/{created['case_id']}/resolve", {"resolution_code": "info_donnee"})
    assert resolved.status_code == 200 and "résolue" in resolved.text and "info_donnee" in resolved.text
    case = http.get(f"/api/v1/cases/{created['case_id']}", headers=cast.auth("alice")).json()["case"]
    assert case["status"] == "resolved" and case["resolution_code"] == "info_donnee"


def test_presence_and_the_wallboard_counts(web, http, cast, runtime):
    bob = web("bob")
    alice = web("alice")
    waiting = post(http, cast, "voice", queue="tel_n1", body_text="(appel)")
    board = bob.get("/supervisor/board", htmx=True).text
    row = board.split('data-queue="tel_n1"')[1].split("</tr>")[0]
    assert '<td class="num" data-field="waiting">1</td>' in row
    assert '<td class="num" data-field="answered">0</td>' in row
    available = alice.post("/agent/presence", {"presence": "available"})
    assert available.status_code == 200 and "presence-available" in available.text
    offers = alice.get("/agent/offers", htmx=True).text
    assert waiting["interaction_id"] in offers  # going available offered her the waiting call
    accepted = alice.post(f"/agent/items/{waiting['interaction_id']}/accept")
    assert accepted.status_code == 204 and accepted.headers["hx-redirect"] == f"/agent?case={waiting['case_id']}"
    board = bob.get("/supervisor/board", htmx=True).text
    row = board.split('data-queue="tel_n1"')[1].split("</tr>")[0]
    assert '<td class="num" data-field="waiting">0</td>' in row
    assert '<td class="num" data-field="answered">1</td>' in row
    assert '<td class="num" data-field="service-level">100' in row
    agent_row = board.split(f'data-agent="{cast.users["alice"]}"')[1].split("</tr>")[0]
    assert "Disponible" in agent_row and "téléphone" in agent_row
    paused = alice.post("/agent/presence", {"presence": "paused", "reason": "lunch"})
    assert "déjeuner" in paused.text


def take_call(web_user, http, cast, email: str = "david.martin@example.fr") -> dict:
    created = post(http, cast, "voice", queue="tel_n1", body_text="(appel)", email=email)
    web_user.post("/agent/presence", {"presence": "available"})
    accepted = web_user.post(f"/agent/items/{created['interaction_id']}/accept")
    assert accepted.status_code == 204, accepted.text
    return created


def test_transfer_to_a_named_agent_and_escalate_to_level_two(web, http, cast, runtime):
    from accueil.routing.admin import do_save_queue
    from accueil.routing.models import RoutingItem

    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n2", channel="voice", name_fr="Téléphone N2", name_en="Phone L2", level=2)
    alice = web("alice")
    first = take_call(alice, http, cast)
    page = alice.get(f"/agent?case={first['case_id']}").text
    assert "Transférer" in page and 'value="agent:' + cast.users["bob"] + '"' in page
    moved = alice.post(f"/agent/items/{first['interaction_id']}/transfer", {"target": f"agent:{cast.users['bob']}"})
    assert moved.status_code == 204 and moved.headers["hx-redirect"] == "/agent"
    with runtime.factory() as session:
        row = session.get(RoutingItem, first["interaction_id"])
        assert row.pinned_agent_id == cast.users["bob"] and row.agent_id != cast.users["alice"]
    chloe = web("chloe")
    second = take_call(chloe, http, cast, email="eve@example.fr")
    stranger = alice.post(f"/agent/items/{second['interaction_id']}/escalate")
    assert stranger.status_code == 403  # not hers to move
    up = chloe.post(f"/agent/items/{second['interaction_id']}/escalate", {"reason": "expertise"})
    assert up.status_code == 204
    case = http.get(f"/api/v1/cases/{second['case_id']}", headers=cast.auth("alice")).json()["case"]
    assert case["level"] == 2
    with runtime.factory() as session:
        assert session.get(RoutingItem, second["interaction_id"]).level == 2
    assert chloe.get(f"/agent?case={second['case_id']}").status_code == 403  # now above her site's level


def test_set_the_motif_from_the_console(web, http, cast):
    created = post(http, cast, "email")
    alice = web("alice")
    changed = alice.post(f"/agent/cases/{created['case_id']}/motif", {"motif": "reclamation"})
    assert changed.status_code == 200 and '<option value="reclamation" selected>' in changed.text
    case = http.get(f"/api/v1/cases/{created['case_id']}", headers=cast.auth("alice")).json()["case"]
    assert case["motif"]["code"] == "reclamation"
    unknown = alice.post(f"/agent/cases/{created['case_id']}/motif", {"motif": "nope"})
    assert unknown.status_code == 422 and "Motif inconnu" in unknown.text


def test_canned_responses_fill_their_variables_in_the_customers_language(web, http, cast):
    body = {"title_fr": "Accusé", "title_en": "Ack", "motif": "suivi_commande",
            "body_fr": "Bonjour {customer_name}, votre demande {case_reference} ({motif}) est suivie par {agent_name}.",
            "body_en": "Hello {customer_name}, {case_reference} is with {agent_name}."}
    refused = http.put("/api/v1/canned-responses/accuse", json=body, headers=cast.auth("alice"))
    assert refused.status_code == 403  # admin only
    typo = http.put("/api/v1/canned-responses/accuse", headers=cast.auth("admin"),
                    json={**body, "body_fr": "Bonjour {client}"})
    assert typo.status_code == 422 and "client" in typo.json()["error"]["message"]
    saved = http.put("/api/v1/canned-responses/accuse", json=body, headers=cast.auth("admin"))
    assert saved.status_code == 200, saved.text
    listed = http.get("/api/v1/canned-responses", headers=cast.auth("alice")).json()
    assert [r["code"] for r in listed] == ["accuse"]
    created = post(http, cast, "email")
    alice = web("alice")
    page = alice.get(f"/agent?case={created['case_id']}").text
    assert '<option value="accuse">Accusé</option>' in page
    box = alice.get(f"/agent/cases/{created['case_id']}/canned?code=accuse", htmx=True)
    assert box.status_code == 200 and box.text.startswith('<textarea id="reply-body"')
    reference = http.get(f"/api/v1/cases/{created['case_id']}", headers=cast.auth("alice")).json()["case"]["reference"]
    assert f"Bonjour David Martin, votre demande {reference} (Suivi de commande) est suivie par Alice Agent." in box.text
    assert alice.get(f"/agent/cases/{created['case_id']}/canned?code=nope", htmx=True).status_code == 404


def test_supervisor_searches_cases_and_reassigns_one_live(web, http, cast):
    mine = post(http, cast, "email")
    other = post(http, cast, "chat", email="zoe@example.fr", motif="remboursement")
    bob = web("bob")
    by_email = bob.get("/supervisor/cases?q=david.martin@example.fr").text
    assert mine["case_reference"] in by_email and other["case_reference"] not in by_email
    by_phone = bob.get("/supervisor/cases?q=06 12 34 56 78").text  # David's phone, as people type it
    assert mine["case_reference"] in by_phone
    by_reference = bob.get(f"/supervisor/cases?q={other['case_reference'].lower()}").text
    assert other["case_reference"] in by_reference and mine["case_reference"] not in by_reference
    by_motif = bob.get("/supervisor/cases?motif=remboursement&status=new").text
    assert other["case_reference"] in by_motif and mine["case_reference"] not in by_motif
    assert "Aucune demande ne correspond." in bob.get("/supervisor/cases?since=2001-01-01&until=2001-01-02").text
    bad = bob.get("/supervisor/cases?q=not-a-phone").text
    assert "notice-error" in bad
    assert web("alice").get("/supervisor/cases").status_code == 403
    given = bob.post(f"/supervisor/cases/{other['case_id']}/assign", {"agent": cast.users["alice"]})
    assert given.status_code == 200 and "Attribuée à Alice Agent" in given.text
    alice_work = web("alice").get("/agent/work", htmx=True).text
    assert other["case_reference"] in alice_work


def test_a_partner_sees_only_its_sites_motifs_and_customers_through_them(web, http, cast, runtime):
    from accueil.identity.models import Site

    with runtime.factory() as session, session.begin():
        session.get(Site, cast.sites["partenaire"]).motif_codes = ["suivi_commande"]
    tracked = post(http, cast, "email")  # David, suivi_commande: in scope
    refund = post(http, cast, "email", email="zoe@example.fr", motif="remboursement")  # Zoé: out of scope
    chloe = web("chloe")
    assert chloe.get(f"/agent?case={tracked['case_id']}").status_code == 200
    assert chloe.get(f"/agent?case={refund['case_id']}").status_code == 403
    api = http.get(f"/api/v1/cases/{refund['case_id']}", headers=cast.auth("chloe"))
    assert api.status_code == 403 and api.json()["error"]["code"] == "case_out_of_scope"
    listed = http.get("/api/v1/cases", headers=cast.auth("chloe")).json()["items"]
    assert [c["id"] for c in listed] == [tracked["case_id"]]
    zoe = http.get(f"/api/v1/customers/{refund['customer_id']}", headers=cast.auth("chloe"))
    assert zoe.status_code == 403 and zoe.json()["error"]["code"] == "customer_out_of_scope"
    assert http.get(f"/api/v1/customers/{refund['customer_id']}/timeline",
                    headers=cast.auth("chloe")).status_code == 403
    assert http.get(f"/api/v1/customers/{tracked['customer_id']}", headers=cast.auth("chloe")).status_code == 200
    found = http.get("/api/v1/customers", headers=cast.auth("chloe")).json()["items"]
    assert [c["id"] for c in found] == [tracked["customer_id"]]
    assert http.get(f"/api/v1/customers/{refund['customer_id']}", headers=cast.auth("alice")).status_code == 200


def test_queue_panel_and_taking_the_next_item(web, http, cast, runtime):
    from accueil.identity.models import Skill, User
    from accueil.identity.service import do_set_skill
    from accueil.routing.admin import do_save_queue

    with runtime.factory() as session, session.begin():
        skill = Skill(code="email", kind="channel", label_fr="E-mail", label_en="Email")
        session.add(skill)
        session.flush()
        do_set_skill(session, user=session.get(User, cast.users["alice"]), skill=skill, level=3)
        do_save_queue(session, code="email_n2", skills={"email": 1}, delivery="pull")
    alice = web("alice")
    assert "Passez disponible" in alice.post("/agent/next").text
    alice.post("/agent/presence", {"presence": "available"})
    empty = alice.post("/agent/next")
    assert "Rien ne vous attend" in empty.text and empty.headers["hx-retarget"] == "#notice"
    mail = post(http, cast, "email", queue="email_n2")
    panel = alice.get("/agent/queues", htmx=True).text
    row = panel.split("E-mail N2")[1].split("</li>")[0]
    assert '<span class="num" title="En attente">1</span>' in row
    taken = alice.post("/agent/next")
    assert taken.status_code == 204 and taken.headers["hx-redirect"] == f"/agent?case={mail['case_id']}"
    assert '<span class="num" title="En attente">0</span>' in alice.get("/agent/queues", htmx=True).text
    chloe_panel = web("chloe").get("/agent/queues", htmx=True).text
    assert "E-mail N2" not in chloe_panel  # a level-1 partner is not served by a level-2 queue


def test_an_agent_schedules_a_callback_from_the_console(runtime, http, cast, web):
    from datetime import timedelta

    from sqlalchemy import select

    from accueil.channels.callback.models import Callback
    from accueil.core import clock
    from tests.channels.callback.test_callback import setup

    case = setup(runtime, http, cast)
    alice = web("alice")
    page = alice.get(f"/agent?case={case['case_id']}").text
    assert "Programmer le rappel" in page and "+33612345678" in page
    when = (clock.now() + timedelta(days=1)).astimezone().strftime("%Y-%m-%dT10:30")
    done = alice.post(f"/agent/cases/{case['case_id']}/callback", {"when": when, "phone": "+33612345678"})
    assert done.status_code == 200 and "Rappel" in done.text and "programmé" in done.text
    with runtime.factory() as session:
        callback = session.scalar(select(Callback))
        assert callback.requested_by == "agent" and callback.requested_by_user_id == cast.users["alice"]
        assert callback.due_at.astimezone().strftime("%H:%M") in ("10:30", "09:30", "11:30")  # Paris time


def test_a_partner_lists_only_the_queues_of_its_motifs(web, http, cast, runtime):
    from accueil.identity.models import Site
    from accueil.routing.admin import do_save_queue

    with runtime.factory() as session, session.begin():
        session.get(Site, cast.sites["partenaire"]).motif_codes = ["suivi_commande"]
        do_save_queue(session, code="tel_n1", motif="suivi_commande")
        do_save_queue(session, code="tel_refunds", channel="voice", name_fr="Remboursements",
                      name_en="Refunds", motif="remboursement")
    codes = [q["code"] for q in http.get("/api/v1/routing/queues", headers=cast.auth("chloe")).json()]
    assert codes == ["tel_n1"]
    everything = [q["code"] for q in http.get("/api/v1/routing/queues", headers=cast.auth("alice")).json()]
    assert {"tel_n1", "tel_refunds", "email_n2"} <= set(everything)


def test_review_findings_on_partner_scope_and_roles(web, http, cast, runtime):
    """The security review's findings stay fixed: timeline leaks, hand-offs to a partner, stale token rights."""
    from accueil.identity.models import Site

    with runtime.factory() as session, session.begin():
        session.get(Site, cast.sites["partenaire"]).motif_codes = ["suivi_commande"]
    tracked = post(http, cast, "email")
    refund = post(http, cast, "voice", motif="remboursement", queue="tel_n1", body_text="IBAN FR76 SECRET refund")
    timeline = http.get(f"/api/v1/customers/{tracked['customer_id']}/timeline", headers=cast.auth("chloe"))
    assert timeline.status_code == 200 and "SECRET" not in timeline.text
    assert refund["case_reference"] not in timeline.text and tracked["case_reference"] in timeline.text
    # nobody may hand the out-of-scope case to the partner, by assignment or by transfer
    bob = web("bob")
    assigned = bob.post(f"/supervisor/cases/{refund['case_id']}/assign", {"agent": cast.users["chloe"]})
    assert assigned.status_code == 403
    alice = web("alice")
    alice.post("/agent/presence", {"presence": "available"})
    assert alice.post(f"/agent/items/{refund['interaction_id']}/accept").status_code == 204
    page = alice.get(f"/agent?case={refund['case_id']}").text
    assert f'value="agent:{cast.users["chloe"]}"' not in page
    moved = alice.post(f"/agent/items/{refund['interaction_id']}/transfer", {"target": f"agent:{cast.users['chloe']}"})
    assert moved.status_code == 403
    assert alice.post("/agent/presence", {"presence": "bogus"}).status_code == 422
    # a token keeps only what its user's role allows now
    admin = web("admin")
    assert admin.post(f"/admin/users/{cast.users['alice']}", {"display_name": "Alice", "role": "partner_agent",
                                                              "site": cast.sites["partenaire"], "active": "1"},
                      htmx=False).status_code == 303
    me = http.get("/api/v1/me", headers=cast.auth("alice")).json()
    assert me["role"] == "partner_agent" and "contacts:write" not in me["scopes"]
    assert http.post("/api/v1/inbound", json=inbound("email"), headers=cast.auth("alice")).status_code == 403


def test_a_partner_is_never_offered_a_call_outside_its_motifs(web, http, cast, runtime):
    from accueil.identity.models import Site, Skill, User
    from accueil.identity.service import do_set_skill

    with runtime.factory() as session, session.begin():
        session.get(Site, cast.sites["partenaire"]).motif_codes = ["suivi_commande"]
        skill = Skill(code="voice", kind="channel", label_fr="Téléphone", label_en="Phone")
        session.add(skill)
        session.flush()
        do_set_skill(session, user=session.get(User, cast.users["chloe"]), skill=skill, level=3)
    chloe = web("chloe")
    chloe.post("/agent/presence", {"presence": "available"})
    refund = post(http, cast, "voice", motif="remboursement", queue="tel_n1", body_text="(appel)")
    tracked = post(http, cast, "voice", motif="suivi_commande", queue="tel_n1", body_text="(appel)",
                   email="zoe@example.fr")
    with runtime.factory() as session, session.begin():
        from accueil.routing.service import do_dispatch

        do_dispatch(session, rules=runtime.routing_rules)
    offers = chloe.get("/agent/offers", htmx=True).text
    assert tracked["interaction_id"] in offers and refund["interaction_id"] not in offers


def test_live_signals_reach_only_the_pages_concerned():
    from accueil.core.events import Event
    from accueil.identity.models import Role
    from accueil.web.live import signals_for
    from accueil.web.session import WebUser

    agent = WebUser("u1", "alice", "Alice", Role.agent, None, "fr", "s1", "t")
    partner = WebUser("u2", "chloe", "Chloé", Role.partner_agent, "p", "fr", "s2", "t")
    paused = Event("routing.presence", {"agent_id": "u1", "presence": "paused", "reason": "no_answer"})
    assert [kind for kind, _ in signals_for(agent, paused)] == ["offer", "work", "presence"]
    assert signals_for(partner, paused) == []
    reply = Event("message.sent", {"case_id": "c1"})
    assert signals_for(agent, reply) == [("case", {"case_id": "c1"})] and signals_for(partner, reply) == []
