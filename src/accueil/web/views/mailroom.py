"""The mailroom ("le service courrier"): upload scanned letters, see what the OCR read, identify senders.

For agents, supervisors and administrators. An upload stores every file and commits it before the page
comes back (each file alone: one refused file does not lose the others); the reading runs as a durable
job, and the list refreshes itself while letters are being read. A letter whose sender is not sure waits
here, with the scan, the text and the likely customers, until a person files it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from accueil.channels.letter import intake
from accueil.channels.letter.models import LetterScan, ScanStatus
from accueil.channels.letter.senders import candidates
from accueil.conversations.models import Motif
from accueil.core import clock
from accueil.core.errors import AccueilError, NotFound
from accueil.core.i18n import error_message
from accueil.identity.models import Role
from accueil.routing.models import Queue
from accueil.web.i18n import translate
from accueil.web.render import redirect, render
from accueil.web.session import WebUser, check_csrf, current_user, require_role

router = APIRouter(prefix="/mailroom", include_in_schema=False)
STATUSES = (ScanStatus.pending, ScanStatus.to_identify, ScanStatus.received, ScanStatus.unreadable)
MAX_FILES = 10  # ten scans at the attachment limit stay under the request size limit


async def mailroom_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, (Role.admin, Role.supervisor, Role.agent))
    return user


def _list(session: Session, status: str | None) -> dict[str, Any]:
    counts = dict(session.execute(select(LetterScan.status, func.count()).group_by(LetterScan.status)).all())
    query = select(LetterScan).order_by(LetterScan.uploaded_at.desc()).limit(100)
    if status in STATUSES:
        query = query.where(LetterScan.status == status)
    return {"counts": counts, "statuses": STATUSES, "chosen": status if status in STATUSES else None,
            "scans": list(session.scalars(query)),
            "motifs": list(session.scalars(select(Motif).where(Motif.active.is_(True)).order_by(Motif.code))),
            "queues": list(session.scalars(select(Queue).order_by(Queue.code)))}


async def _page(request: Request, user: WebUser, status: str | None, *, notice: str | None = None,
                error: str | None = None, status_code: int = 200) -> Response:
    rt = request.app.state.runtime

    def read() -> dict:
        with rt.read_factory() as session:
            return _list(session, status)

    context = await run_in_threadpool(read)
    context.update(notice=notice, error=error)
    return render(request, "mailroom/list.html", context, user=user, status_code=status_code)


@router.get("")
async def mailroom_page(request: Request, status: str | None = None, uploaded: int | None = None,
                        duplicates: int | None = None, user: WebUser = Depends(mailroom_user)) -> Response:
    notice = None
    if uploaded is not None:
        notice = translate(user.language, "%(count)s letter(s) stored; they are being read.", count=uploaded)
        if duplicates:
            notice += " " + translate(user.language, "%(count)s had been uploaded before (nothing new).",
                                      count=duplicates)
    return await _page(request, user, status, notice=notice)


@router.post("")
async def upload(request: Request, user: WebUser = Depends(mailroom_user)) -> Response:
    """Each file in its own transaction: stored, committed, its reading queued."""
    rt = request.app.state.runtime
    form = await request.form(max_files=MAX_FILES + 1)
    await check_csrf(request, user)
    files = [item for item in form.getlist("files") if isinstance(item, UploadFile) and item.filename]
    if not files or len(files) > MAX_FILES:
        message = translate(user.language, "Choose between 1 and %(count)s files.", count=MAX_FILES)
        return await _page(request, user, None, error=message, status_code=400)
    motif = str(form.get("motif") or "")[:60]
    queue = str(form.get("queue") or "")[:60]
    stored = duplicates = 0
    errors = []
    for item in files:
        data = await item.read(rt.settings.max_attachment_bytes + 1)

        def store(data: bytes = data, name: str = item.filename or "scan") -> intake.Upload:
            for attempt in range(2):  # the same file uploaded at the same moment twice: the second finds it
                try:
                    with rt.factory() as session, session.begin():
                        return intake.do_upload_letter(session, data=data, file_name=name, uploaded_by_id=user.user_id,
                                                       motif_code=motif, queue_code=queue, settings=rt.settings,
                                                       now=clock.now())
                except IntegrityError:
                    if attempt:
                        raise
            raise AssertionError("unreachable")

        try:
            result = await run_in_threadpool(store)
        except AccueilError as exc:
            errors.append(error_message(exc.code, user.language, exc.details))
            continue
        stored += 1
        duplicates += result.duplicate
    if errors:
        notice = translate(user.language, "%(count)s letter(s) stored; they are being read.", count=stored)
        return await _page(request, user, None, notice=notice if stored else None, error=" ".join(errors),
                           status_code=400 if not stored else 200)
    return redirect(request, f"/mailroom?uploaded={stored}&duplicates={duplicates}")


def _scan(session: Session, scan_id: str) -> LetterScan:
    scan = session.get(LetterScan, scan_id)
    if scan is None:
        raise NotFound("not_found", kind="letter", id=scan_id)
    return scan


async def _detail(request: Request, user: WebUser, scan_id: str, *, error: str | None = None,
                  status_code: int = 200) -> Response:
    rt = request.app.state.runtime

    def read() -> dict:
        with rt.read_factory() as session:
            scan = _scan(session, scan_id)
            fields = intake.fields_of(rt.settings, scan.text)
            return {"scan": scan, "fields": fields, "candidates": candidates(session, fields)
                    if scan.status in (ScanStatus.to_identify, ScanStatus.unreadable) else [],
                    "has_preview": intake.preview_path(rt.settings, scan).exists()}

    context = await run_in_threadpool(read)
    context["error"] = error
    return render(request, "mailroom/one.html", context, user=user, status_code=status_code)


@router.get("/{scan_id}")
async def scan_page(request: Request, scan_id: str, user: WebUser = Depends(mailroom_user)) -> Response:
    return await _detail(request, user, scan_id)


async def _file_of(request: Request, scan_id: str, preview: bool) -> Response:
    rt = request.app.state.runtime

    def read() -> LetterScan:
        with rt.read_factory() as session:
            scan = _scan(session, scan_id)
            session.expunge(scan)
            return scan

    scan = await run_in_threadpool(read)
    path = intake.preview_path(rt.settings, scan) if preview else rt.settings.letters_dir / scan.storage_path
    if not path.exists():
        raise NotFound("not_found", kind="file", id=scan_id)
    if preview:
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
    return FileResponse(path, media_type=scan.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(scan.file_name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.get("/{scan_id}/preview.png")
async def scan_preview(request: Request, scan_id: str, user: WebUser = Depends(mailroom_user)) -> Response:
    return await _file_of(request, scan_id, preview=True)


@router.get("/{scan_id}/scan")
async def scan_file(request: Request, scan_id: str, user: WebUser = Depends(mailroom_user)) -> Response:
    return await _file_of(request, scan_id, preview=False)


@router.post("/{scan_id}/file")
async def file_letter(request: Request, scan_id: str, customer_id: str = Form(""), name: str = Form(""),
                      address: str = Form(""), customer_number: str = Form(""),
                      user: WebUser = Depends(mailroom_user)) -> Response:
    """A person says who sent it: one of the candidates, or a new customer."""
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def run() -> str | None:
        with rt.factory() as session, session.begin():
            scan = intake.do_file_letter(session, scan_id=scan_id, user_id=user.user_id,
                                         customer_id=customer_id[:26] or None, name=name[:200], address=address[:400],
                                         customer_number=customer_number[:60], now=clock.now())
            return scan.case_id

    try:
        case_id = await run_in_threadpool(run)
    except AccueilError as exc:
        if exc.status_code >= 500:
            raise
        return await _detail(request, user, scan_id, error=error_message(exc.code, user.language, exc.details),
                             status_code=exc.status_code)
    return redirect(request, f"/agent/cases/{case_id}" if case_id else f"/mailroom/{scan_id}")


@router.post("/{scan_id}/read-again")
async def read_again(request: Request, scan_id: str, user: WebUser = Depends(mailroom_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def run() -> None:
        with rt.factory() as session, session.begin():
            intake.do_read_again(session, scan_id=scan_id, now=clock.now())

    try:
        await run_in_threadpool(run)
    except AccueilError as exc:
        if exc.status_code >= 500:
            raise
        return await _detail(request, user, scan_id, error=error_message(exc.code, user.language, exc.details),
                             status_code=exc.status_code)
    return redirect(request, f"/mailroom/{scan_id}")
