"""The LINE channel: ``POST /channels/line/webhook`` (and ``/t/{town}/channels/line/webhook``
for each town of a shared service, with the town's own channel from its ``town.toml``).

A webhook request is checked and acknowledged at once; its events are answered in the
background:

1. the body is read up to ``line.max_body_bytes`` (413 above), then its
   ``X-Line-Signature`` is checked against the channel secret (401, and nothing read,
   counted or logged beyond the rejection itself); malformed JSON is a 400;
2. each event is claimed by its ``webhookEventId`` (``connectors.line.seen``): an event
   already taken (a redelivery, a repeated request) is dropped, so one message gets
   one answer however often it comes; kinds not handled here are ignored;
3. the events go to a bounded queue answered by ``line.workers`` tasks, and the
   platform gets its 200 (a full queue: 503, and the unqueued events are released for
   their redelivery);
4. a worker answers with the kit (the same answering threads, cache and conversation
   log as ``POST /api/v1/ask``), as LINE messages (``connectors.line.messages``), with
   the reply token while it is younger than ``line.reply_within_seconds``, else (or when
   the platform calls the token invalid) by push, whose retry key makes a retried push
   arrive once.

A LINE user id is used only to reach the user; what is kept is its keyed digest
(``LineChannel.digest``): the conversation id ``line-<digest>`` (so a quick-reply tap
is read with the question before it), the rate limits, the profile-language cache.
The conversation log holds the masked question and the answer as for the widget.

Hand-off to staff (docs/HANDOFF.md, "From LINE"): a message asking for a person
(``messages.asks_for_staff``) is answered here, without the kit, with the office's
phone while it is open or when it opens, and the button 「職員にメッセージを送る」
(also under a refusal). Its postback shows what is kept and for how long; 同意して送る
opens a ticket in the town's inbox with the conversation's last question and the LINE
user id as its reply address (stored there only, deleted with the ticket). Staff's
reply (the admin API, the inbox tab) is pushed to the user on this hub's event loop
(``send_staff_reply``), with the ticket's retry key, so a retried push arrives once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from madoguchi.connectors.line import messages as msg
from madoguchi.connectors.line.client import LineClient, new_retry_key
from madoguchi.connectors.line.seen import SeenEvents
from madoguchi.connectors.line.webhook import Event, parse_body, verify
from madoguchi.ingest.services import TownServices
from madoguchi.kit.config import LineSettings, Settings
from madoguchi.kit.conversation import Turn
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError, KitError
from madoguchi.kit.handoff import HandoffInbox, offer
from madoguchi.kit.lang import answer_language, detect, normalise_lang
from madoguchi.kit.officehours import Clock, system_clock
from madoguchi.ui.api.answering import Answering
from madoguchi.ui.api.deps import app_settings, get_answering, get_log, get_services, town_of
from madoguchi.ui.api.handoff import handoff_limiter, inbox_for
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.api.models import AskRequest, ErrorOut
from madoguchi.ui.api.towns import TownContext, api_path
from madoguchi.ui.security import RateLimited, RateLimiter

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/channels/line/webhook"
#: the event kinds answered here; any other is acknowledged and ignored
HANDLED = frozenset({"message", "follow", "unfollow", "postback"})
PROFILE_TTL = 3600.0
PROFILE_CACHE = 10_000
#: how long a staff reply's sender waits for the platform before answering "pending"
STAFF_REPLY_WAIT = 20.0

router = APIRouter(tags=["line"])


def is_webhook(path: str) -> bool:
    """Whether a request path is a LINE webhook (of the service or of a town)."""
    return api_path(path) == WEBHOOK_PATH


def _error(status: int, error: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class LineChannel:
    """One LINE channel (the service's, or a town's): its client, its seen events, the
    per-user limits and the profile languages already asked for."""

    def __init__(self, conf: LineSettings, data_dir: Path, metrics: Metrics) -> None:
        assert conf.channel_secret is not None and conf.channel_access_token is not None
        self.conf = conf
        self.secret = conf.channel_secret.get_secret_value()
        key = conf.user_hash_key.get_secret_value() if conf.user_hash_key else None
        self._key = (key or _derived_key(self.secret)).encode("utf-8")
        self.client = LineClient(
            conf.api_base,
            conf.channel_access_token.get_secret_value(),
            timeout=conf.timeout,
            max_attempts=conf.max_attempts,
            backoff=conf.retry_backoff,
            max_retry_after=conf.max_retry_after,
            on_retry=lambda call: metrics.line_retries.labels(call).inc(),
        )
        self.seen = SeenEvents.in_data_dir(data_dir, conf.seen_days * 86400)
        self.limiter = RateLimiter(conf.rate_limit_per_minute, conf.daily_cap, 100_000)
        self._languages: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    def digest(self, user_id: str) -> str:
        """The keyed digest that stands for a LINE user id wherever one is kept."""
        return hmac.new(self._key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

    async def profile_language(self, user_id: str | None) -> str | None:
        """The language of the user's LINE app (the profile's ``language``), cached."""
        if not user_id or not self.conf.profile_language:
            return None
        who = self.digest(user_id)
        now = time.monotonic()
        hit = self._languages.get(who)
        if hit is not None and now - hit[0] < PROFILE_TTL:
            return hit[1]
        profile = await self.client.profile(user_id)
        raw = profile.get("language") if profile else None
        lang = normalise_lang(raw, strict=False) if isinstance(raw, str) else None
        self._languages[who] = (now, lang)
        self._languages.move_to_end(who)
        while len(self._languages) > PROFILE_CACHE:
            self._languages.popitem(last=False)
        return lang

    def forget(self, user_id: str) -> None:
        self._languages.pop(self.digest(user_id), None)

    async def aclose(self) -> None:
        await self.client.aclose()
        self.seen.close()


def _derived_key(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"madoguchi line user ids", hashlib.sha256).hexdigest()


def _fingerprint(conf: LineSettings, data_dir: Path) -> str:
    secrets = [
        s.get_secret_value() if s else ""
        for s in (conf.channel_secret, conf.channel_access_token, conf.user_hash_key)
    ]
    raw = json.dumps([conf.model_dump_json(), secrets, str(data_dir)])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass
class Job:
    """One event to answer, with what its request resolved (the town's, or the service's)."""

    channel: LineChannel
    event: Event
    settings: Settings
    services: TownServices
    answering: Answering
    log: ConversationLog | None
    town: TownContext | None
    received: float = field(default_factory=time.monotonic)
    retry_key: str = field(default_factory=new_retry_key)  # one per answer, kept over retries
    clock: Clock = system_clock  # the app's: office hours and the hand-off inbox read it
    # the app's hand-off limiters (ui.api.handoff.handoff_limiter), by data directory
    handoff_limiters: dict[str, RateLimiter] = field(default_factory=dict)


class _Running:
    """What lives in one event loop: the queue, its workers and the channels' clients
    (an HTTP client belongs to the loop it was made in). One per loop the app's lifespan
    runs in, usually one."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Job] = asyncio.Queue(size)
        self.tasks: list[asyncio.Task[None]] = []
        self.channels: dict[str, tuple[str, LineChannel]] = {}
        self.retired: list[LineChannel] = []
        self.users = 0  # lifespans open in this loop


class LineHub:
    """The channels of the app (built on first use, rebuilt when their settings change),
    the queue of events and the tasks that answer them."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings: Settings = app.state.settings
        self.metrics: Metrics = app.state.metrics
        self.size = settings.line.queue_size
        self.workers = settings.line.workers
        self._running: dict[asyncio.AbstractEventLoop, _Running] = {}
        self.metrics.line_queue.set_function(
            lambda: sum(r.queue.qsize() for r in list(self._running.values()))
        )

    def current(self) -> _Running | None:
        return self._running.get(asyncio.get_running_loop())

    def start(self) -> None:
        """In the lifespan: the workers of this loop (once, however often it is entered)."""
        run = self.current()
        if run is None:
            run = self._running[asyncio.get_running_loop()] = _Running(self.size)
            run.tasks = [
                asyncio.create_task(self._work(run.queue), name=f"madoguchi-line-{i}")
                for i in range(self.workers)
            ]
        run.users += 1

    async def close(self) -> None:
        run = self.current()
        if run is None:
            return
        run.users -= 1
        if run.users > 0:
            return
        del self._running[asyncio.get_running_loop()]
        for t in run.tasks:
            t.cancel()
        for t in run.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        for c in [c for _, c in run.channels.values()] + run.retired:
            await c.aclose()

    def channel(self, run: _Running, key: str, settings: Settings) -> LineChannel:
        stamp = _fingerprint(settings.line, settings.data_dir)
        have = run.channels.get(key)
        if have is not None and have[0] == stamp:
            return have[1]
        if have is not None:  # its jobs may still run: closed with the loop's workers
            run.retired.append(have[1])
        made = LineChannel(settings.line, Path(settings.data_dir), self.metrics)
        run.channels[key] = (stamp, made)
        return made

    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the channels run in (the lifespan's, the last one opened)."""
        loops = [lp for lp in self._running if not lp.is_closed()]
        return loops[-1] if loops else None

    def send_staff_reply(
        self,
        settings: Settings,
        town: str,
        inbox: HandoffInbox,
        ticket: str,
        wait: float = STAFF_REPLY_WAIT,
    ) -> str | None:
        """Push staff's reply of a ticket opened from LINE to its user, on the hub's event
        loop (called from a thread: a sync admin route, the inbox tab), waiting up to
        ``wait`` seconds for the outcome. Returns the ticket's delivery: ``sent``,
        ``failed`` (kept answered; sending again reuses the reply's retry key), ``pending``
        (still being tried; the ticket is marked when done); None for a ticket without a
        LINE reply address."""
        loop = self.loop()
        if inbox.reply_target(ticket) is None:
            return None
        if loop is None:
            inbox.set_delivery(ticket, "failed")
            self.metrics.line_staff_reply_failures.inc()
            return "failed"
        job = self.push_staff_reply(settings, town, inbox, ticket)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # called on a loop (an async caller): do not block it
            asyncio.run_coroutine_threadsafe(job, loop)
            return "pending"
        future = asyncio.run_coroutine_threadsafe(job, loop)
        try:
            return future.result(timeout=wait)
        except TimeoutError:
            return "pending"

    async def push_staff_reply(
        self, settings: Settings, town: str, inbox: HandoffInbox, ticket: str
    ) -> str | None:
        target = await anyio.to_thread.run_sync(inbox.reply_target, ticket)
        message = await anyio.to_thread.run_sync(inbox.get, ticket)
        if target is None or message is None:
            return None
        _, to, reply, key = target
        run = self.current()
        conf = settings.line
        if run is None or not conf.enabled or conf.channel_secret is None:
            sent_ok, why = False, "no LINE channel is configured"
        elif conf.channel_access_token is None:
            sent_ok, why = False, "no LINE access token"
        else:
            channel = self.channel(run, town, settings)
            out = msg.staff_reply_messages(ticket, reply, message.lang)
            sent = await channel.client.push(to, out, retry_key=key)
            sent_ok, why = sent.ok, f"{sent.status} {sent.detail}"
        delivery = "sent" if sent_ok else "failed"
        await anyio.to_thread.run_sync(inbox.set_delivery, ticket, delivery, key)
        if sent_ok:
            self.metrics.line_staff_replies.inc()
        else:
            self.metrics.line_staff_reply_failures.inc()
            log.warning("LINE: staff reply of ticket %s not sent: %s", ticket, why)
        return delivery

    async def drain(self) -> None:
        """Wait until every queued event has been answered (tests, shutdown)."""
        run = self.current()
        if run is not None:
            await run.queue.join()

    async def _work(self, queue: asyncio.Queue[Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await handle(job, self.metrics)
            except Exception:  # one event's failure never stops the worker
                self.metrics.line_failures.labels("internal").inc()
                log.exception("LINE: an event of type %s failed", job.event.type)
            finally:
                if job.town is not None:
                    hub = self.app.state.towns
                    await anyio.to_thread.run_sync(hub.release, job.town)
                queue.task_done()


@router.post(
    WEBHOOK_PATH,
    responses={
        400: {"model": ErrorOut, "description": "Not a LINE webhook body."},
        401: {"model": ErrorOut, "description": "X-Line-Signature missing or wrong."},
        404: {"model": ErrorOut, "description": "No LINE channel is configured."},
        413: {"model": ErrorOut, "description": "Body over line.max_body_bytes."},
        503: {"model": ErrorOut, "description": "Queue full: the platform redelivers."},
    },
)
async def webhook(request: Request) -> JSONResponse:
    """The LINE platform's deliveries: checked, acknowledged, answered in the background."""
    settings = app_settings(request)
    conf = settings.line
    if not conf.enabled or conf.channel_secret is None:
        return _error(
            404,
            "NotFound",
            "LINE チャネルが設定されていません (MADOGUCHI_LINE__CHANNEL_SECRET と "
            "MADOGUCHI_LINE__CHANNEL_ACCESS_TOKEN、docs/LINE.md)",
        )
    body = await request.body()
    if len(body) > conf.max_body_bytes:
        return _error(413, "TooLarge", f"the request body is over {conf.max_body_bytes:,} bytes")
    hub: LineHub = request.app.state.line
    metrics = hub.metrics
    run = hub.current()
    if run is None:
        return _error(503, "Starting", "the service is still starting", **{"Retry-After": "5"})
    if not verify(
        conf.channel_secret.get_secret_value(), body, request.headers.get("x-line-signature")
    ):
        metrics.line_rejected.inc()
        return _error(401, "InvalidSignature", "X-Line-Signature is missing or does not match")
    try:
        parsed = parse_body(body)
    except InputError as exc:
        return _error(400, "InvalidRequest", str(exc))
    town = town_of(request)
    channel = hub.channel(run, town.id if town is not None else "", settings)
    jobs = []
    for ev in parsed.events:
        metrics.line_events.labels(ev.type if ev.type in HANDLED else "other").inc()
        if ev.type not in HANDLED or ev.mode != "active":
            continue
        jobs.append(
            Job(
                channel,
                ev,
                settings,
                get_services(request),
                get_answering(request),
                get_log(request),
                town,
                clock=request.app.state.clock,
                handoff_limiters=request.app.state.handoff_limiters,
            )
        )
    if not await _enqueue(request, run.queue, metrics, jobs):
        return _error(
            503, "Busy", "too many events waiting; deliver them again", **{"Retry-After": "5"}
        )
    return JSONResponse({})


async def _enqueue(
    request: Request, queue: asyncio.Queue[Job], metrics: Metrics, jobs: list[Job]
) -> bool:
    """Claim and queue the jobs; False when the queue was full (those not queued are
    released, so their redelivery is answered)."""
    full = False
    for job in jobs:
        eid = job.event.webhook_event_id
        if eid and not await anyio.to_thread.run_sync(job.channel.seen.claim, eid):
            metrics.line_duplicates.inc()
            continue
        if full or queue.full():
            full = True
            if eid:
                await anyio.to_thread.run_sync(job.channel.seen.release, eid)
            continue
        if job.town is not None:
            request.app.state.towns.hold(job.town)
        queue.put_nowait(job)
    return not full


# ---------------------------------------------------------------------------- the events


async def handle(job: Job, metrics: Metrics) -> None:
    ev = job.event
    src = ev.source
    if src is None or src.type != "user" or not src.user_id:
        return  # groups and rooms: not answered (every member's message would be)
    if ev.type == "unfollow":  # nobody to answer: forget the app language asked for
        job.channel.forget(src.user_id)
        return
    if ev.type == "follow":
        lang = await job.channel.profile_language(src.user_id)
        greeting = msg.notice(
            msg.GREETING,
            lang,
            job.settings.widget.suggestions_in(lang or "ja"),
            town=job.settings.town_name,
        )
        await deliver(job, greeting, metrics)
    elif ev.type == "postback":
        await _postback(job, metrics)
    elif ev.type == "message" and ev.message is not None:
        if ev.message.type == "text" and (ev.message.text or "").strip():
            await _text(job, ev.message.text or "", metrics)
        else:
            lang = await job.channel.profile_language(src.user_id)
            text_only = msg.notice(
                msg.TEXT_ONLY, lang, job.settings.widget.suggestions_in(lang or "ja")
            )
            await deliver(job, text_only, metrics)


def conversation_id(job: Job) -> str:
    """The user's conversation: its digest, so follow-ups (a quick-reply tap) are read
    with the question before them (``kit.conversation``, forgotten after 30 idle minutes)."""
    user = job.event.source.user_id if job.event.source else None
    return "line-" + job.channel.digest(user or "")[:32]


async def _language(job: Job, text: str) -> str:
    """The message's language when it is clear, else the LINE app's, else the detected one."""
    if detect(text).confident:
        return answer_language(text)
    user = job.event.source.user_id if job.event.source else None
    return answer_language(text, await job.channel.profile_language(user))


def intercept(job: Job, text: str, lang: str) -> list[dict[str, Any]] | None:
    """Messages answered without the kit, before it is asked: a user over the channel's
    limits is asked to wait; a request for a person (「職員」「人と話したい」, "staff")
    gets the office's phone while it is open, or when it opens, and the button
    「職員にメッセージを送る」 (unless hand-off is switched off: then the kit answers).
    None: the kit answers."""
    try:
        job.channel.limiter.hit(conversation_id(job))
    except RateLimited:
        return msg.notice(msg.SLOW_DOWN, lang)
    limit = job.services.settings.answer.max_question_chars
    if len(text) > limit:
        return msg.notice(msg.TOO_LONG, lang, limit=f"{limit:,}")
    if msg.asks_for_staff(text):
        last = _last_turn(job)
        found = offer(job.settings, last.department if last else None, lang, clock=job.clock)
        if found is not None:
            return msg.staff_offer(found, lang)
    return None


def _last_turn(job: Job) -> Turn | None:
    """The conversation's last question (the kit's conversation store: 30 idle minutes)."""
    history = job.services.conversations.history(conversation_id(job))
    return next((t for t in reversed(history) if t.question.strip()), None)


def _digest(question: str) -> str:
    return hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]


async def _text(job: Job, text: str, metrics: Metrics) -> None:
    lang = await _language(job, text)
    early = intercept(job, text, lang)
    if early is not None:
        await deliver(job, early, metrics)
        return
    body = AskRequest(question=text[:20000], lang=lang, conversation_id=conversation_id(job))
    try:
        data = await job.answering.run(job.answering.ask, job.services, body)
    except KitError as exc:
        metrics.line_failures.labels("answer").inc()
        log.warning("LINE: no answer (%s)", type(exc).__name__)
        await deliver(job, msg.notice(msg.UNAVAILABLE, lang), metrics)
        return
    suggestions = job.settings.widget.suggestions_in(data.get("lang") or lang)
    await deliver(
        job, msg.answer_messages(data, suggestions, job.settings.line.max_sources), metrics
    )


async def _postback(job: Job, metrics: Metrics) -> None:
    """👍/👎 on an answer: its log row gets the feedback (only the user's own answers);
    the hand-off buttons (``_handoff``)."""
    pb = job.event.postback
    handoff = msg.parse_handoff(pb.data) if pb is not None else None
    if handoff is not None:
        await _handoff(job, handoff[0], handoff[1], metrics)
        return
    fb = msg.parse_feedback(pb.data) if pb is not None else None
    if fb is None:
        return
    answer_id, helpful = fb
    lang: str | None = None
    if job.log is not None:
        turn = await anyio.to_thread.run_sync(job.log.get, answer_id)
        if turn is None or turn.conversation_id != conversation_id(job):
            return
        await anyio.to_thread.run_sync(job.log.feedback, answer_id, helpful)
        lang = turn.lang
    elif not job.answering.known(answer_id):
        return
    metrics.feedback.labels("yes" if helpful else "no").inc()
    await deliver(job, msg.notice(msg.THANKS, lang), metrics)


# ---------------------------------------------------------------------------- hand-off


async def _handoff(job: Job, action: str, digest: str, metrics: Metrics) -> None:
    """「職員にメッセージを送る」 (offer): the consent notice for the last question;
    同意して送る (send): a ticket in the town's inbox; やめる (cancel): nothing kept."""
    last = _last_turn(job)
    user = job.event.source.user_id if job.event.source else None
    lang = last.lang if last else (await job.channel.profile_language(user)) or "ja"
    settings = job.settings
    if action == "cancel":
        await deliver(job, msg.notice(msg.HANDOFF_CANCELLED, lang), metrics)
        return
    if not settings.handoff.enabled:
        await deliver(job, msg.notice(msg.HANDOFF_OFF, lang), metrics)
        return
    if last is None or not user:
        await deliver(job, msg.notice(msg.HANDOFF_NOTHING, lang), metrics)
        return
    question = last.question
    days = settings.handoff.retention_days
    if action == "offer" or digest != _digest(question):
        # the notice again when another question came in since it was shown
        await deliver(job, msg.consent_messages(question, _digest(question), days, lang), metrics)
        return
    cid = conversation_id(job)
    try:
        handoff_limiter(job.handoff_limiters, settings).hit(cid)
    except RateLimited:
        await deliver(job, msg.notice(msg.SLOW_DOWN, lang), metrics)
        return
    inbox = inbox_for(settings, job.clock)
    opened = await anyio.to_thread.run_sync(
        functools.partial(_open_ticket, job, inbox, question, last, lang, cid, user)
    )
    if opened is None:
        await deliver(job, msg.notice(msg.HANDOFF_NOTHING, lang), metrics)
        return
    ticket, new = opened
    if new:
        metrics.line_handoffs_opened.inc()
    await deliver(job, msg.notice(msg.HANDOFF_SENT, lang, id=ticket), metrics)


def _open_ticket(
    job: Job,
    inbox: HandoffInbox,
    question: str,
    last: Turn,
    lang: str,
    cid: str,
    user: str,
) -> tuple[str, bool] | None:
    """(the ticket's id, whether it is new): the open one of this question (a second tap), or a new one kept
    as written (the resident consented), with the user id as its reply address."""
    have = inbox.find_open(cid, question)
    if have is not None:
        return have.id, False
    dept = last.department or job.settings.answer.default_department
    try:
        made, _ = inbox.open(
            question,
            department=dept,
            consent=True,
            lang=lang,
            conversation_id=cid,
            reply_channel="line",
            reply_to=user,
        )
    except InputError:
        return None
    if job.log is not None:  # masked, under the conversation's digest: never the user id
        job.log.record(
            question=question,
            lang=lang,
            answer=f"職員への問い合わせ (受付番号 {made.id}, LINE)",
            citations=[],
            refused=False,
            mode="handoff",
            confidence=0.0,
            latency_ms=0.0,
            conversation_id=cid,
            ts=made.ts,
        )
    return made.id, True


# ---------------------------------------------------------------------------- sending


async def deliver(job: Job, messages: list[dict[str, Any]], metrics: Metrics) -> bool:
    """Reply while the reply token is fresh, else push (``line.push_fallback``); True when
    the platform took the messages. Only an expired token (too old here, or "invalid"
    at the platform's) leads to a push: a reply retried after an uncertain failure whose
    token turns out used was delivered, and any other failed reply is not repeated."""
    ev, conf, client = job.event, job.settings.line, job.channel.client
    fresh = time.monotonic() - job.received <= conf.reply_within_seconds
    if ev.redelivered and ev.timestamp:  # its token dates from the first delivery
        fresh = fresh and time.time() - ev.timestamp / 1000 <= conf.reply_within_seconds
    if ev.reply_token and fresh:
        sent = await client.reply(ev.reply_token, messages)
        if sent.ok or sent.probably_delivered:
            metrics.line_replies.inc()
            return True
        if not sent.invalid_reply_token:
            # refused (the messages, the token of the channel) or never sure to have
            # arrived: a push would fail the same way, or could say it twice
            metrics.line_failures.labels("reply").inc()
            log.warning("LINE reply failed: %s %s", sent.status, sent.detail)
            return False
    to = ev.source.push_to if ev.source else None
    if not conf.push_fallback or not to:
        metrics.line_failures.labels("expired").inc()
        return False
    sent = await client.push(to, messages, retry_key=job.retry_key)
    if sent.ok:
        metrics.line_pushes.inc()
        return True
    metrics.line_failures.labels("push").inc()
    log.warning("LINE push failed: %s %s", sent.status, sent.detail)
    return False
