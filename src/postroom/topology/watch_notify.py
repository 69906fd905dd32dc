"""Where `postroom watch` sends its changes besides the log: a webhook (POST the change as JSON)
and a command (the change as JSON on stdin, and in ``POSTROOM_WATCH_*`` environment variables).

Each sink has its own worker thread and a bounded queue: the loop only enqueues, so a slow or
dead pager never delays a round. A webhook call is retried with exponential backoff (1, 2, 4, 8 s)
on connection errors, 429 and 5xx; a command is run once, with a time limit. What could not be
delivered is logged and counted (``postroom_watch_notifications_failed_total``)."""

from __future__ import annotations

import abc
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from postroom.topology.watch_state import Change

QUEUE_SIZE = 1000


class Sink(abc.ABC):
    """A worker thread that handles changes one at a time, in order."""

    via = "sink"

    def __init__(self, log: Callable[[str], None], context: dict[str, Any] | None = None) -> None:
        self.log = log
        self.context = dict(context or {})
        self.failed = 0
        self.sent = 0
        self._queue: queue.Queue[Change | None] = queue.Queue(QUEUE_SIZE)
        self._thread = threading.Thread(target=self._work, name=f"postroom-watch-{self.via}", daemon=True)
        self._thread.start()

    def __call__(self, change: Change) -> None:
        try:
            self._queue.put_nowait(change)
        except queue.Full:
            self.failed += 1
            self.log(f"{self.via}: {QUEUE_SIZE} changes are waiting; dropped: {change.line()}")

    def payload(self, change: Change) -> dict[str, Any]:
        return {**change.as_dict(), "source": "postroom watch", **self.context}

    def _work(self) -> None:
        while True:
            change = self._queue.get()
            try:
                if change is None:
                    return
                try:
                    ok = self.deliver(change)
                except Exception as exc:
                    self.log(f"{self.via} failed for {change.kind} {change.subject}: {type(exc).__name__}: {exc}")
                    ok = False
                if ok:
                    self.sent += 1
                else:
                    self.failed += 1
            finally:
                self._queue.task_done()

    @abc.abstractmethod
    def deliver(self, change: Change) -> bool:
        """Send one change; True when it arrived (the webhook answered 2xx, the command exited 0)."""

    def close(self, timeout: float) -> None:
        """Deliver what is queued (for at most ``timeout`` seconds), then stop the worker."""
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(max(0.0, deadline - time.monotonic()))


class WebhookSink(Sink):
    via = "webhook"

    def __init__(self, url: str, log: Callable[[str], None], context: dict[str, Any] | None = None,
                 attempts: int = 5, backoff: float = 1.0, timeout: float = 10.0) -> None:
        self.url, self.attempts, self.backoff, self.timeout = url, attempts, backoff, timeout
        super().__init__(log, context)

    def deliver(self, change: Change) -> bool:
        delay = self.backoff
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = httpx.post(self.url, json=self.payload(change), timeout=self.timeout)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 300:
                    return True
                problem = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break  # the webhook refuses this payload: retrying will not help
            if attempt < self.attempts:
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        self.log(f"webhook {self.url} failed for {change.kind} {change.subject} after {attempt} attempt(s): {problem}")
        return False


class CommandSink(Sink):
    via = "command"

    def __init__(self, command: str, log: Callable[[str], None], context: dict[str, Any] | None = None,
                 timeout: float = 60.0) -> None:
        self.command, self.timeout = command, timeout
        super().__init__(log, context)

    def environment(self, change: Change) -> dict[str, str]:
        return {**os.environ,
                "POSTROOM_WATCH_KIND": change.kind, "POSTROOM_WATCH_SUBJECT": change.subject,
                "POSTROOM_WATCH_PREVIOUS": change.previous, "POSTROOM_WATCH_CURRENT": change.current,
                "POSTROOM_WATCH_HEALTHY": "true" if change.healthy else "false",
                "POSTROOM_WATCH_SEVERITY": change.severity, "POSTROOM_WATCH_MESSAGE": change.message,
                "POSTROOM_WATCH_LINE": change.line()}

    def deliver(self, change: Change) -> bool:
        try:
            stdin = json.dumps(self.payload(change), ensure_ascii=False)
            done = subprocess.run(["/bin/sh", "-c", self.command], input=stdin,
                                  env=self.environment(change), capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            self.log(f"command {self.command!r} did not finish within {self.timeout:g} s "
                     f"for {change.kind} {change.subject}")
            return False
        if done.returncode != 0:
            self.log(f"command {self.command!r} exited {done.returncode} for {change.kind} {change.subject}: "
                     f"{(done.stderr or done.stdout).strip()[-300:]}")
            return False
        return True
