"""Administration pages over real HTTP: users, skills, passwords, sites, motifs, queues, canned responses."""

from __future__ import annotations

from sqlalchemy import select

from accueil.conversations.models import CannedResponse, Motif
from accueil.identity.models import AgentSkill, Site, Skill, User
from accueil.routing.admin import queue_skills
from accueil.routing.models import Queue
from tests.web.conftest import WebClient


def test_only_admins_reach_administration(web):
    assert web("bob").get("/admin/users").status_code == 403
    assert web("alice").get("/admin/queues").status_code == 403
    admin = web("admin")
    assert admin.get("/admin/users").status_code == 200
    assert admin.post("/admin/skills", {"code": "x", "kind": "channel", "label_fr": "x", "label_en": "x"},
                      csrf=False, htmx=False).status_code == 403


def test_admin_creates_a_user_who_signs_in_then_edits_skills_and_password(web, runtime, server_url, cast):
    admin = web("admin")
    with runtime.factory() as session, session.begin():
        session.add(Skill(code="voice", kind="channel", label_fr="Téléphone", label_en="Phone"))
    short = admin.post("/admin/users", {"username": "dora", "display_name": "Dora", "role": "agent",
                                        "password": "short"}, htmx=False)
    assert short.status_code == 422 and "10 caractères" in short.text
    created = admin.post("/admin/users", {"username": "dora", "display_name": "Dora Durand", "role": "agent",
                                          "site": cast.sites["siege"], "language": "en",
                                          "password": "dora-password-1"}, htmx=False)
    assert created.status_code == 303
    dora = WebClient(server_url)
    assert dora.sign_in("dora", "dora-password-1").status_code == 303
    assert "My work" in dora.get("/agent").text  # her language
    with runtime.factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == "dora"))
    assert admin.post(f"/admin/users/{user_id}/skills", {"skill_voice": "4"}, htmx=False).status_code == 303
    with runtime.factory() as session:
        assert session.scalar(select(AgentSkill.level).where(AgentSkill.user_id == user_id)) == 4
    admin.post(f"/admin/users/{user_id}/skills", {"skill_voice": "0"}, htmx=False)
    with runtime.factory() as session:
        assert session.scalar(select(AgentSkill.level).where(AgentSkill.user_id == user_id)) is None
    assert admin.post(f"/admin/users/{user_id}/password", {"password": "a-new-password-2"},
                      htmx=False).status_code == 303
    assert dora.get("/agent").status_code == 303  # her session ended with the reset
    partner = admin.post(f"/admin/users/{user_id}", {"display_name": "Dora", "role": "partner_agent",
                                                     "site": cast.sites["siege"], "active": "1"}, htmx=False)
    assert partner.status_code == 422 and "a partner agent belongs to a partner site" in partner.text
    assert admin.post(f"/admin/users/{user_id}", {"display_name": "Dora D.", "role": "agent",
                                                  "site": cast.sites["siege"]}, htmx=False).status_code == 303
    with runtime.factory() as session:
        dora_row = session.get(User, user_id)
        assert dora_row.display_name == "Dora D." and dora_row.active is False  # the box was unticked
    assert WebClient(server_url).sign_in("dora", "a-new-password-2").status_code == 400


def test_admin_edits_sites_motifs_and_canned_responses(web, runtime, cast):
    admin = web("admin")
    saved = admin.post("/admin/sites", {"code": "partenaire", "name": "Partenaire N1", "kind": "partner",
                                        "max_level": "1", "motif_codes": ["suivi_commande"]}, htmx=False)
    assert saved.status_code == 303
    unknown = admin.post("/admin/sites", {"code": "partenaire", "name": "P", "kind": "partner",
                                          "motif_codes": ["nope"]}, htmx=False)
    assert unknown.status_code == 422 and "Motif inconnu" in unknown.text
    with runtime.factory() as session:
        assert session.get(Site, cast.sites["partenaire"]).motif_codes == ["suivi_commande"]
    motif = admin.post("/admin/motifs", {"code": "livraison", "parent": "commande", "label_fr": "Livraison",
                                         "label_en": "Delivery", "sla_hours": "24", "active": "1"}, htmx=False)
    assert motif.status_code == 303
    canned = admin.post("/admin/canned", {"code": "merci", "title_fr": "Merci", "title_en": "Thanks",
                                          "body_fr": "Merci {customer_name}", "body_en": "Thanks {customer_name}",
                                          "motif": "livraison", "active": "1"}, htmx=False)
    assert canned.status_code == 303
    with runtime.factory() as session:
        assert session.scalar(select(Motif.sla_hours).where(Motif.code == "livraison")) == 24
        assert session.scalar(select(CannedResponse.title_en).where(CannedResponse.code == "merci")) == "Thanks"
    page = admin.get("/admin/canned").text
    assert "{customer_name}" in page and "merci" in page


def test_admin_edits_a_queue_and_bad_rules_change_nothing(web, runtime, cast):
    admin = web("admin")
    with runtime.factory() as session, session.begin():
        session.add(Skill(code="voice", kind="channel", label_fr="Téléphone", label_en="Phone"))
    form = {"name_fr": "Téléphone N1", "name_en": "Phone L1", "level": "1", "priority": "0",
            "target_percent": "80", "target_seconds": "20", "skills": "voice:2", "sites": "",
            "selection": "best_skill", "delivery": "push", "order_by": "age", "ring_timeout_seconds": "15",
            "default_handle_seconds": "300", "callback_offer_after_seconds": "",
            "opening_hours": "mon 08:00-20:00\ntue 08:00-12:00, 14:00-18:00", "closed_behaviour": "wait",
            "closed_queue": "", "overflow": '[{"after_seconds": 30, "any_skill": true}]', "active": "1"}
    assert admin.post("/admin/queues/tel_n1", form, htmx=False).status_code == 303
    with runtime.factory() as session:
        queue = session.scalar(select(Queue).where(Queue.code == "tel_n1"))
        assert queue.ring_timeout_seconds == 15 and queue.opening_hours["tue"] == [["08:00", "12:00"],
                                                                                   ["14:00", "18:00"]]
        assert queue.overflow == [{"after_seconds": 30, "any_skill": True}]
        assert queue_skills(session, queue.id) == {"voice": 2}
    page = admin.get("/admin/queues/tel_n1").text
    assert "tue 08:00-12:00, 14:00-18:00" in page and "voice:2" in page
    for bad in ({"overflow": "[{not json"}, {"skills": "nope:2"}, {"opening_hours": "someday 8-9"},
                {"target_percent": "lots"}):
        refused = admin.post("/admin/queues/tel_n1", {**form, **bad, "ring_timeout_seconds": "99"}, htmx=False)
        assert refused.status_code == 422 and "notice-error" in refused.text, bad
        with runtime.factory() as session:
            assert session.scalar(select(Queue.ring_timeout_seconds).where(Queue.code == "tel_n1")) == 15
    created = admin.post("/admin/queues", {"code": "chat_n1", "channel": "chat", "name_fr": "Chat",
                                           "name_en": "Chat", "level": "1"}, htmx=False)
    assert created.status_code == 303 and created.headers["location"] == "/admin/queues/chat_n1"
