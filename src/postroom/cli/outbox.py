"""``postroom outbox sms|email|push``: what SNS would have sent by SMS, email or mobile push.

postroom sends no text message, email or push notification; each one is kept in the store's
notification outbox (the last 1,000 of each kind) and read here from the server's admin API
(``GET /_postroom/outbox/<kind>``), newest last. The format of an entry is described in
``postroom.core.sns.notifications``."""

from __future__ import annotations

import json
import os

import click

from postroom.cli.admin_client import DEFAULT_SERVER, call


@click.command()
@click.argument("kind", type=click.Choice(["sms", "email", "push"]))
@click.option("--server", "--endpoint-url", "server",
              default=lambda: os.environ.get("POSTROOM_SERVER", DEFAULT_SERVER),
              show_default="$POSTROOM_SERVER or " + DEFAULT_SERVER, help="The postroom server (any node).")
@click.option("--destination", default=None, help="Only this phone number, email address or device token.")
@click.option("--limit", type=click.IntRange(1, 1000), default=None, help="Only the newest N entries.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def outbox(kind: str, server: str, destination: str | None, limit: int | None, fmt: str) -> None:
    """Show what SNS would have sent by SMS, email or mobile push (newest last)."""
    params: dict[str, str | int] = {}
    if destination:
        params["destination"] = destination
    if limit is not None:
        params["limit"] = limit
    entries = call(server, "GET", f"/_postroom/outbox/{kind}", params=params)
    if fmt == "json":
        click.echo(json.dumps(entries, indent=2))
        return
    for e in entries:
        head = f"{e['timestamp']}  {e['type']:<24} {e['destination']}"
        if e.get("subject"):
            head += f"  subject: {e['subject']}"
        if e.get("platform"):
            head += f"  [{e['platform']}]"
        click.echo(head)
        click.echo("    " + str(e["message"]).replace("\n", "\n    "))
    if not entries:
        click.echo(f"no {kind} sent")


COMMANDS = [outbox]
