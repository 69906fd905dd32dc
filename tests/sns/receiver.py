"""A small local HTTP endpoint for SNS http subscriptions: records every POST (path, headers,
body, arrival time) and answers 200, or notification_status to Notifications."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.sns.conftest import wait_until


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], str, float]] = []  # path, headers, body, time
        self.lock = threading.Lock()
        self.notification_status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append((self.path, headers, body, time.monotonic()))
                status = 200
                if headers.get("x-amz-sns-message-type") == "Notification":
                    status = receiver.notification_status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def of_type(self, kind: str) -> list[tuple[str, dict[str, str], str, float]]:
        with self.lock:
            return [r for r in self.requests if r[1].get("x-amz-sns-message-type") == kind]

    def wait_for(self, kind: str, n: int = 1, timeout: float = 10) -> list[tuple[str, dict[str, str], str, float]]:
        wait_until(lambda: len(self.of_type(kind)) >= n, timeout, f"{n} {kind} POST(s)")
        return self.of_type(kind)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
