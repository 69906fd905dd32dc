"""Handler kinds and standard-queue concurrency on postroom: asyncio handlers (on a private loop and on
the caller's loop), per-key serialisation on a standard queue, and `module:function` loading."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from postroom.consumer import Consumer, Hooks, Message, load_handler
from tests.consumer.conftest import new_queue, queue_counts
from tests.endpoints import Endpoint


class Overlap:
    """Tracks how many handlers run at once, overall and per key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.per_key: dict[str, int] = {}
        self.key_peak = 0
        self.done: list[str] = []

    def enter(self, key: str = "") -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.per_key[key] = self.per_key.get(key, 0) + 1
            self.key_peak = max(self.key_peak, self.per_key[key])

    def leave(self, body: str, key: str = "") -> None:
        with self.lock:
            self.now -= 1
            self.per_key[key] -= 1
            self.done.append(body)


def _fill(sqs: object, url: str, n: int, key_of: object = None) -> None:
    for start in range(0, n, 10):
        entries = []
        for i in range(start, min(n, start + 10)):
            entry: dict[str, object] = {"Id": str(i), "MessageBody": f"m{i}"}
            if key_of is not None:
                entry["MessageAttributes"] = {"account": {"DataType": "String", "StringValue": f"a{i % 3}"}}
            entries.append(entry)
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[attr-defined]


def test_async_handler_runs_concurrently(postroom_endpoint: Endpoint) -> None:
    sqs = postroom_endpoint.client("sqs")
    url = new_queue(sqs, "async")
    _fill(sqs, url, 12)
    overlap = Overlap()

    async def handler(message: Message) -> None:
        overlap.enter()
        await asyncio.sleep(0.2)
        overlap.leave(message.body)

    consumer = Consumer(url, handler, client=sqs, concurrency=4, batch_size=1, wait_time=1, hooks=Hooks())
    consumer.run(max_messages=12, install_signal_handlers=False)
    assert sorted(overlap.done) == sorted(f"m{i}" for i in range(12))
    assert 2 <= overlap.peak <= 4
    assert queue_counts(sqs, url) == (0, 0)


def test_run_async_uses_the_callers_loop(postroom_endpoint: Endpoint) -> None:
    sqs = postroom_endpoint.client("sqs")
    url = new_queue(sqs, "run-async")
    _fill(sqs, url, 3)
    loops: set[int] = set()

    async def handler(message: Message) -> None:
        loops.add(id(asyncio.get_running_loop()))

    async def main() -> int:
        consumer = Consumer(url, handler, client=sqs, wait_time=1, hooks=Hooks())
        stats = await consumer.run_async(max_messages=3, install_signal_handlers=False)
        assert stats.succeeded == 3
        return id(asyncio.get_running_loop())

    assert loops == {asyncio.run(main())}


def test_order_key_serialises_each_key_on_a_standard_queue(postroom_endpoint: Endpoint) -> None:
    sqs = postroom_endpoint.client("sqs")
    url = new_queue(sqs, "keyed")
    _fill(sqs, url, 30, key_of=True)
    overlap = Overlap()

    def handler(message: Message) -> None:
        key = message.string_attribute("account") or ""
        overlap.enter(key)
        time.sleep(0.03)
        overlap.leave(message.body, key)

    consumer = Consumer(url, handler, client=sqs, concurrency=4, batch_size=3, wait_time=1, hooks=Hooks(),
                        order_key=lambda m: m.string_attribute("account"))
    consumer.run(max_messages=30, install_signal_handlers=False)
    assert sorted(overlap.done) == sorted(f"m{i}" for i in range(30))
    assert overlap.key_peak == 1  # never two handlers of one account at once …
    assert overlap.peak >= 2  # … while different accounts did run concurrently


def test_load_handler() -> None:
    assert load_handler("tests.consumer.apps:slow_record").__name__ == "slow_record"
    with pytest.raises(ValueError):
        load_handler("tests.consumer.apps")
    with pytest.raises(AttributeError):
        load_handler("tests.consumer.apps:nope")
