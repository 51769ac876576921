"""Display names of the values the domain stores as codes (channels, statuses, outcomes, pause reasons…).

Each English label is marked with ``N_`` so Babel's extraction finds it; templates show a code with
``label(code)``, which looks up the English label and translates it.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the conventional name the extractor looks for
    return message


LABELS = {
    # channels and media
    "voice": N_("phone"), "callback": N_("callback"), "chat": N_("chat"), "email": N_("email"),
    "webform": N_("web form"), "sms": N_("SMS"), "whatsapp": N_("WhatsApp"), "social": N_("social"),
    "letter": N_("letter"), "visit": N_("visit"),
    # case statuses
    "new": N_("new"), "open": N_("open"), "pending": N_("pending"), "resolved": N_("resolved"),
    "closed": N_("closed"),
    # routing states
    "waiting": N_("waiting"), "offered": N_("ringing"), "active": N_("in progress"), "wrapup": N_("wrap-up"),
    # outcomes
    "handled": N_("handled"), "abandoned": N_("abandoned"), "deflected": N_("deflected"), "missed": N_("missed"),
    "failed": N_("failed"),
    # identities
    "phone": N_("phone"), "chat_visitor": N_("chat visitor"), "customer_number": N_("customer number"), "postal": N_("postal address"),
    # roles, site and skill kinds
    "admin": N_("administrator"), "supervisor": N_("supervisor"), "agent": N_("agent"),
    "partner_agent": N_("partner agent"), "in_house": N_("in-house"), "partner": N_("partner"),
    "agency": N_("agency"), "motif": N_("motif"), "language": N_("language"), "channel": N_("channel"),
    # callbacks
    "scheduled": N_("scheduled"), "queued": N_("queued"), "cancelled": N_("cancelled"),
    # pause reasons
    "break": N_("break"), "lunch": N_("lunch"), "training": N_("training"), "meeting": N_("meeting"),
    "back_office": N_("back office"), "no_answer": N_("missed a call"),
    # callback statuses; appointment statuses and visit outcomes
    "done": N_("done"), "exhausted": N_("exhausted"), "booked": N_("booked"), "arrived": N_("arrived"),
    "in_progress": N_("in progress"), "no_show": N_("no-show"), "follow_up": N_("follow-up needed"),
    "redirected": N_("redirected"), "walk_in": N_("walk-in"),
    # IVR actions and out-of-hours behaviours
    "voicemail": N_("voicemail"), "hangup": N_("hang up"), "repeat": N_("repeat the menu"),
    "message": N_("message, then hang up"),
}


def english_label(code: str | None) -> str:
    return "" if code is None else LABELS.get(code, code.replace("_", " "))
