"""`postroom watch`'s webhook and command sinks: retried with backoff, never blocking the loop,
failures counted and logged, the change on stdin and in POSTROOM_WATCH_* variables."""

from __future__ import annotations

import json
import time
from pathlib import Path

from postroom.topology.watch_notify import CommandSink, WebhookSink
from postroom.topology.watch_state import Change
from tests.topology.watch_support import Hook

DOWN = Change("ROUTE", "orders → billing", "up", "down", "error", "no reply within 15 s", 1_700_000_000.0)


def test_webhook_retries_5xx_with_backoff_then_delivers_once() -> None:
    hook, logged = Hook(fail_first=2), []
    sink = WebhookSink(hook.url, logged.append, {"environment": "prod"}, backoff=0.05)
    sink(DOWN)
    got = hook.wait(lambda b: True, 10)
    sink.close(5)
    hook.close()
    assert hook.requests == 3 and len(got) == 1
    assert got[0]["subject"] == "orders → billing" and got[0]["current"] == "down" and got[0]["environment"] == "prod"
    assert sink.sent == 1 and sink.failed == 0 and logged == []


def test_webhook_that_keeps_failing_is_counted_and_logged() -> None:
    hook, logged = Hook(fail_first=100), []
    sink = WebhookSink(hook.url, logged.append, attempts=3, backoff=0.01)
    sink(DOWN)
    sink.close(10)
    hook.close()
    assert hook.requests == 3 and sink.failed == 1 and sink.sent == 0
    assert len(logged) == 1 and "after 3 attempt(s): HTTP 503" in logged[0]


def test_a_slow_webhook_never_blocks_the_caller() -> None:
    hook = Hook(delay=1.0)
    sink = WebhookSink(hook.url, lambda _l: None)
    started = time.monotonic()
    for _ in range(5):
        sink(DOWN)
    assert time.monotonic() - started < 0.5, "submitting only enqueues"
    sink.close(20)
    hook.close()
    assert sink.sent == 5


def test_command_gets_the_change_on_stdin_and_in_the_environment(tmp_path: Path) -> None:
    out = tmp_path / "out"
    logged: list[str] = []
    sink = CommandSink(f'cat > {out}.json; echo "$POSTROOM_WATCH_KIND $POSTROOM_WATCH_CURRENT '
                       f'$POSTROOM_WATCH_HEALTHY $POSTROOM_WATCH_SUBJECT" > {out}.env', logged.append)
    sink(DOWN)
    failing = CommandSink("echo boom >&2; exit 3", logged.append)
    failing(DOWN)
    sink.close(10)
    failing.close(10)
    assert json.loads(Path(f"{out}.json").read_text())["message"] == "no reply within 15 s"
    assert Path(f"{out}.env").read_text().strip() == "ROUTE down false orders → billing"
    assert sink.sent == 1 and failing.failed == 1
    assert len(logged) == 1 and "exited 3" in logged[0] and "boom" in logged[0]
