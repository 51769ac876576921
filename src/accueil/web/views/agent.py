"""The agent console: presence, live offers, my work, and the conversation with the customer's journey.

Thin: each handler checks the session (and CSRF on writes), calls the routing or conversations service in
one transaction, and renders a template or an HTMX fragment. Live updates come from ``/live`` (SSE):
the page's panels re-fetch themselves when their event arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.channels.callback.models import Callback
from accueil.channels.callback.service import do_schedule_callback
from accueil.channels.sms import segments as sms_segments
from accueil.channels.sms.opt_out import customer_opted_out
from accueil.channels.voice.controls import do_transfer_call, is_call
from accueil.channels.voice.queries import caller_cards, calls_by_interaction
from accueil.channels.whatsapp import templates as whatsapp_templates
from accueil.conversations import canned
from accueil.conversations import queries as conversation_queries
from accueil.conversations import service as conversations
from accueil.conversations.models import Attachment, Case, Interaction, Motif
from accueil.conversations.scope import Viewer, case_in_scope, check_case_scope
from accueil.core import clock
from accueil.core.errors import NotFound, PermissionDenied, ValidationFailed
from accueil.core.permissions import ROUTABLE_ROLES
from accueil.customers.service import access_customer
from accueil.flows import escalation
from accueil.identity.models import Role, User
from accueil.routing import queries as routing_queries
from accueil.routing import service as routing
from accueil.routing.decisions import Presence
from accueil.routing.models import Queue
from accueil.web.i18n import translate
from accueil.web.render import is_htmx, redirect, render
from accueil.web.session import STAFF, WebUser, check_csrf, current_user, require_role

router = APIRouter(prefix="/agent", include_in_schema=False)

PAUSE_REASONS = ("break", "lunch", "training", "meeting", "back_office", "no_answer")
TIMELINE_LENGTH = 30


class RecentResolutionCodes:
    """The resolution codes in use, offered as suggestions: read at most once a minute (it scans cases)."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl, self.expires, self.codes = ttl, 0.0, []

    def get(self, session: Session) -> list[str]:
        now = time.monotonic()
        if now >= self.expires:
            found = session.scalars(select(Case.resolution_code).where(Case.resolution_code.is_not(None))
                                    .distinct().limit(200)).all()
            self.codes, self.expires = sorted(found), now + self.ttl
        return self.codes


RESOLUTION_CODES = RecentResolutionCodes()


async def agent_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, STAFF)
    return user


async def _write(request: Request, work: Callable[[Session], Any]) -> Any:
    """One transaction that may write (on SQLite it takes the single writer's turn)."""
    rt = request.app.state.runtime

    def run() -> Any:
        with rt.factory() as session, session.begin():
            return work(session)

    return await run_in_threadpool(run)


async def _read(request: Request, work: Callable[[Session], Any]) -> Any:
    """A read: panels that refresh on every live signal must not queue behind writers."""
    rt = request.app.state.runtime

    def run() -> Any:
        with rt.read_factory() as session:
            return work(session)

    return await run_in_threadpool(run)


def _state(session: Session, user: WebUser) -> dict:
    if user.role not in (Role.agent, Role.partner_agent, Role.supervisor):
        return {"presence": None}
    state = routing.ensure_agent_state(session, user.user_id, clock.now())
    return {"presence": state.presence, "reason": state.reason, "presence_since": state.presence_since}


def _conversation(session: Session, user: WebUser, case_id: str) -> dict:
    case = conversations.access_case(session, case_id)
    check_case_scope(session, user.principal(), case)
    customer = case_customer(session, case)
    timeline = conversation_queries.customer_timeline(session, customer_id=customer.id, cursor=None,
                                                      limit=TIMELINE_LENGTH).items
    principal = user.principal()
    if user.role is Role.partner_agent:  # a partner sees the journey through the cases it may see
        timeline = [i for i in timeline if case_in_scope(session, principal, i.case)]
    held = session.scalars(select(Interaction.id).where(Interaction.case_id == case.id)).all()
    latest = session.scalar(select(Interaction.channel).where(Interaction.case_id == case.id)
                            .order_by(Interaction.arrived_at.desc()).limit(1))
    items = routing_queries.held_in_case(session, user.user_id, case.id)
    channel = latest.value if latest else case.first_channel.value
    return {
        "whatsapp": whatsapp_templates.reply_options(session, customer_id=customer.id, now=clock.now(),
                                                     preferred_language=customer.preferred_language)
        if channel == "whatsapp" else None,
        "motifs": list(session.scalars(select(Motif).where(Motif.active.is_(True)).order_by(Motif.code))),
        "canned": canned.canned_responses(session, motif_id=case.motif_id),
        "transfer_queues": transfer_queues(session, items),
        "transfer_agents": [a for a in transfer_agents(session, user)
                            if case_in_scope(session, Viewer(a.role, a.site_id), case)],  # type: ignore[arg-type]
        "case": case, "customer": customer, "identities": list(customer.identities),
        "messages": conversation_queries.case_messages(session, case.id, include_internal=True),
        "timeline": timeline, "held_items": items, "resolution_codes": RESOLUTION_CODES.get(session),
        "callbacks": list(session.scalars(select(Callback).where(Callback.case_id == case.id)
                                          .order_by(Callback.due_at.desc()).limit(5))),
        "phones": [i.value for i in customer.identities if i.kind.value == "phone"],
        "interaction_ids": set(held), "channel": channel,
        "calls": calls_by_interaction(session, [i.interaction_id for i in items]),
        **_sms_context(session, customer.id, latest.value if latest else case.first_channel.value),
    }


def _sms_context(session: Session, customer_id: str, channel: str, text: str = "") -> dict:
    """On an SMS exchange: the reply's size (the console's script recomputes it as the agent types) and
    whether the number opted out (STOP), so the agent knows before writing."""
    if channel != "sms":
        return {}
    return {"sms_count": sms_segments.count(text), "sms_opted_out": customer_opted_out(session, customer_id)}


def transfer_queues(session: Session, items: list) -> list[Queue]:
    """Queues an item held here may go to: same channel family (the engine refuses other media)."""
    if not items:
        return []
    media = {row.queue_id: session.get(Queue, row.queue_id).channel for row in items if row.queue_id}
    channels = set(media.values())
    return [q for q in session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.level, Queue.code))
            if q.channel in channels]


def transfer_agents(session: Session, user: WebUser) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True), User.role.in_(ROUTABLE_ROLES),
                                                   User.id != user.user_id).order_by(User.display_name)))


def case_customer(session: Session, case: Case):
    return access_customer(session, case.customer_id)


@router.get("")
async def console(request: Request, case: str | None = None, user: WebUser = Depends(agent_user)) -> Response:
    def load(session: Session) -> dict:
        context = {"state": _state(session, user), "work": routing_queries.my_work(session, user.user_id),
                   "pause_reasons": PAUSE_REASONS, "selected": None, "now": clock.now()}
        if case:
            context["selected"] = _conversation(session, user, case)
        return context

    return render(request, "agent/console.html", await _write(request, load), user=user)


@router.get("/work")
async def work_panel(request: Request, user: WebUser = Depends(agent_user)) -> Response:
    rows = await _read(request, lambda s: routing_queries.my_work(s, user.user_id))
    return render(request, "agent/_work.html", {"work": rows, "now": clock.now()}, user=user)


@router.get("/offers")
async def offers_panel(request: Request, user: WebUser = Depends(agent_user)) -> Response:
    def load(session: Session) -> dict:
        offers = routing_queries.my_offers(session, user.user_id)
        return {"offers": offers, "callers": caller_cards(session, [o.interaction_id for o in offers],
                                                                user.principal())}

    return render(request, "agent/_offers.html", await _read(request, load), user=user)


@router.get("/queues")
async def queues_panel(request: Request, user: WebUser = Depends(agent_user)) -> Response:
    rt = request.app.state.runtime
    rows = await _read(request, lambda s: routing_queries.queues_served_by(s, rt.routing_rules.get(s),
                                                                           user.user_id))
    return render(request, "agent/_queues.html", {"queues": rows, "now": clock.now()}, user=user)


@router.post("/next")
async def take_next(request: Request, user: WebUser = Depends(agent_user)) -> Response:
    """Pull the next item this agent may take (push and pull queues alike), and open it."""
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def pull(session: Session) -> str | None:
        if _state(session, user)["presence"] != Presence.available.value:
            return "unavailable"
        offer = routing.do_next_item(session, rules=rt.routing_rules, user_id=user.user_id)
        return None if offer is None else _case_of(session, offer.item)

    case_id = await _write(request, pull)
    if case_id in (None, "unavailable"):
        if case_id is None:
            message = translate(user.language, "Nothing waits for you right now.")
        else:
            message = translate(user.language, "Go available first to take work.")
        return render(request, "_notice.html", {"status": 200, "message": message}, user=user,
                      headers={"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"})
    return redirect(request, f"/agent?case={case_id}")


@router.get("/presence")
async def presence_panel(request: Request, user: WebUser = Depends(agent_user)) -> Response:
    state = await _write(request, lambda s: _state(s, user))
    return render(request, "agent/_presence.html", {"state": state, "pause_reasons": PAUSE_REASONS}, user=user)


@router.post("/presence")
async def set_presence(request: Request, presence: str = Form(...), reason: str = Form(""),
                       user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime
    try:
        chosen = Presence(presence)
    except ValueError:
        raise ValidationFailed("validation_error", summary="presence: available, paused or offline") from None
    paused_for = (reason if reason in PAUSE_REASONS else "break") if chosen is Presence.paused else None

    def change(session: Session) -> dict:
        routing.do_set_presence(session, rules=rt.routing_rules, user_id=user.user_id, presence=chosen,
                                reason=paused_for)
        return _state(session, user)

    state = await _write(request, change)
    return render(request, "agent/_presence.html", {"state": state, "pause_reasons": PAUSE_REASONS}, user=user,
                  headers={"HX-Trigger": "work-changed"})


def _case_of(session: Session, interaction_id: str) -> str:
    return conversations.access_interaction(session, interaction_id).case_id


@router.post("/items/{interaction_id}/accept")
async def accept(request: Request, interaction_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def take(session: Session) -> str:
        routing.do_accept(session, rules=rt.routing_rules, item_id=interaction_id, user_id=user.user_id)
        return _case_of(session, interaction_id)

    case_id = await _write(request, take)
    return redirect(request, f"/agent?case={case_id}")


@router.post("/items/{interaction_id}/decline")
async def decline(request: Request, interaction_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime
    await _write(request, lambda s: routing.do_decline(s, rules=rt.routing_rules, item_id=interaction_id,
                                                      user_id=user.user_id))
    return Response(status_code=204, headers={"HX-Trigger": "work-changed"})


@router.post("/items/{interaction_id}/end")
async def end(request: Request, interaction_id: str, wrapup: str = Form(""),
              user: WebUser = Depends(agent_user)) -> Response:
    """Hang up / close the exchange; with wrap-up the agent stays busy until they end it."""
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def finish(session: Session) -> str:
        routing.do_end(session, rules=rt.routing_rules, item_id=interaction_id, wrapup=bool(wrapup),
                       user_id=user.user_id)
        return _case_of(session, interaction_id)

    case_id = await _write(request, finish)
    return redirect(request, f"/agent?case={case_id}")


@router.post("/items/{interaction_id}/wrapup-end")
async def end_wrapup(request: Request, interaction_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime
    await _write(request, lambda s: routing.do_end_wrapup(s, rules=rt.routing_rules, item_id=interaction_id,
                                                         user_id=user.user_id))
    return redirect(request, "/agent")


@router.get("/cases/{case_id}")
async def conversation(request: Request, case_id: str, user: WebUser = Depends(agent_user)) -> Response:
    if not is_htmx(request):
        return redirect(request, f"/agent?case={case_id}")
    context = await _read(request, lambda s: _conversation(s, user, case_id))
    return render(request, "agent/_conversation.html", {"selected": context}, user=user)


async def _case_action(request: Request, user: WebUser, case_id: str, action: Callable[[Session], Any]) -> Response:
    await check_csrf(request, user)

    def run(session: Session) -> dict:
        check_case_scope(session, user.principal(), conversations.access_case(session, case_id))
        action(session)
        session.flush()
        return _conversation(session, user, case_id)

    context = await _write(request, run)
    return render(request, "agent/_conversation.html", {"selected": context}, user=user,
                  headers={"HX-Trigger": "work-changed"})


@router.post("/cases/{case_id}/reply")
async def reply(request: Request, case_id: str, body: str = Form(""), internal: str = Form(""),
                user: WebUser = Depends(agent_user)) -> Response:
    config = request.app.state.runtime.conversation_config
    if internal:
        return await _case_action(request, user, case_id, lambda s: conversations.do_add_note(
            s, case_id=case_id, author_user_id=user.user_id, body_text=body, config=config))
    return await _case_action(request, user, case_id, lambda s: conversations.do_reply(
        s, case_id=case_id, author_user_id=user.user_id, body_text=body, config=config))


@router.post("/cases/{case_id}/whatsapp-template")
async def whatsapp_template(request: Request, case_id: str, user: WebUser = Depends(agent_user)) -> Response:
    """An approved WhatsApp template with its variables: what may still be sent once the 24-hour window closed."""
    form = await request.form()
    template_id = str(form.get("template_id") or "")
    variables = [str(v) for v in form.getlist("variable")]
    config = request.app.state.runtime.conversation_config
    return await _case_action(request, user, case_id, lambda s: whatsapp_templates.do_send_template(
        s, case_id=case_id, template_id=template_id, variables=variables, author_user_id=user.user_id,
        config=config))


@router.get("/attachments/{attachment_id}")
async def attachment(request: Request, attachment_id: str, user: WebUser = Depends(agent_user)) -> Response:
    """A file of a case the agent may see: a customer's attachment, a scanned letter, a printable reply."""
    root = request.app.state.runtime.conversation_config.attachments_root

    def find(session: Session) -> tuple[str, str, str]:
        found = session.get(Attachment, attachment_id)
        if found is None:
            raise NotFound("not_found", kind="attachment", id=attachment_id)
        check_case_scope(session, user.principal(), conversations.access_case(session, found.message.case_id))
        return found.storage_path, found.content_type, found.filename

    path, content_type, filename = await _read(request, find)
    inline = content_type in ("application/pdf", "image/png", "image/jpeg")  # shown (and printed) in the browser
    return FileResponse(root / path, media_type=content_type, filename=filename,
                        content_disposition_type="inline" if inline else "attachment",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.post("/cases/{case_id}/resolve")
async def resolve(request: Request, case_id: str, resolution_code: str = Form(...),
                  user: WebUser = Depends(agent_user)) -> Response:
    code = resolution_code.strip()[:60]
    if not code:
        raise ValidationFailed("validation_error", summary="resolution code required")
    return await _case_action(request, user, case_id, lambda s: conversations.do_resolve_case(
        s, case_id=case_id, resolution_code=code, actor_id=user.user_id))


@router.post("/cases/{case_id}/motif")
async def set_motif(request: Request, case_id: str, motif: str = Form(...),
                    user: WebUser = Depends(agent_user)) -> Response:
    return await _case_action(request, user, case_id, lambda s: conversations.do_set_motif(
        s, case_id=case_id, motif_code=motif, actor_id=user.user_id))


def _check_holder(session: Session, user: WebUser, interaction_id: str) -> None:
    """Only the agent holding the work (or a supervisor) moves it."""
    row = routing_queries.holder_of(session, interaction_id)
    if row is None:
        raise ValidationFailed("routing_refused", reason="this contact is no longer routed")
    if row.agent_id != user.user_id and not user.is_supervisor:
        raise PermissionDenied("forbidden")


@router.post("/items/{interaction_id}/transfer")
async def transfer(request: Request, interaction_id: str, target: str = Form(...),
                   user: WebUser = Depends(agent_user)) -> Response:
    """To a queue (``queue:<id>``) or to a named agent (``agent:<id>``), who alone may then take it."""
    await check_csrf(request, user)
    rt = request.app.state.runtime
    kind, _, target_id = target.partition(":")
    if kind not in ("queue", "agent") or not target_id:
        raise ValidationFailed("validation_error", summary="transfer to queue:<id> or agent:<id>")

    def move(session: Session) -> None:
        _check_holder(session, user, interaction_id)
        to_queue_id, to_agent_id = (target_id, None) if kind == "queue" else (None, target_id)
        if is_call(session, interaction_id):  # the caller holds while routing finds the new agent
            do_transfer_call(session, rules=rt.routing_rules, interaction_id=interaction_id, user_id=user.user_id,
                             to_queue_id=to_queue_id, to_agent_id=to_agent_id, may_supervise=user.is_supervisor,
                             language=user.language)
            return
        routing.do_transfer(session, rules=rt.routing_rules, item_id=interaction_id, actor_id=user.user_id,
                            to_queue_id=to_queue_id, to_agent_id=to_agent_id)

    await _write(request, move)
    return redirect(request, "/agent")


@router.post("/items/{interaction_id}/escalate")
async def escalate(request: Request, interaction_id: str, reason: str = Form(""),
                   user: WebUser = Depends(agent_user)) -> Response:
    """Up one level on the same channel (N1 → N2): the case and its history go with it."""
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def up(session: Session) -> None:
        _check_holder(session, user, interaction_id)
        target = routing.escalation_queue(session, item_id=interaction_id)
        escalation.escalate(session, rules=rt.routing_rules, item_id=interaction_id, to_queue_id=target,
                            actor_id=user.user_id, reason=reason[:200] or None)

    await _write(request, up)
    return redirect(request, "/agent")


@router.get("/cases/{case_id}/canned")
async def canned_text(request: Request, case_id: str, code: str, user: WebUser = Depends(agent_user)) -> Response:
    """The reply box again, holding the canned response filled in for this case, in the customer's language."""
    def fill(session: Session) -> str:
        case = conversations.access_case(session, case_id)
        check_case_scope(session, user.principal(), case)
        customer = case_customer(session, case)
        response = canned.access_canned_response(session, code)
        french = customer.preferred_language != "en"
        fmt = request.app.state.web_environments["fr" if french else "en"].globals["fmt"]
        motif = "" if case.motif is None else (case.motif.label_fr if french else case.motif.label_en)
        return canned.fill_variables(response.body_fr if french else response.body_en, {
            "customer_name": customer.display_name or "", "agent_name": user.display_name,
            "case_reference": case.reference, "motif": motif, "today": fmt.datetime(clock.now(), "medium"),
        })

    text = await _read(request, fill)
    return render(request, "agent/_reply_box.html", {"text": text}, user=user)


@router.post("/cases/{case_id}/callback")
async def schedule_callback(request: Request, case_id: str, when: str = Form(...), phone: str = Form(""),
                            note: str = Form(""), user: WebUser = Depends(agent_user)) -> Response:
    """Call the customer back at a local date and time (the centre's time zone)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo


    try:
        due = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(request.app.state.runtime.settings.timezone))
    except ValueError:
        raise ValidationFailed("validation_error", summary="callback time: a date and a time") from None
    return await _case_action(request, user, case_id, lambda s: do_schedule_callback(
        s, case_id=case_id, due_at=due, phone=phone or None, user_id=user.user_id, note=note))
