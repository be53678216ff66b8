"""A small webhook receiver for trying webhooks out locally (``leadgate webhooks listen``), the demo and the
benchmark: it checks each Standard Webhooks signature, keeps what arrived, and answers 204 (or 401 for a bad
signature, or a status you set to play an endpoint that is failing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300  # seconds a webhook-timestamp may be off (the spec's suggestion)


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """True when ``webhook-signature`` holds a valid v1 signature of this body and the timestamp is fresh."""
    msg_id, ts = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and ts and signatures) or not ts.isdigit():
        return False
    if abs((now or time.time()) - int(ts)) > TOLERANCE:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    for sig in signatures.split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    at: float  # time.time() when it arrived
    valid: bool | None  # None: no secret to check against

    @property
    def payload(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.body)
        return doc

    @property
    def type(self) -> str:
        return str(self.payload.get("type"))

    @property
    def lead_id(self) -> str | None:
        lead = self.payload.get("data", {}).get("lead") or {}
        return lead.get("id")

    @property
    def headers(self) -> dict[str, str]:
        return {"webhook-id": self.webhook_id, "webhook-timestamp": self.timestamp, "webhook-signature": self.signature}


class WebhookReceiver:
    """``with WebhookReceiver(secret) as r: ... r.url ... r.received``"""

    def __init__(
        self,
        secret: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_receive: Callable[[Received], None] | None = None,
    ):
        self.secret = secret
        self.host, self.port = host, port
        self.on_receive = on_receive
        self.received: list[Received] = []
        self.status = 204  # what to answer a valid delivery; set e.g. 503 to play a failing endpoint
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = None if receiver.secret is None else verify(receiver.secret, headers, body)
                item = Received(
                    headers.get("webhook-id", ""),
                    headers.get("webhook-timestamp", ""),
                    headers.get("webhook-signature", ""),
                    body,
                    time.time(),
                    valid,
                )
                status = 401 if valid is False else receiver.status
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(item)
                        receiver._lock.notify_all()
                    if receiver.on_receive is not None:
                        receiver.on_receive(item)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are refused) until ``start`` again, on the same port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)

    def wait_for(self, test: Callable[[list[Received]], bool], timeout: float = 10.0) -> bool:
        """Block until ``test(received)`` holds (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not test(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()
