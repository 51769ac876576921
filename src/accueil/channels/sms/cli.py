"""``accueil sms``: the SMS simulator for the demo (documented in docs/cli.md).

Each command imports its work when it runs, so ``accueil --help`` does not load the whole application.
"""

from __future__ import annotations

import click

from accueil.config import get_settings


@click.group()
def sms() -> None:
    """SMS: simulate a gateway's deliveries / simuler les SMS reçus."""


@sms.command("simulate")
@click.option("--from", "sender", default=None, help="The customer's number, +33612345678 (for a message).")
@click.option("--text", default=None, help="What they write (STOP to opt out).")
@click.option("--to", "to", default="", help="Our number it was sent to (picks the brand's queue).")
@click.option("--status", type=click.Choice(["sent", "delivered", "failed"]), default=None,
              help="Instead of a message: a delivery status for one of our SMS (with --id).")
@click.option("--id", "message_id", default=None, help="The gateway's id: of the status's SMS, or of this message.")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The running accueil.")
def simulate(sender: str | None, text: str | None, to: str, status: str | None, message_id: str | None,
             url: str) -> None:
    """Post one signed delivery to a running accueil, as an SMS gateway would."""
    from accueil.channels.sms.simulator import (
        DEMO_WEBHOOK_SECRET,
        message_delivery,
        post_signed,
        status_delivery,
    )
    from accueil.core import clock

    secret = get_settings().sms_webhook_secret or DEMO_WEBHOOK_SECRET
    now = clock.now()
    if status is not None:
        if not message_id:
            raise click.UsageError("--status needs --id (the id written in the SMS outbox)")
        path, delivery = "/webhooks/sms/status", status_delivery(message_id=message_id, status=status, at=now)
    else:
        if not sender or text is None:
            raise click.UsageError("a message needs --from and --text")
        path = "/webhooks/sms"
        delivery = message_delivery(sender=sender, text=text, at=now, to=to, message_id=message_id)
    try:
        response = post_signed(url, path, delivery, secret, now=now)
    except Exception as exc:  # noqa: BLE001 - say why, in one line
        raise click.ClickException(f"could not reach {url}: {exc}") from exc
    if response.status_code >= 300:
        raise click.ClickException(f"{response.status_code}: {response.text[:300]}")
    click.echo(f"{delivery['id']}: {response.json().get('status', response.status_code)}")
