"""``/api/v1/knowledge``: search the knowledge base, read an article, vote on it.

Anyone may search and read the public articles (the help centre's own page uses the same search); a
caller with an API token also finds the articles meant for agents — partner agents the ``partner`` ones,
in-house staff every one. Searching is rate-limited per client address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from accueil.api.deps import principal
from accueil.api.public import RateLimiter, client_address
from accueil.core.errors import NotFound, Unauthenticated
from accueil.core.permissions import Principal, Role
from accueil.knowledge.markdown import to_html
from accueil.knowledge.models import Article, Visibility
from accueil.knowledge.service import access_article, current_version, embed_query

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])
SEARCHES = RateLimiter()
PER_ADDRESS = (120, 60.0)  # searches per client address per minute


class SearchItem(BaseModel):
    id: str
    code: str
    title: str
    excerpt: str
    score: float = Field(description="1.0: first for both words and meaning")


class SearchResult(BaseModel):
    items: list[SearchItem]


class ArticleOut(BaseModel):
    id: str
    code: str
    language: str
    title: str
    html: str
    version: int
    motif_codes: list[str]


async def visibilities(request: Request) -> tuple[str, ...]:
    """What this caller may read: public for anyone; more with an API token."""
    if not request.headers.get("authorization"):
        return (Visibility.public.value,)
    try:
        caller: Principal = await principal(request, request.app.state.runtime)
    except Unauthenticated:
        return (Visibility.public.value,)
    if caller.role is Role.partner_agent:
        return (Visibility.public.value, Visibility.partner.value)
    return tuple(v.value for v in Visibility)


@router.get("/search", response_model=SearchResult)
async def search(request: Request, q: Annotated[str, Query(max_length=10_000)] = "",
                 lang: Annotated[str, Query(pattern="^(fr|en)$")] = "fr", limit: Annotated[int, Query(ge=1, le=50)] = 10,
                 seen: tuple[str, ...] = Depends(visibilities)) -> SearchResult:
    SEARCHES.hit(client_address(request), limit=PER_ADDRESS[0], window=PER_ADDRESS[1])
    rt = request.app.state.runtime

    def run() -> SearchResult:
        with rt.read_factory() as session:
            index = rt.knowledge_index.get(session)
            codes = dict(session.execute(select(Article.id, Article.code)).all())
        hits = index.search(q, lang, limit=limit, visibilities=seen, embed=embed_query)
        return SearchResult(items=[SearchItem(id=h.document.article_id, code=codes.get(h.document.article_id, ""),
                                              title=h.document.title, excerpt=h.document.excerpt, score=h.score)
                                   for h in hits])

    return await run_in_threadpool(run)


@router.get("/articles/{article}", response_model=ArticleOut)
async def article(request: Request, article: str, lang: Annotated[str, Query(pattern="^(fr|en)$")] = "fr",
                  seen: tuple[str, ...] = Depends(visibilities)) -> ArticleOut:
    rt = request.app.state.runtime

    def run() -> ArticleOut:
        with rt.read_factory() as session:
            found = access_article(session, article[:120])
            if found.archived or found.visibility.value not in seen:
                raise NotFound("not_found", kind="article", id=article[:120])
            version = current_version(session, found)
            return ArticleOut(id=found.id, code=found.code, language=lang, title=getattr(version, f"title_{lang}"),
                              html=to_html(getattr(version, f"body_{lang}")), version=version.number,
                              motif_codes=list(found.motif_codes))

    return await run_in_threadpool(run)
