"""Hybrid search over the knowledge base: BM25 on stemmed words, fused with dense retrieval.

- **BM25** (bm25s, Snowball stemmers for French and English, each language's stop words): finds the
  article that uses the reader's words, even rare ones (a product name, "Colissimo").
- **Dense** (``embedder``: multilingual sentence vectors of the title and the answer paragraph): finds the
  article that says the same thing in other words ("mon colis n'est pas arrivé" → "Suivre ma livraison").
- **Fusion** by reciprocal rank (RRF, k = 60): robust to the two scores having nothing in common.

Pure: documents in, ranked hits out; the index is immutable and built per language. A query is only words:
operators, quotes or SQL mean nothing here, so they cannot break or inject anything; it is cut at
``MAX_QUERY_CHARS``.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import bm25s
import numpy as np
import Stemmer

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

RRF_K = 60
CANDIDATES = 50  # taken from each retriever before fusing
MAX_QUERY_CHARS = 500
LANGUAGES = {"fr": ("french", "fr"), "en": ("english", "en")}


@dataclass(frozen=True)
class Document:
    article_id: str
    language: str
    title: str
    text: str  # the whole article as plain text (BM25)
    excerpt: str  # its answer paragraph (shown, and embedded with the title)
    visibility: str = "public"
    embedding: np.ndarray | None = None  # of "title. excerpt"


@dataclass(frozen=True)
class Hit:
    document: Document
    score: float  # the fused score, 1.0 for first in both lists
    lexical_rank: int | None
    dense_rank: int | None


def fold(text: str) -> str:
    """Lower case without accents: "Où" and "ou" are the same word to a reader typing fast."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class _LanguageIndex:
    documents: list[Document]
    stemmer: Stemmer.Stemmer
    stopwords: str
    bm25: bm25s.BM25 | None
    vectors: np.ndarray  # (n, d), zero rows for documents without an embedding

    def lexical(self, query: str, allowed: np.ndarray) -> list[int]:
        if self.bm25 is None:
            return []
        tokens = bm25s.tokenize([fold(query)], stopwords=self.stopwords, stemmer=self.stemmer, return_ids=False,
                                show_progress=False)[0]
        known = [token for token in tokens if token in self.bm25.vocab_dict]
        if not known:
            return []
        ids, scores = self.bm25.retrieve([known], k=len(self.documents), show_progress=False)
        ranked = [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0 and allowed[int(i)]]
        return ranked[:CANDIDATES]

    def dense(self, vector: np.ndarray | None, allowed: np.ndarray) -> list[int]:
        if vector is None or not len(self.documents):
            return []
        similarity = self.vectors @ vector
        similarity[~allowed] = -np.inf
        order = np.argsort(-similarity)[:CANDIDATES]
        return [int(i) for i in order if np.isfinite(similarity[i]) and similarity[i] > 0]


@dataclass
class SearchIndex:
    languages: dict[str, _LanguageIndex] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Iterable[Document]) -> SearchIndex:
        grouped: dict[str, list[Document]] = {code: [] for code in LANGUAGES}
        for document in documents:
            grouped.setdefault(document.language, []).append(document)
        index = cls()
        for code, docs in grouped.items():
            stemmer_name, stopwords = LANGUAGES.get(code, ("english", "en"))
            stemmer = Stemmer.Stemmer(stemmer_name)
            bm25 = None
            if docs:
                tokens = bm25s.tokenize([fold(f"{d.title} {d.title} {d.text}") for d in docs], stopwords=stopwords,
                                        stemmer=stemmer, show_progress=False)
                bm25 = bm25s.BM25()
                bm25.index(tokens, show_progress=False)
            width = next((d.embedding.shape[0] for d in docs if d.embedding is not None), 1)
            vectors = np.zeros((len(docs), width), dtype=np.float32)
            for row, document in enumerate(docs):
                if document.embedding is not None:
                    vectors[row] = document.embedding
            index.languages[code] = _LanguageIndex(docs, stemmer, stopwords, bm25, vectors)
        return index

    def __len__(self) -> int:
        return sum(len(language.documents) for language in self.languages.values())

    def search(self, query: str, language: str, *, limit: int = 10, visibilities: Sequence[str] = ("public",),
               embed: Callable[[str], np.ndarray] | None = None, mode: str = "hybrid") -> list[Hit]:
        """The best ``limit`` documents in ``language`` the reader may see; ``mode``: hybrid, lexical, dense."""
        query = " ".join((query or "")[:MAX_QUERY_CHARS].split())
        found = self.languages.get(language)
        if not query or found is None or not found.documents:
            return []
        allowed = np.array([d.visibility in visibilities for d in found.documents], dtype=bool)
        lexical = found.lexical(query, allowed) if mode in ("hybrid", "lexical") else []
        vector = embed(query) if embed is not None and mode in ("hybrid", "dense") else None
        dense = found.dense(vector, allowed) if vector is not None else []
        scores: dict[int, float] = {}
        for ranking in (lexical, dense):
            for rank, row in enumerate(ranking):
                scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = 2.0 / (RRF_K + 1) if lexical and dense else 1.0 / (RRF_K + 1)
        lexical_rank = {row: rank + 1 for rank, row in enumerate(lexical)}
        dense_rank = {row: rank + 1 for rank, row in enumerate(dense)}
        ordered = sorted(scores, key=lambda row: (-scores[row], row))[:limit]
        return [Hit(found.documents[row], round(scores[row] / best, 4), lexical_rank.get(row), dense_rank.get(row))
                for row in ordered]
