"""The consumer loop: receive a batch, handle it lane by lane, settle it in batched calls.

Each of ``concurrency`` workers runs the loop on its own thread with one shared boto3 client:

1. ``ReceiveMessage`` with long polling (``WaitTimeSeconds``, default 20), up to ``batch_size`` (10)
   messages, all system and message attributes, and on FIFO queues a fresh ``ReceiveRequestAttemptId``
   so a retried receive returns the same messages rather than locking their groups for nothing;
2. the batch is split into lanes (:mod:`postroom.consumer.batch`) and handled; the heartbeat
   (:mod:`postroom.consumer.lease`) keeps the batch invisible while it takes long;
3. ``DeleteMessageBatch`` for what succeeded, one ``ChangeMessageVisibilityBatch`` for the rest:
   visibility 0 for messages released unhandled, the backoff for failed ones when ``retry_delay`` is
   set (otherwise a failed message simply reappears when its visibility timeout ends, as with Lambda).

On a FIFO queue SQS itself keeps a message group locked while any of its messages is in flight, so
two workers (threads or processes, anywhere) never hold the same group at once; concurrency is
across groups. A message that keeps failing reaches the queue's dead-letter queue through its
``RedrivePolicy`` (``maxReceiveCount``): the consumer never deletes a message it did not handle.

Shutdown (SIGTERM/SIGINT under :meth:`Consumer.run`, or :meth:`Consumer.stop`): no new receive
starts; handlers already running finish and their messages are deleted; messages received but not
started are released with visibility 0, so another consumer gets them at once. A long poll already
waiting finishes first (at most ``wait_time`` seconds) and anything it returns is released.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from postroom.awsclient import AwsTarget
from postroom.consumer.batch import BatchResult, Outcome, lanes
from postroom.consumer.handlers import Handler, HandlerRunner
from postroom.consumer.hooks import Hooks, LoggingHooks, Stats
from postroom.consumer.lease import Heartbeat, Lease
from postroom.consumer.message import Message, from_sqs
from postroom.consumer.signature import SignatureError, SnsVerifier
from postroom.probe import probe_of, reply

log = logging.getLogger("postroom.consumer")

RetryDelay = float | Callable[[Message, BaseException], float | None] | None
MAX_VISIBILITY = 43200  # 12 hours, AWS's maximum VisibilityTimeout
_STRIPES = 256
RESPONSE_TRANSIT = 0.5
#: The system attributes a Message exposes; asking for these rather than "All" saves work on both ends.
SYSTEM_ATTRIBUTES = ["ApproximateReceiveCount", "SentTimestamp", "MessageGroupId", "MessageDeduplicationId",
                     "SequenceNumber"]


class Consumer:
    """Process the messages of one queue (standard or FIFO) with ``handler``.

    ``handler(message)`` returns to succeed or raises to fail; it may be a coroutine function.
    Pass ``client`` (a boto3 SQS client) or ``endpoint_url``/``region``/``profile``.

    ``concurrency``: workers, i.e. handlers running at once (across FIFO groups);
    ``retry_delay``: seconds before a failed message is retried (ChangeMessageVisibility), or a
    function ``(message, error) -> seconds | None``; None leaves it for the visibility timeout;
    ``order_key``: on a standard queue, handle messages with the same key one at a time;
    ``verifier``: check SNS envelope signatures (:class:`SnsVerifier`); refused messages count as failed.
    """

    def __init__(self, queue_url: str, handler: Handler, *, client: Any = None, endpoint_url: str | None = None,
                 region: str | None = None, profile: str | None = None, concurrency: int = 1,
                 batch_size: int = 10, wait_time: int = 20, visibility_timeout: int | None = None,
                 heartbeat: bool = True, retry_delay: RetryDelay = None,
                 order_key: Callable[[Message], str | None] | None = None, unwrap_sns: bool = True,
                 verifier: SnsVerifier | None = None, hooks: Hooks | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 1 <= batch_size <= 10:
            raise ValueError("batch_size must be 1..10 (SQS's MaxNumberOfMessages)")
        if not 0 <= wait_time <= 20:
            raise ValueError("wait_time must be 0..20 seconds (SQS's WaitTimeSeconds)")
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")
        # every request's parameters are built here, so botocore's client-side validation of them
        # would only repeat work (≈ 14% of a call's client CPU)
        self.client = client if client is not None else AwsTarget(endpoint_url, region, profile).client(
            "sqs", max_pool_connections=concurrency + 4, read_timeout=wait_time + 30.0, parameter_validation=False)
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.wait_time = wait_time
        self._visibility_timeout = visibility_timeout
        self.heartbeat_enabled = heartbeat
        self.retry_delay = retry_delay
        self.order_key = order_key
        self.unwrap_sns = unwrap_sns
        self.verifier = verifier
        self.hooks = hooks if hooks is not None else LoggingHooks()
        self.stats = Stats()
        self._handler = handler
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._heartbeat: Heartbeat | None = None
        self._runner: HandlerRunner | None = None
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._errors: list[BaseException] = []
        self._max_messages: int | None = None
        self._idle_timeout: float | None = None
        self._last_activity = time.monotonic()
        self._count_lock = threading.Lock()
        self._handled = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def visibility_timeout(self) -> int:
        """The timeout receives use: the one given, else the queue's ``VisibilityTimeout`` attribute."""
        if self._visibility_timeout is None:
            attrs = self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"])
            self._visibility_timeout = int(attrs["Attributes"]["VisibilityTimeout"])
        return self._visibility_timeout

    def start(self, *, max_messages: int | None = None, idle_timeout: float | None = None,
              loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the workers in the background; :meth:`stop` and :meth:`join` end them.

        ``max_messages``: stop after handling that many (succeeded or failed); ``idle_timeout``: stop
        after that many seconds without receiving anything.
        """
        if self._threads:
            raise RuntimeError("consumer already started")
        self._stopping.clear()
        self._max_messages, self._idle_timeout = max_messages, idle_timeout
        self._last_activity = time.monotonic()
        timeout = self.visibility_timeout()
        self._runner = HandlerRunner(self._handler, loop)
        if self.heartbeat_enabled:
            self._heartbeat = Heartbeat(self.client, self.queue_url, timeout, self.hooks, self.stats, self._report)
            self._heartbeat.start()
        for i in range(self.concurrency):
            thread = threading.Thread(target=self._worker, name=f"postroom-consumer-{i}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Ask the workers to finish what they are handling and release the rest."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the workers; True when they all ended (then the heartbeat is stopped too)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
            if thread.is_alive():
                return False
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        if self._runner is not None:
            self._runner.close()
        self._threads = []
        if self._errors:
            error, self._errors = self._errors[0], []
            raise error
        return True

    def run(self, *, max_messages: int | None = None, idle_timeout: float | None = None,
            install_signal_handlers: bool = True) -> Stats:
        """Consume until stopped (SIGTERM/SIGINT, :meth:`stop`, ``max_messages``, ``idle_timeout``)."""
        previous: dict[signal.Signals, Any] = {}
        if install_signal_handlers and threading.current_thread() is threading.main_thread():
            for signum in (signal.Signals.SIGTERM, signal.Signals.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self.start(max_messages=max_messages, idle_timeout=idle_timeout)
            while not self.join(timeout=0.2):
                pass
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.stats

    async def run_async(self, *, max_messages: int | None = None, idle_timeout: float | None = None,
                        install_signal_handlers: bool = True) -> Stats:
        """:meth:`run` for asyncio applications: coroutine handlers run on the calling event loop."""
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if install_signal_handlers:
            for signum in (signal.Signals.SIGTERM, signal.Signals.SIGINT):
                try:
                    loop.add_signal_handler(signum, self.stop)
                    installed.append(signum)
                except (NotImplementedError, RuntimeError):
                    pass
        try:
            await asyncio.to_thread(self.start, max_messages=max_messages, idle_timeout=idle_timeout, loop=loop)
            while not await asyncio.to_thread(self.join, 0.2):
                pass
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
        return self.stats

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing in-flight messages, releasing the rest", signum)
        self.stop()

    # -- the worker loop ------------------------------------------------------------------------
    def _worker(self) -> None:
        try:
            while not self._stopping.is_set():
                self._poll_once()
        except BaseException as exc:  # a bug, not a message failure: stop everything, re-raise in join()
            log.exception("consumer worker crashed")
            self._errors.append(exc)
            self._stopping.set()

    def _receive(self) -> tuple[list[dict[str, Any]], float]:
        kwargs: dict[str, Any] = {"QueueUrl": self.queue_url, "MaxNumberOfMessages": self.batch_size,
                                  "WaitTimeSeconds": self.wait_time, "MessageSystemAttributeNames": SYSTEM_ATTRIBUTES,
                                  "MessageAttributeNames": ["All"]}
        if self._visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = self._visibility_timeout
        if self.fifo:
            kwargs["ReceiveRequestAttemptId"] = uuid.uuid4().hex
        sent_at = time.monotonic()
        response = self.client.receive_message(**kwargs)
        # SQS starts the visibility timeout when it picks the messages: after the long poll waited,
        # before the response travelled back. Assume it travelled for up to RESPONSE_TRANSIT seconds.
        picked_at = max(sent_at, time.monotonic() - RESPONSE_TRANSIT)
        return list(response.get("Messages", [])), picked_at

    def _poll_once(self) -> None:
        try:
            raw, sent_at = self._receive()
        except Exception as exc:
            self._report("ReceiveMessage", exc)
            self._stopping.wait(1.0)
            return
        if not raw:
            if self._idle_timeout is not None and time.monotonic() - self._last_activity >= self._idle_timeout:
                self.stop()
            return
        self._last_activity = time.monotonic()
        raw = self._answer_probes(raw)
        if not raw:
            return
        messages = [from_sqs(self.queue_url, m, unwrap_sns=self.unwrap_sns) for m in raw]
        self.stats.add("received", len(messages))
        self._hook(self.hooks.on_received, messages)
        lease = Lease([m.receipt_handle for m in messages], self.visibility_timeout(), sent_at)
        if self._heartbeat is not None:
            self._heartbeat.add(lease)
        errors: dict[str, BaseException] = {}
        try:
            result = self._handle_batch(messages, lease, errors)
        finally:
            lease.forget()
            if self._heartbeat is not None:
                self._heartbeat.remove(lease)
        self._settle(result, errors)

    def _answer_probes(self, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`postroom verify --probe` sends marked probe messages through the real routes
        (postroom/probe.py). They are answered on the probe's reply queue and deleted here, before
        any handler could see them: the application is never disturbed, and the reply proves a live
        consumer is attached. Returns the messages that are not probes."""
        kept: list[dict[str, Any]] = []
        for m in raw:
            probe = probe_of(m)
            if probe is None:
                kept.append(m)
                continue
            try:
                reply(self.client, probe, received_by=_consumer_name(), queue=self.queue_url)
                self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
                self.stats.add("probes")
            except Exception as exc:  # a probe must never stop real work; it reappears after its timeout
                self._report("probe reply", exc)
        return kept

    def _handle_batch(self, messages: Sequence[Message], lease: Lease,
                      errors: dict[str, BaseException]) -> BatchResult:
        result = BatchResult()
        for lane in lanes(messages, fifo=self.fifo, order_key=self.order_key):
            lock = self._lane_lock(lane)
            if lock is None:
                self._handle_lane(lane, lease, result, errors)
            else:
                with lock:
                    self._handle_lane(lane, lease, result, errors)
        return result

    def _lane_lock(self, lane: list[Message]) -> threading.Lock | None:
        """Standard queues with an order_key: one lock stripe per key, held across workers."""
        if self.fifo or self.order_key is None:
            return None
        key = self.order_key(lane[0])
        if key is None:
            return None
        return self._stripes[zlib.crc32(key.encode("utf-8", "surrogatepass")) % _STRIPES]

    def _handle_lane(self, lane: list[Message], lease: Lease, result: BatchResult,
                     errors: dict[str, BaseException]) -> None:
        for i, message in enumerate(lane):
            if self._stopping.is_set():
                for rest in lane[i:]:
                    result.set(rest, Outcome.NOT_STARTED)
                return
            if not lease.valid():
                for rest in lane[i:]:
                    result.set(rest, Outcome.LEASE_LOST)
                return
            error = self._handle_one(message)
            if error is None:
                result.set(message, Outcome.SUCCEEDED)
                continue
            errors[message.receipt_handle] = error
            result.set(message, Outcome.FAILED)
            for rest in lane[i + 1:]:
                result.set(rest, Outcome.SKIPPED if self.fifo or self.order_key else Outcome.NOT_STARTED)
            return

    def _handle_one(self, message: Message) -> BaseException | None:
        started = time.monotonic()
        try:
            if self.verifier is not None and message.sns is not None:
                self.verifier.verify(message.sns)
            assert self._runner is not None
            self._runner(message)
        except SignatureError as exc:
            self.stats.add("rejected")
            return self._failed(message, exc)
        except Exception as exc:
            return self._failed(message, exc)
        self.stats.add("succeeded")
        self._hook(self.hooks.on_success, message, time.monotonic() - started)
        self._count_handled()
        return None

    def _failed(self, message: Message, exc: BaseException) -> BaseException:
        self.stats.add("failed")
        self._hook(self.hooks.on_failure, message, exc)
        self._count_handled()
        return exc

    def _count_handled(self) -> None:
        if self._max_messages is None:
            return
        with self._count_lock:
            self._handled += 1
            if self._handled >= self._max_messages:
                self.stop()

    # -- settling -------------------------------------------------------------------------------
    def _settle(self, result: BatchResult, errors: dict[str, BaseException]) -> None:
        self._delete(result.with_outcome(Outcome.SUCCEEDED))
        changes: list[tuple[Message, int]] = []
        released: dict[str, list[Message]] = {}
        for outcome, reason in ((Outcome.SKIPPED, "fifo-after-failure"), (Outcome.NOT_STARTED, "shutdown")):
            for m in result.with_outcome(outcome):
                changes.append((m, 0))
                released.setdefault(reason, []).append(m)
        for m in result.with_outcome(Outcome.FAILED):
            delay = self._retry_delay(m, errors[m.receipt_handle])
            if delay is not None:
                changes.append((m, delay))
        lost = result.with_outcome(Outcome.LEASE_LOST)
        if lost:
            self._hook(self.hooks.on_released, lost, "lease-lost")
        self._change_visibility(changes)
        for reason, ms in released.items():
            self.stats.add("released", len(ms))
            self._hook(self.hooks.on_released, ms, reason)

    def _retry_delay(self, message: Message, error: BaseException) -> int | None:
        delay = self.retry_delay
        value = delay(message, error) if callable(delay) else delay
        if value is None:
            return None
        return max(0, min(MAX_VISIBILITY, round(value)))

    def _delete(self, messages: list[Message]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)]
            try:
                response = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:
                self._report("DeleteMessageBatch", exc)
                continue
            failed = response.get("Failed", [])
            for entry in failed:
                self._report("DeleteMessageBatch", f"{chunk[int(entry['Id'])].message_id}: "
                                                   f"{entry.get('Code')}: {entry.get('Message')}")
            self.stats.add("deleted", len(chunk) - len(failed))

    def _change_visibility(self, changes: list[tuple[Message, int]]) -> None:
        for start in range(0, len(changes), 10):
            chunk = changes[start:start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": seconds}
                       for i, (m, seconds) in enumerate(chunk)]
            try:
                response = self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:
                self._report("ChangeMessageVisibilityBatch", exc)
                continue
            for entry in response.get("Failed", []):
                self._report("ChangeMessageVisibilityBatch", f"{chunk[int(entry['Id'])][0].message_id}: "
                                                             f"{entry.get('Code')}: {entry.get('Message')}")

    # -- hooks ----------------------------------------------------------------------------------
    def _report(self, operation: str, error: BaseException | str) -> None:
        self.stats.add("aws_errors")
        self._hook(self.hooks.on_aws_error, operation, error)

    def _hook(self, method: Callable[..., None], *args: Any) -> None:
        try:
            method(*args)
        except Exception:
            log.exception("consumer hook %s raised", getattr(method, "__name__", method))


def _consumer_name() -> str:
    return f"postroom.consumer@{socket.gethostname()}:{os.getpid()}"
