"""`postroom watch`'s state machine (postroom.topology.watch_state) and its pure helpers: what a
round's observation changes, that each change is reported once, that an unreachable endpoint is
one alert (not one per route), and how audit findings are narrowed to the file's resources."""

from __future__ import annotations

from pathlib import Path

from postroom.topology.model import Declared, Queue, Subscription, Topic, Topology
from postroom.topology.watch_observe import AUDIT_KINDS, audit_findings, consumable, dlq_findings, subscriber_sets
from postroom.topology.watch_state import (
    ENDPOINT_UNREACHABLE,
    Observation,
    RouteState,
    WatchFinding,
    WatchState,
    shrunk,
    status_document,
    transition,
)

UP_A = RouteState("orders", "billing", "up", 12.0, "", "verify")
UP_B = RouteState("orders", "shipping", "up", 15.0, "", "billing-7f")
DOWN_B = RouteState("orders", "shipping", "down", None, "no reply within 2 s — the live subscription does not exist")
DRIFT_B = WatchFinding("DRIFT", "orders → shipping", "error",
                       "declared subscription orders → sqs:shipping does not exist")
NO_SUB = WatchFinding("NO-SUBSCRIPTION", "orders", "error", "3 message(s) published to orders reached no one")


def obs(at: float, *routes: RouteState, findings: tuple[WatchFinding, ...] = (), reachable: bool = True,
        audit_read: bool = True) -> Observation:
    return Observation(at, reachable, findings, routes, audit_read, AUDIT_KINDS)


def summary(changes: list) -> list[tuple[str, str, str, str]]:  # type: ignore[type-arg]
    return [(c.kind, c.subject, c.previous, c.current) for c in changes]


def test_first_round_reports_every_route_and_finding_healthy_ones_marked_initial() -> None:
    state, changes = transition(WatchState(), obs(100, UP_A, DOWN_B, findings=(DRIFT_B,)))
    assert summary(changes) == [("ROUTE", "orders → billing", "unknown", "up"),
                                ("ROUTE", "orders → shipping", "unknown", "down"),
                                ("DRIFT", "orders → shipping", "unknown", "firing")]
    assert [c.initial for c in changes] == [True, False, False], "only healthy first-round states are initial"
    assert not state.healthy and state.rounds == 1


def test_a_steady_state_reports_nothing_and_keeps_since() -> None:
    state, _ = transition(WatchState(), obs(100, UP_A, DOWN_B, findings=(DRIFT_B,)))
    state, changes = transition(state, obs(130, UP_A, DOWN_B, findings=(DRIFT_B,)))
    assert changes == [], "a state that did not change is not reported again"
    assert state.routes["orders → shipping"].since == 100 and state.findings[DRIFT_B.key].since == 100


def test_breakage_then_recovery_each_reported_once() -> None:
    state, _ = transition(WatchState(), obs(100, UP_A, UP_B))
    assert state.healthy
    state, down = transition(state, obs(130, UP_A, DOWN_B, findings=(DRIFT_B,)))
    assert summary(down) == [("ROUTE", "orders → shipping", "up", "down"),
                             ("DRIFT", "orders → shipping", "ok", "firing")]
    assert not any(c.initial for c in down) and not state.healthy
    line = down[0].line()
    assert "\n" not in line and "DOWN route orders → shipping: no reply within 2 s" in line
    state, up = transition(state, obs(160, UP_A, UP_B))
    assert summary(up) == [("ROUTE", "orders → shipping", "down", "up"),
                           ("DRIFT", "orders → shipping", "firing", "ok")]
    assert up[0].line().endswith("UP route orders → shipping: probe confirmed by billing-7f in 15 ms")
    assert "RESOLVED DRIFT orders → shipping" in up[1].line()
    assert state.healthy and up[0].as_dict()["healthy"] is True and down[0].as_dict()["healthy"] is False


def test_unreachable_endpoint_is_one_alert_and_freezes_the_rest() -> None:
    state, _ = transition(WatchState(), obs(100, UP_A, DOWN_B, findings=(DRIFT_B,)))
    gone = WatchFinding(ENDPOINT_UNREACHABLE, "http://x", "error", "cannot reach http://x")
    state, changes = transition(state, obs(130, findings=(gone,), reachable=False, audit_read=False))
    assert summary(changes) == [(ENDPOINT_UNREACHABLE, "http://x", "ok", "firing")]
    assert state.routes["orders → billing"].value.status == "up", "routes keep their last known state"
    assert DRIFT_B.key in state.findings and not state.healthy
    state, changes = transition(state, obs(160, findings=(gone,), reachable=False, audit_read=False))
    assert changes == []
    state, changes = transition(state, obs(190, UP_A, UP_B))
    assert summary(changes) == [("ROUTE", "orders → shipping", "down", "up"),
                                ("DRIFT", "orders → shipping", "firing", "ok"),
                                (ENDPOINT_UNREACHABLE, "http://x", "firing", "ok")]
    assert state.healthy


def test_audit_findings_are_kept_while_the_audit_cannot_be_read() -> None:
    state, _ = transition(WatchState(), obs(100, UP_A, findings=(NO_SUB,)))
    state, changes = transition(state, obs(130, UP_A, audit_read=False))
    assert changes == [] and NO_SUB.key in state.findings
    state, changes = transition(state, obs(160, UP_A, audit_read=True))
    assert summary(changes) == [("NO-SUBSCRIPTION", "orders", "firing", "ok")]


def test_info_findings_do_not_make_watch_unhealthy() -> None:
    info = WatchFinding("REPLAY-PAUSED", "orders", "info", "paused")
    state, _ = transition(WatchState(), obs(100, UP_A, findings=(info,)))
    assert state.healthy


def test_status_document_lists_down_routes_as_findings() -> None:
    state, changes = transition(WatchState(), obs(100, UP_A, DOWN_B, findings=(DRIFT_B,)))
    doc = status_document(state, changes, {"endpoint": "http://x"})
    assert doc["healthy"] is False and doc["endpoint"] == "http://x" and doc["rounds"] == 1
    assert [(f["kind"], f["subject"]) for f in doc["findings"]] == [("ROUTE-DOWN", "orders → shipping"),
                                                                     ("DRIFT", "orders → shipping")]
    assert [r["status"] for r in doc["routes"]] == ["up", "down"] and len(doc["changes"]) == 3
    assert status_document(WatchState(), [], {})["healthy"] is None, "no round yet: health unknown"


def test_subscriber_set_shrink_is_reported_until_the_subscriber_returns() -> None:
    base, found = shrunk({}, {"orders": frozenset({"sqs:billing", "sqs:shipping"})})
    assert found == []
    base, found = shrunk(base, {"orders": frozenset({"sqs:billing"})})
    assert [(f.kind, f.subject) for f in found] == [("SUBSCRIBERS-SHRANK", "orders")]
    assert "sqs:shipping" in found[0].message and "(1 left)" in found[0].message
    base, found = shrunk(base, {"orders": frozenset({"sqs:billing"})})
    assert len(found) == 1, "still missing: still reported"
    base, found = shrunk(base, {"orders": frozenset({"sqs:billing", "sqs:shipping", "sqs:audit"})})
    assert found == [] and base["orders"] == {"sqs:billing", "sqs:shipping", "sqs:audit"}


def _world() -> tuple[Declared, Topology]:
    declared = Declared(topology=Topology.of(Topic("p-orders"), Queue("p-billing", dlq="p-dlq"), Queue("p-dlq"),
                                             Subscription("p-orders", "sqs", "p-billing")), scope=("p-*",))
    live = Topology.of(Topic("p-orders"), Topic("other-topic"), Queue("p-billing", dlq="p-dlq", depth=0),
                       Queue("p-dlq", depth=3), Queue("other-dlq", depth=9), Queue("other", dlq="other-dlq"),
                       Subscription("p-orders", "sqs", "p-billing"), Subscription("other-topic", "sqs", "other"))
    return declared, live


def test_dlq_and_subscriber_sets_cover_only_the_files_resources() -> None:
    declared, live = _world()
    assert [(f.kind, f.subject) for f in dlq_findings(declared, live)] == [("DLQ-FILLING", "p-dlq")]
    assert subscriber_sets(declared, live) == {"p-orders": frozenset({"sqs:p-billing"})}


def test_audit_findings_narrowed_to_the_file_and_restored_subscriber_dropped() -> None:
    declared, live = _world()
    arn = "arn:aws:sns:us-east-1:000000000000:"
    q = "arn:aws:sqs:us-east-1:000000000000:"
    report = {"findings": [
        {"code": "NO-SUBSCRIPTION", "topic_arn": arn + "p-orders", "subject": arn + "p-orders", "count": 2,
         "message": "2 message(s) published to … reached no one"},
        {"code": "NO-SUBSCRIPTION", "topic_arn": arn + "other-topic", "subject": arn + "other-topic", "count": 2,
         "message": "another team's topic"},
        {"code": "SUBSCRIBER-REMOVED", "topic_arn": arn + "p-orders", "subject": arn + "p-orders:1", "count": 5,
         "message": f"sqs:{q}p-billing was unsubscribed from {arn}p-orders; 5 message(s) published since"},
        {"code": "SUBSCRIBER-REMOVED", "topic_arn": arn + "p-orders", "subject": arn + "p-orders:2", "count": 5,
         "message": f"sqs:{q}p-gone was unsubscribed from {arn}p-orders; 5 message(s) published since"},
        {"code": "DLQ-FILLING", "topic_arn": "", "subject": q + "p-dlq", "count": 3, "message": "holds 3"},
        {"code": "DELIVERIES-FAILING", "topic_arn": arn + "p-orders", "subject": arn + "p-orders:3", "count": 1,
         "message": "1 delivery(ies) to https:https://hook.example/x failed"},
    ]}
    found = [(f.kind, f.subject) for f in audit_findings(report, declared, live)]
    assert found == [("NO-SUBSCRIPTION", "p-orders"), ("SUBSCRIBER-REMOVED", "p-orders → p-gone"),
                     ("DELIVERIES-FAILING", "p-orders → https://hook.example/x")], \
        "other teams' topics, a subscriber subscribed again, and a DLQ the live check covers are left out"


def test_consume_leaves_a_queue_holding_real_messages_alone() -> None:
    declared = Declared(topology=Topology.of(Topic("t"), Queue("empty"), Queue("busy"),
                                             Subscription("t", "sqs", "empty"), Subscription("t", "sqs", "busy")))
    live = Topology.of(Topic("t"), Queue("empty", depth=1), Queue("busy", depth=40))
    names, findings = consumable(declared, live, ("*",))
    assert names == ("empty",), "a leftover probe is fine; 40 messages are not probes"
    assert [(f.kind, f.subject) for f in findings] == [("QUEUE-UNREAD", "busy")]
    assert consumable(declared, live, ("emp*",)) == (("empty",), [])


def test_against_aws_the_audit_is_skipped_and_said_once(tmp_path: Path) -> None:
    from postroom.awsclient import AwsTarget
    from postroom.topology.watch import WatchConfig, Watcher

    file = tmp_path / "postroom.yaml"
    file.write_text("version: 1\n")
    lines: list[str] = []
    watcher = Watcher(WatchConfig(file=file, aws=AwsTarget(region="eu-west-1")), Declared(topology=Topology()),
                      log=lines.append)
    assert watcher._decide_audit() is None and watcher._decide_audit() is None
    assert len(lines) == 1 and "audit: skipped — the endpoint is AWS, which has no delivery audit" in lines[0]
    assert watcher.audit_status.startswith("skipped")
    assert watcher.config.worst_case_detection == 45.0, "the defaults: 30 s interval + 15 s probe timeout"
