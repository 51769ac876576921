"""The supervisors' workforce page over HTTP: forecast against actual, requirement, roster, what-if."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from accueil.conversations.models import ChannelKind
from accueil.conversations.service import do_receive_inbound
from tests.factories import contact

PARIS = ZoneInfo("Europe/Paris")


def history(runtime, days: int, per_hour: int = 3) -> datetime:
    """``days`` past days of calls on tel_n1, 09:00-17:00 Paris time; returns the day after."""
    today = datetime.now(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days)
    n = 0
    with runtime.factory() as session, session.begin():
        for day in range(days):
            for hour in range(9, 17):
                for k in range(per_hour):
                    at = (first + timedelta(days=day, hours=hour, minutes=k * 60 // per_hour)).astimezone(UTC)
                    n += 1
                    do_receive_inbound(session, contact=contact(ChannelKind.voice, email=f"c{n}@example.fr",
                                                                queue_code="tel_n1", body_text="(appel)"),
                                       config=runtime.conversation_config, now=at)
    return today


def test_workforce_page_forecasts_staffs_and_rosters_a_queue(web, runtime, cast):
    today = history(runtime, days=9)
    bob = web("bob")
    page = bob.get(f"/supervisor/workforce?queue=tel_n1&day={today.date().isoformat()}")
    assert page.status_code == 200, page.text[:300]
    assert "Méthode de prévision : seasonal_naive" in page.text  # 9 days: too few for ETS (21)
    assert '<polyline points="' in page.text and 'class="line-scheduled"' in page.text
    assert "Total prévu 24" in page.text  # 3 calls an hour, 8 hours, as last week's same day
    what = bob.post("/supervisor/workforce/what-if", {"queue": "tel_n1", "day": today.date().isoformat(),
                                                      "volume_percent": "200", "handle_time": "300",
                                                      "patience": "120", "agents": "1"})
    assert what.status_code == 200 and "Niveau de service avec 1 conseillers" in what.text
    assert "Total prévu 48" in what.text
    bad = bob.post("/supervisor/workforce/what-if", {"queue": "tel_n1", "day": today.date().isoformat(),
                                                     "volume_percent": "lots"})
    assert bad.status_code == 422
    assert web("alice").get("/supervisor/workforce").status_code == 403


def test_workforce_page_without_history_says_so(web, cast):
    page = web("bob").get("/supervisor/workforce?queue=email_n2")
    assert page.status_code == 200 and "Pas de prévision : l'historique" in page.text
