"""What the checks look at: the topology *after* the plan — every declared resource, plus every
live one the plan keeps (the diff deletes only in-scope live resources the file no longer names;
the rest stays, so it still delivers and still counts as a route).

Names follow AWS: queues and topics by name, FIFO iff the name ends in ``.fifo``; a subscription of
protocol ``sqs`` holds its queue's name as endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from postroom.topology.checks.inference import Likely, infer_queues, infer_topics
from postroom.topology.checks.registry import CHECKS
from postroom.topology.model import (
    Change,
    Declared,
    Finding,
    Queue,
    Severity,
    Subscription,
    SubscriptionKey,
    Topic,
    Topology,
    in_scope,
)


def sub_resource(sub: Subscription) -> str:
    """How a finding (and an override) names a subscription: ``topic → queue`` for SQS, else
    ``topic → url``."""
    return f"{sub.topic} → {sub.endpoint}"


@dataclass
class Context:
    declared: Declared
    live: Topology
    changes: list[Change]
    queues: dict[str, Queue] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    subs: dict[SubscriptionKey, Subscription] = field(default_factory=dict)
    # migrations the file does not declare (see :mod:`.inference`)
    likely_topics: list[Likely] = field(default_factory=list)
    likely_queues: list[Likely] = field(default_factory=list)
    _by_topic: dict[str, list[Subscription]] | None = None

    @staticmethod
    def build(declared: Declared, live: Topology, changes: list[Change]) -> Context:
        deleted_subs = {tuple(c.key) for c in changes if c.kind == "subscription" and c.action == "delete"}
        deleted_queues = {c.name for c in changes if c.kind == "queue" and c.action == "delete"}
        deleted_topics = {c.name for c in changes if c.kind == "topic" and c.action == "delete"}
        d = declared.topology
        ctx = Context(declared, live, changes)
        ctx.queues = {n: q for n, q in live.queues.items() if n not in deleted_queues}
        for n, q in d.queues.items():  # declared wins; keep the live depth/url/arn for reference
            lq = live.queues.get(n)
            ctx.queues[n] = q if lq is None else _merge_queue(q, lq)
        ctx.topics = {n: t for n, t in live.topics.items() if n not in deleted_topics}
        for n, t in d.topics.items():
            lt = live.topics.get(n)
            ctx.topics[n] = t if lt is None or t.arn else _with_arn(t, lt.arn)
        ctx.subs = {k: s for k, s in live.subscriptions.items()
                    if k not in deleted_subs and s.topic not in deleted_topics}
        ctx.subs.update(d.subscriptions)
        ctx.likely_topics = infer_topics(declared, live, changes, ctx.subs, ctx._declared_successors)
        ctx.likely_queues = infer_queues(declared, live, changes, ctx.subs, ctx.replacing_topics)
        return ctx

    # -- lookups ---------------------------------------------------------------------------
    def finding(self, check: str, message: str, resources: tuple[str, ...], fix: str | None = None,
                severity: Severity | None = None) -> Finding:
        info = CHECKS[check]
        return Finding(check=check, severity=severity or info.severity, message=message,
                       resources=resources, fix=fix or info.fix)

    def manages(self, finding: Finding) -> bool:
        """Whether a finding names a resource the file manages: one it declares, or a live name
        inside its scope (a subscription counts through its topic or its endpoint)."""
        d = self.declared.topology
        for resource in finding.resources:
            for name in resource.split(" → "):
                if name in d.queues or name in d.topics or in_scope(name, self.declared.scope):
                    return True
        return False

    def subs_of(self, topic: str) -> list[Subscription]:
        """The subscriptions of ``topic`` after the plan (indexed on first use)."""
        if self._by_topic is None:
            self._by_topic = {}
            for s in self.subs.values():
                self._by_topic.setdefault(s.topic, []).append(s)
        return self._by_topic.get(topic, [])

    def queue(self, name: str) -> Queue | None:
        return self.queues.get(name)

    def sqs_subs(self) -> list[Subscription]:
        return sorted((s for s in self.subs.values() if s.protocol == "sqs"), key=lambda s: s.key)

    def delivers(self, topic: str, queue: str) -> bool:
        return (topic, "sqs", queue) in self.subs

    def _declared_successors(self, old_queue: str) -> set[str]:
        out = {n for n, q in self.declared.topology.queues.items() if q.replaces == old_queue}
        if not old_queue.endswith(".fifo") and old_queue + ".fifo" in self.declared.topology.queues \
                and old_queue not in self.declared.unrelated.get(old_queue + ".fifo", frozenset()):
            out.add(old_queue + ".fifo")
        return out

    def successors(self, old_queue: str) -> set[str]:
        """Declared queues that take over from ``old_queue``: those whose ``replaces:`` names it,
        its ``.fifo`` twin (``billing`` → ``billing.fifo``) when that is declared, and a twin the
        other way round (``billing.fifo`` → ``billing``) while the plan moves between them. A queue
        recognised only by the routes it takes over is not a successor here (see :mod:`.inference`)."""
        out = self._declared_successors(old_queue)
        out |= {lk.new for lk in self.likely_queues if lk.old == old_queue and lk.by_name}
        return out

    def queue_replacements(self, old_queue: str) -> set[str]:
        """Every queue taking over from ``old_queue``, recognised ones included (for MIGRATION-GAP)."""
        return self.successors(old_queue) | {lk.new for lk in self.likely_queues if lk.old == old_queue}

    def replacing_topics(self, old_topic: str) -> set[str]:
        """Declared topics whose ``replaces:`` names ``old_topic``, and the ones recognised as its
        likely replacement (see :mod:`.inference`)."""
        out = {n for n, t in self.declared.topology.topics.items() if t.replaces == old_topic}
        return out | {lk.new for lk in self.likely_topics if lk.old == old_topic}

    def likely(self, kind: str, new: str, old: str) -> Likely | None:
        found = self.likely_topics if kind == "topic" else self.likely_queues
        return next((lk for lk in found if lk.new == new and lk.old == old), None)

    def lost(self, sub: Subscription) -> bool:
        """Whether this plan ends a live subscription: it is removed, or its topic or queue is deleted."""
        return sub.key not in self.subs or (sub.protocol == "sqs" and sub.endpoint not in self.queues)

    def dlq_users(self) -> dict[str, list[str]]:
        """DLQ name → who uses it (queues by name, subscriptions as ``topic → endpoint``)."""
        out: dict[str, list[str]] = {}
        for q in self.queues.values():
            if q.dlq:
                out.setdefault(q.dlq, []).append(q.name)
        for s in self.subs.values():
            if s.dlq:
                out.setdefault(s.dlq, []).append(sub_resource(s))
        return out


def _merge_queue(declared: Queue, live: Queue) -> Queue:
    attrs = dict(declared.attributes)
    if "Policy" not in attrs and "Policy" in live.attributes:
        attrs["Policy"] = live.attributes["Policy"]
    return replace(declared, attributes=attrs, depth=live.depth, url=live.url, arn=live.arn)


def _with_arn(topic: Topic, arn: str | None) -> Topic:
    return replace(topic, arn=arn)


def yaml_sub(topic: str, endpoint: str, protocol: str = "sqs") -> str:
    """The file line that declares a subscription, for fix texts."""
    key = "queue" if protocol == "sqs" else "endpoint"
    return f"`- {{topic: {topic}, {key}: {endpoint}}}` under subscriptions:"
