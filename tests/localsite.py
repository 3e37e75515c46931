"""A small municipal web site served on 127.0.0.1 for crawler and sync tests.

Pages live in a mutable dict, so a test can change, add or delete a page
between two syncs. Responses carry an ETag (the body's hash) and honour
If-None-Match with 304, as a real CMS would. ``hits`` counts requests per path.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Page:
    body: bytes
    ctype: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # seconds between two bytes of the whole response, status line and headers included
    # (a server that holds a connection open by sending very slowly)
    drip: float = 0.0


def html(title: str, body: str, *, links: list[str] = (), charset: str = "utf-8") -> str:  # type: ignore[assignment]
    nav = "".join(f'<li><a href="{u}">{u}</a></li>' for u in links)
    return (
        f'<!DOCTYPE html><html lang="ja"><head><meta charset="{charset}">'
        f"<title>{title}｜みどり川町</title></head><body>"
        '<header><nav><ul><li><a href="/">トップ</a></li><li>くらし</li><li>子育て</li></ul></nav></header>'
        f'<div class="breadcrumb">ホーム &gt; {title}</div>'
        f"<main><h1>{title}</h1>{body}<ul>{nav}</ul></main>"
        "<footer>みどり川町役場 〒000-0000 みどり川町1番地 Copyright みどり川町</footer>"
        "</body></html>"
    )


class LocalSite:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: Counter[str] = Counter()
        self.host_headers: list[str] = []  # the Host header of each request, in order
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def put(self, path: str, page: Page | str) -> None:
        self.pages[path] = Page(page.encode("utf-8")) if isinstance(page, str) else page

    def start(self) -> LocalSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                path = self.path.split("#", 1)[0]
                site.hits[path] += 1
                site.host_headers.append(self.headers.get("Host", ""))
                page = site.pages.get(path)
                if page is None:
                    body = b"<html><body>404 Not Found</body></html>"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if page.delay:
                    time.sleep(page.delay)
                etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
                if page.status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                if page.drip:
                    self._drip(page, etag)
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", page.ctype)
                if page.status == 200:
                    self.send_header("ETag", etag)
                for k, v in page.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(page.body)

            def _drip(self, page: Page, etag: str) -> None:
                head = [f"HTTP/1.1 {page.status} OK", f"Content-Type: {page.ctype}"]
                head += [f"ETag: {etag}", f"Content-Length: {len(page.body)}"]
                head += [f"{k}: {v}" for k, v in page.headers.items()]
                raw = ("\r\n".join(head) + "\r\n\r\n").encode() + page.body
                # bounded by the response's length; stops when the client hangs up
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for i in range(len(raw)):
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                        time.sleep(page.drip)
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def build_town_site(site: LocalSite) -> None:
    """The test town: every case the crawler must handle, one page each."""
    p = site.url
    site.put(
        "/robots.txt",
        Page(
            f"User-agent: *\nDisallow: /private/\nSitemap: {p('/sitemap.xml')}\n".encode(),
            "text/plain",
        ),
    )
    site.put(
        "/sitemap.xml",
        Page(
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{p('/')}</loc></url>"
                f"<url><loc>{p('/sitemap-only.html')}</loc></url>"
                "</urlset>"
            ).encode(),
            "application/xml",
        ),
    )
    site.put(
        "/",
        html(
            "トップページ",
            "<p>みどり川町の公式ホームページです。</p>",
            links=[
                "/gomi.html",
                "/sjis.html",
                "/euc.html",
                "/loop-a.html",
                "/private/secret.html",
                "/missing.html",
                "/slow.html",
                "/huge.html",
                "/guide.pdf",
                "/away",
                "/moved",
                "mailto:info@example.jp",
                "file:///etc/passwd",
                "http://user:pw@127.0.0.1/x",
                "https://example.com/",
            ],
        ),
    )
    site.put(
        "/gomi.html",
        html(
            "ごみの出し方",
            "<p>粗大ごみは電話で予約してください。処理券は300円です。</p>"
            "<p>最終更新日：2024年4月1日</p>"
            "<div>お問い合わせ 環境衛生課 電話 0120-000-111</div>",
        ),
    )
    sjis = html(
        "住民票の写し",
        "<p>住民票の写しは住民課の窓口で交付します。手数料は1通300円です。</p>",
        charset="Shift_JIS",
    )
    # the server claims UTF-8 for everything: the header lies, the bytes are Shift_JIS
    site.put("/sjis.html", Page(sjis.encode("cp932"), "text/html; charset=UTF-8"))
    euc = html(
        "犬の登録",
        "<p>犬を飼い始めたら30日以内に登録してください。狂犬病予防注射も必要です。</p>",
        charset="EUC-JP",
    )
    site.put("/euc.html", Page(euc.encode("euc_jp"), "text/html"))
    site.put("/loop-a.html", html("ループA", "<p>姉妹都市の紹介です。</p>", links=["/loop-b.html"]))
    site.put(
        "/loop-b.html",
        html("ループB", "<p>友好都市の紹介です。</p>", links=["/loop-a.html", "/"]),
    )
    site.put("/private/secret.html", html("内部資料", "<p>公開しない資料です。</p>"))
    site.put(
        "/sitemap-only.html",
        html("サイトマップだけのページ", "<p>図書館の開館時間は9時から17時です。</p>"),
    )
    site.put("/slow.html", Page(html("遅いページ", "<p>遅い</p>").encode(), delay=3.0))
    site.put("/huge.html", html("巨大なページ", "<p>" + "あ" * 200_000 + "</p>"))
    site.put(
        "/guide.pdf",
        Page((REPO / "demo" / "pdf" / "kosodate_guide.pdf").read_bytes(), "application/pdf"),
    )
    site.put("/away", Page(b"", status=302, headers={"Location": p("/gomi.html", "localhost")}))
    site.put("/moved", Page(b"", status=301, headers={"Location": "/moved-target.html"}))
    site.put(
        "/moved-target.html", html("移転先のページ", "<p>移転しました。新しい窓口は2階です。</p>")
    )
