"""A passage of a PDF is cited with its page: ``page`` in the answer JSON (API and
``ask --json``), "p. N" after the title in ``madoguchi ask`` and in the widget's sources."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings
from madoguchi.kit.types import Citation
from madoguchi.ui.api import create_app
from madoguchi.ui.cli import app as cli_app

PAGES = [
    "みどり川町 くらしのガイド\n転入届は住民課の窓口で受け付けます。",
    "犬の登録について\n犬を飼い始めたら三十日以内に環境衛生課で登録してください。",
    "図書館の利用案内\n町立図書館の貸出冊数は一人十冊までです。",
]
DOG_Q = "犬の登録はいつまでに必要ですか"


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with a text layer, one page per text (reportlab, a Japanese CID font)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for text in pages:
        c.setFont("HeiseiKakuGo-W5", 12)
        for i, line in enumerate(text.split("\n")):
            c.drawString(50, 800 - 20 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def pdf_settings(tmp: Path) -> Settings:
    return Settings(
        data_dir=tmp / "data",
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
        server={"rate_limit_per_minute": 0, "daily_cap": 0},
    ).with_overrides(**{"answer.answer_threshold": 0.0})


@pytest.fixture
def guide(tmp_path: Path) -> Path:
    path = tmp_path / "guide.pdf"
    path.write_bytes(text_pdf(PAGES))
    return path


def test_label_names_the_page_only_for_a_pdf_passage():
    assert Citation("a.pdf", "ガイド", None, page=3).label == "ガイド p. 3"
    assert Citation("faq.csv#1", "質問", None).label == "質問"
    assert "page" not in Citation("faq.csv#1", "質問", None).to_json()
    assert Citation("a.pdf", "ガイド", None, page=3).to_json()["page"] == 3


def test_api_cites_the_page_of_the_pdf_passage(tmp_path, guide):
    settings = pdf_settings(tmp_path)
    svc = build_services(settings)
    faq = tmp_path / "faq.csv"
    faq.write_text("ID,質問,回答\n1,粗大ごみの出し方は？,電話で予約してください。\n", "utf-8")
    assert svc.ingest([guide, faq]).added
    with TestClient(create_app(settings, svc, admin=False)) as client:
        data = client.post("/api/v1/ask", json={"question": DOG_Q}).json()
        assert not data["refused"], data
        top = data["citations"][0]
        assert top["source"].endswith("guide.pdf")
        assert top["page"] == 2
        # a FAQ entry has no page: its citation keeps its three keys
        other = client.post("/api/v1/ask", json={"question": "粗大ごみの出し方は？"}).json()
        faq_cite = next(c for c in other["citations"] if c["source"].endswith("faq.csv#1"))
        assert set(faq_cite) == {"source", "title", "url"}
        # the OpenAPI schema documents the field
        schema = client.get("/openapi.json").json()["components"]["schemas"]["CitationOut"]
        assert "page" in schema["properties"]


def test_cli_ask_shows_p_n_and_json_carries_page(tmp_path, guide, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_ANSWER__ANSWER_THRESHOLD", "0")
    runner = CliRunner()
    r = runner.invoke(cli_app, ["ingest", "guide.pdf"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["ask", DOG_Q, "--json"])
    assert r.exit_code == 0, r.output
    cites = json.loads(r.output)["citations"]
    assert cites[0] == {"source": "guide.pdf", "title": cites[0]["title"], "url": None, "page": 2}
    r = runner.invoke(cli_app, ["ask", DOG_Q])
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.output.splitlines() if ln.startswith("[1]"))
    assert " p. 2 — guide.pdf" in line


def test_widget_shows_the_page_after_the_source(
    browser, tmp_path, guide, page_errors, screenshot_dir
):
    from test_widget_browser import LoopbackServer, last_answer, open_page, serve_host_pages

    settings = pdf_settings(tmp_path)
    svc = build_services(settings)
    assert svc.ingest([guide]).added
    api = create_app(settings, svc, admin=False)
    server = LoopbackServer(api)
    serve_host_pages(api, server)
    with server:
        context, page = open_page(browser, server.page("plain.html"), page_errors)
        try:
            page.locator("madoguchi-widget .launch").click()
            box = page.locator("madoguchi-widget .compose textarea")
            box.fill(DOG_Q)
            box.press("Enter")
            bubble = last_answer(page)
            item = bubble.locator(".src li").first
            assert item.locator(".page").text_content() == " p. 2"
            assert item.inner_text().endswith("p. 2")
            page.screenshot(path=str(screenshot_dir / "widget-pdf-page-citation.png"))
            assert page_errors == []
        finally:
            context.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []
