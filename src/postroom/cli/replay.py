"""``postroom replay``: deliver a window of a topic's archive again — to a subscription (as
its filter policy and raw-delivery setting say) or straight into a queue.

A dry run first says how many messages, how many FIFO groups and which time span would be
delivered. A real run is recorded on the server (who, when, what window), shows a progress
bar while the server delivers it, survives a server restart (the server resumes it), and
ends with a summary. ``postroom replays`` lists them.
"""

from __future__ import annotations

import getpass
import json
import time

import click
from tqdm import tqdm

from postroom.cli.admin_client import call, iso, parse_time, server_option

DONE = ("Completed", "Failed", "Superseded", "Cancelled")


@click.command()
@server_option
@click.option("--topic", required=True, help="The topic ARN whose archive is replayed.")
@click.option("--to", "to", required=True, help="A subscription ARN of the topic, or a queue (ARN or URL).")
@click.option("--since", required=True, help="Start of the window: ISO 8601, epoch ms, or -2h / -30m / -1d.")
@click.option("--until", default=None, help="End of the window (default: now).")
@click.option("--unrouted", is_flag=True, help="Only the messages that reached no one.")
@click.option("--rate", type=click.IntRange(min=1), default=None, help="At most this many messages per second.")
@click.option("--raw", is_flag=True, help="Into a queue: the message itself, not SNS's envelope.")
@click.option("--dry-run", is_flag=True, help="Say what would be delivered; deliver nothing.")
@click.option("--no-wait", is_flag=True, help="Start it and return; `postroom replays` shows its progress.")
def replay(server: str, topic: str, to: str, since: str, until: str | None, unrouted: bool, rate: int | None,
           raw: bool, dry_run: bool, no_wait: bool) -> None:
    """Replay a time window of TOPIC's archive to a subscription or a queue."""
    doc = {"topic": topic, "to": to, "since": parse_time(since), "until": parse_time(until), "unrouted": unrouted,
           "rate": rate, "raw": raw, "dry_run": dry_run, "requested_by": getpass.getuser()}
    answer = call(server, "POST", "/_postroom/replays", json=doc)
    if dry_run:
        w = answer["dry_run"]
        click.echo(f"dry run: {w['messages']} message(s) in {w['groups']} FIFO group(s), published "
                   f"{iso(w['first_ms'])} .. {iso(w['last_ms'])}, would be delivered to {to}")
        return
    r = answer["replay"]
    click.echo(f"replay {r['replay_id']} started: {topic} -> {to}, {iso(r['start_ms'])} .. {iso(r['end_ms'])}")
    if no_wait:
        return
    with tqdm(unit="msg", desc="replaying") as bar:
        while r["status"] not in DONE:
            time.sleep(0.5)
            r = call(server, "GET", f"/_postroom/replays/{r['replay_id']}")["replay"]
            bar.total = r["total"] or None
            bar.n = r["delivered"] + r["skipped"]
            bar.refresh()
    click.echo(f"replay {r['replay_id']}: {r['status']}: {r['delivered']} delivered, {r['skipped']} skipped by "
               f"the filter policy, of {r['total']}" + (f" ({r['failure']})" if r["failure"] else ""))
    if r["status"] != "Completed":
        raise SystemExit(1)


@click.command()
@server_option
@click.option("--arn", default=None, help="Only the replays of this subscription or topic.")
@click.option("--limit", default=50, show_default=True, type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def replays(server: str, arn: str | None, limit: int, fmt: str) -> None:
    """List replays, newest first: who asked, when, the window, the progress."""
    params: dict[str, str | int] = {"limit": limit}
    if arn:
        params["arn"] = arn
    found = call(server, "GET", "/_postroom/replays", params=params)["replays"]
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    for r in found:
        target = r["sub_arn"] or (r["queue"] or {}).get("queue_arn", "")
        click.echo(f"{r['replay_id']} {r['status']:<12} {iso(r['created_ms'])} by {r['requested_by']} ({r['origin']}) "
                   f"{r['topic_arn']} -> {target} [{iso(r['start_ms'])} .. {iso(r['end_ms'])}] "
                   f"{r['delivered']}/{r['total']}")


COMMANDS = [replay, replays]
