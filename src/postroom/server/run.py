"""Run the ASGI app under uvicorn (httptools parser, uvloop event loop)."""

from __future__ import annotations

import asyncio
import logging
from types import FrameType

import uvicorn

from postroom.server import limits, tls
from postroom.server.app import PostroomApp
from postroom.server.config import ServerConfig


class _Server(uvicorn.Server):
    """uvicorn's server, telling postroom first when SIGTERM/SIGINT arrives so waiting
    long polls answer at once and the graceful shutdown is quick; the process then
    exits 0."""

    def __init__(self, config: uvicorn.Config, app: PostroomApp) -> None:
        super().__init__(config)
        self.postroom = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.call_soon_threadsafe(self.postroom.begin_shutdown)
        except RuntimeError:
            self.postroom.begin_shutdown()
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after its graceful shutdown, so the process would
        # die "by SIGTERM"; a completed clean shutdown exits 0 instead.
        self._captured_signals.clear()


def serve(config: ServerConfig) -> None:
    level = getattr(logging, config.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = tls.prepare(config)  # HTTPS: the certificate is made (--tls-self-signed) and checked first
    app = PostroomApp(config)
    uv_config = uvicorn.Config(
        app, host=config.host, port=config.port, loop="uvloop", lifespan="on",
        # httptools with postroom's limits: head/body timeouts (slowloris), URL and header sizes
        http=limits.LimitedHttpToolsProtocol, limit_concurrency=limits.MAX_CONNECTIONS,
        timeout_keep_alive=limits.KEEP_ALIVE_S,
        access_log=False, log_level=config.log_level.lower(), timeout_graceful_shutdown=10,
        server_header=False, date_header=False, log_config=None,
        ssl_certfile=config.tls_cert, ssl_keyfile=config.tls_key,
    )
    _Server(uv_config, app).run()
