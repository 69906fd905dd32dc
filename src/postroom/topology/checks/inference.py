"""Migrations the file does not declare: a new topic or queue that very likely takes over from a
live one, recognised so that the checks apply to it as if the file said ``replaces:``.

The incident was a migration made by someone who did not know what they had forgotten; a check that
runs only when the author writes ``replaces:`` depends on them knowing. So a declared topic ``N`` is
taken as a likely replacement of a live topic ``L`` when the plan is in the middle of moving from
one to the other (``N`` is created, or ``L`` — or one of its subscriptions — goes away, or ``N``
gets new subscriptions) and:

- **name**: ``N`` is ``L`` plus ``.fifo`` (or ``L`` minus it) — the migration of the incident;
- **subscribers**: ``L`` goes away (deleted, or some of its subscriptions removed) and this plan
  subscribes ``N`` to some of the subscribers ``L`` loses (the same endpoint, or its successor
  queue), or a declared consumer now ``receives:`` ``N`` — newly routed to it — from a queue that
  ``L`` fed, and not ``L``. A topic that already delivered to that subscriber takes nothing over.

A topic with a name match is not also matched by subscribers to other topics (``billing`` is fed by
``orders`` and ``payments``: ``orders.fifo`` replaces ``orders``, not ``payments``). Among the
subscriber matches of one old topic only those with the largest overlap are kept.

Queues the same way (``billing`` → ``billing.fifo``), by name or by taking over the topics the old
queue loses. A match is not made when the new resource declares ``replaces:`` (the author said what
it replaces), when another declared resource ``replaces:`` the old one, or when the new one lists
the old one under ``unrelated_to:``.

What a likely replacement changes: MIGRATION-GAP checks it (every live subscriber of the old topic,
every route of the old queue), a subscriber covered by it has not lost its route (ROUTE-LOSS), and
LIKELY-REPLACEMENT says so with the fix (``replaces:`` or ``unrelated_to:``). A queue matched only
by the topics it takes over is not counted as a successor that covers a subscriber: that guess
would hide a gap instead of finding one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from postroom.topology.model import Change, Declared, Subscription, SubscriptionKey, Topology

_PLAY_ACTIONS = ("create", "delete")


@dataclass(frozen=True)
class Likely:
    """``new`` very likely takes over from the live ``old``; ``evidence`` says why, for the
    message; ``by_name`` when the names are ``.fifo`` twins."""

    kind: str  # "topic" | "queue"
    new: str
    old: str
    evidence: str
    by_name: bool


def twin(a: str, b: str) -> bool:
    return a == b + ".fifo" or b == a + ".fifo"


def _twin_words(new: str, old: str) -> str:
    return f"its name is {old} + .fifo" if new.endswith(".fifo") else f"its name is {old} without .fifo"


@dataclass
class _Plan:
    created: set[tuple[str, str]]
    deleted: set[tuple[str, str]]
    removed_subs: set[SubscriptionKey]
    created_subs: set[SubscriptionKey]

    @staticmethod
    def of(changes: Iterable[Change]) -> _Plan:
        p = _Plan(set(), set(), set(), set())
        for c in changes:
            if c.kind == "subscription" and len(c.key) == 3:
                key = (c.key[0], c.key[1], c.key[2])
                if c.action == "delete":
                    p.removed_subs.add(key)
                elif c.action == "create":
                    p.created_subs.add(key)
            elif c.action == "create":
                p.created.add((c.kind, c.name))
            elif c.action == "delete":
                p.deleted.add((c.kind, c.name))
        return p


def _lost_by_topic(live: Topology, plan: _Plan) -> dict[str, list[Subscription]]:
    """Per live topic, its live subscriptions this plan ends (one pass over the subscriptions)."""
    out: dict[str, list[Subscription]] = {}
    for s in live.subscriptions.values():
        if ("topic", s.topic) in plan.deleted or s.key in plan.removed_subs \
                or (s.protocol == "sqs" and ("queue", s.endpoint) in plan.deleted):
            out.setdefault(s.topic, []).append(s)
    return out


def _twins(name: str) -> set[str]:
    return {name + ".fifo", name.removesuffix(".fifo")} - {name}


def _explicit_old(declared: Declared, kind: str) -> set[str]:
    items = declared.topology.topics.values() if kind == "topic" else declared.topology.queues.values()
    return {x.replaces for x in items if x.replaces}


def _keep_best(found: list[tuple[Likely, int]]) -> list[Likely]:
    """Name matches always; for an old resource with a name match, no subscriber match besides;
    for a new resource with a name match, no subscriber match to others; otherwise, per old
    resource, the subscriber matches with the largest overlap."""
    named = [lk for lk, _ in found if lk.by_name]
    named_old = {lk.old for lk in named}
    named_new = {lk.new for lk in named}
    weak = [(lk, n) for lk, n in found if not lk.by_name and lk.old not in named_old and lk.new not in named_new]
    best: dict[str, int] = {}
    for lk, n in weak:
        best[lk.old] = max(best.get(lk.old, 0), n)
    return named + [lk for lk, n in weak if n == best[lk.old]]


def infer_topics(declared: Declared, live: Topology, changes: list[Change], after: dict[SubscriptionKey, Subscription],
                 successors: Callable[[str], set[str]]) -> list[Likely]:
    plan = _Plan.of(changes)
    d = declared.topology
    explicit = _explicit_old(declared, "topic")
    lost_by_topic = _lost_by_topic(live, plan)
    subs_by_topic: dict[str, list[Subscription]] = {}
    for s in after.values():
        subs_by_topic.setdefault(s.topic, []).append(s)
    found: list[tuple[Likely, int]] = []
    for new, topic in sorted(d.topics.items()):
        if topic.replaces:
            continue
        new_subs = subs_by_topic.get(new, [])
        new_in_play = ("topic", new) in plan.created or any(s.key in plan.created_subs for s in new_subs)
        # candidates: the .fifo twin, and every live topic this plan takes subscribers from
        for old in sorted((_twins(new) & set(live.topics)) | set(lost_by_topic)):
            if old == new or old in explicit or old in declared.unrelated.get(new, frozenset()):
                continue
            lost = lost_by_topic.get(old, [])
            if not (new_in_play or lost):
                continue
            if twin(new, old):
                found.append((Likely("topic", new, old, _twin_words(new, old), True), 0))
                continue
            # only subscriptions this plan adds count: a topic that already fed the queue takes nothing over
            added = [n for n in new_subs if n.key not in live.subscriptions]
            taken = sorted({s.endpoint for s in lost for n in added if n.protocol == s.protocol and (
                n.endpoint == s.endpoint or (s.protocol == "sqs" and n.endpoint in successors(s.endpoint)))})
            lost_queues = {q for s in lost if s.protocol == "sqs" for q in {s.endpoint, *successors(s.endpoint)}}
            readers = sorted(c.name for c in declared.consumers.values()
                             if new in c.receives and old not in c.receives and c.queue in lost_queues
                             and (new, "sqs", c.queue) not in live.subscriptions)
            if not taken and not readers:
                continue
            parts = []
            if taken:
                parts.append(f"it takes over {old}'s subscriber(s) {', '.join(taken)}")
            if readers:
                parts.append(f"consumer(s) {', '.join(readers)} now receive {new} instead of {old}")
            found.append((Likely("topic", new, old, " and ".join(parts), False), len(taken) + len(readers)))
    return _keep_best(found)


def infer_queues(declared: Declared, live: Topology, changes: list[Change], after: dict[SubscriptionKey, Subscription],
                 replacing_topics: Callable[[str], set[str]]) -> list[Likely]:
    plan = _Plan.of(changes)
    d = declared.topology
    explicit = _explicit_old(declared, "queue")
    lost_by_queue: dict[str, list[Subscription]] = {}
    feeds_by_queue: dict[str, set[str]] = {}
    live_feeds: dict[str, set[str]] = {}
    for s in live.subscriptions.values():
        if s.protocol != "sqs":
            continue
        live_feeds.setdefault(s.endpoint, set()).add(s.topic)
        if ("queue", s.endpoint) in plan.deleted or s.key in plan.removed_subs or ("topic", s.topic) in plan.deleted:
            lost_by_queue.setdefault(s.endpoint, []).append(s)
    for s in after.values():
        if s.protocol == "sqs":
            feeds_by_queue.setdefault(s.endpoint, set()).add(s.topic)
    going = set(lost_by_queue) | {name for kind, name in plan.deleted if kind == "queue"}
    found: list[tuple[Likely, int]] = []
    for new, queue in sorted(d.queues.items()):
        if queue.replaces:
            continue
        for old in sorted((_twins(new) & set(live.queues)) | (going & set(live.queues))):
            if old == new or old in explicit or old in declared.unrelated.get(new, frozenset()) or (
                    old in d.queues and not twin(new, old)):
                continue
            lost = lost_by_queue.get(old, [])
            if not (("queue", new) in plan.created or old in going):
                continue
            if twin(new, old):
                found.append((Likely("queue", new, old, _twin_words(new, old), True), 0))
                continue
            fresh = feeds_by_queue.get(new, set()) - live_feeds.get(new, set())
            taken = sorted({s.topic for s in lost if fresh & ({s.topic} | replacing_topics(s.topic))})
            if taken:
                found.append((Likely("queue", new, old, f"it takes over {old}'s route(s) from {', '.join(taken)}",
                                     False), len(taken)))
    return _keep_best(found)
