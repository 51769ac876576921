"""Builds the demo company and weeks of believable history through the real service layer.

Contacts follow a French retailer's week (busy Monday mornings, quiet Sundays where only written
channels arrive), answered or abandoned with realistic waits and talk times, replied to, escalated
from the outsourced N1 to the Lille experts, resolved, and sometimes repeated within a week.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.email.forms import do_add_form
from accueil.channels.email.mailboxes import do_add_mailbox
from accueil.channels.outbound.demo import do_build_demo_campaigns
from accueil.channels.whatsapp.templates import do_add_template
from accueil.config import Settings
from accueil.conversations.canned import do_save_canned_response
from accueil.conversations.models import Case, CaseStatus, ChannelKind, Motif, Outcome
from accueil.conversations.service import (
    ConversationConfig,
    InboundContact,
    do_change_status,
    do_escalate_case,
    do_receive_inbound,
    do_record_interaction_event,
    do_reply,
    do_resolve_case,
)
from accueil.core import clock
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from accueil.db import migrate
from accueil.db.session import make_engine, make_session_factory
from accueil.demo import reference as ref
from accueil.identity.models import Role, Site, SiteKind, Skill, SkillKind, User
from accueil.identity.service import (
    do_create_api_token,
    do_create_site,
    do_create_team,
    do_create_user,
    do_set_skill,
)
from accueil.knowledge.files import read_folder
from accueil.knowledge.service import do_import_articles
from accueil.routing.admin import do_save_queue
from accueil.routing.enqueue import ArrivalDoor
from accueil.routing.models import Queue, TargetKind

PARIS = ZoneInfo("Europe/Paris")
KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"  # the articles of the help centre
WEEKDAY_FACTOR = [1.3, 1.1, 1.0, 1.0, 0.95, 0.55, 0.15]  # Monday … Sunday
# Relative arrivals per local hour, 0–23: a morning peak, a lunch dip, an afternoon peak.
HOURLY = [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.2, 3.4, 3.6, 3.0, 2.0, 2.4, 3.0, 2.8, 2.4, 2.0, 1.5, 0.9,
          0.6, 0.5, 0.4, 0.3]
ASYNC = {"email", "webform", "sms", "whatsapp", "social", "letter"}
CONTACT_HOURS = range(8, 20)  # phone, chat and callbacks are served 8:00–20:00, Monday to Saturday


@dataclass
class DemoSpec:
    days: int = 42
    customers: int = 400
    seed: int = 1
    contacts_per_customer_per_day: float = 0.28


@dataclass
class DemoSummary:
    created: bool
    customers: int = 0
    cases: int = 0
    interactions: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    api_token: str | None = None

    def describe(self, url: str) -> str:
        lines = [
            "",
            f"accueil demo — Maison Lumière: {url}",
            f"  API docs: {url}/api/docs",
            f"  {self.customers} customers, {self.cases} cases, {self.interactions} interactions"
            + ("" if self.created else " (existing demo kept; --reset rebuilds it)"),
            "",
            f"  Logins (password « {ref.DEMO_PASSWORD} »):",
        ]
        lines += [f"    {username:<10} {role:<14} {name}" for username, role, name in self.logins]
        if self.api_token:
            lines += ["", f"  API token for admin (shown once): {self.api_token}"]
        return "\n".join(lines)


def build_demo(settings: Settings, spec: DemoSpec, *, reset: bool = False,
               progress: Callable[[str], None] = lambda _msg: None, now: datetime | None = None) -> DemoSummary:
    url = settings.effective_database_url
    if reset:
        migrate.downgrade(url, "base")
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            if session.scalar(select(Site.id).where(Site.code == ref.SITES[0][0])) is not None:
                summary = DemoSummary(created=False)
                _count(session, summary)
                return summary
        builder = _Builder(factory, spec, ConversationConfig.from_settings(settings, work=ArrivalDoor()), progress)
        return builder.build(now or clock.now())
    finally:
        engine.dispose()


def _count(session: Session, summary: DemoSummary) -> None:
    from sqlalchemy import func

    from accueil.conversations.models import Interaction
    from accueil.customers.models import Customer

    summary.customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    summary.cases = session.scalar(select(func.count()).select_from(Case)) or 0
    summary.interactions = session.scalar(select(func.count()).select_from(Interaction)) or 0
    summary.logins = [(u.username, u.role.value, u.display_name)
                      for u in session.scalars(select(User).order_by(User.role, User.username))]


class _Builder:
    def __init__(self, factory, spec: DemoSpec, config: ConversationConfig,  # type: ignore[no-untyped-def]
                 progress: Callable[[str], None]) -> None:
        self.factory, self.spec, self.config, self.progress = factory, spec, config, progress
        self.rng = random.Random(spec.seed)
        self.people: dict[str, list[str]] = {}  # "n1" / "n2" / "agency" -> user ids
        self.customers: list[dict] = []
        self.motif_weights: list[tuple[str, float]] = []

    def build(self, now: datetime) -> DemoSummary:
        summary = DemoSummary(created=True)
        with self.factory() as session, session.begin():
            summary.api_token = self._organisation(session)
        self._make_customers()
        today = now.astimezone(PARIS).date()
        first = today - timedelta(days=self.spec.days)
        for offset in range(self.spec.days + 1):
            day = first + timedelta(days=offset)
            with self.factory() as session, session.begin():
                self._day(session, day, now)
            if offset % 7 == 0 or offset == self.spec.days:
                self.progress(f"demo history: {day.isoformat()} ({offset + 1}/{self.spec.days + 1} days)")
        with self.factory() as session, session.begin():
            do_build_demo_campaigns(session, callers=self.people.get("n2", []), rng=self.rng, now=now)
        self.progress("demo campaigns: a call campaign with its compliance report, an SMS campaign to start")
        articles, categories, _problems = read_folder(KNOWLEDGE_DIR)
        with self.factory() as session, session.begin():
            do_import_articles(session, articles=articles, categories=categories, now=now)
        self.progress(f"demo knowledge base: {len(articles)} articles in French and English")
        with self.factory() as session:
            _count(session, summary)
        return summary

    # ---- organisation -------------------------------------------------------------------------------
    def _organisation(self, session: Session) -> str:
        sites = {code: do_create_site(session, code=code, name=name, kind=SiteKind(kind), max_level=level,
                                      address=address)
                 for code, name, kind, level, address in ref.SITES}
        for site in sites.values():  # the outsourced level 1 handles the simple motifs only
            if site.kind is SiteKind.partner:
                site.motif_codes = sorted(ref.LEVEL1_MOTIFS)
        teams = {name: do_create_team(session, site=sites[site], name=name, level=level)
                 for site, name, level in ref.TEAMS}
        for family_code, fr, en, motifs in ref.MOTIFS:
            family = Motif(code=family_code, label_fr=fr, label_en=en)
            session.add(family)
            session.flush()
            for code, mfr, men, sla, share in motifs:
                session.add(Motif(code=code, label_fr=mfr, label_en=men, parent_id=family.id, sla_hours=sla))
                self.motif_weights.append((code, share))
        session.flush()
        for code, title_fr, title_en, body_fr, body_en, motif in ref.CANNED_RESPONSES:
            do_save_canned_response(session, code=code, title_fr=title_fr, title_en=title_en, body_fr=body_fr,
                                    body_en=body_en, motif_code=motif)
        motif_labels = {code: (fr, en) for *_, motifs in ref.MOTIFS for code, fr, en, _s, _w in motifs}
        for code, fr, en, channel, level, kind, percent, seconds in ref.QUEUES:
            session.add(Queue(code=code, name_fr=fr, name_en=en, channel=channel, level=level,
                              target_kind=TargetKind(kind), target_percent=percent, target_seconds=seconds,
                              opening_hours={} if channel in ASYNC else _office_hours()))
        session.flush()
        for name, language, body, approved in ref.WHATSAPP_TEMPLATES:
            do_add_template(session, name=name, language=language, body=body, approved=approved)
        for address, name, motif_code, queue_code in ref.MAILBOXES:
            do_add_mailbox(session, address=address, name=name, motif_code=motif_code, queue_code=queue_code)
        for code, title_fr, title_en, mailbox, queue_code, motif_codes in ref.FORMS:
            do_add_form(session, code=code, title_fr=title_fr, title_en=title_en, mailbox_address=mailbox,
                        queue_code=queue_code, motif_codes=motif_codes)
        skills: dict[str, Skill] = {}
        for channel in ChannelKind:
            skills[channel.value] = Skill(code=channel.value, kind=SkillKind.channel, label_fr=channel.value,
                                          label_en=channel.value)
        skills["lang_fr"] = Skill(code="lang_fr", kind=SkillKind.language, label_fr="Français", label_en="French")
        skills["lang_en"] = Skill(code="lang_en", kind=SkillKind.language, label_fr="Anglais", label_en="English")
        for code, (fr, en) in motif_labels.items():
            skills[code] = Skill(code=code, kind=SkillKind.motif, label_fr=fr, label_en=en)
        session.add_all(skills.values())
        session.flush()
        for code, rules in ref.QUEUE_ROUTING.items():
            do_save_queue(session, code=code, **rules)
        for username, name, role, site, team, language, user_skills in ref.PEOPLE:
            user = do_create_user(session, username=username, display_name=name, role=Role(role),
                                  password=ref.DEMO_PASSWORD, email=f"{username}@maison-lumiere.example",
                                  site=sites[site], team=teams.get(team) if team else None, language=language)
            for code, level in user_skills.items():
                do_set_skill(session, user=user, skill=skills[code], level=level)
            if role in ("agent", "partner_agent"):
                group = {"lille": "n2", "nantes-partenaire": "n1", "paris-opera": "agency"}[site]
                self.people.setdefault(group, []).append(user.id)
        from accueil.channels.visit.demo import do_configure_demo_agencies

        do_configure_demo_agencies(session)  # hours, counters and motifs: the portal books at once
        from accueil.channels.voice.ivr import DEFAULT_FLOW, flow_from_document
        from accueil.channels.voice.service import do_save_flow

        do_save_flow(session, flow=flow_from_document(DEFAULT_FLOW), is_default=True)  # the phone line's menus
        admin = session.scalar(select(User).where(User.username == "admin"))
        return do_create_api_token(session, user=admin, name="demo").secret

    def _make_customers(self) -> None:
        used: set[str] = set()
        for i in range(self.spec.customers):
            first, last = self.rng.choice(ref.FIRST_NAMES), self.rng.choice(ref.LAST_NAMES)
            email = f"{_ascii(first)}.{_ascii(last)}{i}@exemple.fr".lower()
            while True:
                phone = f"+33{self.rng.choice('67')}{self.rng.randrange(10**8):08d}"
                if phone not in used:
                    used.add(phone)
                    break
            self.customers.append({
                "name": f"{first} {last}", "email": email, "phone": phone,
                "number": f"CL{100000 + i}", "weight": self.rng.paretovariate(1.6),
                "language": "en" if self.rng.random() < 0.06 else "fr",
            })

    # ---- one day of traffic ---------------------------------------------------------------------------
    def _day(self, session: Session, day: date, now: datetime) -> None:
        expected = self.spec.customers * self.spec.contacts_per_customer_per_day * WEEKDAY_FACTOR[day.weekday()]
        count = _poisson(self.rng, expected)
        customer_weights = [c["weight"] for c in self.customers]
        for _ in range(count):
            channel, level1_queue, level2_queue = _weighted(self.rng, [(c[:1] + c[2:], c[1]) for c in ref.CHANNEL_MIX])
            arrival = self._arrival(day, channel)
            if arrival is None or arrival >= now:
                continue
            customer = self.rng.choices(self.customers, weights=customer_weights)[0]
            motif = _weighted(self.rng, self.motif_weights)
            self._contact(session, customer, channel, motif, level1_queue, level2_queue, arrival, now)

    def _arrival(self, day: date, channel: str) -> datetime | None:
        synchronous = channel not in ASYNC
        if synchronous and day.weekday() == 6:
            return None  # closed on Sunday: only written channels arrive
        hours = [h if (not synchronous or hour in CONTACT_HOURS) else 0.0 for hour, h in enumerate(HOURLY)]
        hour = self.rng.choices(range(24), weights=hours)[0]
        local = datetime.combine(day, time(hour), PARIS) + timedelta(seconds=self.rng.randrange(3600))
        return local.astimezone(clock.now().tzinfo)

    def _contact(self, session: Session, customer: dict, channel: str, motif: str, q1: str, q2: str,
                 arrival: datetime, now: datetime) -> None:
        rng = self.rng
        kind = {"voice": "phone", "callback": "phone", "sms": "phone", "whatsapp": "whatsapp",
                "email": "email", "webform": "email", "chat": "email", "social": "social",
                "letter": "customer_number", "visit": "customer_number"}[channel]
        value = {"phone": customer["phone"], "whatsapp": customer["phone"], "email": customer["email"],
                 "social": "fb_" + customer["number"].lower(), "customer_number": customer["number"]}[kind]
        identities = [IdentityRef(IdentityKind(kind), value)]
        if kind != "email":
            identities.append(IdentityRef(IdentityKind.email, customer["email"]))  # known from the order
        level = 1 if (motif in ref.LEVEL1_MOTIFS or rng.random() < 0.6) else 2
        text = rng.choice(ref.OPENINGS[motif]).format(order=f"ML-{rng.randrange(100000, 999999)}")
        result = do_receive_inbound(session, contact=InboundContact(
            channel=ChannelKind(channel), identities=identities, display_name=customer["name"],
            language=customer["language"], motif_code=motif, queue_code=q1 if level == 1 else q2,
            subject=None if channel not in ("email", "webform", "letter") else text[:60], body_text=text,
            occurred_at=arrival, provider_message_id=f"demo-{arrival.timestamp():.0f}-{rng.randrange(10**9)}",
        ), config=self.config, now=arrival)
        age = now - arrival
        if channel in ASYNC:
            self._written(session, result, channel, level, arrival, now, age)
        else:
            self._spoken(session, result, channel, level, arrival, now)

    def _agent(self, channel: str, level: int) -> str:
        group = "agency" if channel == "visit" else ("n1" if level == 1 else "n2")
        return self.rng.choice(self.people[group])

    def _spoken(self, session: Session, result, channel: str, level: int,  # type: ignore[no-untyped-def]
                arrival: datetime, now: datetime) -> None:
        rng = self.rng
        mean_wait = {"voice": 35, "chat": 25, "callback": 120, "visit": 240}[channel]
        wait = timedelta(seconds=rng.expovariate(1 / mean_wait))
        patience = timedelta(seconds=rng.expovariate(1 / {"voice": 150, "chat": 200, "callback": 900,
                                                             "visit": 1500}[channel]))
        iid = result.interaction_id
        if patience < wait and channel != "callback":
            if arrival + patience < now:
                do_record_interaction_event(session, interaction_id=iid, kind="ended", at=arrival + patience,
                                            outcome=Outcome.abandoned, data={"hung_up": "customer"})
            return
        answered = arrival + wait
        talk = timedelta(seconds=rng.lognormvariate(math.log({"voice": 280, "chat": 540, "callback": 300,
                                                              "visit": 900}[channel]), 0.5))
        wrap = timedelta(seconds=rng.uniform(20, 90))
        if answered + talk + wrap >= now:
            return  # still in progress at the demo's "now": leave it live
        agent = self._agent(channel, level)
        do_record_interaction_event(session, interaction_id=iid, kind="offered", at=answered - timedelta(seconds=4),
                                    agent_id=agent)
        do_record_interaction_event(session, interaction_id=iid, kind="answered", at=answered, agent_id=agent)
        if rng.random() < 0.15:
            hold = answered + talk / 3
            do_record_interaction_event(session, interaction_id=iid, kind="held", at=hold, agent_id=agent)
            do_record_interaction_event(session, interaction_id=iid, kind="unheld", at=hold + talk / 6, agent_id=agent)
        do_record_interaction_event(session, interaction_id=iid, kind="ended", at=answered + talk, agent_id=agent,
                                    outcome=Outcome.handled)
        do_record_interaction_event(session, interaction_id=iid, kind="wrapup_ended", at=answered + talk + wrap,
                                    agent_id=agent)
        self._conclude(session, result.case_id, level, agent, answered + talk + wrap, now, first_contact_rate=0.72)

    def _written(self, session: Session, result, channel: str, level: int,  # type: ignore[no-untyped-def]
                 arrival: datetime, now: datetime, age: timedelta) -> None:
        rng = self.rng
        hours = {"email": 5, "webform": 5, "sms": 1.5, "whatsapp": 1, "social": 1, "letter": 60}[channel]
        delay = timedelta(hours=rng.lognormvariate(math.log(hours), 0.8))
        if delay >= age:
            return  # not answered yet: part of today's backlog
        agent = self._agent(channel, level)
        replied = arrival + delay
        do_reply(session, case_id=result.case_id, author_user_id=agent, body_text=rng.choice(ref.REPLIES),
                 config=self.config, now=replied)
        self._conclude(session, result.case_id, level, agent, replied, now, first_contact_rate=0.6)

    def _conclude(self, session: Session, case_id: str, level: int, agent: str, at: datetime, now: datetime,
                  first_contact_rate: float) -> None:
        rng = self.rng
        case = session.get(Case, case_id)
        if case is None or case.status in (CaseStatus.resolved, CaseStatus.closed):
            return
        roll = rng.random()
        if level == 1 and roll > 0.85 and case.level == 1:
            do_escalate_case(session, case_id=case_id, level=2, actor_id=agent, reason="expertise",
                             now=at + timedelta(seconds=5))
            later = at + timedelta(hours=rng.uniform(2, 30))
            if later < now:
                do_resolve_case(session, case_id=case_id, resolution_code=rng.choice(ref.RESOLUTION_CODES),
                                actor_id=self.rng.choice(self.people["n2"]), now=later)
        elif roll < first_contact_rate:
            do_resolve_case(session, case_id=case_id, resolution_code=rng.choice(ref.RESOLUTION_CODES),
                            actor_id=agent, now=at)
        elif case.status is not CaseStatus.pending:
            do_change_status(session, case_id=case_id, status=CaseStatus.pending, actor_id=agent, now=at)


def _office_hours() -> dict:
    days = ["mon", "tue", "wed", "thu", "fri", "sat"]
    return {day: [["08:00", "20:00"]] for day in days}


def _weighted(rng: random.Random, items):  # type: ignore[no-untyped-def]
    values, weights = zip(*items, strict=True)
    choice = rng.choices(values, weights=weights)[0]
    return choice


def _poisson(rng: random.Random, mean: float) -> int:
    """Normal approximation is fine at these volumes; never negative."""
    if mean < 30:
        count, threshold, product = 0, math.exp(-mean), rng.random()
        while product > threshold:
            count += 1
            product *= rng.random()
        return count
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
