"""`postroom watch --listen HOST:PORT`: the watcher's state over HTTP (stdlib ``http.server``,
one thread per request) — JSON at ``/`` and ``/status``, Prometheus text at ``/metrics``
(prometheus-client, a registry of its own, read from the watcher's state at each scrape).

Metrics (labels in braces):

- ``postroom_watch_healthy`` — 1 when no route is down and no finding (but info) is active;
- ``postroom_watch_endpoint_up`` — 1 when the last round read the endpoint;
- ``postroom_watch_route_up{topic,queue}`` — 1 confirmed by its probe, 0 not (probed routes only);
- ``postroom_watch_route_probe_latency_seconds{topic,queue}`` — the last confirmed probe's
  publish → reply time;
- ``postroom_watch_findings{kind,severity}`` — active findings per kind;
- ``postroom_watch_finding_active{kind,subject,severity}`` — 1 per active finding;
- ``postroom_watch_audit_up`` — 1 audit read, 0 not (absent when the audit is skipped or off);
- ``postroom_watch_rounds_total``, ``postroom_watch_changes_total``,
  ``postroom_watch_notifications_failed_total{via}``;
- ``postroom_watch_round_duration_seconds``, ``postroom_watch_last_round_timestamp_seconds``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from postroom.topology.watch import Watcher
from postroom.topology.watch_notify import Sink


class WatchCollector:
    """Prometheus families built from the watcher's state at each scrape."""

    def __init__(self, watcher: Watcher, sinks: list[Sink] | None = None) -> None:
        self.watcher = watcher
        self.sinks = list(sinks or [])

    def collect(self) -> Iterator[Metric]:
        state, changes = self.watcher.snapshot()
        obs = state.last
        healthy = GaugeMetricFamily("postroom_watch_healthy", "1 when no route is down and no finding is active")
        endpoint = GaugeMetricFamily("postroom_watch_endpoint_up", "1 when the last round read the endpoint")
        if state.rounds:
            healthy.add_metric([], 1.0 if state.healthy else 0.0)
            endpoint.add_metric([], 1.0 if state.reachable else 0.0)
        yield healthy
        yield endpoint
        up = GaugeMetricFamily("postroom_watch_route_up", "1 when the route's last probe was confirmed, 0 when not",
                               labels=["topic", "queue"])
        latency = GaugeMetricFamily("postroom_watch_route_probe_latency_seconds",
                                    "publish → reply time of the route's last confirmed probe",
                                    labels=["topic", "queue"])
        for r in state.route_states:
            if r.status == "unprobed":
                continue
            up.add_metric([r.topic, r.queue], 1.0 if r.status == "up" else 0.0)
            if r.status == "up" and r.latency_ms is not None:
                latency.add_metric([r.topic, r.queue], r.latency_ms / 1000)
        yield up
        yield latency
        per_kind: dict[tuple[str, str], int] = {}
        active = GaugeMetricFamily("postroom_watch_finding_active", "1 per active finding",
                                   labels=["kind", "subject", "severity"])
        for f in state.active_findings:
            per_kind[(f.kind, f.severity)] = per_kind.get((f.kind, f.severity), 0) + 1
            active.add_metric([f.kind, f.subject, f.severity], 1.0)
        counts = GaugeMetricFamily("postroom_watch_findings", "active findings per kind", labels=["kind", "severity"])
        for (kind, severity), n in sorted(per_kind.items()):
            counts.add_metric([kind, severity], float(n))
        yield counts
        yield active
        audit = GaugeMetricFamily("postroom_watch_audit_up", "1 when the last round read the delivery audit")
        if obs is not None and self.watcher.audit_status == "on":
            audit.add_metric([], 1.0 if obs.audit_read else 0.0)
        yield audit
        yield CounterMetricFamily("postroom_watch_rounds", "rounds run", value=float(state.rounds))
        yield CounterMetricFamily("postroom_watch_changes", "state changes reported", value=float(changes))
        failed = CounterMetricFamily("postroom_watch_notifications_failed",
                                     "changes a webhook or command could not be given", labels=["via"])
        for sink in self.sinks:
            failed.add_metric([sink.via], float(sink.failed))
        yield failed
        duration = GaugeMetricFamily("postroom_watch_round_duration_seconds", "how long the last round took")
        last = GaugeMetricFamily("postroom_watch_last_round_timestamp_seconds", "when the last round started")
        if obs is not None:
            duration.add_metric([], obs.duration_s)
            last.add_metric([], obs.at)
        yield duration
        yield last


def registry_for(watcher: Watcher, sinks: list[Sink] | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(WatchCollector(watcher, sinks))
    return registry


def _handler(status: Callable[[], dict[str, Any]], registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "postroom-watch"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/", "/status"):
                body = (json.dumps(status(), indent=2, ensure_ascii=False) + "\n").encode()
                ctype, code = "application/json; charset=utf-8", 200
            elif path == "/metrics":
                body, ctype, code = generate_latest(registry), CONTENT_TYPE_LATEST, 200
            else:
                body, ctype, code = b'{"error": "NotFound", "paths": ["/", "/status", "/metrics"]}\n', \
                    "application/json", 404
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the watcher's log is for state changes only

    return Handler


class StatusServer:
    """The HTTP endpoint in a daemon thread. ``port`` 0 picks a free port (see ``.port``)."""

    def __init__(self, host: str, port: int, watcher: Watcher, sinks: list[Sink] | None = None) -> None:
        self.httpd = ThreadingHTTPServer((host, port), _handler(watcher.status, registry_for(watcher, sinks)))
        self.httpd.daemon_threads = True
        self.host, self.port = host, int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="postroom-watch-http", daemon=True)

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
