"""An OpenAI-compatible chat server on 127.0.0.1 that answers from a script.

``/v1/chat/completions`` pops one step of ``server.script`` per request: ``{"text": ...}``
(or ``{"pieces": [...]}`` for a streamed reply), ``{"sleep": s}`` to be slow,
``{"status": 500}`` to fail (``"headers"`` added to that response). Every request body is kept in ``server.requests``, so a
test can read exactly what the model was shown. Shared by the generation tests
(tests/kit/test_llm.py) and the injection corpus (tests/security/).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Scripted(BaseHTTPRequestHandler):
    """/v1/chat/completions answering from the server's ``script`` list, one per request."""

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server: FakeServer = self.server  # type: ignore[assignment]
        server.requests.append(body)
        step = server.next_step()
        if step.get("sleep"):
            time.sleep(step["sleep"])
        if step.get("status"):
            error = {"error": {"message": "boom", "type": "server_error"}}
            self._send(step["status"], error, step.get("headers", {}))
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces = step.get("pieces") or [server.reply(body, step)]
            for piece in pieces:
                self._event({"delta": {"content": piece}, "finish_reason": None})
            self._event({"delta": {}, "finish_reason": "stop"})
            self.wfile.write(b"data: [DONE]\n\n")
            return
        self._send(
            200,
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "m"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": server.reply(body, step)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    def _event(self, choice: dict[str, Any]) -> None:
        chunk = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, **choice}],
        }
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()

    def _send(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout test) closes the socket under us

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Scripted)
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def next_step(self) -> dict[str, Any]:
        """This request's step of the script (a default reply when it has run out)."""
        return self.script.pop(0) if self.script else {"text": "NO_ANSWER"}

    def reply(self, body: dict[str, Any], step: dict[str, Any]) -> str:
        """The text a step answers ``body`` with; a subclass may compose it."""
        return str(step["text"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def prompt(self, i: int = -1) -> str:
        return "\n".join(m["content"] for m in self.requests[i]["messages"])


@contextlib.contextmanager
def running() -> Iterator[FakeServer]:
    """A started server, shut down and closed on exit."""
    srv = FakeServer()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(timeout=5)
