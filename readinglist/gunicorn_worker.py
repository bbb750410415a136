"""A gunicorn gthread worker that gives a thread only to a request whose headers
have all arrived.

gunicorn's gthread worker waits for a connection's first bytes on its poller, but
once they arrive a thread reads the rest of the headers, blocking for as long as the
client takes. Twenty clients sending one header line every 3 s ("slowloris") held
every thread of two workers. This worker peeks at the socket instead: until the
blank line that ends the headers is there, the connection goes back to the poller
(gthread's own "deferred" state, which holds no thread), and a client that has not
finished its headers after ``HEADER_TIMEOUT`` seconds is disconnected. Bodies are
still read by the thread: nginx in front buffers them (docs/deploy.md).

It relies on gthread internals (``_DEFER``, ``TConn``) of the pinned gunicorn;
tests/test_gunicorn.py runs the attack against a real server.
https://github.com/benoitc/gunicorn/blob/master/gunicorn/workers/gthread.py
"""

from __future__ import annotations

import socket
import ssl
import time

from gunicorn.workers import gthread

# Longest a client may take to send its request line and headers.
HEADER_TIMEOUT = 10.0
# More than gunicorn accepts in a header block (limit_request_line and
# limit_request_fields x limit_request_field_size): past it, the parser answers.
PEEK_BYTES = 64 * 1024
_ENDS = (b"\r\n\r\n", b"\n\n")


class HeaderBufferingWorker(gthread.ThreadWorker):
    def handle(self, conn):
        if isinstance(conn.sock, ssl.SSLSocket) or (
            conn.parser is not None and conn.parser.unreader.buf.getvalue()
        ):
            # TLS cannot be peeked at; bytes already read belong to a request.
            return super().handle(conn)
        try:
            head = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            head = None
        except OSError:
            return False  # reset by the client: close
        if head == b"":
            return False  # closed by the client before a request
        if head is not None and (
            len(head) >= PEEK_BYTES or any(end in head for end in _ENDS)
        ):
            conn.header_deadline = None
            conn.data_ready = True  # nothing for gthread to wait for
            return super().handle(conn)
        now = time.monotonic()
        deadline = getattr(conn, "header_deadline", None)
        if deadline is None:
            conn.header_deadline = now + HEADER_TIMEOUT
        elif now > deadline:
            self.log.info(
                "closing a connection whose headers took over %s s", HEADER_TIMEOUT
            )
            return False
        # Back to the poller until more arrives (gthread closes it after
        # `keepalive` seconds of silence).
        return gthread._DEFER
