"""The public help centre over real HTTP: categories and articles in the reader's language (``?lang=`` or
the browser's), search in customers' words, internal articles never shown, votes counted once per reader,
odd queries answered, and the contact options (a ``tel:`` link) on every page."""

from __future__ import annotations

from sqlalchemy import select

from accueil.core import clock
from accueil.knowledge import service
from accueil.knowledge.models import Article
from accueil.knowledge.service import ArticleText


def seed(runtime) -> None:
    now = clock.now()
    with runtime.factory() as session, session.begin():
        service.do_save_category(session, code="livraison", name_fr="Livraison", name_en="Delivery")
        service.do_save_article(session, code="colis-en-retard", now=now, category_code="livraison", text=ArticleText(
            "Mon colis est en retard", "My parcel is late",
            "Vérifiez d'abord le **suivi du transporteur**.\n\nSans nouvelles sous 3 jours, écrivez-nous.",
            "First check the **carrier's tracking**.\n\nWith no news within 3 days, write to us."))
        service.do_save_article(session, code="frais-de-livraison", now=now, category_code="livraison",
                                text=ArticleText("Frais de livraison", "Delivery costs", "4,90 €, offerte dès 60 €.",
                                                 "€4.90, free from €60."))
        service.do_save_article(session, code="geste", now=now, visibility="agents", text=ArticleText(
            "Geste commercial", "Goodwill gesture", "Jusqu'à 15 €.", "Up to €15."))
    runtime.knowledge_index.clear()


def test_the_help_centre_in_french_then_english_with_contact_options(http, runtime, cast, monkeypatch):
    monkeypatch.setattr(runtime.settings, "help_phone_number", "+33320000000")
    seed(runtime)
    home = http.get("/help", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert home.status_code == 200 and "Livraison" in home.text and "Mon colis est en retard" in home.text
    assert "Geste commercial" not in home.text and "Rechercher dans le centre d" in home.text
    assert 'href="tel:+33320000000"' in home.text and "03 20 00 00 00" in home.text
    assert 'data-option="callback"' in home.text and 'data-option="form"' in home.text
    found = http.get("/help/search", params={"q": "mon colis n'arrive pas"})
    assert found.status_code == 200 and found.text.index("colis-en-retard") < found.text.index("frais-de-livraison")
    for odd in ('"colis" OR 1=1; --', "📦", "x" * 10_000, "", "<script>alert(1)</script>"):
        page = http.get("/help/search", params={"q": odd})
        assert page.status_code == 200 and "<script>alert(1)" not in page.text
    nothing = http.get("/help/search", params={"q": "geste commercial"})
    assert "/help/articles/geste" not in nothing.text
    article = http.get("/help/articles/colis-en-retard")
    assert "<strong>suivi du transporteur</strong>" in article.text and 'id="vote"' in article.text
    assert http.get("/help/articles/geste").status_code == 404
    assert http.get("/help/articles/nope").status_code == 404
    switched = http.get("/help?lang=en", follow_redirects=False)
    assert switched.status_code == 303 and "accueil_lang=en" in switched.headers.get("set-cookie", "").replace(" ", "")
    http.cookies.set("accueil_lang", "en")
    english = http.get("/help/articles/colis-en-retard")
    assert "My parcel is late" in english.text and "Was this helpful?" in english.text


def test_votes_count_once_per_reader_and_need_our_origin(http, server_url, runtime, cast):
    seed(runtime)
    http.get("/help")  # the reader gets their cookie
    origin = {"Origin": server_url}
    first = http.post("/help/articles/colis-en-retard/vote", data={"helpful": "yes"}, headers=origin,
                      follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].endswith("?voted=yes")
    again = http.post("/help/articles/colis-en-retard/vote", data={"helpful": "no", "reason": "unclear"},
                      headers=origin, follow_redirects=False)
    assert again.status_code == 303
    forged = http.post("/help/articles/colis-en-retard/vote", data={"helpful": "yes"},
                       headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert forged.status_code == 403
    assert http.post("/help/articles/geste/vote", data={"helpful": "yes"}, headers=origin).status_code == 404
    with runtime.factory() as session:
        article = session.scalar(select(Article).where(Article.code == "colis-en-retard"))
        assert (article.helpful, article.unhelpful) == (0, 1)  # the reader changed their mind: one vote
    thanks = http.get("/help/articles/colis-en-retard?voted=no")
    assert 'id="vote-thanks"' in thanks.text
