"""What the fake APIs on 127.0.0.1 share: a threaded server on a free port, started
and stopped by ``start``/``stop`` or a ``with`` block, and the canned ``Reply``."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer


@dataclass
class Reply:
    """A canned reply, played before the normal answers (one per request)."""

    status: int = 200
    body: object = b""  # bytes are sent as they are, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (client read timeouts)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (read timeout) resets the connection: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeServer:
    """Base of the fakes: subclasses give ``thread_name`` and ``_handler_class()``."""

    thread_name = "fake-server"
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def _handler_class(self):
        raise NotImplementedError

    def start(self):
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]
