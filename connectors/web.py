"""A town's web site: a polite crawler yielding pages and the PDF/office/CSV files they link.

Manners: robots.txt (and its Crawl-delay), one request per ``rate_limit`` seconds
per host, an identifying User-Agent, timeouts with a few retries, conditional
requests (ETag / Last-Modified) so an unchanged page costs one 304, and a size
cap per response. Safety: only http(s); ``file:``, ``data:`` and other schemes,
and URLs with credentials in them, are refused; hosts outside the allowlist
(default: the start URLs' hosts) are never fetched, and redirects that leave it
are not followed; private, loopback and link-local addresses are refused unless
the operator allows them (closed-network intranets). Each address check runs
on every hop, before the request.

Every URL that was seen but not indexed is recorded in ``skipped`` with the
reason, so the sync report can say why a page is missing. The source id of a
page is its final URL (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from madoguchi.kit.charset import decode, meta_charset
from madoguchi.kit.config import WebSettings
from madoguchi.kit.errors import FetchError
from madoguchi.kit.types import SourceDocument

HTML_TYPES = ("text/html", "application/xhtml+xml")
FILE_TYPES: dict[str, tuple[str, str]] = {
    # content type -> (kind, mime the parser expects)
    "application/pdf": ("pdf", "application/pdf"),
    "text/plain": ("text", "text/plain"),
    "text/markdown": ("page", "text/markdown"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "page",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "page",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
# open-data tables: one document per row, source id <URL>#<ID or record number>
TABLE_TYPES = {
    "text/csv": ".csv",
    "application/csv": ".csv",
    "text/comma-separated-values": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
# what a server that says application/octet-stream most likely sent, by extension
_BY_EXTENSION = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain",
}
_IGNORED_SCHEMES = ("mailto:", "tel:", "javascript:", "fax:", "sms:", "#")
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
MAX_SITEMAP_URLS = 50_000
_DISALLOW_ALL = ["User-agent: *", "Disallow: /"]


@dataclass(frozen=True)
class FetchState:
    """What the last sync learnt about a URL: validators for a conditional request, and
    the page's links (a 304 has no body to read them from)."""

    etag: str | None = None
    last_modified: str | None = None
    links: tuple[str, ...] = ()


@dataclass
class FetchInfo:
    """What this crawl learnt about a URL, for the manifest."""

    url: str
    fetched_at: float
    etag: str | None
    last_modified: str | None
    links: tuple[str, ...]


def url_problem(url: str) -> str | None:
    """Why ``url`` may never be fetched (scheme, credentials, no host), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme in ("file", "data"):
        return f"refused: {scheme}: URLs are never fetched"
    if scheme not in ("http", "https"):
        return f"refused: not an http(s) URL (scheme {scheme or 'missing'!r})"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "refused: credentials in the URL"
    if not parts.hostname:
        return "refused: no host in the URL"
    return None


def redact(url: str) -> str:
    """The URL as it may be shown in a report: a password in it is masked."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@?#:]*):[^/@?#]*@", r"\1:***@", url)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, ``/`` for an empty path."""
    p = urlsplit(url.strip())
    scheme = p.scheme.lower()
    host = (p.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = p.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else (f"{host}:{port}")
    )
    path = p.path or "/"
    path = re.sub(r"[ ]", "%20", path)
    return urlunsplit((scheme, netloc, path, p.query, ""))


def host_of(url: str) -> str:
    p = urlsplit(url)
    host = (p.hostname or "").lower()
    port = p.port
    if port is None or (p.scheme, port) in (("http", 80), ("https", 443)):
        return host
    return f"{host}:{port}"


def _is_private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (all of them: one private address is enough to refuse)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    return sorted({str(i[4][0]) for i in infos})


def start_url_problem(
    url: str, settings: WebSettings, resolver: Resolver | None = None
) -> str | None:
    """Why a start URL the operator typed cannot be crawled (checked before any request)."""
    problem = url_problem(url)
    if problem:
        return problem
    conn = WebConnector([url], settings, resolver=resolver)
    return conn._address_problem(normalize_url(url))


class _Links(HTMLParser):
    """Links, <base href> and <meta name=robots> of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.base: str | None = None
        self.robots = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("a", "area") and a.get("href"):
            if "nofollow" not in (a.get("rel") or "").lower():
                self.links.append(str(a["href"]).strip())
        elif tag in ("iframe", "frame") and a.get("src"):
            self.links.append(str(a["src"]).strip())
        elif tag == "base" and a.get("href") and self.base is None:
            self.base = str(a["href"]).strip()
        elif tag == "meta" and (a.get("name") or "").lower() in ("robots", "madoguchi"):
            self.robots += " " + (a.get("content") or "").lower()


@dataclass
class _Host:
    robots: RobotFileParser | None = None
    robots_reason: str | None = None  # set when robots.txt forbids everything
    delay: float = 0.0
    last: float = 0.0
    sitemaps: list[str] = field(default_factory=list)


@dataclass
class _Response:
    url: str  # final URL
    status: int
    headers: httpx.Headers
    body: bytes


class _Skip(Exception):
    """This URL is not indexed; the message says why."""


class WebConnector:
    """Crawl from ``start_urls`` (and sitemaps); yield one ``SourceDocument`` per page/file.

    ``previous(url)`` returns the ``FetchState`` of the last sync (for conditional
    requests); after the crawl, ``fetched`` holds this crawl's state per source id,
    ``not_modified`` the source ids answered with 304, ``gone`` those answered 404/410,
    ``failed`` those that could not be fetched this time (kept in the index), and
    ``truncated`` whether ``max_pages`` cut the crawl short.
    """

    def __init__(
        self,
        start_urls: list[str],
        settings: WebSettings | None = None,
        *,
        sitemaps: list[str] | None = None,
        allow_hosts: list[str] | None = None,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        use_sitemaps: bool = True,
        previous: Callable[[str], FetchState | None] | None = None,
        transport: httpx.BaseTransport | None = None,
        resolver: Resolver | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or WebSettings()
        self.start_urls = list(start_urls)
        self.sitemaps = list(sitemaps or [])
        good = [u for u in self.start_urls + self.sitemaps if url_problem(u) is None]
        self.allow_hosts = (
            {h.lower() for h in allow_hosts} if allow_hosts else {host_of(u) for u in good}
        )
        try:
            self.include = [re.compile(p) for p in include or ()]
            self.exclude = [re.compile(p) for p in exclude or ()]
        except re.error as exc:
            from madoguchi.kit.errors import ConfigError

            raise ConfigError(f"bad include/exclude pattern: {exc}") from exc
        self.use_sitemaps = use_sitemaps
        self.previous = previous or (lambda _u: None)
        self._transport = transport
        self._resolve = resolver or resolve
        self._sleep = sleep
        self.skipped: list[tuple[str, str]] = []
        self.fetched: dict[str, FetchInfo] = {}
        self.not_modified: list[str] = []
        self.gone: list[str] = []
        self.failed: list[str] = []
        self.truncated = False
        self.requests = 0
        self._hosts: dict[str, _Host] = {}
        self._addr_ok: dict[str, str | None] = {}
        self._skipped_seen: set[str] = set()

    # ---- bookkeeping ---------------------------------------------------------
    def _skip(self, url: str, reason: str) -> None:
        if url not in self._skipped_seen:
            self._skipped_seen.add(url)
            self.skipped.append((url, reason))

    def scopes(self) -> list[str]:
        """URL prefixes whose indexed sources this crawl speaks for (for removals)."""
        return sorted(f"{s}://{h}/" for h in self.allow_hosts for s in ("http", "https"))

    # ---- checks --------------------------------------------------------------
    def _address_problem(self, url: str) -> str | None:
        host = (urlsplit(url).hostname or "").lower()
        if host in self._addr_ok:
            return self._addr_ok[host]
        problem: str | None = None
        if not self.settings.allow_private_network:
            try:
                literal = ipaddress.ip_address(host)
                addrs = [str(literal)]
            except ValueError:
                try:
                    addrs = self._resolve(host)
                except FetchError as exc:
                    addrs = []
                    problem = str(exc)
            for a in addrs:
                if _is_private(ipaddress.ip_address(a.split("%")[0])):
                    problem = (
                        f"refused: {host} is a private/loopback address ({a}); "
                        "allow it with --allow-private-network (web.allow_private_network)"
                    )
                    break
        self._addr_ok[host] = problem
        return problem

    def _allowed_host(self, url: str) -> bool:
        return host_of(url) in self.allow_hosts

    def _passes_patterns(self, url: str) -> bool:
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)

    # ---- HTTP ----------------------------------------------------------------
    def _wait(self, host: str) -> None:
        h = self._hosts.setdefault(host, _Host())
        gap = max(self.settings.rate_limit, h.delay)
        now = time.monotonic()
        if h.last and now - h.last < gap:
            self._sleep(gap - (now - h.last))
        h.last = time.monotonic()

    def _get_once(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Response:
        self._wait(host_of(url))
        self.requests += 1
        cap = self.settings.max_bytes
        deadline = time.monotonic() + self.settings.timeout * 4
        with client.stream("GET", url, headers=headers) as r:
            length = r.headers.get("content-length")
            if r.status_code == 200 and length and length.isdigit() and int(length) > cap:
                raise _Skip(f"too large ({int(length):,} bytes > max_bytes {cap:,})")
            chunks: list[bytes] = []
            size = 0
            if r.status_code == 200:
                for part in r.iter_bytes():
                    size += len(part)
                    if size > cap:
                        raise _Skip(f"too large (over max_bytes {cap:,} bytes)")
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the response took too long in total")
                    chunks.append(part)
            return _Response(str(r.url), r.status_code, r.headers, b"".join(chunks))

    def _get(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Response:
        """One URL with retries, redirects followed by hand so each hop is checked."""
        hops = 0
        while True:
            resp = self._with_retries(client, url, headers)
            if resp.status not in _REDIRECTS:
                return resp
            target = resp.headers.get("location")
            if not target:
                raise _Skip(f"redirect ({resp.status}) without a Location")
            nxt = normalize_url(urljoin(url, target))
            hops += 1
            if hops > MAX_REDIRECTS:
                raise _Skip(f"more than {MAX_REDIRECTS} redirects")
            problem = url_problem(nxt)
            if problem:
                raise _Skip(f"redirect to {nxt}: {problem}")
            if not self._allowed_host(nxt):
                raise _Skip(f"redirect to {nxt} leaves the allowed hosts; not followed")
            problem = self._address_problem(nxt)
            if problem:
                raise _Skip(f"redirect to {nxt}: {problem}")
            if not self._robots_allow(client, nxt):
                raise _Skip(f"redirect to {nxt}, which robots.txt disallows")
            url = nxt
            headers = self._conditional(nxt)

    def _with_retries(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Response:
        attempts = max(0, self.settings.retries) + 1
        last = ""
        for attempt in range(attempts):
            try:
                resp = self._get_once(client, url, headers)
            except httpx.TimeoutException:
                last = f"timed out after {self.settings.timeout:g}s"
            except httpx.TransportError as exc:
                last = f"connection failed: {type(exc).__name__}: {exc}"
            else:
                if resp.status not in (429, 500, 502, 503, 504):
                    return resp
                last = f"HTTP {resp.status}"
                retry_after = resp.headers.get("retry-after", "")
                if attempt + 1 < attempts and retry_after.isdigit():
                    self._sleep(min(float(retry_after), 60.0))
                    continue
            if attempt + 1 < attempts:
                self._sleep(min(0.5 * 2**attempt, 8.0))
        raise FetchError(f"{last} ({attempts} attempt{'s' if attempts > 1 else ''})")

    # ---- robots.txt and sitemaps -----------------------------------------------
    def _host_state(self, client: httpx.Client, url: str) -> _Host:
        host = host_of(url)
        h = self._hosts.setdefault(host, _Host())
        if h.robots is not None or h.robots_reason is not None:
            return h
        p = urlsplit(url)
        robots_url = f"{p.scheme}://{p.netloc}/robots.txt"
        rp = RobotFileParser(robots_url)
        try:
            resp = self._with_retries(client, robots_url, {})
            if resp.status in _REDIRECTS:
                target = normalize_url(urljoin(robots_url, resp.headers.get("location", "")))
                if self._allowed_host(target) and self._address_problem(target) is None:
                    resp = self._with_retries(client, target, {})
        except (FetchError, _Skip) as exc:
            h.robots_reason = f"robots.txt could not be read ({exc}); not crawled"
            h.robots = rp
            rp.parse(_DISALLOW_ALL)
            return h
        if resp.status in (401, 403):
            rp.parse(_DISALLOW_ALL)
            h.robots_reason = f"robots.txt answers {resp.status}: the whole host is off limits"
        elif 400 <= resp.status < 500:
            rp.parse([])
        elif resp.status != 200:
            rp.parse(_DISALLOW_ALL)
            h.robots_reason = f"robots.txt answers {resp.status}; not crawled"
        else:
            text = decode(resp.body, robots_url)
            rp.parse(text.splitlines())
            ua = self.settings.user_agent
            delay = rp.crawl_delay(ua)
            if delay:
                h.delay = min(float(delay), 60.0)
            h.sitemaps = list(rp.site_maps() or [])
        h.robots = rp
        return h

    def _robots_allow(self, client: httpx.Client, url: str) -> bool:
        h = self._host_state(client, url)
        assert h.robots is not None
        return h.robots.can_fetch(self.settings.user_agent, url)

    def _sitemap_urls(self, client: httpx.Client, sitemap: str, depth: int = 0) -> list[str]:
        """Page URLs listed in a sitemap (or a sitemap index, two levels deep)."""
        problem = url_problem(sitemap) or (
            None if self._allowed_host(sitemap) else "sitemap outside the allowed hosts"
        )
        problem = problem or self._address_problem(sitemap)
        if problem:
            self._skip(sitemap, problem)
            return []
        try:
            resp = self._get(client, sitemap, {})
        except (FetchError, _Skip) as exc:
            self._skip(sitemap, f"sitemap not read: {exc}")
            return []
        if resp.status != 200:
            if resp.status != 404 or sitemap in self.sitemaps:
                self._skip(sitemap, f"sitemap not read: HTTP {resp.status}")
            return []
        body = resp.body
        if sitemap.endswith(".gz") or body[:2] == b"\x1f\x8b":
            import zlib

            try:  # bounded: a small gzip bomb must not expand without limit
                body = zlib.decompressobj(wbits=31).decompress(body, self.settings.max_bytes)
            except zlib.error:
                self._skip(sitemap, "sitemap not read: broken gzip")
                return []
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            self._skip(sitemap, f"sitemap not read: not XML ({exc})")
            return []
        locs = [
            (el.text or "").strip()
            for el in root.iter()
            if el.tag.rsplit("}", 1)[-1] == "loc" and (el.text or "").strip()
        ]
        if root.tag.rsplit("}", 1)[-1] == "sitemapindex":
            if depth >= 2:
                return []
            out: list[str] = []
            for loc in locs:
                out.extend(self._sitemap_urls(client, loc, depth + 1))
            return out
        return locs[:MAX_SITEMAP_URLS]

    # ---- the crawl -------------------------------------------------------------
    def documents(self) -> Iterator[SourceDocument]:
        frontier = _Frontier(self)
        with self._client() as client:
            for u in self.start_urls:
                frontier.add(u, 0, start=True)
            if self.use_sitemaps:
                for loc in self._sitemap_locations(client):
                    frontier.add(loc, 0)
            fetched = 0
            while frontier.queue:
                url, depth, start = frontier.queue.popleft()
                if fetched >= self.settings.max_pages:
                    self.truncated = True
                    self._skip(url, f"not fetched: max_pages ({self.settings.max_pages}) reached")
                    continue
                problem = self._crawl_problem(client, url)
                if problem:
                    self._skip(url, problem)
                    continue
                fetched += 1
                yield from self._crawl(client, frontier, url, depth, start)

    def _client(self) -> httpx.Client:
        s = self.settings
        return httpx.Client(
            headers={"User-Agent": s.user_agent, "Accept-Language": "ja,en;q=0.5"},
            timeout=httpx.Timeout(s.timeout),
            follow_redirects=False,
            transport=self._transport,
            proxy=s.proxy or None,
            trust_env=False,
        )

    def _sitemap_locations(self, client: httpx.Client) -> Iterator[str]:
        """The page URLs of the given sitemaps and of the start hosts' (robots.txt's
        ``Sitemap:`` lines, else /sitemap.xml)."""
        maps = list(self.sitemaps)
        for u in self.start_urls:
            if url_problem(u) is None and self._address_problem(u) is None:
                h = self._host_state(client, normalize_url(u))
                p = urlsplit(u)
                maps.extend(h.sitemaps or [f"{p.scheme}://{p.netloc}/sitemap.xml"])
        for m in dict.fromkeys(maps):
            yield from self._sitemap_urls(client, m)

    def _crawl_problem(self, client: httpx.Client, url: str) -> str | None:
        """Why ``url`` may not be fetched (its address, its host's robots.txt), if so."""
        problem = self._address_problem(url)
        if problem:
            return problem
        host = self._host_state(client, url)
        if host.robots_reason:
            return host.robots_reason
        if not self._robots_allow(client, url):
            return "disallowed by robots.txt"
        return None

    def _crawl(
        self, client: httpx.Client, frontier: _Frontier, url: str, depth: int, start: bool
    ) -> Iterator[SourceDocument]:
        """Fetch one page: its documents, its links into the frontier, or a skip."""
        try:
            final, docs, links = self._fetch(client, url, frontier.done_final)
        except _SkipWithLinks as exc:
            self._skip(url, str(exc))
            for link in exc.links:
                frontier.add(link, depth + 1, via=url)
            return
        except _Skip as exc:
            self._skip(url, str(exc))
            return
        except FetchError as exc:
            self._skip(url, str(exc))
            self.failed.append(url)
            return
        for link in links:
            frontier.add(link, depth + 1, via=url)
        if docs and start and not self._passes_patterns(final):
            self._skip(final, "excluded by the patterns (links followed)")
            return
        yield from docs

    def _conditional(self, url: str) -> dict[str, str]:
        state = self.previous(url)
        cond: dict[str, str] = {}
        if state is not None:
            if state.etag:
                cond["If-None-Match"] = state.etag
            if state.last_modified:
                cond["If-Modified-Since"] = state.last_modified
        return cond

    def _fetch(
        self, client: httpx.Client, url: str, done: set[str]
    ) -> tuple[str, list[SourceDocument], list[str]]:
        resp = self._get(client, url, self._conditional(url))
        final = normalize_url(resp.url)
        state = self.previous(final)
        if resp.status == 304 and state is not None:
            self.not_modified.append(final)
            done.add(final)
            self.fetched[final] = FetchInfo(
                final,
                time.time(),
                resp.headers.get("etag") or state.etag,
                resp.headers.get("last-modified") or state.last_modified,
                state.links,
            )
            return final, [], list(state.links)
        if resp.status in (404, 410):
            self.gone.append(final)
            raise _Skip(f"HTTP {resp.status} (not found)")
        if resp.status != 200:
            raise _Skip(f"HTTP {resp.status}")
        if final in done:
            raise _Skip(f"same page as {final} (already fetched)")
        done.add(final)
        ctype, charset = _content_type(resp.headers.get("content-type", ""))
        if ctype in ("application/octet-stream", "binary/octet-stream", ""):
            ext = re.search(r"\.[A-Za-z0-9]+$", urlsplit(final).path)
            ctype = _BY_EXTENSION.get(ext.group(0).lower(), ctype) if ext else ctype
        info = FetchInfo(
            final,
            time.time(),
            resp.headers.get("etag"),
            resp.headers.get("last-modified"),
            (),
        )
        meta: dict[str, Any] = {}
        if ctype in HTML_TYPES:
            text = decode(resp.body, final, (charset, meta_charset(resp.body)))
            p = _Links()
            try:
                p.feed(text)
                p.close()
            except Exception:  # html.parser is lenient; keep what it found
                pass
            base = urljoin(final, p.base) if p.base else final
            links = [urljoin(base, h) for h in p.links if not h.startswith(_IGNORED_SCHEMES)]
            info.links = tuple(dict.fromkeys(links))
            self.fetched[final] = info
            if "nofollow" in p.robots:
                links = []
            if "noindex" in p.robots:
                raise _SkipWithLinks(links, "the page asks not to be indexed (meta robots noindex)")
            title = _title_of(text) or final
            # only what the body says goes into meta (it is part of the content hash)
            meta = {"kind": "page"}
            return final, [SourceDocument(final, final, title, text, "text/html", meta)], links
        if ctype in FILE_TYPES:
            kind, mime = FILE_TYPES[ctype]
            self.fetched[final] = info
            name = urlsplit(final).path.rsplit("/", 1)[-1] or final
            body: bytes | str = resp.body
            if mime in ("text/plain", "text/markdown"):
                body = decode(resp.body, final, (charset, meta_charset(resp.body)))
            return final, [SourceDocument(final, final, name, body, mime, {"kind": kind})], []
        if ctype in TABLE_TYPES:
            self.fetched[final] = info
            docs, skipped = _table_documents(resp.body, final, TABLE_TYPES[ctype])
            self.skipped.extend(skipped)
            return final, docs, []
        raise _Skip(f"unsupported content type {ctype or '(none)'!r}")


class _Frontier:
    """The crawl's queue: each URL once, checked before it is queued."""

    def __init__(self, conn: WebConnector) -> None:
        self.conn = conn
        self.queue: deque[tuple[str, int, bool]] = deque()  # (url, depth, is a start URL)
        self.queued: set[str] = set()
        self.done_final: set[str] = set()

    def add(self, url: str, depth: int, start: bool = False, via: str | None = None) -> None:
        conn = self.conn
        if url.startswith(_IGNORED_SCHEMES) or not url:
            return
        problem = url_problem(url)
        if problem:
            conn._skip(redact(url), problem + (f" (linked from {via})" if via else ""))
            return
        url = normalize_url(url)
        if url in self.queued:
            return
        if not conn._allowed_host(url):
            conn._skip(url, "host not in the allowlist; not followed")
            return
        if not start and not conn._passes_patterns(url):
            conn._skip(url, "excluded by the include/exclude patterns")
            return
        if depth > conn.settings.max_depth:
            conn._skip(url, f"deeper than max_depth ({conn.settings.max_depth})")
            return
        self.queued.add(url)
        self.queue.append((url, depth, start))


class _SkipWithLinks(_Skip):
    def __init__(self, links: list[str], reason: str) -> None:
        super().__init__(reason)
        self.links = links


def _table_documents(
    raw: bytes, url: str, suffix: str
) -> tuple[list[SourceDocument], list[tuple[str, str]]]:
    """Rows of a CSV/XLSX file fetched from ``url``, read by the same connectors as files."""
    import tempfile
    from pathlib import Path
    from urllib.parse import unquote

    from madoguchi.connectors.faq_csv import FaqCsvConnector
    from madoguchi.connectors.office import XlsxConnector
    from madoguchi.kit.errors import KitError

    name = re.sub(r"[^\w.\-]", "_", unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
    if not name.lower().endswith(suffix):
        name = (name or "table") + suffix
    with tempfile.TemporaryDirectory(prefix="madoguchi-web-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(raw)
        conn = (FaqCsvConnector if suffix == ".csv" else XlsxConnector)(path, url, url)
        try:
            docs = list(conn.documents())
        except KitError as exc:
            raise _Skip(str(exc).removeprefix(f"{url}: ")) from exc
    return docs, list(conn.skipped)


def _content_type(value: str) -> tuple[str, str | None]:
    main, _, rest = value.partition(";")
    m = re.search(r"charset\s*=\s*\"?([^\s\";]+)", rest, re.I)
    return main.strip().lower(), (m.group(1) if m else None)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def _title_of(text: str) -> str:
    import html

    m = _TITLE.search(text[:200_000])
    return " ".join(html.unescape(m.group(1)).split()) if m else ""
