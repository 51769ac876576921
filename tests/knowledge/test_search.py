"""Search quality on the demo's knowledge base, with the real embedder: customers' own words (French and
English) must find the answering article in the first five — a regression floor for each retriever and the
fusion — and anything a reader may type (operators, quotes, SQL, emojis, 10 KB) is just words."""

from __future__ import annotations

import pytest

from accueil.demo.generator import KNOWLEDGE_DIR
from accueil.knowledge.embedder import encode
from accueil.knowledge.files import read_folder
from accueil.knowledge.markdown import first_paragraph, to_text
from accueil.knowledge.search import Document, SearchIndex
from accueil.knowledge.service import embed_query, embedding_text
from tests.knowledge.questions import QUESTIONS


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    articles, _categories, problems = read_folder(KNOWLEDGE_DIR)
    assert not problems
    pairs = [(a, lang) for a in articles for lang in ("fr", "en")]
    vectors = encode([embedding_text(a.titles[lang], a.bodies[lang]) for a, lang in pairs])
    return SearchIndex.build(Document(a.code, lang, a.titles[lang], to_text(a.bodies[lang]),
                                      first_paragraph(a.bodies[lang]), a.visibility, vector)
                             for (a, lang), vector in zip(pairs, vectors, strict=True))


def recall_at_5(index: SearchIndex, mode: str) -> float:
    found = 0
    for language, question, expected in QUESTIONS:
        hits = index.search(question, language, limit=5, embed=embed_query, mode=mode)
        found += expected in [hit.document.article_id for hit in hits]
    return found / len(QUESTIONS)


def test_recall_at_5_floors_and_the_fusion_beats_words_alone(index):
    lexical, dense, hybrid = (recall_at_5(index, mode) for mode in ("lexical", "dense", "hybrid"))
    assert lexical >= 0.55 and dense >= 0.75 and hybrid >= 0.85, (lexical, dense, hybrid)
    assert hybrid >= lexical


def test_internal_articles_stay_internal_and_odd_queries_are_only_words(index):
    public = index.search("geste commercial", "fr", embed=embed_query)
    assert "procedure-interne-geste-commercial" not in [h.document.article_id for h in public]
    staff = index.search("geste commercial", "fr", embed=embed_query, visibilities=("public", "agents"))
    assert staff[0].document.article_id == "procedure-interne-geste-commercial" and staff[0].score == 1.0
    for odd in ('"colis" AND retard OR 1=1; DROP TABLE knowledge_articles; --', "colis* NEAR(retard)",
                "📦📦 où est mon colis 🤔", "colis " * 2000, "", "   ", "\x00\x01"):
        hits = index.search(odd, "fr", embed=embed_query)
        assert all(0 < hit.score <= 1 for hit in hits)
    assert index.search("colis", "de") == []  # a language the base does not have
