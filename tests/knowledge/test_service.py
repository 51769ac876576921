"""The knowledge base's write path on both databases: versions (author, note; an unchanged save writes
nothing), the base's version that search indexes follow, votes that change but never double, Markdown files
imported (bad ones reported, the rest saved) and exported back identically, sanitised rendering."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sqlalchemy import func, select

from accueil.core import clock
from accueil.core.errors import ValidationFailed
from accueil.knowledge import service
from accueil.knowledge.files import files_of, read_folder
from accueil.knowledge.markdown import to_html
from accueil.knowledge.models import Article, ArticleVersion
from accueil.knowledge.service import ArticleText, IndexCache


def fake_embed(texts):
    """Deterministic unit vectors (the real embedder is tested on its own)."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        vector = np.random.default_rng(seed).standard_normal(512).astype(np.float32)
        rows.append(vector / np.linalg.norm(vector))
    return np.array(rows)


TEXT = ArticleText("Suivre ma commande", "Track my order", "Elle part sous 24 h.", "It leaves within 24 h.")


def test_versions_and_the_base_version(runtime, cast):
    now = clock.now()
    with runtime.factory() as session, session.begin():
        service.do_save_category(session, code="commandes", name_fr="Commandes", name_en="Orders")
        article = service.do_save_article(session, code="suivre", text=TEXT, now=now, category_code="commandes",
                                          motif_codes=["suivi_commande", " "], author_id=cast.users["bob"],
                                          embed=fake_embed)
        first = service.base_version(session)
    with runtime.factory() as session, session.begin():
        same = service.do_save_article(session, code="suivre", text=TEXT, now=now, category_code="commandes",
                                       motif_codes=["suivi_commande"], embed=fake_embed)
        assert same.current_version == 1  # nothing changed in the text: no new version
        changed = ArticleText(TEXT.title_fr, TEXT.title_en, "Elle part sous 48 h.", TEXT.body_en)
        service.do_save_article(session, code="suivre", text=changed, now=now, note="délai corrigé",
                                motif_codes=["suivi_commande"],
                                author_id=cast.users["alice"], embed=fake_embed)
        assert service.base_version(session) > first
    with runtime.factory() as session:
        article = session.get(Article, article.id)
        assert article.current_version == 2 and article.motif_codes == ["suivi_commande"]
        versions = session.scalars(select(ArticleVersion).order_by(ArticleVersion.number)).all()
        assert [v.body_fr for v in versions] == ["Elle part sous 24 h.", "Elle part sous 48 h."]
        assert versions[1].note == "délai corrigé" and versions[1].author_id == cast.users["alice"]
        assert len(np.frombuffer(versions[1].embedding_fr, dtype=np.float32)) == 512
        cache = IndexCache(check_seconds=0)
        assert len(cache.get(session)) == 2  # one document per language
    with runtime.factory() as session, session.begin():
        service.do_archive_article(session, article_id="suivre")
    with runtime.factory() as session:
        assert len(cache.get(session)) == 0  # the cache saw the new version of the base


@pytest.mark.parametrize("bad, code", [
    (ArticleText("", "x", "a", "b"), "article_titles_required"),
    (ArticleText("x", "x", "a", " "), "article_bodies_required"),
    (ArticleText("x", "x", "a" * 100_001, "b"), "article_too_long"),
])
def test_bad_articles_are_refused_with_their_reason(runtime, bad, code):
    with runtime.factory() as session, session.begin():
        with pytest.raises(ValidationFailed) as refused:
            service.do_save_article(session, code="x", text=bad, now=clock.now(), embed=fake_embed)
        assert refused.value.code == code
        with pytest.raises(ValidationFailed):
            service.do_save_article(session, code="pas bon!", text=TEXT, now=clock.now(), embed=fake_embed)
        with pytest.raises(ValidationFailed):
            service.do_save_article(session, code="x", text=TEXT, now=clock.now(), category_code="nope",
                                    embed=fake_embed)


def test_votes_change_but_never_double(runtime):
    now = clock.now()
    with runtime.factory() as session, session.begin():
        article = service.do_save_article(session, code="suivre", text=TEXT, now=now, embed=fake_embed)
        service.do_vote(session, article_id=article.id, voter="s1", language="fr", helpful=True, now=now)
        service.do_vote(session, article_id=article.id, voter="s1", language="fr", helpful=True, now=now)
        service.do_vote(session, article_id=article.id, voter="s2", language="en", helpful=False, now=now,
                        reason="outdated", comment="le délai a changé")
        service.do_vote(session, article_id=article.id, voter="s1", language="fr", helpful=False, now=now,
                        reason="unclear")
        with pytest.raises(ValidationFailed):
            service.do_vote(session, article_id=article.id, voter="s3", language="fr", helpful=False, now=now,
                            reason="because")
    with runtime.factory() as session:
        article = session.get(Article, article.id)
        assert (article.helpful, article.unhelpful) == (0, 2)


def test_markdown_files_imported_and_exported_back(runtime, tmp_path):
    (tmp_path / "categories.yml").write_text("livraison: {fr: Livraison, en: Delivery}\n")
    (tmp_path / "colis.fr.md").write_text("---\ntitle: Mon colis\ncategory: livraison\nmotifs: [livraison]\n---\n"
                                          "Il arrive **vite**.\n")
    (tmp_path / "colis.en.md").write_text("---\ntitle: My parcel\ncategory: livraison\n---\nIt comes *fast*.\n")
    (tmp_path / "seul.fr.md").write_text("---\ntitle: Seul\n---\nSans anglais.\n")
    (tmp_path / "casse.fr.md").write_text("pas de front matter\n")
    (tmp_path / "Mauvais Nom.md").write_text("---\ntitle: x\n---\nx\n")
    articles, categories, problems = read_folder(tmp_path)
    assert [a.code for a in articles] == ["colis"] and categories == {"livraison": ("Livraison", "Delivery")}
    assert len(problems) == 3 and any("seul: no en version" in p for p in problems)
    with runtime.factory() as session, session.begin():
        report = service.do_import_articles(session, articles=articles, categories=categories, now=clock.now(),
                                            embed=fake_embed)
        assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    with runtime.factory() as session, session.begin():
        again = service.do_import_articles(session, articles=articles, categories=categories, now=clock.now(),
                                           embed=fake_embed)
        assert (again.created, again.unchanged) == (0, 1)
        exported = service.export_articles(session)
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 1
    out = tmp_path / "out"
    out.mkdir()
    for name, content in files_of(exported[0]):
        (out / name).write_text(content)
    assert read_folder(out)[0] == articles


def test_rendering_is_sanitised():
    html = to_html("# Titre\n\n<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.fr)")
    assert "<script" not in html and "javascript:" not in html.replace("[x](javascript:alert(1))", "")
    assert '<a href="https://example.fr" rel="noopener noreferrer nofollow">ok</a>' in html and "<h2>Titre</h2>" in html
