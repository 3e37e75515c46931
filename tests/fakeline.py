"""A fake LINE platform on 127.0.0.1: the reply, push and profile APIs as the real one
behaves, recording what it was sent, and the webhook deliveries it would make.

- ``POST /v2/bot/message/reply``: a reply token it issued, unused and younger than
  ``token_ttl``, takes the messages once; any other gets 400 "Invalid reply token".
  A request with ``X-Line-Retry-Key`` gets 400 (the reply API takes none).
- ``POST /v2/bot/message/push``: ``X-Line-Retry-Key`` once accepted, a request with
  the same key gets 409 and is not delivered again.
- ``GET /v2/bot/profile/{userId}``: the profile with ``profiles[userId]`` as language.
- Every message is checked against the platform's limits (five messages, 5,000
  characters a text, 13 quick-reply buttons, labels of 20): a breach is a 400 and is
  kept in ``violations``.
- ``script[path]``: steps popped one per request before the normal handling:
  ``{"status": 500}`` fails without acting; ``{"status": 500, "accept": True}`` acts
  (delivers, uses the token or the retry key) and then answers 500, as a platform
  that failed after the fact; ``"headers"`` adds headers (``Retry-After``).

``deliveries`` lists what reached users (``(kind, to, messages)``), ``requests``
every call with its headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "fake-channel-secret-0123456789abcdef"
TOKEN = "fake-long-lived-access-token"


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def limits_broken(messages: Any) -> list[str]:
    """What in a message list the real platform would refuse."""
    bad: list[str] = []
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return ["messages: 1 to 5"]
    for i, m in enumerate(messages):
        if m.get("type") != "text":
            bad.append(f"messages[{i}]: type {m.get('type')!r}")
            continue
        text = m.get("text", "")
        if not text or units(text) > 5000:
            bad.append(f"messages[{i}].text: {units(text)} characters")
        items = (m.get("quickReply") or {}).get("items", [])
        if len(items) > 13:
            bad.append(f"messages[{i}].quickReply: {len(items)} items")
        for j, item in enumerate(items):
            action = item.get("action", {})
            label = action.get("label", "")
            if not label or units(label) > 20:
                bad.append(f"quickReply[{j}].label {label!r}")
            if action.get("type") == "message" and not 0 < units(action.get("text", "")) <= 300:
                bad.append(f"quickReply[{j}].text")
            if action.get("type") == "postback" and not 0 < len(action.get("data", "")) <= 300:
                bad.append(f"quickReply[{j}].data")
    return bad


class _Handler(BaseHTTPRequestHandler):
    server: FakeLine  # type: ignore[assignment]

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        p = self.server
        p.record(self.command, self.path, dict(self.headers), None)
        if not self._authorised():
            return
        if self.path.startswith("/v2/bot/profile/"):
            user = self.path.rsplit("/", 1)[1]
            if user not in p.profiles:
                self._send(404, {"message": "Not found"})
                return
            self._send(200, {"userId": user, "displayName": "住民", "language": p.profiles[user]})
            return
        self._send(404, {"message": "Not found"})

    def do_POST(self) -> None:
        p = self.server
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw or b"{}")
        p.record(self.command, self.path, dict(self.headers), body)
        if not self._authorised():
            return
        step = p.next_step(self.path)
        if step is not None and not step.get("accept"):
            self._send(step["status"], {"message": "scripted failure"}, step.get("headers"))
            return
        if self.path == "/v2/bot/message/reply":
            status, out, headers = p.reply(body, self.headers.get("X-Line-Retry-Key"))
        elif self.path == "/v2/bot/message/push":
            status, out, headers = p.push(body, self.headers.get("X-Line-Retry-Key"))
        else:
            status, out, headers = 404, {"message": "Not found"}, {}
        if step is not None:  # acted on, then failed
            status, out, headers = (
                step["status"],
                {"message": "scripted failure"},
                step.get("headers", {}),
            )
        self._send(status, out, headers)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.server.access_token}":
            self._send(401, {"message": "Authentication failed"})
            return False
        return True

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-line-request-id", uuid.uuid4().hex)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class FakeLine(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret: str = SECRET, access_token: str = TOKEN) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret
        self.access_token = access_token
        self.token_ttl = 60.0
        self.profiles: dict[str, str] = {}
        self.script: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.deliveries: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.violations: list[str] = []
        self._tokens: dict[str, tuple[float, str]] = {}  # reply token -> (issued, user)
        self._keys: dict[str, str] = {}  # accepted retry key -> request id
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    # ---- the server
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeLine:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        with self._changed:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            self._changed.notify_all()

    def calls(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def next_step(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            steps = self.script.get(path)
            return steps.pop(0) if steps else None

    def wait(self, until: Callable[[], bool], timeout: float = 20.0) -> bool:
        """Block until ``until()`` holds (checked at each request), or the timeout."""
        end = time.monotonic() + timeout
        with self._changed:
            while not until():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
            return True

    # ---- the APIs
    def _check(self, messages: Any) -> tuple[int, Any, dict[str, str]] | None:
        bad = limits_broken(messages)
        if bad:
            self.violations.extend(bad)
            return 400, {"message": "The request body has 1 error(s)", "details": bad}, {}
        return None

    def reply(self, body: dict[str, Any], retry_key: str | None) -> tuple[int, Any, dict[str, str]]:
        if retry_key:
            return 400, {"message": "X-Line-Retry-Key is not supported for this API"}, {}
        refused = self._check(body.get("messages"))
        if refused:
            return refused
        with self._changed:
            issued = self._tokens.pop(body.get("replyToken", ""), None)
            if issued is None or time.monotonic() - issued[0] > self.token_ttl:
                return 400, {"message": "Invalid reply token"}, {}
            self.deliveries.append(("reply", issued[1], body["messages"]))
            self._changed.notify_all()
        return 200, {"sentMessages": [{"id": "1"}]}, {}

    def push(self, body: dict[str, Any], retry_key: str | None) -> tuple[int, Any, dict[str, str]]:
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return 400, {"message": "The retry key is not a UUID"}, {}
        refused = self._check(body.get("messages"))
        if refused:
            return refused
        with self._changed:
            if retry_key in self._keys:
                return (
                    409,
                    {"message": "The retry key is already accepted"},
                    {"x-line-accepted-request-id": self._keys[retry_key]},
                )
            if retry_key:
                self._keys[retry_key] = uuid.uuid4().hex
            self.deliveries.append(("push", body.get("to", ""), body["messages"]))
            self._changed.notify_all()
        return 200, {"sentMessages": [{"id": "2"}]}, {}

    # ---- the webhook deliveries
    def issue_token(self, user: str) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = (time.monotonic(), user)
        return token

    def event(
        self,
        user: str,
        kind: str = "message",
        *,
        redelivery: bool = False,
        event_id: str | None = None,
        timestamp: float | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        ev = {
            "type": kind,
            "mode": "active",
            "timestamp": int((time.time() if timestamp is None else timestamp) * 1000),
            "source": {"type": "user", "userId": user},
            "webhookEventId": event_id or "01H" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": redelivery},
            **fields,
        }
        if kind not in ("unfollow", "leave"):
            ev["replyToken"] = self.issue_token(user)
        return ev

    def text(self, user: str, text: str, **kw: Any) -> dict[str, Any]:
        return self.event(
            user, message={"id": secrets.token_hex(8), "type": "text", "text": text}, **kw
        )

    def body(self, *events: dict[str, Any]) -> bytes:
        return json.dumps(
            {"destination": "Uchannel", "events": list(events)}, ensure_ascii=False
        ).encode()

    def sign(self, body: bytes) -> str:
        mac = hmac.new(self.secret.encode(), body, hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        return {"X-Line-Signature": self.sign(body), "Content-Type": "application/json"}

    def to(self, user: str) -> list[tuple[str, list[dict[str, Any]]]]:
        """What reached ``user``: (reply or push, messages), in order."""
        with self._lock:
            return [(k, m) for k, to, m in self.deliveries if to == user]
