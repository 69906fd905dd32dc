"""The incident, as a test: two standard topics with three subscribers each are live; a migration
to FIFO topics is declared with one subscription forgotten. ``postroom plan`` (a real subprocess)
must fail with MIGRATION-GAP naming the forgotten subscriber; the corrected file passes; and apply
keeps every subscriber of the old topics covered at every step (checked after each step through
the ``on_step`` hook, reading the live state through the public APIs) — and every message published
between two steps, to whichever topic a publisher would use then, reaches every subscriber."""

from __future__ import annotations

import json
from pathlib import Path

from postroom.topology.apply import apply_plan
from postroom.topology.live import read_live
from postroom.topology.model import Change
from tests.endpoints import Endpoint
from tests.topology.conftest import queue_arn, run_cli, target

SUBSCRIBERS = ("billing", "shipping", "audit")


def _live_incident_setup(ep: Endpoint, p: str) -> None:
    """What production looked like: standard topics orders and payments, each delivering to the
    standard queues billing, shipping and audit."""
    sqs, sns = ep.client("sqs"), ep.client("sns")
    for q in SUBSCRIBERS:
        sqs.create_queue(QueueName=f"{p}{q}")
    for topic in ("orders", "payments"):
        arn = sns.create_topic(Name=f"{p}{topic}")["TopicArn"]
        for q in SUBSCRIBERS:
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}{q}"))


def _file(p: str, forget: bool) -> str:
    """billing needs ordering: it moves to billing.fifo, fed by new FIFO topics that replace the old
    ones. Every other subscriber must subscribe again — unless ``forget``, which drops audit from
    payments.fifo, the subscription the incident's author forgot."""
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
  {p}billing.fifo: {{content_based_deduplication: true, replaces: {p}billing}}
  {p}billing: {{checks: {{ORPHAN-QUEUE: {{severity: "off", reason: drained after the switch}}}}}}
  {p}shipping: {{}}
  {p}audit: {{}}
topics:
  {p}orders.fifo: {{content_based_deduplication: true, replaces: {p}orders}}
  {p}payments.fifo: {{content_based_deduplication: true, replaces: {p}payments}}
subscriptions:
{sub_lines}
consumers:
  billing: {{queue: {p}billing.fifo, receives: [{p}orders.fifo, {p}payments.fifo]}}
  audit: {{queue: {p}audit, receives: [{p}orders.fifo, {p}payments.fifo]}}
producers:
  checkout: {{publishes: [{p}orders.fifo, {p}payments.fifo]}}
checks:
  - {{check: NO-DLQ, resource: "*", severity: "off", reason: the incident test is about routes}}
"""


def test_incident_forgotten_subscriber_is_caught_and_migration_keeps_everyone_covered(
        endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    _live_incident_setup(endpoint, p)
    spec = tmp_path / "postroom.yaml"

    # 1. the file with the forgotten subscription: plan fails and names it
    spec.write_text(_file(p, forget=True))
    bad = run_cli(endpoint, "plan", "-f", str(spec), "--env", "prod", "-o", str(tmp_path / "bad.json"),
                  "--author", "dev")
    assert bad.code == 1, bad.text
    gap_lines = [line for line in bad.out.splitlines() if "MIGRATION-GAP" in line]
    assert gap_lines, bad.text
    assert any(f"sqs:{p}audit" in line and f"{p}payments" in line for line in gap_lines), bad.text
    assert not any(f"sqs:{p}shipping" in line or f"sqs:{p}billing" in line for line in gap_lines), \
        "only the forgotten subscriber is named"
    assert "blocking finding" in bad.err
    refused = run_cli(endpoint, "apply", str(tmp_path / "bad.json"), "--by", "dev")
    assert refused.code == 1 and "blocking finding MIGRATION-GAP" in refused.err, refused.text

    # 2. the corrected file passes: changes, no blocking finding
    spec.write_text(_file(p, forget=False))
    plan_path = tmp_path / "plan.json"
    good = run_cli(endpoint, "plan", "-f", str(spec), "--env", "prod", "-o", str(plan_path), "--author", "dev")
    assert good.code == 2, good.text
    assert "MIGRATION-GAP" not in good.out
    assert "DESTRUCTIVE" in good.out, "removing the old subscriptions and topics is highlighted"
    steps = json.loads(plan_path.read_text())["steps"]
    assert sum(1 for s in steps if s["kind"] == "subscription" and s["action"] == "create") == 6
    assert sum(1 for s in steps if s["kind"] == "subscription" and s["action"] == "delete") == 6
    approved = run_cli(endpoint, "approve", str(plan_path), "--by", "reviewer", "--comment", "all 6 re-subscribed")
    assert approved.code == 0, approved.text

    # 3. apply, checking after every step that every old subscriber is still covered — and, as a
    #    publisher would, publishing to whichever topic of each family exists (the old one until it
    #    is deleted, then its replacement): every message must reach every subscriber
    old = {(t, s.endpoint) for t in (f"{p}orders", f"{p}payments")
           for s in read_live(target(endpoint)).subscriptions_of(t)}
    assert len(old) == 6
    successor = {f"{p}billing": f"{p}billing.fifo"}
    checked: list[int] = []
    published: list[str] = []
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")

    def routes_and_topics() -> tuple[set[tuple[str, str]], dict[str, str]]:
        """(topic, queue) of every subscription and the topic ARNs by name: two List calls, cheaper
        than a whole read_live between every two steps."""
        topics = {t["TopicArn"].rsplit(":", 1)[-1]: t["TopicArn"]
                  for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]}
        subs = {(s["TopicArn"].rsplit(":", 1)[-1], s["Endpoint"].rsplit(":", 1)[-1])
                for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]}
        return subs, topics

    def publish_everywhere(label: str, topics: dict[str, str]) -> None:
        for family in ("orders", "payments"):
            fifo = f"{p}{family}" not in topics
            arn = topics[f"{p}{family}.fifo" if fifo else f"{p}{family}"]
            body = f"{family}-{label}"
            sns.publish(TopicArn=arn, Message=body, **({"MessageGroupId": family} if fifo else {}))
            published.append(body)

    def every_subscriber_covered(step: Change, index: int) -> None:
        subs, topics = routes_and_topics()
        for topic, queue in old:
            still_old = (topic, queue) in subs
            replaced = (topic + ".fifo", successor.get(queue, queue)) in subs
            assert still_old or replaced, (
                f"after step {index + 1} ({step.action} {step.name}) subscriber {queue} of {topic} is not covered")
        publish_everywhere(str(index), topics)
        checked.append(index)

    publish_everywhere("before", routes_and_topics()[1])
    result = apply_plan(plan_path, target(endpoint), "dev", on_step=every_subscriber_covered)
    assert len(result.applied) == len(steps) and checked == list(range(len(steps)))

    live = read_live(target(endpoint))
    assert f"{p}orders" not in live.topics and f"{p}payments" not in live.topics
    for topic in ("orders.fifo", "payments.fifo"):
        endpoints = sorted(s.endpoint for s in live.subscriptions_of(f"{p}{topic}"))
        assert endpoints == sorted([f"{p}audit", f"{p}billing.fifo", f"{p}shipping"])

    # 4. what each subscriber received, over its old and new queue: every message published at every
    #    step, none missing (SNS delivers in an envelope; its Message field is the published body)
    def drain(queue: str) -> list[str]:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        visible = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"])
        bodies: list[str] = []
        while len(bodies) < visible:  # the count only saves the final empty long poll; an empty receive ends it too
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if not got:
                return bodies
            for m in got:
                bodies.append(json.loads(m["Body"])["Message"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return bodies

    received = {"audit": drain(f"{p}audit"), "shipping": drain(f"{p}shipping"),
                "billing": drain(f"{p}billing") + drain(f"{p}billing.fifo")}
    assert len(published) == 2 * (len(steps) + 1)
    for subscriber, bodies in received.items():
        missing = sorted(set(published) - set(bodies))
        assert not missing, f"{subscriber} missed {missing}"

    # 5. and the file now describes the live state
    after = run_cli(endpoint, "plan", "-f", str(spec), "--env", "prod")
    assert after.code == 0, after.text
