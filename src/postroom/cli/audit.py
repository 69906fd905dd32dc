"""``postroom audit``: per topic and per route, what was published, delivered, filtered out,
failed and unrouted — and the findings an operator must hear about. Exits 1 when there is
a finding, so it can run from cron or CI."""

from __future__ import annotations

import json

import click

from postroom.cli.admin_client import call, parse_time, server_option


@click.command()
@server_option
@click.option("--topic", default=None, help="Only this topic ARN.")
@click.option("--since", default=None, help="ISO 8601, epoch ms, or -2h / -30m / -1d (default: all time).")
@click.option("--until", default=None, help="Default: now.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def audit(server: str, topic: str | None, since: str | None, until: str | None, fmt: str) -> None:
    """Reconcile what was published with what reached each route."""
    params: dict[str, str | int] = {}
    if topic:
        params["topic"] = topic
    for key, value in (("since", parse_time(since)), ("until", parse_time(until))):
        if value is not None:
            params[key] = value
    report = call(server, "GET", "/_postroom/audit", params=params)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"{'topic / route':80} {'published':>9} {'delivered':>9} {'filtered':>8} {'failed':>6} "
                   f"{'unrouted':>8}")
        routes = report["routes"]
        for arn, t in sorted(report["topics"].items()):
            unrouted = t["no_subscription"] + t["unrouted_filtered"] + t["unrouted_failed"]
            click.echo(f"{arn:80} {t['published']:>9} {'':>9} {'':>8} {'':>6} {unrouted:>8}")
            for sub_arn, r in sorted(routes.items()):
                if r["topic_arn"] == arn:
                    click.echo(f"  {sub_arn.rsplit(':', 1)[-1]:78} {'':>9} {r['delivered']:>9} "
                               f"{r['filtered_out']:>8} {r['failed']:>6}")
        for f in report["findings"]:
            click.echo(f"{f['code']}: {f['message']}")
        if not report["findings"]:
            click.echo("no findings")
    if report["findings"]:
        raise SystemExit(1)


COMMANDS = [audit]
