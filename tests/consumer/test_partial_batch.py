"""FIFO partial-batch semantics (AWS Lambda's FIFO rule, Powertools' SqsFifoPartialProcessor): when a
message fails, the later messages of its group in that batch are not handled and are released, so
the group's order is never broken — checked on postroom, whose FIFO group locking is exact."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from postroom.consumer import Consumer, Hooks, Message, from_sqs
from postroom.consumer.batch import lanes
from tests.consumer.conftest import new_queue, queue_counts
from tests.endpoints import Endpoint


class Recording(Hooks):
    def __init__(self) -> None:
        self.released: list[tuple[list[str], str]] = []
        self.lock = threading.Lock()

    def on_released(self, messages: Sequence[Message], reason: str) -> None:
        with self.lock:
            self.released.append(([m.body for m in messages], reason))


def test_failure_releases_the_rest_of_the_group(postroom_endpoint: Endpoint) -> None:
    sqs = postroom_endpoint.client("sqs")
    url = new_queue(sqs, "partial", fifo=True, VisibilityTimeout="30")
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": f"a{i}", "MessageGroupId": "A", "MessageDeduplicationId": f"a{i}"}
        for i in range(6)])
    calls: list[tuple[str, int]] = []
    failed = set()

    def handler(m: Message) -> None:
        calls.append((m.body, m.receive_count))
        if m.body == "a2" and "a2" not in failed:
            failed.add("a2")
            raise RuntimeError("first attempt of a2 fails")

    hooks = Recording()
    consumer = Consumer(url, handler, client=sqs, wait_time=1, retry_delay=0, hooks=hooks)
    consumer.run(max_messages=7, install_signal_handlers=False)  # 7 handler calls: 6 + 1 retry

    # a0, a1 succeed; a2 fails; a3..a5 are never handled in that batch; then a2..a5 in order.
    assert [body for body, _ in calls] == ["a0", "a1", "a2", "a2", "a3", "a4", "a5"]
    assert hooks.released == [(["a3", "a4", "a5"], "fifo-after-failure")]
    # released messages were received once before (receive count 2 now), never handled twice
    assert dict(calls[3:]) == {"a2": 2, "a3": 2, "a4": 2, "a5": 2}
    assert consumer.stats.succeeded == 6 and consumer.stats.failed == 1 and consumer.stats.deleted == 6
    assert queue_counts(sqs, url) == (0, 0)


def _raw(i: int, group: str | None, sent: int = 0) -> dict[str, Any]:
    attrs = {"ApproximateReceiveCount": "1", "SentTimestamp": str(sent)}
    if group is not None:
        attrs["MessageGroupId"] = group
    return {"MessageId": f"id{i}", "ReceiptHandle": f"rh{i}", "Body": f"m{i}", "Attributes": attrs}


def test_lanes_split_fifo_batches_by_group_keeping_order() -> None:
    msgs = [from_sqs("q.fifo", _raw(i, g)) for i, g in enumerate("ABAABC")]
    assert [[m.body for m in lane] for lane in lanes(msgs, fifo=True)] == [["m0", "m2", "m3"], ["m1", "m4"], ["m5"]]


def test_lanes_on_standard_queues() -> None:
    msgs = [from_sqs("q", _raw(i, None, sent=100 - i)) for i in range(4)]
    assert [[m.body for m in lane] for lane in lanes(msgs, fifo=False)] == [["m0"], ["m1"], ["m2"], ["m3"]]
    by_parity = lanes(msgs, fifo=False, order_key=lambda m: str(int(m.body[1:]) % 2))
    # same key → one lane, oldest SentTimestamp first (m2 was sent before m0)
    assert [[m.body for m in lane] for lane in by_parity] == [["m2", "m0"], ["m3", "m1"]]
