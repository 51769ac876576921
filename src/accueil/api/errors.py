"""One error shape for every 4xx/5xx: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accueil.core.errors import AccueilError
from accueil.core.i18n import error_message, pick_language
from accueil.core.ids import new_id
from accueil.web.routes import html_error, is_web_path

log = logging.getLogger(__name__)


def error_response(request: Request, status: int, code: str, details: dict[str, Any]) -> Response:
    if is_web_path(request.url.path) and hasattr(request.app.state, "web_environments"):
        return html_error(request, status, code, details)  # people in a browser get a page, not JSON
    default = "fr"
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        default = runtime.settings.default_language
    lang = pick_language(request.headers.get("accept-language"), default)
    body = {"error": {"code": code, "message": error_message(code, lang, details), "details": details}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | list | dict | type(None)) else str(v))
            for k, v in details.items()}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AccueilError)
    async def _domain(request: Request, exc: AccueilError) -> Response:
        return error_response(request, exc.status_code, exc.code, _jsonable(exc.details))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "problem": err.get("msg", "")}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{e['field'] or 'body'}: {e['problem']}" for e in errors[:5])
        return error_response(request, 422, "validation_error", {"summary": summary, "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, {"detail": str(exc.detail)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        reference = new_id()
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        return error_response(request, 500, "internal_error", {"reference": reference})
