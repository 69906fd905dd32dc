"""The checks of a topology change: pure functions over the model (no I/O), each with an id, a
severity, a message that names the resources and a fix (see :mod:`.registry` and
docs/topology-checks.md).

``run_checks(declared, live, changes)`` judges the topology the plan leads to — what is declared
plus what is live and kept — and applies the file's overrides; ``run_checks_detailed`` also returns
the findings that were silenced, each with the override (and so the reason) that silenced it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from postroom.topology.checks import fifo, health, migration, route_loss, routes, safety
from postroom.topology.checks.context import Context
from postroom.topology.checks.inference import Likely
from postroom.topology.checks.overrides import apply_overrides
from postroom.topology.checks.registry import CHECKS, HEALTH_CHECKS, CheckInfo
from postroom.topology.checks.route_loss import RouteChange, route_changes
from postroom.topology.model import Change, CheckOverride, Declared, Finding, Topology

__all__ = ["CHECKS", "HEALTH_CHECKS", "CheckInfo", "CheckResult", "RouteChange", "apply_overrides", "run_checks",
           "run_checks_detailed"]

CheckFn = Callable[[Context], Iterator[Finding]]

# check id → the function that produces its findings (FIFO-MISMATCH … in the order shown to users)
RUNNERS: dict[str, CheckFn] = {
    "MISSING-ROUTE": routes.missing_route,
    "MIGRATION-GAP": migration.migration_gap,
    "ROUTE-LOSS": route_loss.route_loss,
    "LIKELY-REPLACEMENT": route_loss.likely_replacement,
    "FIFO-MISMATCH": fifo.fifo_mismatch,
    "DLQ-TYPE": fifo.dlq_type,
    "QUEUE-MISSING": health.queue_missing,
    "REPLAY-PAUSED": health.replay_paused,
    "DESTRUCTIVE": safety.destructive,
    "RAW-DELIVERY-CHANGE": migration.raw_delivery_change,
    "FILTER-CHANGE": migration.filter_change,
    "ORPHAN-TOPIC": routes.orphan_topic,
    "ORPHAN-QUEUE": routes.orphan_queue,
    "NO-DLQ": safety.no_dlq,
    "QUEUE-POLICY": health.queue_policy,
}

_ORDER = {"error": 0, "warning": 1, "info": 2}
# Checks that judge any resource they meet, live ones included: their findings are kept only when they
# name something the file manages (declared, or inside its scope) — another team's or environment's
# live resources are theirs to fix. MIGRATION-GAP is deliberately not here: the forgotten subscriber
# of an old topic is very often someone else's queue.
SCOPED_CHECKS = frozenset({"FIFO-MISMATCH", "DLQ-TYPE", "QUEUE-MISSING", "QUEUE-POLICY", "REPLAY-PAUSED"})


@dataclass
class CheckResult:
    findings: list[Finding]
    silenced: list[tuple[Finding, CheckOverride]] = field(default_factory=list)
    # the plan's route table (route, before, after): lost routes first
    routes: list[RouteChange] = field(default_factory=list)
    # migrations recognised though the file does not declare them (LIKELY-REPLACEMENT)
    likely: list[Likely] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def run_checks_detailed(declared: Declared, live: Topology, changes: list[Change],
                        only: Iterable[str] | None = None) -> CheckResult:
    """All checks (or ``only`` those ids) on the topology after ``changes``; overrides applied.
    Findings are ordered errors first, then by check id and message, so output is stable."""
    ctx = Context.build(declared, live, changes)
    wanted = set(only) if only is not None else set(RUNNERS)
    raw: list[Finding] = []
    for check_id, fn in RUNNERS.items():
        if check_id in wanted:
            raw.extend(f for f in fn(ctx) if check_id not in SCOPED_CHECKS or ctx.manages(f))
    kept, silenced = apply_overrides(_dedupe(raw), declared.overrides)
    kept.sort(key=lambda f: (_ORDER[f.severity], f.check, f.message))
    return CheckResult(kept, silenced, route_changes(ctx, kept, silenced), [*ctx.likely_topics, *ctx.likely_queues])


def run_checks(declared: Declared, live: Topology, changes: list[Change]) -> list[Finding]:
    return run_checks_detailed(declared, live, changes).findings


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        if (f.check, f.message) not in seen:
            seen.add((f.check, f.message))
            out.append(f)
    return out
