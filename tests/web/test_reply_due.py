"""Reply due times in the console (written work ordered by due time, overdue first and said so) and the
wallboard's written backlog (by age, overdue), over real HTTP in French and English."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from accueil.conversations.models import Case, Interaction
from accueil.core import clock
from accueil.identity.models import User
from tests.factories import inbound


def post(http, cast, channel: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    response = http.post("/api/v1/inbound", json=inbound(channel, **extra), headers=cast.auth("alice"))
    assert response.status_code == 201, response.text
    return response.json()


def _set(runtime, created: dict, **values) -> None:  # type: ignore[no-untyped-def]
    with runtime.factory() as session, session.begin():
        session.execute(update(Interaction).where(Interaction.id == created["interaction_id"]).values(**values))


def _give(runtime, cast, *created: dict) -> None:  # type: ignore[no-untyped-def]
    with runtime.factory() as session, session.begin():
        session.execute(update(Case).where(Case.id.in_([c["case_id"] for c in created]))
                        .values(agent_id=cast.users["alice"]))


def test_the_console_orders_written_work_by_reply_due_time_overdue_first(web, http, cast, runtime):
    now = clock.now()
    later = post(http, cast, "email", email="later@example.fr")
    letter = post(http, cast, "letter", email="letter@example.fr")
    late = post(http, cast, "webform", email="late@example.fr")
    _set(runtime, later, reply_due_at=now + timedelta(hours=3))
    _set(runtime, letter, reply_due_at=now + timedelta(days=4))
    _set(runtime, late, reply_due_at=now - timedelta(hours=2, minutes=15))
    _give(runtime, cast, later, letter, late)

    alice = web("alice")
    work = alice.get("/agent/work", htmx=True).text
    order = [work.index(c["case_reference"]) for c in (late, later, letter)]
    assert order == sorted(order), "overdue first, then the soonest due"
    items = work.split('<li class="work-item')[1:]
    assert "is-overdue" in items[0] and "is-overdue" not in items[1] + items[2]
    overdue = re.sub(r"\s+", " ", items[0].split('data-field="due">')[1].split("</span>")[0])
    assert "En retard" in overdue and "2 h 15 min de retard" in overdue  # said in words, not by colour only
    assert "Réponse attendue le" in items[1]
    assert "En retard" in alice.get("/agent").text  # the full page carries the same list

    # Answered: no reply is owed any more, the due time is no longer shown.
    _set(runtime, late, answered_at=now)
    work = alice.get("/agent/work", htmx=True).text
    assert "is-overdue" not in work and "En retard" not in work

    with runtime.factory() as session, session.begin():
        session.execute(update(User).where(User.id == cast.users["alice"]).values(language="en"))
    _set(runtime, later, reply_due_at=now - timedelta(minutes=5))
    english = web("alice").get("/agent/work", htmx=True).text
    assert "Overdue" in english and "late" in english


def _row(board: str, channel: str) -> dict[str, str]:
    row = board.split(f'data-channel="{channel}"')[1].split("</tr>")[0]
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
            for m in re.finditer(r'data-field="([^"]+)">(.*?)</td>', row, re.S)}


def test_the_wallboard_shows_the_written_backlog_by_age_and_overdue(web, http, cast, runtime):
    now = clock.now()
    fresh = post(http, cast, "email", email="fresh@example.fr")
    older = post(http, cast, "email", email="older@example.fr")
    answered = post(http, cast, "email", email="answered@example.fr")
    letter = post(http, cast, "letter", email="letter@example.fr")
    form = post(http, cast, "webform", email="form@example.fr")
    post(http, cast, "voice", email="caller@example.fr", body_text="(appel)")  # not written work
    _set(runtime, fresh, arrived_at=now - timedelta(minutes=30), reply_due_at=now + timedelta(minutes=30))
    _set(runtime, older, arrived_at=now - timedelta(hours=5), reply_due_at=now - timedelta(hours=4))
    _set(runtime, answered, arrived_at=now - timedelta(hours=2), answered_at=now - timedelta(hours=1))
    _set(runtime, letter, arrived_at=now - timedelta(days=2), reply_due_at=now + timedelta(days=3))
    _set(runtime, form, arrived_at=now - timedelta(days=10), reply_due_at=now - timedelta(days=9))

    board = web("bob").get("/supervisor/board", htmx=True).text
    assert "Écrits en attente de réponse" in board
    email = _row(board, "email")
    assert (email["under_1h"], email["1h_4h"], email["4h_24h"], email["total"], email["overdue"]) == \
        ("1", "0", "1", "2", "1")
    assert email["oldest"].startswith("5 h")
    letters = _row(board, "letter")
    assert (letters["1d_3d"], letters["total"], letters["overdue"]) == ("1", "1", "0")
    forms = _row(board, "webform")
    assert (forms["over_3d"], forms["total"], forms["overdue"]) == ("1", "1", "1")
    assert 'class="badge-overdue">1<' in board.split('data-channel="webform"')[1].split("</tr>")[0]

    # Resolving the case ends its contact: it leaves the backlog.
    resolved = http.post(f"/api/v1/cases/{form['case_id']}/resolve", json={"resolution_code": "info_donnee"},
                         headers=cast.auth("alice"))
    assert resolved.status_code == 200, resolved.text
    forms = _row(web("bob").get("/supervisor/board", htmx=True).text, "webform")
    assert (forms["total"], forms["overdue"], forms["oldest"]) == ("0", "0", "–")


def test_an_admin_sets_a_motifs_reply_targets(web, runtime, cast):
    from sqlalchemy import select

    from accueil.conversations.models import Motif

    admin = web("admin")
    fields = {"code": "reclamation", "parent": "commande", "label_fr": "Réclamation", "label_en": "Complaint",
              "sla_hours": "72", "active": "1"}
    saved = admin.post("/admin/motifs", {**fields, "reply_targets": "letter=10d, email=4h"}, htmx=False)
    assert saved.status_code == 303
    with runtime.factory() as session:
        assert session.scalar(select(Motif.reply_targets).where(Motif.code == "reclamation")) == \
            {"letter": "10d", "email": "4h"}
    page = admin.get("/admin/motifs").text
    assert "email=4h, letter=10d" in page
    refused = admin.post("/admin/motifs", {**fields, "reply_targets": "voice=1h"}, htmx=False)
    assert refused.status_code == 422 and "written channels" in refused.text
    refused = admin.post("/admin/motifs", {**fields, "reply_targets": "letter=dix jours"}, htmx=False)
    assert refused.status_code == 422 and "not a delay" in refused.text
    cleared = admin.post("/admin/motifs", {**fields, "reply_targets": ""}, htmx=False)
    assert cleared.status_code == 303
    with runtime.factory() as session:
        assert session.scalar(select(Motif.reply_targets).where(Motif.code == "reclamation")) is None
