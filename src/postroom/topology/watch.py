"""`postroom watch`: the route SLO — a loop that, every interval, proves that every declared
topic → queue route delivers, and says so the moment one stops.

Each round (:meth:`Watcher.run_round`):

1. reads the file again if it changed (a broken edit is a FILE-INVALID finding; the last good
   version is used meanwhile);
2. reads the live topology and compares it with the file (DRIFT and the health checks of
   :func:`postroom.topology.verify.verify`), checks dead-letter queues (DLQ-FILLING) and whether
   a topic's set of subscribers shrank since watch saw it (SUBSCRIBERS-SHRANK);
3. sends a probe through every declared route (:func:`verify` with ``probe=True``): up when the
   reply arrives within ``probe_timeout``, down otherwise — answered by ``postroom.consumer``, or
   by watch itself for the queues matching ``consume``;
4. on postroom, reads the delivery audit over the last ``audit_window`` seconds (NO-SUBSCRIPTION,
   SUBSCRIBER-REMOVED, ROUTE-SILENT, DELIVERIES-FAILING, UNROUTED); elsewhere (AWS, moto) says once
   that it skips it;
5. folds the observation into the state (:func:`postroom.topology.watch_state.transition`) and
   hands every change to the listeners: one log line each, the webhook, the command.

Probes never reach an application's handler: ``postroom.consumer`` answers and deletes them before
its handler runs. A queue read by anything else should not be watched with probes (``--no-probe``),
and ``consume`` must name only queues nobody reads: answering there means receiving every message
met and releasing it at once, so watch leaves a consume queue alone (QUEUE-UNREAD) as soon as it
holds more messages than leftover probes explain.

The audit is read over a sliding window (``audit_window``, 5 min; the server counts per minute), so
its findings end a few minutes after their cause; a SUBSCRIBER-REMOVED whose endpoint is subscribed
to the topic again ends at once (the route is back; what it missed is for ``postroom replay``).
SUBSCRIBERS-SHRANK needs two rounds (it compares with what watch saw before): not with ``--once``.

Connection errors never end the loop: they are the finding ENDPOINT-UNREACHABLE, and the next
round that reads the endpoint clears it. Worst-case detection of a broken route is
``interval + probe_timeout`` (plus the round's own few hundred ms): 30 + 15 = 45 s by default.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from postroom.awsclient import AwsTarget
from postroom.topology._problems import SpecError
from postroom.topology.loader import load
from postroom.topology.model import Declared
from postroom.topology.watch_observe import (
    AUDIT_KINDS,
    audit_findings,
    is_postroom,
    is_unreachable,
    observe_topology,
    read_audit,
    subscriber_sets,
    watch_target,
)
from postroom.topology.watch_state import (
    ENDPOINT_UNREACHABLE,
    WATCH_ERROR,
    Change,
    Observation,
    WatchFinding,
    WatchState,
    iso,
    shrunk,
    status_document,
    transition,
)

__all__ = ["Change", "Observation", "WatchConfig", "WatchFinding", "WatchState", "Watcher", "transition"]

DEFAULT_INTERVAL = 30.0
DEFAULT_PROBE_TIMEOUT = 15.0
DEFAULT_AUDIT_WINDOW = 300.0
RECENT_CHANGES = 50


@dataclass(frozen=True)
class WatchConfig:
    """``audit``: "auto" (read the audit of ``audit_url``, or of the endpoint when it is postroom),
    "off". ``consume``: glob patterns of queue names whose probes watch answers itself."""

    file: Path
    aws: AwsTarget
    env: str | None = None
    interval: float = DEFAULT_INTERVAL
    probe: bool = True
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT
    consume: tuple[str, ...] = ()
    audit: str = "auto"
    audit_url: str | None = None
    audit_window: float = DEFAULT_AUDIT_WINDOW

    @property
    def where(self) -> str:
        return self.aws.endpoint_url or f"AWS ({self.aws.region or 'default region'})"

    @property
    def worst_case_detection(self) -> float:
        return self.interval + (self.probe_timeout if self.probe else 0.0)


Listener = Callable[[Change], None]


class Watcher:
    """The loop's state and one round at a time. ``log`` receives every line watch writes (one per
    change, plus a few notes such as the audit being skipped); ``listeners`` receive every change
    except the first round's healthy ones (``Change.initial``)."""

    def __init__(self, config: WatchConfig, declared: Declared | None = None,
                 log: Callable[[str], None] = print, listeners: list[Listener] | None = None) -> None:
        self.config = config
        self.aws = watch_target(config.aws)
        self.log = log
        self.listeners = list(listeners or [])
        self.declared = declared if declared is not None else load(config.file, config.env)
        self._mtime = self._file_mtime()
        self._file_problem: str | None = None
        self.state = WatchState()
        self.recent: collections.deque[Change] = collections.deque(maxlen=RECENT_CHANGES)
        self.changes_total = 0
        self._baseline: dict[str, frozenset[str]] = {}
        self._audit_url: str | None = config.audit_url if config.audit != "off" else None
        self._audit_decided = config.audit == "off" or config.audit_url is not None
        self.audit_status = "off" if config.audit == "off" else ("on" if config.audit_url else "undecided")
        self._lock = threading.Lock()

    # -- one round -------------------------------------------------------------------------------------------

    def run_round(self) -> list[Change]:
        """Observe once, update the state, tell the listeners. Never raises (but on KeyboardInterrupt)."""
        started, at = time.monotonic(), time.time()
        try:
            obs = self._observe(at)
        except Exception as exc:  # the loop must survive anything a round meets
            kind = ENDPOINT_UNREACHABLE if is_unreachable(exc) else WATCH_ERROR
            what = (f"cannot reach {self.config.where}" if kind == ENDPOINT_UNREACHABLE
                    else f"the round failed against {self.config.where}")
            fix = ("is the endpoint up and reachable from here? watch keeps trying every round" if kind ==
                   ENDPOINT_UNREACHABLE else "see the message; watch keeps trying every round")
            obs = Observation(at, False, (WatchFinding(kind, self.config.where, "error",
                                                       f"{what}: {type(exc).__name__}: {exc}", fix),))
        obs = Observation(obs.at, obs.reachable, obs.findings, obs.routes, obs.audit_read, obs.audit_kinds,
                          time.monotonic() - started)
        with self._lock:
            self.state, changes = transition(self.state, obs)
            self.recent.extend(changes)
            self.changes_total += len(changes)
        for change in changes:
            self.log(change.line())
        for change in changes:
            if change.initial:
                continue
            for listener in self.listeners:
                try:
                    listener(change)
                except Exception as exc:  # a listener must never stop the loop
                    self.log(f"{change.line()} — listener failed: {type(exc).__name__}: {exc}")
        return changes

    def _observe(self, at: float) -> Observation:
        file_findings = self._reload()
        cfg = self.config
        topo = observe_topology(self.declared, self.aws, cfg.probe, cfg.consume, cfg.probe_timeout)
        self._baseline, shrink = shrunk(self._baseline, subscriber_sets(self.declared, topo.live))
        findings = [*file_findings, *topo.findings, *shrink]
        audit_read = False
        url = self._decide_audit()
        if url is not None:
            try:
                report = read_audit(url, cfg.audit_window)
            except (httpx.HTTPError, ValueError) as exc:
                findings.append(WatchFinding("AUDIT-UNREACHABLE", url, "warning",
                                             f"cannot read the delivery audit at {url}: {type(exc).__name__}: {exc}",
                                             "is the postroom node up? (--audit-url picks another node)"))
            else:
                findings += audit_findings(report, self.declared, topo.live)
                audit_read = True
        return Observation(at, True, tuple(findings), tuple(topo.routes), audit_read, AUDIT_KINDS)

    def _decide_audit(self) -> str | None:
        """The audit's base URL, decided once: ``--audit-url``, else the endpoint when it is a
        postroom server. Says once why it is skipped."""
        if self._audit_decided:
            return self._audit_url
        endpoint = self.config.aws.endpoint_url
        if endpoint is None:
            reason = "the endpoint is AWS, which has no delivery audit"
        else:
            try:
                postroom = is_postroom(endpoint)
            except httpx.HTTPError:
                return None  # decided on a round that reaches it
            if postroom:
                self._audit_decided, self._audit_url, self.audit_status = True, endpoint, "on"
                self.log(f"{_now()} audit: reading the delivery audit of {endpoint} (last "
                         f"{self.config.audit_window:g} s each round)")
                return endpoint
            reason = f"{endpoint} is not postroom (no postroom /health and /_postroom/audit)"
        self._audit_decided, self.audit_status = True, f"skipped: {reason}"
        self.log(f"{_now()} audit: skipped — {reason}; the audit's findings (NO-SUBSCRIPTION, SUBSCRIBER-REMOVED, "
                 f"ROUTE-SILENT, DELIVERIES-FAILING, UNROUTED) need postroom (--audit-url URL)")
        return None

    def _file_mtime(self) -> float | None:
        try:
            return self.config.file.stat().st_mtime
        except OSError:
            return None

    def _reload(self) -> list[WatchFinding]:
        mtime = self._file_mtime()
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self.declared = load(self.config.file, self.config.env)
            except SpecError as exc:
                self._file_problem = str(exc)
            else:
                self._file_problem = None
                self._baseline = {}  # an edited file is the new agreement: who is subscribed now
                self.log(f"{_now()} file: {self.config.file} changed; watching the new version")
        if self._file_problem is None:
            return []
        return [WatchFinding("FILE-INVALID", str(self.config.file), "error",
                             f"the file cannot be used; watching its last good version: {self._file_problem}",
                             "fix the file (postroom plan -f … shows every problem)")]

    # -- the loop --------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, rounds: int | None = None) -> None:
        """Round after round, one every ``interval`` seconds (start to start; a round that takes
        longer is followed at once), until ``stop`` is set (or ``rounds`` rounds ran)."""
        done = 0
        while not stop.is_set():
            started = time.monotonic()
            self.run_round()
            done += 1
            if rounds is not None and done >= rounds:
                return
            stop.wait(max(0.0, self.config.interval - (time.monotonic() - started)))

    # -- what the HTTP endpoint and the metrics read ---------------------------------------------------------

    def status(self) -> dict[str, Any]:
        with self._lock:
            state, recent = self.state, list(self.recent)
        return status_document(state, recent, {
            "endpoint": self.config.where, "file": str(self.config.file), "environment": self.config.env,
            "interval_seconds": self.config.interval, "probe_timeout_seconds": self.config.probe_timeout,
            "worst_case_detection_seconds": self.config.worst_case_detection, "audit": self.audit_status})

    def snapshot(self) -> tuple[WatchState, int]:
        with self._lock:
            return self.state, self.changes_total


def _now() -> str:
    return iso(time.time())
