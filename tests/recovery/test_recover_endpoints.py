"""logfmt, regex, time windows, field filters, standard queues and topics with filter policies —
each against postroom and moto's server (small counts: moto is slow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.endpoints import Endpoint
from tests.recovery.conftest import attr, drain, read_rejects, recover

TYPES = ("order.created", "order.paid", "order.shipped", "order.cancelled")


def _ts(i: int) -> str:
    return f"2026-11-28T{22 + i // 60:02d}:{i % 60:02d}:07.250Z"


def _logfmt_logs(path: Path, n: int) -> dict[str, list[str]]:
    """n messages over 3 groups, minutes 0..n-1 after 22:00, with unrelated and malformed lines."""
    lines, groups = [], {}
    for i in range(n):
        group = f"cust-{i % 3}"
        body = json.dumps({"n": i, "note": "say \"hi\""})
        lines.append(f'ts={_ts(i)} level=info msg=published id=m-{i} group={group} type={TYPES[i % 4]} '
                     f'body={json.dumps(body)}')
        lines.append(f'ts={_ts(i)} level=info msg="GET /health" status=200')
        groups.setdefault(group, []).append(f"m-{i}")
    lines.insert(5, 'ts=2026-11-28T22:03:00Z level=info msg=published id=bad-1 group=cust-0 body="{\\"n\\": trunc')
    path.write_text("\n".join(lines) + "\n")
    return groups


def test_logfmt_with_window_and_filter_into_fifo(endpoint: Endpoint, tmp_path: Path) -> None:
    sqs = endpoint.client("sqs")
    url = sqs.create_queue(QueueName="logfmt.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    _logfmt_logs(tmp_path / "app.log", 30)
    args = ["app.log", "--format", "logfmt", "--time-field", "ts", "--group-field", "group", "--id-field", "id",
            "--attr-field", "event_type=type", "--since", "2026-11-28T22:05:00Z", "--until", "2026-11-28T22:25:00Z",
            "--where", "group!=cust-2", "--to", "logfmt.fifo", "--no-progress"]
    dry = recover(endpoint, *args, "--report-json", "r.json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    # minutes 5..24 are in the window (20 messages), of which cust-2's (i % 3 == 2) are filtered out
    expected = {f"cust-{g}": [f"m-{i}" for i in range(5, 25) if i % 3 == g] for g in (0, 1)}
    assert report["messages"] == sum(len(v) for v in expected.values())
    assert report["unrelated"] == 30 and report["rejected"] == 1
    # --where is applied first, then the window
    assert report["filtered_where"] == len([i for i in range(30) if i % 3 == 2])
    assert report["filtered_window"] == len([i for i in range(30) if i % 3 != 2 and not 5 <= i < 25])
    [reject] = read_rejects(tmp_path / "postroom-recover.rejects.jsonl")
    assert reject["line"] == 6 and reject["reason"].startswith("logfmt: unterminated quote")

    run = recover(endpoint, *args, "--execute", cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    # --force sends everything again: within the 5-minute window the broker drops every one (same
    # MessageDeduplicationIds), so the drain below still finds each message exactly once
    forced = recover(endpoint, *args, "--execute", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr + forced.stdout
    assert f"sent           {report['messages']}" in forced.stdout
    got = drain(sqs, url, report["messages"])
    assert len(got) == report["messages"]
    by_group: dict[str, list[str | None]] = {}
    for m in got:
        body = json.loads(m["Body"])
        assert body["note"] == 'say "hi"'
        assert attr(m, "event_type") == TYPES[body["n"] % 4]
        assert attr(m, "postroom-recovery-id") is not None
        by_group.setdefault(f"cust-{body['n'] % 3}", []).append(attr(m, "postroom-original-message-id"))
    assert by_group == expected

    # after the first copies were received and deleted, AWS still drops a re-send within the window;
    # moto's server does not (its dedup only looks at messages still in the queue), so postroom only
    if endpoint.name == "postroom":
        forced = recover(endpoint, *args, "--execute", "--force", cwd=tmp_path)
        assert forced.returncode == 0, forced.stderr + forced.stdout
        assert drain(sqs, url, 0, max_empty=1) == []


def test_regex_into_standard_queue_and_rerun_sends_nothing(endpoint: Endpoint, tmp_path: Path) -> None:
    sqs = endpoint.client("sqs")
    url = sqs.create_queue(QueueName="regex-std")["QueueUrl"]
    lines = []
    for i in range(20):
        lines.append(f"2026-11-28 22:{i:02d}:01,500 INFO [publisher] sent id=r-{i} kind={TYPES[i % 4]} "
                     f"payload=order {i} for customer {i % 5}")
        if i % 4 == 0:
            lines.append(f"2026-11-28 22:{i:02d}:02,000 WARN [pool] connection pool exhausted")
    lines.append("2026-11-28 22:30:00,000 INFO [publisher] sent GARBLED")
    (tmp_path / "pub.log").write_text("\n".join(lines) + "\n")
    pattern = (r"^(?P<time>\S+ \S+) INFO \[publisher\] sent id=(?P<id>\S+) kind=(?P<attr_kind>\S+) "
               r"payload=(?P<body>.*)$")
    args = ["pub.log", "--format", "regex", "--pattern", pattern, "--marker", "[publisher] sent",
            "--time-format", "%Y-%m-%d %H:%M:%S,%f", "--to", url, "--execute", "--no-progress"]
    run = recover(endpoint, *args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "sent           20" in run.stdout and "rejected       1" in run.stdout
    [reject] = read_rejects(tmp_path / "postroom-recover.rejects.jsonl")
    assert "does not match the pattern" in reject["reason"] and "GARBLED" in reject["text"]
    got = drain(sqs, url, 20)
    assert sorted(m["Body"] for m in got) == sorted(f"order {i} for customer {i % 5}" for i in range(20))
    assert {attr(m, "postroom-original-message-id") for m in got} == {f"r-{i}" for i in range(20)}
    assert all(attr(m, "kind") == TYPES[int(attr(m, "postroom-original-message-id")[2:]) % 4] for m in got)  # type: ignore[index]

    again = recover(endpoint, *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing to send" in again.stderr
    assert drain(sqs, url, 0, max_empty=1) == [], "a standard queue has no broker dedup: the checkpoint must stop it"

    other = recover(endpoint, *args, "--where", "attr_kind!=order.paid", cwd=tmp_path)
    assert other.returncode == 1 and "belongs to another recovery" in other.stderr, "a different input is refused"
    assert drain(sqs, url, 0, max_empty=1) == []


def _subscribe(sns: Any, sqs: Any, topic: str, name: str, policy: dict[str, Any]) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True,
                  Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(policy)})
    return str(url)


def test_topic_delivers_through_filter_policies(endpoint: Endpoint, tmp_path: Path) -> None:
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
    topic = sns.create_topic(Name="orders-events")["TopicArn"]
    created = _subscribe(sns, sqs, topic, "billing", {"event_type": ["order.created"]})
    shipping = _subscribe(sns, sqs, topic, "shipping", {"event_type": ["order.paid", "order.shipped"]})
    lines = [json.dumps({"ts": _ts(i), "msg": "published", "message_id": f"t-{i}",
                         "event": {"type": TYPES[i % 4], "payload": {"order": i}}}) for i in range(24)]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    run = recover(endpoint, "events.jsonl", "--body-field", "event.payload", "--id-field", "message_id",
                  "--time-field", "ts", "--attr-field", "event_type=event.type", "--to", topic, "--execute",
                  "--no-progress", cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "sent           24" in run.stdout
    got_created = drain(sqs, created, 6)
    got_shipping = drain(sqs, shipping, 12)
    assert sorted(attr(m, "postroom-original-message-id") or "" for m in got_created) == \
        sorted(f"t-{i}" for i in range(24) if i % 4 == 0)
    assert sorted(attr(m, "postroom-original-message-id") or "" for m in got_shipping) == \
        sorted(f"t-{i}" for i in range(24) if i % 4 in (1, 2))
    assert all(json.loads(m["Body"]) == {"order": int(attr(m, "postroom-original-message-id")[2:])}  # type: ignore[index]
               for m in got_created + got_shipping)


def test_refused_message_fails_holds_its_group_back_and_exits_non_zero(endpoint: Endpoint, tmp_path: Path) -> None:
    """One message is larger than the queue's MaximumMessageSize (1 KiB; recover's scan-time check is
    AWS's 1 MiB ceiling): it is recorded as failed with the reason, the later messages of its FIFO group
    are held back (not delivered out of order), other groups are sent, and the exit status is 1."""
    sqs = endpoint.client("sqs")
    url = sqs.create_queue(QueueName="small.fifo", Attributes={"FifoQueue": "true",
                                                              "MaximumMessageSize": "1024"})["QueueUrl"]
    records = [{"id": f"s-{i}", "g": f"g{i % 2}", "body": ("x" * 2000 if i == 2 else f"m{i}")} for i in range(8)]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    run = recover(endpoint, "log.jsonl", "--id-field", "id", "--group-field", "g", "--to", "small.fifo", "--execute",
                  "--no-progress", "--max-retries", "1", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed         3" in run.stdout  # s-2, then s-4 and s-6 held back
    assert "too large for the target" in run.stdout
    assert "not sent: an earlier message of group 'g0' failed" in run.stdout
    state = json.loads((tmp_path / "postroom-recover.checkpoint.json").read_text())
    assert sorted(f["line"] for f in state["failed"]) == [3, 5, 7]
    got = drain(sqs, url, 5)
    assert sorted(m["Body"] for m in got) == ["m0", "m1", "m3", "m5", "m7"]


def test_fifo_topic_passes_groups_and_order_to_a_fifo_queue(endpoint: Endpoint, tmp_path: Path) -> None:
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
    topic = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url = sqs.create_queue(QueueName="orders-sub.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    # logged out of order across two files; the time field puts them back
    records = [{"t": 1_795_939_200 + i, "id": f"f-{i}", "g": f"g{i % 3}", "body": f"{i}"} for i in range(15)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[1::2]))
    (tmp_path / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[0::2][::-1]))
    run = recover(endpoint, "a.jsonl", "b.jsonl", "--id-field", "id", "--group-field", "g", "--time-field", "t",
                  "--to", topic, "--execute", "--no-progress", cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    got = drain(sqs, url, 15)
    by_group: dict[str, list[int]] = {}
    for m in got:
        assert m["Attributes"]["MessageGroupId"] == f"g{int(m['Body']) % 3}"
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(int(m["Body"]))
    assert by_group == {f"g{g}": list(range(g, 15, 3)) for g in range(3)}
