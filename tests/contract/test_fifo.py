from __future__ import annotations

from postroom.store.base import ReceiveRequest

from .conftest import T0, make_message


def req(n: int = 10, now: int = T0, vis: int = 30_000, **kw: object) -> ReceiveRequest:
    return ReceiveRequest(max_messages=n, visibility_ms=vis, now_ms=now, retention_ms=345_600_000, **kw)  # type: ignore[arg-type]


async def test_group_is_locked_while_a_message_is_in_flight(store, new_queue):
    q = await new_queue("a", fifo=True)
    await store.send(q, [make_message(f"a{i}", "A") for i in range(3)] + [make_message("b0", "B")], T0, 300_000)
    first = await store.receive(q, req(n=1))
    assert [m.body for m in first.messages] == ["a0"]
    second = await store.receive(q, req(n=10))
    assert [m.body for m in second.messages] == ["b0"]
    assert (await store.receive(q, req())).messages == []
    await store.delete(q, [("x", first.messages[0].receipt_handle)], T0)
    third = await store.receive(q, req())
    assert [m.body for m in third.messages] == ["a1", "a2"]


async def test_receive_prefers_one_group_in_order(store, new_queue):
    q = await new_queue("b", fifo=True)
    msgs = []
    for i in range(4):
        msgs += [make_message(f"a{i}", "A"), make_message(f"b{i}", "B")]
    await store.send(q, msgs, T0, 300_000)
    got = await store.receive(q, req(n=5))
    assert [m.body for m in got.messages] == ["a0", "a1", "a2", "a3", "b0"]


async def test_expired_visibility_redelivers_head_first(store, new_queue):
    q = await new_queue("c", fifo=True)
    await store.send(q, [make_message(f"a{i}", "A") for i in range(3)], T0, 300_000)
    got = await store.receive(q, req(n=2, vis=1_000))
    assert [m.body for m in got.messages] == ["a0", "a1"]
    again = await store.receive(q, req(n=10, now=T0 + 1_000))
    assert [m.body for m in again.messages] == ["a0", "a1", "a2"]
    assert [m.receive_count for m in again.messages] == [2, 2, 1]


async def test_dedup_window(store, new_queue):
    q = await new_queue("d", fifo=True)
    (r1,) = await store.send(q, [make_message("x", "G", dedup="d1")], T0, 300_000)
    (r2,) = await store.send(q, [make_message("y", "G", dedup="d1")], T0 + 299_999, 300_000)
    assert r2.duplicate and r2.message_id == r1.message_id and r2.sequence_number == r1.sequence_number
    assert (await store.counts(q, T0)).visible == 1
    (r3,) = await store.send(q, [make_message("z", "G", dedup="d1")], T0 + 300_000, 300_000)
    assert not r3.duplicate and r3.message_id != r1.message_id
    assert (await store.counts(q, T0 + 300_000)).visible == 2


async def test_dedup_scope_message_group(store, new_queue):
    q = await new_queue("e", fifo=True, DeduplicationScope="messageGroup")
    results = await store.send(q, [make_message("x", "G1", dedup="d"), make_message("x", "G2", dedup="d"),
                                   make_message("x", "G1", dedup="d")], T0, 300_000)
    assert [r.duplicate for r in results] == [False, False, True]


async def test_sequence_numbers_increase(store, new_queue):
    q = await new_queue("f", fifo=True)
    results = await store.send(q, [make_message(str(i), "G") for i in range(5)], T0, 300_000)
    seqs = [int(r.sequence_number or 0) for r in results]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    (later,) = await store.send(q, [make_message("later", "H")], T0, 300_000)
    assert int(later.sequence_number or 0) > seqs[-1]


async def test_attempt_id_returns_same_messages(store, new_queue):
    q = await new_queue("g", fifo=True)
    await store.send(q, [make_message(f"a{i}", "A") for i in range(2)], T0, 300_000)
    first = await store.receive(q, req(attempt_id="try-1"))
    again = await store.receive(q, req(now=T0 + 1_000, attempt_id="try-1"))
    assert [m.receipt_handle for m in again.messages] == [m.receipt_handle for m in first.messages]
    other = await store.receive(q, req(now=T0 + 1_000, attempt_id="try-2"))
    assert other.messages == []


async def test_dead_letter_after_max_receives_keeps_order(store, new_queue):
    dlq = await new_queue("dlq", fifo=True)
    q = await new_queue("src", fifo=True)
    await store.send(q, [make_message(f"a{i}", "A") for i in range(3)], T0, 300_000)
    now = T0
    for _ in range(2):
        got = await store.receive(q, req(now=now, vis=1_000, max_receive_count=2, dlq=dlq.key))
        assert [m.body for m in got.messages] == ["a0", "a1", "a2"]
        now += 1_000
    got = await store.receive(q, req(now=now, max_receive_count=2, dlq=dlq.key))
    assert got.messages == [] and got.moved_to_dlq == 3
    moved = await store.receive(dlq, req(now=now))
    assert [m.body for m in moved.messages] == ["a0", "a1", "a2"]
    assert all(m.group_id == "A" and m.dead_letter_source_arn == q.arn for m in moved.messages)
