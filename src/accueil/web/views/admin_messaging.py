"""Administration of the messaging channels: which provider each one sends through, the addresses to give
each provider for its webhooks, the SMS senders per queue, and the WhatsApp message templates.

Accounts and secrets are settings (``docs/settings.md``), not data: this page says which are set — never
their values — so an administrator sees at a glance why a channel would refuse deliveries. Templates are
data: added here (or with ``accueil whatsapp template``), marked approved once Meta has approved them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.base import ChannelAdapters
from accueil.channels.whatsapp.models import CATEGORIES
from accueil.channels.whatsapp.templates import (
    access_template,
    do_add_template,
    do_set_approved,
    templates,
)
from accueil.config import Settings
from accueil.conversations.models import ChannelKind
from accueil.routing.models import Queue
from accueil.web.session import WebUser
from accueil.web.views.admin import _form_value, _page, _write, admin_user

router = APIRouter(prefix="/admin/messaging", include_in_schema=False)
PAGE = "admin/messaging.html"


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    is_set: bool
    secret: bool
    value: str = ""  # shown only when not a secret


@dataclass(frozen=True)
class ChannelSetup:
    channel: str
    provider: str | None  # the adapter messages leave through now (None: nothing can be sent)
    webhooks: list[str]
    settings: list[Setting]


SECRETS = ("token", "secret", "password")
CHANNEL_SETTINGS = {
    "sms": ("twilio_account_sid", "twilio_auth_token", "sms_gateway_url", "sms_gateway_token", "sms_webhook_secret",
            "sms_sender", "sms_senders", "sms_queue", "sms_outbox_dir"),
    "whatsapp": ("whatsapp_app_secret", "whatsapp_verify_token", "whatsapp_access_token", "whatsapp_phone_number_id",
                 "whatsapp_queue", "whatsapp_outbox_dir"),
    "social": ("meta_app_secret", "meta_verify_token", "meta_page_token", "social_webhook_secret", "social_queue"),
}
WEBHOOKS = {
    "sms": ("/webhooks/twilio/sms", "/webhooks/twilio/sms/status", "/webhooks/sms", "/webhooks/sms/status"),
    "whatsapp": ("/webhooks/whatsapp",),
    "social": ("/webhooks/meta", "/webhooks/social"),
}


def channel_setups(settings: Settings, adapters: ChannelAdapters, base_url: str) -> list[ChannelSetup]:
    found = []
    for channel, names in CHANNEL_SETTINGS.items():
        known = [name for name in names if hasattr(settings, name)]
        if not known:
            continue  # a channel this build does not have
        rows = []
        for name in known:
            value = str(getattr(settings, name) or "")
            secret = any(word in name for word in SECRETS)
            rows.append(Setting(f"ACCUEIL_{name.upper()}", bool(value), secret, "" if secret else value[:200]))
        adapter = adapters.get(ChannelKind(channel))
        found.append(ChannelSetup(channel, adapter.name if adapter is not None else None,
                                  [base_url.rstrip("/") + path for path in WEBHOOKS[channel]], rows))
    return found


QUEUE_SETTINGS = ("sms_queue", "whatsapp_queue", "social_queue")


def missing_queues(settings: Settings, session: Session) -> list[tuple[str, str]]:
    """(setting, queue code) of each channel whose new conversations would go to a queue that does not exist:
    its provider's deliveries are then refused until the queue is created or the setting changed."""
    found = []
    for name in QUEUE_SETTINGS:
        code = str(getattr(settings, name, "") or "")
        if code and session.scalar(select(Queue.id).where(Queue.code == code, Queue.active.is_(True))) is None:
            found.append((f"ACCUEIL_{name.upper()}", code))
    return found


def _load(request: Request):  # noqa: ANN202
    rt = request.app.state.runtime
    base = rt.settings.public_url or str(request.base_url)

    def load(session: Session) -> dict:
        return {"setups": channel_setups(rt.settings, rt.channels, base), "templates": templates(session),
                "categories": CATEGORIES, "senders": sorted(rt.settings.sms_sender_map.items()),
                "missing_queues": missing_queues(rt.settings, session)}
    return load


@router.get("")
async def messaging_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, PAGE, _load(request))


@router.post("/templates")
async def add_template(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        do_add_template(session, name=_form_value(form, "name"), language=_form_value(form, "language"),
                        body=_form_value(form, "body"), category=_form_value(form, "category") or "utility",
                        approved=_form_value(form, "approved") == "on")

    return await _write(request, user, work, done="/admin/messaging", template=PAGE, load=_load(request))


@router.post("/templates/{template_id}/approval")
async def set_approval(request: Request, template_id: str, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        do_set_approved(session, template=access_template(session, template_id),
                        approved=_form_value(form, "approved") == "true")

    return await _write(request, user, work, done="/admin/messaging", template=PAGE, load=_load(request))
