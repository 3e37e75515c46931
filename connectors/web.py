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

What a hostile or broken server cannot do, and the piece that sees to it:

- reach an internal address: ``address_problem`` refuses every address that is
  not public unicast, IPv4 forms hidden in IPv6 (mapped, 6to4, NAT64, ...)
  included, and numeric host spellings (``127.1``, ``0x7f.0.0.1``) are read as
  the addresses they are, without DNS;
- rebind its name between the check and the connection: a name is resolved once
  per crawl and ``_Network`` connects to exactly the addresses that were checked
  (the Host header and TLS name stay the name);
- hold the crawl with a trickle: ``_Network``'s streams give every read and write
  only what is left of the whole request's deadline, headers included;
- exhaust memory with a compression bomb: bodies are read raw and decoded by
  ``_Decoding``, which never produces more than ``_STEP`` bytes at a time, so
  ``max_bytes`` applies to the decoded size as it grows;
- end the crawl with a bad redirect: httpx never parses a Location itself
  (``_take_location``); the crawler checks it like any link, and a bad one skips
  that page only;
- flood it through sitemaps: robots.txt applies to them, and the number of
  sitemaps, their nesting and the URLs taken from them are capped.

Every URL that was seen but not indexed is recorded in ``skipped`` with the
reason, so the sync report can say why a page is missing. The source id of a
page is its final URL (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import re
import socket
import time
import xml.etree.ElementTree as ET
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from madoguchi.kit.charset import decode, meta_charset
from madoguchi.kit.config import WebSettings
from madoguchi.kit.errors import FetchError, KitError
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
MAX_SITEMAP_URLS = 50_000  # per sitemap file (the sitemap protocol's own limit)
MAX_SITEMAP_DEPTH = 2  # sitemap indexes inside sitemap indexes
MAX_URL_LENGTH = 8192  # longer links and redirect targets are refused
_DISALLOW_ALL = ["User-agent: *", "Disallow: /"]
_ROBOTS_BYTES = 512 * 1024  # what is read of a robots.txt (Google reads 500 KiB)


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
    """Why ``url`` may never be fetched (scheme, credentials, no host, malformed), or None."""
    return _plain_url_problem(url) or _httpx_url_problem(url)


def _plain_url_problem(url: str) -> str | None:
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
    if len(url) > MAX_URL_LENGTH:
        return f"refused: URL longer than {MAX_URL_LENGTH:,} characters"
    return None


def _httpx_url_problem(url: str) -> str | None:
    """What httpx would refuse to request: the dearer check (90 µs a URL, where a page
    may link 100,000), so a link meets it only when it is about to be fetched."""
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:  # idna's errors are ValueErrors
        return f"malformed URL ({exc})"
    return None


def _shown(url: str, limit: int = 300) -> str:
    """A URL as a report shows it: password masked, a very long one cut."""
    url = redact(url)
    return url if len(url) <= limit else url[:limit] + f"…({len(url):,} characters)"


def join_url(base: str, ref: str) -> tuple[str, str | None]:
    """``ref`` (a link or a redirect's Location) resolved against ``base``, normalised,
    and why it may not be fetched (None when it may)."""
    ref = ref.strip()
    if len(ref) > MAX_URL_LENGTH:
        return ref, f"refused: URL longer than {MAX_URL_LENGTH:,} characters"
    try:
        url = urljoin(base, ref)
    except ValueError as exc:
        return ref, f"malformed URL ({exc})"
    problem = url_problem(url)
    return (url, problem) if problem else (normalize_url(url), None)


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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Blocks that are not public unicast (the IANA special-purpose registries), refused
# whatever this Python's ipaddress tables say: they have changed between patch
# releases (3.11.10, 3.12.4, 3.13). ``is_global`` covers the rest.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT; cloud metadata services live here too
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/8",  # unspecified, loopback, IPv4-compatible and -mapped, NAT64's 64:ff9b::
        "64:ff9b:1::/48",  # NAT64 for local use
        "100::/64",
        "2001::/23",  # Teredo, ORCHID, documentation-like IETF blocks
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, and the form it takes, if it does."""
    n = int(ip)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if n >> 32 == 0xFFFF0000:  # ::ffff:0:a.b.c.d
        return "IPv4-translated", ipaddress.IPv4Address(n & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(n & 0xFFFFFFFF)
    if ip.teredo is not None:
        return "Teredo", ip.teredo[0]  # the server's; the client's is also in there
    if 1 < n < 2**32:  # ::a.b.c.d
        return "IPv4-compatible", ipaddress.IPv4Address(n)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why the crawler may not connect to ``ip`` (what kind of address it is), or None
    for a public unicast address.

    An IPv6 address that carries an IPv4 one is judged by that address (IPv4-mapped
    and -translated, 6to4, NAT64); Teredo and the deprecated IPv4-compatible form are
    refused whatever they carry.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, v4 = embedded
            if form in ("Teredo", "IPv4-compatible"):
                return f"a {form} address (of {v4})"
            inner = address_problem(v4)
            return f"the {form} form of {v4}, {inner}" if inner else None
    kinds = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("reserved", ip.is_reserved),
    )
    for kind, yes in kinds:
        if yes:
            return f"a {kind} address"
    if not ip.is_global or any(ip.version == n.version and ip in n for n in _NOT_PUBLIC):
        return "not a public address"
    return None


def _is_private(ip: IPAddress) -> bool:
    return address_problem(ip) is not None


# the IPv4 spellings inet_aton (so the system resolver) reads as addresses: 127.1,
# 0x7f.0.0.1, 2130706433, 0177.0.0.1
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}", re.I)
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.I)


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form the system would read as one, or None
    for a name."""
    h = host.strip("[]").lower()
    h = h[:-1] if h.endswith(".") and ":" not in h else h
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


def _looks_numeric(host: str) -> bool:
    """A host whose last label is a number is an IPv4 address or nothing (as browsers
    read it): it is never sent to DNS."""
    return bool(_NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]))


Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to, in the system's order of preference (all of
    them: one private address is enough to refuse)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


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
    location: str | None = None  # a redirect's Location, as the server sent it


class _Skip(Exception):
    """This URL is not indexed; the message says why."""


class _Late(Exception):
    """The whole request took longer than its deadline."""


_LOCATION = "madoguchi.location"


def _take_location(response: httpx.Response) -> None:
    """Keep a redirect's Location away from httpx (a response event hook).

    The crawler follows redirects itself, checking every hop (``_get``); httpx would
    first parse the Location on its own, even with follow_redirects off, and raise
    on one like ``javascript:void(0)``, which ended the whole crawl.
    """
    if "location" in response.headers:
        response.extensions[_LOCATION] = response.headers["location"]
        del response.headers["location"]


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
        self._addr_ok: dict[str, str | None] = {}  # host -> why it is refused, or None
        self._resolved: dict[str, list[str]] = {}  # host -> its addresses, for the whole crawl
        self._deadline: float | None = None  # when the request under way must be done
        self._sitemaps_read = 0
        self._sitemap_urls_taken = 0
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
        return self._host_problem(_host_key(url))

    def _host_problem(self, host: str) -> str | None:
        """Why ``host`` may not be connected to, or None; decided once per crawl, on the
        same addresses the connections then go to (``_connect_addresses``)."""
        if host in self._addr_ok:
            return self._addr_ok[host]
        problem: str | None = None
        if not self.settings.allow_private_network:
            problem = self._check_addresses(host)
        self._addr_ok[host] = problem
        return problem

    def _check_addresses(self, host: str) -> str | None:
        if literal_address(host) is None and _looks_numeric(host):
            return f"refused: {host} looks like an IP address but is not a valid one"
        try:
            addrs = self._addresses(host)
        except FetchError as exc:
            return str(exc)
        if not addrs:
            return f"cannot resolve host {host!r}: no address"
        for a in addrs:
            try:
                why = address_problem(ipaddress.ip_address(a.split("%")[0]))
            except ValueError:
                why = "not an IP address"
            if why:
                return (
                    f"refused: {host} is a private/loopback address ({a}: {why}); "
                    "allow it with --allow-private-network (web.allow_private_network)"
                )
        return None

    def _addresses(self, host: str) -> list[str]:
        """The addresses of ``host``, looked up once per crawl (an address literal, in any
        spelling, is its own answer)."""
        if host not in self._resolved:
            literal = literal_address(host)
            self._resolved[host] = [str(literal)] if literal else list(self._resolve(host))
        return self._resolved[host]

    def _connect_addresses(self, host: str) -> list[str]:
        """Where a connection to ``host`` may go: the addresses that were checked."""
        host = host.lower()
        problem = self._host_problem(host)
        if problem:
            raise httpcore.ConnectError(problem)
        try:
            return self._addresses(host)
        except FetchError as exc:
            raise httpcore.ConnectError(str(exc)) from exc

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

    def _request_deadline(self) -> float:
        s = self.settings
        return s.request_deadline if s.request_deadline is not None else s.timeout * 4

    def _get_once(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Response:
        self._wait(host_of(url))
        self.requests += 1
        self._deadline = time.monotonic() + self._request_deadline()
        try:
            with client.stream("GET", url, headers=headers) as r:
                body = self._read_body(r) if r.status_code == 200 else b""
                return _Response(
                    str(r.url), r.status_code, r.headers, body, r.extensions.get(_LOCATION)
                )
        except httpx.TimeoutException:
            if time.monotonic() >= self._deadline:
                raise _Late() from None
            raise
        finally:
            self._deadline = None

    def _read_body(self, r: httpx.Response) -> bytes:
        """The body, decoded as it arrives and never past ``max_bytes`` (raw or decoded)."""
        cap = self.settings.max_bytes
        length = r.headers.get("content-length")
        if length and length.isdigit() and int(length) > cap:
            raise _Skip(f"too large ({int(length):,} bytes > max_bytes {cap:,})")
        decoding = _Decoding(r.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        raw = size = 0
        deadline = self._deadline or float("inf")

        def take(pieces: Iterable[bytes]) -> None:
            nonlocal size
            for piece in pieces:
                size += len(piece)
                if size > cap:
                    how = " once decompressed" if decoding.stages else ""
                    raise _Skip(f"too large (over max_bytes {cap:,} bytes{how})")
                chunks.append(piece)

        # a response made in memory (an injected transport) was read when it was made;
        # its stream still holds the bytes as they were sent
        parts = iter(r.stream) if r.is_stream_consumed else r.iter_raw()  # type: ignore[arg-type]
        for part in parts:
            raw += len(part)
            if raw > cap:
                raise _Skip(f"too large (over max_bytes {cap:,} bytes)")
            take(decoding.feed(part))
            if time.monotonic() > deadline:
                raise _Late()
        take(decoding.end())
        return b"".join(chunks)

    def _get(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Response:
        """One URL with retries, redirects followed by hand so each hop is checked."""
        hops = 0
        while True:
            resp = self._with_retries(client, url, headers)
            if resp.status not in _REDIRECTS:
                return resp
            if not (resp.location or "").strip():
                raise _Skip(f"redirect ({resp.status}) without a Location")
            nxt, problem = join_url(url, resp.location or "")
            if problem:
                raise _Skip(f"redirect to {_shown(nxt)}: {problem}")
            hops += 1
            if hops > MAX_REDIRECTS:
                raise _Skip(f"more than {MAX_REDIRECTS} redirects")
            if not self._allowed_host(nxt):
                raise _Skip(f"redirect to {_shown(nxt)} leaves the allowed hosts; not followed")
            problem = self._address_problem(nxt)
            if problem:
                raise _Skip(f"redirect to {_shown(nxt)}: {problem}")
            if not self._robots_allow(client, nxt):
                raise _Skip(f"redirect to {_shown(nxt)}, which robots.txt disallows")
            url = nxt
            headers = self._conditional(nxt)

    def _with_retries(self, client: httpx.Client, url: str, headers: dict[str, str]) -> _Response:
        attempts = max(0, self.settings.retries) + 1
        last = ""
        for attempt in range(attempts):
            try:
                resp = self._get_once(client, url, headers)
            except _Late:
                last = f"timed out: no whole answer within {self._request_deadline():g}s"
            except httpx.TimeoutException:
                last = f"timed out after {self.settings.timeout:g}s"
            except httpx.TransportError as exc:
                last = f"connection failed: {type(exc).__name__}: {exc}"
            except httpx.HTTPError as exc:  # not the network's fault: no retry helps
                raise _Skip(f"bad response: {type(exc).__name__}: {exc}") from exc
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
                target, problem = join_url(robots_url, resp.location or "")
                problem = problem or (None if self._allowed_host(target) else "another host")
                if (problem or self._address_problem(target)) is None:
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
            try:
                text = decode(resp.body[:_ROBOTS_BYTES], robots_url)
            except KitError:  # not text: as good as no robots.txt at all
                text = ""
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
        """Page URLs listed in a sitemap (or a sitemap index, ``MAX_SITEMAP_DEPTH`` deep),
        within ``max_sitemaps`` files and ``max_sitemap_urls`` URLs per crawl."""
        s = self.settings
        problem = url_problem(sitemap) or (
            None if self._allowed_host(sitemap) else "sitemap outside the allowed hosts"
        )
        problem = problem or self._address_problem(sitemap)
        if not problem:
            h = self._host_state(client, sitemap)
            if h.robots_reason:
                problem = f"sitemap not read: {h.robots_reason}"
            elif not self._robots_allow(client, sitemap):
                problem = "sitemap disallowed by robots.txt"
        if not problem and self._sitemaps_read >= s.max_sitemaps:
            problem = f"sitemap not read: max_sitemaps ({s.max_sitemaps}) reached"
        if problem:
            self._skip(sitemap, problem)
            return []
        self._sitemaps_read += 1
        root = self._sitemap_root(client, sitemap)
        if root is None:
            return []
        locs = [
            (el.text or "").strip()
            for el in root.iter()
            if el.tag.rsplit("}", 1)[-1] == "loc" and (el.text or "").strip()
        ]
        if root.tag.rsplit("}", 1)[-1] == "sitemapindex":
            if depth >= MAX_SITEMAP_DEPTH:
                self._skip(
                    sitemap,
                    f"sitemap index nested too deep (more than {MAX_SITEMAP_DEPTH} levels); "
                    f"the {len(locs):,} sitemaps it lists are not read",
                )
                return []
            out: list[str] = []
            for i, loc in enumerate(locs):
                if self._sitemaps_read >= s.max_sitemaps:
                    self._skip(
                        sitemap,
                        f"{len(locs) - i:,} of the sitemaps it lists not read: "
                        f"max_sitemaps ({s.max_sitemaps}) reached",
                    )
                    break
                out.extend(self._sitemap_urls(client, loc, depth + 1))
            return out
        room = max(0, min(MAX_SITEMAP_URLS, s.max_sitemap_urls - self._sitemap_urls_taken))
        if len(locs) > room:
            self._skip(
                sitemap,
                f"{len(locs) - room:,} of its {len(locs):,} URLs not taken: "
                + (
                    f"max_sitemap_urls ({s.max_sitemap_urls}) reached"
                    if room < MAX_SITEMAP_URLS
                    else f"a sitemap lists at most {MAX_SITEMAP_URLS:,}"
                ),
            )
        self._sitemap_urls_taken += min(room, len(locs))
        return locs[:room]

    def _sitemap_root(self, client: httpx.Client, sitemap: str) -> ET.Element | None:
        """The parsed sitemap, or None (and why, in ``skipped``)."""
        try:
            resp = self._get(client, sitemap, {})
        except (FetchError, _Skip) as exc:
            self._skip(sitemap, f"sitemap not read: {exc}")
            return None
        if resp.status != 200:
            if resp.status != 404 or sitemap in self.sitemaps:
                self._skip(sitemap, f"sitemap not read: HTTP {resp.status}")
            return None
        body = resp.body
        try:
            if sitemap.endswith(".gz") or body[:2] == b"\x1f\x8b":
                body = _decode_all(body, "gzip", self.settings.max_bytes)
            if b"<!DOCTYPE" in body:  # entities could expand it 100-fold within expat's limits
                raise _Skip("it declares a DTD, which a sitemap never needs")
            return ET.fromstring(body)
        except _Skip as exc:
            self._skip(sitemap, f"sitemap not read: {exc}")
        except ET.ParseError as exc:
            self._skip(sitemap, f"sitemap not read: not XML ({exc})")
        return None

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
        transport = self._transport
        if transport is None:
            # through a proxy, the proxy connects (and resolves the name) for us
            pin = None if s.proxy else self._connect_addresses
            transport = _Transport(_Network(pin, lambda: self._deadline), s.proxy or None)
        return httpx.Client(
            headers={
                "User-Agent": s.user_agent,
                "Accept-Language": "ja,en;q=0.5",
                "Accept-Encoding": ", ".join(_codings()),
            },
            timeout=httpx.Timeout(s.timeout),
            follow_redirects=False,
            transport=transport,
            trust_env=False,
            event_hooks={"response": [_take_location]},
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
        problem = _httpx_url_problem(url) or self._address_problem(url)
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
        except KitError as exc:  # a body that cannot be read as what it claims to be
            self._skip(url, str(exc).removeprefix(f"{url}: "))
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
        problem = _plain_url_problem(url)  # httpx's own check waits for the fetch
        if problem:
            conn._skip(_shown(url), problem + (f" (linked from {via})" if via else ""))
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


# ---- connections: to the checked address, within the request's deadline ---------------


def _host_key(url: str) -> str:
    """The host as the connection sees it (IDNA-encoded, no brackets), so the address
    check and the connection speak of the same name."""
    return httpx.URL(url).raw_host.decode("ascii").lower()


def _left(deadline: float | None, timeout: float | None, late: type[Exception]) -> float | None:
    """``timeout``, shortened to what is left before ``deadline``."""
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the whole request took longer than its deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write gets at most what is left of the deadline
    of the request under way: a server sending a byte now and then cannot hold it."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Callable[[], float | None]):
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(self._deadline(), timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(self._deadline(), timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(self._deadline(), timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, left), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Network(httpcore.NetworkBackend):
    """How the crawler's connections are made.

    ``pin(host)`` gives the addresses that were checked for ``host`` (or raises
    ``httpcore.ConnectError`` with the reason it is refused): the connection goes to
    one of them, never to what a second lookup would answer, while TLS still checks
    the certificate against the name (httpcore passes the name as server_hostname).
    ``pin`` None connects by name (to the operator's proxy).
    """

    def __init__(
        self,
        pin: Callable[[str], list[str]] | None,
        deadline: Callable[[], float | None],
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._pin = pin
        self._deadline = deadline
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        targets = [host] if self._pin is None else self._pin(host)
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in targets:
            left = _left(self._deadline(), timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(address, port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the crawler does not use unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's own transport, on a connection pool that makes its connections through
    ``network`` (httpcore's pools take a network backend; httpx does not pass one on)."""

    def __init__(self, network: httpcore.NetworkBackend, proxy: str | None) -> None:
        super().__init__(trust_env=False, proxy=proxy)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        if proxy is None:
            self._pool = httpcore.ConnectionPool(
                ssl_context=ssl_context,
                max_connections=10,
                max_keepalive_connections=4,
                keepalive_expiry=5.0,
                network_backend=network,
            )
            return
        p = httpx.Proxy(proxy)
        if p.url.scheme not in ("http", "https"):
            return  # a SOCKS proxy keeps httpx's own pool: no deadline on its reads
        self._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(
                scheme=p.url.raw_scheme,
                host=p.url.raw_host,
                port=p.url.port,
                target=p.url.raw_path,
            ),
            proxy_auth=p.raw_auth,
            proxy_headers=p.headers.raw,
            ssl_context=ssl_context,
            proxy_ssl_context=p.ssl_context,
            max_connections=10,
            max_keepalive_connections=4,
            keepalive_expiry=5.0,
            network_backend=network,
        )


# ---- content codings, decoded with bounded output ----------------------------------------

_STEP = 64 * 1024  # the most one decoding step produces (brotli may go ~1.5 times over)


class _Zlib:
    """gzip (any number of concatenated members) or deflate (zlib-wrapped or raw)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._d: Any = None
        self._head = b""
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        if not self._fed:
            return
        if self._d is None:
            data = self._head + data
            if self.coding == "deflate" and len(data) < 2:
                self._head = data
                return
            self._head = b""
            self._d = self._start(data)
        while True:
            d = self._d
            if d.eof:
                if self.coding != "gzip":
                    return  # anything after the end is ignored, as httpx does
                data = (d.unused_data + data).lstrip(b"\0")  # zero padding between members
                if not data:
                    return
                d = self._d = zlib.decompressobj(31)
            try:
                out = d.decompress(data, _STEP)
            except zlib.error as exc:
                raise _Skip(f"broken {self.coding} body ({exc})") from exc
            if out:
                yield out
            data = d.unconsumed_tail
            if not d.eof and not data and len(out) < _STEP:
                return

    def _start(self, data: bytes) -> Any:
        if self.coding == "gzip":
            return zlib.decompressobj(31)
        zlib_header = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        return zlib.decompressobj(15 if zlib_header else -15)

    def end(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if self._fed and (self._head or not self._d.eof):
            raise _Skip(f"the {self.coding} body is cut short")


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self._error = brotli.error
        self._d = brotli.Decompressor()
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        if not self._fed:
            return
        d = self._d
        try:
            if d.is_finished():
                if data:
                    raise _Skip("broken br body (data after its end)")
                return
            out = d.process(data, output_buffer_limit=_STEP)
            # more may be held back; only empty input is allowed until it is all out
            while out or not d.can_accept_more_data():
                yield out
                if d.is_finished():
                    return
                out = d.process(b"", output_buffer_limit=_STEP)
        except self._error as exc:
            raise _Skip(f"broken br body ({exc})") from exc

    def end(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if self._fed and not self._d.is_finished():
            raise _Skip("the br body is cut short")


@functools.cache
def _codings() -> tuple[str, ...]:
    """The content codings the crawler can decode within bounds (so asks for)."""
    try:
        import brotli

        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except (ImportError, TypeError, AttributeError):  # absent, or too old to bound output
        return ("gzip", "deflate")
    return ("gzip", "deflate", "br")


class _Decoding:
    """A body's Content-Encoding undone, piece by piece, each piece at most ~``_STEP``
    bytes however much one input chunk expands (so the size cap applies as it grows)."""

    MAX_STAGES = 4

    def __init__(self, header: str) -> None:
        codings = [c.strip().lower() for c in header.split(",")]
        codings = ["gzip" if c == "x-gzip" else c for c in codings if c and c != "identity"]
        if len(codings) > self.MAX_STAGES:
            raise _Skip(f"more than {self.MAX_STAGES} content encodings ({header[:100]!r})")
        for c in codings:
            if c not in _codings():
                raise _Skip(f"unsupported content encoding {c!r}")
        # applied in the order listed, so undone from the last
        self.stages: list[_Zlib | _Brotli] = [
            _Brotli() if c == "br" else _Zlib(c) for c in reversed(codings)
        ]

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((data,))
        for stage in self.stages:
            pieces = _through(stage, pieces)
        return pieces

    def end(self) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter(())
        for stage in self.stages:
            pieces = itertools.chain(_through(stage, pieces), stage.end())
        return pieces


def _through(stage: _Zlib | _Brotli, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from stage.feed(piece)


def _decode_all(data: bytes, coding: str, cap: int) -> bytes:
    """``data`` decoded (a .gz sitemap), refused once it would pass ``cap`` bytes."""
    decoding = _Decoding(coding)
    out: list[bytes] = []
    size = 0
    for piece in itertools.chain(decoding.feed(data), decoding.end()):
        size += len(piece)
        if size > cap:
            raise _Skip(f"larger than max_bytes ({cap:,} bytes) once decompressed")
        out.append(piece)
    return b"".join(out)
