"""Calling a handler, synchronous or ``async``, and finding one by ``module:function``.

Synchronous handlers run on the consumer's worker threads. Coroutine functions (or handlers that
return an awaitable) run on an asyncio event loop: the caller's loop under
:meth:`Consumer.run_async`, otherwise one private loop on a background thread. Either way at most
``concurrency`` handlers run at once, and each FIFO group's messages still run one after another.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from postroom.consumer.message import Message

Handler = Callable[[Message], Any]
"""``handler(message)``: return to succeed (the message is deleted), raise to fail (it is retried)."""


class HandlerRunner:
    """Calls a handler and waits for it, whichever kind it is."""

    def __init__(self, handler: Handler, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._handler = handler
        self._loop = loop
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        call = type(handler).__call__ if not inspect.isroutine(handler) else None
        self.is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None:
            return self._loop
        with self._lock:
            if self._own_loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="postroom-consumer-asyncio",
                                                daemon=True)
                self._thread.start()
                self._own_loop = loop
            return self._own_loop

    def __call__(self, message: Message) -> Any:
        if self.is_async:
            return self._wait(self._handler(message))
        result = self._handler(message)
        if inspect.isawaitable(result):
            return self._wait(result)
        return result

    def _wait(self, awaitable: Awaitable[Any]) -> Any:
        async def run() -> Any:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(run(), self._event_loop()).result()

    def close(self) -> None:
        with self._lock:
            loop, self._own_loop = self._own_loop, None
        if loop is not None and self._thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)
            loop.close()


def load_handler(spec: str) -> Handler:
    """``package.module:function`` (attribute paths allowed after the colon); the current directory
    is importable, as with ``python -m``."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"handler must be given as module:function, not {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{spec} is not callable")
    handler: Handler = target
    return handler
