"""``accueil whatsapp``: message templates, and the simulator that plays Meta for the demo.

Each command imports its work when it runs, so ``accueil --help`` does not load the whole application.
"""

from __future__ import annotations

import click

from accueil.config import get_settings


@click.group()
def whatsapp() -> None:
    """WhatsApp Business: templates and the simulator / modèles et simulateur WhatsApp."""


@whatsapp.group()
def template() -> None:
    """Message templates approved by Meta (the only messages allowed outside the 24-hour window)."""


@template.command("add")
@click.argument("name")
@click.option("--language", type=click.Choice(["fr", "en"]), required=True, help="The template's language at Meta.")
@click.option("--body", required=True, help="Its text, variables written {{1}}, {{2}}…")
@click.option("--category", type=click.Choice(["utility", "marketing", "authentication"]), default="utility",
              show_default=True, help="Meta's category.")
@click.option("--approved/--not-approved", default=False, show_default=True,
              help="Meta approved it (only approved templates can be sent).")
def template_add(name: str, language: str, body: str, category: str, approved: bool) -> None:
    """Register template NAME as it is named at Meta."""
    from accueil.channels.whatsapp.templates import do_add_template
    from accueil.core.errors import AccueilError
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    try:
        with runtime.factory() as session, session.begin():
            do_add_template(session, name=name, language=language, body=body, category=category, approved=approved)
    except AccueilError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"template {name} ({language}) added, {'approved' if approved else 'not approved'}")


@template.command("approve")
@click.argument("name")
@click.option("--language", type=click.Choice(["fr", "en"]), required=True, help="Which language version.")
@click.option("--revoke", is_flag=True, help="Mark it not approved (Meta paused or rejected it).")
def template_approve(name: str, language: str, revoke: bool) -> None:
    """Record Meta's approval of template NAME (or its withdrawal)."""
    from accueil.channels.whatsapp.templates import do_set_approved, template_by_name
    from accueil.core.errors import AccueilError
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    try:
        with runtime.factory() as session, session.begin():
            do_set_approved(session, template=template_by_name(session, name, language), approved=not revoke)
    except AccueilError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"template {name} ({language}) {'not approved' if revoke else 'approved'}")


@template.command("list")
def template_list() -> None:
    """The templates, their language, category and approval."""
    from accueil.channels.whatsapp.templates import templates
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    with runtime.read_factory() as session:
        for item in templates(session):
            mark = "approved" if item.approved else "not approved"
            click.echo(f"{item.name}\t{item.language}\t{item.category}\t{mark}\t{item.body}")


@whatsapp.command("simulate")
@click.option("--from", "sender", required=True, help="The customer's number, +33612345678.")
@click.option("--text", default=None, help="What they write.")
@click.option("--name", default=None, help="Their WhatsApp profile name.")
@click.option("--location", default=None, help="A location they share instead: LATITUDE,LONGITUDE.")
@click.option("--button", default=None, help="A quick-reply button they tap instead (its text).")
@click.option("--status", type=click.Choice(["sent", "delivered", "read", "failed"]), default=None,
              help="Instead of a message: a status of one of our messages (with --wamid).")
@click.option("--wamid", default=None, help="The message id: of the status's message, or of the simulated one.")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The running accueil.")
def simulate(sender: str, text: str | None, name: str | None, location: str | None, button: str | None,
             status: str | None, wamid: str | None, url: str) -> None:
    """Post a signed Cloud API delivery to a running accueil, as Meta would (the demo's WhatsApp)."""
    import json

    from accueil.channels.whatsapp import simulator
    from accueil.core import clock

    secret = get_settings().whatsapp_app_secret or simulator.DEMO_APP_SECRET
    wa_id = sender.strip().removeprefix("whatsapp:").lstrip("+").replace(" ", "")
    if status is not None:
        if not wamid:
            raise click.UsageError("--status needs --wamid")
        delivery = simulator.status_delivery(wamid=wamid, status=status, at=clock.now(), recipient=wa_id)
    else:
        point = None
        if location is not None:
            try:
                lat, lon = (float(part) for part in location.split(","))
            except ValueError:
                raise click.UsageError("--location LATITUDE,LONGITUDE") from None
            point = (lat, lon)
        if text is None and point is None and button is None:
            raise click.UsageError("give --text, --location or --button")
        delivery = simulator.message_delivery(wa_id=wa_id, at=clock.now(), name=name, text=text, location=point,
                                              button=button, wamid=wamid)
    response = simulator.post_signed(url, delivery, secret)
    click.echo(f"{response.status_code} {json.dumps(response.json(), ensure_ascii=False)}")
    if response.status_code != 200:
        raise SystemExit(1)
