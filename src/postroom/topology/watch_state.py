"""`postroom watch`'s state and its transitions — pure functions over plain values, no I/O.

A round's :class:`Observation` (route probe results, findings, whether the endpoint and the audit
could be read) is folded into the previous :class:`WatchState` by :func:`transition`, which returns
the new state and the list of :class:`Change` s: a route going up/down, a finding starting or
ending. Every change is one log line, one webhook call, one command run.

Rules:
- the first round reports every route's state (``unknown`` → up/down/unprobed) and every finding;
  a change to a healthy state in the first round is ``initial`` (logged, not sent to hooks);
- while the endpoint is unreachable (or the round failed) only ENDPOINT-UNREACHABLE (WATCH-ERROR)
  changes: the routes and the other findings keep their last known state (one cause, one alert —
  not one per route);
- while the audit cannot be read (or is not run) its findings keep their last known state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from postroom.topology.model import Severity

RouteStatus = Literal["up", "down", "unprobed"]
HEALTHY = ("up", "unprobed", "ok")
ROUTE = "ROUTE"
ENDPOINT_UNREACHABLE = "ENDPOINT-UNREACHABLE"
WATCH_ERROR = "WATCH-ERROR"
# Findings about the round itself: re-evaluated every round, never carried over.
ROUND_KINDS = frozenset({ENDPOINT_UNREACHABLE, WATCH_ERROR})


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class WatchFinding:
    """Something wrong that watch reports: ``kind`` (DRIFT, DLQ-FILLING, NO-SUBSCRIPTION, …), the
    resource or route it is about, a severity (``info`` findings do not make watch unhealthy)."""

    kind: str
    subject: str
    severity: Severity
    message: str
    fix: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind} {self.subject}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "severity": self.severity, "message": self.message,
                "fix": self.fix}


@dataclass(frozen=True)
class RouteState:
    """A declared topic → queue route as the last probe found it."""

    topic: str
    queue: str
    status: RouteStatus
    latency_ms: float | None = None
    reason: str = ""
    received_by: str | None = None

    @property
    def route(self) -> str:
        return f"{self.topic} → {self.queue}"

    def as_dict(self) -> dict[str, Any]:
        return {"route": self.route, "topic": self.topic, "queue": self.queue, "status": self.status,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
                "received_by": self.received_by, "reason": self.reason}


@dataclass(frozen=True)
class Observation:
    """What one round saw. ``reachable=False``: the endpoint could not be read (``findings`` then
    holds just ENDPOINT-UNREACHABLE). ``audit_read``: whether the audit's findings are in
    ``findings`` (False: audit off, skipped, or unreadable this round)."""

    at: float
    reachable: bool
    findings: tuple[WatchFinding, ...] = ()
    routes: tuple[RouteState, ...] = ()
    audit_read: bool = False
    audit_kinds: frozenset[str] = frozenset()
    duration_s: float = 0.0


@dataclass(frozen=True)
class Change:
    """One state change: of a route (``kind`` ROUTE, states unknown/up/down/unprobed) or of a
    finding (states unknown/ok/firing)."""

    kind: str
    subject: str
    previous: str
    current: str
    severity: Severity
    message: str
    at: float
    initial: bool = False

    @property
    def healthy(self) -> bool:
        return self.current in HEALTHY

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "previous": self.previous, "current": self.current,
                "healthy": self.healthy, "severity": self.severity, "message": self.message, "at": iso(self.at),
                "initial": self.initial}

    def line(self) -> str:
        """The one log line of this change."""
        word = {"up": "UP", "down": "DOWN", "unprobed": "UNPROBED", "firing": "FIRING", "ok": "RESOLVED"}[self.current]
        what = f"route {self.subject}" if self.kind == ROUTE else f"{self.kind} {self.subject}"
        detail = f": {self.message}" if self.message else ""
        return f"{iso(self.at)} {word} {what}{detail}"


@dataclass(frozen=True)
class Since:
    value: Any
    since: float


@dataclass(frozen=True)
class WatchState:
    rounds: int = 0
    reachable: bool | None = None
    routes: dict[str, Since] = field(default_factory=dict)  # route → Since(RouteState)
    findings: dict[str, Since] = field(default_factory=dict)  # key → Since(WatchFinding)
    last: Observation | None = None

    @property
    def healthy(self) -> bool:
        return (self.reachable is not False
                and all(s.value.status != "down" for s in self.routes.values())
                and all(s.value.severity == "info" for s in self.findings.values()))

    @property
    def active_findings(self) -> list[WatchFinding]:
        return [s.value for _, s in sorted(self.findings.items())]

    @property
    def route_states(self) -> list[RouteState]:
        return [s.value for _, s in sorted(self.routes.items())]


def _route_message(r: RouteState) -> str:
    if r.status == "up":
        by = f" by {r.received_by}" if r.received_by else ""
        return f"probe confirmed{by} in {r.latency_ms:.0f} ms" if r.latency_ms is not None else "probe confirmed"
    return r.reason


def transition(state: WatchState, obs: Observation) -> tuple[WatchState, list[Change]]:
    """Fold one round's observation into the state; returns the new state and what changed."""
    first = state.rounds == 0
    when = obs.at + obs.duration_s  # a change is known when the round ends
    changes: list[Change] = []
    routes = dict(state.routes)
    findings = dict(state.findings)

    def keep(key: str, f: WatchFinding) -> bool:
        """Whether an active finding is carried over unseen (its source was not read this round)."""
        if f.kind in ROUND_KINDS:
            return False
        if not obs.reachable:
            return True
        return f.kind in obs.audit_kinds and not obs.audit_read

    if obs.reachable:
        seen: set[str] = set()
        for r in obs.routes:
            seen.add(r.route)
            before = state.routes.get(r.route)
            old = before.value.status if before else "unknown"
            if old != r.status:
                changes.append(Change(ROUTE, r.route, old, r.status, "error" if r.status == "down" else "info",
                                      _route_message(r), when, initial=first and r.status != "down"))
                routes[r.route] = Since(r, when)
            else:
                assert before is not None
                routes[r.route] = Since(r, before.since)
        for route in [k for k in routes if k not in seen]:  # no longer declared: forgotten quietly
            del routes[route]
    now = {f.key: f for f in obs.findings}
    for key, f in sorted(now.items()):
        before = state.findings.get(key)
        if before is None:
            changes.append(Change(f.kind, f.subject, "unknown" if first else "ok", "firing", f.severity, f.message,
                                  when))
            findings[key] = Since(f, when)
        else:
            findings[key] = Since(f, before.since)
    for key, s in sorted(state.findings.items()):
        if key in now or keep(key, s.value):
            continue
        f = s.value
        changes.append(Change(f.kind, f.subject, "firing", "ok", f.severity, "", when))
        del findings[key]
    new = replace(state, rounds=state.rounds + 1, reachable=obs.reachable, routes=routes, findings=findings,
                  last=obs)
    return new, changes


def status_document(state: WatchState, recent: list[Change], extra: dict[str, Any]) -> dict[str, Any]:
    """The JSON of ``GET /status``: health, every route, every active finding, recent changes."""
    obs = state.last
    down = [s for s in state.routes.values() if s.value.status == "down"]
    findings = [{**s.value.as_dict(), "since": iso(s.since)} for _, s in sorted(state.findings.items())]
    findings = [*({"kind": "ROUTE-DOWN", "subject": s.value.route, "severity": "error",
                   "message": s.value.reason, "fix": "", "since": iso(s.since)} for s in down), *findings]
    return {
        **extra,
        "healthy": state.healthy if state.rounds else None,
        "rounds": state.rounds,
        "last_round_at": iso(obs.at) if obs else None,
        "round_seconds": round(obs.duration_s, 3) if obs else None,
        "endpoint_reachable": state.reachable,
        "routes": [{**s.value.as_dict(), "since": iso(s.since)} for _, s in sorted(state.routes.items())],
        "findings": findings,
        "changes": [c.as_dict() for c in recent],
    }


def shrunk(baseline: dict[str, frozenset[str]], current: dict[str, frozenset[str]]
           ) -> tuple[dict[str, frozenset[str]], list[WatchFinding]]:
    """SUBSCRIBERS-SHRANK: per topic, the subscribers (``protocol:endpoint``) watch has seen that are
    gone now. The baseline grows with every subscriber seen and forgets a topic that is gone; a
    subscriber that comes back ends the finding. Returns the new baseline and the findings."""
    new = {t: baseline.get(t, frozenset()) | subs for t, subs in current.items()}
    findings: list[WatchFinding] = []
    for topic, seen in sorted(new.items()):
        lost = sorted(seen - current[topic])
        if lost:
            findings.append(WatchFinding(
                "SUBSCRIBERS-SHRANK", topic, "error",
                f"{topic} lost {len(lost)} subscriber(s) since watch saw them: {', '.join(lost)} "
                f"({len(current[topic])} left)",
                "subscribe them again (postroom plan / apply) and replay the gap (postroom replay); if the removal "
                "was meant, restart watch or edit the file to accept it"))
    return new, findings
