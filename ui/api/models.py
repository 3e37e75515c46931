"""Request and response bodies of the HTTP API, and the error responses it documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AskRequest(BaseModel):
    question: str = Field(..., description="The resident's question.", max_length=20000)
    lang: str | None = Field(
        None,
        description="The language the resident chose (the widget's menu): ja, en, zh-Hans, "
        "zh-Hant, ko, vi, pt, es, tl, ne, id, ja-easy (or the kit's spellings). The answer "
        "is in the question's own language when it is clear (an English question is "
        "answered in English whatever the menu says), in this one when the text could be "
        "in it or says too little (OK, TV, juminhyo, a number); detected when absent.",
        max_length=16,
    )
    conversation_id: str | None = Field(
        None,
        description="Links follow-up questions; a new one is returned when absent.",
        max_length=128,
    )


class CitationOut(BaseModel):
    source: str
    title: str
    url: str | None
    page: int | None = Field(
        None,
        description="The page of a PDF the cited passage is on (1-based); absent for "
        "other documents.",
        exclude_if=lambda v: v is None,
    )


class HandoffOffer(BaseModel):
    """Whom a resident can reach now: the department's office open or not, its phone, when
    it next opens (ISO 8601 with the offset, Japan time), how long a message is kept."""

    open: bool
    department: str
    department_label: str = Field(..., description="The Japanese name and its rendering.")
    phone: str | None
    next_open: str | None = Field(None, description="Now when open; null when never.")
    closes_at: str | None = None
    today: str = Field("", description="Today's hours, e.g. 08:30-17:15; empty when closed.")
    closed_reason: str | None = Field(
        None, description="Why today is closed: 年末年始, a holiday's name, 休業日, 定休日."
    )
    retention_days: int


class AskResponse(BaseModel):
    answer: str
    refused: bool
    lang: str
    follow_up: str | None
    citations: list[CitationOut]
    department: str | None = None
    department_label: str | None = Field(
        None,
        description="The department as the answer's language names it: the Japanese name "
        "and its rendering, e.g. 税務課 (Tax Division); the Japanese name alone when none "
        "is known.",
    )
    phone: str | None = None
    confidence: float = 0.0
    mode: str = "extractive"
    original: str | None = None
    related: list[CitationOut] = Field(
        default_factory=list,
        description="With a refusal: documents that may help, not sources of an answer.",
    )
    machine_translation: bool = Field(
        False,
        description="The answer shows a machine translation town staff have not checked yet "
        "(its text says so too).",
    )
    latency_ms: float = 0.0
    handoff: HandoffOffer | None = Field(
        None,
        description="With a refusal: the hand-off to staff (call now, or leave a message); "
        "null when answered or when hand-off is off.",
    )
    answer_id: str = Field(..., description="Send it back with POST /api/v1/feedback.")
    conversation_id: str


class FeedbackRequest(BaseModel):
    answer_id: str = Field(..., min_length=1, max_length=64)
    helpful: bool
    comment: str | None = Field(None, max_length=1000)


class StatusOut(BaseModel):
    status: str


class WidgetConfigOut(BaseModel):
    town: str
    phone: str | None
    disclaimer: str
    suggestions: list[str]
    # the suggested questions in other languages, in the same order (a language absent:
    # the Japanese ones)
    suggestions_translated: dict[str, list[str]] = {}
    languages: list[str]
    # hand-off to staff is offered (the widget's 職員に問い合わせる button)
    handoff: bool = True


class ErrorOut(BaseModel):
    error: str
    detail: str


class HitOut(BaseModel):
    rank: int
    source: str
    title: str
    score: float
    ranks: dict[str, int]
    signals: dict[str, float]
    text: str


class TryResponse(AskResponse):
    hits: list[HitOut]
    timings: dict[str, float]


class SourceOut(BaseModel):
    source: str
    title: str
    kind: str
    chunks: int


class RemovedOut(BaseModel):
    removed: int


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Unusable input (empty or too long question)."},
    403: {"model": ErrorOut, "description": "Calling page's origin is not allowed."},
    413: {"model": ErrorOut, "description": "Body too large."},
    422: {"model": ErrorOut, "description": "Malformed body."},
    429: {"model": ErrorOut, "description": "Rate limit or daily cap; see Retry-After."},
    503: {"model": ErrorOut, "description": "Starting up or index unavailable."},
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": ErrorOut, "description": "Admin key missing or wrong."},
}
