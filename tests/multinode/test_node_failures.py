"""Failures: a node killed with -9 under load, and PostgreSQL restarted under load.

How these tests know nothing acknowledged was lost: every message body is unique; a
message counts as acknowledged only when SendMessage(Batch) returned 200 with its
MessageId; after the failure, the queue is drained through the surviving nodes and every
acknowledged MessageId must come back (exactly once, since each is deleted on receipt).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from tests.pg import with_schema

from .conftest import Cluster, PrivatePostgres, wait_until


def _drain(c: Any, url: str, expect: set[str], timeout: float) -> dict[str, int]:
    got: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not expect <= set(got):
        msgs = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in msgs:
            got[m["MessageId"]] = got.get(m["MessageId"], 0) + 1
        if msgs:
            c.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    return got


def test_kill_9_of_a_node_under_load(nodes: Cluster) -> None:
    c0, c1 = nodes.client(0), nodes.client(1)
    url = c1.create_queue(QueueName="k9-" + uuid.uuid4().hex[:8], Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    acked: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def send(node: int) -> None:
        c = nodes.client(node)
        i = 0
        while not stop.is_set() and i < 2000:
            i += 1
            try:
                r = c.send_message(QueueUrl=url, MessageBody=f"{node}-{i}-{uuid.uuid4().hex}")
            except (ClientError, EndpointConnectionError, Exception):
                if node == 0:
                    return
                continue
            with lock:
                if "MessageId" in r:
                    acked.add(r["MessageId"])
                else:  # an answer cut off by the kill is no acknowledgement; from node 1 it is a bug
                    no_id.append(node)

    no_id: list[int] = []
    senders = [threading.Thread(target=send, args=(n,)) for n in (0, 0, 1)]
    for t in senders:
        t.start()
    wait_until(lambda: len(acked) >= 300, 30, "300 acknowledged sends")
    in_flight = c0.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(in_flight) == 10
    nodes.nodes[0].kill9()
    time.sleep(0.5)
    stop.set()
    for t in senders:
        t.join(timeout=30)
    # The messages node 0 handed out reappear on node 1 once their 2 s visibility ends.
    got = _drain(c1, url, acked, timeout=60)
    assert acked <= set(got), f"{len(acked - set(got))} acknowledged messages lost"
    assert 1 not in no_id, "the surviving node answered a send without a MessageId"
    assert {m["MessageId"] for m in in_flight} <= set(got)
    assert all(n == 1 for n in got.values()), "a message was delivered twice after being deleted"


def test_postgres_restart_under_load(private_pg: PrivatePostgres, cluster_factory: Any) -> None:
    """While PostgreSQL restarts, requests fail with AWS-shaped retriable errors (HTTP 5xx,
    ServiceUnavailable) — never a hang, never a false acknowledgement — and the nodes
    reconnect by themselves afterwards."""
    cluster = cluster_factory(with_schema(private_pg.dsn, "postroom"))
    cluster.start_node()
    cluster.start_node()
    c0 = cluster.client(0)
    url = c0.create_queue(QueueName="pgr-" + uuid.uuid4().hex[:8])["QueueUrl"]
    acked: set[str] = set()
    failures: list[tuple[int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def send(node: int) -> None:
        c = cluster.client(node)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = c.send_message(QueueUrl=url, MessageBody=f"{node}-{i}")
            except ClientError as exc:
                with lock:
                    failures.append((exc.response["ResponseMetadata"]["HTTPStatusCode"],
                                     exc.response["Error"]["Code"]))
                time.sleep(0.05)
                continue
            with lock:
                acked.add(r["MessageId"])

    senders = [threading.Thread(target=send, args=(n,)) for n in (0, 1)]
    for t in senders:
        t.start()
    wait_until(lambda: len(acked) >= 100, 30, "sends before the restart")
    private_pg.stop("fast")
    time.sleep(1.5)
    private_pg.start()
    before = len(acked)
    wait_until(lambda: len(acked) >= before + 100, 60, "sends to succeed again after the restart")
    stop.set()
    for t in senders:
        t.join(timeout=30)
    assert failures, "the outage was noticed by clients"
    assert all(status >= 500 for status, _ in failures), failures[:5]
    assert {code for _, code in failures} <= {"ServiceUnavailable", "InternalError"}, failures[:5]
    got = _drain(cluster.client(1), url, acked, timeout=60)
    assert acked <= set(got), f"{len(acked - set(got))} acknowledged messages lost"
