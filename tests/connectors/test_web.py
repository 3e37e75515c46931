"""The crawler against a real HTTP server on localhost: what is indexed, and why not the rest."""

from __future__ import annotations

import gzip
import struct
import time
import zlib

import httpx
import pytest
from localsite import LocalSite, Page, html

from madoguchi.connectors.web import (
    FetchState,
    WebConnector,
    normalize_url,
    url_problem,
)
from madoguchi.ingest.parse import parse
from madoguchi.kit.config import WebSettings


def web(**kw) -> WebSettings:
    base = dict(rate_limit=0, timeout=0.5, retries=0, max_bytes=100_000)
    base.update(kw)
    base.setdefault("allow_private_network", True)
    return WebSettings(**base)


def crawl(site: LocalSite, **kw) -> tuple[WebConnector, dict]:
    conn = WebConnector([site.url("/")], web(**kw))
    docs = {d.source_id: d for d in conn.documents()}
    return conn, docs


def test_crawl_indexes_exactly_the_allowed_pages_and_says_why_not_the_rest(site):
    conn, docs = crawl(site)
    u = site.url
    assert sorted(docs) == sorted(
        [
            u("/"),
            u("/gomi.html"),
            u("/sjis.html"),
            u("/euc.html"),
            u("/loop-a.html"),
            u("/loop-b.html"),
            u("/guide.pdf"),
            u("/moved-target.html"),  # a redirect inside the site: the final URL is the id
            u("/sitemap-only.html"),  # found only through sitemap.xml (named in robots.txt)
        ]
    )
    why = dict(conn.skipped)
    assert why[u("/private/secret.html")] == "disallowed by robots.txt"
    assert why[u("/missing.html")] == "HTTP 404 (not found)"
    assert why[u("/slow.html")].startswith("timed out after 0.5s")
    assert why[u("/huge.html")].startswith("too large")
    assert "leaves the allowed hosts" in why[u("/away")]
    assert why["file:///etc/passwd"].startswith("refused: file: URLs")
    assert why["http://user:***@127.0.0.1/x"].startswith("refused: credentials")  # masked
    assert why["https://example.com/"] == "host not in the allowlist; not followed"
    assert len(conn.skipped) == 8, conn.skipped
    # the link loop is fetched once per page; the page outside the allowlist never
    assert site.hits["/loop-a.html"] == 1 and site.hits["/loop-b.html"] == 1
    assert site.hits["/private/secret.html"] == 0
    assert conn.gone == [u("/missing.html")] and conn.failed == [u("/slow.html")]
    assert not conn.truncated


def test_pages_are_decoded_and_parsed_without_boilerplate(site):
    _, docs = crawl(site)
    u = site.url
    sjis = parse(docs[u("/sjis.html")])
    assert "手数料は1通300円" in sjis.text and sjis.title.startswith("住民票の写し")
    euc = parse(docs[u("/euc.html")])
    assert "狂犬病予防注射" in euc.text
    gomi = parse(docs[u("/gomi.html")])
    assert "粗大ごみは電話で予約" in gomi.text
    assert "Copyright" not in gomi.text and "子育て" not in gomi.text  # header/footer dropped
    assert gomi.meta["updated"] == "2024年4月1日"
    assert gomi.meta["department"] == "環境衛生課" and gomi.meta["phone"] == "0120-000-111"
    pdf = docs[u("/guide.pdf")]
    assert pdf.mime == "application/pdf" and pdf.kind == "pdf"
    assert parse(pdf).sections


def test_private_addresses_are_refused_unless_allowed(site):
    conn = WebConnector([site.url("/")], web(allow_private_network=False))
    assert list(conn.documents()) == []
    reason = dict(conn.skipped)[site.url("/")]
    assert "private/loopback" in reason and "--allow-private-network" in reason
    assert sum(site.hits.values()) == 0  # not even robots.txt was asked for


def test_a_public_name_resolving_to_a_private_address_is_refused():
    def transport(request: httpx.Request) -> httpx.Response:  # never reached
        raise AssertionError("fetched")

    conn = WebConnector(
        ["http://intranet.example.jp/"],
        web(allow_private_network=False),
        resolver=lambda host: ["10.1.2.3"],
        transport=httpx.MockTransport(transport),
    )
    assert list(conn.documents()) == []
    assert "10.1.2.3" in dict(conn.skipped)["http://intranet.example.jp/"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "refused: file:"),
        ("data:text/html,<p>x</p>", "refused: data:"),
        ("ftp://example.jp/a.pdf", "refused: not an http(s) URL"),
        ("https://admin:secret@example.jp/", "refused: credentials"),
        ("https://@example.jp/", "refused: credentials"),
        ("http:///nohost", "refused: no host"),
        ("https://example.jp:99999/", "malformed URL"),
    ],
)
def test_url_problems(url, reason):
    assert (url_problem(url) or "").startswith(reason)


def test_good_urls_pass_and_normalize():
    assert url_problem("https://www.town.example.jp/kurashi/?a=1") is None
    assert normalize_url("HTTPS://WWW.Town.jp:443/a?b=1#top") == "https://www.town.jp/a?b=1"
    assert normalize_url("http://town.jp") == "http://town.jp/"


def test_start_urls_with_refused_schemes_are_reported_not_fetched():
    conn = WebConnector(["file:///etc/passwd", "javascript:alert(1)x"], web())
    assert list(conn.documents()) == []
    assert [u for u, _ in conn.skipped] == ["file:///etc/passwd"]


def test_limits_depth_pages_and_patterns(site):
    conn, docs = crawl(site, max_depth=1)
    assert site.url("/loop-b.html") not in docs
    assert dict(conn.skipped)[site.url("/loop-b.html")] == "deeper than max_depth (1)"

    conn, docs = crawl(site, max_pages=3)
    assert len(docs) <= 3 and conn.truncated
    assert any(r.startswith("not fetched: max_pages (3)") for _, r in conn.skipped)

    conn = WebConnector([site.url("/")], web(), exclude=[r"loop-"], include=[r"\.html$|/$|\.pdf$"])
    ids = {d.source_id for d in conn.documents()}
    assert site.url("/loop-a.html") not in ids and site.url("/gomi.html") in ids
    assert dict(conn.skipped)[site.url("/loop-a.html")] == (
        "excluded by the include/exclude patterns"
    )


def test_conditional_requests_use_the_last_validators_and_keep_links(site):
    first, docs = crawl(site)
    states = {u: FetchState(i.etag, i.last_modified, i.links) for u, i in first.fetched.items()}
    again = WebConnector([site.url("/")], web(), previous=states.get)
    docs2 = list(again.documents())
    assert docs2 == []  # every page answered 304
    assert site.url("/gomi.html") in again.not_modified
    # links of a 304 page come from the manifest, so the crawl still reaches every page
    assert set(again.not_modified) == set(docs)
    site.put("/gomi.html", html("ごみの出し方", "<p>粗大ごみの処理券は400円になりました。</p>"))
    third = WebConnector([site.url("/")], web(), previous=states.get)
    assert [d.source_id for d in third.documents()] == [site.url("/gomi.html")]


def test_robots_txt_forbidding_everything_and_crawl_delay(site):
    site.put("/robots.txt", Page(b"User-agent: *\nDisallow: /\n", "text/plain"))
    conn, docs = crawl(site)
    assert docs == {} and dict(conn.skipped)[site.url("/")] == "disallowed by robots.txt"

    waits: list[float] = []
    site.put("/robots.txt", Page(b"User-agent: *\nCrawl-delay: 2\n", "text/plain"))
    conn = WebConnector(
        [site.url("/gomi.html")], web(max_depth=1), sleep=waits.append, use_sitemaps=False
    )
    assert len(list(conn.documents())) == 2  # gomi.html and the top page it links to
    # robots.txt, then two pages: each request after the first waited for the Crawl-delay
    assert len(waits) == 2 and all(1.5 < w <= 2.0 for w in waits)


def test_server_errors_are_retried_then_reported():
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        calls["n"] += 1
        if calls["n"] < 3:
            return httpx.Response(503)
        return httpx.Response(200, html=html("復旧", "<p>復旧しました。</p>"))

    conn = WebConnector(
        ["https://www.town.example.jp/"],
        web(retries=2, allow_private_network=False),
        resolver=lambda h: ["93.184.215.14"],
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        use_sitemaps=False,
    )
    assert [d.source_id for d in conn.documents()] == ["https://www.town.example.jp/"]
    assert calls["n"] == 3

    conn = WebConnector(
        ["https://www.town.example.jp/"],
        web(retries=1),
        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
        sleep=lambda s: None,
        use_sitemaps=False,
    )
    assert list(conn.documents()) == []
    assert "robots.txt could not be read (HTTP 500 (2 attempts))" in conn.skipped[0][1]


def test_noindex_pages_are_followed_not_indexed(site):
    site.put(
        "/",
        '<html><head><meta name="robots" content="noindex"><title>t</title></head>'
        '<body><a href="/gomi.html">g</a></body></html>',
    )
    conn = WebConnector([site.url("/")], web(), use_sitemaps=False)
    assert [d.source_id for d in conn.documents()] == [site.url("/gomi.html")]
    assert "noindex" in dict(conn.skipped)[site.url("/")]


def test_div_layout_page_furniture_is_dropped():
    """Old CMS templates without <nav>/<footer>: furniture recognised by its id/class."""
    from madoguchi.kit.types import SourceDocument

    page = (
        "<html><head><title>国民健康保険｜みどり川町</title></head><body>"
        '<div id="header">文字サイズ 小 中 大</div><div id="gnavi"><ul><li>くらし</li></ul></div>'
        '<div id="topicpath">ホーム &gt; 国民健康保険</div>'
        '<div id="contents"><h1>国民健康保険</h1><p>加入の届出は14日以内です。</p></div>'
        '<div id="side"><h2>関連ページ</h2><ul><li>後期高齢者医療</li></ul></div>'
        '<div id="footer">お問い合わせ 住民課 電話 0120-000-222 Copyright</div></body></html>'
    )
    parsed = parse(SourceDocument("u", "u", "", page, "text/html", {"kind": "page"}))
    assert parsed.text == "加入の届出は14日以内です。"
    assert parsed.meta["department"] == "住民課"  # the contact block is still read


def test_sitemap_index_and_gzipped_sitemaps():

    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    base = "https://www.town.example.jp"
    files = {
        "/robots.txt": f"Sitemap: {base}/sitemap_index.xml\n".encode(),
        "/sitemap_index.xml": (
            f"<sitemapindex {ns}><sitemap><loc>{base}/s1.xml.gz</loc></sitemap>"
            f"<sitemap><loc>https://evil.example.com/s.xml</loc></sitemap></sitemapindex>"
        ).encode(),
        "/s1.xml.gz": gzip.compress(
            f"<urlset {ns}><url><loc>{base}/a.html</loc></url></urlset>".encode()
        ),
        "/a.html": html("A", "<p>本文です。</p>").encode(),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        body = files.get(request.url.path)
        if request.url.host != "www.town.example.jp" or body is None:
            return httpx.Response(404)
        ctype = "text/html" if request.url.path.endswith(".html") else "application/xml"
        return httpx.Response(200, content=body, headers={"content-type": ctype})

    conn = WebConnector(
        [],
        web(allow_private_network=False),
        sitemaps=[f"{base}/sitemap_index.xml"],
        resolver=lambda h: ["93.184.215.14"],
        transport=httpx.MockTransport(handler),
    )
    assert [d.source_id for d in conn.documents()] == [f"{base}/a.html"]
    assert dict(conn.skipped)["https://evil.example.com/s.xml"] == (
        "sitemap outside the allowed hosts"
    )


def test_linked_csv_and_xlsx_become_rows(site, tmp_path):
    import openpyxl

    faq = "ID,質問,回答,担当課\n1,粗大ごみは？,予約制です。,環境課\n2,犬の登録は？,30日以内です。,環境課\n"
    site.put("/opendata/faq.csv", Page(faq.encode("cp932"), "text/csv"))
    wb = openpyxl.Workbook()
    wb.active.append(["名称", "電話"])
    wb.active.append(["体育館", "0120-000-555"])
    wb.save(tmp_path / "s.xlsx")
    site.put(
        "/opendata/shisetsu.xlsx",
        Page((tmp_path / "s.xlsx").read_bytes(), "application/octet-stream"),
    )
    site.put("/opendata/broken.csv", Page(b"\x00\x01\x02", "text/csv"))
    site.put(
        "/opendata/",
        html("オープンデータ", "<p>一覧</p>", links=["faq.csv", "shisetsu.xlsx", "broken.csv"]),
    )
    conn = WebConnector([site.url("/opendata/")], web(), include=["/opendata/"], use_sitemaps=False)
    docs = {d.source_id: d for d in conn.documents()}
    faq_url, xlsx_url = site.url("/opendata/faq.csv"), site.url("/opendata/shisetsu.xlsx")
    assert set(docs) == {
        site.url("/opendata/"),
        f"{faq_url}#1",
        f"{faq_url}#2",
        f"{xlsx_url}#1",
    }
    assert (
        docs[f"{faq_url}#1"].kind == "faq" and docs[f"{faq_url}#1"].meta["department"] == "環境課"
    )
    assert docs[f"{xlsx_url}#1"].body == "名称: 体育館\n電話: 0120-000-555"
    assert "binary data" in dict(conn.skipped)[site.url("/opendata/broken.csv")]


def test_requests_go_through_the_configured_proxy(site):
    """A municipal network's proxy: the crawler sends absolute-URI requests to it."""
    site.put("http://www.town.example.jp/robots.txt", Page(b"", "text/plain"))
    site.put("http://www.town.example.jp/", html("役場", "<p>プロキシ経由です。</p>"))
    conn = WebConnector(
        ["http://www.town.example.jp/"],
        web(allow_private_network=False, proxy=site.url(""), max_depth=0),
        resolver=lambda h: ["93.184.215.14"],
        use_sitemaps=False,
    )
    assert [d.source_id for d in conn.documents()] == ["http://www.town.example.jp/"]
    assert site.hits["http://www.town.example.jp/"] == 1


# ---- hostile servers: bad redirects, compression bombs, slow senders, sitemap floods ----

BAD_LOCATIONS = {
    "/r-js": "javascript:void(0)",
    "/r-data": "data:text/html,<p>x</p>",
    "/r-mailto": "mailto:info@example.jp",
    "/r-empty": "",
    "/r-spaces": "   ",
    "/r-port": "http://127.0.0.1:99999/",
    "/r-ipv6": "http://[::1",
    "/r-ctrl": "/a\x01b",
    "/r-host": "http://exa mple.jp/",
    "/r-pct": "http://%zz/",
    "/r-long-path": "/" + "a" * 10_240,
    "/r-long-host": "http://" + "a" * 10_240 + "/",
    "/r-long-js": "javascript:" + "a" * 10_240,
    "/r-file": "file:///etc/passwd",
    "/r-creds": "http://user:pw@127.0.0.1/",
}


def test_a_bad_redirect_skips_that_page_and_the_crawl_goes_on(site):
    for path, location in BAD_LOCATIONS.items():
        site.put(path, Page(b"", status=301, headers={"Location": location}))
    site.put("/r-relative", Page(b"", status=301, headers={"Location": "http:foo.html"}))
    site.put("/foo.html", html("相対リダイレクト先", "<p>http:foo は同じホストの相対URLです。</p>"))
    links = [*BAD_LOCATIONS, "/r-relative", "/bad\x01link.html", "/gomi.html"]
    site.put("/", html("トップページ", "<p>本文</p>", links=links))
    conn = WebConnector([site.url("/")], web(), use_sitemaps=False)
    ids = {d.source_id for d in conn.documents()}
    # the pages after the bad redirects are still ingested
    assert {site.url("/"), site.url("/gomi.html"), site.url("/foo.html")} <= ids
    why = dict(conn.skipped)
    for path in BAD_LOCATIONS:
        assert "redirect" in why.get(site.url(path), ""), (path, why.get(site.url(path)))
    assert not conn.failed  # a broken Location is the page's fault, not a network failure
    assert why[site.url("/bad\x01link.html")].startswith("malformed URL")  # a link, likewise


def _zeros(mib: int, wrapper: str) -> bytes:
    """``mib`` MiB of zero bytes, gzip- or zlib-compressed, made in milliseconds: with a
    full flush after each MiB, every MiB compresses to the same bytes."""
    one = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = (c.compress(one) + c.flush(zlib.Z_FULL_FLUSH)) * mib + c.flush()
    crc, adler = 0, 1
    for _ in range(mib):
        crc, adler = zlib.crc32(one, crc), zlib.adler32(one, adler)
    if wrapper == "gzip":
        size = (mib << 20) & 0xFFFFFFFF
        return b"\x1f\x8b\x08\0\0\0\0\0\x02\xff" + raw + struct.pack("<II", crc, size)
    return b"\x78\xda" + raw + struct.pack(">I", adler)


def _bombs() -> list[tuple[str, bytes]]:
    """(Content-Encoding, body): bodies of at most 70 kB that inflate to 64 MiB."""
    import brotli

    gz = _zeros(64, "gzip")
    br = brotli.compress(b"\0" * (64 << 20), quality=5)
    nested = zlib.compressobj(9, zlib.DEFLATED, 31)
    return [
        ("gzip", gz),
        ("br", br),
        ("deflate", _zeros(64, "zlib")),
        ("gzip, gzip", nested.compress(gz) + nested.flush()),  # gzip inside gzip
        ("gzip", _zeros(16, "gzip") * 4),  # four concatenated gzip members
        ("x-gzip", gz),  # the old name of gzip
        ("br, gzip", gzip.compress(br)),
    ]


def test_compression_bombs_are_skipped_within_bounded_memory(site):
    import tracemalloc

    bombs = _bombs()
    for i, (coding, body) in enumerate(bombs):
        assert len(body) < 70_000
        site.put(f"/bomb{i}.html", Page(body, "text/html", headers={"Content-Encoding": coding}))
    links = [f"/bomb{i}.html" for i in range(len(bombs))]
    site.put("/", html("トップページ", "<p>本文</p>", links=links))
    conn = WebConnector([site.url("/")], web(max_bytes=1 << 20), use_sitemaps=False)
    tracemalloc.start()
    try:
        ids = [d.source_id for d in conn.documents()]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ids == [site.url("/")]
    why = dict(conn.skipped)
    for i, (coding, _) in enumerate(bombs):
        reason = why[site.url(f"/bomb{i}.html")]
        assert reason.startswith("too large") and "decompressed" in reason, (coding, reason)
    # 64 MiB of output each, 1 MiB allowed: what was held at once stays near the cap
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"


def test_compressed_pages_are_read_and_unknown_codings_refused(site):
    import brotli

    page = html("ごみの出し方", "<p>粗大ごみは電話で予約してください。</p>").encode()
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    gz = c.compress(page) + c.flush()
    site.put("/gz.html", Page(gz, headers={"Content-Encoding": "gzip"}))
    site.put("/br.html", Page(brotli.compress(page), headers={"Content-Encoding": "br"}))
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    site.put(
        "/raw.html", Page(raw.compress(page) + raw.flush(), headers={"Content-Encoding": "deflate"})
    )
    site.put("/both.html", Page(brotli.compress(gz), headers={"Content-Encoding": "gzip, br"}))
    site.put("/cut.html", Page(gz[: len(gz) // 2], headers={"Content-Encoding": "gzip"}))
    site.put("/zstd.html", Page(b"(\xb5/\xfd\x00X\x00\x00", headers={"Content-Encoding": "zstd"}))
    site.put("/junk.html", Page(b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    paths = [
        "/gz.html",
        "/br.html",
        "/raw.html",
        "/both.html",
        "/cut.html",
        "/zstd.html",
        "/junk.html",
    ]
    site.put("/", html("トップページ", "<p>本文</p>", links=paths))
    conn = WebConnector([site.url("/")], web(), use_sitemaps=False)
    docs = {d.source_id: d for d in conn.documents()}
    for p in ("/gz.html", "/br.html", "/raw.html", "/both.html"):
        assert "粗大ごみは電話で予約" in parse(docs[site.url(p)]).text, p
    why = dict(conn.skipped)
    assert "cut short" in why[site.url("/cut.html")]
    assert "zstd" in why[site.url("/zstd.html")]
    assert "gzip" in why[site.url("/junk.html")]


def test_a_server_sending_its_headers_slowly_is_cut_off_at_the_deadline(site):
    """One byte every 0.1 s never trips a 0.3 s read timeout; the whole-request
    deadline (4 x timeout unless set) must end it, headers included."""
    site.put("/drip.html", Page(html("遅い", "<p>少しずつ</p>").encode(), drip=0.1))
    site.put("/", html("トップページ", "<p>本文</p>", links=["/drip.html", "/gomi.html"]))
    conn = WebConnector([site.url("/")], web(timeout=0.3), use_sitemaps=False)
    t0 = time.monotonic()
    ids = [d.source_id for d in conn.documents()]
    elapsed = time.monotonic() - t0
    assert ids == [site.url("/"), site.url("/gomi.html")]
    reason = dict(conn.skipped)[site.url("/drip.html")]
    assert reason.startswith("timed out") and "1.2s" in reason, reason
    assert elapsed < 4.0, f"the crawl took {elapsed:.1f}s"


def test_sitemaps_respect_robots_txt(site):
    site.put("/robots.txt", Page(b"User-agent: *\nDisallow: /sitemap.xml\n", "text/plain"))
    conn, docs = crawl(site)
    assert site.hits["/sitemap.xml"] == 0
    assert dict(conn.skipped)[site.url("/sitemap.xml")] == "sitemap disallowed by robots.txt"
    assert site.url("/") in docs


def test_sitemap_floods_are_capped_with_a_reason(site):
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    u = site.url

    def index(children: list[str]) -> Page:
        locs = "".join(f"<sitemap><loc>{u(c)}</loc></sitemap>" for c in children)
        return Page(f"<sitemapindex {ns}>{locs}</sitemapindex>".encode(), "application/xml")

    def urlset(n: int, prefix: str) -> Page:
        locs = "".join(f"<url><loc>{u(f'{prefix}{k}.html')}</loc></url>" for k in range(n))
        return Page(f"<urlset {ns}>{locs}</urlset>".encode(), "application/xml")

    site.put("/robots.txt", Page(f"Sitemap: {u('/sitemap.xml')}\n".encode(), "text/plain"))
    site.put("/sitemap.xml", index([f"/idx{i}.xml" for i in range(20)] + ["/deep1.xml"]))
    for i in range(20):
        site.put(f"/idx{i}.xml", index([f"/set{i}-{j}.xml" for j in range(20)]))
        for j in range(20):
            site.put(f"/set{i}-{j}.xml", urlset(100, f"/p{i}-{j}-"))
    site.put("/deep1.xml", index(["/deep2.xml"]))
    site.put("/deep2.xml", index(["/deep3.xml"]))
    site.put("/deep3.xml", urlset(1, "/deep-"))
    conn = WebConnector([u("/")], web(max_pages=1, max_sitemaps=5, max_sitemap_urls=150))
    list(conn.documents())
    read = sum(n for p, n in site.hits.items() if p.endswith(".xml"))
    assert read <= 5, f"{read} sitemaps read"
    reasons = [r for _, r in conn.skipped]
    assert any("max_sitemaps (5)" in r for r in reasons), reasons[:5]
    assert any("max_sitemap_urls (150)" in r for r in reasons), reasons[:5]
    assert len(conn.skipped) < 400  # the flood does not become the report

    site.hits.clear()
    site.put("/sitemap.xml", index(["/deep1.xml"]))
    conn = WebConnector([u("/")], web(max_pages=1))
    list(conn.documents())
    assert site.hits["/deep3.xml"] == 0
    assert "nested too deep" in dict(conn.skipped)[u("/deep2.xml")]


def test_a_sitemap_declaring_entities_is_not_parsed(site):
    """Entities could make a sitemap within max_bytes expand a hundredfold inside expat's
    own limits; a sitemap never needs a DTD, so one that has it is not read."""
    sitemap = (
        '<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "' + "x" * 4000 + '">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url('/gomi.html')}</loc></url><url><loc>{'&a;' * 1000}</loc></url>"
        "</urlset>"
    )
    site.put("/sitemap.xml", Page(sitemap.encode(), "application/xml"))
    conn, _ = crawl(site, max_depth=0)
    assert "DTD" in dict(conn.skipped)[site.url("/sitemap.xml")]


def test_decoding_never_produces_more_than_a_step_at_once():
    """The bytes one network chunk may turn into, whatever it holds."""
    from madoguchi.connectors.web import _STEP, _Decoding

    for coding, body in _bombs():
        decoding = _Decoding(coding)
        produced = 0
        for piece in decoding.feed(body):  # the whole bomb as one chunk
            assert len(piece) <= _STEP * 2, (coding, len(piece))
            produced += len(piece)
            if produced > 4 * _STEP:
                break  # what a caller does at its cap: nothing more is produced
        assert produced > 4 * _STEP, coding
