"""The crawler against a real HTTP server on localhost: what is indexed, and why not the rest."""

from __future__ import annotations

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
    import gzip

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
