"""Real HTTP receivers on loopback for the webhook tests: each verifies the Standard Webhooks signature
of what it receives with the `standardwebhooks` package, as a consumer would, and answers as told
(a status, headers such as `Retry-After`, a delay longer than the sender's timeout)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"ok":true}'
    delay: float = 0.0  # seconds before answering (longer than the sender's timeout: a timeout)


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    verified_with: list[str]  # which of the receiver's secrets verified the signature
    error: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class Receiver:
    """`answers` are given in turn (the last one repeats); `secrets` are what the receiver verifies with."""

    def __init__(self, answers: list[Answer] | None = None, secrets: list[str] | None = None) -> None:
        self.answers = answers or [Answer()]
        self.secrets = list(secrets or [])
        self.received: list[Received] = []
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                headers = {key.lower(): value for key, value in self.headers.items()}
                answer = receiver._record(headers, body)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    data = answer.body.encode()
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender gave up (timeout)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, headers: dict[str, str], body: str) -> Answer:
        verified: list[str] = []
        error = ""
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified.append(secret)
            except WebhookVerificationError as exc:
                error = str(exc)
        with self._lock:
            answer = self.answers[min(len(self.received), len(self.answers) - 1)]
            self.received.append(Received(headers=headers, body=body, verified_with=verified, error=error))
        self.arrived.set()
        return answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/opsportal"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)
