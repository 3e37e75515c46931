"""The staff screen's words: the kit's English messages said in plain Japanese.

The kit (connectors, parsers, the synonym list) reports in English, for logs, the CLI
and developers. The staff screen shows each known message in Japanese, saying what
happened and what to do, and keeps the original for the 詳細 (details) fold, where an
operator or the town's IT contact can read it. A message already in Japanese (the
screen's own, or a kit message written for staff) is shown as it is; one not known here
gets a plain Japanese sentence and its original under 詳細, never an English-only line.

``say(message)`` gives ``(japanese, original or None)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# the old formats the folder connector names (connectors.folder.LEGACY), what to do
LEGACY_JA = {
    ".doc": "古い Word 形式（.doc）のファイルは読めません。Word で開き、「名前を付けて保存」で"
    "「Word 文書（.docx）」を選んで保存し直したファイルを取り込んでください。",
    ".xls": "古い Excel 形式（.xls）のファイルは読めません。Excel で開き、「名前を付けて保存」で"
    "「Excel ブック（.xlsx）」か CSV を選んで保存し直したファイルを取り込んでください。",
    ".ppt": "古い PowerPoint 形式（.ppt）のファイルは読めません。PowerPoint で開き、"
    "「名前を付けて保存」で .pptx を選んで保存し直したファイルを取り込んでください。",
    ".jtd": "一太郎（.jtd）のファイルは読めません。一太郎で開き、Word 文書（.docx）か PDF に"
    "保存し直したファイルを取り込んでください。",
}
READABLE = "PDF、Word（.docx）、Excel（.xlsx）、PowerPoint（.pptx）、CSV、HTML、Markdown、テキスト"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, text: str | Callable[[re.Match[str]], str]) -> Rule:
    fn = text if callable(text) else (lambda m, t=text: m.expand(t))
    return re.compile(pattern, re.I | re.S), fn


def _legacy(m: re.Match[str]) -> str:
    ext = m.group(1).lower()
    return LEGACY_JA.get(ext, f"この形式（{ext}）は読めません。{READABLE}に保存し直してください。")


def _synonym_lines(m: re.Match[str]) -> str:
    return "\n".join(_synonym_problem(p) for p in m.group(1).split("; "))


def _synonym_problem(p: str) -> str:
    if found := re.match(r"line (\d+): a group needs two or more different words", p):
        return (
            f"{found.group(1)} 行目: 1 行には意味が同じで書き方の違う語を 2 つ以上、"
            "カンマで区切って書いてください（例: スマホ, スマートフォン）。"
        )
    if found := re.match(r"line (\d+): a word over (\d+) characters \((.*)\)", p):
        return (
            f"{found.group(1)} 行目: {found.group(2)} 文字を超える語があります"
            f"（{found.group(3)}）。カンマが抜けていないか確かめてください。"
        )
    if found := re.match(r"([\d,]+) groups; the limit is ([\d,]+)", p):
        return f"グループが {found.group(1)} 個あります。上限は {found.group(2)} 個です。"
    if p == "…":
        return "（ほかにもあります）"
    return p


# first match wins; each says what happened, then what to do
RULES: list[Rule] = [
    _rule(r"^unsupported: .*?'(\.\w+)'", _legacy),
    _rule(
        r"^unsupported file type '(.*)'$",
        rf"この種類のファイル（\1）は取り込めません。取り込めるのは {READABLE} です。",
    ),
    _rule(r"^not found$", "ファイルが見つかりません。もう一度選び直してください。"),
    _rule(
        r"(no text found|no text in the (document|HTML page)|empty document)$",
        "文字が見つかりませんでした（空のファイルか、画像だけのファイルです）。"
        "文字の入ったファイルにしてから取り込んでください。",
    ),
    _rule(
        r"the PDF is password-protected|encrypted PDF",
        "パスワードのかかった PDF は読めません。パスワードを外して保存し直してください。",
    ),
    _rule(
        r"the PDF has no text layer",
        "文字の入っていない PDF です（紙をスキャンした画像だけ）。文字認識（OCR）を入れるか、"
        "文字の入った PDF を作り直してください。",
    ),
    _rule(
        r"not a readable PDF",
        "PDF として読めませんでした（壊れているか、中身が PDF ではありません）。"
        "元のアプリで PDF に保存し直してください。",
    ),
    _rule(
        r"not a readable (\w+) file",
        r"\1 のファイルとして読めませんでした（壊れているか、形式が違います）。"
        "元のアプリで開いて保存し直してください。",
    ),
    _rule(
        r"encrypted zip member",
        "パスワードのかかったファイルは読めません。パスワードを外して保存し直してください。",
    ),
    _rule(
        r"not a readable CSV",
        "CSV として読めませんでした。Excel で「CSV UTF-8」を選んで保存し直してください。",
    ),
    _rule(r"empty file, no rows", "空のファイルです（行がありません）。"),
    _rule(
        r"no sheet with a header row and data rows",
        "見出しの行とデータの行がある表（シート）が見つかりませんでした。",
    ),
    _rule(
        r"too large: ([\d,]+ bytes)",
        r"ファイルが大きすぎます（\1）。分けて保存するか、設定の上限を担当者に相談してください。",
    ),
    _rule(r"too many (pages|chunks|rows)", "ファイルが大きすぎて（量が多すぎて）取り込めません。"),
    _rule(r"duplicate source id in this run", "同じファイルが 2 回選ばれています。"),
    _rule(r"^cannot read: (.*)$", r"ファイルを読めませんでした（\1）。"),
    _rule(
        r"^unexpected \w+",
        "思いがけないエラーで読めませんでした。詳細をシステムの担当者に伝えてください。",
    ),
    _rule(r"^[^:]*: ((?:line \d+: |[\d,]+ groups; ).*)$", _synonym_lines),
    _rule(r"^the question is empty$", "質問が空です。質問を入力してから押してください。"),
    _rule(
        r"^the question is ([\d,]+) characters long; the limit is ([\d,]+)",
        r"質問が長すぎます（\1 文字）。\2 文字以内にしてください。",
    ),
    _rule(
        r"the service is still starting",
        "まだ起動中です。少し待ってから、もう一度押してください。",
    ),
    _rule(
        r"conversation log is off|log_conversations",
        "会話ログが無効になっています（設定 server.log_conversations）。",
    ),
]


def _written_in_japanese(text: str) -> bool:
    """Japanese sentences (perhaps with English in brackets), not an English sentence that
    names a Japanese file or word."""
    japanese = len(_JAPANESE.findall(text))
    return japanese > 0 and japanese * 4 >= len(re.findall(r"[A-Za-z]", text))


def say(message: str) -> tuple[str, str | None]:
    """``message`` for staff: (Japanese, the original to show under 詳細 or None)."""
    text = message.strip()
    for pattern, fn in RULES:
        m = pattern.search(text)
        if m:
            return fn(m), text
    if _written_in_japanese(text):
        return text, None
    return "処理できませんでした。詳細をシステムの担当者に伝えてください。", text
