"""Sign in, sign out, change one's password, pick a language."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accueil.core.errors import AccueilError
from accueil.core.i18n import LANGUAGES, error_message
from accueil.identity import service as agents
from accueil.identity.models import Role
from accueil.web.i18n import translate
from accueil.web.render import language_of, redirect, render
from accueil.web.session import (
    LANGUAGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    WebUser,
    check_csrf,
    cookie_options,
    current_user,
    new_login_csrf,
    same_token,
    session_lifetime,
)

router = APIRouter(include_in_schema=False)

def home_of(role: Role) -> str:
    return "/supervisor" if role in (Role.admin, Role.supervisor) else "/agent"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never //elsewhere or a full URL): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _login_page(request: Request, *, error: str | None = None, username: str = "", next_url: str = "",
                status_code: int = 200) -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", {"login_csrf": token, "error": error, "username": username,
                                              "next_url": next_url}, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **cookie_options(request.app.state.runtime))
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_url=_safe_next(next) or "")


@router.post("/login")
async def login(request: Request, username: str = Form(""), password: str = Form(""),
                csrf_token: str = Form(""), next_url: str = Form("")) -> Response:
    rt = request.app.state.runtime
    language = language_of(request, None)
    if not same_token(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_page(request, error=translate(language, "Your sign-in form had expired. Please try again."),
                           username=username, next_url=next_url, status_code=400)
    throttle = rt.login_throttle
    keys = (f"user:{username.strip().lower()}", f"addr:{request.client.host if request.client else '?'}")
    if throttle.blocked(*keys):
        return _login_page(request, error=translate(language, "Too many failed attempts. Wait 15 minutes and try "
                                                            "again."), username=username, status_code=429)

    def sign_in():
        with rt.factory() as session, session.begin():
            user = agents.check_login(session, username=username, password=password)
            if user is None:
                return None
            started = agents.do_start_web_session(session, user=user, lifetime=session_lifetime(rt),
                                                  user_agent=request.headers.get("user-agent"))
            return started.secret, user.role

    signed_in = await run_in_threadpool(sign_in)
    if signed_in is None:
        throttle.failed(*keys)
        return _login_page(request, error=translate(language, "Wrong username or password."), username=username,
                           next_url=next_url, status_code=400)
    throttle.succeeded(*keys)
    secret, role = signed_in
    response = redirect(request, _safe_next(next_url) or home_of(role))
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(session_lifetime(rt).total_seconds()),
                        **cookie_options(rt))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, user: WebUser = Depends(current_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def end() -> None:
        with rt.factory() as session, session.begin():
            agents.do_end_web_session(session, session_id=user.session_id)

    await run_in_threadpool(end)
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
async def password_form(request: Request, user: WebUser = Depends(current_user)) -> Response:
    return render(request, "password.html", {}, user=user)


@router.post("/account/password")
async def change_password(request: Request, user: WebUser = Depends(current_user), current: str = Form(""),
                          new: str = Form(""), confirm: str = Form("")) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime
    if new != confirm:
        return render(request, "password.html", {"error": translate(user.language, "The two new passwords differ.")},
                      user=user, status_code=400)

    def change() -> None:
        with rt.factory() as session, session.begin():
            agents.do_change_password(session, user_id=user.user_id, current=current, new=new,
                                      keep_session_id=user.session_id)

    try:
        await run_in_threadpool(change)
    except AccueilError as exc:
        return render(request, "password.html", {"error": error_message(exc.code, user.language, exc.details)},
                      user=user, status_code=400)
    return render(request, "password.html", {"done": True}, user=user)


@router.post("/account/language")
async def set_language(request: Request, language: str = Form(...), next_url: str = Form("")) -> Response:
    if language not in LANGUAGES:
        language = request.app.state.runtime.settings.default_language
    rt = request.app.state.runtime
    if request.cookies.get(SESSION_COOKIE):
        try:
            user = await current_user(request)
        except Exception:  # noqa: BLE001 - an expired session just picks the language for the sign-in page
            user = None
        if user is not None:
            await check_csrf(request, user)

            def save() -> None:
                with rt.factory() as session, session.begin():
                    agents.do_set_language(session, user_id=user.user_id, language=language)

            await run_in_threadpool(save)
    response = redirect(request, _safe_next(next_url) or "/")
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, **cookie_options(rt))
    return response
