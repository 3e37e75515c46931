"""Sync: bring the index in step with every source a town lists in one TOML file.

```toml
[web]                                  # optional: overrides of the settings' web section
rate_limit = 1.0

[[sources]]                            # a file or folder, as ``madoguchi ingest`` takes it
path = "opendata/faq.csv"

[[sources]]                            # a web site
url = "https://www.town.example.jp/"   # or urls = [...]
sitemaps = ["https://www.town.example.jp/sitemap.xml"]   # optional (robots.txt ones are used)
allow_hosts = ["www.town.example.jp"]  # default: the hosts of url(s) and sitemaps
include = ["/kurashi/", "/kosodate/"]  # regular expressions searched in the URL
exclude = ["/english/", "\\.zip$"]
max_pages = 2000                       # overrides of web.max_pages / web.max_depth
max_depth = 6
```

Files go through ``ingest.pipeline.ingest`` as they do from the command line. A
web source is crawled with conditional requests (the manifest keeps each page's
ETag/Last-Modified and links), and its documents go through the same pipeline,
so unchanged pages are neither parsed nor embedded and a changed page re-embeds
only its changed chunks. Pages that disappeared (404/410, or no longer reached
by a complete crawl) are removed; when a crawl was cut short (max_pages, a page
or robots.txt that could not be fetched), unseen pages are kept, because "not
seen" then does not mean "gone".

Crash safety comes from the index's write order (``ingest.index``): a run
killed at any instant leaves a consistent catalogue, and the next run (whose
``reconcile`` repairs vectors) completes the work. Validators are written only
after a page's chunks, so a killed run at worst re-fetches a page in full.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from madoguchi.connectors.web import FetchState, WebConnector
from madoguchi.ingest.index import FetchRecord, Index, covers
from madoguchi.ingest.pipeline import IngestReport, Progress, ingest
from madoguchi.kit.config import WebSettings
from madoguchi.kit.errors import ConfigError
from madoguchi.kit.types import SourceDocument

_WEB_KEYS = {
    "url",
    "urls",
    "sitemaps",
    "allow_hosts",
    "include",
    "exclude",
    "max_pages",
    "max_depth",
    "use_sitemaps",
}


@dataclass(frozen=True)
class PathSource:
    path: str


@dataclass(frozen=True)
class WebSource:
    urls: list[str]
    sitemaps: list[str] = field(default_factory=list)
    allow_hosts: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_pages: int | None = None
    max_depth: int | None = None
    use_sitemaps: bool = True


@dataclass
class SyncConfig:
    sources: list[PathSource | WebSource]
    web: WebSettings


@dataclass
class SyncReport(IngestReport):
    requests: int = 0  # HTTP requests made
    not_modified: int = 0  # pages answered 304
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            **super().to_json(),
            "http_requests": self.requests,
            "not_modified": self.not_modified,
            "notes": self.notes,
        }


def _str_list(entry: dict[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a string or a list of strings")
    return list(value)


def parse_config(data: dict[str, Any], web: WebSettings, name: str = "config") -> SyncConfig:
    """A ``SyncConfig`` from parsed TOML; every mistake is a ``ConfigError`` naming the entry."""
    unknown = set(data) - {"web", "sources", "schedule"}
    if unknown:
        raise ConfigError(
            f"{name}: unknown section(s) {sorted(unknown)}; expected [web], [[sources]], [schedule]"
        )
    if "schedule" in data:  # when to run it (ingest.schedule); checked here too
        from madoguchi.ingest.schedule import schedule_of

        schedule_of(data, name)
    overrides = data.get("web", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{name}: [web] must be a table")
    try:
        web = WebSettings.model_validate({**web.model_dump(), **overrides})
    except ValueError as exc:
        raise ConfigError(f"{name}: invalid [web] settings: {exc}") from exc
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{name}: no [[sources]] listed")
    sources: list[PathSource | WebSource] = []
    for i, entry in enumerate(entries, 1):
        where = f"{name}: sources #{i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        if "path" in entry:
            if set(entry) != {"path"} or not isinstance(entry["path"], str) or not entry["path"]:
                raise ConfigError(f'{where}: a path source takes only path = "..."')
            sources.append(PathSource(entry["path"]))
            continue
        extra = set(entry) - _WEB_KEYS
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {sorted(extra)}")
        urls = _str_list(entry, "url", where) + _str_list(entry, "urls", where)
        sitemaps = _str_list(entry, "sitemaps", where)
        if not urls and not sitemaps:
            raise ConfigError(f"{where}: give path, url/urls or sitemaps")
        limits: dict[str, int | None] = {}
        for key in ("max_pages", "max_depth"):
            v = entry.get(key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise ConfigError(f"{where}: {key} must be a whole number >= 0")
            limits[key] = v
        use_sitemaps = entry.get("use_sitemaps", True)
        if not isinstance(use_sitemaps, bool):
            raise ConfigError(f"{where}: use_sitemaps must be true or false")
        sources.append(
            WebSource(
                urls=urls,
                sitemaps=sitemaps,
                allow_hosts=_str_list(entry, "allow_hosts", where),
                include=_str_list(entry, "include", where),
                exclude=_str_list(entry, "exclude", where),
                max_pages=limits["max_pages"],
                max_depth=limits["max_depth"],
                use_sitemaps=use_sitemaps,
            )
        )
    return SyncConfig(sources, web)


def load_config(path: str | Path, web: WebSettings) -> SyncConfig:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: sync configuration not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, web, str(path))


def _merge(into: SyncReport, part: IngestReport) -> None:
    into.added += part.added
    into.updated += part.updated
    into.unchanged += part.unchanged
    into.removed += part.removed
    into.skipped += part.skipped
    into.warnings += part.warnings
    into.chunks_embedded += part.chunks_embedded
    into.tokens_embedded += part.tokens_embedded
    into.embed_seconds += part.embed_seconds
    for k, v in part.repaired.items():
        into.repaired[k] = into.repaired.get(k, 0) + v


def run_sync(
    index: Index,
    config: SyncConfig,
    *,
    progress: Progress | None = None,
    dry_run: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> SyncReport:
    """Sync every source of ``config``; see the module docstring for the rules."""
    t0 = time.perf_counter()
    report = SyncReport(dry_run=dry_run)
    seen: set[str] = set()
    scopes: set[str] = set()
    gone: set[str] = set()
    complete = True
    for source in config.sources:
        if isinstance(source, PathSource):
            _merge(report, ingest(index, [source.path], progress=progress, dry_run=dry_run))
            continue
        settings = config.web
        changes = {
            k: v
            for k, v in (("max_pages", source.max_pages), ("max_depth", source.max_depth))
            if v is not None
        }
        if changes:
            settings = settings.model_copy(update=changes)
        states = index.fetch_states()

        def previous(url: str, states: dict[str, FetchRecord] = states) -> FetchState | None:
            r = states.get(url)
            if r is None or r.fetched_at is None:
                return None
            return FetchState(r.etag, r.last_modified, r.links)

        conn = WebConnector(
            source.urls,
            settings,
            sitemaps=source.sitemaps,
            allow_hosts=source.allow_hosts or None,
            include=source.include,
            exclude=source.exclude,
            use_sitemaps=source.use_sitemaps,
            previous=previous,
            transport=transport,
        )
        yielded: list[str] = []

        def docs(
            conn: WebConnector = conn, yielded: list[str] = yielded
        ) -> Iterator[SourceDocument]:
            for d in conn.documents():
                yielded.append(d.source_id)
                yield d

        part = ingest(index, [], progress=progress, dry_run=dry_run, documents=docs())
        _merge(report, part)
        report.unchanged += conn.not_modified
        report.not_modified += len(conn.not_modified)
        report.skipped += conn.skipped
        report.requests += conn.requests
        seen.update(yielded, conn.not_modified, conn.failed)
        scopes.update(conn.scopes())
        gone.update(conn.gone)
        label = ", ".join(source.urls or source.sitemaps)
        if conn.truncated:
            complete = False
            report.notes.append(
                f"{label}: stopped at max_pages ({settings.max_pages}); pages not reached are kept"
            )
        elif conn.failed or any(r.startswith("robots.txt") for _, r in conn.skipped):
            complete = False
            report.notes.append(
                f"{label}: some pages could not be fetched; pages not reached are kept"
            )
        if not dry_run:
            index.record_fetches(
                {
                    sid: FetchRecord(i.fetched_at, i.etag, i.last_modified, i.links)
                    for sid, i in conn.fetched.items()
                    if index.source_hash(sid) is not None
                }
            )
    # web pages that are gone: answered 404/410, or not reached by a complete crawl
    removed = {g for g in gone if index.source_hash(g) is not None}
    if complete:
        removed.update(
            s.source_id
            for scope in scopes
            for s in index.sources(prefix=scope.rstrip("/"))
            if s.source_id not in seen and covers(scope.rstrip("/"), s.source_id)
        )
    removed -= seen - set(gone)
    removed_list = sorted(removed)
    if removed_list and not dry_run:
        index.remove(removed_list)
    report.removed += removed_list
    report.seconds = time.perf_counter() - t0
    return report


def web_config(urls: list[str], web: WebSettings) -> SyncConfig:
    """What ``madoguchi ingest https://...`` crawls: the start URLs with the default limits."""
    return SyncConfig([WebSource(urls=list(urls))], web)
