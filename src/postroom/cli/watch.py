"""CLI: ``postroom watch -f postroom.yaml`` — the route SLO (see :mod:`postroom.topology.watch`).

Every ``--interval`` seconds: drift against the file, a probe through every declared route, dead-letter
queues, shrinking subscriber sets and (on postroom) the delivery audit. One log line per change of
state; ``--listen`` serves the state as JSON (``/``, ``/status``) and Prometheus metrics (``/metrics``);
``--webhook`` and ``--on-change`` hear of every change. ``--once`` runs one round and exits 0 when
healthy, 1 when something is wrong (for cron and CI). SIGTERM / Ctrl-C stop it (exit 0).
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from postroom.cli.aws_options import aws_options, target_from


def _listen(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected HOST:PORT, e.g. 127.0.0.1:9799") from None
    if not 0 <= number <= 65535:
        raise click.BadParameter(f"{value!r}: the port must be 0–65535")
    return host or "127.0.0.1", number


def _echo(line: str) -> None:
    click.echo(line)


def _render(status: dict[str, object]) -> str:
    lines: list[str] = []
    for r in status["routes"]:  # type: ignore[attr-defined]
        mark = {"up": "✓", "down": "✗", "unprobed": "–"}[r["status"]]
        detail = (f"up ({r['latency_ms']:.0f} ms, answered by {r['received_by']})" if r["status"] == "up"
                  else f"{r['status']}: {r['reason']}")
        lines.append(f"  {mark} route {r['route']}: {detail}")
    for f in status["findings"]:  # type: ignore[attr-defined]
        if f["kind"] == "ROUTE-DOWN":
            continue
        lines.append(f"  {'·' if f['severity'] == 'info' else '✗'} {f['kind']} {f['subject']}: {f['message']}")
    lines.append(f"  audit: {status['audit']}")
    lines.append("watch: OK" if status["healthy"] else "watch: FAILED")
    return "\n".join(lines)


@click.command()
@click.option("-f", "--file", "file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The postroom.yaml whose routes to watch (read again when it changes).")
@click.option("--env", default=None, help="Environment of the file.")
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(0.1, None),
              help="Seconds from one round's start to the next.")
@click.option("--probe-timeout", default=15.0, show_default=True, type=click.FloatRange(0.5, None),
              help="Seconds a round waits for a route's probe reply before calling the route down.")
@click.option("--probe/--no-probe", default=True, show_default=True,
              help="Send a probe through every declared route (--no-probe: drift, DLQs and audit only).")
@click.option("--consume", "consume", multiple=True, metavar="QUEUE-GLOB",
              help="Queues nobody reads (no postroom.consumer attached): watch answers their probes itself. "
                   "Repeatable; globs ('stg-*'). Never name a queue an application reads.")
@click.option("--listen", default=None, metavar="HOST:PORT",
              help="Serve JSON at / and /status and Prometheus metrics at /metrics.")
@click.option("--webhook", default=None, metavar="URL", help="POST every change here as JSON (retried with backoff).")
@click.option("--on-change", "on_change", default=None, metavar="COMMAND",
              help="Run COMMAND (sh -c) for every change: the change as JSON on stdin and in POSTROOM_WATCH_* "
                   "environment variables.")
@click.option("--once", is_flag=True, help="One round; exit 0 healthy, 1 findings.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With --once: the report's format.")
@click.option("--audit-url", default=None, metavar="URL",
              help="postroom server whose delivery audit to read (default: the endpoint, when it is postroom).")
@click.option("--no-audit", is_flag=True, help="Do not read the delivery audit.")
@click.option("--audit-window", default=300.0, show_default=True, type=click.FloatRange(60, None),
              help="Seconds of delivery history each round's audit covers.")
@aws_options
def watch(file: Path, env: str | None, interval: float, probe_timeout: float, probe: bool, consume: tuple[str, ...],
          listen: str | None, webhook: str | None, on_change: str | None, once: bool, fmt: str,
          audit_url: str | None, no_audit: bool, audit_window: float, endpoint_url: str | None, region: str | None,
          profile: str | None) -> None:
    """Watch every declared route of FILE: drift, a probe per route, DLQs, the delivery audit.

    Logs one line per change of state. Worst-case detection of a broken route: INTERVAL + PROBE-TIMEOUT."""
    from postroom.topology._problems import SpecError
    from postroom.topology.loader import load
    from postroom.topology.watch import WatchConfig, Watcher
    from postroom.topology.watch_notify import CommandSink, Sink, WebhookSink

    address = _listen(listen)
    try:
        declared = load(file, env)
    except SpecError as e:
        click.echo(str(e), err=True)
        raise SystemExit(1) from e
    aws = target_from(endpoint_url, region, profile)
    config = WatchConfig(file=file, aws=aws, env=env, interval=interval, probe=probe, probe_timeout=probe_timeout,
                         consume=consume, audit="off" if no_audit else "auto", audit_url=audit_url,
                         audit_window=audit_window)
    context = {"endpoint": config.where, "file": str(file), "environment": env}
    sinks: list[Sink] = []
    if webhook:
        sinks.append(WebhookSink(webhook, _echo, context))
    if on_change:
        sinks.append(CommandSink(on_change, _echo, context))
    log = (lambda _line: None) if once else _echo
    watcher = Watcher(config, declared, log=log, listeners=list(sinks))
    server = None
    if address is not None:
        from postroom.topology.watch_http import StatusServer

        server = StatusServer(address[0], address[1], watcher, sinks).start()
    routes = len(declared.topology.subscriptions)
    if not once:
        click.echo(f"postroom watch: {file}{f' ({env})' if env else ''} against {config.where}: {routes} route(s) "
                   f"every {interval:g} s; worst-case detection {config.worst_case_detection:g} s"
                   + (f"; status on http://{server.host}:{server.port}/" if server else ""))
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        watcher.run(stop, rounds=1 if once else None)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for sink in sinks:
            sink.close(timeout=30.0 if once else 5.0)
        if server is not None:
            server.stop()
    if once:
        status = watcher.status()
        click.echo(json.dumps(status, indent=2, ensure_ascii=False) if fmt == "json" else _render(status))
        raise SystemExit(0 if status["healthy"] else 1)
    click.echo("postroom watch: stopped")


COMMANDS = [watch]
