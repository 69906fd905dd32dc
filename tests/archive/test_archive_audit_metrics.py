"""Topic archives, unrouted capture, the delivery audit and Prometheus metrics (issue #12),
black box on both stores: boto3, ``GET /_postroom/...``, ``GET /metrics`` and the operator
CLI (``postroom archive``, ``postroom audit``) in a subprocess.

The module's shared server never has its debug clock moved except by the metrics test
(last in the module); tests that move the clock by days, kill the server or need other
``serve`` flags start a server of their own on the same store kind.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Server, make_client
from tests.archive.conftest import admin, cli, iso
from tests.sns.conftest import (
    StoreSpec,
    _shutdown,
    accounting,
    make_sns,
    new_queue,
    new_topic,
    receive,
    subscribe_queue,
)

DAY = 86_400
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SWEEP_WAIT = 15.0  # the retention sweep runs every 10 s (no serve flag shortens it)


# ---------------------------------------------------------------------------------------------
# helpers


def wait_for(get: Callable[[], Any], ok: Callable[[Any], bool], timeout: float, what: str) -> Any:
    """Poll get() until ok(value); returns the value, or fails showing the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout} s")
        time.sleep(0.2)


def archive_stats(server: Server) -> dict[str, dict[str, Any]]:
    """GET /_postroom/archive, keyed by topic ARN."""
    doc = admin(server, "/_postroom/archive")
    assert set(doc) == {"topics"}, doc
    out: dict[str, dict[str, Any]] = {}
    for entry in doc["topics"]:
        assert set(entry) == {"topic_arn", "messages", "bytes", "oldest_ms", "unrouted"}, entry
        out[entry["topic_arn"]] = entry
    return out


def archived(server: Server, topic: str) -> int:
    """How many messages GET /_postroom/archive counts for the topic (0 when it is not listed)."""
    entry = archive_stats(server).get(topic)
    return int(entry["messages"]) if entry else 0


def archive_ls(server: Server, *args: str) -> list[dict[str, Any]]:
    """``postroom archive ls <args> --format json``."""
    p = cli(server, "archive", "ls", *args, "--format", "json")
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    messages = json.loads(p.stdout)
    assert isinstance(messages, list), p.stdout
    return messages


def run_audit(server: Server, **params: Any) -> dict[str, Any]:
    doc = admin(server, "/_postroom/audit", **params)
    assert set(doc) >= {"since_ms", "until_ms", "topics", "routes", "findings"}, doc
    return doc


def cli_audit(server: Server, *args: str) -> tuple[int, str]:
    p = cli(server, "audit", *args)
    assert p.returncode in (0, 1), (p.returncode, p.stdout, p.stderr)
    return p.returncode, p.stdout


def attr(name: str, value: str) -> dict[str, dict[str, str]]:
    return {name: {"DataType": "String", "StringValue": value}}


def own_server(store: StoreSpec, *flags: str) -> Server:
    """A started server of the module's store kind, with extra ``serve`` flags."""
    srv = store.make()
    srv.extra_args = (*srv.extra_args, *flags)
    srv.start()
    return srv


@pytest.fixture
def private_server(store: StoreSpec) -> Iterator[Callable[..., Server]]:
    """start(*flags) -> a server of this test's own, shut down (and checked for a clean exit) after it."""
    started: list[Server] = []

    def start(*flags: str) -> Server:
        srv = own_server(store, *flags)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        _shutdown(srv)


def server_now_ms(server: Server) -> int:
    """The server's clock (advance by 0 returns it)."""
    r = requests.post(f"{server.endpoint}/_postroom/clock/advance", params={"seconds": 0}, timeout=10)
    assert r.status_code == 200, r.text
    return int(r.json()["now_ms"])


def scrape(server: Server) -> dict[str, Any]:
    r = requests.get(server.endpoint + "/metrics", timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def metric(fams: dict[str, Any], family: str, kind: str, **labels: str) -> float | None:
    """The value of the one sample of ``family`` with exactly these labels (None if absent)."""
    assert family in fams, f"no metric family {family} (have {sorted(fams)})"
    fam = fams[family]
    assert fam.type == kind, f"{family} is a {fam.type}, expected a {kind}"
    names = {family, family + "_total"} if kind == "counter" else {family}
    found = [s.value for s in fam.samples if s.name in names and s.labels == labels]
    assert len(found) <= 1, (family, labels, found)
    return float(found[0]) if found else None


# ---------------------------------------------------------------------------------------------
# 1. ArchivePolicy


def test_archive_policy_round_trip_and_validation(sns: Any, server: Server) -> None:
    topic = new_topic(sns)
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert "ArchivePolicy" not in attrs and "BeginningArchiveTime" not in attrs, attrs

    before = server_now_ms(server)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="ArchivePolicy",
                             AttributeValue=json.dumps({"MessageRetentionPeriod": "30"}))
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert json.loads(attrs["ArchivePolicy"]) == {"MessageRetentionPeriod": "30"}, attrs
    # Nothing archived yet: the earliest point a replay could start from is now.
    assert ISO_RE.match(attrs["BeginningArchiveTime"]), attrs
    assert iso(before) <= attrs["BeginningArchiveTime"] <= iso(server_now_ms(server)), attrs

    first = sns.publish(TopicArn=topic, Message="first")["MessageId"]
    time.sleep(0.01)
    sns.publish(TopicArn=topic, Message="second")
    listed = archive_ls(server, "--topic", topic)
    assert [m["message"] for m in listed] == ["first", "second"], listed
    assert listed[0]["message_id"] == first
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["BeginningArchiveTime"] == iso(listed[0]["published_ms"]), (attrs, listed)

    bad_values = [
        json.dumps({"MessageRetentionPeriod": "0"}),
        json.dumps({"MessageRetentionPeriod": "366"}),
        json.dumps({"MessageRetentionPeriod": "-1"}),
        json.dumps({"MessageRetentionPeriod": "ten"}),
        json.dumps({"MessageRetentionPeriod": "30", "Other": "1"}),
        json.dumps({"RetentionPeriod": "30"}),
        json.dumps(["MessageRetentionPeriod", "30"]),
        "not json",
    ]
    for bad in bad_values:
        with pytest.raises(sns.exceptions.InvalidParameterException) as ei:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="ArchivePolicy", AttributeValue=bad)
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, bad
        assert ei.value.response["Error"]["Code"] == "InvalidParameter", (bad, ei.value.response["Error"])
        assert "ArchivePolicy" in ei.value.response["Error"]["Message"], (bad, ei.value.response["Error"])
        kept = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["ArchivePolicy"]
        assert json.loads(kept) == {"MessageRetentionPeriod": "30"}, (bad, kept)

    # CreateTopic validates it too, and creates nothing on a bad value.
    name = f"t-bad-archive-{int(time.time() * 1000)}"
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name=name, Attributes={"ArchivePolicy": json.dumps({"MessageRetentionPeriod": "0"})})
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=topic.rsplit(":", 1)[0] + ":" + name)

    for days in ("1", "365"):  # the bounds
        sns.set_topic_attributes(TopicArn=topic, AttributeName="ArchivePolicy",
                                 AttributeValue=json.dumps({"MessageRetentionPeriod": days}))
        got = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["ArchivePolicy"]
        assert json.loads(got) == {"MessageRetentionPeriod": days}

    # Standard topics may have one at creation (AWS: FIFO only), and so may FIFO topics.
    std = new_topic(sns, ArchivePolicy=json.dumps({"MessageRetentionPeriod": "7"}))
    fifo = new_topic(sns, fifo=True, ArchivePolicy=json.dumps({"MessageRetentionPeriod": "2"}))
    for arn, days in ((std, "7"), (fifo, "2")):
        got = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert json.loads(got["ArchivePolicy"]) == {"MessageRetentionPeriod": days}, got
        assert ISO_RE.match(got["BeginningArchiveTime"]), got
    # a FIFO topic's archive keeps the group, the deduplication id and the sequence number
    sent = sns.publish(TopicArn=fifo, Message="f", MessageGroupId="g-1", MessageDeduplicationId="d-1")
    (kept,) = archive_ls(server, "--topic", fifo)
    assert (kept["message_id"], kept["group_id"], kept["dedup_id"], kept["sequence_number"]) == (
        sent["MessageId"], "g-1", "d-1", sent["SequenceNumber"]), kept
    assert sns.get_topic_attributes(TopicArn=fifo)["Attributes"]["BeginningArchiveTime"] == iso(kept["published_ms"])

    # {} clears it: no policy, no BeginningArchiveTime (the messages stay: their retention was fixed).
    sns.set_topic_attributes(TopicArn=topic, AttributeName="ArchivePolicy", AttributeValue="{}")
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert "ArchivePolicy" not in attrs and "BeginningArchiveTime" not in attrs, attrs
    assert archived(server, topic) == 2


# ---------------------------------------------------------------------------------------------
# 2. The default archive


def test_default_archive_is_invisible_but_listed(sns: Any, sqs: Any, server: Server) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    bodies = ["alpha", "bravo-2", "charlie-33"]
    ids = []
    for body in bodies:
        ids.append(sns.publish(TopicArn=topic, Message=body)["MessageId"])
        time.sleep(0.005)  # distinct publish times, for --since/--until
    assert sorted(m["Body"] for m in receive(sqs, url, 3)) == sorted(bodies)  # routed, delivered

    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert "ArchivePolicy" not in attrs and "BeginningArchiveTime" not in attrs, attrs

    listed = archive_ls(server, "--topic", topic)
    assert [m["message_id"] for m in listed] == ids, listed
    assert [m["message"] for m in listed] == bodies
    assert all(m["topic_arn"] == topic and m["unrouted"] is None for m in listed), listed
    times = [m["published_ms"] for m in listed]
    assert times == sorted(times) and len(set(times)) == 3, times

    entry = archive_stats(server)[topic]
    assert entry["messages"] == 3 and entry["unrouted"] == 0, entry
    assert entry["bytes"] == sum(len(b) for b in bodies), entry  # no subject, no attributes
    assert entry["oldest_ms"] == times[0], entry

    p = cli(server, "archive", "size", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert [t for t in json.loads(p.stdout) if t["topic_arn"] == topic] == [entry]
    p = cli(server, "archive", "size")
    assert p.returncode == 0, p.stderr
    row = [line for line in p.stdout.splitlines() if line.startswith(topic)]
    assert len(row) == 1 and row[0].split()[1:4] == ["3", str(entry["bytes"]), "0"], p.stdout
    p = cli(server, "archive", "ls", "--topic", topic)
    assert p.returncode == 0, p.stderr
    assert [line.split()[1] for line in p.stdout.splitlines()] == ids, p.stdout

    # --since / --until (inclusive, epoch ms or ISO 8601)
    assert [m["message_id"] for m in archive_ls(server, "--topic", topic, "--since", str(times[1]))] == ids[1:]
    assert [m["message_id"] for m in archive_ls(server, "--topic", topic, "--until", str(times[1]))] == ids[:2]
    assert [m["message_id"] for m in archive_ls(server, "--topic", topic, "--since", iso(times[1]),
                                                "--until", iso(times[1]))] == ids[1:2]
    assert archive_ls(server, "--topic", topic, "--unrouted") == []


def test_default_archive_off_still_keeps_unrouted(private_server: Callable[..., Server]) -> None:
    srv = private_server("--default-archive-days", "0")
    sns, sqs = make_sns(srv.endpoint), make_client(srv.endpoint)
    routed = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, routed)
    for i in range(3):
        sns.publish(TopicArn=routed, Message=f"routed-{i}")
    assert len(receive(sqs, url, 3)) == 3
    lonely = new_topic(sns)
    lonely_ids = [sns.publish(TopicArn=lonely, Message=f"lonely-{i}")["MessageId"] for i in range(2)]
    kept = new_topic(sns, ArchivePolicy=json.dumps({"MessageRetentionPeriod": "1"}))  # a policy still archives
    url2, _ = subscribe_queue(sns, sqs, kept)
    kept_id = sns.publish(TopicArn=kept, Message="kept")["MessageId"]
    assert len(receive(sqs, url2, 1)) == 1

    stats = archive_stats(srv)
    assert routed not in stats, stats
    assert archive_ls(srv, "--topic", routed) == []
    assert stats[lonely]["messages"] == 2 and stats[lonely]["unrouted"] == 2, stats
    assert stats[kept]["messages"] == 1 and stats[kept]["unrouted"] == 0, stats
    assert set(stats) == {lonely, kept}, stats
    listed = archive_ls(srv, "--unrouted")
    assert [(m["message_id"], m["unrouted"]) for m in listed] == [(i, "no-subscription") for i in lonely_ids]
    assert [m["message_id"] for m in archive_ls(srv, "--topic", kept)] == [kept_id]


# ---------------------------------------------------------------------------------------------
# 3. Unrouted capture


def test_unrouted_capture_by_cause(sns: Any, sqs: Any, server: Server) -> None:
    topic = new_topic(sns)
    yes, no = attr("kind", "wanted"), attr("kind", "other")
    expected: list[tuple[str, str | None]] = []  # (message id, cause) in publish order

    def publish(body: str, cause: str | None, attributes: dict[str, Any] | None = None) -> None:
        mid = sns.publish(TopicArn=topic, Message=body, MessageAttributes=attributes or {})["MessageId"]
        expected.append((mid, cause))

    publish("nobody-1", "no-subscription")
    url, sub = subscribe_queue(sns, sqs, topic, FilterPolicy=json.dumps({"kind": ["wanted"]}))
    publish("routed-1", None, yes)
    publish("filtered-1", "filtered", no)
    publish("filtered-2", "filtered", no)
    assert len(receive(sqs, url, 1)) == 1
    sqs.delete_queue(QueueUrl=url)
    publish("failed-1", "failed", yes)
    publish("failed-2", "failed", yes)
    publish("failed-3", "failed", yes)

    counts = accounting(server)
    assert counts["topics"][topic]["published"] == 7, counts["topics"][topic]
    assert counts["topics"][topic]["unrouted"] == {"no-subscription": 1, "filtered": 2, "failed": 3}, \
        counts["topics"][topic]
    assert counts["subscriptions"][sub] == {"delivered": 1, "filtered_out": 2, "failed": 3}, \
        counts["subscriptions"][sub]

    unrouted = [(mid, cause) for mid, cause in expected if cause]
    listed = archive_ls(server, "--topic", topic, "--unrouted")
    assert [(m["message_id"], m["unrouted"]) for m in listed] == unrouted, listed
    assert [m["message"] for m in listed] == ["nobody-1", "filtered-1", "filtered-2", "failed-1", "failed-2",
                                              "failed-3"]
    assert listed[1]["attributes"] == {"kind": ["String", "other"]}, listed[1]
    everything = archive_ls(server, "--topic", topic)
    assert [(m["message_id"], m["unrouted"]) for m in everything] == expected
    entry = archive_stats(server)[topic]
    assert (entry["messages"], entry["unrouted"]) == (7, 6), entry
    # Without --topic, --unrouted lists every topic's, this topic's among them, in order.
    mine = [m["message_id"] for m in archive_ls(server, "--unrouted", "--limit", "10000") if m["topic_arn"] == topic]
    assert mine == [mid for mid, _ in unrouted]
    # the table form names the cause
    p = cli(server, "archive", "ls", "--topic", topic, "--unrouted")
    assert p.returncode == 0, p.stderr
    assert [line.split()[1] for line in p.stdout.splitlines()] == [mid for mid, _ in unrouted], p.stdout
    assert "[filtered]" in p.stdout and "[failed]" in p.stdout and "[no-subscription]" in p.stdout


# ---------------------------------------------------------------------------------------------
# 4. Retention


def test_archive_retention_expiry(private_server: Callable[..., Server]) -> None:
    srv = private_server("--default-archive-days", "1", "--unrouted-days", "2")
    sns, sqs = make_sns(srv.endpoint), make_client(srv.endpoint)

    def routed_topic(**attributes: Any) -> str:
        arn = new_topic(sns, **attributes)
        subscribe_queue(sns, sqs, arn)
        return arn

    default = routed_topic()  # 1 day (the server default)
    policy = routed_topic(ArchivePolicy=json.dumps({"MessageRetentionPeriod": "3"}))  # 3 days
    lowered = routed_topic(ArchivePolicy=json.dumps({"MessageRetentionPeriod": "3"}))  # 3 days, then 1
    lonely = new_topic(sns)  # unrouted: max(1 day default, 2 unrouted days)
    many = routed_topic()  # more than one expiry batch (2000) of default retention
    for arn in (default, policy, lowered):
        for i in range(2):
            sns.publish(TopicArn=arn, Message=f"m{i}")
    sns.publish(TopicArn=lonely, Message="nobody")
    n_many = 2_100
    for start in range(0, n_many, 10):
        sns.publish_batch(TopicArn=many, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": f"bulk-{start + i}"} for i in range(10)])
    sns.set_topic_attributes(TopicArn=lowered, AttributeName="ArchivePolicy",
                             AttributeValue=json.dumps({"MessageRetentionPeriod": "1"}))
    stats = archive_stats(srv)
    assert {arn: stats[arn]["messages"] for arn in (default, policy, lowered, lonely, many)} == {
        default: 2, policy: 2, lowered: 2, lonely: 1, many: n_many}, stats

    srv.advance(DAY + 60)  # one day and a minute
    # Every default-retention row goes in the first sweep after that, batch after batch.
    wait_for(lambda: archived(srv, many), lambda n: n < n_many, SWEEP_WAIT, "the first expiry sweep")
    wait_for(lambda: archived(srv, many), lambda n: n == 0, 3.0, "the rest of the sweep's batches")
    stats = archive_stats(srv)
    assert default not in stats and many not in stats, stats
    assert {arn: stats[arn]["messages"] for arn in (policy, lowered, lonely)} == {policy: 2, lowered: 2, lonely: 1}, \
        "a policy's retention, a retention fixed before it was lowered, and unrouted days outlive the default"

    srv.advance(2 * DAY)  # three days and a minute: everything has expired
    wait_for(lambda: {arn for arn in archive_stats(srv) if arn in (policy, lowered, lonely)}, lambda s: not s,
             SWEEP_WAIT, "the second expiry sweep")
    assert archive_ls(srv, "--limit", "10000") == []
    assert archive_stats(srv) == {}
    # the accounting stays: it is not the archive
    assert accounting(srv)["topics"][many]["published"] == n_many


# ---------------------------------------------------------------------------------------------
# 5. kill -9


def test_every_acknowledged_publish_is_archived_after_kill9(private_server: Callable[..., Server]) -> None:
    srv = private_server()
    sns = make_sns(srv.endpoint)
    topic = new_topic(sns)
    plain = new_topic(sns)
    acked: list[str] = []
    stop = threading.Event()

    def publisher() -> None:
        client = make_sns(srv.endpoint)
        i = 0
        while not stop.is_set():
            try:
                acked.append(client.publish(TopicArn=topic, Message=f"m-{i}")["MessageId"])
            except Exception:
                return
            i += 1

    threads = [threading.Thread(target=publisher) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked), lambda n: n >= 40, 20, "publishes before the kill")
    last = sns.publish(TopicArn=plain, Message="just before the kill")["MessageId"]
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    acknowledged = list(acked)
    srv.start()

    listed = archive_ls(srv, "--topic", topic, "--limit", "100000")
    ids = [m["message_id"] for m in listed]
    assert len(ids) == len(set(ids)), "an archived message appears twice"
    missing = set(acknowledged) - set(ids)
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged publishes lost: {sorted(missing)[:5]}"
    # in-flight publishes may have committed without their answer; nothing else may appear
    assert len(ids) <= len(acknowledged) + len(threads), (len(ids), len(acknowledged))
    assert archived(srv, topic) == len(ids)
    assert [m["message_id"] for m in archive_ls(srv, "--topic", plain)] == [last]
    assert accounting(srv)["topics"][topic]["published"] == len(ids)


# ---------------------------------------------------------------------------------------------
# 6. Audit


def test_audit_findings_and_totals(sns: Any, sqs: Any, server: Server) -> None:
    start_ms = server_now_ms(server)

    # NO-SUBSCRIPTION
    lonely = new_topic(sns)
    for i in range(2):
        sns.publish(TopicArn=lonely, Message=f"nobody-{i}")
    report = run_audit(server, topic=lonely)
    assert [(f["code"], f["topic_arn"], f["subject"], f["count"]) for f in report["findings"]] == [
        ("NO-SUBSCRIPTION", lonely, lonely, 2)], report["findings"]
    assert set(report["topics"]) == {lonely} and report["routes"] == {}, report
    assert report["topics"][lonely]["published"] == 2 and report["topics"][lonely]["no_subscription"] == 2
    rc, out = cli_audit(server, "--topic", lonely)
    assert rc == 1 and "NO-SUBSCRIPTION" in out and lonely in out, out

    # SUBSCRIBER-REMOVED: one of two subscriptions goes, the topic keeps receiving
    moved = new_topic(sns)
    url_a, sub_a = subscribe_queue(sns, sqs, moved)
    url_b, sub_b = subscribe_queue(sns, sqs, moved)
    queue_a = sns.get_subscription_attributes(SubscriptionArn=sub_a)["Attributes"]["Endpoint"]
    for i in range(2):
        sns.publish(TopicArn=moved, Message=f"before-{i}")
    assert len(receive(sqs, url_a, 2)) == 2
    sns.unsubscribe(SubscriptionArn=sub_a)
    time.sleep(0.01)
    for i in range(3):
        sns.publish(TopicArn=moved, Message=f"after-{i}")
    assert len(receive(sqs, url_b, 5)) == 5
    report = run_audit(server, topic=moved)
    assert [(f["code"], f["topic_arn"], f["subject"], f["count"]) for f in report["findings"]] == [
        ("SUBSCRIBER-REMOVED", moved, sub_a, 3)], report["findings"]
    assert queue_a in report["findings"][0]["message"], report["findings"]
    assert report["topics"][moved]["published"] == 5, report["topics"]
    assert {k: (v["delivered"], v["filtered_out"], v["failed"]) for k, v in report["routes"].items()} == {
        sub_a: (2, 0, 0), sub_b: (5, 0, 0)}, report["routes"]
    rc, out = cli_audit(server, "--topic", moved)
    assert rc == 1 and "SUBSCRIBER-REMOVED" in out and queue_a in out and "3 message(s)" in out, out
    # Subscribing the same queue again ends the gap: what is published after it is not counted, and
    # a window that starts after the resubscription has no finding (the restored route clears)
    sns.subscribe(TopicArn=moved, Protocol="sqs", Endpoint=queue_a)
    back_ms = run_audit(server, topic=moved)["until_ms"]
    time.sleep(0.01)
    for i in range(2):
        sns.publish(TopicArn=moved, Message=f"back-{i}")
    assert len(receive(sqs, url_a, 2)) == 2
    report = run_audit(server, topic=moved)
    assert [(f["code"], f["subject"], f["count"]) for f in report["findings"]] == [
        ("SUBSCRIBER-REMOVED", sub_a, 3)], report["findings"]
    assert run_audit(server, topic=moved, since=back_ms + 1)["findings"] == []

    # DELIVERIES-FAILING: the subscribed queue was deleted (every delivery failed: UNROUTED too)
    broken = new_topic(sns)
    url_c, sub_c = subscribe_queue(sns, sqs, broken)
    sqs.delete_queue(QueueUrl=url_c)
    for i in range(2):
        sns.publish(TopicArn=broken, Message=f"lost-{i}")
    report = run_audit(server, topic=broken)
    assert sorted((f["code"], f["subject"], f["count"]) for f in report["findings"]) == [
        ("DELIVERIES-FAILING", sub_c, 2), ("UNROUTED", broken, 2)], report["findings"]
    assert report["routes"][sub_c]["failed"] == 2 and report["routes"][sub_c]["delivered"] == 0
    assert report["topics"][broken]["unrouted_failed"] == 2

    # A clean topic: one route filters part of the traffic, the other takes all of it
    clean = new_topic(sns)
    url_d, sub_d = subscribe_queue(sns, sqs, clean)
    url_e, sub_e = subscribe_queue(sns, sqs, clean, FilterPolicy=json.dumps({"kind": ["wanted"]}))
    sns.publish(TopicArn=clean, Message="wanted", MessageAttributes=attr("kind", "wanted"))
    sns.publish(TopicArn=clean, Message="other", MessageAttributes=attr("kind", "other"))
    assert len(receive(sqs, url_d, 2)) == 2 and len(receive(sqs, url_e, 1)) == 1
    report = run_audit(server, topic=clean)
    assert report["findings"] == [], report["findings"]
    t = report["topics"][clean]
    assert (t["published"], t["no_subscription"], t["unrouted_filtered"], t["unrouted_failed"]) == (2, 0, 0, 0), t
    assert {k: (v["delivered"], v["filtered_out"], v["failed"]) for k, v in report["routes"].items()} == {
        sub_d: (2, 0, 0), sub_e: (1, 1, 0)}, report["routes"]
    rc, out = cli_audit(server, "--topic", clean)
    assert rc == 0 and "no findings" in out, out
    p = cli(server, "audit", "--topic", clean, "--format", "json")
    assert p.returncode == 0 and json.loads(p.stdout)["findings"] == [], p.stdout

    # the time window: nothing of these topics before the test began
    early = run_audit(server, until=start_ms - 120_000)
    assert not set(early["topics"]) & {lonely, moved, broken, clean}, early["topics"]
    rc, out = cli_audit(server, "--topic", lonely, "--until", iso(start_ms - 120_000))
    assert rc == 0 and "no findings" in out, out
    rc, out = cli_audit(server, "--topic", lonely, "--since", iso(start_ms - 1000))
    assert rc == 1 and "NO-SUBSCRIPTION" in out, out
    later = server_now_ms(server) + 120_000
    assert run_audit(server, topic=lonely, since=later)["topics"] == {}
    rc, out = cli_audit(server, "--topic", lonely, "--since", str(later))
    assert rc == 0 and "no findings" in out, out
    # the whole bus: every finding above, exit 1
    report = run_audit(server)
    codes = {(f["code"], f["subject"]) for f in report["findings"]}
    assert {("NO-SUBSCRIPTION", lonely), ("SUBSCRIBER-REMOVED", sub_a), ("DELIVERIES-FAILING", sub_c),
            ("UNROUTED", broken)} <= codes, codes
    assert not {s for _, s in codes} & {clean, sub_d, sub_e}, codes
    rc, out = cli_audit(server)
    assert rc == 1, out
    p = cli(server, "audit", "--format", "json")
    assert p.returncode == 1 and json.loads(p.stdout)["findings"], p.stdout

    # DLQ-FILLING: maxReceiveCount 1, received twice -> moved to the dead-letter queue
    dlq_url, dlq_arn = new_queue(sqs)
    src_url, _ = new_queue(sqs, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}))
    assert [f for f in run_audit(server)["findings"] if f["subject"] == dlq_arn] == []  # empty DLQ: no finding
    sqs.send_message(QueueUrl=src_url, MessageBody="poison")
    assert len(sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0).get("Messages", [])) == 1
    assert sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0).get("Messages", []) == []
    wait_for(lambda: int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
                         ["Attributes"]["ApproximateNumberOfMessages"]), lambda n: n == 1, 5, "the DLQ")
    # ... and an SNS subscription's dead-letter queue, where failed deliveries go
    sub_dlq_url, sub_dlq_arn = new_queue(sqs)
    redriven = new_topic(sns)
    url_f, _ = subscribe_queue(sns, sqs, redriven, RedrivePolicy=json.dumps({"deadLetterTargetArn": sub_dlq_arn}))
    sqs.delete_queue(QueueUrl=url_f)
    sns.publish(TopicArn=redriven, Message="to the subscription's DLQ")
    try:
        report = run_audit(server)
        dlq = {f["subject"]: (f["code"], f["count"]) for f in report["findings"]
               if f["subject"] in (dlq_arn, sub_dlq_arn)}
        assert dlq == {dlq_arn: ("DLQ-FILLING", 1), sub_dlq_arn: ("DLQ-FILLING", 1)}, report["findings"]
        rc, out = cli_audit(server)
        assert rc == 1 and "DLQ-FILLING" in out and dlq_arn in out and sub_dlq_arn in out, out
    finally:
        for url in (dlq_url, sub_dlq_url):  # leaves the shared server without a filling DLQ
            sqs.purge_queue(QueueUrl=url)
    wait_for(lambda: [f for f in run_audit(server)["findings"] if f["subject"] in (dlq_arn, sub_dlq_arn)],
             lambda f: f == [], 5, "DLQ-FILLING after the purge")


def test_audit_of_one_topic_ignores_unrelated_dead_letter_queues(sns: Any, sqs: Any, server: Server) -> None:
    clean = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, clean)
    sns.publish(TopicArn=clean, Message="fine")
    assert len(receive(sqs, url, 1)) == 1
    dlq_url, dlq_arn = new_queue(sqs)
    src_url, _ = new_queue(sqs, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}))
    sqs.send_message(QueueUrl=src_url, MessageBody="poison")
    for _ in range(2):
        sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0)
    try:
        assert run_audit(server, topic=clean)["findings"] == []
        rc, out = cli_audit(server, "--topic", clean)
        assert rc == 0 and "no findings" in out, out
    finally:
        sqs.purge_queue(QueueUrl=dlq_url)


def test_archive_bytes_count_utf8_bytes(sns: Any, server: Server) -> None:
    topic = new_topic(sns)
    body = "é" * 10 + "€"  # 11 characters, 23 bytes of UTF-8
    sns.publish(TopicArn=topic, Message=body)
    assert archive_stats(server)[topic]["bytes"] == len(body.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# 7. Metrics (last: it moves the shared server's clock)


def test_metrics(sns: Any, sqs: Any, server: Server) -> None:
    topic = new_topic(sns)
    _, sub_a = subscribe_queue(sns, sqs, topic, FilterPolicy=json.dumps({"kind": ["wanted"]}))
    _, sub_b = subscribe_queue(sns, sqs, topic)
    url_c, sub_c = subscribe_queue(sns, sqs, topic)
    queue_c = sns.get_subscription_attributes(SubscriptionArn=sub_c)["Attributes"]["Endpoint"]
    sqs.delete_queue(QueueUrl=url_c)
    for i in range(3):
        sns.publish(TopicArn=topic, Message=f"wanted-{i}", MessageAttributes=attr("kind", "wanted"))
    sns.publish(TopicArn=topic, Message="other", MessageAttributes=attr("kind", "other"))
    lonely = new_topic(sns)
    for i in range(2):
        sns.publish(TopicArn=lonely, Message=f"nobody-{i}")
    filtered_topic = new_topic(sns)
    subscribe_queue(sns, sqs, filtered_topic, FilterPolicy=json.dumps({"kind": ["wanted"]}))
    sns.publish(TopicArn=filtered_topic, Message="rejected", MessageAttributes=attr("kind", "other"))

    # a replay of the topic's archive into a queue of its own
    replay_url, replay_arn = new_queue(sqs)
    r = requests.post(server.endpoint + "/_postroom/replays", json={"topic": topic, "to": replay_arn, "since": 0},
                      timeout=30)
    assert r.status_code == 200, r.text
    replay_id = r.json()["replay"]["replay_id"]
    wait_for(lambda: admin(server, f"/_postroom/replays/{replay_id}")["replay"]["status"],
             lambda s: s == "Completed", 30, "the replay")
    assert len(receive(sqs, replay_url, 4)) == 4

    # plain SQS traffic: 5 sent (one delayed), 2 received, 1 deleted
    q_url, q_arn = new_queue(sqs)
    for i in range(4):
        sqs.send_message(QueueUrl=q_url, MessageBody=f"s-{i}")
    sqs.send_message(QueueUrl=q_url, MessageBody="later", DelaySeconds=900)
    got = sqs.receive_message(QueueUrl=q_url, MaxNumberOfMessages=2, VisibilityTimeout=3600)["Messages"]
    assert len(got) == 2
    sqs.delete_message(QueueUrl=q_url, ReceiptHandle=got[0]["ReceiptHandle"])

    fams = scrape(server)
    assert metric(fams, "postroom_sns_number_of_messages_published", "counter", topic=topic) == 4
    assert metric(fams, "postroom_sns_number_of_messages_published", "counter", topic=lonely) == 2
    assert metric(fams, "postroom_sns_number_of_messages_published", "counter", topic=filtered_topic) == 1
    per_route = {sub: tuple(metric(fams, f"postroom_sns_number_of_notifications_{kind}", "counter", topic=topic,
                                   subscription=sub) for kind in ("delivered", "filtered_out", "failed"))
                 for sub in (sub_a, sub_b, sub_c)}
    assert per_route == {sub_a: (3, 1, 0), sub_b: (4, 0, 0), sub_c: (0, 0, 4)}, per_route
    unrouted = {(t, cause): metric(fams, "postroom_sns_unrouted_messages", "counter", topic=t, cause=cause)
                for t in (topic, lonely, filtered_topic) for cause in ("no-subscription", "filtered", "failed")}
    assert unrouted == {(topic, "no-subscription"): 0, (topic, "filtered"): 0, (topic, "failed"): 0,
                        (lonely, "no-subscription"): 2, (lonely, "filtered"): 0, (lonely, "failed"): 0,
                        (filtered_topic, "no-subscription"): 0, (filtered_topic, "filtered"): 1,
                        (filtered_topic, "failed"): 0}, unrouted
    stats = archive_stats(server)
    for t, n in ((topic, 4), (lonely, 2), (filtered_topic, 1)):
        assert metric(fams, "postroom_sns_archive_messages", "gauge", topic=t) == n == stats[t]["messages"]
        assert metric(fams, "postroom_sns_archive_bytes", "gauge", topic=t) == stats[t]["bytes"] > 0
    assert metric(fams, "postroom_sns_archive_unrouted_messages", "gauge", topic=lonely) == 2
    assert metric(fams, "postroom_sns_replay_messages", "gauge", replay=replay_id, topic=topic, target=replay_arn,
                  status="Completed") == 4
    assert metric(fams, "postroom_sns_replay_delivered_messages", "gauge", replay=replay_id, topic=topic,
                  target=replay_arn, status="Completed") == 4

    gauges = {name: metric(fams, f"postroom_sqs_approximate_number_of_messages_{name}", "gauge", queue=q_arn)
              for name in ("visible", "not_visible", "delayed")}
    assert gauges == {"visible": 2, "not_visible": 1, "delayed": 1}, gauges
    age = metric(fams, "postroom_sqs_approximate_age_of_oldest_message_seconds", "gauge", queue=q_arn)
    assert age is not None and 0 <= age < 60, age
    # a deleted queue is not reported
    assert metric(fams, "postroom_sqs_approximate_number_of_messages_visible", "gauge", queue=queue_c) is None

    def sqs_counters() -> tuple[float | None, ...]:
        f = scrape(server)
        return tuple(metric(f, f"postroom_sqs_number_of_messages_{kind}", "counter", queue=q_arn)
                     for kind in ("sent", "received", "deleted"))

    wait_for(sqs_counters, lambda v: v == (5, 2, 1), 12, "SQS sent/received/deleted (flushed every 5 s)")

    # The age of the oldest message follows the (debug) clock.
    server.advance(120)
    age = metric(scrape(server), "postroom_sqs_approximate_age_of_oldest_message_seconds", "gauge", queue=q_arn)
    assert age is not None and 120 <= age < 180, age
