"""What the sandbox servers share: a threaded HTTP server on 127.0.0.1, started in a background thread,
and a handler that answers JSON."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer(ThreadingHTTPServer):
    """An HTTP server on ``host:port`` (loopback by default, or a local node's bridge address so that pods
    reach it; port 0 picks a free one); run it with :meth:`start` or ``serve_forever``."""

    daemon_threads = True
    thread_name = "sandbox"

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        super().__init__((host, port), handler)
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is not the server's error; anything else is printed."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_until_interrupted(self, say: Callable[[str], None]) -> None:
        """Serve in this thread until Ctrl-C (the command-line servers)."""
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            say("stopped")
        finally:
            self.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler whose answers are JSON documents, on keep-alive connections, logging nothing
    (tests and the demo read each server's stats endpoint instead)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(body, separators=(",", ":")).encode(), headers)

    def _send_raw(self, status: HTTPStatus, raw: bytes, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> None:  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)
