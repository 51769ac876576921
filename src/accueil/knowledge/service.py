"""The one write path of the knowledge base (categories, articles and their versions, votes), and the
per-process search index that follows it.

Saving an article whose text changed writes a new version (author, date, what changed) and its two
embeddings, and raises the base's version; an unchanged save writes nothing. Every process keeps one
``SearchIndex`` and rebuilds it when the base's version moves (checked at most every ``check_seconds``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.core.errors import NotFound, ValidationFailed
from accueil.knowledge import embedder
from accueil.knowledge.files import ArticleFile
from accueil.knowledge.markdown import first_paragraph, to_text
from accueil.knowledge.models import (
    Article,
    ArticleVersion,
    ArticleVote,
    KnowledgeCategory,
    KnowledgeState,
    Visibility,
    VoteReason,
)
from accueil.knowledge.search import Document, SearchIndex

Embed = Callable[[Sequence[str]], np.ndarray]
MAX_TITLE = 300
MAX_BODY = 100_000
LANGUAGES = ("fr", "en")


def _code(raw: str, what: str) -> str:
    code = (raw or "").strip().lower()
    if not code or len(code) > 120 or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("invalid_code", value=raw, kind=what)
    return code


def _bump(session: Session) -> None:
    state = session.get(KnowledgeState, 1, with_for_update=True)
    if state is None:
        session.add(KnowledgeState(id=1, version=1))
    else:
        state.version += 1


def do_save_category(session: Session, *, code: str, name_fr: str, name_en: str, position: int = 0) -> KnowledgeCategory:
    code = _code(code, "category")
    if not name_fr.strip() or not name_en.strip():
        raise ValidationFailed("names_required")
    category = session.scalar(select(KnowledgeCategory).where(KnowledgeCategory.code == code))
    if category is None:
        category = KnowledgeCategory(code=code, name_fr=name_fr.strip()[:200], name_en=name_en.strip()[:200],
                                     position=position)
        session.add(category)
    else:
        category.name_fr, category.name_en, category.position = name_fr.strip()[:200], name_en.strip()[:200], position
    session.flush()
    _bump(session)
    return category


def embedding_text(title: str, body: str) -> str:
    return f"{title}. {first_paragraph(body, 400)}"


@dataclass(frozen=True)
class ArticleText:
    title_fr: str
    title_en: str
    body_fr: str
    body_en: str

    def checked(self) -> ArticleText:
        titles = (self.title_fr.strip(), self.title_en.strip())
        if not all(titles):
            raise ValidationFailed("article_titles_required")
        if not self.body_fr.strip() or not self.body_en.strip():
            raise ValidationFailed("article_bodies_required")
        if max(len(self.body_fr), len(self.body_en)) > MAX_BODY:
            raise ValidationFailed("article_too_long", limit=MAX_BODY)
        return ArticleText(titles[0][:MAX_TITLE], titles[1][:MAX_TITLE], self.body_fr.strip(), self.body_en.strip())


def current_version(session: Session, article: Article) -> ArticleVersion:
    version = session.scalar(select(ArticleVersion).where(ArticleVersion.article_id == article.id,
                                                          ArticleVersion.number == article.current_version))
    assert version is not None
    return version


def do_save_article(session: Session, *, code: str, text: ArticleText, now: datetime, category_code: str | None = None,
                    visibility: str = "public", motif_codes: Iterable[str] = (), author_id: str | None = None,
                    note: str | None = None, review_due_at: datetime | None = None,
                    embed: Embed = embedder.encode) -> Article:
    """Create the article, or give it a new version when its text changed (its settings change in place)."""
    code, text = _code(code, "article"), text.checked()
    try:
        seen_by = Visibility(visibility)
    except ValueError:
        raise ValidationFailed("validation_error", summary=f"visibility: {', '.join(v.value for v in Visibility)}") from None
    category = None
    if category_code:
        category = session.scalar(select(KnowledgeCategory).where(KnowledgeCategory.code == category_code))
        if category is None:
            raise ValidationFailed("unknown_category", value=category_code)
    article = session.scalar(select(Article).where(Article.code == code))
    previous = current_version(session, article) if article is not None else None
    if article is None:
        article = Article(code=code, current_version=0, created_at=now, helpful=0, unhelpful=0, archived=False)
        session.add(article)
    article.category_id = category.id if category else None
    article.visibility, article.motif_codes = seen_by, sorted({m.strip() for m in motif_codes if m.strip()})
    article.review_due_at, article.updated_at = review_due_at, now
    same = previous is not None and (previous.title_fr, previous.title_en, previous.body_fr, previous.body_en) == (
        text.title_fr, text.title_en, text.body_fr, text.body_en)
    if not same:
        vectors = embed([embedding_text(text.title_fr, text.body_fr), embedding_text(text.title_en, text.body_en)])
        session.flush()
        article.current_version += 1
        session.add(ArticleVersion(
            article_id=article.id, number=article.current_version, title_fr=text.title_fr, title_en=text.title_en,
            body_fr=text.body_fr, body_en=text.body_en, embedding_fr=vectors[0].astype(np.float32).tobytes(),
            embedding_en=vectors[1].astype(np.float32).tobytes(), author_id=author_id,
            note=(note or "")[:300] or None, created_at=now))
    session.flush()
    _bump(session)
    return article


def access_article(session: Session, article_id_or_code: str) -> Article:
    article = session.get(Article, article_id_or_code) or session.scalar(
        select(Article).where(Article.code == article_id_or_code))
    if article is None:
        raise NotFound("not_found", kind="article", id=article_id_or_code)
    return article


def do_archive_article(session: Session, *, article_id: str, archived: bool = True) -> Article:
    article = access_article(session, article_id)
    article.archived = archived
    session.flush()
    _bump(session)
    return article


def do_vote(session: Session, *, article_id: str, voter: str, language: str, helpful: bool, now: datetime,
            reason: str | None = None, comment: str | None = None) -> ArticleVote:
    """A reader's "was this helpful?"; the same reader voting again changes their vote, never doubles it."""
    article = access_article(session, article_id)
    why = None
    if reason:
        try:
            why = VoteReason(reason)
        except ValueError:
            raise ValidationFailed("validation_error", summary=f"reason: {', '.join(r.value for r in VoteReason)}") from None
    vote = session.scalar(select(ArticleVote).where(ArticleVote.article_id == article.id, ArticleVote.voter == voter))
    if vote is None:
        vote = ArticleVote(article_id=article.id, voter=voter[:64], language=language if language in LANGUAGES else "fr",
                           helpful=helpful, created_at=now)
        session.add(vote)
    elif vote.helpful != helpful:
        if vote.helpful:
            article.helpful -= 1
        else:
            article.unhelpful -= 1
    else:
        vote.reason, vote.comment = why, (comment or "").strip()[:500] or None
        session.flush()
        return vote
    vote.helpful, vote.reason, vote.comment, vote.created_at = helpful, why, (comment or "").strip()[:500] or None, now
    if helpful:
        article.helpful += 1
    else:
        article.unhelpful += 1
    session.flush()
    return vote


# The search index ---------------------------------------------------------------------------------------


def documents(session: Session) -> list[Document]:
    """Every live article's current version, as two documents (French, English)."""
    rows = session.execute(select(Article, ArticleVersion).join(
        ArticleVersion, (ArticleVersion.article_id == Article.id) & (ArticleVersion.number == Article.current_version))
        .where(Article.archived.is_(False)).order_by(Article.code)).all()
    found = []
    for article, version in rows:
        for language in LANGUAGES:
            title, body = getattr(version, f"title_{language}"), getattr(version, f"body_{language}")
            raw = getattr(version, f"embedding_{language}")
            vector = np.frombuffer(raw, dtype=np.float32) if raw else None
            found.append(Document(article.id, language, title, to_text(body), first_paragraph(body),
                                  article.visibility.value, vector))
    return found


def base_version(session: Session) -> int:
    state = session.get(KnowledgeState, 1)
    return state.version if state is not None else 0


class IndexCache:
    """This process's search index, rebuilt when the knowledge base's version moves."""

    def __init__(self, check_seconds: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._index = SearchIndex.build([])
        self._checked = 0.0
        self.check_seconds = check_seconds

    def get(self, session: Session) -> SearchIndex:
        if time.monotonic() - self._checked < self.check_seconds and self._version is not None:
            return self._index
        version = base_version(session)
        with self._lock:
            if version != self._version:
                self._index, self._version = SearchIndex.build(documents(session)), version
            self._checked = time.monotonic()
            return self._index

    def clear(self) -> None:
        with self._lock:
            self._version, self._checked = None, 0.0


def embed_query(text: str) -> np.ndarray:
    return embedder.encode([text])[0]


# Markdown files -----------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] | None = None


def do_import_articles(session: Session, *, articles: Sequence[ArticleFile], categories: dict[str, tuple[str, str]],
                       now: datetime, author_id: str | None = None, embed: Embed = embedder.encode,
                       progress: Callable[[int], None] = lambda _n: None) -> ImportReport:
    """Save the articles read from files (see ``files``), with their categories; a bad article is reported
    and skipped (its own savepoint), the others are saved."""
    report = ImportReport(problems=[])
    for code, (name_fr, name_en) in categories.items():
        do_save_category(session, code=code, name_fr=name_fr, name_en=name_en)
    for done, item in enumerate(articles, 1):
        before = session.scalar(select(Article).where(Article.code == item.code))
        version = before.current_version if before is not None else 0
        try:
            with session.begin_nested():
                saved = do_save_article(
                    session, code=item.code, now=now, category_code=item.category, visibility=item.visibility,
                    motif_codes=item.motifs, author_id=author_id, note="import", embed=embed,
                    text=ArticleText(item.titles["fr"], item.titles["en"], item.bodies["fr"], item.bodies["en"]))
        except ValidationFailed as exc:
            report.problems.append(f"{item.code}: {exc.code} {exc.details}")  # type: ignore[union-attr]
            continue
        finally:
            progress(done)
        if before is None:
            report.created += 1
        elif saved.current_version != version:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def export_articles(session: Session) -> list[ArticleFile]:
    """Every live article, current version, as files would hold it."""
    categories = {c.id: c.code for c in session.scalars(select(KnowledgeCategory))}
    found = []
    for article in session.scalars(select(Article).where(Article.archived.is_(False)).order_by(Article.code)):
        version = current_version(session, article)
        found.append(ArticleFile(article.code, {"fr": version.title_fr, "en": version.title_en},
                                 {"fr": version.body_fr, "en": version.body_en},
                                 categories.get(article.category_id or ""), article.visibility.value,
                                 list(article.motif_codes)))
    return found
