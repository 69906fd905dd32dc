"""DeleteQueue racing SendMessage must not leak messages into a queue re-created under the same
name.

AWS (DeleteQueue): "When you delete a queue, any messages in the queue are no longer
available", and while a queue is being deleted "a SendMessage request might succeed, but after
60 seconds the queue and the message you sent no longer exist". A queue created later under the
same name is a new, empty queue. So whatever happens to the sends that race the delete, once the
delete has returned and every send has returned, a queue re-created with that name holds no
message. (This server runs without
--aws-timing, so the name can be reused at once.)

Each round: create queue X; four sender threads loop SendMessage to X while a fifth waits a few
milliseconds and calls DeleteQueue(X); every send must either succeed or fail with
QueueDoesNotExist (anything else fails the test). When the delete has returned the senders stop
and are joined — so no send is in flight any more — then X is re-created with the same name and
must be empty: ApproximateNumberOfMessages, ...NotVisible and ...Delayed are 0 and a
ReceiveMessage(MaxNumberOfMessages=10, WaitTimeSeconds=0) returns nothing. All rounds run; the
test reports how many leaked.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from tests.api.conftest import unique
from tests.concurrency.conftest import ROUNDS, Clients, describe_error, is_queue_missing

SENDERS = 4
FIFO_ROUNDS = 15


def _one_round(clients: Clients, r: int, fifo: bool) -> tuple[list[str], list[str], int]:
    """(leak descriptions, unexpected send/delete errors, sends acknowledged) of one round."""
    admin, deleter = clients.sqs(0), clients.sqs(SENDERS + 1)
    senders = [clients.sqs(1 + i) for i in range(SENDERS)]
    name = unique("cdel-fifo") + ".fifo" if fifo else unique("cdel")
    attrs = {"FifoQueue": "true"} if fifo else {}
    url = admin.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]

    barrier = threading.Barrier(SENDERS + 1)
    stop = threading.Event()
    lock = threading.Lock()
    unexpected: list[str] = []
    acked = [0] * SENDERS

    def send_loop(i: int, sqs: Any) -> None:
        barrier.wait(10)
        n = 0
        while not stop.is_set():
            n += 1
            kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": f"r{r}-s{i}-{n}"}
            if fifo:
                kwargs.update(MessageGroupId=f"g{i}", MessageDeduplicationId=uuid.uuid4().hex)
            try:
                sqs.send_message(**kwargs)
                acked[i] += 1
            except Exception as exc:
                if not is_queue_missing(exc):
                    with lock:
                        unexpected.append(f"round {r}: SendMessage from sender {i}: {describe_error(exc)}")

    threads = [threading.Thread(target=send_loop, args=(i, s), daemon=True) for i, s in enumerate(senders)]
    for t in threads:
        t.start()
    barrier.wait(10)
    time.sleep(0.001 * (2 + r % 6))  # let the senders get going: 2-7 ms
    try:
        deleter.delete_queue(QueueUrl=url)
    except Exception as exc:
        unexpected.append(f"round {r}: DeleteQueue: {describe_error(exc)}")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not any(t.is_alive() for t in threads), "a sender did not stop within 30 s"

    leaks: list[str] = []
    again = admin.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    a = admin.get_queue_attributes(QueueUrl=again, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    counts = tuple(int(a[k]) for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                       "ApproximateNumberOfMessagesDelayed"))
    got = admin.receive_message(QueueUrl=again, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    if counts != (0, 0, 0) or got:
        leaks.append(f"round {r}: the re-created queue {name} is not empty: (visible, not visible, delayed) = "
                     f"{counts}, received {sorted(m['Body'] for m in got)}")
    admin.delete_queue(QueueUrl=again)
    return leaks, unexpected, sum(acked)


def _run(clients: Clients, rounds: int, fifo: bool) -> None:
    leaks: list[str] = []
    unexpected: list[str] = []
    acked = 0
    for r in range(rounds):
        lk, un, n = _one_round(clients, r, fifo)
        leaks += lk
        unexpected += un
        acked += n
    assert acked > 0, "no SendMessage succeeded before the delete: the race was never run"
    rounds_with_errors = len({u.split(":", 1)[0] for u in unexpected})
    assert not leaks and not unexpected, (
        f"{len(leaks)} of {rounds} rounds leaked messages of the deleted queue into the re-created one; "
        f"{len(unexpected)} calls in {rounds_with_errors} of {rounds} rounds failed with something other than "
        "QueueDoesNotExist:\n  " + "\n  ".join(leaks + unexpected[:20]))


def test_delete_vs_send_standard(clients: Clients) -> None:
    """Standard queue, 30 rounds: see the module docstring."""
    _run(clients, ROUNDS, fifo=False)


def test_delete_vs_send_fifo(clients: Clients) -> None:
    """FIFO queue (explicit deduplication ids, one message group per sender), 15 rounds: see the
    module docstring."""
    _run(clients, FIFO_ROUNDS, fifo=True)
