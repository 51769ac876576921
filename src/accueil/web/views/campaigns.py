"""Outbound campaigns on the web: the agent's campaign view (next target, dial, outcome) and the supervisors'
pages (create, fill the list from a CSV file or a customer search, start and pause, progress, the compliance
report and its CSV export). Thin: parse, check the role and CSRF, call ``channels.outbound``, render."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from accueil.channels.outbound import dialer, service
from accueil.channels.outbound.csv_import import do_import_csv
from accueil.channels.outbound.models import CampaignChannel, CampaignStatus, CampaignTarget
from accueil.channels.outbound.queries import (
    access_campaign,
    attempts_left_for,
    campaign_report,
    campaigns,
    progress,
)
from accueil.channels.outbound.sending import delivery_counts
from accueil.channels.outbound.texts import text
from accueil.core import clock
from accueil.core.errors import AccueilError, ValidationFailed
from accueil.core.i18n import error_message
from accueil.routing.models import Queue
from accueil.web.render import redirect, render
from accueil.web.session import WebUser, check_csrf
from accueil.web.views.agent import _read, _write, agent_user
from accueil.web.views.supervisor import supervisor_user

router = APIRouter(include_in_schema=False)

MAX_CSV_BYTES = 20_000_000


def _reason(code: str | None, language: str) -> str:
    return text(code, language) if code else ""


def _agent_context(session: Session, user: WebUser, campaign_id: str) -> dict:
    campaign = access_campaign(session, campaign_id)
    attempt = dialer.current_attempt(session, campaign_id=campaign.id, agent_id=user.user_id)
    target = (session.get(CampaignTarget, attempt.target_id) if attempt is not None
              else dialer.held_target(session, campaign_id=campaign.id, agent_id=user.user_id))
    return {"campaign": campaign, "attempt": attempt, "target": target, "progress": progress(session, campaign.id),
            "left": attempts_left_for(session, target, clock.now()) if target is not None else None}


async def _agent_page(request: Request, user: WebUser, campaign_id: str, *, notice: str | None = None,
                      error: str | None = None, status_code: int = 200) -> Response:
    context = await _read(request, lambda s: _agent_context(s, user, campaign_id))
    return render(request, "agent/campaign.html", {**context, "notice": notice, "error": error}, user=user,
                  status_code=status_code)


@router.get("/agent/campaigns")
async def agent_campaigns(request: Request, user: WebUser = Depends(agent_user)) -> Response:
    found = await _read(request, lambda s: [c for c in campaigns(s, running_only=True)
                                            if c.channel is CampaignChannel.voice])
    return render(request, "agent/campaigns.html", {"campaigns": found}, user=user)


@router.get("/agent/campaigns/{campaign_id}")
async def agent_campaign(request: Request, campaign_id: str, user: WebUser = Depends(agent_user)) -> Response:
    return await _agent_page(request, user, campaign_id)


@router.post("/agent/campaigns/{campaign_id}/next")
async def next_target(request: Request, campaign_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    try:
        found = await _write(request, lambda s: dialer.do_next_target(s, campaign_id=campaign_id, agent_id=user.user_id,
                                                                      now=clock.now()) is not None)
    except AccueilError as exc:
        return await _agent_page(request, user, campaign_id, error=error_message(exc.code, user.language, exc.details),
                                 status_code=exc.status_code)
    return await _agent_page(request, user, campaign_id, notice=None if found else "none_due")


@router.post("/agent/campaigns/targets/{target_id}/dial")
async def dial(request: Request, target_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)

    def work(session: Session) -> tuple[str, dict]:
        target = session.get(CampaignTarget, target_id)
        campaign_id = target.campaign_id if target is not None else ""
        made = dialer.do_dial(session, target_id=target_id, agent_id=user.user_id, now=clock.now())
        return campaign_id, {"allowed": made.verdict.allowed, "reason": made.verdict.reason,
                             "provider": made.provider, "phone": made.attempt.phone}

    try:
        campaign_id, result = await _write(request, work)
    except AccueilError as exc:
        campaign_id = await _read(request, lambda s: getattr(s.get(CampaignTarget, target_id), "campaign_id", ""))
        if not campaign_id:
            raise
        return await _agent_page(request, user, campaign_id, error=error_message(exc.code, user.language, exc.details),
                                 status_code=exc.status_code)
    if not result["allowed"]:
        return await _agent_page(request, user, campaign_id, error=_reason(result["reason"].value, user.language))
    return await _agent_page(request, user, campaign_id, notice="dialled" if result["provider"] else "by_hand")


@router.post("/agent/campaigns/targets/{target_id}/skip")
async def skip(request: Request, target_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    target = await _write(request, lambda s: dialer.do_skip_target(s, target_id=target_id, agent_id=user.user_id,
                                                                   now=clock.now()).campaign_id)
    return redirect(request, f"/agent/campaigns/{target}")


def parse_amount(raw: str) -> int | None:
    """``129,90`` or ``129.90`` (euros) → 12990 cents; empty → None."""
    value = (raw or "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValidationFailed("validation_error", summary="the amount is a number of euros") from None
    if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise ValidationFailed("validation_error", summary="the amount is positive, to the cent")
    return int(amount * 100)


@router.post("/agent/campaigns/attempts/{attempt_id}/outcome")
async def outcome(request: Request, attempt_id: str, outcome: str = Form(...), amount: str = Form(""),
                  campaign_id: str = Form(...), user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime
    try:
        cents = parse_amount(amount)
        await _write(request, lambda s: dialer.do_record_outcome(
            s, attempt_id=attempt_id, outcome=outcome, user_id=user.user_id, rules=rt.routing_rules, now=clock.now(),
            amount_cents=cents, currency="EUR", may_act_for_others=user.is_supervisor))
    except AccueilError as exc:
        return await _agent_page(request, user, campaign_id, error=error_message(exc.code, user.language, exc.details),
                                 status_code=exc.status_code)
    return await _agent_page(request, user, campaign_id, notice="recorded")


# Supervisors -----------------------------------------------------------------------------------------------


def _list_context(session: Session) -> dict:
    found = campaigns(session)
    return {"campaigns": [(c, progress(session, c.id)) for c in found],
            "queues": list(session.scalars(select(Queue).where(Queue.active.is_(True), Queue.channel == "voice")
                                           .order_by(Queue.code)))}


@router.get("/supervisor/campaigns")
async def campaign_list(request: Request, user: WebUser = Depends(supervisor_user)) -> Response:
    context = await _read(request, _list_context)
    return render(request, "supervisor/campaigns.html", {**context, "error": None, "values": {}}, user=user)


@router.post("/supervisor/campaigns")
async def create_campaign(request: Request, code: str = Form(""), name_fr: str = Form(""), name_en: str = Form(""),
                          purpose: str = Form("prospecting"), channel: str = Form("voice"), mode: str = Form("preview"),
                          queue: str = Form(""), max_attempts: int = Form(3), retry_delay_minutes: int = Form(240),
                          subject: str = Form(""), template: str = Form(""),
                          user: WebUser = Depends(supervisor_user)) -> Response:
    await check_csrf(request, user)
    try:
        made = await _write(request, lambda s: service.do_create_campaign(
            s, code=code, name_fr=name_fr, name_en=name_en, purpose=purpose, channel=channel, mode=mode,
            queue_code=queue or None, max_attempts=max_attempts, retry_delay_minutes=retry_delay_minutes,
            subject=subject, template=template, created_by_id=user.user_id, now=clock.now()).id)
    except AccueilError as exc:
        context = await _read(request, _list_context)
        values = {"code": code, "name_fr": name_fr, "name_en": name_en, "purpose": purpose, "channel": channel,
                  "mode": mode, "queue": queue, "subject": subject, "template": template}
        return render(request, "supervisor/campaigns.html", {
            **context, "error": error_message(exc.code, user.language, exc.details), "values": values},
            user=user, status_code=exc.status_code)
    return redirect(request, f"/supervisor/campaigns/{made}")


def _detail_context(session: Session, campaign_id: str) -> dict:
    campaign = access_campaign(session, campaign_id)
    targets = list(session.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id)
                                   .order_by(CampaignTarget.created_at).limit(200)))
    report = campaign_report(session, campaign.id)
    return {"campaign": campaign, "progress": progress(session, campaign.id), "report": report,
            "targets": targets, "checks": report.checks, "statuses": [s.value for s in CampaignStatus],
            "deliveries": delivery_counts(session, campaign.id)}


async def _detail(request: Request, user: WebUser, campaign_id: str, *, notice: str | None = None,
                  errors: list[str] | None = None, status_code: int = 200) -> Response:
    context = await _read(request, lambda s: _detail_context(s, campaign_id))
    return render(request, "supervisor/campaign.html", {**context, "notice": notice, "errors": errors or [],
                                                         "reason_text": lambda c: _reason(c, user.language)},
                  user=user, status_code=status_code)


@router.get("/supervisor/campaigns/{campaign_id}")
async def campaign_detail(request: Request, campaign_id: str, user: WebUser = Depends(supervisor_user)) -> Response:
    return await _detail(request, user, campaign_id)


@router.post("/supervisor/campaigns/{campaign_id}/status")
async def campaign_status(request: Request, campaign_id: str, status: str = Form(...),
                          user: WebUser = Depends(supervisor_user)) -> Response:
    await check_csrf(request, user)
    try:
        await _write(request, lambda s: service.do_set_campaign_status(s, campaign_id=campaign_id, status=status,
                                                                       now=clock.now()))
    except AccueilError as exc:
        return await _detail(request, user, campaign_id, errors=[error_message(exc.code, user.language, exc.details)],
                             status_code=exc.status_code)
    return redirect(request, f"/supervisor/campaigns/{campaign_id}")


@router.post("/supervisor/campaigns/{campaign_id}/import")
async def campaign_import(request: Request, campaign_id: str, user: WebUser = Depends(supervisor_user)) -> Response:
    form = await request.form(max_files=1)
    await check_csrf(request, user)
    rt = request.app.state.runtime
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _detail(request, user, campaign_id, errors=[text("csv_no_columns", user.language)],
                             status_code=400)
    data = await upload.read(MAX_CSV_BYTES + 1)
    try:
        if len(data) > MAX_CSV_BYTES:
            raise ValidationFailed("validation_error", summary="the file is larger than 20 MB")
        content = data.decode("utf-8-sig", errors="replace")
        report = await _write(request, lambda s: do_import_csv(s, campaign_id=campaign_id, content=content,
                                                               now=clock.now(),
                                                               phone_region=rt.settings.default_phone_region))
    except AccueilError as exc:
        return await _detail(request, user, campaign_id, errors=[error_message(exc.code, user.language, exc.details)],
                             status_code=exc.status_code)
    return await _detail(request, user, campaign_id, notice=report.summary(user.language),
                         errors=[e.message(user.language) for e in report.errors[:100]])


@router.post("/supervisor/campaigns/{campaign_id}/search")
async def campaign_search(request: Request, campaign_id: str, search: str = Form(...), days: int = Form(7),
                          user: WebUser = Depends(supervisor_user)) -> Response:
    await check_csrf(request, user)
    try:
        added, merged, excluded = await _write(request, lambda s: service.do_add_from_search(
            s, campaign_id=campaign_id, search=search, days=days, now=clock.now()))
    except AccueilError as exc:
        return await _detail(request, user, campaign_id, errors=[error_message(exc.code, user.language, exc.details)],
                             status_code=exc.status_code)
    return await _detail(request, user, campaign_id, notice=text("csv_summary", user.language, added=added,
                                                                  merged=merged, excluded=excluded, errors=0))


@router.get("/supervisor/campaigns/{campaign_id}/report.csv")
async def campaign_report_csv(request: Request, campaign_id: str, user: WebUser = Depends(supervisor_user)) -> Response:
    report = await _read(request, lambda s: campaign_report(s, campaign_id))
    flagged = {attempt_id: check for check, ids in report.violations.items() for attempt_id in ids}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["attempt", "consumer_local_time", "timezone", "placed", "outcome", "verdict", "rule",
                     "consent", "opposition_list", "customer", "violation"])
    for record in report.attempts:
        writer.writerow([record.id, record.local_time().isoformat(timespec="minutes"), record.timezone,
                         "yes" if record.placed else "no", record.outcome or "", record.reason or "allowed",
                         record.article or "", "yes" if record.consent else "no",
                         "yes" if record.on_opposition_list else "no", "yes" if record.is_customer else "no",
                         flagged.get(record.id, "")])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-compliance.csv"'})
