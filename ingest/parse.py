"""Bytes to text sections: PDF (pypdf), HTML (boilerplate removed), Markdown, text,
DOCX/PPTX (as Markdown, via connectors.office).

Text is kept as written (no NFKC) because answers quote it back to residents;
only runs of white space are tidied. Department and phone found in a page's
お問い合わせ block become metadata, so a refusal can point to the right desk.

The per-document limits (``kit.config.IngestSettings``) are checked as early as the
format allows: a PDF's page count before any page is read, its text page by page,
an Office file's zip before it is opened (``connectors.office``), any text before it
is split. A doubtful decoding (``kit.charset``) comes back in ``ParsedDocument.warnings``.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import Any

from madoguchi.connectors.office import DOCX, PPTX, docx_markdown, pptx_markdown
from madoguchi.ingest.ocr import ocr_pdf, page_list
from madoguchi.kit.charset import decode_checked, meta_charset
from madoguchi.kit.config import IngestSettings
from madoguchi.kit.errors import ParseError
from madoguchi.kit.types import SourceDocument


@dataclass(frozen=True)
class Section:
    heading: str
    text: str
    page: int | None = None
    ocr_confidence: float | None = None  # 0-100 when the text was read by OCR


@dataclass(frozen=True)
class OcrPageInfo:
    """A page whose text came from OCR, for the ingest report."""

    page: int
    confidence: float
    lang: str
    seconds: float
    chars: int
    low: bool  # under ingest.ocr_min_confidence: flagged to staff


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    sections: list[Section]
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. a doubtful text encoding
    ocr_pages: list[OcrPageInfo] = field(default_factory=list)
    # scanned pages left unread because OCR was not available: parse again next time
    ocr_pending: bool = False

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.sections)


PHONE = re.compile(
    r"(?:0\d{1,4}|０[０-９]{1,4})[-‐－ー（(）)\s]?[0-9０-９]{1,4}[-‐－ー（(）)\s]?[0-9０-９]{3,4}"
)
_LABELLED_PHONE = re.compile(
    r"(?:電話|ＴＥＬ|TEL|Tel|tel|℡)(?:番号)?\s*[:：]?\s*(" + PHONE.pattern + ")"
)
_FAX = re.compile(r"(?:FAX|Fax|fax|ＦＡＸ|ファクス|ファックス)(?:番号)?\s*[:：]?\s*$")
_CONTACT = re.compile(
    r"(お問い?合わ?せ先?|問い?合わ?せ先|担当課|担当部署)\s*[】\]）)」]?\s*[:：]?\s*(?!ください|下さい)"
)
# where the department's name ends inside a contact block
_DEPT_END = re.compile(
    r"電話|ＴＥＬ|TEL|Tel|tel|℡|FAX|Fax|ＦＡＸ|ファクス|ファックス|メール|E-?mail|〒|住所|所在地|"
    r"受付時間|開庁時間|問合せ時間|\n\s*\n|"
    r"[^\s。、:：]{0,15}?[都道府県市区町村郡][^\s。、]{0,20}?[0-9０-９]+\s*(?:丁目|番地|番|号|－|-|‐)|"
    + PHONE.pattern
)
_DEPT = re.compile(r"([^\s、。:：（()）【】「」\[\]]{1,20}?(?:課|係|室|センター|所|館|局|部))")
_DEPT_WORD = re.compile(r"(?:課|係|室|センター|所|館|局|部|署|会|組合|協会|事務局|窓口)")
_DATE = r"((?:令和|平成)?\s*[0-9０-９元]{1,4}\s*[年./-]\s*[0-9０-９]{1,2}\s*[月./-]\s*[0-9０-９]{1,2}\s*日?)"
_UPDATED = (
    re.compile(r"最終更新(?:日|日時)?\s*[:：]?\s*" + _DATE),
    re.compile(r"更新(?:日|日時)\s*[:：]?\s*" + _DATE),
)


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _phone_in(tail: str) -> str | None:
    labelled = _LABELLED_PHONE.search(tail)
    if labelled:
        return labelled.group(1).strip()
    for m in PHONE.finditer(tail):
        if not _FAX.search(tail[max(0, m.start() - 12) : m.start()]):
            return m.group(0).strip()
    return None


def _department_in(tail: str) -> str | None:
    """The desk's name: what stands between the label and the phone/FAX/address."""
    end = _DEPT_END.search(tail)
    segment = tail[: end.start()] if end else tail[:60]
    lines = [re.sub(r"^[\s#>*・\-]+", "", ln) for ln in segment.split("\n")]
    name = " ".join(ln for ln in lines if ln.strip())
    name = re.sub(r"[。、:：|｜]+", " ", name)
    name = " ".join(name.replace("【", " ").replace("】", " ").split())
    if name and len(name) <= 40 and _DEPT_WORD.search(name):
        return name
    m = _DEPT.search(tail)
    return m.group(1) if m else None


def contact_from_text(text: str) -> dict[str, str]:
    """Department and phone from the last お問い合わせ block, when there is one.

    The last label followed by a phone number wins: "お問い合わせください" in the
    body is not a contact block, and the desk usually sits at the end.
    """
    out: dict[str, str] = {}
    matches = list(_CONTACT.finditer(text))
    if not matches:
        return out
    best = next(
        (m for m in reversed(matches) if PHONE.search(text, m.end(), m.end() + 200)),
        matches[-1],
    )
    tail = text[best.end() : best.end() + 200]
    dept = _department_in(tail)
    if dept:
        out["department"] = dept
    phone = _phone_in(tail)
    if phone:
        out["phone"] = phone
    return out


def updated_from_text(text: str) -> str | None:
    """The page's 最終更新日 (or 更新日), as written."""
    for pattern in _UPDATED:
        m = pattern.search(text)
        if m:
            return " ".join(m.group(1).split())
    return None


def parse(doc: SourceDocument, limits: IngestSettings | None = None) -> ParsedDocument:
    """Sections of ``doc``; a ``ParseError`` when it cannot be read or passes a limit."""
    limits = limits or IngestSettings()
    parsed = _parse(doc, limits)
    chars = sum(len(s.text) for s in parsed.sections)
    if chars > limits.max_chars:
        raise limits.exceeded(doc.source_id, "too much text", chars, "max_chars", "characters")
    return parsed


def _parse(doc: SourceDocument, limits: IngestSettings) -> ParsedDocument:
    kind = doc.kind
    warnings: list[str] = []

    def text_of(body: bytes | str, declared: tuple[str | None, ...] = ()) -> str:
        if isinstance(body, str):
            return body
        decoded = decode_checked(body, doc.source_id, declared)
        if decoded.warning:
            warnings.append(decoded.warning)
        return decoded.text

    if kind in ("faq", "table"):
        body = text_of(doc.body)
        return ParsedDocument(doc.title, [Section(doc.title, body)], dict(doc.meta), warnings)
    if doc.mime == "application/pdf":
        return parse_pdf(doc, limits)
    if doc.mime in (DOCX, PPTX) and isinstance(doc.body, bytes):
        convert = docx_markdown if doc.mime == DOCX else pptx_markdown
        title, markdown = convert(doc.body, doc.source_id, limits)
        if not markdown.strip():
            raise ParseError(f"{doc.source_id}: no text in the document")
        return parse_markdown(markdown, replace(doc, title=title or doc.title))
    declared = (
        (meta_charset(doc.body),) if doc.mime == "text/html" and isinstance(doc.body, bytes) else ()
    )
    text = text_of(doc.body, declared)
    if doc.mime != "text/html" and len(text) > limits.max_chars:
        # before splitting it: text is about as long as what it becomes (HTML is not)
        raise limits.exceeded(doc.source_id, "too much text", len(text), "max_chars", "characters")
    if doc.mime == "text/html":
        parsed = parse_html(text, doc)
    elif doc.mime == "text/markdown":
        parsed = parse_markdown(text, doc)
    else:
        text = _tidy(text)
        if not text:
            raise ParseError(f"{doc.source_id}: empty document")
        parsed = ParsedDocument(doc.title, [Section(doc.title, text)], _page_meta(doc, text))
    return replace(parsed, warnings=warnings)


def _page_meta(doc: SourceDocument, text: str) -> dict[str, Any]:
    meta = dict(doc.meta)
    meta.update({k: v for k, v in contact_from_text(text).items() if k not in meta})
    updated = updated_from_text(text)
    if updated and "updated" not in meta:
        meta["updated"] = updated
    return meta


_JUNK_PDF_TITLE = re.compile(
    r"^(?:untitled|無題|タイトルなし|microsoft (?:word|excel|powerpoint)\b.*|.*\.(?:docx?|xlsx?|pptx?|pdf|jtd|txt))$",
    re.I,
)


def _pdf_title(meta_title: str) -> str:
    """The PDF's own title, unless it is what the authoring tool put there by default."""
    title = " ".join(meta_title.split())
    return "" if _JUNK_PDF_TITLE.match(title) else title


def _quiet_pypdf() -> None:
    """pypdf logs what it repairs or gives up on ("EOF marker not found"); with no logging
    configured Python prints that to stderr, after or amid the ingest report, which already
    says which file was skipped and why. A NullHandler keeps it out of the terminal; an
    application that configures logging still receives the records."""
    log = logging.getLogger("pypdf")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())


def parse_pdf(doc: SourceDocument, limits: IngestSettings | None = None) -> ParsedDocument:
    """Pages as sections. The page count (of the page tree pypdf walked, not the /Count
    the file claims) is checked before any page is read, the text page by page."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    _quiet_pypdf()
    limits = limits or IngestSettings()

    raw = doc.body if isinstance(doc.body, bytes) else doc.body.encode("latin-1", "replace")
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise ParseError(f"{doc.source_id}: the PDF is password-protected")
            except (NotImplementedError, DependencyError) as exc:  # AES needs `cryptography`
                raise ParseError(f"{doc.source_id}: encrypted PDF, cannot decrypt: {exc}") from exc
        n_pages = len(reader.pages)
        if n_pages > limits.max_pdf_pages:
            raise limits.exceeded(doc.source_id, "too many pages", n_pages, "max_pdf_pages")
        pages: list[str] = []
        chars = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > limits.max_chars:
                raise limits.exceeded(
                    doc.source_id, "too much text", chars, "max_chars", "characters", more=True
                )
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except ParseError:
        raise
    except DependencyError as exc:  # PdfReader itself tries the empty password; AES needs it
        raise ParseError(f"{doc.source_id}: encrypted PDF, cannot decrypt: {exc}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise ParseError(
            f"{doc.source_id}: not a readable PDF ({type(exc).__name__}: {exc})"
        ) from exc
    except Exception as exc:  # pypdf raises a wide variety on broken files
        raise ParseError(f"{doc.source_id}: not a readable PDF ({type(exc).__name__})") from exc
    sections, ocr_pages, warnings, pending = _with_ocr(doc.source_id, raw, pages, limits)
    first_line = sections[0].text.split("\n", 1)[0].strip()
    title = _pdf_title(str(meta_title)) or first_line[:60] or doc.title
    sections = [
        replace(s, heading=title if s.page == 1 else f"{title} p.{s.page}") for s in sections
    ]
    meta = _page_meta(doc, "\n".join(s.text for s in sections))
    return ParsedDocument(title, sections, meta, warnings, ocr_pages, pending)


def _with_ocr(
    source_id: str, raw: bytes, pages: list[str], limits: IngestSettings
) -> tuple[list[Section], list[OcrPageInfo], list[str], bool]:
    """Sections of the text layer, and of OCR where a page has none (``ingest.ocr``).

    A PDF with no text at all and no OCR is a ``ParseError`` (reported as skipped); a
    page OCR read with little confidence, or could not read, is a warning naming it."""
    texts = [_tidy(t) for t in pages]
    scanned = [i for i, t in enumerate(texts) if not t]
    ocr = ocr_pdf(raw, scanned, limits) if scanned else None
    read = {p.page: p for p in ocr.pages} if ocr else {}
    sections: list[Section] = []
    infos: list[OcrPageInfo] = []
    warnings = list(ocr.warnings) if ocr else []
    for i, text in enumerate(texts):
        if text:
            sections.append(Section("", text, i + 1))
            continue
        p = read.get(i + 1)
        if p is None or not p.lang:  # not read, or a blank page
            continue
        ocr_text = _tidy(p.text)
        low = p.confidence < limits.ocr_min_confidence
        infos.append(OcrPageInfo(p.page, p.confidence, p.lang, p.seconds, len(ocr_text), low))
        if not ocr_text:
            warnings.append(
                f"p. {p.page}: スキャンされたページから文字を読み取れませんでした"
                " (OCR read no text on this scanned page; check it)"
            )
            continue
        if low:
            warnings.append(
                f"p. {p.page}: 文字認識 (OCR) の信頼度 {p.confidence:.0f}% が基準の"
                f" {limits.ocr_min_confidence:g}% 未満です。このページの文章を確認してください"
                " (low OCR confidence, setting MADOGUCHI_INGEST__OCR_MIN_CONFIDENCE)"
            )
        sections.append(Section("", ocr_text, i + 1, round(p.confidence, 1)))
    if not sections:
        if ocr is not None and ocr.unavailable:
            why = ocr.unavailable
        elif ocr is not None and ocr.warnings:
            why = "OCR could not read it: " + "; ".join(ocr.warnings)
        else:
            why = "OCR read no text on its pages"
        raise ParseError(f"{source_id}: the PDF has no text layer (scanned?); {why}")
    pending = bool(ocr is not None and ocr.unavailable)
    if ocr is not None and ocr.unavailable:
        warnings.append(
            f"{page_list(scanned)}: 文字のないページ (スキャン?) は索引に入っていません"
            f" (no text layer, not indexed: {ocr.unavailable})"
        )
    return sections, infos, warnings, pending


# ids/classes of the page furniture of div-based municipal CMS templates (no <nav>/<footer>)
_BOILER_ID = re.compile(
    r"^(?:header|site-?header|g-?navi?|global-?nav(?:i|igation)?|topic-?path|pankuzu|"
    r"breadcrumbs?|side(?:bar|-?navi|-?menu|-?column)?|l(?:ocal)?-?navi|footer\w*|"
    r"page-?top|utility|sns|share|banners?|skip-?link|font-?size|accessibility)$",
    re.I,
)
# ids of the main content in those templates
_MAIN_ID = re.compile(
    r"^(?:main|contents?|main-?contents?|contents?-?body|main-?body|honbun|tmp_contents)$",
    re.I,
)


class _HTMLText(HTMLParser):
    """Collects headings and text, dropping boilerplate elements and their subtrees."""

    SKIP = frozenset(
        [
            "script",
            "style",
            "nav",
            "header",
            "footer",
            "aside",
            "form",
            "noscript",
            "template",
            "svg",
            "button",
            "select",
        ]
    )
    SKIP_ROLES = frozenset(["navigation", "banner", "contentinfo", "search"])
    BLOCK = frozenset(
        [
            "p",
            "div",
            "li",
            "tr",
            "br",
            "section",
            "article",
            "main",
            "table",
            "ul",
            "ol",
            "dd",
            "dt",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
        ]
    )
    VOID = frozenset(
        [
            "br",
            "img",
            "meta",
            "link",
            "input",
            "hr",
            "area",
            "base",
            "col",
            "embed",
            "source",
            "wbr",
        ]
    )
    CONTENT = frozenset(["main", "article"])

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.parts: list[tuple[str, str]] = []  # ("h1".."h4", heading) or ("t", text)
        self.main_parts: list[tuple[str, str]] = []
        self.has_main = False
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, starts a skip, is main content)
        self._skip = 0
        self._main = 0
        self._in_title = False
        self._heading = ""
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
            return
        if tag in self.BLOCK:
            self._flush()
        if tag in self.VOID:
            return
        a = dict(attrs)
        names = [a.get("id") or "", *(a.get("class") or "").split()]
        skip = (
            tag in self.SKIP
            or a.get("role") in self.SKIP_ROLES
            or "breadcrumb" in (a.get("class") or "")
            or (tag in ("div", "ul", "section", "p") and any(_BOILER_ID.match(n) for n in names))
        )
        main = (
            tag in self.CONTENT
            or a.get("role") == "main"
            or (tag in ("div", "section") and _MAIN_ID.match(a.get("id") or "") is not None)
        )
        self._stack.append((tag, skip, main))
        self._skip += skip
        if main:
            self._main += 1
            self.has_main = True
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if tag in self.BLOCK:
            self._flush()
        if not any(t == tag for t, _, _ in self._stack):
            return  # a stray end tag
        while self._stack:
            t, skip, main = self._stack.pop()
            self._skip -= skip
            self._main -= main
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf = []
        heading, self._heading = self._heading, ""
        if not text:
            return
        item = (heading or "t", text)
        self.parts.append(item)
        if self._main:
            self.main_parts.append(item)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str, doc: SourceDocument) -> ParsedDocument:
    p = _HTMLText()
    try:
        p.feed(text)
        p.close()
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise ParseError(f"{doc.source_id}: cannot parse HTML: {exc}") from exc
    parts = p.main_parts if p.has_main and p.main_parts else p.parts
    title = _tidy(p.title) or next((t for k, t in parts if k != "t"), doc.title)
    sections = _sections(parts, title)
    if not sections:
        raise ParseError(f"{doc.source_id}: no text in the HTML page")
    # the contact block often sits in the footer: read contact and date from the raw page text
    whole = _tidy(re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", "\n", text, flags=re.S | re.I))
    return ParsedDocument(title, sections, _page_meta(doc, whole))


_MD_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _md_inline(line: str) -> str:
    clean = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)  # images
    clean = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", clean)  # links -> their text
    clean = re.sub(r"<[^>\n]+>", "", clean)  # inline HTML tags
    return clean.replace("**", "").replace("__", "").replace("`", "")


def parse_markdown(text: str, doc: SourceDocument) -> ParsedDocument:
    text = _MD_FRONT_MATTER.sub("", text.replace("\r\n", "\n").removeprefix("\ufeff"))
    parts: list[tuple[str, str]] = []
    in_code = False
    for line in text.split("\n"):
        if line.strip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        m = None if in_code else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            parts.append((f"h{len(m.group(1))}", _md_inline(m.group(2)).strip()))
        elif not in_code and (_MD_RULE.match(line) or _MD_TABLE_RULE.match(line)):
            continue
        else:
            clean = _md_inline(line) if not in_code else line
            clean = re.sub(r"^\s*[-*+]\s+", "・", clean)
            parts.append(("t", clean))
    title = next((t for k, t in parts if k != "t" and t), doc.title)
    sections = _sections(parts, title)
    if not sections:
        raise ParseError(f"{doc.source_id}: empty document")
    return ParsedDocument(title, sections, _page_meta(doc, text))


def _sections(parts: list[tuple[str, str]], title: str) -> list[Section]:
    """Sections at headings; each heading is its path, e.g. "防災ガイド > 避難所 > 中央公民館".

    An h1 the title already contains ("ごみの出し方" in
    "ごみの出し方｜みどり川町") stands for the title itself; paths keep the
    title and the two innermost levels so chunk prefixes stay short.
    """
    sections: list[Section] = []
    path: list[tuple[int, str]] = []  # (level, heading) below the title
    buf: list[str] = []

    def heading() -> str:
        inner = [h for _, h in path][-2:]
        return " > ".join([title, *inner]) if title else " > ".join(inner)

    def flush() -> None:
        body = _tidy("\n".join(buf))
        if body:
            sections.append(Section(heading(), body))

    for kind, text in parts:
        if kind == "t":
            buf.append(text)
            continue
        flush()
        buf = []
        level, h = int(kind[1:]), " ".join(text.split())
        if not h:
            continue
        if h == title or (level == 1 and h in title):
            path = []
            continue
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, h))
    flush()
    return sections
