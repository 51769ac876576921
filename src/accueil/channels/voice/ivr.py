"""IVR (SVI) definitions: what a caller hears and which key leads where. Pure: no I/O, ``now`` passed in.

A definition is one document (YAML or JSON, the same shape the admin page edits): opening hours and holidays,
what happens out of hours, a tree of menu nodes (bilingual prompts, key presses, a target queue and motif),
and the waiting policy (announce the estimated wait; offer a callback that keeps the caller's place when the
predicted wait passes a threshold). The telephony webhooks (``twilio_api.py``) walk it one step per request.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from accueil.core.calendar import check_country, is_public_holiday
from accueil.core.errors import ValidationFailed

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEYS = set("0123456789*#")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompt(_Strict):
    """Text for the provider's text-to-speech, in French and English (French is required)."""

    fr: str = Field(min_length=1, max_length=1000)
    en: str | None = Field(default=None, max_length=1000)

    def text(self, language: str) -> str:
        return (self.en if language == "en" and self.en else self.fr).strip()


class Target(_Strict):
    """Where a key leads: another menu node, a queue (with the motif the choice means), or an action."""

    node: str | None = None
    queue: str | None = Field(default=None, max_length=60)
    motif: str | None = Field(default=None, max_length=60)
    action: Literal["voicemail", "callback", "hangup", "repeat"] | None = None
    prompt: Prompt | None = None  # said before going there (e.g. "please hold")

    @model_validator(mode="after")
    def _one_destination(self) -> Target:
        if sum(x is not None for x in (self.node, self.queue, self.action)) != 1:
            raise ValueError("a choice leads to exactly one of: node, queue, action")
        return self


class Node(_Strict):
    prompt: Prompt
    options: dict[str, Target] = Field(default_factory=dict)
    timeout_seconds: int = Field(default=6, ge=1, le=60)
    retries: int = Field(default=2, ge=0, le=5)
    default: Target | None = None  # no key, or a wrong key once retries are used up

    @field_validator("options")
    @classmethod
    def _keys(cls, options: dict[str, Target]) -> dict[str, Target]:
        wrong = [key for key in options if key not in KEYS]
        if wrong:
            raise ValueError(f"keys are one of 0-9, * and #, not {wrong}")
        return options


class Closed(_Strict):
    """Out of hours (or on a holiday): a message, then hang up, take a callback request, or a voicemail."""

    action: Literal["message", "callback", "voicemail"] = "message"
    prompt: Prompt = Prompt(fr="Nos conseillers sont joignables du lundi au vendredi de 8 h 30 à 19 h. Merci de "
                                "votre appel.",
                            en="Our advisors are available Monday to Friday from 8:30 am to 7 pm. Thank you for "
                               "calling.")


class Waiting(_Strict):
    announce_wait: bool = True
    callback_offer_after_seconds: int | None = Field(default=120, ge=0, le=7200)
    callback_key: str = Field(default="1", min_length=1, max_length=1)


class Flow(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    numbers: list[str] = Field(default_factory=list, max_length=50)  # called numbers (E.164) it answers
    language: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"
    hours: dict[str, list[str]] = Field(default_factory=lambda: {d: ["08:30-19:00"] for d in DAYS[:5]})
    holidays_country: str | None = "FR"  # public holidays closed; None = open on holidays
    closed_dates: list[date] = Field(default_factory=list, max_length=400)
    welcome: Prompt | None = None
    closed: Closed = Closed()
    start: str = "main"
    nodes: dict[str, Node] = Field(min_length=1, max_length=200)
    waiting: Waiting = Waiting()

    @field_validator("hours")
    @classmethod
    def _hours(cls, hours: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, ranges in hours.items():
            if day not in DAYS:
                raise ValueError(f"days are {', '.join(DAYS)}, not {day!r}")
            for text in ranges:
                match = _RANGE.match(text)
                end = (match.group(3) or match.group(5)) + (match.group(4) or match.group(6)) if match else ""
                if not match or match.group(1) + match.group(2) >= end:
                    raise ValueError(f"{day}: {text!r} is not a range like 08:30-12:00")
        return hours

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except Exception as exc:  # noqa: BLE001 - any lookup failure means an unknown zone
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @model_validator(mode="after")
    def _links(self) -> Flow:
        if self.start not in self.nodes:
            raise ValueError(f"start node {self.start!r} is not defined")
        for name, node in self.nodes.items():
            for target in [*node.options.values(), *([node.default] if node.default else [])]:
                if target.node is not None and target.node not in self.nodes:
                    raise ValueError(f"node {name!r} leads to undefined node {target.node!r}")
        if self.holidays_country:
            check_country(self.holidays_country)  # a ValueError that says which country
        return self


# Reading and writing definitions ------------------------------------------------------------------------------

def parse_flow(text: str | bytes, *, fmt: Literal["yaml", "json", "auto"] = "auto") -> Flow:
    """A definition from YAML or JSON text; a clear 422 listing what is wrong otherwise."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValidationFailed("validation_error", summary=f"not valid {fmt.upper()}: {exc}") from exc
    return flow_from_document(document)


def flow_from_document(document: object) -> Flow:
    if not isinstance(document, dict):
        raise ValidationFailed("validation_error", summary="an IVR definition is a mapping (code, name, nodes...)")
    try:
        return Flow.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in error['loc']) or 'definition'}: {error['msg']}"
                             for error in exc.errors()[:10])
        raise ValidationFailed("validation_error", summary=problems) from exc


def flow_document(flow: Flow) -> dict:
    return flow.model_dump(mode="json", exclude_unset=True)


def dump_flow(flow: Flow, fmt: Literal["yaml", "json"]) -> str:
    document = flow_document(flow)
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)


# Opening hours ------------------------------------------------------------------------------------------------

def closed_reason(flow: Flow, now: datetime) -> Literal["holiday", "closed_day", "hours"] | None:
    """None when the lines are open at ``now`` (UTC-aware), else why they are not."""
    local = now.astimezone(ZoneInfo(flow.timezone))
    today = local.date()
    if today in flow.closed_dates:
        return "closed_day"
    if flow.holidays_country and is_public_holiday(today, flow.holidays_country):
        return "holiday"
    clock_time = local.time()
    for text in flow.hours.get(DAYS[local.weekday()], []):
        start, end = text.split("-")
        opens = time.fromisoformat(start)
        closes = time.max if end == "24:00" else time.fromisoformat(end)
        if opens <= clock_time < closes:
            return None
    return "hours"


def next_opening(flow: Flow, now: datetime) -> datetime | None:
    """When the lines next open (UTC), within four weeks; ``now`` itself when open; None if never."""
    from datetime import timedelta

    if closed_reason(flow, now) is None:
        return now
    zone = ZoneInfo(flow.timezone)
    local = now.astimezone(zone)
    for offset in range(29):
        day = local.date() + timedelta(days=offset)
        for text in sorted(flow.hours.get(DAYS[day.weekday()], [])):
            opens = datetime.combine(day, time.fromisoformat(text.split("-")[0]), tzinfo=zone)
            if opens > local and closed_reason(flow, opens) is None:
                return opens.astimezone(now.tzinfo)
    return None


# Walking the menu ---------------------------------------------------------------------------------------------

class Step(BaseModel):
    """What the caller gets next: a menu to hear (node), a queue to join, or an action."""

    model_config = ConfigDict(frozen=True)

    node: str | None = None
    queue: str | None = None
    motif: str | None = None
    action: str | None = None
    prompt: Prompt | None = None
    retry: int = 0
    pressed: str | None = None


def step(flow: Flow, node_name: str, digits: str | None, retry: int = 0) -> Step:
    """The caller pressed ``digits`` (None or "" for no key) at ``node_name``, on attempt ``retry``."""
    node = flow.nodes.get(node_name)
    if node is None:
        return Step(node=flow.start)  # a stale link (the definition changed mid-call): start again
    key = (digits or "")[:1]
    target = node.options.get(key) if key else None
    if target is None:
        if retry < node.retries:
            return Step(node=node_name, retry=retry + 1, pressed=key or None)
        target = node.default
        if target is None:
            return Step(action="hangup", pressed=key or None)
    if target.action == "repeat":
        return Step(node=node_name, retry=0, pressed=key)
    return Step(node=target.node, queue=target.queue, motif=target.motif, action=target.action,
                prompt=target.prompt, pressed=key or None)


def wait_minutes(seconds: float) -> int:
    """The wait as a caller hears it: whole minutes, at least one."""
    return max(1, round(seconds / 60))


WAIT_ANNOUNCEMENT = {
    "fr": "Le temps d'attente estimé est de {minutes} minute{plural}.",
    "en": "The estimated waiting time is {minutes} minute{plural}.",
}
CALLBACK_OFFER = {
    "fr": "Pour être rappelé sans perdre votre place, tapez {key}. Sinon, restez en ligne.",
    "en": "To be called back without losing your place, press {key}. Otherwise, please hold.",
}
CALLBACK_CONFIRMED = {
    "fr": "C'est noté : un conseiller vous rappelle au numéro de cet appel dès que votre tour arrive. Au revoir.",
    "en": "Done: an advisor will call you back on this number when your turn comes. Goodbye.",
}
CLOSED_CALLBACK_OFFER = {
    "fr": "Pour être rappelé à l'ouverture, tapez 1.",
    "en": "To be called back when we open, press 1.",
}
CLOSED_CALLBACK_CONFIRMED = {
    "fr": "C'est noté : un conseiller vous rappelle dès l'ouverture. Au revoir.",
    "en": "Done: an advisor will call you back when we open. Goodbye.",
}
VOICEMAIL_PROMPT = {
    "fr": "Laissez votre message après le bip, puis raccrochez.",
    "en": "Please leave your message after the tone, then hang up.",
}
NOBODY = {
    "fr": "Aucun conseiller n'est disponible pour le moment.",
    "en": "No advisor is available at the moment.",
}


def wait_announcement(language: str, seconds: float) -> str:
    minutes = wait_minutes(seconds)
    plural = "s" if minutes > 1 else ""
    return WAIT_ANNOUNCEMENT[language].format(minutes=minutes, plural=plural)


def offers_callback(flow: Flow, predicted_seconds: float) -> bool:
    threshold = flow.waiting.callback_offer_after_seconds
    return threshold is not None and predicted_seconds > threshold


DEFAULT_FLOW = {
    "code": "standard",
    "name": "Standard / Main line",
    "language": "fr",
    "welcome": {"fr": "Bonjour et bienvenue au service client.", "en": "Hello and welcome to customer service."},
    "start": "main",
    "nodes": {
        "main": {
            "prompt": {"fr": "Pour suivre une commande, tapez 1. Pour une livraison en retard, tapez 2. Pour un "
                             "retour ou un remboursement, tapez 3. Pour toute autre demande, tapez 9.",
                       "en": "To track an order, press 1. For a late delivery, press 2. For a return or a refund, "
                             "press 3. For anything else, press 9."},
            "options": {"1": {"queue": "tel_n1", "motif": "suivi_commande"},
                        "2": {"queue": "tel_n1", "motif": "livraison_retard"},
                        "3": {"node": "after_sales"},
                        "9": {"queue": "tel_n1"}},
            "default": {"queue": "tel_n1"},
        },
        "after_sales": {
            "prompt": {"fr": "Pour retourner un produit, tapez 1. Pour un remboursement, tapez 2. Pour revenir au "
                             "menu, tapez étoile.",
                       "en": "To return a product, press 1. For a refund, press 2. To go back, press star."},
            "options": {"1": {"queue": "tel_n1", "motif": "retour_produit"},
                        "2": {"queue": "tel_n1", "motif": "remboursement"},
                        "*": {"node": "main"}},
            "default": {"queue": "tel_n1"},
        },
    },
    "closed": {"action": "callback"},
}
