"""Issue #14, "conservative by default": a plan that loses a route is refused, on postroom and on
moto's server, through the CLI as a user runs it.

- the incident's migration written by a new user — FIFO topics, no ``replaces:``, one subscriber
  forgotten, the old topics dropped from the file — is refused, naming the forgotten subscriber,
  with the recognised migration said in words and the lost route first in the route table;
- the same file retiring that route, with a reason, passes (and the reason is in the plan);
- deleting a queue that holds messages is refused; retiring the queue passes;
- ``unrelated_to:`` tells the plan a new topic is not a replacement.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from postroom.topology.checklist import render_checklist
from postroom.topology.checks import run_checks_detailed
from postroom.topology.loader import SpecError, loads
from postroom.topology.model import (
    Change,
    Declared,
    Finding,
    Queue,
    Retirement,
    Subscription,
    Topic,
    Topology,
)
from postroom.topology.planfile import Plan, approval_problems, approval_reason
from tests.endpoints import Endpoint
from tests.topology.conftest import invoke, queue_arn

SUBSCRIBERS = ("billing", "shipping", "audit")


def _live(ep: Endpoint, p: str) -> None:
    """Production before the migration: standard topics orders and payments, each delivering to the
    standard queues billing, shipping and audit."""
    sqs, sns = ep.client("sqs"), ep.client("sns")
    for q in SUBSCRIBERS:
        sqs.create_queue(QueueName=f"{p}{q}")
    for topic in ("orders", "payments"):
        arn = sns.create_topic(Name=f"{p}{topic}")["TopicArn"]
        for q in SUBSCRIBERS:
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}{q}"))


def _file(p: str, *, forget: bool = True, retire: str = "", extra: str = "") -> str:
    """The migration as a new user writes it: FIFO topics, billing on a FIFO queue, no ``replaces:``
    anywhere, the old topics simply left out (so the plan deletes them); ``forget`` leaves out
    payments.fifo → audit."""
    subs = [("orders.fifo", "billing.fifo"), ("orders.fifo", "shipping"), ("orders.fifo", "audit"),
            ("payments.fifo", "billing.fifo"), ("payments.fifo", "shipping")]
    if not forget:
        subs.append(("payments.fifo", "audit"))
    sub_lines = "\n".join(f"  - {{topic: {p}{t}, queue: {p}{q}}}" for t, q in subs)
    return f"""version: 1
environments:
  prod:
    scope: ["{p}*"]
queues:
  {p}billing.fifo: {{content_based_deduplication: true}}
  {p}billing: {{}}
  {p}shipping: {{}}
  {p}audit: {{}}
topics:
  {p}orders.fifo: {{content_based_deduplication: true}}
  {p}payments.fifo: {{content_based_deduplication: true}}
{extra}subscriptions:
{sub_lines}
checks:
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: about routes}}
  - {{check: ORPHAN-QUEUE, resource: "*", severity: "off", reason: about routes}}
{retire}"""


def _plan(ep: Endpoint, spec: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    r = invoke(ep, "plan", "-f", str(spec), "--env", "prod", "-o", str(out), "--author", "dev", *extra)
    return r.code, r.out, r.err


def test_migration_without_replaces_is_refused_naming_the_forgotten_subscriber(
        endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    _live(endpoint, p)
    spec, plan_path = tmp_path / "postroom.yaml", tmp_path / "plan.json"
    spec.write_text(_file(p))
    code, out, err = _plan(endpoint, spec, plan_path)
    assert code == 1, out + err
    assert "blocking finding" in err

    # the summary comes first: the blocking finding, then the route table, then the long lists
    blocking_at, routes_at, changes_at = out.index("Blocking (1)"), out.index("Routes ("), out.index("Changes:")
    assert blocking_at < routes_at < changes_at
    blocking = out[blocking_at:routes_at]
    assert "MIGRATION-GAP" in blocking and f"sqs:{p}audit" in blocking and f"of {p}payments" in blocking, blocking
    assert f"{p}payments.fifo looks like it replaces {p}payments" in blocking
    assert f"add `replaces: {p}payments`" in blocking and "unrelated_to" in blocking
    # exactly one subscriber is named: the others moved (billing to its .fifo twin)
    assert f"sqs:{p}shipping" not in blocking and f"sqs:{p}billing" not in blocking
    table = out[routes_at:changes_at].splitlines()
    assert "LOST" in table[0] and "route" in table[1] and "before" in table[1] and "after" in table[1]
    assert table[2].lstrip().startswith(f"✗ {p}payments → {p}audit"), table
    assert sum("✗" in line for line in table) == 1, table
    assert any(f"{p}orders → {p}billing " in line and f"→ {p}orders.fifo → {p}billing.fifo" in line
               for line in table), table
    assert "LIKELY-REPLACEMENT" in out[changes_at:]  # the recognised migrations, as warnings

    # apply refuses the plan, even approved
    assert invoke(endpoint, "approve", str(plan_path), "--by", "reviewer").code == 0
    refused = invoke(endpoint, "apply", str(plan_path), "--by", "dev")
    assert refused.code == 1 and "blocking finding MIGRATION-GAP" in refused.err, refused.err
    assert f"{p}orders.fifo" not in {t["TopicArn"].rsplit(":", 1)[-1]
                                     for t in endpoint.client("sns").list_topics()["Topics"]}, "nothing changed"

    # checklist: the same summary ahead of the steps
    md = invoke(endpoint, "checklist", str(plan_path)).out
    assert md.index("## Blocking") < md.index("## Routes") < md.index("## What changes")
    assert f"| **LOST** | `{p}payments → {p}audit` |" in md

    # the corrected file passes
    spec.write_text(_file(p, forget=False))
    code, out, err = _plan(endpoint, spec, plan_path)
    assert code == 2, out + err
    assert "Blocking" not in out and "MIGRATION-GAP" not in out and "ROUTE-LOSS" not in out


def test_a_retired_route_passes_with_its_reason(endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    _live(endpoint, p)
    spec, plan_path = tmp_path / "postroom.yaml", tmp_path / "plan.json"
    retire = (f"retire:\n  - {{topic: {p}payments, queue: {p}audit, "
              "reason: \"audit reads payments from the ledger now\"}\n")
    spec.write_text(_file(p, retire=retire))
    code, out, err = _plan(endpoint, spec, plan_path)
    assert code == 2, out + err
    assert "Blocking" not in out
    assert any(line.lstrip().startswith(f"– {p}payments → {p}audit") and "dropped — deletes topic" in line
               and "retired: audit reads payments from the ledger now" in line for line in out.splitlines()), out
    assert "LOST" not in out
    saved = json.loads(plan_path.read_text())
    assert [r["status"] for r in saved["routes"] if r["route"] == f"{p}payments → {p}audit"] == ["retired"]
    accepted = [f for f in saved["findings"] if f["check"] == "MIGRATION-GAP"]
    assert len(accepted) == 1 and accepted[0]["severity"] == "info"
    assert accepted[0]["accepted"] == "retired: audit reads payments from the ledger now"
    # deleting the old subscriptions is destructive: the plan still needs a second person
    assert invoke(endpoint, "apply", str(plan_path), "--by", "dev").code == 1
    assert invoke(endpoint, "approve", str(plan_path), "--by", "reviewer").code == 0
    applied = invoke(endpoint, "apply", str(plan_path), "--by", "dev")
    assert applied.code == 0, applied.text
    topics = {t["TopicArn"].rsplit(":", 1)[-1] for t in endpoint.client("sns").list_topics()["Topics"]}
    assert f"{p}payments" not in topics and f"{p}payments.fifo" in topics


def test_a_dropped_subscription_on_a_kept_topic_is_a_route_loss(endpoint: Endpoint, prefix: str,
                                                                  tmp_path: Path) -> None:
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    for q in ("jobs", "mail"):
        sqs.create_queue(QueueName=f"{p}{q}")
    arn = sns.create_topic(Name=f"{p}events")["TopicArn"]
    for q in ("jobs", "mail"):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}{q}"))
    spec = tmp_path / "postroom.yaml"
    base = f"""version: 1
environments: {{prod: {{scope: ["{p}*"]}}}}
queues: {{{p}jobs: {{}}, {p}mail: {{}}}}
topics: {{{p}events: {{}}}}
subscriptions:
  - {{topic: {p}events, queue: {p}jobs}}
checks:
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: about routes}}
  - {{check: ORPHAN-QUEUE, resource: "*", severity: "off", reason: about routes}}
"""
    spec.write_text(base)
    code, out, _ = _plan(endpoint, spec, tmp_path / "a.json")
    assert code == 1 and "ROUTE-LOSS" in out and f"sqs:{p}mail of {p}events loses its route" in out, out
    assert "retire:" in out  # the fix says how to accept it

    # a "*" override cannot accept a lost route: the file is refused with its line
    spec.write_text(base + "  - {check: ROUTE-LOSS, resource: \"*\", severity: \"off\", reason: cleanup}\n")
    r = invoke(endpoint, "plan", "-f", str(spec), "--env", "prod")
    assert r.code == 1 and "postroom.yaml:10" in r.err and "route by route" in r.err, r.text

    # an override naming the route, with its reason, does
    spec.write_text(base + f"  - {{check: ROUTE-LOSS, resource: \"{p}events → {p}mail\", severity: \"off\", "
                    "reason: mail is fed by the outbox now}\n")
    code, out, _ = _plan(endpoint, spec, tmp_path / "b.json")
    assert code == 2 and "silenced ROUTE-LOSS" in out and "mail is fed by the outbox now" in out, out


def test_deleting_a_queue_with_messages_is_refused_unless_retired(endpoint: Endpoint, prefix: str,
                                                                   tmp_path: Path) -> None:
    p = prefix
    sqs = endpoint.client("sqs")
    for q in ("keep", "old"):
        sqs.create_queue(QueueName=f"{p}{q}")
    url = sqs.get_queue_url(QueueName=f"{p}old")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    spec = tmp_path / "postroom.yaml"
    base = f"""version: 1
environments: {{prod: {{scope: ["{p}*"]}}}}
queues: {{{p}keep: {{}}}}
checks:
  - {{check: ORPHAN-QUEUE, resource: "*", severity: "off", reason: test}}
  - {{check: DESTRUCTIVE, resource: "*", severity: "info", reason: "a * override does not reach errors"}}
"""
    spec.write_text(base)
    code, out, _ = _plan(endpoint, spec, tmp_path / "a.json")
    assert code == 1, out
    assert "DESTRUCTIVE" in out and f"deleting queue {p}old deletes the 3 message(s)" in out
    spec.write_text(base + f"retire:\n  - {{queue: {p}old, reason: \"replayed into keep already\"}}\n")
    code, out, _ = _plan(endpoint, spec, tmp_path / "b.json")
    assert code == 2, out
    assert "retired: replayed into keep already" in out


def test_unrelated_to_says_a_new_topic_is_no_replacement(endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    """A new FIFO topic next to a standard one of the same name that stays: without a word the plan
    takes it for a migration (and names the subscribers it lacks); unrelated_to: says it is not."""
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    sqs.create_queue(QueueName=f"{p}audit")
    arn = sns.create_topic(Name=f"{p}events")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}audit"))
    spec = tmp_path / "postroom.yaml"

    def text(marker: str) -> str:
        return f"""version: 1
environments: {{prod: {{scope: ["{p}*"]}}}}
queues: {{{p}audit: {{}}, {p}orders.fifo: {{}}}}
topics:
  {p}events: {{}}
  {p}events.fifo: {{{marker}}}
subscriptions:
  - {{topic: {p}events, queue: {p}audit}}
  - {{topic: {p}events.fifo, queue: {p}orders.fifo}}
checks:
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: about routes}}
"""
    spec.write_text(text(""))
    code, out, _ = _plan(endpoint, spec, tmp_path / "a.json")
    assert code == 1 and f"{p}events.fifo looks like it replaces {p}events" in out, out
    assert f"sqs:{p}audit" in out
    spec.write_text(text(f"unrelated_to: [{p}events]"))
    code, out, _ = _plan(endpoint, spec, tmp_path / "b.json")
    assert code == 2 and "looks like it replaces" not in out and "MIGRATION-GAP" not in out, out


# ---- the file: retire:, unrelated_to:, sample:, and "*" overrides of route checks ------------------

def _problems(text: str) -> list[tuple[int | None, str, str, str]]:
    try:
        loads(textwrap.dedent(text))
    except SpecError as e:
        return [(p.line, p.path, p.message, p.fix) for p in e.problems]
    return []


def test_the_file_states_retirements_unrelated_resources_and_samples() -> None:
    declared = loads(textwrap.dedent("""\
        version: 1
        queues: {billing.fifo: {unrelated_to: [billing]}, audit: {}}
        topics: {orders.fifo: {unrelated_to: [orders]}}
        subscriptions:
          - topic: orders.fifo
            queue: billing.fifo
            filter_policy: {kind: [order], amount: [{numeric: [">", 10]}]}
            sample: {attributes: {kind: order, amount: 12, tags: [a, b]}}
        retire:
          - {topic: payments, queue: audit, reason: "audit reads the ledger now"}
          - {queue: legacy, reason: "drained into billing.fifo"}
        """))
    assert declared.unrelated == {"billing.fifo": frozenset({"billing"}), "orders.fifo": frozenset({"orders"})}
    sample = declared.samples[("orders.fifo", "sqs", "billing.fifo")]
    assert sample.attributes == (("kind", "String", "order"), ("amount", "Number", "12"),
                                 ("tags", "String.Array", '["a", "b"]'))
    assert declared.retired == (Retirement("payments → audit", "audit reads the ledger now", "route"),
                                Retirement("legacy", "drained into billing.fifo", "queue"))
    by_check = {(o.check, o.resource) for o in declared.overrides if o.retire}
    assert by_check == {("ROUTE-LOSS", "payments → audit"), ("MIGRATION-GAP", "payments → audit"),
                        ("ROUTE-LOSS", "legacy"), ("MIGRATION-GAP", "legacy"), ("DESTRUCTIVE", "legacy")}


def test_file_errors_for_retire_samples_and_wildcard_route_overrides() -> None:
    problems = _problems("""\
        version: 1
        queues: {q: {unrelated_to: [q]}}
        topics: {t: {}}
        subscriptions:
          - topic: t
            queue: q
            filter_policy: {kind: [order]}
            sample: {attributes: {kind: refund}}
        retire:
          - {topic: t, queeu: q, reason: x}
          - {topic: t, queue: q}
          - {topic: t, queue: q, reason: "still declared"}
        checks:
          - {check: MIGRATION-GAP, resource: "*", severity: "off", reason: "not here"}
        """)
    by_line = {line: (path, message, fix) for line, path, message, fix in problems}
    assert "cannot be unrelated to itself" in by_line[2][1]
    assert by_line[8][0] == "subscriptions[0].sample" and "does not pass the subscription's filter policy" \
        in by_line[8][1]
    assert by_line[10][1] == "unknown key 'queeu'" and "did you mean 'queue'?" in by_line[10][2]
    assert by_line[11][1] == "'reason' is required here" and "why this route may be dropped" in by_line[11][2]
    assert "still declared under subscriptions:" in by_line[12][1]
    assert "route by route" in by_line[14][1] and "retire:" in by_line[14][2]
    assert len(problems) == 6, problems


# ---- plans: compatibility, and the second person for accepted losses in protected environments -------

def _plan_doc(findings: list[Finding] | None = None, silenced: list[dict[str, Any]] | None = None) -> Plan:
    plan = Plan(created_at="2026-01-01T00:00:00Z", author="ann", environment="prod", protected=True,
                file={"path": "postroom.yaml", "sha256": "0"}, target={}, live={"resources": {}}, steps=[],
                findings=findings or [], silenced=silenced or [])
    plan.plan_hash = plan.compute_hash()
    return plan


def test_a_plan_made_before_route_tables_keeps_its_hash_and_approvals(tmp_path: Path) -> None:
    old = _plan_doc()
    assert old.routes is None and "routes" not in old.body()
    doc = old.as_dict()
    doc["approvals"] = [{"by": "ben", "comment": "", "at": "2026-01-01T00:00:00Z", "plan_hash": old.plan_hash}]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    loaded = Plan.load(path)
    assert loaded.routes is None and loaded.compute_hash() == old.plan_hash
    assert approval_problems(loaded) == []
    assert "## Routes" not in render_checklist(loaded)
    finding = Finding("MIGRATION-GAP", "error", "m", ("a → b",), "f")
    assert "accepted" not in finding.as_dict(), "findings without an acceptance serialise as before"


def test_an_accepted_route_loss_needs_a_second_person_in_a_protected_environment() -> None:
    gap = Finding("MIGRATION-GAP", "error", "gap", ("payments → audit",), "fix")
    silenced = [{"finding": gap.as_dict(),
                 "override": {"check": "MIGRATION-GAP", "resource": "payments → audit", "severity": "off",
                              "reason": "audit reads the ledger now"}}]
    plan = _plan_doc(silenced=silenced)
    reason = approval_reason(plan)
    assert reason is not None and "lost route(s) accepted" in reason and "audit reads the ledger now" in reason
    retired = _plan_doc(findings=[Finding("ROUTE-LOSS", "info", "lost", ("orders → mail",), "fix",
                                          accepted="retired: mail is fed by the outbox")])
    assert "lost route(s) accepted" in (approval_reason(retired) or "")
    plan.protected = False
    assert approval_reason(plan) is None


# ---- the checks, as pure functions ---------------------------------------------------------------------

def _sub(topic: str, endpoint: str, protocol: str = "sqs") -> Subscription:
    return Subscription(topic=topic, protocol=protocol, endpoint=endpoint)


def _delete(kind: str, name: str, key: tuple[str, ...] | None = None) -> Change:
    return Change("delete", kind, name, key or (name,), {}, None, destructive=True)  # type: ignore[arg-type]


def _create(kind: str, name: str) -> Change:
    return Change("create", kind, name, (name,), None, {})  # type: ignore[arg-type]


def test_deleting_a_topic_loses_every_subscriber_it_still_has_http_included() -> None:
    live = Topology.of(Topic("alerts"), Queue("pager"), _sub("alerts", "pager"),
                       _sub("alerts", "https://hooks.example/a", "https"))
    changes = [_delete("topic", "alerts")]
    result = run_checks_detailed(Declared(Topology.of(Queue("pager"))), live, changes)
    lost = sorted(f.resources[0] for f in result.findings if f.check == "ROUTE-LOSS")
    assert lost == ["alerts → https://hooks.example/a", "alerts → pager"]
    assert all(f.severity == "error" for f in result.findings if f.check == "ROUTE-LOSS")
    assert [r.status for r in result.routes] == ["lost", "lost"]


def test_a_topic_renamed_without_replaces_is_recognised_by_the_subscribers_it_takes_over() -> None:
    """orders-v2 takes over two of orders' three subscribers while orders is deleted: it is taken for
    orders' replacement, and the third subscriber is named — once, as MIGRATION-GAP."""
    live = Topology.of(Topic("orders"), Topic("payments"), *(Queue(q) for q in ("billing", "shipping", "audit")),
                       _sub("orders", "billing"), _sub("orders", "shipping"), _sub("orders", "audit"),
                       _sub("payments", "billing"))
    declared = Declared(Topology.of(Topic("orders-v2"), Topic("payments"), Queue("billing"), Queue("shipping"),
                                    Queue("audit"), _sub("orders-v2", "billing"), _sub("orders-v2", "shipping"),
                                    _sub("payments", "billing")))
    changes = [_create("topic", "orders-v2"), _delete("topic", "orders")]
    result = run_checks_detailed(declared, live, changes)
    likely = [f for f in result.findings if f.check == "LIKELY-REPLACEMENT"]
    assert [f.resources for f in likely] == [("orders-v2", "orders")], "not payments: it is not going away"
    assert "takes over orders's subscriber(s) billing, shipping" in likely[0].message
    errors = [(f.check, f.resources[3]) for f in result.errors]
    assert errors == [("MIGRATION-GAP", "orders → audit")], result.errors
    # …and a topic unrelated_to orders is no replacement: then every subscriber of orders is lost
    declared.unrelated = {"orders-v2": frozenset({"orders"})}
    result = run_checks_detailed(declared, live, changes)
    assert sorted(f.resources[0] for f in result.errors) == ["orders → audit", "orders → billing",
                                                              "orders → shipping"]
    assert {f.check for f in result.errors} == {"ROUTE-LOSS"}


def test_a_queue_migration_that_forgets_a_topic_is_a_migration_gap() -> None:
    """billing → billing.fifo (its .fifo twin, no replaces:) with orders migrated to orders.fifo, but
    refunds — a FIFO topic billing also received — not subscribed to billing.fifo."""
    live = Topology.of(Topic("orders"), Topic("refunds.fifo"), Queue("billing"),
                       _sub("orders", "billing"), _sub("refunds.fifo", "billing"))
    declared = Declared(Topology.of(Topic("orders.fifo", replaces="orders"), Topic("refunds.fifo"),
                                    Queue("billing.fifo"), _sub("orders.fifo", "billing.fifo")))
    changes = [_create("queue", "billing.fifo"), _delete("queue", "billing")]
    result = run_checks_detailed(declared, live, changes)
    gaps = [f for f in result.errors if f.check == "MIGRATION-GAP"]
    assert len(gaps) == 1 and "refunds.fifo → billing" in gaps[0].message, result.errors
    assert "billing.fifo looks like it replaces billing" in gaps[0].message
    assert not [f for f in result.errors if f.check == "ROUTE-LOSS" and "orders → billing" in f.resources]


def test_a_subscriber_added_by_hand_to_a_recognised_old_topic_invalidates_the_plan(
        endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    """The old side of a recognised migration is part of the plan's live fingerprint, as a replaces:d
    topic is: a subscriber that appears on it after the plan was checked makes apply refuse."""
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    for q in ("audit", "late"):
        sqs.create_queue(QueueName=f"{p}{q}")
    arn = sns.create_topic(Name=f"{p}events")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}audit"))
    spec, plan_path = tmp_path / "postroom.yaml", tmp_path / "plan.json"
    # the old topic is another team's (outside the scope): not declared, never deleted, not watched —
    # but for the recognised migration
    spec.write_text(f"""version: 1
environments: {{prod: {{scope: ["{p}events.fifo", "{p}audit"]}}}}
queues: {{{p}audit: {{}}}}
topics: {{{p}events.fifo: {{}}}}
subscriptions:
  - {{topic: {p}events.fifo, queue: {p}audit}}
checks:
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: about routes}}
""")
    code, out, err = _plan(endpoint, spec, plan_path)
    assert code == 2 and f"{p}events.fifo looks like it replaces topic {p}events" in out, out + err
    assert f"topic:{p}events" in json.loads(plan_path.read_text())["live"]["resources"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}late"))
    r = invoke(endpoint, "apply", str(plan_path), "--by", "dev")
    assert r.code == 1 and f"subscription:{p}events|sqs|{p}late appeared since the plan was made" in r.err, r.text
