"""The webhook request: its signature and its events.

The platform signs the raw body: ``X-Line-Signature`` is
base64(HMAC-SHA256(channel secret, body)). ``verify`` compares in constant time and
is the first thing done with a request; nothing in it is read before that.

``parse_body`` turns the JSON into typed events. Kinds the service acts on are
``message`` (text, sticker, image, video, audio, file, location), ``follow``,
``unfollow`` and ``postback``; any other kind (``join``, ``memberJoined``,
``videoPlayComplete``, kinds added later) is kept as an ``Event`` of its kind and
ignored by the caller, so a new platform feature never fails a delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from madoguchi.kit.errors import InputError

MAX_EVENTS = 100  # more than the platform puts in one request


def signature(secret: str, body: bytes) -> str:
    """The ``X-Line-Signature`` the platform sends with ``body``."""
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def verify(secret: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the body's signature under ``secret`` (constant time)."""
    if not given or not secret:
        return False
    expected = signature(secret, body).encode("ascii")
    return hmac.compare_digest(expected, given.strip().encode("ascii", "replace"))


class _Loose(BaseModel):
    # the platform adds fields over time: unknown ones are kept, never an error
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Source(_Loose):
    type: str = "user"
    user_id: str | None = Field(default=None, alias="userId", max_length=100)
    group_id: str | None = Field(default=None, alias="groupId", max_length=100)
    room_id: str | None = Field(default=None, alias="roomId", max_length=100)

    @property
    def push_to(self) -> str | None:
        """Where a push reaches the conversation: the group, the room, else the user."""
        return self.group_id or self.room_id or self.user_id


class DeliveryContext(_Loose):
    is_redelivery: bool = Field(default=False, alias="isRedelivery")


class Message(_Loose):
    id: str = ""
    type: str
    text: str | None = Field(default=None, max_length=20_000)


class Postback(_Loose):
    data: str = Field(default="", max_length=1000)


class Event(_Loose):
    type: str
    mode: str = "active"  # "standby": another module answers this channel
    timestamp: int = 0  # ms since the epoch
    webhook_event_id: str | None = Field(default=None, alias="webhookEventId", max_length=100)
    delivery_context: DeliveryContext = Field(
        default_factory=DeliveryContext, alias="deliveryContext"
    )
    reply_token: str | None = Field(default=None, alias="replyToken", max_length=200)
    source: Source | None = None
    message: Message | None = None
    postback: Postback | None = None

    @property
    def redelivered(self) -> bool:
        return self.delivery_context.is_redelivery


class WebhookBody(_Loose):
    destination: str = ""
    events: list[Event] = Field(default_factory=list, max_length=MAX_EVENTS)


def parse_body(raw: bytes) -> WebhookBody:
    """The events of a (verified) webhook body; ``InputError`` for malformed JSON or a
    body that is not a webhook's. An event that is not an object with a ``type`` makes
    the body malformed; an event of an unknown type does not."""
    try:
        data: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the webhook body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("the webhook body is not a JSON object")
    try:
        return WebhookBody.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first.get("loc", ()))
        raise InputError(f"the webhook body is not a LINE webhook: {loc}: {first['msg']}") from None
