"""Calls to the LINE platform: reply, push and a user's profile, with bounded retries.

A 5xx, a 429 or a lost connection is tried again, at most ``max_attempts`` times in
all, after ``backoff``, twice that, … seconds, or after the platform's ``Retry-After``
(capped at ``max_retry_after``). Other answers (400, 401, 403) are final.

**No duplicates.** A push carries ``X-Line-Retry-Key``, one UUID per logical message
kept over all its attempts: the platform executes it once, and answers a retry of an
accepted request with 409, which counts as sent here. The reply API takes no retry
key (the platform refuses one with 400), but a reply token is single-use: when a reply
is retried after a 5xx or a timeout (the first try may have been delivered) and the
platform then says the token is invalid, the first try was the one that used it, and
``Sent.probably_delivered`` says so, so the caller does not push the answer again.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class Sent:
    """The outcome of one logical call (all its attempts)."""

    ok: bool
    status: int  # the last HTTP status (0: no answer at all)
    attempts: int
    detail: str = ""
    retry_key: str | None = None
    # a 409 to a retry: an earlier attempt with this retry key was accepted
    accepted_before: bool = False
    # an attempt got a 5xx or no answer: the platform may have acted on it
    uncertain: bool = False
    data: Any = None

    @property
    def invalid_reply_token(self) -> bool:
        return self.status == 400 and "reply token" in self.detail.lower()

    @property
    def probably_delivered(self) -> bool:
        """A retried reply whose token had been used: by the earlier attempt."""
        return self.invalid_reply_token and self.uncertain


def new_retry_key() -> str:
    return str(uuid.uuid4())


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    v = value.strip()
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(v).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class LineClient:
    """One channel's client (its access token); ``aclose`` when done."""

    def __init__(
        self,
        api_base: str,
        access_token: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_retry_after: float = 30.0,
        on_retry: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base = api_base.rstrip("/")
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.on_retry = on_retry
        self.sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=timeout,
            headers={"Authorization": f"Bearer {access_token}"},
            trust_env=False,  # no proxy from the environment: the token goes where configured
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> Sent:
        body = {"replyToken": reply_token, "messages": messages}
        return await self._call("POST", "/v2/bot/message/reply", "reply", json=body)

    async def push(
        self, to: str, messages: list[dict[str, Any]], retry_key: str | None = None
    ) -> Sent:
        key = retry_key or new_retry_key()
        body = {"to": to, "messages": messages}
        return await self._call("POST", "/v2/bot/message/push", "push", json=body, retry_key=key)

    async def profile(self, user_id: str) -> dict[str, Any] | None:
        """The user's profile (``language`` among its fields), or None when the platform
        gives none (a user who has not added the account, an error)."""
        if not _ID.fullmatch(user_id):
            return None
        sent = await self._call("GET", f"/v2/bot/profile/{quote(user_id)}", "profile")
        return sent.data if sent.ok and isinstance(sent.data, dict) else None

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json: dict[str, Any] | None = None,
        retry_key: str | None = None,
    ) -> Sent:
        headers = {"X-Line-Retry-Key": retry_key} if retry_key else {}
        uncertain = False
        status, detail = 0, ""
        for attempt in range(1, self.max_attempts + 1):
            wait: float | None = None
            try:
                r = await self._http.request(method, self.base + path, json=json, headers=headers)
            except httpx.TransportError as exc:
                # a connection never made cannot have been acted on; a timeout may have been
                uncertain |= not isinstance(exc, httpx.ConnectError)
                status, detail = 0, f"{type(exc).__name__}: {exc}"
            else:
                status, detail, data = r.status_code, _detail(r), _json(r)
                if 200 <= status < 300:
                    return Sent(True, status, attempt, detail, retry_key, False, uncertain, data)
                if status == 409 and retry_key:
                    return Sent(True, status, attempt, detail, retry_key, True, uncertain, data)
                if status != 429 and status < 500:
                    return Sent(False, status, attempt, detail, retry_key, False, uncertain, data)
                uncertain |= status >= 500
                wait = retry_after(r.headers.get("retry-after"))
            if attempt == self.max_attempts:
                break
            if wait is None:
                wait = self.backoff * 2 ** (attempt - 1)
            wait = min(wait, self.max_retry_after)
            log.info(
                "LINE %s: %s; attempt %d again in %.1fs", what, status or detail, attempt, wait
            )
            if self.on_retry is not None:
                self.on_retry(what)
            await self.sleep(wait)
        return Sent(False, status, self.max_attempts, detail, retry_key, False, uncertain)


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _detail(r: httpx.Response) -> str:
    data = _json(r)
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return r.reason_phrase or ""
