"""An agent's answer on a letter leaves as a printed letter: a PDF attached to the reply, ready to print.

In the reply's own transaction (``@reacts_to(MessageSent)``), the letter is rendered with the letterhead
of the settings and the customer's latest postal address (the one read on their letter, or typed in the
mailroom), and stored as the reply's attachment: the PDF exists if and only if the reply does, and it is
the very letter that was sent (reprinting it gives the same document). A customer with no postal address
gets a letter with only their name (the console says the address is missing).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.letter.printing import LetterContent, render_letter
from accueil.conversations.content import AttachmentIn
from accueil.conversations.events import MessageSent
from accueil.conversations.models import Case, ChannelKind, Interaction, Message
from accueil.conversations.receive import conversation_config_of, store_attachments
from accueil.core.events import Event
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.db.session import SETTINGS, reacts_to, settings_of
from accueil.identity.models import User

SIGNATURE_TEAM = {"fr": "Service clients", "en": "Customer service"}


def _address_lines(session: Session, customer: Customer) -> tuple[str, ...]:
    value = session.scalar(select(Identity.value).where(
        Identity.customer_id == customer.id, Identity.kind == IdentityKind.postal)
        .order_by(Identity.created_at.desc()).limit(1))
    if value is None:
        return (customer.display_name,) if customer.display_name else ()
    return tuple(value.split(" / "))


@reacts_to(MessageSent)
def print_letter_reply(session: Session, event: Event) -> None:
    """An answer on a letter: render its PDF and attach it to the reply, in this transaction."""
    if SETTINGS not in session.info:
        return  # the demo's generated history, a bare script: nothing to print
    interaction = session.get(Interaction, event.data["interaction_id"])
    if interaction is None or interaction.channel is not ChannelKind.letter:
        return
    message = session.get(Message, event.data["message_id"])
    case = session.get(Case, event.data["case_id"])
    if message is None or case is None or message.internal:
        return
    settings = settings_of(session)
    customer = session.get(Customer, case.customer_id)
    assert customer is not None
    language = customer.preferred_language if customer.preferred_language in ("fr", "en") else "fr"
    agent = session.get(User, message.author_user_id) if message.author_user_id else None
    recipient = _address_lines(session, customer)
    content = LetterContent(
        company_name=settings.letter_company_name,
        company_address=tuple(line.strip() for line in settings.letter_company_address.split("/") if line.strip()),
        city=settings.letter_company_city, recipient=recipient,
        day=event.at.astimezone(ZoneInfo(settings.timezone)).date(), language=language,
        reference=case.reference or "", subject=case.subject, body=message.body_text,
        signature=(agent.display_name if agent else "", SIGNATURE_TEAM[language]),
    )
    pdf = render_letter(content)
    store_attachments(session, message_id=message.id, created_at=event.at,
                      attachments=[AttachmentIn(f"lettre-{case.reference or case.id}.pdf", "application/pdf", pdf)],
                      config=conversation_config_of(session))
