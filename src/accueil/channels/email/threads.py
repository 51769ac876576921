"""Which case a mail belongs to, by the Message-IDs it answers: the headers first, never a guess.

Every Message-ID we send or receive is kept with its case (``mail_message_ids``). An inbound mail's
``In-Reply-To`` and ``References`` are looked up nearest first; the case they name still goes through the
conversations door, which attaches the mail only if the sender is that case's customer, so a forwarded
mail or a stranger quoting our headers never lands in someone else's case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.email.models import MailMessageId
from accueil.channels.email.parse import ParsedMail
from accueil.conversations.models import Case

MAX_LOOKUP = 50  # References can be long; the nearest ones matter


@dataclass(frozen=True)
class Thread:
    case_id: str | None = None
    case_reference: str | None = None
    ours: bool = False  # the mail's own Message-ID is one we sent: it came back to us


def thread_of(session: Session, mail: ParsedMail) -> Thread:
    ours = False
    if mail.message_id:
        known = session.get(MailMessageId, mail.message_id[:255])
        ours = known is not None and known.outbound
    wanted = [value[:255] for value in mail.thread_ids[:MAX_LOOKUP]]
    if not wanted:
        return Thread(ours=ours)
    found = dict(session.execute(select(MailMessageId.message_id_header, MailMessageId.case_id)
                                 .where(MailMessageId.message_id_header.in_(wanted))).all())
    case_id = next((found[value] for value in wanted if value in found), None)
    if case_id is None:
        return Thread(ours=ours)
    reference = session.scalar(select(Case.reference).where(Case.id == case_id))
    return Thread(case_id=case_id, case_reference=reference, ours=ours)


def do_remember_message_id(session: Session, header: str, *, case_id: str, message_id: str | None, outbound: bool,
                           now: datetime) -> None:
    """Keep a Message-ID with its case (the first one seen wins)."""
    header = header[:255]
    if session.get(MailMessageId, header) is None:
        session.add(MailMessageId(message_id_header=header, case_id=case_id, message_id=message_id,
                                  outbound=outbound, created_at=now))
        session.flush()
