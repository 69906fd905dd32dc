"""Table tests of the topology checks. The checks are pure functions over the model, so every case
is a hand-built declared/live pair (plus the plan's changes), checked for the findings it must
produce — and for the findings it must not produce (the negative rows)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.topology.checks import CHECKS, HEALTH_CHECKS, RUNNERS, run_checks, run_checks_detailed
from postroom.topology.model import (
    SEVERITIES,
    Change,
    CheckOverride,
    Consumer,
    Declared,
    Finding,
    Producer,
    Queue,
    Subscription,
    Topic,
    Topology,
    canonical_json,
)

TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:{}"
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:{}"


def Q(name: str, **kw: Any) -> Queue:
    return Queue(name=name, **kw)


def T(name: str, **kw: Any) -> Topic:
    return Topic(name=name, **kw)


def S(topic: str, queue: str, **kw: Any) -> Subscription:
    return Subscription(topic=topic, protocol=kw.pop("protocol", "sqs"), endpoint=queue, **kw)


def topo(*items: Queue | Topic | Subscription) -> Topology:
    return Topology.of(*items)


def decl(*items: Queue | Topic | Subscription, consumers: tuple[Consumer, ...] = (),
         producers: tuple[Producer, ...] = (), overrides: tuple[CheckOverride, ...] = ()) -> Declared:
    return Declared(topology=topo(*items), consumers={c.name: c for c in consumers},
                    producers={p.name: p for p in producers}, overrides=overrides)


def delete_sub(s: Subscription) -> Change:
    return Change("delete", "subscription", s.describe(), s.key, {}, None, destructive=True)


def of(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def only(declared: Declared, live: Topology, check: str, changes: list[Change] | None = None) -> list[Finding]:
    return of(run_checks_detailed(declared, live, changes or [], only=[check]).findings, check)


# -- the incident ----------------------------------------------------------------------------------

def _incident(with_ledger: bool) -> tuple[Declared, Topology]:
    """Two standard topics with three subscribers each, live; the file moves them to FIFO topics
    and every consumer to a FIFO queue (by the .fifo-twin rule and, for billing, by replaces:)."""
    live = topo(T("orders"), T("payments"), *(Q(n) for n in ("billing", "audit", "shipping", "ledger")),
                S("orders", "billing"), S("orders", "audit"), S("orders", "shipping"),
                S("payments", "billing"), S("payments", "audit"), S("payments", "ledger"))
    subs = [S("orders.fifo", "billing-v2.fifo"), S("orders.fifo", "audit.fifo"), S("orders.fifo", "shipping.fifo"),
            S("payments.fifo", "billing-v2.fifo"), S("payments.fifo", "audit.fifo")]
    if with_ledger:
        subs.append(S("payments.fifo", "ledger.fifo"))
    declared = decl(T("orders.fifo", replaces="orders"), T("payments.fifo", replaces="payments"),
                    Q("billing-v2.fifo", replaces="billing"), Q("audit.fifo"), Q("shipping.fifo"),
                    Q("ledger.fifo"), *subs)
    return declared, live


def test_incident_one_forgotten_subscriber_is_exactly_one_migration_gap_naming_it() -> None:
    declared, live = _incident(with_ledger=False)
    gaps = of(run_checks(declared, live, []), "MIGRATION-GAP")
    assert len(gaps) == 1, [g.message for g in gaps]
    gap = gaps[0]
    assert gap.severity == "error"
    assert "payments" in gap.message and "sqs:ledger" in gap.message and "ledger.fifo" in gap.message
    assert "payments.fifo → ledger.fifo" in gap.resources  # the subscription to add
    assert "payments → ledger" in gap.resources  # the forgotten one, as an override would name it
    assert "payments.fifo" in gap.fix and "ledger.fifo" in gap.fix


def test_incident_corrected_file_has_no_gap_and_no_error() -> None:
    declared, live = _incident(with_ledger=True)
    findings = run_checks(declared, live, [])
    assert of(findings, "MIGRATION-GAP") == []
    assert [f for f in findings if f.severity == "error"] == []


def test_incident_gap_holds_when_the_plan_also_deletes_the_old_subscriptions() -> None:
    declared, live = _incident(with_ledger=False)
    changes = [delete_sub(s) for s in live.subscriptions.values()]
    findings = run_checks(declared, live, changes)
    gaps = of(findings, "MIGRATION-GAP")
    assert len(gaps) == 1 and "this plan removes its subscription" in gaps[0].message
    # …named once: the lost route of a replaced topic is MIGRATION-GAP's, not also ROUTE-LOSS's
    errors = [f for f in findings if f.severity == "error" and "payments → ledger" in f.resources]
    assert [f.check for f in errors] == ["MIGRATION-GAP"]


# -- MISSING-ROUTE ---------------------------------------------------------------------------------

BILLING = Consumer("billing", "billing.fifo", ("orders.fifo",))


@pytest.mark.parametrize(("declared_subs", "live_subs", "delete_live", "expected"), [
    ((), (), False, 1),                                      # nothing delivers orders.fifo to billing.fifo
    ((S("orders.fifo", "billing.fifo"),), (), False, 0),     # declared
    ((), (S("orders.fifo", "billing.fifo"),), False, 0),     # live and kept
    ((), (S("orders.fifo", "billing.fifo"),), True, 1),      # live but this plan deletes it
    ((S("orders.fifo", "other.fifo"),), (), False, 1),       # the topic goes elsewhere
])
def test_missing_route(declared_subs: tuple[Subscription, ...], live_subs: tuple[Subscription, ...],
                       delete_live: bool, expected: int) -> None:
    declared = decl(T("orders.fifo"), Q("billing.fifo"), Q("other.fifo"), *declared_subs, consumers=(BILLING,))
    live = topo(T("orders.fifo"), Q("billing.fifo"), *live_subs)
    changes = [delete_sub(s) for s in live_subs] if delete_live else []
    found = only(declared, live, "MISSING-ROUTE", changes)
    assert len(found) == expected
    if expected:
        assert found[0].severity == "error"
        assert "billing" in found[0].message and "orders.fifo" in found[0].message
        assert "billing.fifo" in found[0].message


# -- MIGRATION-GAP ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("new_sub_queue", "extra_queues", "gap"), [
    ("reports", (), False),                                    # same endpoint
    ("reports.fifo", (Q("reports.fifo"),), False),             # its declared .fifo twin
    ("reports-new.fifo", (Q("reports-new.fifo", replaces="reports"),), False),   # declared replaces:
    ("reports-new.fifo", (Q("reports-new.fifo"),), True),      # an unrelated queue is no successor
    ("reports.fifo", (), True),                                # a twin that is not declared is no successor
])
def test_migration_gap_equivalents(new_sub_queue: str, extra_queues: tuple[Queue, ...], gap: bool) -> None:
    live = topo(T("events"), Q("reports"), S("events", "reports"))
    declared = decl(T("events.fifo", replaces="events"), Q("reports"), *extra_queues,
                    S("events.fifo", new_sub_queue))
    found = only(declared, live, "MIGRATION-GAP")
    assert [f.severity for f in found] == (["error"] if gap else [])


def test_migration_gap_http_subscriber_on_fifo_topic_explains_it_cannot_follow() -> None:
    hook = S("events", "https://hooks.example/x", protocol="https")
    found = only(decl(T("events.fifo", replaces="events")), topo(T("events"), hook), "MIGRATION-GAP")
    assert len(found) == 1 and "https://hooks.example/x" in found[0].message
    assert "only to SQS" in found[0].fix


def test_migration_gap_old_topic_missing_live() -> None:
    live = topo(T("orders-events"), T("orders.fifo"))
    typo = only(decl(T("orders.fifo", replaces="order-events")), live, "MIGRATION-GAP")
    assert len(typo) == 1 and typo[0].severity == "error" and "did you mean orders-events" in typo[0].message
    finished = only(decl(T("orders.fifo", replaces="orders")), topo(T("orders.fifo")), "MIGRATION-GAP")
    assert len(finished) == 1 and finished[0].severity == "warning"  # old topic gone: migration finished
    assert "remove replaces" in finished[0].fix


# -- FIFO-MISMATCH / DLQ-TYPE ----------------------------------------------------------------------

@pytest.mark.parametrize(("sub", "severity"), [
    (S("events", "jobs.fifo"), "error"),          # AWS rejects a FIFO queue on a standard topic
    (S("events.fifo", "jobs"), "warning"),        # accepted, loses ordering and dedup
    (S("events.fifo", "https://h.example/x", protocol="https"), "error"),   # FIFO topics deliver to SQS only
    (S("events.fifo", "jobs.fifo"), None),
    (S("events", "jobs"), None),
])
def test_fifo_mismatch_pairs(sub: Subscription, severity: str | None) -> None:
    declared = decl(T(sub.topic), Q("jobs"), Q("jobs.fifo"), sub)
    found = only(declared, Topology(), "FIFO-MISMATCH")
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_fifo_consumer_fed_by_standard_topic_through_a_migration_step() -> None:
    live = topo(T("events"), T("orders"), Q("billing"), S("events", "billing"), S("orders", "billing"))
    # billing.fifo takes over from billing; orders got a FIFO successor, events did not
    declared = decl(T("orders.fifo", replaces="orders"), Q("billing.fifo", replaces="billing"),
                    S("orders.fifo", "billing.fifo"))
    found = only(declared, live, "FIFO-MISMATCH")
    assert len(found) == 1
    assert "events" in found[0].message and "billing.fifo" in found[0].message and "orders" not in found[0].resources
    via_consumer = decl(Q("billing.fifo"), T("events"),
                        consumers=(Consumer("billing", "billing.fifo", ("events",)),))
    found = only(via_consumer, Topology(), "FIFO-MISMATCH")
    assert len(found) == 1 and found[0].severity == "error" and "consumer billing" in found[0].message


@pytest.mark.parametrize(("items", "errors"), [
    ((Q("a.fifo", dlq="a-dlq", max_receive_count=3), Q("a-dlq")), 1),
    ((Q("a", dlq="a-dlq.fifo", max_receive_count=3), Q("a-dlq.fifo")), 1),
    ((Q("a.fifo", dlq="a-dlq.fifo", max_receive_count=3), Q("a-dlq.fifo")), 0),
    ((T("t.fifo"), Q("q.fifo"), Q("d"), S("t.fifo", "q.fifo", dlq="d")), 1),
    ((T("t"), Q("q"), Q("d.fifo"), S("t", "q", dlq="d.fifo")), 1),
    ((T("t.fifo"), Q("q.fifo"), Q("d.fifo"), S("t.fifo", "q.fifo", dlq="d.fifo")), 0),
])
def test_dlq_type(items: tuple[Queue | Topic | Subscription, ...], errors: int) -> None:
    found = only(decl(*items), Topology(), "DLQ-TYPE")
    assert len(found) == errors and all(f.severity == "error" for f in found)


# -- ORPHAN-*, NO-DLQ ------------------------------------------------------------------------------

def test_orphan_topic() -> None:
    assert len(only(decl(T("lonely")), Topology(), "ORPHAN-TOPIC")) == 1
    # a live subscription the plan keeps counts
    assert only(decl(T("t"), Q("q")), topo(S("t", "q")), "ORPHAN-TOPIC") == []


@pytest.mark.parametrize(("declared", "orphan"), [
    (decl(Q("q")), True),
    (decl(Q("q"), T("t"), S("t", "q")), False),
    (decl(Q("q"), producers=(Producer("batch", sends=("q",)),)), False),
    (decl(Q("q", dlq="q-dlq", max_receive_count=5), Q("q-dlq"), producers=(Producer("p", sends=("q",)),)), False),
    (decl(Q("q"), consumers=(Consumer("c", "q", ()),)), True),
])
def test_orphan_queue(declared: Declared, orphan: bool) -> None:
    found = only(declared, Topology(), "ORPHAN-QUEUE")
    assert [f.resources[0] for f in found] == (["q"] if orphan else [])


@pytest.mark.parametrize(("declared", "expected"), [
    (decl(Q("q"), consumers=(Consumer("c", "q", ()),)), ["q"]),
    (decl(Q("q"), T("t"), S("t", "q")), ["q"]),                        # fed by a topic: someone reads it
    (decl(Q("q", dlq="d", max_receive_count=5), Q("d"), consumers=(Consumer("c", "q", ()),),
          producers=(Producer("p", sends=("d",)),)), []),              # has one; d is a DLQ: exempt
    (decl(Q("q")), []),                                                # no one reads it (ORPHAN-QUEUE's business)
])
def test_no_dlq(declared: Declared, expected: list[str]) -> None:
    assert [f.resources[0] for f in only(declared, Topology(), "NO-DLQ")] == expected


# -- RAW-DELIVERY-CHANGE / FILTER-CHANGE -----------------------------------------------------------

POLICY_A = canonical_json({"kind": ["order"]})
POLICY_B = canonical_json({"kind": ["order", "refund"]})


def test_raw_delivery_change_between_old_and_replacing_subscription() -> None:
    live = topo(T("orders"), Q("billing"), S("orders", "billing", raw=True))
    declared = decl(T("orders.fifo", replaces="orders"), Q("billing.fifo", replaces="billing"),
                    S("orders.fifo", "billing.fifo", raw=False))
    found = only(declared, live, "RAW-DELIVERY-CHANGE")
    assert len(found) == 1
    assert "orders → billing" in found[0].message and "orders.fifo → billing.fifo" in found[0].message
    assert "envelope" in found[0].message
    same = decl(T("orders.fifo", replaces="orders"), Q("billing.fifo", replaces="billing"),
                S("orders.fifo", "billing.fifo", raw=True))
    assert only(same, live, "RAW-DELIVERY-CHANGE") == []


def test_raw_delivery_change_in_place() -> None:
    live = topo(T("t"), Q("q"), S("t", "q", raw=False))
    found = only(decl(T("t"), Q("q"), S("t", "q", raw=True)), live, "RAW-DELIVERY-CHANGE")
    assert len(found) == 1 and "update in place" in found[0].message


@pytest.mark.parametrize(("old", "new", "changed"), [
    (S("orders", "billing", filter_policy=POLICY_A), S("orders.fifo", "billing.fifo", filter_policy=POLICY_B), True),
    (S("orders", "billing", filter_policy=POLICY_A), S("orders.fifo", "billing.fifo"), True),
    (S("orders", "billing", filter_policy=POLICY_A),
     S("orders.fifo", "billing.fifo", filter_policy=POLICY_A, filter_scope="MessageBody"), True),
    (S("orders", "billing", filter_policy=POLICY_A), S("orders.fifo", "billing.fifo", filter_policy=POLICY_A), False),
    # without a policy the scope is moot
    (S("orders", "billing", filter_scope="MessageBody"), S("orders.fifo", "billing.fifo"), False),
])
def test_filter_change(old: Subscription, new: Subscription, changed: bool) -> None:
    live = topo(T("orders"), Q("billing"), old)
    declared = decl(T("orders.fifo", replaces="orders"), Q("billing.fifo"), new)
    found = only(declared, live, "FILTER-CHANGE")
    assert len(found) == int(changed)
    if changed:
        assert "orders → billing" in found[0].message and "orders.fifo → billing.fifo" in found[0].message


# -- DESTRUCTIVE -----------------------------------------------------------------------------------

def test_destructive_queue_delete_depends_on_depth() -> None:
    live = topo(Q("full", depth=5), Q("empty", depth=0))
    changes = [Change("delete", "queue", n, (n,), {}, None, destructive=True) for n in ("full", "empty")]
    found = {f.resources[0]: f for f in only(decl(), live, "DESTRUCTIVE", changes)}
    assert found["full"].severity == "error" and "5 message" in found["full"].message
    assert found["empty"].severity == "warning" and "empty" in found["empty"].message


def test_destructive_topic_delete_names_its_subscriptions() -> None:
    live = topo(T("old"), Q("a"), S("old", "a"))
    changes = [Change("delete", "topic", "old", ("old",), {}, None, destructive=True)]
    found = only(decl(Q("a")), live, "DESTRUCTIVE", changes)
    assert len(found) == 1 and "old → a" in found[0].message


def test_subscription_removal_without_replacement_is_a_route_loss() -> None:
    """Removing a subscription nothing replaces was a DESTRUCTIVE warning; it is now ROUTE-LOSS, an
    error (issue #14: losing a route blocks)."""
    old = S("orders", "billing")
    live = topo(T("orders"), Q("billing"), old)
    replaced = decl(T("orders.fifo", replaces="orders"), Q("billing.fifo", replaces="billing"),
                    S("orders.fifo", "billing.fifo"))
    assert only(replaced, live, "ROUTE-LOSS", [delete_sub(old)]) == []
    dropped = only(decl(T("orders"), Q("billing")), live, "ROUTE-LOSS", [delete_sub(old)])
    assert len(dropped) == 1 and "orders → billing" in dropped[0].resources and dropped[0].severity == "error"
    assert only(decl(T("orders"), Q("billing")), live, "DESTRUCTIVE", [delete_sub(old)]) == []


# -- health ----------------------------------------------------------------------------------------

def test_queue_missing() -> None:
    declared_sub = only(decl(T("t"), S("t", "nowhere")), Topology(), "QUEUE-MISSING")
    assert len(declared_sub) == 1 and "neither declared nor live" in declared_sub[0].message
    live_sub = only(decl(), topo(T("t"), S("t", "deleted")), "QUEUE-MISSING")
    assert len(live_sub) == 1 and "no longer exists" in live_sub[0].message
    dlq = only(decl(Q("a", dlq="gone", max_receive_count=3)), Topology(), "QUEUE-MISSING")
    assert len(dlq) == 1 and "gone" in dlq[0].message
    assert only(decl(T("t")), topo(Q("q"), S("t", "q")), "QUEUE-MISSING") == []


def _policy(**cond: Any) -> str:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                          "Action": "sqs:SendMessage", "Resource": QUEUE_ARN.format("q")}
    if cond:
        st["Condition"] = cond
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


DENY_ALL = json.dumps({"Statement": [
    json.loads(_policy())["Statement"][0],
    {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]})


@pytest.mark.parametrize(("policy", "expected"), [
    (None, "info"),
    (_policy(ArnEquals={"aws:SourceArn": TOPIC_ARN.format("t")}), None),
    (_policy(ArnLike={"aws:SourceArn": TOPIC_ARN.format("*")}), None),
    (_policy(), None),
    (_policy(ArnEquals={"aws:SourceArn": TOPIC_ARN.format("other")}), "warning"),
    (DENY_ALL, "warning"),
    (_policy(StringEquals={"aws:SourceAccount": "000000000000"}), None),   # cannot judge: no false alarm
    (json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                                "Action": "sqs:SendMessage", "Resource": "*"}]}), "warning"),
])
def test_queue_policy(policy: str | None, expected: str | None) -> None:
    attrs = {"Policy": policy} if policy else {}
    live = topo(T("t", arn=TOPIC_ARN.format("t")), Q("q", attributes=attrs, arn=QUEUE_ARN.format("q")), S("t", "q"))
    found = only(decl(), live, "QUEUE-POLICY")
    assert [f.severity for f in found] == ([expected] if expected else [])


@pytest.mark.parametrize(("status", "policy", "paused"), [
    ("Completed", {"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z",
                   "EndingPoint": "2026-01-02T00:00:00Z"}, True),
    ("Completed", {"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z"}, False),
    ("In progress", {"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z",
                     "EndingPoint": "2026-01-02T00:00:00Z"}, False),
    (None, None, False),
])
def test_replay_paused(status: str | None, policy: dict[str, str] | None, paused: bool) -> None:
    sub = S("t.fifo", "q.fifo", replay_status=status, replay_policy=canonical_json(policy) if policy else None)
    found = only(decl(), topo(T("t.fifo"), Q("q.fifo"), sub), "REPLAY-PAUSED")
    assert [f.severity for f in found] == (["error"] if paused else [])


# -- overrides -------------------------------------------------------------------------------------

def _orphans(*overrides: CheckOverride) -> Declared:
    return decl(Q("a"), Q("b"), overrides=overrides)


def test_override_off_silences_with_reason_and_lists_it() -> None:
    result = run_checks_detailed(_orphans(CheckOverride("ORPHAN-QUEUE", "a", "off", "fed by the nightly batch")),
                                 Topology(), [], only=["ORPHAN-QUEUE"])
    assert [f.resources[0] for f in result.findings] == ["b"]
    assert [(f.resources[0], o.reason) for f, o in result.silenced] == [("a", "fed by the nightly batch")]


def test_override_tunes_severity_and_specific_beats_wildcard() -> None:
    result = run_checks_detailed(_orphans(CheckOverride("ORPHAN-QUEUE", "a", "info", "being built"),
                                          CheckOverride("ORPHAN-QUEUE", "*", "error", "strict here")),
                                 Topology(), [], only=["ORPHAN-QUEUE"])
    sev = {f.resources[0]: f for f in result.findings}
    assert sev["a"].severity == "info" and "being built" in sev["a"].message
    assert sev["b"].severity == "error"


def test_override_on_a_subscription_and_reason_required() -> None:
    declared, live = _incident(with_ledger=False)
    declared.overrides = (CheckOverride("MIGRATION-GAP", "payments → sqs:ledger", "off", "ledger retires"),)
    result = run_checks_detailed(declared, live, [])
    assert of(result.findings, "MIGRATION-GAP") == [] and len(result.silenced) == 1
    declared.overrides = (CheckOverride("MIGRATION-GAP", "payments → ledger", "off", "  "),)
    assert len(of(run_checks(declared, live, []), "MIGRATION-GAP")) == 1  # no reason: not applied


def test_override_of_another_check_does_not_apply() -> None:
    result = run_checks_detailed(_orphans(CheckOverride("NO-DLQ", "*", "off", "dev")), Topology(), [],
                                 only=["ORPHAN-QUEUE"])
    assert len(result.findings) == 2 and result.silenced == []


# -- the registry ----------------------------------------------------------------------------------

def test_registry_covers_every_check_and_every_finding_is_complete() -> None:
    assert set(RUNNERS) | {"DRIFT"} == set(CHECKS)
    assert set(HEALTH_CHECKS) <= set(CHECKS)
    for info in CHECKS.values():
        assert info.severity in SEVERITIES and info.description and info.fix
    declared, live = _incident(with_ledger=False)
    findings = run_checks(declared, live, [delete_sub(s) for s in live.subscriptions.values()])
    assert {f.check for f in findings} >= {"MIGRATION-GAP", "NO-DLQ", "QUEUE-POLICY"}
    for f in findings:
        assert f.message and f.fix and f.resources and f.severity in SEVERITIES
    assert [f.severity for f in findings] == sorted((f.severity for f in findings),
                                                    key=("error", "warning", "info").index)


def test_live_resources_outside_the_files_scope_are_not_judged() -> None:
    live = topo(T("prod-events"), Q("prod-jobs.fifo"), S("prod-events", "prod-jobs.fifo"),
                T("stg-events"), Q("stg-jobs.fifo"), S("stg-events", "stg-jobs.fifo"))
    staging = decl()
    staging.scope = ("stg-*",)
    found = only(staging, live, "FIFO-MISMATCH")
    assert [f.resources[0] for f in found] == ["stg-events → stg-jobs.fifo"]
    # …but a forgotten subscriber of a replaced topic is reported whoever owns it
    staging.topology.topics["stg-events.fifo"] = T("stg-events.fifo", replaces="stg-events")
    live.subscriptions[("stg-events", "sqs", "prod-jobs.fifo")] = S("stg-events", "prod-jobs.fifo")
    gaps = only(staging, live, "MIGRATION-GAP")
    assert sorted(g.resources[2] for g in gaps) == ["prod-jobs.fifo", "stg-jobs.fifo"]


def test_the_loader_accepts_exactly_the_registered_check_ids() -> None:
    from postroom.topology.schema import CHECK_IDS

    assert set(CHECK_IDS) == set(CHECKS)
