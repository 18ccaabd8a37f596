"""A partner's webhook endpoint for tests and the bench: a threaded HTTP server on 127.0.0.1.

It records every request (path, headers, body, webhook-id) and answers from a script: the next
scripted Reply if there is one, else the default. A Reply can wait before answering (to make the
sender time out), and carry any status and headers (429 with Retry-After, 301 with Location, 410).

    with Receiver() as receiver:
        receiver.script(Reply(500), Reply(200))
        ... deliver to receiver.url ...
        assert [r.status for r in receiver.requests] == [500, 200]
"""

import collections
import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0  # seconds to wait before answering


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int  # what the receiver answered (or meant to: a sender that timed out never saw it)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True


class Receiver:
    def __init__(self, default: Reply | None = None, *, latency: float = 0.0):
        self.default = default or Reply(200)
        self.latency = latency  # added to every answer: keeps deliveries in flight in the reliability tests
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def webhook_ids(self) -> collections.Counter:
        with self._lock:
            return collections.Counter(r.webhook_id for r in self.requests)

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._lock:
            reply = self._script.popleft() if self._script else self.default
            self.requests.append(Received(path=path, headers=headers, body=body, status=reply.status))
        return reply

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real partner's server would

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = self.rfile.read(length)
                except OSError:
                    body = b""
                if len(body) < length:  # the sender died mid-request: a partner never sees half a request
                    self.close_connection = True
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = receiver._answer(self.path, headers, body)
                if reply.sleep or receiver.latency:
                    time.sleep(reply.sleep + receiver.latency)
                answer = b'{"ok":true}' if 200 <= reply.status < 300 else b""
                with contextlib.suppress(OSError):  # the sender may have given up (timeout) and gone
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

            def log_message(self, format, *args):
                pass

        return Handler
