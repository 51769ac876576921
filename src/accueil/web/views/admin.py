"""Administration pages: users (profile, skills, password), sites and teams, skills, motifs, queues and
canned responses. Administrators only. Every form goes through the domain's own write path, so the rules
are the API's (a queue change is saved only if the whole routing configuration still compiles)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.conversations import canned
from accueil.conversations.models import CannedResponse, ChannelKind, Motif
from accueil.conversations.reply_targets import parse_motif_targets
from accueil.core.calendar import CalendarError
from accueil.core.errors import AccueilError, NotFound, ValidationFailed
from accueil.core.i18n import LANGUAGES, error_message
from accueil.flows import sites
from accueil.identity import service as agents
from accueil.identity.models import AgentSkill, Role, Site, SiteKind, Skill, SkillKind, Team, User
from accueil.routing import admin as queues
from accueil.routing.models import Queue
from accueil.routing.rules import AgentSelection, ClosedBehaviour, Delivery, OrderBy
from accueil.web.render import redirect, render
from accueil.web.session import WebUser, check_csrf, current_user, require_role

router = APIRouter(prefix="/admin", include_in_schema=False)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def admin_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, (Role.admin,))
    return user


def _form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int_or_none(text: str, name: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed("validation_error", summary=f"{name}: a whole number") from None


def _default(value: int | None, default: int) -> int:
    """An empty field takes the default; a 0 typed in stays 0 (and is judged by the write path)."""
    return default if value is None else value


def reference(session: Session) -> dict:
    """What the admin forms offer to choose from."""
    return {
        "sites": list(session.scalars(select(Site).order_by(Site.code))),
        "teams": list(session.scalars(select(Team).order_by(Team.name))),
        "skills": list(session.scalars(select(Skill).order_by(Skill.kind, Skill.code))),
        "motifs": list(session.scalars(select(Motif).order_by(Motif.code))),
        "queues": list(session.scalars(select(Queue).order_by(Queue.level, Queue.code))),
        "roles": [r.value for r in Role], "site_kinds": [k.value for k in SiteKind],
        "skill_kinds": [k.value for k in SkillKind], "channels": [c.value for c in ChannelKind],
        "languages": LANGUAGES, "selections": [s.value for s in AgentSelection],
        "deliveries": [d.value for d in Delivery], "orders": [o.value for o in OrderBy],
        "closed_behaviours": [b.value for b in ClosedBehaviour], "days": DAYS,
    }


async def _page(request: Request, user: WebUser, template: str, load: Callable[[Session], dict],
                status_code: int = 200, error: str | None = None) -> Response:
    rt = request.app.state.runtime

    def read() -> dict:
        with rt.read_factory() as session:
            context = reference(session)
            context.update(load(session))
            return context

    context = await run_in_threadpool(read)
    context["error"] = error
    return render(request, template, context, user=user, status_code=status_code)


async def _write(request: Request, user: WebUser, work: Callable[[Session, Any], object], *, done: str,
                 template: str, load: Callable[[Session], dict]) -> Response:
    """Run one form in one transaction: back to ``done`` if it worked, the page with the reason if not."""
    await check_csrf(request, user)
    form = await request.form()
    rt = request.app.state.runtime

    def run() -> None:
        with rt.factory() as session, session.begin():
            work(session, form)

    try:
        await run_in_threadpool(run)
    except AccueilError as exc:
        message = error_message(exc.code, user.language, exc.details)
        return await _page(request, user, template, load, status_code=422, error=message)
    return redirect(request, done)


# Users ------------------------------------------------------------------------------------------------------


def _users(session: Session) -> dict:
    return {"users": list(session.scalars(select(User).order_by(User.role, User.username)))}


@router.get("")
async def admin_home(user: WebUser = Depends(admin_user)) -> Response:
    return Response(status_code=303, headers={"Location": "/admin/users"})


@router.get("/users")
async def users_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/users.html", _users)


@router.post("/users")
async def create_user(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        site = session.get(Site, _form_value(form, "site")) if _form_value(form, "site") else None
        team = session.get(Team, _form_value(form, "team")) if _form_value(form, "team") else None
        password = _form_value(form, "password")
        if len(password) < agents.MIN_PASSWORD_LENGTH:
            raise ValidationFailed("password_too_short", limit=agents.MIN_PASSWORD_LENGTH)
        try:
            role = Role(_form_value(form, "role"))
        except ValueError:
            raise ValidationFailed("validation_error", summary="unknown role") from None
        agents.do_create_user(session, username=_form_value(form, "username"),
                              display_name=_form_value(form, "display_name") or _form_value(form, "username"),
                              role=role, password=password, email=_form_value(form, "email") or None, site=site,
                              team=team, language=_form_value(form, "language") or "fr")

    return await _write(request, user, work, done="/admin/users", template="admin/users.html", load=_users)


def _user_detail(user_id: str) -> Callable[[Session], dict]:
    def load(session: Session) -> dict:
        edited = session.get(User, user_id)
        if edited is None:
            raise ValidationFailed("validation_error", summary="unknown user")
        levels = dict(session.execute(select(AgentSkill.skill_id, AgentSkill.level)
                                      .where(AgentSkill.user_id == user_id)).all())
        return {"edited": edited, "levels": levels}

    return load


@router.get("/users/{user_id}")
async def user_page(request: Request, user_id: str, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/user.html", _user_detail(user_id))


@router.post("/users/{user_id}")
async def update_user(request: Request, user_id: str, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        try:
            role = Role(_form_value(form, "role"))
        except ValueError:
            raise ValidationFailed("validation_error", summary="unknown role") from None
        agents.do_update_user(session, user_id=user_id, display_name=_form_value(form, "display_name"), role=role,
                              site_id=_form_value(form, "site") or None, team_id=_form_value(form, "team") or None,
                              language=_form_value(form, "language") or None, email=_form_value(form, "email"),
                              active=_form_value(form, "active") == "1")

    return await _write(request, user, work, done=f"/admin/users/{user_id}", template="admin/user.html",
                        load=_user_detail(user_id))


@router.post("/users/{user_id}/skills")
async def set_skills(request: Request, user_id: str, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        edited = session.get(User, user_id)
        if edited is None:
            raise NotFound("not_found", kind="user", id=user_id)
        for skill in session.scalars(select(Skill)):
            level = _int_or_none(_form_value(form, f"skill_{skill.code}"), skill.code) or 0
            agents.do_set_skill(session, user=edited, skill=skill, level=level)

    return await _write(request, user, work, done=f"/admin/users/{user_id}", template="admin/user.html",
                        load=_user_detail(user_id))


@router.post("/users/{user_id}/password")
async def set_password(request: Request, user_id: str, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        agents.do_set_password(session, user_id=user_id, password=_form_value(form, "password"))

    return await _write(request, user, work, done=f"/admin/users/{user_id}", template="admin/user.html",
                        load=_user_detail(user_id))


# Sites, teams and skills ------------------------------------------------------------------------------------


def _nothing(session: Session) -> dict:
    return {}


@router.get("/sites")
async def sites_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/sites.html", _nothing)


@router.post("/sites")
async def save_site(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        try:
            kind = SiteKind(_form_value(form, "kind"))
        except ValueError:
            raise ValidationFailed("validation_error", summary="unknown site kind") from None
        motifs = [m for m in form.getlist("motif_codes") if isinstance(m, str) and m]
        sites.save_site(session, code=_form_value(form, "code"), name=_form_value(form, "name"), kind=kind,
                        timezone=_form_value(form, "timezone") or "Europe/Paris",
                        address=_form_value(form, "address") or None,
                        max_level=_default(_int_or_none(_form_value(form, "max_level"), "max level"), 3),
                        motif_codes=motifs or None)

    return await _write(request, user, work, done="/admin/sites", template="admin/sites.html", load=_nothing)


@router.post("/teams")
async def create_team(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        site = session.get(Site, _form_value(form, "site"))
        if site is None or not _form_value(form, "name"):
            raise ValidationFailed("validation_error", summary="a team needs a site and a name")
        agents.do_create_team(session, site=site, name=_form_value(form, "name"),
                              level=_default(_int_or_none(_form_value(form, "level"), "level"), 1))

    return await _write(request, user, work, done="/admin/sites", template="admin/sites.html", load=_nothing)


@router.get("/skills")
async def skills_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/skills.html", _nothing)


@router.post("/skills")
async def create_skill(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        agents.do_create_skill(session, code=_form_value(form, "code"), kind=_form_value(form, "kind"),
                               label_fr=_form_value(form, "label_fr"), label_en=_form_value(form, "label_en"))

    return await _write(request, user, work, done="/admin/skills", template="admin/skills.html", load=_nothing)


# Motifs and canned responses --------------------------------------------------------------------------------


@router.get("/motifs")
async def motifs_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/motifs.html", _nothing)


@router.post("/motifs")
async def save_motif(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        canned.do_save_motif(session, code=_form_value(form, "code"), label_fr=_form_value(form, "label_fr"),
                             label_en=_form_value(form, "label_en"), parent_code=_form_value(form, "parent") or None,
                             sla_hours=_int_or_none(_form_value(form, "sla_hours"), "SLA hours"),
                             active=_form_value(form, "active") == "1",
                             reply_targets=_motif_targets(_form_value(form, "reply_targets")))

    return await _write(request, user, work, done="/admin/motifs", template="admin/motifs.html", load=_nothing)


def _motif_targets(text: str) -> dict[str, str] | None:
    """``letter=10d, email=4h`` from the motif form (checked again by the service)."""
    try:
        return parse_motif_targets(text)
    except CalendarError as exc:
        raise ValidationFailed("validation_error", summary=f"reply targets: {exc}") from exc


def _canned(session: Session) -> dict:
    return {"responses": list(session.scalars(select(CannedResponse).order_by(CannedResponse.code))),
            "variables": canned.VARIABLES}


@router.get("/canned")
async def canned_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/canned.html", _canned)


@router.post("/canned")
async def save_canned(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        canned.do_save_canned_response(
            session, code=_form_value(form, "code"), title_fr=_form_value(form, "title_fr"),
            title_en=_form_value(form, "title_en"), body_fr=_form_value(form, "body_fr"),
            body_en=_form_value(form, "body_en"), motif_code=_form_value(form, "motif") or None,
            active=_form_value(form, "active") == "1")

    return await _write(request, user, work, done="/admin/canned", template="admin/canned.html", load=_canned)


# Queues -----------------------------------------------------------------------------------------------------


def hours_text(hours: dict) -> str:
    """{"mon": [["08:00", "20:00"]]} → "mon 08:00-20:00", one line per day, for the form."""
    return "\n".join(f"{day} " + ", ".join(f"{a}-{b}" for a, b in hours[day]) for day in DAYS if day in hours)


def parse_hours(text: str) -> dict:
    hours: dict[str, list[list[str]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        day, _, ranges = line.strip().partition(" ")
        if day.lower() not in DAYS or not ranges.strip():
            raise ValidationFailed("validation_error", summary=f"opening hours, line {number}: 'mon 08:00-20:00'")
        hours[day.lower()] = [[part.strip() for part in span.split("-", 1)] for span in ranges.split(",")]
        if any(len(span) != 2 for span in hours[day.lower()]):
            raise ValidationFailed("validation_error", summary=f"opening hours, line {number}: 'mon 08:00-20:00'")
    return hours


def _queue_detail(code: str) -> Callable[[Session], dict]:
    def load(session: Session) -> dict:
        queue = queues.access_queue(session, code)
        skills = queues.queue_skills(session, queue.id)
        return {"queue": queue, "skills_text": ", ".join(f"{c}:{lvl}" for c, lvl in sorted(skills.items())),
                "hours_text": hours_text(queue.opening_hours or {}),
                "overflow_text": json.dumps(queue.overflow or [], ensure_ascii=False, indent=1),
                "sites_text": ", ".join(queue.sites or [])}

    return load


@router.get("/queues")
async def queues_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/queues.html", _nothing)


@router.post("/queues")
async def create_queue(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    code = ""

    def work(session: Session, form: Any) -> None:
        nonlocal code
        code = _form_value(form, "code")
        if not code or len(code) > 60:
            raise ValidationFailed("validation_error", summary="a queue needs a code (≤ 60 characters)")
        queues.do_save_queue(session, code=code, channel=_form_value(form, "channel"),
                             name_fr=_form_value(form, "name_fr"), name_en=_form_value(form, "name_en"),
                             level=_default(_int_or_none(_form_value(form, "level"), "level"), 1))

    response = await _write(request, user, work, done="/admin/queues", template="admin/queues.html", load=_nothing)
    if response.status_code in (303, 204) and code:
        return redirect(request, f"/admin/queues/{code}")
    return response


@router.get("/queues/{code}")
async def queue_page(request: Request, code: str, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/queue.html", _queue_detail(code))


@router.post("/queues/{code}")
async def save_queue(request: Request, code: str, user: WebUser = Depends(admin_user)) -> Response:
    def work(session: Session, form: Any) -> None:
        skills = {}
        for part in _form_value(form, "skills").split(","):
            if part.strip():
                name, _, level = part.strip().partition(":")
                skills[name.strip()] = _int_or_none(level.strip(), f"level of {name}") or 1
        try:
            overflow = json.loads(_form_value(form, "overflow") or "[]")
        except json.JSONDecodeError as exc:
            raise ValidationFailed("validation_error", summary=f"overflow rules are not valid JSON: {exc}") from None
        sites = [s.strip() for s in _form_value(form, "sites").split(",") if s.strip()]
        fields: dict[str, Any] = {
            "name_fr": _form_value(form, "name_fr"), "name_en": _form_value(form, "name_en"),
            "level": _int_or_none(_form_value(form, "level"), "level"),
            "priority": _int_or_none(_form_value(form, "priority"), "priority") or 0,
            "target_percent": _int_or_none(_form_value(form, "target_percent"), "target percent"),
            "target_seconds": _int_or_none(_form_value(form, "target_seconds"), "target seconds"),
            "ring_timeout_seconds": _int_or_none(_form_value(form, "ring_timeout_seconds"), "ring timeout"),
            "default_handle_seconds": _int_or_none(_form_value(form, "default_handle_seconds"), "handle time"),
            "callback_offer_after_seconds": _int_or_none(_form_value(form, "callback_offer_after_seconds"),
                                                         "callback offer"),
            "selection": _form_value(form, "selection"), "delivery": _form_value(form, "delivery"),
            "order_by": _form_value(form, "order_by"), "closed_behaviour": _form_value(form, "closed_behaviour"),
            "closed_queue": _form_value(form, "closed_queue") or None, "sites": sites or None,
            "opening_hours": parse_hours(_form_value(form, "opening_hours")), "overflow": overflow,
            "skills": skills, "motif": _form_value(form, "motif") or None,
            "active": _form_value(form, "active") == "1",
        }
        for required in ("level", "target_percent", "target_seconds", "ring_timeout_seconds",
                         "default_handle_seconds"):
            if fields[required] is None:
                del fields[required]
        queues.do_save_queue(session, code=code, **fields)

    return await _write(request, user, work, done=f"/admin/queues/{code}", template="admin/queue.html",
                        load=_queue_detail(code))
