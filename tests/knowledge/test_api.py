"""``/api/v1/knowledge`` over real HTTP: anyone finds the public articles ranked, an agent's token also finds
the internal ones, odd queries are answered (never an error page), an article reads as sanitised HTML."""

from __future__ import annotations

from accueil.core import clock
from accueil.knowledge import service
from accueil.knowledge.service import ArticleText


def test_search_and_read_public_and_internal_articles(http, runtime, cast):
    with runtime.factory() as session, session.begin():
        service.do_save_article(session, code="colis-en-retard", now=clock.now(), text=ArticleText(
            "Mon colis est en retard", "My parcel is late",
            "Vérifiez le suivi du transporteur. <script>x</script>", "Check the carrier's tracking."))
        service.do_save_article(session, code="geste", now=clock.now(), visibility="agents", text=ArticleText(
            "Procédure : geste commercial", "Procedure: goodwill gesture", "Jusqu'à 15 € sans accord.",
            "Up to €15 without approval."))
    runtime.knowledge_index.clear()
    found = http.get("/api/v1/knowledge/search", params={"q": "mon colis n'arrive pas", "lang": "fr"}).json()
    assert found["items"][0]["code"] == "colis-en-retard" and found["items"][0]["title"] == "Mon colis est en retard"
    assert set(found["items"][0]) == {"id", "code", "title", "excerpt", "score"}
    english = http.get("/api/v1/knowledge/search", params={"q": "late parcel", "lang": "en"}).json()
    assert english["items"][0]["title"] == "My parcel is late"
    hidden = http.get("/api/v1/knowledge/search", params={"q": "geste commercial"}).json()
    assert "geste" not in [item["code"] for item in hidden["items"]]
    staff = http.get("/api/v1/knowledge/search", params={"q": "geste commercial"}, headers=cast.auth("alice")).json()
    assert staff["items"][0]["code"] == "geste"
    for odd in ('"colis" OR 1=1; --', "📦 colis", "x" * 9_000, ""):
        assert http.get("/api/v1/knowledge/search", params={"q": odd}).status_code == 200
    assert http.get("/api/v1/knowledge/search", params={"q": "x" * 10_001}).status_code == 422
    assert http.get("/api/v1/knowledge/search", params={"q": "colis", "lang": "de"}).status_code == 422
    article = http.get("/api/v1/knowledge/articles/colis-en-retard", params={"lang": "fr"}).json()
    assert article["version"] == 1 and "<script" not in article["html"] and "suivi" in article["html"]
    assert http.get("/api/v1/knowledge/articles/geste").status_code == 404  # internal: not for the public
    assert http.get("/api/v1/knowledge/articles/geste", headers=cast.auth("alice")).status_code == 200
    assert http.get("/api/v1/knowledge/articles/geste", headers={"Authorization": "Bearer nope"}).status_code == 404
