from __future__ import annotations

from postroom.errors import ReceiptHandleIsInvalid
from postroom.store.base import ReceiveRequest, VisibilityChange

from .conftest import T0, make_message


def req(n: int = 10, now: int = T0, vis: int = 30_000, **kw: object) -> ReceiveRequest:
    return ReceiveRequest(max_messages=n, visibility_ms=vis, now_ms=now, retention_ms=345_600_000, **kw)  # type: ignore[arg-type]


async def test_sent_message_is_received_once_within_visibility(store, new_queue):
    q = await new_queue("a")
    await store.send(q, [make_message("hello")], T0, 300_000)
    first = await store.receive(q, req())
    assert [m.body for m in first.messages] == ["hello"]
    assert first.messages[0].receive_count == 1
    again = await store.receive(q, req(now=T0 + 29_999))
    assert again.messages == []
    assert again.next_visible_ms == T0 + 30_000
    later = await store.receive(q, req(now=T0 + 30_000))
    assert [m.body for m in later.messages] == ["hello"]
    assert later.messages[0].receive_count == 2
    assert later.messages[0].receipt_handle != first.messages[0].receipt_handle
    assert later.messages[0].first_receive_ms == T0


async def test_delete_with_an_older_handle_deletes_on_standard(store, new_queue):
    """AWS, observed: on a standard queue DeleteMessage with an older receipt handle of a
    message received again since deletes it (AWS knowledge center sqs-receipt-handle-error:
    "with standard SQS queues, older receipt handles might work"); deleting it again is no
    error."""
    q = await new_queue("b")
    await store.send(q, [make_message("x")], T0, 300_000)
    h1 = (await store.receive(q, req(vis=0))).messages[0].receipt_handle
    h2 = (await store.receive(q, req())).messages[0].receipt_handle
    assert await store.delete(q, [("a", h1)], T0) == [None]
    counts = await store.counts(q, T0)
    assert (counts.visible, counts.in_flight, counts.delayed) == (0, 0, 0)
    assert await store.delete(q, [("b", h2)], T0) == [None]


async def test_malformed_or_foreign_handle_is_invalid(store, new_queue):
    q1 = await new_queue("c1")
    q2 = await new_queue("c2")
    await store.send(q1, [make_message("x")], T0, 300_000)
    h = (await store.receive(q1, req())).messages[0].receipt_handle
    (err,) = await store.delete(q2, [("a", h)], T0)
    assert isinstance(err, ReceiptHandleIsInvalid)
    (err,) = await store.delete(q1, [("a", "garbage!")], T0)
    assert isinstance(err, ReceiptHandleIsInvalid)
    assert (await store.counts(q1, T0)).in_flight == 1


async def test_change_visibility_with_an_expired_handle_changes_nothing(store, new_queue):
    """AWS, observed (LocalStack's AWS-validated fix for expired handles, localstack#9632):
    ChangeMessageVisibility with a handle whose visibility already ended succeeds and does
    nothing — the message stays visible."""
    q = await new_queue("d")
    await store.send(q, [make_message("x")], T0, 300_000)
    h = (await store.receive(q, req())).messages[0].receipt_handle
    assert await store.change_visibility(q, [VisibilityChange("1", h, 0)], T0) == [None]
    assert await store.change_visibility(q, [VisibilityChange("1", h, 10_000)], T0 + 1) == [None]
    assert [m.body for m in (await store.receive(q, req(now=T0 + 1))).messages] == ["x"]


async def test_delay_and_counts(store, new_queue):
    q = await new_queue("e")
    await store.send(q, [make_message("later", delay_ms=5_000), make_message("now")], T0, 300_000)
    counts = await store.counts(q, T0)
    assert (counts.visible, counts.delayed) == (1, 1)
    assert [m.body for m in (await store.receive(q, req())).messages] == ["now"]
    assert (await store.receive(q, req(now=T0 + 4_999))).messages == []
    assert [m.body for m in (await store.receive(q, req(now=T0 + 5_000))).messages] == ["later"]


async def test_retention_hides_and_expire_deletes(store, new_queue):
    q = await new_queue("f", MessageRetentionPeriod="60")
    await store.send(q, [make_message("old")], T0, 300_000)
    r = ReceiveRequest(max_messages=10, visibility_ms=30_000, now_ms=T0 + 60_001, retention_ms=60_000)
    assert (await store.receive(q, r)).messages == []
    await store.send(q, [make_message("old2")], T0, 300_000)
    assert await store.expire(T0 + 61_000) == 1
    assert (await store.counts(q, T0 + 61_000)).visible == 0


async def test_purge_empties_queue(store, new_queue):
    q = await new_queue("g")
    await store.send(q, [make_message(str(i)) for i in range(5)], T0, 300_000)
    await store.purge(q, T0, None)
    assert (await store.counts(q, T0)).visible == 0


async def test_batch_send_preserves_order_on_standard_receive(store, new_queue):
    q = await new_queue("h")
    await store.send(q, [make_message(str(i)) for i in range(10)], T0, 300_000)
    got = (await store.receive(q, req())).messages
    assert [m.body for m in got] == [str(i) for i in range(10)]
