"""Message templates, and the send policy of the 24-hour window.

A template is registered with Meta under a name and a language, with a body whose variables are
``{{1}}``, ``{{2}}``…; Meta reviews it, and only an approved one may reach a customer outside the
customer-service window. An agent's template reply is stored like any reply (its text is the body with
the variables filled in, so the case reads as the customer will) and remembered as a template use, from
which the sending job builds Meta's template payload. Free text outside the window, or an unapproved
template, is refused before anything is stored, with the reason, and logged (the case id, never a number).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.messaging.models import Delivery
from accueil.channels.messaging.outbox import outbound_extra, send_policy
from accueil.channels.whatsapp.models import CATEGORIES, WhatsappTemplate, WhatsappTemplateUse
from accueil.channels.whatsapp.service import window_of
from accueil.conversations.models import ChannelKind, Interaction, Message
from accueil.conversations.receive import ConversationConfig
from accueil.conversations.service import do_reply
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed

log = logging.getLogger(__name__)

VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
NAME = re.compile(r"^[a-z0-9_]{1,120}$")  # Meta's rule for template names
LANGUAGES = ("fr", "en")
MAX_VARIABLE = 1024
TEMPLATE_USE = "accueil_whatsapp_template_use"  # session.info: the template reply being stored


def variable_count(body: str) -> int:
    """How many variables the body uses; they must be numbered 1, 2, … without a gap."""
    numbers = sorted({int(n) for n in VARIABLE.findall(body)})
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValidationFailed("whatsapp_template_numbering", found=numbers)
    return len(numbers)


def render(body: str, variables: list[str]) -> str:
    return VARIABLE.sub(lambda m: variables[int(m.group(1)) - 1], body)


def check_variables(template: WhatsappTemplate, variables: list[str]) -> list[str]:
    """Meta refuses empty values, line breaks and tabs in a variable, and more than 1024 characters."""
    cleaned = [value.strip() for value in variables]
    expected = variable_count(template.body)
    if len(cleaned) != expected or any(not v or "\n" in v or "\t" in v or len(v) > MAX_VARIABLE for v in cleaned):
        raise ValidationFailed("whatsapp_template_variables", name=template.name, expected=expected)
    return cleaned


def do_add_template(session: Session, *, name: str, language: str, body: str, category: str = "utility",
                    approved: bool = False, now: datetime | None = None) -> WhatsappTemplate:
    if not NAME.match(name):
        raise ValidationFailed("invalid_code", value=name)
    if language not in LANGUAGES:
        raise ValidationFailed("invalid_language", value=language)
    if category not in CATEGORIES:
        raise ValidationFailed("validation_error", summary=f"category: {', '.join(CATEGORIES)}")
    if not body.strip():
        raise ValidationFailed("empty_message")
    variable_count(body)
    if session.scalar(select(WhatsappTemplate.id).where(WhatsappTemplate.name == name,
                                                        WhatsappTemplate.language == language)):
        raise Conflict("whatsapp_template_exists", name=name, language=language)
    now = now or clock.now()
    template = WhatsappTemplate(name=name, language=language, category=category, body=body.strip(),
                                approved=approved, created_at=now, updated_at=now)
    session.add(template)
    session.flush()
    return template


def access_template(session: Session, template_id: str) -> WhatsappTemplate:
    template = session.get(WhatsappTemplate, template_id)
    if template is None:
        raise NotFound("not_found", kind="whatsapp_template", id=template_id)
    return template


def template_by_name(session: Session, name: str, language: str) -> WhatsappTemplate:
    template = session.scalar(select(WhatsappTemplate).where(WhatsappTemplate.name == name,
                                                             WhatsappTemplate.language == language))
    if template is None:
        raise NotFound("not_found", kind="whatsapp_template", id=f"{name}/{language}")
    return template


def do_set_approved(session: Session, *, template: WhatsappTemplate, approved: bool) -> WhatsappTemplate:
    template.approved, template.updated_at = approved, clock.now()
    return template


def templates(session: Session, *, approved_only: bool = False) -> list[WhatsappTemplate]:
    query = select(WhatsappTemplate).order_by(WhatsappTemplate.name, WhatsappTemplate.language)
    if approved_only:
        query = query.where(WhatsappTemplate.approved.is_(True))
    return list(session.scalars(query))


def do_send_template(session: Session, *, case_id: str, template_id: str, variables: list[str], author_user_id: str,
                     config: ConversationConfig, now: datetime | None = None) -> Message:
    """An agent's template reply on the case's WhatsApp exchange (the only thing allowed outside the window)."""
    template = access_template(session, template_id)
    if not template.approved:
        log.warning("WhatsApp template %s/%s refused on case %s: not approved by Meta", template.name,
                    template.language, case_id)
        raise Conflict("whatsapp_template_not_approved", name=template.name, language=template.language)
    values = check_variables(template, variables)
    session.info[TEMPLATE_USE] = (case_id, template.id, values)
    try:
        message = do_reply(session, case_id=case_id, author_user_id=author_user_id,
                           body_text=render(template.body, values), config=config, now=now)
        if TEMPLATE_USE in session.info:  # no WhatsApp policy took it: the reply went to another channel
            raise Conflict("whatsapp_not_the_channel")
    finally:
        session.info.pop(TEMPLATE_USE, None)
    return message


@send_policy(ChannelKind.whatsapp)
def customer_service_window(session: Session, interaction: Interaction, message: Message) -> None:
    """A template reply passes (it was checked above); free text only while the window is open."""
    use = session.info.pop(TEMPLATE_USE, None)
    if use is not None and use[0] == message.case_id:
        template = access_template(session, use[1])
        session.add(WhatsappTemplateUse(message_id=message.id, template_id=template.id, name=template.name,
                                        language=template.language, variables=list(use[2])))
        return
    if not window_of(session, interaction.customer_id, message.created_at).open:
        log.info("WhatsApp free-text reply refused on case %s: outside the 24-hour window", message.case_id)
        raise Conflict("whatsapp_window_closed")


@outbound_extra(ChannelKind.whatsapp)
def template_payload(session: Session, delivery: Delivery, message: Message) -> Mapping[str, Any]:
    use = session.get(WhatsappTemplateUse, message.id)
    if use is None:
        return {}
    return {"template": {"name": use.name, "language": use.language, "variables": list(use.variables)}}


def reply_options(session: Session, *, customer_id: str, preferred_language: str, now: datetime) -> dict[str, Any]:
    """What the console offers on a WhatsApp exchange: the window (free text, time left) and, for when it is
    closed, the approved templates with their number of variables, the customer's language first."""
    approved = templates(session, approved_only=True)
    approved.sort(key=lambda t: (t.language != preferred_language, t.name))
    return {"window": window_of(session, customer_id, now),
            "templates": [{"template": t, "variables": variable_count(t.body)} for t in approved]}
