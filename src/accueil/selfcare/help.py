"""``/help``: the public help centre — search, categories, articles, "was this helpful?" — with, on every
page, the contact options that are really open now (``contact``).

Language: ``?lang=fr|en`` (remembered by a cookie), else the browser's. No sign-in, so no CSRF token: a
vote checks the request's origin and is rate-limited; the voter is a random cookie, hashed with the secret
key before it is stored (never an address). When the chat can be answered the widget is on the page.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.api.public import RateLimiter, check_same_origin, client_address
from accueil.core import clock
from accueil.core.errors import AccueilError, NotFound
from accueil.knowledge.markdown import first_paragraph, to_html
from accueil.knowledge.models import Article, ArticleVersion, KnowledgeCategory, Visibility
from accueil.knowledge.service import access_article, current_version, do_vote, embed_query
from accueil.selfcare.contact import contact_options
from accueil.web.render import SECURITY_HEADERS, language_of, render
from accueil.web.session import cookie_options
from accueil.web.views.portal import _language_first

router = APIRouter(include_in_schema=False)
VISITOR_COOKIE = "accueil_help"
VOTES = RateLimiter()
PER_ADDRESS = (30, 600.0)


def _headers(request: Request) -> dict[str, str]:
    host = request.headers.get("host", "")
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
        "connect-src 'self'", f"connect-src 'self' ws://{host} wss://{host}")  # the chat widget's WebSocket
    return headers


def _title(version: ArticleVersion, language: str) -> str:
    return version.title_fr if language == "fr" else version.title_en


def _body(version: ArticleVersion, language: str) -> str:
    return version.body_fr if language == "fr" else version.body_en


def _public_articles(session: Session) -> list[tuple[Article, ArticleVersion]]:
    return list(session.execute(select(Article, ArticleVersion).join(
        ArticleVersion, (ArticleVersion.article_id == Article.id) & (ArticleVersion.number == Article.current_version))
        .where(Article.archived.is_(False), Article.visibility == Visibility.public).order_by(Article.code)).all())


async def _page(request: Request, template: str, load: Any, *, status_code: int = 200) -> Response:
    rt = request.app.state.runtime
    language = language_of(request, None)

    def read() -> dict:
        with rt.read_factory() as session:
            context = load(session, language)
            context["contact"] = contact_options(session, rt.settings, rt.routing_rules, clock.now())
            return context

    context = await run_in_threadpool(read)
    response = render(request, template, {**context, "language": language}, status_code=status_code,
                      headers=_headers(request))
    if VISITOR_COOKIE not in request.cookies:
        response.set_cookie(VISITOR_COOKIE, secrets.token_urlsafe(18), max_age=365 * 86400,
                            **cookie_options(rt))
    return response


@router.get("/help")
async def help_home(request: Request) -> Response:
    switched = _language_first(request)
    if switched is not None:
        return switched

    def load(session: Session, language: str) -> dict:
        categories = list(session.scalars(select(KnowledgeCategory).order_by(KnowledgeCategory.position,
                                                                             KnowledgeCategory.code)))
        grouped: dict[str | None, list[tuple[str, str]]] = {}
        for article, version in _public_articles(session):
            grouped.setdefault(article.category_id, []).append((article.code, _title(version, language)))
        sections = [(c.name_fr if language == "fr" else c.name_en, grouped.get(c.id, [])) for c in categories]
        if grouped.get(None):
            sections.append(("", grouped[None]))
        return {"sections": [(name, items) for name, items in sections if items], "query": ""}

    return await _page(request, "help/home.html", load)


@router.get("/help/search")
async def help_search(request: Request, q: str = "") -> Response:
    switched = _language_first(request)
    if switched is not None:
        return switched
    query = q[:10_000]
    rt = request.app.state.runtime

    def load(session: Session, language: str) -> dict:
        index = rt.knowledge_index.get(session)
        hits = index.search(query, language, limit=10, embed=embed_query) if query.strip() else []
        codes = dict(session.execute(select(Article.id, Article.code)).all())
        return {"query": query, "hits": [(codes.get(h.document.article_id, ""), h.document.title, h.document.excerpt)
                                         for h in hits]}

    return await _page(request, "help/search.html", load)


@router.get("/help/articles/{code}")
async def help_article(request: Request, code: str, voted: str = "") -> Response:
    switched = _language_first(request)
    if switched is not None:
        return switched

    def load(session: Session, language: str) -> dict:
        article = access_article(session, code[:120])
        if article.archived or article.visibility is not Visibility.public:
            raise NotFound("not_found", kind="article", id=code[:120])
        version = current_version(session, article)
        related = [(a.code, _title(v, language)) for a, v in _public_articles(session)
                   if a.category_id == article.category_id and a.id != article.id][:5]
        return {"article": article, "title": _title(version, language), "html": to_html(_body(version, language)),
                "summary": first_paragraph(_body(version, language)), "updated": version.created_at,
                "related": related, "voted": voted in ("yes", "no"), "query": ""}

    try:
        return await _page(request, "help/article.html", load)
    except NotFound:
        return await _page(request, "help/missing.html", lambda _s, _l: {"query": ""}, status_code=404)


@router.post("/help/articles/{code}/vote")
async def help_vote(request: Request, code: str, helpful: str = Form(...), reason: str = Form(""),
                    comment: str = Form("")) -> Response:
    check_same_origin(request)
    VOTES.hit(client_address(request), limit=PER_ADDRESS[0], window=PER_ADDRESS[1])
    rt = request.app.state.runtime
    visitor = request.cookies.get(VISITOR_COOKIE) or secrets.token_urlsafe(18)
    voter = hashlib.sha256(f"{rt.settings.secret_key}:{visitor}".encode()).hexdigest()[:64]
    language = language_of(request, None)

    def work() -> None:
        with rt.factory() as session, session.begin():
            article = access_article(session, code[:120])
            if article.visibility is not Visibility.public:
                raise NotFound("not_found", kind="article", id=code[:120])
            do_vote(session, article_id=article.id, voter=voter, language=language, helpful=helpful == "yes",
                    reason=reason or None, comment=comment[:500], now=clock.now())

    try:
        await run_in_threadpool(work)
    except AccueilError:
        return await _page(request, "help/missing.html", lambda _s, _l: {"query": ""}, status_code=404)
    response = Response(status_code=303, headers={"Location": f"/help/articles/{code[:120]}?voted={helpful}"})
    response.set_cookie(VISITOR_COOKIE, visitor, max_age=365 * 86400, **cookie_options(rt))
    return response
