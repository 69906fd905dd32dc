"""The ASGI application: health, the debug clock, and everything else to the SQS
dispatcher.

A bare ASGI callable rather than a web framework: every request is an AWS API call
dispatched by header or form field, so routing is three string comparisons, and the
per-request overhead stays a few microseconds (see the README's benchmark section).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from postroom.core.sns.archive import ArchiveSettings
from postroom.errors import PostroomError
from postroom.protocol.auth import (
    UNSIGNED_SNS_LINKS,
    Authenticator,
    AuthFailure,
    Verified,
    check_allowed,
    check_scope,
    error_response,
)
from postroom.protocol.caller import Addressing, credential_scope, request_context
from postroom.protocol.credentials import Credential, CredentialStore
from postroom.protocol.http import Request, Response, parse_form
from postroom.protocol.sigv4 import MISSING_AUTHENTICATION_TOKEN
from postroom.protocol.sns.dispatch import SNS_VERSION, STS_VERSION, SnsDispatcher
from postroom.protocol.sns.handlers import SNS_HANDLERS
from postroom.protocol.sqs.dispatch import HANDLERS as SQS_HANDLERS
from postroom.protocol.sqs.dispatch import SqsDispatcher, wants_json
from postroom.protocol.sqs.handler_support import Services
from postroom.server.admin import AdminApi
from postroom.server.clocks import OffsetClock
from postroom.server.config import ServerConfig
from postroom.service.context import ServiceSettings
from postroom.service.http_delivery import HttpDeliverer
from postroom.service.messages import MessageService
from postroom.service.move_tasks import MoveTaskService
from postroom.service.queue_stats import QueueStats
from postroom.service.queues import QueueService
from postroom.service.replay import ReplayService
from postroom.service.sns import SnsService
from postroom.service.sns_delivery import Endpoints
from postroom.service.waiters import Waiters
from postroom.sns_signing import CERT_PATH, Signer
from postroom.store.base import Store
from postroom.store.factory import is_postgres, open_store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

access_log = logging.getLogger("postroom.access")
log = logging.getLogger("postroom.server")

MAX_BODY = 4 * 1024 * 1024
ARCHIVE_EXPIRY_BATCH = 2_000
STATS_FLUSH_SECONDS = 5.0


class DataDirLock:
    """An exclusive lock on the data dir: the embedded store has exactly one writer process."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(data_dir / "postroom.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._fd)
            raise SystemExit(f"postroom: {data_dir} is in use by another postroom process") from exc

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


class PostroomApp:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.clock = OffsetClock()
        self.waiters = Waiters()
        self.store: Store | None = None
        self.dispatcher: SqsDispatcher | None = None
        self.move_tasks: MoveTaskService | None = None
        self.signer: Signer | None = None
        self.http_delivery: HttpDeliverer | None = None
        self.sns_service: SnsService | None = None
        self.replays: ReplayService | None = None
        self.admin: AdminApi | None = None
        self.queue_stats: QueueStats | None = None
        self.sns: SnsDispatcher | None = None
        self._lock: DataDirLock | None = None
        self._background: list[asyncio.Task[None]] = []
        self.shutting_down = False
        self.authenticator = _authenticator(config)
        self.addressing = Addressing(config.account_id, config.region, config.port, scheme=config.scheme,
                                     public_url=config.public_url)

    # ---- lifecycle ------------------------------------------------------------
    async def startup(self) -> None:
        if not is_postgres(self.config.store_url):
            self._lock = DataDirLock(self.config.data_dir)
        self.store = await open_store(self.config.store_url, self.config.data_dir, self.config.durability)
        self.store.set_wakeup(self.waiters.wake)
        settings = ServiceSettings(aws_timing=self.config.aws_timing, archive=ArchiveSettings(
            self.config.default_archive_days, self.config.unrouted_days))
        args = (self.store, self.clock, settings, self.waiters)
        self.move_tasks = MoveTaskService(*args)
        services = Services(QueueService(*args), MessageService(*args), self.move_tasks)
        self.dispatcher = SqsDispatcher(services)
        if is_postgres(self.config.store_url):
            # Every node signs with one key and serves one certificate: the first node to
            # start stores them, the others read them.
            self.signer = Signer.from_pem(await self.store.shared_setting(
                "sns-signing-key", lambda: Signer.generate().to_pem()))
        else:
            self.signer = Signer.load_or_create(self.config.data_dir)
        # Deliveries made without a request (replays) point back at the address the server listens on.
        base = (self.config.public_url.replace("{region}", self.config.region) if self.config.public_url
                else f"{self.config.scheme}://{self.config.host}:{self.config.port}")
        endpoints = Endpoints(base, CERT_PATH)
        self.replays = ReplayService(self.store, self.clock, settings, self.waiters, self.signer.sign, endpoints)
        self.sns_service = SnsService(self.store, self.clock, settings, self.waiters, self.signer.sign, CERT_PATH,
                                      self.replays, services.messages.stats)
        self.sns = SnsDispatcher(self.sns_service)
        self.admin = AdminApi(self.store, self.clock, self.sns_service, self.replays)
        self.queue_stats = services.messages.stats
        self.http_delivery = HttpDeliverer(self.store, self.clock)
        self._background = [asyncio.create_task(self.move_tasks.run_forever()),
                            asyncio.create_task(self.http_delivery.run_forever()),
                            asyncio.create_task(self.replays.run_forever()),
                            asyncio.create_task(self._flush_stats_forever()),
                            asyncio.create_task(self._expire_forever())]
        if self.authenticator is None:
            log.warning("AUTHENTICATION IS OFF: any request is accepted, signed or not, with any signature. "
                        "Start with --credentials FILE (see `postroom credentials add`) to verify SigV4 signatures.")
        else:
            log.info("SigV4 authentication on: %d key(s)%s", len(self.authenticator.store),
                     f" from {self.config.credentials_file}" if self.config.credentials_file else "")
        log.info("postroom ready: data in %s", self.config.data_dir)

    def begin_shutdown(self) -> None:
        """Answer waiting long polls now (empty, as when their wait runs out) so a
        shutdown does not wait up to 20 s for them."""
        self.shutting_down = True
        self.waiters.close()

    async def shutdown(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self.http_delivery is not None:
            await self.http_delivery.close()
        try:
            await self._flush_stats()
        except Exception:
            log.exception("could not record SQS message counts")
        if self.store is not None:
            await self.store.close()
        if self._lock is not None:
            self._lock.release()
        log.info("postroom stopped cleanly")

    async def _flush_stats(self) -> None:
        if self.store is not None and self.queue_stats is not None:
            rows = self.queue_stats.drain(self.clock.now_ms())
            if rows:
                await self.store.record_queue_stats(rows)

    async def _flush_stats_forever(self) -> None:
        while True:
            await asyncio.sleep(STATS_FLUSH_SECONDS)
            try:
                await self._flush_stats()
            except Exception:
                log.exception("could not record SQS message counts")

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.expire_interval_s)
            try:
                assert self.store is not None
                now = self.clock.now_ms()
                await self.store.expire(now)
                # The archive goes a batch at a time, each its own short transaction, so
                # publishes are never held up behind a large expiry.
                while await self.store.expire_archive(now, ARCHIVE_EXPIRY_BATCH) == ARCHIVE_EXPIRY_BATCH:
                    await asyncio.sleep(0)
            except Exception:
                log.exception("retention sweep failed")

    # ---- ASGI -----------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except BaseException as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        declared = _declared_length(scope)
        if declared > MAX_BODY:
            await _reply(send, TOO_LARGE if declared <= MAX_DRAINED else TOO_LARGE_CLOSE)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before its body was complete: nothing of it is acted on
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > MAX_BODY:
                await _reply(send, TOO_LARGE)
                return
        body = b"".join(chunks)
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health" and method in ("GET", "HEAD"):
            response = Response(200, [(b"content-type", b"application/json")],
                                b'{"status":"ok","auth":"off"}' if self.authenticator is None
                                else b'{"status":"ok","auth":"sigv4"}', "health")
        elif (path.startswith("/_postroom/") or path == "/metrics") and path != CERT_PATH:
            assert self.admin is not None
            found = await self.admin.handle(method, path, scope["query_string"], body)
            response = found if found is not None else self._debug(path, scope["query_string"])
        elif path == CERT_PATH and method in ("GET", "HEAD") and self.signer is not None:
            response = Response(200, [(b"content-type", b"application/x-pem-file")], self.signer.certificate_pem(),
                                "cert")
        else:
            assert self.dispatcher is not None
            headers = dict(scope["headers"])
            request = Request(method, path, scope["query_string"], headers, body)
            response = await self._route(request, scope)
        await _reply(send, response)
        if access_log.isEnabledFor(logging.INFO):
            client = scope.get("client") or ("-", 0)
            access_log.info('%s "%s %s" %s %d %.1fms', client[0], method, path, response.action,
                            response.status, (time.perf_counter() - started) * 1000)

    async def _route(self, request: Request, scope: Scope | None = None) -> Response:
        """SQS JSON carries X-Amz-Target; a query request names its API Version (SNS
        2010-03-31, STS 2011-06-15, SQS 2012-11-05); without one, the service in the
        SigV4 credential scope decides, and unsigned links SNS hands out (UnsubscribeURL,
        SubscribeURL) are recognised by their action. With authentication on, the signature
        is verified here, before anything is dispatched (``protocol/auth.py``)."""
        assert self.dispatcher is not None and self.sns is not None
        verified: Verified | AuthFailure | None = None
        if self.authenticator is not None:
            try:
                raw_path = (scope.get("raw_path") or request.path.encode()) if scope else request.path.encode()
                verified = self.authenticator.authenticate(
                    request, raw_path.decode("latin-1").partition("?")[0],
                    scope["headers"] if scope else request.headers.items())
            except AuthFailure as failure:
                verified = failure
        form: dict[str, str] | None = None
        target = request.headers.get(b"x-amz-target")
        service, action = "sqs", ""
        if target is not None:
            action = target.decode("latin-1").rpartition(".")[2]
        else:
            try:
                form = parse_form(request)
            except PostroomError:
                form = None
            if form is not None:
                version = form.get("Version")
                scoped = (verified.principal.service if isinstance(verified, Verified)
                          else verified.service if isinstance(verified, AuthFailure)
                          else credential_scope(request.headers)[2])
                action = form.get("Action", "")
                sns_only = action in SNS_HANDLERS and action not in SQS_HANDLERS
                if version in (SNS_VERSION, STS_VERSION) or (version is None and (scoped in ("sns", "sts")
                                                                                  or sns_only)):
                    sts = version == STS_VERSION or action == "GetCallerIdentity" or (version is None
                                                                                      and scoped == "sts")
                    service = "sts" if sts else "sns"
        ctx = None
        if isinstance(verified, AuthFailure):
            if not (verified.code == MISSING_AUTHENTICATION_TOKEN and service == "sns" and request.method == "GET"
                    and action in UNSIGNED_SNS_LINKS):
                return error_response(verified, service, target is not None, wants_json(request.headers))
            ctx = request_context(request.headers, self.addressing)
        elif isinstance(verified, Verified):
            if verified.principal.service != service or verified.credential.allow is not None:
                try:
                    check_scope(verified, service)
                    check_allowed(verified, service, action)
                except AuthFailure as failure:
                    return error_response(failure, service, target is not None, wants_json(request.headers))
            ctx = request_context(request.headers, self.addressing, verified.principal)
        else:
            ctx = request_context(request.headers, self.addressing)
        if form is not None and service != "sqs":
            return await self.sns.handle(request, ctx, form)
        return await self.dispatcher.handle(request, ctx)

    def _debug(self, path: str, query_string: bytes) -> Response:
        if path == "/_postroom/clock/advance" and self.config.debug_clock:
            seconds = float(parse_qs(query_string.decode()).get("seconds", ["0"])[0])
            self.clock.advance(seconds)
            self.waiters.notify_all()
            body = f'{{"now_ms":{self.clock.now_ms()}}}'.encode()
            return Response(200, [(b"content-type", b"application/json")], body, "clock")
        return Response(404, [(b"content-type", b"text/plain")], b"Not found", "-")


def _authenticator(config: ServerConfig) -> Authenticator | None:
    """Signature verification, if the configuration names any credentials (a file or keys in
    the environment); None: any signature is accepted."""
    if config.credentials_file is None and not config.env_credentials:
        return None
    static = {key: Credential(key, secret, None, token) for key, secret, token in config.env_credentials}
    return Authenticator(CredentialStore(config.credentials_file, static), config.account_id)


# As AWS's front end answers a request over its size limit: a plain-text 413, before any action
# is parsed. The connection stays open and the rest of the body is read and dropped (within the
# body timeout, server/limits.py): closing with unread data would reset the connection, and the
# client would see that instead of the 413.
TOO_LARGE = Response(413, [(b"content-type", b"text/plain")],
                     f"Request Entity Too Large: the limit is {MAX_BODY} bytes".encode())
# A body declared larger than this is not worth reading to the end: answered and closed at once.
MAX_DRAINED = 4 * MAX_BODY
TOO_LARGE_CLOSE = Response(413, [*TOO_LARGE.headers, (b"connection", b"close")], TOO_LARGE.body)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _reply(send: Send, response: Response) -> None:
    await send({"type": "http.response.start", "status": response.status,
                "headers": [*response.headers, (b"content-length", str(len(response.body)).encode())]})
    await send({"type": "http.response.body", "body": response.body})
