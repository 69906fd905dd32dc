"""Lost routes: what a plan does to the live subscribers it stops delivering to.

ROUTE-LOSS (error): a live subscriber — a queue, an HTTP(S) endpoint, any protocol — whose route
this plan ends (it removes the subscription, or deletes the topic or the queue) while nothing after
the plan delivers that topic to it (or to its successor queue). Routes of a topic that has a
replacement, declared or recognised, are MIGRATION-GAP's: that check names every live subscriber of
the old topic the new one leaves behind, whether or not the plan also removes the old subscription.
A lost route is accepted only by naming it, with a reason: a ``retire:`` entry (the route, its queue
or its topic) or an override of ROUTE-LOSS on that resource — never by an override on ``*``.

LIKELY-REPLACEMENT (warning): a migration the file does not declare (:mod:`.inference`), with the
two ways to make it explicit.

:func:`route_changes` is the plan's short table of routes (route, before, after): lost ones first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from postroom.topology.checks.context import Context, sub_resource, yaml_sub
from postroom.topology.model import CheckOverride, Finding, Subscription
from postroom.topology.schema import ROUTE_CHECKS


def _why(ctx: Context, sub: Subscription) -> str:
    deleted = {(c.kind, c.name) for c in ctx.changes if c.action == "delete"}
    if ("topic", sub.topic) in deleted:
        return f"this plan deletes topic {sub.topic}"
    if sub.protocol == "sqs" and sub.endpoint not in ctx.queues:
        return f"this plan deletes queue {sub.endpoint}"
    return f"this plan removes the subscription {sub_resource(sub)}"


def replacement_of(ctx: Context, sub: Subscription, same_topic: bool = True) -> Subscription | None:
    """A subscription after the plan that delivers ``sub``'s topic (with ``same_topic``) or a topic
    replacing it to ``sub``'s endpoint (or its successor queue); a replacing topic's first."""
    topics = ({sub.topic} if same_topic else set()) | ctx.replacing_topics(sub.topic)
    endpoints = {sub.endpoint} | (ctx.successors(sub.endpoint) if sub.protocol == "sqs" else set())
    candidates = [s for t in topics for s in ctx.subs_of(t)]
    for s in sorted(candidates, key=lambda s: (s.topic == sub.topic, s.key)):
        if s.key != sub.key and s.protocol == sub.protocol and s.topic in topics and s.endpoint in endpoints \
                and (s.protocol != "sqs" or s.endpoint in ctx.queues):
            return s
    return None


def route_loss(ctx: Context) -> Iterator[Finding]:
    for sub in sorted(ctx.live.subscriptions.values(), key=lambda s: s.key):
        if sub.arn == "PendingConfirmation" or not ctx.lost(sub) or ctx.replacing_topics(sub.topic):
            continue
        if replacement_of(ctx, sub) is not None:
            continue
        why = _why(ctx, sub)
        key = "queue" if sub.protocol == "sqs" else "endpoint"
        line = yaml_sub(sub.topic, sub.endpoint, sub.protocol)
        keep = (f"declare {sub.topic} under topics: and {line}" if sub.topic not in ctx.declared.topology.topics
                else f"keep it: {line}")
        yield ctx.finding(
            "ROUTE-LOSS",
            f"the live subscriber {sub.protocol}:{sub.endpoint} of {sub.topic} loses its route: {why}, and nothing "
            f"after the plan delivers {sub.topic} (or a topic replacing it) to {sub.endpoint}"
            + (" (or a successor queue)" if sub.protocol == "sqs" else ""),
            (sub_resource(sub), sub.topic, sub.endpoint),
            fix=f"{keep}; or, if the route is meant to go, retire it with its reason: "
                f"`- {{topic: {sub.topic}, {key}: {sub.endpoint}, reason: …}}` under retire:")


def likely_replacement(ctx: Context) -> Iterator[Finding]:
    for lk in [*ctx.likely_topics, *ctx.likely_queues]:
        what = "topic" if lk.kind == "topic" else "queue"
        checked = ("every live subscriber of it must be subscribed to the new one" if lk.kind == "topic"
                   else "every topic it receives must reach the new one")
        yield ctx.finding(
            "LIKELY-REPLACEMENT",
            f"{lk.new} looks like it replaces {what} {lk.old} ({lk.evidence}); the plan checks it as a migration: "
            f"{checked}",
            (lk.new, lk.old),
            fix=f"add `replaces: {lk.old}` to {lk.new}, or mark it `unrelated_to: [{lk.old}]`")


# ---- the route table ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteChange:
    """One row of the plan's route table. ``status``: lost (blocking), retired (accepted with a
    reason), changed, moved (a replacement delivers it), new."""

    route: str
    before: str
    after: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"route": self.route, "before": self.before, "after": self.after, "status": self.status}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> RouteChange:
        return RouteChange(str(d["route"]), str(d["before"]), str(d["after"]), str(d["status"]))


STATUS_ORDER = ("lost", "retired", "changed", "moved", "new")


def _sub_text(s: Subscription) -> str:
    parts = ["raw" if s.raw else "envelope"]
    if s.filter_policy:
        parts.append(f"filter {s.filter_policy}" + (" on body" if s.filter_scope == "MessageBody" else ""))
    return ", ".join(parts)


def route_changes(ctx: Context, findings: list[Finding],
                  silenced: list[tuple[Finding, CheckOverride]]) -> list[RouteChange]:
    def acceptance(resource: str) -> str | None:
        """None: blocking; else the reason it was accepted."""
        for f, o in silenced:
            if f.check in ROUTE_CHECKS and resource in f.resources:
                return o.reason
        for f in findings:
            if f.check in ROUTE_CHECKS and resource in f.resources and f.severity != "error":
                return f.accepted or "accepted"
        return None

    rows: list[RouteChange] = []
    used: set[tuple[str, str, str]] = set()
    for sub in sorted(ctx.live.subscriptions.values(), key=lambda s: s.key):
        if sub.arn == "PendingConfirmation":
            continue
        lost = ctx.lost(sub)
        if not lost and not ctx.replacing_topics(sub.topic):
            continue
        repl = replacement_of(ctx, sub, same_topic=lost)
        if repl is not None and repl.key not in ctx.live.subscriptions:
            used.add(repl.key)
        name = sub_resource(sub)
        if repl is not None:
            after = f"→ {sub_resource(repl)}" if lost else f"stays; {sub_resource(repl)} takes over"
            rows.append(RouteChange(name, "delivers", after, "moved"))
            continue
        reason = acceptance(name)
        if not lost:
            after = "stays, but no counterpart on " + ", ".join(sorted(ctx.replacing_topics(sub.topic)))
        else:
            after = ("LOST — " if reason is None else "dropped — ") + _why(ctx, sub).removeprefix("this plan ")
        if reason is None:
            rows.append(RouteChange(name, "delivers", after, "lost"))
        else:
            rows.append(RouteChange(name, "delivers", f"{after} ({reason})", "retired"))
    for c in ctx.changes:
        if c.kind != "subscription" or len(c.key) != 3:
            continue
        key = (c.key[0], c.key[1], c.key[2])
        s = ctx.subs.get(key)
        if s is None:
            continue
        if c.action == "create" and key not in used:
            rows.append(RouteChange(sub_resource(s), "—", f"new ({_sub_text(s)})", "new"))
        elif c.action == "update":
            before = ", ".join(f"{k}={(c.before or {}).get(k)}" for k in (c.after or {}))
            after = ", ".join(f"{k}={v}" for k, v in (c.after or {}).items())
            rows.append(RouteChange(sub_resource(s), before, after, "changed"))
    rows.sort(key=lambda r: (STATUS_ORDER.index(r.status), r.route))
    return rows
