"""Administration of IVR definitions: list, edit as YAML or JSON (with a readable preview of the menus and
whether the lines are open now), import a file, export, choose the default flow. Saving goes through the
voice domain's single write path, so a typo in a queue or motif is refused before any caller meets it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from accueil.channels.voice import ivr
from accueil.channels.voice.models import IvrFlow
from accueil.channels.voice.service import access_flow, do_delete_flow, do_save_flow, flow_of
from accueil.core import clock
from accueil.core.errors import ValidationFailed
from accueil.web.session import WebUser
from accueil.web.views.admin import _form_value, _page, _write, admin_user

router = APIRouter(prefix="/admin/ivr", include_in_schema=False)
MAX_DEFINITION_BYTES = 200_000


def _flows(session: Session) -> dict:
    rows = list(session.scalars(select(IvrFlow).order_by(IvrFlow.code)))
    now = clock.now()
    status = {row.code: ivr.closed_reason(flow_of(row), now) for row in rows}
    return {"flows": rows, "status": status, "template_text": ivr.dump_flow(ivr.flow_from_document(ivr.DEFAULT_FLOW),
                                                                             "yaml")}


def _one(code: str, text: str | None = None, fmt: str = "yaml"):  # noqa: ANN202
    def load(session: Session) -> dict:
        row = access_flow(session, code)
        flow = flow_of(row)
        now = clock.now()
        return {"row": row, "flow": flow, "text_format": fmt, "text": text if text is not None else ivr.dump_flow(flow, fmt),
                "closed": ivr.closed_reason(flow, now), "opening": ivr.next_opening(flow, now)}
    return load


async def _definition_text(form: Any) -> tuple[str, str]:
    """The definition typed in the page, or the file uploaded (YAML or JSON, told apart by name or content)."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_DEFINITION_BYTES + 1)
        if len(data) > MAX_DEFINITION_BYTES:
            raise ValidationFailed("validation_error", summary="the file is larger than 200 kB")
        fmt = "json" if upload.filename.lower().endswith(".json") else "auto"
        return data.decode("utf-8", errors="replace"), fmt
    return _form_value(form, "definition"), "auto"


@router.get("")
async def flows_page(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/ivr_list.html", _flows)


@router.post("")
async def save_flow(request: Request, user: WebUser = Depends(admin_user)) -> Response:
    form = await request.form()
    text, fmt = await _definition_text(form)
    saved: dict[str, str] = {}

    def work(session: Session, form: Any) -> None:
        flow = ivr.parse_flow(text, fmt=fmt)  # type: ignore[arg-type]
        row = do_save_flow(session, flow=flow, user_id=user.user_id, is_default=_form_value(form, "is_default") == "1",
                           active=_form_value(form, "active") == "1" if _form_value(form, "has_active") else None)
        saved["code"] = row.code

    original = _form_value(form, "original")
    load = _one(original, text) if original else _flows
    template = "admin/ivr_edit.html" if original else "admin/ivr_list.html"
    response = await _write(request, user, work, done="/admin/ivr", template=template, load=load)
    if response.status_code in (204, 303) and saved.get("code"):  # saved: on to its page
        key = "HX-Redirect" if "HX-Redirect" in response.headers else "Location"
        response.headers[key] = f"/admin/ivr/{saved['code']}"
    return response


@router.get("/{code}")
async def flow_page(request: Request, code: str, fmt: str = "yaml", user: WebUser = Depends(admin_user)) -> Response:
    return await _page(request, user, "admin/ivr_edit.html", _one(code, fmt="json" if fmt == "json" else "yaml"))


@router.get("/{code}/export.{fmt}")
async def export_flow(request: Request, code: str, fmt: str, user: WebUser = Depends(admin_user)) -> Response:
    if fmt not in ("yaml", "json"):
        raise ValidationFailed("validation_error", summary="export as yaml or json")
    rt = request.app.state.runtime
    with rt.read_factory() as session:
        flow = flow_of(access_flow(session, code))
    media = "application/json" if fmt == "json" else "application/yaml"
    return Response(ivr.dump_flow(flow, fmt), media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ivr-{code}.{fmt}"'})


@router.post("/{code}/delete")
async def delete_flow(request: Request, code: str, user: WebUser = Depends(admin_user)) -> Response:
    return await _write(request, user, lambda session, form: do_delete_flow(session, code=code), done="/admin/ivr",
                        template="admin/ivr_list.html", load=_flows)
