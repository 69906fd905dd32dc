"""Visibility on postroom and on moto's server: the heartbeat keeps a slow message invisible past its
timeout; a failing message waits for its visibility timeout and reaches the DLQ by the redrive
policy; the consumer never deletes what it did not handle."""

from __future__ import annotations

import json
import threading
import time

from postroom.consumer import Consumer, Hooks, Message
from tests.consumer.conftest import new_queue, queue_arn, queue_counts, receive_all, wait_for
from tests.endpoints import Endpoint


def _slow_consumer(ep: Endpoint, url: str, seconds: float, heartbeat: bool) -> tuple[Consumer, threading.Event]:
    started = threading.Event()

    def slow(message: Message) -> None:
        started.set()
        time.sleep(seconds)

    consumer = Consumer(url, slow, client=ep.client("sqs"), wait_time=1, heartbeat=heartbeat, hooks=Hooks())
    consumer.start(max_messages=1)
    return consumer, started


def _peek(ep: Endpoint, url: str, duration: float) -> list[str]:
    """A second receiver polling for ``duration`` seconds; what it could see (it makes nothing invisible
    for long: VisibilityTimeout 0 puts back anything it gets)."""
    sqs = ep.client("sqs")
    seen: list[str] = []
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  VisibilityTimeout=0).get("Messages", [])
        seen.extend(m["Body"] for m in got)
        time.sleep(0.25)
    return seen


def test_heartbeat_keeps_a_slow_message_invisible(endpoint: Endpoint) -> None:
    sqs = endpoint.client("sqs")
    url = new_queue(sqs, "heartbeat", VisibilityTimeout="2")
    sqs.send_message(QueueUrl=url, MessageBody="slow")
    consumer, started = _slow_consumer(endpoint, url, 4.2, heartbeat=True)
    assert started.wait(10)
    assert _peek(endpoint, url, 4.0) == []  # twice the visibility timeout: nobody else saw it
    assert consumer.join(timeout=15)
    assert consumer.stats.succeeded == 1 and consumer.stats.deleted == 1
    assert consumer.stats.extended >= 3  # extensions every ~2/3 s kept it invisible for 4.2 s
    assert receive_all(sqs, url) == []


def test_without_heartbeat_the_message_reappears(postroom_endpoint: Endpoint) -> None:
    """The control for the test above: the same slow handler without heartbeat loses its message."""
    sqs = postroom_endpoint.client("sqs")
    url = new_queue(sqs, "no-heartbeat", VisibilityTimeout="1")
    sqs.send_message(QueueUrl=url, MessageBody="slow")
    consumer, started = _slow_consumer(postroom_endpoint, url, 2.0, heartbeat=False)
    assert started.wait(10)
    assert "slow" in _peek(postroom_endpoint, url, 1.75)
    consumer.join(timeout=15)
    assert consumer.stats.extended == 0


def test_poison_message_reaches_the_dlq(endpoint: Endpoint) -> None:
    sqs = endpoint.client("sqs")
    dlq = new_queue(sqs, "poison-dlq")
    url = new_queue(sqs, "poison", VisibilityTimeout="1",
                    RedrivePolicy=json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": 2}))
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": b, "MessageBody": b} for b in ("good", "poison")])
    attempts: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler(message: Message) -> None:
        with lock:
            attempts.append((message.body, message.receive_count))
        if message.body == "poison":
            raise ValueError("cannot handle this one")

    consumer = Consumer(url, handler, client=sqs, wait_time=1, retry_delay=0, hooks=Hooks())
    consumer.start()
    try:
        wait_for(lambda: [m["Body"] for m in sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0,
                                                                  VisibilityTimeout=0).get("Messages", [])]
                 == ["poison"], 20, "the poison message in the DLQ", interval=0.3)
    finally:
        consumer.stop()
        consumer.join(timeout=15)
    poison = [(b, n) for b, n in attempts if b == "poison"]
    assert [n for _, n in poison] == [1, 2]  # handled exactly maxReceiveCount times
    assert [b for b, _ in attempts].count("good") == 1
    assert consumer.stats.failed == 2 and consumer.stats.deleted == 1
    assert receive_all(sqs, url) == []  # the source queue kept nothing; the poison message was not deleted
    moved = receive_all(sqs, dlq)
    assert [m["Body"] for m in moved] == ["poison"]


def test_failed_message_waits_for_its_visibility_timeout(postroom_endpoint: Endpoint) -> None:
    """Without retry_delay a failed message is left alone (as Lambda does): still in flight afterwards."""
    sqs = postroom_endpoint.client("sqs")
    url = new_queue(sqs, "no-retry-delay", VisibilityTimeout="30")
    sqs.send_message(QueueUrl=url, MessageBody="fails")

    def fail(message: Message) -> None:
        raise RuntimeError("no")

    consumer = Consumer(url, fail, client=sqs, wait_time=1, hooks=Hooks())
    consumer.run(max_messages=1, install_signal_handlers=False)
    assert consumer.stats.failed == 1 and consumer.stats.deleted == 0
    assert queue_counts(sqs, url) == (0, 1)
