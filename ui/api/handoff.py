"""Hand-off to staff: what the widget offers after a refusal, and the staff's inbox.

Residents (``router``, public like ``residents``):

- ``GET /api/v1/handoff/status?department=&lang=``: is the department's office open now,
  its phone, its name in the resident's language, when it next opens;
- ``POST /api/v1/handoff``: a message to staff (the question, an optional contact and
  whether the resident consents to it being kept); returns the ticket id and a token;
- ``GET /api/v1/handoff/{id}?token=``: the ticket's status and the staff reply.

Staff (``admin_router``, the admin key like ``admin``): ``GET /api/v1/admin/handoff``
(the inbox, ``status=open|answered``), ``POST .../{id}/assign``, ``POST .../{id}/reply``,
``POST .../{id}/faq-draft`` (an entry in ``<data_dir>/faq_drafts.csv`` in the FAQ CSV's
columns, from the question and the staff reply).

Every route works under ``/t/{town}/`` too, with the town's data directory (its own
``handoff.sqlite``), settings and keys. The clock is the app's (``create_app(clock=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from madoguchi.kit.config import Settings
from madoguchi.kit.errors import InputError
from madoguchi.kit.handoff import (
    FILENAME,
    HandoffInbox,
    Message,
    departments_for,
    offer,
    write_faq_draft,
)
from madoguchi.kit.lang import normalise_lang
from madoguchi.kit.officehours import Clock, system_clock
from madoguchi.ui.api.deps import LogDep, SettingsDep, limit_questions, require_admin, town_of
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.api.models import ADMIN_ERRORS, ERRORS, ErrorOut, HandoffOffer
from madoguchi.ui.security import RateLimiter, client_id

router = APIRouter(tags=["handoff"])
admin_router = APIRouter(
    prefix="/api/v1/admin/handoff", tags=["admin"], dependencies=[Depends(require_admin)]
)

TICKET_PATTERN = r"^[0-9a-f]{16}$"  # kit.handoff: 16 hex digits
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such ticket, or a wrong token."}
}


def get_clock(request: Request) -> Clock:
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or system_clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def inbox_for(settings: Settings, clock: Clock) -> HandoffInbox:
    h = settings.handoff
    return HandoffInbox.in_data_dir(
        settings.data_dir,
        h.retention_days,
        lambda: clock().timestamp(),
        max_message_chars=h.max_message_chars,
        max_contact_chars=h.max_contact_chars,
    )


def watch_inbox(metrics: Metrics, settings: Settings, clock: Clock) -> None:
    """The inbox's figures on ``/metrics``, read when scraped (at most once a second)."""
    cache: dict[str, Any] = {"at": 0.0, "stats": {}}

    def stat(key: str) -> Callable[[], float]:
        def read() -> float:
            now = time.monotonic()
            if now - cache["at"] > 1.0:
                path = Path(settings.data_dir) / FILENAME
                cache["stats"] = inbox_for(settings, clock).stats() if path.exists() else {}
                cache["at"] = now
            return float(cache["stats"].get(key, 0.0))

        return read

    for status in ("opened", "open", "answered"):
        metrics.handoffs.labels(status).set_function(stat(status))
    for name in ("mean", "median"):
        metrics.handoff_answer_seconds.labels(name).set_function(stat(f"answer_seconds_{name}"))


def handoff_limiter(limiters: dict[str, RateLimiter], settings: Settings) -> RateLimiter:
    """The town's ``handoff.messages_per_day`` limiter (kept in the app, by data directory,
    so the count outlives the town's context); keyed by client address, or by a LINE
    user's conversation id."""
    key = str(Path(settings.data_dir).resolve())
    limiter = limiters.get(key)
    if limiter is None:
        cap = settings.handoff.messages_per_day
        made = RateLimiter(0, cap, settings.server.rate_limit_max_clients)
        limiter = limiters.setdefault(key, made)
    return limiter


def limit_messages(request: Request, settings: SettingsDep) -> None:
    """The question limits, then ``handoff.messages_per_day`` per client address."""
    limit_questions(request)
    handoff_limiter(request.app.state.handoff_limiters, settings).hit(client_id(request))


def _enabled(settings: Settings) -> None:
    if not settings.handoff.enabled:
        raise InputError("職員への問い合わせは受け付けていません (hand-off is switched off)")


def _lang(lang: str | None) -> str:
    return normalise_lang(lang, strict=False) or "ja"


# ---------------------------------------------------------------------------- residents


class HandoffRequest(BaseModel):
    question: str = Field(
        ...,
        description="The message to staff (the question, prefilled); at most "
        "handoff.max_message_chars (2,000) characters.",
        max_length=20000,
    )
    department: str | None = Field(None, max_length=100)
    contact: str | None = Field(
        None,
        description="An e-mail address or phone number for the reply (optional).",
        max_length=1000,
    )
    consent: bool = Field(
        False,
        description="The resident agrees that the message and contact are kept as written "
        "until the retention period ends; without it both are kept masked.",
    )
    lang: str | None = Field(None, max_length=16)
    conversation_id: str | None = Field(None, max_length=128)


class TicketOut(BaseModel):
    id: str
    token: str = Field(..., description="Send it back with GET /api/v1/handoff/{id}.")
    status: Literal["open", "answered"]
    department: str | None
    poll_seconds: float
    retention_days: int
    contact_kept: bool = Field(..., description="False: the contact was masked (no consent).")


class TicketStatusOut(BaseModel):
    id: str
    status: Literal["open", "answered"]
    department: str | None
    created_at: str
    reply: str | None
    replied_at: str | None


def _iso(ts: float | None, clock: Clock) -> str | None:
    if ts is None:
        return None
    tz = clock().tzinfo
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


@router.get("/api/v1/handoff/status", response_model=HandoffOffer, responses=ERRORS)
def handoff_status(
    settings: SettingsDep,
    clock: ClockDep,
    department: Annotated[str | None, Query(max_length=100)] = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """Open now? The department's phone and name, and when it next opens."""
    _enabled(settings)
    found = offer(settings, department, _lang(lang), clock=clock)
    assert found is not None
    return found


@router.post(
    "/api/v1/handoff",
    response_model=TicketOut,
    status_code=201,
    responses=ERRORS,
    dependencies=[Depends(limit_messages)],
)
def handoff_open(
    body: HandoffRequest, settings: SettingsDep, clock: ClockDep, log: LogDep
) -> dict[str, Any]:
    """Leave a message for staff; poll the ticket for their reply."""
    _enabled(settings)
    inbox = inbox_for(settings, clock)
    dept = (body.department or "").strip() or settings.answer.default_department
    lang = _lang(body.lang)
    msg, token = inbox.open(
        body.question,
        department=dept,
        contact=body.contact,
        consent=body.consent,
        lang=lang,
        conversation_id=body.conversation_id,
    )
    if log is not None:  # the conversation log keeps the message masked, as every question
        log.record(
            question=body.question,
            lang=lang,
            answer=f"職員への問い合わせ (受付番号 {msg.id})",
            citations=[],
            refused=False,
            mode="handoff",
            confidence=0.0,
            latency_ms=0.0,
            conversation_id=body.conversation_id,
            ts=msg.ts,
        )
    return {
        "id": msg.id,
        "token": token,
        "status": msg.status,
        "department": msg.department,
        "poll_seconds": settings.handoff.poll_seconds,
        "retention_days": settings.handoff.retention_days,
        "contact_kept": bool(msg.contact) and msg.consent,
    }


@router.get(
    "/api/v1/handoff/{ticket}",
    response_model=TicketStatusOut,
    responses={**ERRORS, **NOT_FOUND},
)
def handoff_ticket(
    ticket: Annotated[str, PathParam(pattern=TICKET_PATTERN)],
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str, Query(min_length=1, max_length=128)],
) -> dict[str, Any] | JSONResponse:
    """The ticket's status and, once answered, the staff reply."""
    msg = inbox_for(settings, clock).check(ticket, token)
    if msg is None:
        return JSONResponse(
            status_code=404,
            content={
                "error": "NotFound",
                "detail": "受付番号またはトークンが違います (no such ticket)",
            },
        )
    return {
        "id": msg.id,
        "status": msg.status,
        "department": msg.department,
        "created_at": _iso(msg.ts, clock),
        "reply": msg.reply,
        "replied_at": _iso(msg.replied_ts, clock),
    }


# ---------------------------------------------------------------------------- staff


class MessageOut(BaseModel):
    id: str
    conversation_id: str | None
    created_at: str
    lang: str | None
    department: str | None
    question: str
    contact: str | None
    consent: bool
    status: Literal["open", "answered"]
    reply: str | None
    replied_at: str | None
    answer_seconds: float | None
    faq_draft: bool
    reply_channel: Literal["line"] | None = Field(
        None, description="line: the reply is also pushed to the resident's LINE."
    )
    delivery: Literal["pending", "sent", "failed"] | None = Field(
        None, description="How pushing the reply went (reply_channel line only)."
    )
    delivery_note: str | None = Field(
        None, description="For staff: 「LINEへの送信に失敗しました」 when it failed."
    )


class AssignRequest(BaseModel):
    department: str = Field(..., max_length=100)


class ReplyRequest(BaseModel):
    reply: str = Field(..., max_length=40000)


class DraftRequest(BaseModel):
    question: str | None = Field(None, max_length=20000, description="Default: the message.")
    answer: str | None = Field(None, max_length=40000, description="Default: the staff reply.")


class DraftOut(BaseModel):
    id: str
    file: str
    question: str
    answer: str
    department: str | None


def message_json(msg: Message, clock: Clock) -> dict[str, Any]:
    return {
        "id": msg.id,
        "conversation_id": msg.conversation_id,
        "created_at": _iso(msg.ts, clock),
        "lang": msg.lang,
        "department": msg.department,
        "question": msg.question,
        "contact": msg.contact,
        "consent": msg.consent,
        "status": msg.status,
        "reply": msg.reply,
        "replied_at": _iso(msg.replied_ts, clock),
        "answer_seconds": msg.answer_seconds,
        "faq_draft": msg.faq_draft,
        "reply_channel": msg.reply_channel,
        "delivery": msg.delivery,
        "delivery_note": delivery_note(msg),
    }


DELIVERY_NOTES = {
    "failed": "LINEへの送信に失敗しました。もう一度送信できます (not delivered to LINE; send again)",
    "pending": "LINEへ送信中です (being sent to LINE)",
    "sent": "LINEへ送信しました (sent to LINE)",
}


def delivery_note(msg: Message) -> str | None:
    return DELIVERY_NOTES.get(msg.delivery or "") if msg.reply_channel else None


def deliver_reply(
    app: Any, settings: Settings, town: str, inbox: HandoffInbox, ticket: str
) -> None:
    """Send staff's reply where the ticket came from besides the widget: a ticket opened
    from LINE is pushed to its user (``ui.api.line.LineHub.send_staff_reply``); the
    outcome is kept in the ticket (``delivery``)."""
    hub = getattr(app.state, "line", None)
    if hub is not None:
        hub.send_staff_reply(settings, town, inbox, ticket)


@admin_router.get("", response_model=list[MessageOut], responses=ADMIN_ERRORS)
def inbox_list(
    settings: SettingsDep,
    clock: ClockDep,
    status: Literal["open", "answered"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """The inbox: open messages oldest first; answered (or all) newest first."""
    msgs = inbox_for(settings, clock).messages(status, limit=limit, offset=offset)
    return [message_json(m, clock) for m in msgs]


@admin_router.post("/{ticket}/assign", response_model=MessageOut, responses=ADMIN_ERRORS)
def inbox_assign(
    ticket: str, body: AssignRequest, settings: SettingsDep, clock: ClockDep
) -> dict[str, Any]:
    """Give the message to another department."""
    return message_json(inbox_for(settings, clock).assign(ticket, body.department), clock)


@admin_router.post("/{ticket}/reply", response_model=MessageOut, responses=ADMIN_ERRORS)
def inbox_reply(
    ticket: str, body: ReplyRequest, request: Request, settings: SettingsDep, clock: ClockDep
) -> dict[str, Any]:
    """Answer the resident: the widget shows the reply in their conversation; a message
    sent from LINE gets it pushed there (``delivery`` says how that went)."""
    inbox = inbox_for(settings, clock)
    msg = inbox.reply(ticket, body.reply)
    if msg.reply_channel:
        town = town_of(request)
        deliver_reply(request.app, settings, town.id if town else "", inbox, msg.id)
        msg = inbox.get(msg.id) or msg
    return message_json(msg, clock)


@admin_router.post("/{ticket}/resend", response_model=MessageOut, responses=ADMIN_ERRORS)
def inbox_resend(
    ticket: Annotated[str, PathParam(pattern=TICKET_PATTERN)],
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """Push the reply of a LINE message again (after 「LINEへの送信に失敗しました」); the
    same retry key as before, so a push that did arrive is not delivered twice."""
    inbox = inbox_for(settings, clock)
    msg = inbox.get(ticket)
    if msg is None:
        raise InputError(f"受付番号 {ticket[:40]!r} のメッセージはありません (no such message)")
    if not msg.reply_channel or not msg.reply:
        raise InputError("LINE に送る返信がありません (no reply to send to LINE)")
    town = town_of(request)
    deliver_reply(request.app, settings, town.id if town else "", inbox, msg.id)
    return message_json(inbox.get(msg.id) or msg, clock)


def make_draft(
    settings: Settings, inbox: HandoffInbox, ticket: str, question: str | None, answer: str | None
) -> dict[str, Any]:
    """The FAQ draft of an answered message (shared by the API and the admin screen)."""
    msg = inbox.get(ticket)
    if msg is None:
        raise InputError(f"受付番号 {ticket[:40]!r} のメッセージはありません (no such message)")
    text = answer if answer and answer.strip() else msg.reply
    if not text:
        raise InputError("返信していないメッセージは FAQ 案にできません (reply first)")
    q = question if question and question.strip() else msg.question
    path = settings.faq_drafts_path
    phone = departments_for(str(settings.departments_path)).phone(msg.department)
    entry = write_faq_draft(
        path,
        question=q,
        answer=text,
        department=msg.department,
        phone=phone,
        town=settings.widget.town,
        code=settings.handoff.municipality_code,
    )
    inbox.mark_faq_draft(ticket)
    return {
        "id": entry["ID"],
        "file": path.name,
        "question": entry["質問"],
        "answer": entry["回答"],
        "department": msg.department,
    }


@admin_router.post(
    "/{ticket}/faq-draft", response_model=DraftOut, responses=ADMIN_ERRORS, status_code=201
)
def inbox_faq_draft(
    ticket: str, body: DraftRequest, settings: SettingsDep, clock: ClockDep
) -> dict[str, Any]:
    """Write an FAQ draft (question, the staff reply, department) to faq_drafts.csv."""
    return make_draft(settings, inbox_for(settings, clock), ticket, body.question, body.answer)
