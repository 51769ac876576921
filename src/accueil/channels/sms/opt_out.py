"""STOP and START: a number that opted out of text messages gets nothing more from us, until it opts in.

The opt-out belongs to the number (the one that sent STOP), not only to the person: its phone identity
is marked (``undeliverable_reason = "sms_opt_out"``, shown to agents on the customer's card), and the
customer's ``consent_sms`` is withdrawn. A note on the customer's latest case says so on the journey. From
then on a reply on an SMS exchange is refused before it is stored (the send policy below, with the reason
``sms_opted_out``), and the callback notifications (``channels/notify.py``) send nothing to that number.
A START (or UNSTOP, YES) from it lifts the mark. Each change is confirmed once, by one SMS, unless
``ACCUEIL_SMS_CONFIRM_KEYWORDS`` is off (a provider such as Twilio that already answers the keyword).

Nothing here writes the number to the logs: only identifiers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.base import OutboundMessage, channels_of
from accueil.channels.messaging.outbox import recipient_of, recipient_of_exchange, send_policy
from accueil.conversations.events import CaseNoteAdded
from accueil.conversations.models import (
    AuthorKind,
    Case,
    CaseStatus,
    ChannelKind,
    Direction,
    Interaction,
    Message,
)
from accueil.core.errors import Conflict
from accueil.core.ids import id_at
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef, access_customer, do_resolve_identity
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import queue_event

log = logging.getLogger(__name__)

OPT_OUT_REASON = "sms_opt_out"
CONFIRM_KIND = "sms.keyword_reply"
CONFIRMATION = {
    "stop": {"fr": "Vous ne recevrez plus de SMS de notre part. Envoyez START pour les recevoir à nouveau.",
             "en": "You will not receive any more text messages from us. Reply START to receive them again."},
    "start": {"fr": "Vous recevez à nouveau nos SMS. Envoyez STOP pour ne plus en recevoir.",
              "en": "You will receive our text messages again. Reply STOP to stop them."},
}
NOTE = {
    "stop": "SMS : désinscription (STOP) reçue, plus aucun SMS n'est envoyé à ce numéro. / "
            "SMS opt-out (STOP) received: no more text messages are sent to this number.",
    "start": "SMS : réinscription (START) reçue, les SMS vers ce numéro sont de nouveau permis. / "
             "SMS opt-in (START) received: text messages to this number are allowed again.",
}


def _identity(session: Session, number: str) -> Identity | None:
    return session.scalar(select(Identity).where(Identity.kind == IdentityKind.phone, Identity.value == number))


def is_opted_out(session: Session, number: str | None) -> bool:
    """The number sent STOP (and no START since)."""
    if not number:
        return False
    return session.scalar(select(Identity.id).where(
        Identity.kind == IdentityKind.phone, Identity.value == number,
        Identity.undeliverable_reason == OPT_OUT_REASON)) is not None


def _note(session: Session, customer_id: str, keyword: str, now: datetime) -> str | None:
    """The trace on the journey: a system note on the customer's latest case (none yet: none)."""
    case = session.scalar(select(Case).where(Case.customer_id == customer_id)
                          .order_by(Case.status.in_([CaseStatus.new, CaseStatus.open, CaseStatus.pending]).desc(),
                                    Case.updated_at.desc()).limit(1))
    if case is None:
        return None
    interaction_id = session.scalar(select(Interaction.id).where(
        Interaction.case_id == case.id, Interaction.channel == ChannelKind.sms, Interaction.ended_at.is_(None))
        .order_by(Interaction.arrived_at.desc()).limit(1))
    note = Message(id=id_at(now.timestamp()), interaction_id=interaction_id, case_id=case.id,
                   author_kind=AuthorKind.system, author_user_id=None, direction=Direction.inbound, internal=True,
                   body_text=NOTE[keyword], created_at=now)
    session.add(note)
    session.flush()
    queue_event(session, CaseNoteAdded(case_id=case.id, message_id=note.id), now)
    return case.id


def do_keyword(session: Session, *, keyword: str, number: str, our_number: str | None, delivery_id: str,
               confirm: bool, now: datetime) -> bool:
    """Apply a STOP or START from ``number`` (E.164); True when it changed something (then noted and
    confirmed once). ``delivery_id`` (the provider's message id) keys the confirmation: a replay sends none."""
    identity = _identity(session, number)
    if keyword == "stop":
        if identity is None:  # a number we never met: remembered all the same, so nothing is ever sent to it
            customer, _ = do_resolve_identity(session, identities=[IdentityRef(IdentityKind.phone, number)], now=now)
            identity = _identity(session, number)
            assert identity is not None
        if identity.undeliverable_reason == OPT_OUT_REASON:
            return False
        identity.undeliverable_at, identity.undeliverable_reason = now, OPT_OUT_REASON
        customer = access_customer(session, identity.customer_id)
        customer.consent_sms = False
    else:
        if identity is None or identity.undeliverable_reason != OPT_OUT_REASON:
            return False
        identity.undeliverable_at, identity.undeliverable_reason = None, None
        customer = access_customer(session, identity.customer_id)
    session.flush()
    case_id = _note(session, customer.id, keyword, now)
    log.info("SMS %s recorded for customer %s (case %s)", keyword, customer.id, case_id)
    if confirm:
        language = customer.preferred_language if customer.preferred_language in ("fr", "en") else "fr"
        do_schedule_job(session, kind=CONFIRM_KIND, run_at=now, dedupe_key=f"{CONFIRM_KIND}:{delivery_id}"[:200],
                        payload={"to": number, "text": CONFIRMATION[keyword][language], "sender": our_number})
    return True


@job_handler(CONFIRM_KIND)
def _confirm(session: Session, payload: dict, now: datetime) -> None:
    """The one SMS an opted-out number still gets: the confirmation of its STOP."""
    adapter = channels_of(session).get(ChannelKind.sms)
    if adapter is None:
        raise RuntimeError("no SMS provider configured")  # retried: configure one, it leaves
    adapter.send(OutboundMessage(to=payload["to"], text=payload["text"], extra={"sender": payload.get("sender")}))


@send_policy(ChannelKind.sms)
def refuse_opted_out(session: Session, interaction: Interaction, message: Message) -> None:
    """A reply to a number that sent STOP is refused before it is stored, with the reason."""
    if is_opted_out(session, recipient_of_exchange(session, interaction)):
        log.info("SMS reply refused on interaction %s: the customer's number opted out", interaction.id)
        raise Conflict("sms_opted_out")


def customer_opted_out(session: Session, customer_id: str) -> bool:
    """The number an SMS reply to this customer would go to opted out (the console says so)."""
    customer = session.get(Customer, customer_id)
    return customer is not None and is_opted_out(session, recipient_of(session, customer.id, ChannelKind.sms))
