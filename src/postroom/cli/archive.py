"""``postroom archive``: what the topics' archives hold, and the messages that reached no one."""

from __future__ import annotations

import json

import click

from postroom.cli.admin_client import call, iso, parse_time, server_option


@click.group()
def archive() -> None:
    """Inspect the topic archives (every topic keeps what it received; see `serve --default-archive-days`)."""


@archive.command("size")
@server_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def size(server: str, fmt: str) -> None:
    """Per topic: archived messages, bytes of message data, the oldest, and how many reached no one."""
    topics = call(server, "GET", "/_postroom/archive")["topics"]
    if fmt == "json":
        click.echo(json.dumps(topics, indent=2))
        return
    click.echo(f"{'topic':60} {'messages':>10} {'bytes':>12} {'unrouted':>9}  oldest")
    for t in topics:
        click.echo(f"{t['topic_arn']:60} {t['messages']:>10} {t['bytes']:>12} {t['unrouted']:>9}  "
                   f"{iso(t['oldest_ms'])}")


@archive.command("ls")
@server_option
@click.option("--topic", default=None, help="Topic ARN (default: every topic).")
@click.option("--unrouted", is_flag=True, help="Only messages that reached no one.")
@click.option("--since", default=None, help="ISO 8601, epoch ms, or -2h / -30m / -1d.")
@click.option("--until", default=None)
@click.option("--limit", default=100, show_default=True, type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def ls(server: str, topic: str | None, unrouted: bool, since: str | None, until: str | None, limit: int,
       fmt: str) -> None:
    """List archived messages, oldest first."""
    params: dict[str, str | int] = {"limit": limit, "unrouted": int(unrouted)}
    if topic:
        params["topic"] = topic
    for key, value in (("since", parse_time(since)), ("until", parse_time(until))):
        if value is not None:
            params[key] = value
    messages = call(server, "GET", "/_postroom/archive/messages", params=params)["messages"]
    if fmt == "json":
        click.echo(json.dumps(messages, indent=2))
        return
    for m in messages:
        cause = f" [{m['unrouted']}]" if m["unrouted"] else ""
        group = f" group={m['group_id']}" if m["group_id"] else ""
        click.echo(f"{iso(m['published_ms'])} {m['message_id']} {m['topic_arn']}{group}{cause}: "
                   f"{m['message'][:80]!r}")


COMMANDS = [archive]
