"""One round of `postroom watch`'s observation: everything it does over the network.

- the live topology (:func:`postroom.topology.live.read_live`), compared with the file and checked
  for health by :func:`postroom.topology.verify.verify` (drift and health findings);
- a probe through every declared topic → queue route, by the same :func:`verify`
  (``probe=True``): answered by ``postroom.consumer`` on the queue, or — for the queues whose names
  match ``consume`` patterns, the queues nobody reads — by watch itself (``consume=True`` on just
  those routes; see :func:`probe_routes`);
- dead-letter queues that hold messages, from the live queues' depths (public APIs: works on AWS);
- the delivery audit (``GET /_postroom/audit``, postroom only) over a sliding window, narrowed to
  the file's resources.

Everything returns :class:`~postroom.topology.watch.WatchFinding` / route states; the pure state
machine in :mod:`postroom.topology.watch` decides what changed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from postroom.awsclient import AwsTarget
from postroom.awsclient import _client_lock as client_lock  # a Session is not safe for concurrent client creation
from postroom.topology.live import name_of_arn, read_live
from postroom.topology.model import Declared, Subscription, SubscriptionKey, Topology, in_scope
from postroom.topology.verify import RouteResult, verify
from postroom.topology.watch_state import RouteState, WatchFinding

# How long a watch waits to connect to the endpoint, and how often botocore retries a failed call:
# a round against an endpoint that is down must fail in seconds, not in botocore's 60 s × 5.
CONNECT_TIMEOUT = 5.0
MAX_ATTEMPTS = 3

AUDIT_KINDS = frozenset({"NO-SUBSCRIPTION", "SUBSCRIBER-REMOVED", "ROUTE-SILENT", "DELIVERIES-FAILING", "UNROUTED",
                         "AUDIT-DLQ-FILLING"})
_REMOVED = re.compile(r"^(?P<protocol>[a-z-]+):(?P<endpoint>.+?) was unsubscribed from ")
_ENDPOINT = re.compile(r"\b(?P<protocol>sqs|https?):(?P<endpoint>\S+)")


@dataclass(frozen=True)
class WatchTarget(AwsTarget):
    """An :class:`AwsTarget` whose clients give up on an unreachable endpoint quickly
    (``CONNECT_TIMEOUT``, ``MAX_ATTEMPTS``): the same settings otherwise."""

    def client(self, service: str, *, max_pool_connections: int = 10, read_timeout: float = 60.0,
               parameter_validation: bool = True) -> Any:
        session = self.session()
        config = Config(retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                        max_pool_connections=max_pool_connections, read_timeout=read_timeout,
                        connect_timeout=CONNECT_TIMEOUT, parameter_validation=parameter_validation)
        kwargs: dict[str, Any] = {"region_name": session.region_name or "us-east-1", "config": config}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
            if session.get_credentials() is None:
                kwargs["aws_access_key_id"] = "postroom"
                kwargs["aws_secret_access_key"] = "postroom"
        with client_lock:
            return session.client(service, **kwargs)


def watch_target(aws: AwsTarget) -> WatchTarget:
    return WatchTarget(endpoint_url=aws.endpoint_url, region=aws.region, profile=aws.profile)


def is_unreachable(exc: BaseException) -> bool:
    """A connection-level failure, or the endpoint answering 5xx: the endpoint is down, not the
    topology wrong."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500
    return isinstance(exc, BotoCoreError) and "connect" in str(exc).lower()


@dataclass
class TopologyObservation:
    findings: list[WatchFinding]
    routes: list[RouteState]
    live: Topology


def observe_topology(declared: Declared, aws: AwsTarget, probe: bool, consume: tuple[str, ...],
                     probe_timeout: float) -> TopologyObservation:
    """Drift, health, DLQs and (with ``probe``) every route's probe. Raises on endpoint errors."""
    live = read_live(aws)  # without probe reply queues of other rounds: never drift
    report = verify(declared, live, aws, probe=False)
    findings = [WatchFinding(f.check, f.resources[0] if f.resources else "", f.severity, f.message, f.fix)
                for f in report.findings]
    findings += dlq_findings(declared, live)
    routes: list[RouteState] = []
    if probe:
        answered, unread = consumable(declared, live, consume)
        findings += unread
        routes = route_states(probe_routes(declared, live, aws, answered, probe_timeout))
    return TopologyObservation(findings, routes, live)


def consumable(declared: Declared, live: Topology, patterns: tuple[str, ...]
               ) -> tuple[tuple[str, ...], list[WatchFinding]]:
    """The queues whose probes watch answers this round: those matching ``patterns`` that hold no
    more messages than leftover probes explain (two per route into the queue: a late probe of the
    last round, and one of the other verify call — see :func:`probe_routes`). Answering probes means
    receiving every message met on the queue and releasing it at once, which raises its receive
    count; on a queue that holds real messages, round after round, that would walk them into the
    dead-letter queue. Such a queue is left alone and reported (QUEUE-UNREAD)."""
    names: list[str] = []
    findings: list[WatchFinding] = []
    for queue in sorted({s.endpoint for s in declared.topology.subscriptions.values() if _consumed(s, patterns)}):
        q = live.queues.get(queue)
        allowance = 2 * len(declared.topology.subscriptions_to_queue(queue))
        if q is not None and (q.depth or 0) > allowance:
            findings.append(WatchFinding(
                "QUEUE-UNREAD", queue, "warning",
                f"{queue} holds {q.depth} message(s) and watch was told nobody reads it (--consume): watch does not "
                f"answer its probes while it holds messages (receiving them would raise their receive count every "
                f"round), so its routes are reported down",
                "attach its consumer (postroom.consumer answers probes), or drain the queue; if an application "
                "reads it, drop it from --consume"))
            continue
        names.append(queue)
    return tuple(names), findings


def _consumed(s: Subscription, patterns: tuple[str, ...]) -> bool:
    """Whether ``s`` is an SQS route into a queue named by one of the glob ``patterns``."""
    return s.protocol == "sqs" and any(fnmatchcase(s.endpoint, p) for p in patterns)


def _only(declared: Declared, subs: dict[SubscriptionKey, Subscription]) -> Declared:
    t = declared.topology
    return replace(declared, topology=Topology(queues=dict(t.queues), topics=dict(t.topics), subscriptions=subs))


def probe_routes(declared: Declared, live: Topology, aws: AwsTarget, consume: tuple[str, ...],
                 timeout: float) -> list[RouteResult]:
    """Probe every declared route with :func:`verify`. Routes to queues matching ``consume``
    (glob patterns of queue names) are answered by watch itself (``consume=True``); the others by
    the queue's probe-aware consumer. verify's consume mode reads from every queue it waits on, so
    the two sets are probed by two verify calls side by side — watch never receives (and so never
    raises the receive count of) a message on a queue an application reads."""
    subs = declared.topology.subscriptions
    own = {k: s for k, s in subs.items() if _consumed(s, consume)}
    others = {k: s for k, s in subs.items() if k not in own}
    groups = [(group, flag) for group, flag in ((own, True), (others, False)) if group]
    if not groups:
        return []
    with ThreadPoolExecutor(len(groups)) as pool:
        futures = [pool.submit(verify, _only(declared, group), live, aws, probe=True, consume=flag, timeout=timeout)
                   for group, flag in groups]
        reports = [f.result() for f in futures]
    return sorted((r for report in reports for r in report.routes), key=lambda r: (r.topic, r.queue))


def route_states(results: Iterable[RouteResult]) -> list[RouteState]:
    status = {"confirmed": "up", "not confirmed": "down", "not probeable": "unprobed"}
    return [RouteState(r.topic, r.queue, status[r.status],  # type: ignore[arg-type]
                       r.latency_ms, r.reason, r.received_by) for r in results]


def _managed(name: str, declared: Declared) -> bool:
    t = declared.topology
    return name in t.queues or name in t.topics or in_scope(name, declared.scope)


def dlq_findings(declared: Declared, live: Topology) -> list[WatchFinding]:
    """DLQ-FILLING: a dead-letter queue (of a queue or subscription the file manages) that holds
    messages — from the live queues' approximate depth, so it works on any endpoint."""
    dlqs: dict[str, list[str]] = {}
    for q in live.queues.values():
        if q.dlq and _managed(q.name, declared):
            dlqs.setdefault(q.dlq, []).append(q.name)
    for s in live.subscriptions.values():
        if s.dlq and (_managed(s.topic, declared) or s.key in declared.topology.subscriptions):
            dlqs.setdefault(s.dlq, []).append(s.describe())
    out: list[WatchFinding] = []
    for name, sources in sorted(dlqs.items()):
        dlq = live.queues.get(name)
        if dlq is not None and dlq.depth:
            out.append(WatchFinding(
                "DLQ-FILLING", name, "warning",
                f"dead-letter queue {name} (of {', '.join(sorted(sources))}) holds {dlq.depth} message(s)",
                "find why they failed (receive them, or `postroom audit`), fix the consumer, then redrive them"))
    return out


def subscriber_sets(declared: Declared, live: Topology) -> dict[str, frozenset[str]]:
    """Per topic the file manages (declared or in its scope) and that exists live, its live
    subscribers as ``protocol:endpoint``."""
    topics = {t for t in live.topics if _managed(t, declared)} | set(declared.topology.topics)
    out: dict[str, set[str]] = {t: set() for t in topics if t in live.topics}
    for s in live.subscriptions.values():
        if s.topic in topics:
            out.setdefault(s.topic, set()).add(f"{s.protocol}:{s.endpoint}")
    return {t: frozenset(v) for t, v in out.items()}


# -- the delivery audit (postroom only) ----------------------------------------------------------------


def is_postroom(endpoint_url: str, timeout: float = 5.0) -> bool:
    """Whether ``endpoint_url`` is a postroom server: ``GET /health`` answers postroom's
    ``{"status": "ok", …}`` and ``GET /_postroom/audit`` a report. Raises ``httpx.HTTPError`` when it
    cannot be reached at all."""
    base = endpoint_url.rstrip("/")
    health = httpx.get(base + "/health", timeout=timeout)
    try:
        doc = health.json()
        ok = health.status_code == 200 and isinstance(doc, dict) and doc.get("status") == "ok"
    except ValueError:
        return False
    if not ok:
        return False
    audit = httpx.get(base + "/_postroom/audit", params={"since": int(time.time() * 1000)}, timeout=timeout)
    try:
        return audit.status_code == 200 and "findings" in audit.json()
    except ValueError:
        return False


def read_audit(audit_url: str, window_s: float, timeout: float = 30.0) -> dict[str, Any]:
    """The audit report of the last ``window_s`` seconds. Raises ``httpx.HTTPError`` /
    ``ValueError`` when the server cannot be read."""
    since = int((time.time() - window_s) * 1000)
    response = httpx.get(audit_url.rstrip("/") + "/_postroom/audit", params={"since": since}, timeout=timeout)
    response.raise_for_status()
    doc = response.json()
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise ValueError(f"not an audit report: {json.dumps(doc)[:200]}")
    return doc


AUDIT_FIXES = {
    "NO-SUBSCRIPTION": "subscribe the topic's consumers (postroom plan / apply), then replay the gap (postroom replay)",
    "SUBSCRIBER-REMOVED": "subscribe it again, then replay what it missed (postroom replay --to …)",
    "ROUTE-SILENT": "check the subscription's filter policy and the queue's policy (postroom audit --topic …)",
    "DELIVERIES-FAILING": "check the endpoint; failed deliveries are counted per route in postroom audit",
    "UNROUTED": "list them with postroom archive ls --unrouted; replay them with postroom replay --unrouted",
    "AUDIT-DLQ-FILLING": "find why they failed, fix the consumer, then redrive them",
}
AUDIT_SEVERITY = {"UNROUTED": "warning", "AUDIT-DLQ-FILLING": "warning"}


def audit_findings(report: dict[str, Any], declared: Declared, live: Topology) -> list[WatchFinding]:
    """The audit's findings about resources the file manages, as watch findings. A
    SUBSCRIBER-REMOVED whose endpoint is subscribed to the topic again is left out: the route is
    back (what it missed meanwhile is for ``postroom replay``). DLQ-FILLING is reported from the
    live queues already (:func:`dlq_findings`); the audit's own is kept only for DLQs that check
    does not cover, under AUDIT-DLQ-FILLING."""
    covered = {f.subject for f in dlq_findings(declared, live)}
    out: list[WatchFinding] = []
    for f in report.get("findings", []):
        code, topic_arn, subject = str(f.get("code", "")), str(f.get("topic_arn", "")), str(f.get("subject", ""))
        message = str(f.get("message", ""))
        if code == "DLQ-FILLING":
            name = name_of_arn(subject)
            if name in covered or not _managed(name, declared):
                continue
            out.append(WatchFinding("AUDIT-DLQ-FILLING", name, "warning", message, AUDIT_FIXES["AUDIT-DLQ-FILLING"]))
            continue
        topic = name_of_arn(topic_arn)
        if not topic or not _managed(topic, declared):
            continue
        where = topic
        if code == "SUBSCRIBER-REMOVED":
            m = _REMOVED.match(message)
            if m:
                protocol, endpoint = m["protocol"], m["endpoint"]
                endpoint = name_of_arn(endpoint) if protocol == "sqs" else endpoint
                if (topic, protocol, endpoint) in live.subscriptions:
                    continue
                where = f"{topic} → {endpoint}"
        elif code in ("ROUTE-SILENT", "DELIVERIES-FAILING"):
            m = _ENDPOINT.search(message)
            if m:
                where = f"{topic} → {name_of_arn(m['endpoint']) if m['protocol'] == 'sqs' else m['endpoint']}"
        severity = AUDIT_SEVERITY.get(code, "error")
        out.append(WatchFinding(code, where, severity, message,  # type: ignore[arg-type]
                                AUDIT_FIXES.get(code, "see postroom audit")))
    return out
