"""Limits on what one HTTP client may make the server hold (issue #15).

uvicorn's httptools protocol has no limit on the request line or the headers, and no timeout
until a request's head and body have arrived: a client that sends its headers a byte every few
seconds (a "slowloris"), or never sends any, holds its connection forever. This protocol adds,
per connection:

* the request head (request line and headers) must arrive within ``HEAD_TIMEOUT_S`` of the
  connection being made or of its first byte, and the body within ``BODY_TIMEOUT_S`` of the head;
  otherwise ``408 Request Timeout`` and the connection is closed;
* a URL longer than ``MAX_URL_BYTES`` is ``414 URI Too Long``; more than ``MAX_HEADERS`` headers,
  or headers of more than ``MAX_HEADER_BYTES`` in all, ``431 Request Header Fields Too Large``;
  the connection is then closed, as the rest of the request cannot be read sensibly.

These answers come from the HTTP layer, before any AWS action is known, in plain text, as AWS's
own front end answers such requests (a ``413 Request Entity Too Large`` for a body over the limit
is answered the same way by the app). The number of connections and requests in progress is
bounded by uvicorn's ``limit_concurrency`` (``MAX_CONNECTIONS``): beyond it a request is answered
``503 Service Unavailable``.

Each limit can be changed with an environment variable of the same name prefixed ``POSTROOM_``
(``POSTROOM_HEAD_TIMEOUT_S=30``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("postroom.server")


def _setting(name: str, default: float) -> float:
    raw = os.environ.get(f"POSTROOM_{name}")
    return float(raw) if raw else default


HEAD_TIMEOUT_S = _setting("HEAD_TIMEOUT_S", 10.0)
BODY_TIMEOUT_S = _setting("BODY_TIMEOUT_S", 60.0)
KEEP_ALIVE_S = int(_setting("KEEP_ALIVE_S", 5))
MAX_URL_BYTES = int(_setting("MAX_URL_BYTES", 64 * 1024))
MAX_HEADERS = int(_setting("MAX_HEADERS", 100))
MAX_HEADER_BYTES = int(_setting("MAX_HEADER_BYTES", 32 * 1024))
MAX_CONNECTIONS = int(_setting("MAX_CONNECTIONS", 1000))

_REASONS = {408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


class _Refused(Exception):
    """Raised in a parser callback; httptools turns it into an HttpParserError, and uvicorn then
    calls ``send_400_response``, which sends this status instead."""


TICK_S = 0.5
"""How often a connection with a deadline checks it: timeouts fire within half a second of
their due time. One timer per connection while a request is incomplete, instead of a timer
armed and cancelled at every phase of every request (which cost ~8 µs per request)."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline_at: float | None = None
        self._deadline_what = "head"
        self._tick: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None
        self._header_count = 0
        self._header_bytes = 0

    # ---- timeouts ------------------------------------------------------------------
    def _arm(self, seconds: float, what: str) -> None:
        self._deadline_at = self.loop.time() + seconds
        self._deadline_what = what
        if self._tick is None:
            self._tick = self.loop.call_later(TICK_S, self._check)

    def _disarm(self) -> None:
        self._deadline_at = None

    def _check(self) -> None:
        self._tick = None
        if self._deadline_at is None or self.transport.is_closing():
            return
        if self.loop.time() >= self._deadline_at:
            self._deadline_at = None
            self._timed_out(self._deadline_what)
            return
        self._tick = self.loop.call_later(TICK_S, self._check)

    def _timed_out(self, what: str) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and not self.pipeline and what == "body":
            self.transport.close()  # already answered (413): the rest of the body is not wanted
            return
        if cycle is None or not cycle.response_started:
            log.info("closing a connection from %s: its request %s did not arrive within the timeout",
                     self.client[0] if self.client else "?", what)
            self._write_refusal(408, f"The request {what} did not arrive in time.")
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(HEAD_TIMEOUT_S, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        self._header_bytes = 0
        self._arm(HEAD_TIMEOUT_S, "head")

    def on_headers_complete(self) -> None:
        self._arm(BODY_TIMEOUT_S, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # ---- sizes -----------------------------------------------------------------------
    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > MAX_URL_BYTES:
            self._refusal = (414, f"The request URL is longer than {MAX_URL_BYTES} bytes.")
            raise _Refused
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_count > MAX_HEADERS or self._header_bytes > MAX_HEADER_BYTES:
            self._refusal = (431, f"The request has more than {MAX_HEADERS} headers or more than "
                                  f"{MAX_HEADER_BYTES} bytes of them.")
            raise _Refused
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
            return
        status, text = self._refusal
        log.info("refused a request from %s: %s", self.client[0] if self.client else "?", text)
        self._write_refusal(status, text)
        self.transport.close()

    def _write_refusal(self, status: int, text: str) -> None:
        body = text.encode()
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                             b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                             % (status, _REASONS[status], len(body), body))
