"""Simulated live traffic for the demo: contacts keep arriving and simulated agents answer them.

Why: a newcomer who opens the demo should see queues fill and empty, offers ring and the wallboard move,
without a phone system. This runs inside the app process (``ACCUEIL_DEMO_LIVE_TRAFFIC=true``, set by
``accueil demo --live``) through the same services and event bus as real traffic, so the consoles and the
wallboard update live. Everything it makes is labelled: contacts say "[simulation]" in their subject, and
the simulated agents are listed by the wallboard as such. Alice (agent), Chloé (partner agent) and the
supervisors are left to the humans trying the demo.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from accueil.conversations.models import ChannelKind
from accueil.conversations.service import InboundContact, do_receive_inbound
from accueil.core import clock
from accueil.core.errors import AccueilError
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from accueil.identity.models import User
from accueil.routing import service as routing
from accueil.routing.decisions import Presence
from accueil.routing.models import RoutingItem

log = logging.getLogger(__name__)

SIMULATED_AGENTS = ("karim", "julie", "thomas", "mehdi", "laura", "nicolas", "emma")
MIX = [  # channel, queue, motif, share, mean handle seconds (shortened so the demo moves)
    (ChannelKind.voice, "tel_n1", "suivi_commande", 0.45, 75.0),
    (ChannelKind.chat, "chat_n1", "livraison_retard", 0.25, 120.0),
    (ChannelKind.email, "email_n1", "compte_client", 0.20, 60.0),
    (ChannelKind.voice, "tel_n2", "remboursement", 0.10, 100.0),
]
SUBJECTS = {
    "suivi_commande": "Où en est ma commande ?", "livraison_retard": "Ma livraison a du retard",
    "compte_client": "Je n'arrive plus à me connecter", "remboursement": "Remboursement d'un article retourné",
}
PATIENCE_SECONDS = 150.0  # mean, for callers and chatters who give up


class LiveTraffic:
    """A background thread: Poisson arrivals, and simulated agents who accept, talk, wrap up."""

    def __init__(self, runtime, *, contacts_per_minute: float = 4.0, seed: int | None = None,  # type: ignore[no-untyped-def]
                 tick_seconds: float = 1.0) -> None:
        self.runtime, self.rate = runtime, contacts_per_minute / 60.0
        self.rng = random.Random(seed)
        self.tick = tick_seconds
        self.agents: dict[str, str] = {}  # user id -> username
        self.due: dict[str, datetime] = {}  # interaction id -> when the simulated agent acts on it next
        self.patience: dict[str, datetime] = {}  # waiting interaction id -> when its customer hangs up
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="accueil-demo-traffic", daemon=True)
        self.count = 0

    def start(self) -> LiveTraffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            self._log_in()
        except Exception:  # noqa: BLE001 - a demo without its agents still serves
            log.exception("demo traffic: simulated agents could not log in")
            return
        while not self._stop.wait(self.tick):
            try:
                self.step(clock.now())
            except Exception:  # noqa: BLE001 - one bad step must not end the demo's traffic
                log.exception("demo traffic step failed")

    def _log_in(self) -> None:
        with self.runtime.factory() as session, session.begin():
            users = session.scalars(select(User).where(User.username.in_(SIMULATED_AGENTS), User.active.is_(True)))
            self.agents = {user.id: user.username for user in users}
        for user_id in self.agents:
            self._write(lambda s, u=user_id: routing.do_set_presence(s, rules=self.runtime.routing_rules, user_id=u,
                                                                      presence=Presence.available))

    def _write(self, work) -> object:  # type: ignore[no-untyped-def]
        try:
            with self.runtime.factory() as session, session.begin():
                return work(session)
        except AccueilError as exc:  # the item moved on meanwhile (a human took it, it rang out...)
            log.debug("demo traffic: %s", exc)
            return None

    def step(self, now: datetime) -> None:
        """One tick: new arrivals, simulated agents' moves, impatient customers."""
        arrivals = self._poisson(self.rate * self.tick)
        for _ in range(arrivals):
            self._arrive(now)
        with self.runtime.read_factory() as session:
            held = session.execute(select(RoutingItem.interaction_id, RoutingItem.agent_id, RoutingItem.status,
                                          RoutingItem.queue_id)).all()
        for interaction_id, agent_id, status, _queue in held:
            if status == "waiting":
                if self.patience.get(interaction_id, now + timedelta(days=1)) <= now:
                    self.patience.pop(interaction_id, None)
                    self._write(lambda s, i=interaction_id: routing.do_end(s, rules=self.runtime.routing_rules,
                                                                           item_id=i))
                continue
            if agent_id not in self.agents:
                continue
            due = self.due.setdefault(interaction_id, now + timedelta(seconds=self._delay(status)))
            if due > now:
                continue
            self.due.pop(interaction_id, None)
            self._act(status, interaction_id, agent_id)

    def _act(self, status: str, interaction_id: str, agent_id: str) -> None:
        """The simulated agent's next move on a contact they hold: pick up, hang up into wrap-up, finish."""
        rules = self.runtime.routing_rules
        if status == "offered":
            self._write(lambda s: routing.do_accept(s, rules=rules, item_id=interaction_id, user_id=agent_id))
            self.patience.pop(interaction_id, None)
        elif status == "active":
            self._write(lambda s: routing.do_end(s, rules=rules, item_id=interaction_id, wrapup=True,
                                                 user_id=agent_id))
        elif status == "wrapup":
            self._write(lambda s: routing.do_end_wrapup(s, rules=rules, item_id=interaction_id, user_id=agent_id))

    def _delay(self, status: str) -> float:
        if status == "offered":
            return self.rng.uniform(2.0, 8.0)  # picking up
        if status == "wrapup":
            return self.rng.uniform(5.0, 20.0)
        return self.rng.expovariate(1 / 80.0)  # talking or writing

    def _poisson(self, mean: float) -> int:
        count, threshold, product = 0, pow(2.718281828459045, -mean), self.rng.random()
        while product > threshold:
            count += 1
            product *= self.rng.random()
        return count

    def _arrive(self, now: datetime) -> None:
        channel, queue, motif, _share, _handle = self.rng.choices(MIX, weights=[m[3] for m in MIX])[0]
        self.count += 1
        who = self.rng.randrange(1, 400)
        contact = InboundContact(
            channel=channel, identities=[IdentityRef(IdentityKind.email, f"simulation.{who}@exemple.fr")],
            display_name=f"Client simulé {who}", motif_code=motif, queue_code=queue,
            subject=f"[simulation] {SUBJECTS[motif]}",
            body_text="(contact simulé pour la démo)" if channel is ChannelKind.voice
            else f"[simulation] {SUBJECTS[motif]} — message simulé pour la démo.")
        result = self._write(lambda s: do_receive_inbound(s, contact=contact, config=self.runtime.conversation_config,
                                                          now=now))
        if result is not None and channel in (ChannelKind.voice, ChannelKind.chat):
            self.patience[result.interaction_id] = now + timedelta(seconds=self.rng.expovariate(1 / PATIENCE_SECONDS))
