"""IVR administration over real HTTP: paste or upload a definition, see its menus, export it, errors kept."""

from __future__ import annotations

import json

from sqlalchemy import select

from accueil.channels.voice.models import IvrFlow
from tests.channels.voice.test_ivr import FLOW_YAML


def test_admin_imports_edits_and_exports_an_ivr(web, runtime):
    assert web("bob").get("/admin/ivr").status_code == 403
    admin = web("admin")
    page = admin.get("/admin/ivr")
    assert page.status_code == 200 and "suivi_commande" in page.text  # the starting template
    upload = admin.http.post("/admin/ivr", data={"csrf_token": admin.csrf},
                             files={"file": ("standard.yaml", FLOW_YAML.encode(), "application/yaml")})
    assert upload.status_code == 303 and upload.headers["location"] == "/admin/ivr/standard"
    shown = admin.get("/admin/ivr/standard")
    assert shown.status_code == 200
    assert "Pour suivre une commande, tapez 1." in shown.text and "<kbd>9</kbd>" in shown.text
    exported = admin.get("/admin/ivr/standard/export.json")
    assert exported.headers["content-disposition"] == 'attachment; filename="ivr-standard.json"'
    document = exported.json()
    assert document["nodes"]["refunds"]["options"]["1"]["motif"] == "remboursement"
    document["name"] = "Standard modifié"
    saved = admin.post("/admin/ivr", {"definition": json.dumps(document), "original": "standard",
                                      "has_active": "1", "active": "1", "is_default": "1"}, htmx=False)
    assert saved.status_code == 303
    with runtime.factory() as session:
        row = session.scalar(select(IvrFlow))
        assert row.name == "Standard modifié" and row.is_default and row.active
    yaml_export = admin.get("/admin/ivr/standard/export.yaml")
    assert "name: Standard modifié" in yaml_export.text


def test_a_bad_definition_is_refused_and_the_text_kept(web, runtime, cast):
    admin = web("admin")
    admin.http.post("/admin/ivr", data={"csrf_token": admin.csrf, "definition": FLOW_YAML})
    broken = FLOW_YAML.replace("{queue: tel_n1, motif: suivi_commande}", "{queue: tel_n9}")
    refused = admin.post("/admin/ivr", {"definition": broken, "original": "standard"}, htmx=False)
    assert refused.status_code == 422 and "tel_n9" in refused.text
    assert "queue: tel_n9" in refused.text  # what was typed is still there to correct
    with runtime.factory() as session:
        assert "tel_n9" not in json.dumps(session.scalar(select(IvrFlow.definition)))
    assert admin.post("/admin/ivr", {"definition": "code: [oops"}, htmx=False).status_code == 422
    assert admin.post("/admin/ivr/standard/delete", htmx=False).status_code == 303
    with runtime.factory() as session:
        assert session.scalar(select(IvrFlow)) is None
