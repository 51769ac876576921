"""The knowledge base: articles in French and English, their versions, categories and readers' votes.

An article's text lives in its versions (one row per save, with its author and date: nothing is ever
overwritten); ``current_version`` says which one readers see. Each version keeps the embeddings of its
two languages, computed when it is saved, so rebuilding a search index never re-embeds the base. The
``knowledge_state`` row's ``version`` goes up at every change: each process rebuilds its index when it
sees a new one.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class Visibility(enum.StrEnum):
    public = "public"  # the help centre, the chatbot, everyone
    partner = "partner"  # agents, including the outsourced level-1 partner's
    agents = "agents"  # in-house agents only


class VoteReason(enum.StrEnum):
    unclear = "unclear"
    outdated = "outdated"
    not_my_question = "not_my_question"
    incomplete = "incomplete"
    other = "other"


class KnowledgeCategory(IdMixin, Base):
    __tablename__ = "knowledge_categories"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Article(IdMixin, Base):
    __tablename__ = "knowledge_articles"

    code: Mapped[str] = mapped_column(String(120), unique=True)  # the address: /help/articles/<code>
    category_id: Mapped[str | None] = mapped_column(ForeignKey("knowledge_categories.id"), index=True)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.public)
    motif_codes: Mapped[list[Any]] = mapped_column(default=list)  # the motifs it answers
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    review_due_at: Mapped[datetime | None]
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    unhelpful: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class ArticleVersion(IdMixin, Base):
    __tablename__ = "knowledge_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_knowledge_version"),)

    article_id: Mapped[str] = mapped_column(ForeignKey("knowledge_articles.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title_fr: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_fr: Mapped[str] = mapped_column(Text)  # Markdown, rendered and sanitised when shown
    body_en: Mapped[str] = mapped_column(Text)
    embedding_fr: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 × 512
    embedding_en: Mapped[bytes | None] = mapped_column(LargeBinary)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(300))  # what changed
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class ArticleVote(IdMixin, Base):
    """"Was this helpful?" — one vote per reader session and article (a second one replaces the first)."""

    __tablename__ = "knowledge_votes"
    __table_args__ = (Index("ix_knowledge_votes_article", "article_id", "created_at"),
                      UniqueConstraint("article_id", "voter", name="uq_knowledge_vote_voter"))

    article_id: Mapped[str] = mapped_column(ForeignKey("knowledge_articles.id"))
    voter: Mapped[str] = mapped_column(String(64))  # a hash of the reader's session, never an address
    language: Mapped[str] = mapped_column(String(2))
    helpful: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[VoteReason | None] = mapped_column(enum_column(VoteReason))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class KnowledgeState(Base):
    """One row: the version of the whole base, raised by every change (search indexes follow it)."""

    __tablename__ = "knowledge_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
