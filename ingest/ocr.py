"""OCR of scanned PDF pages, offline: pypdfium2 renders a page, Debian's tesseract reads it.

A page without a text layer is rendered in grey at ``ingest.ocr_dpi`` (or at the scan's
own resolution when that is lower: a scan is never enlarged) and given to the
``tesseract`` command (one process per page and language, under ``ingest.ocr_timeout``),
which answers in TSV: every word with its confidence. The page's confidence is the mean
of its words' confidences weighted by their length in characters (0-100). The languages
of ``ingest.ocr_languages`` are tried in order, the next only while the best reading so
far stays under ``ingest.ocr_min_confidence``: ``jpn`` reads horizontal pages, and a
縦書き page, which ``jpn`` turns into nonsense of low confidence, goes to ``jpn_vert``.

Tesseract separates Japanese characters with spaces ("避難 所 の"); they are removed
between two Japanese characters, and kept where Latin letters or digits meet (a phone
number, "TEL 01234-5-7788"). The lines of a paragraph are joined (a Japanese sentence
wraps anywhere, and a line break inside a word would split it for search).

Without tesseract (or its ``jpn`` data, or with ``ingest.ocr`` off) nothing is read, and
``unavailable`` says why, so the caller can report the scan as skipped as before.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from madoguchi.kit.config import IngestSettings

# a rendered page larger than this is rendered at a lower resolution (a PDF can claim any
# page size; A3 at 300 dpi is 17 million pixels)
MAX_PIXELS = 40_000_000
# a rendered page whose darkest pixel is lighter than this holds nothing to read
BLANK_LEVEL = 200

_JA = (
    "\u3000-\u303f"  # CJK punctuation 、。「」
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff"  # katakana
    "\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kanji
    "\uff00-\uffef"  # full-width forms
)
_SPACE_IN_JAPANESE = re.compile(f"(?<=[{_JA}])[ \t]+(?=[{_JA}])")


@dataclass(frozen=True)
class OcrPage:
    page: int  # 1-based
    text: str
    confidence: float  # 0-100
    lang: str  # the language whose reading was kept
    seconds: float  # rendering and every tesseract run of the page


@dataclass
class OcrResult:
    pages: list[OcrPage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unavailable: str | None = None  # why nothing was read


def clean_japanese(text: str) -> str:
    """Tesseract's spaces between Japanese characters removed; other spaces folded."""
    text = re.sub(r"[ \t]+", " ", text)
    return _SPACE_IN_JAPANESE.sub("", text).strip()


def _join(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    sep = "" if re.match(f"[{_JA}]", a[-1]) and re.match(f"[{_JA}]", b[0]) else " "
    return a + sep + b


def read_tsv(tsv: str) -> tuple[str, float, int]:
    """(text, confidence 0-100, characters) of tesseract's TSV output.

    Words (level 5) with a confidence are joined per line, lines per paragraph,
    paragraphs by new lines."""
    paragraphs: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    weighted = 0.0
    chars = 0
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        if row.get("level") != "5":
            continue
        word = (row.get("text") or "").strip()
        try:
            conf = float(row.get("conf") or -1)
        except ValueError:
            continue
        if not word or conf < 0:
            continue
        key = (row.get("page_num", ""), row.get("block_num", ""), row.get("par_num", ""))
        paragraphs.setdefault(key, {}).setdefault(row.get("line_num", ""), []).append(word)
        n = len(word)
        weighted += conf * n
        chars += n
    out = []
    for lines in paragraphs.values():
        text = ""
        for words in lines.values():
            text = _join(text, clean_japanese(" ".join(words)))
        out.append(text)
    return "\n".join(t for t in out if t), (weighted / chars if chars else 0.0), chars


@lru_cache(maxsize=8)
def _languages(command: str) -> frozenset[str] | None:
    """The languages the tesseract at ``command`` has data for; None without tesseract."""
    exe = shutil.which(command)
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (out.stdout + "\n" + out.stderr).splitlines()
    return frozenset(ln.strip() for ln in lines if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ln))


def unavailable(settings: IngestSettings) -> str | None:
    """Why OCR cannot run with these settings, or None when it can."""
    if not settings.ocr:
        return "OCR is off (setting MADOGUCHI_INGEST__OCR)"
    langs = _languages(settings.ocr_command)
    if langs is None:
        return (
            f"OCR is not available: {settings.ocr_command!r} is not installed"
            " (Debian: apt-get install tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert)"
        )
    missing = [lang for lang in settings.ocr_languages if lang not in langs]
    if len(missing) == len(settings.ocr_languages):
        return (
            f"OCR is not available: tesseract has no data for {', '.join(missing)}"
            " (Debian: apt-get install tesseract-ocr-jpn tesseract-ocr-jpn-vert)"
        )
    return None


def scan_dpi(page: Any) -> float | None:
    """The resolution of the scan a page is made of: the pixels per inch of its largest
    image, when that image covers most of the page (a scanner's PDF); None otherwise."""
    import pypdfium2 as pdfium

    width, height = page.get_size()
    best: tuple[float, float] | None = None  # (area in points², dpi)
    try:
        for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
            left, bottom, right, top = obj.get_bounds()
            w, h = right - left, top - bottom
            px_w, px_h = obj.get_px_size()
            if w <= 0 or h <= 0 or px_w <= 0 or px_h <= 0:
                continue
            dpi = min(px_w / (w / 72), px_h / (h / 72))
            if best is None or w * h > best[0]:
                best = (w * h, dpi)
    except (pdfium.PdfiumError, ValueError, OSError):
        return None
    if best is None or best[0] < 0.5 * width * height:
        return None
    return best[1]


def render_dpi(page: Any, dpi: int) -> int:
    """The resolution to render a page at: ``ingest.ocr_dpi``, or the scan's own when it is
    lower. A 200 dpi scan rendered at 300 dpi is only interpolated, and tesseract reads the
    interpolated noise worse (eval/bench_ocr.py: the noisy page's CER went from 0.5% to
    22%), so a scan is never enlarged."""
    native = scan_dpi(page)
    if native is None or native >= dpi:
        return dpi
    return max(72, round(native))


def render(pdf: Any, index: int, dpi: int) -> tuple[Any, int]:
    """Page ``index`` (0-based) of an open pypdfium2 document as a grey PIL image, and the
    resolution it was rendered at (``render_dpi``)."""
    page = pdf[index]
    try:
        width, height = page.get_size()  # points
        dpi = render_dpi(page, dpi)
        scale = dpi / 72
        if width * height * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (width * height)) ** 0.5
            dpi = max(1, round(scale * 72))
        return page.render(scale=scale, grayscale=True).to_pil().convert("L"), dpi
    finally:
        page.close()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # one thread per tesseract: its OpenMP threads only contend on a busy server
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


def tesseract(png: bytes, lang: str, dpi: int, settings: IngestSettings) -> tuple[str, float]:
    """(text, confidence) of one image read in ``lang``; ``OcrFailed`` on a timeout or error."""
    exe = shutil.which(settings.ocr_command) or settings.ocr_command
    cmd = [exe, "stdin", "stdout", "-l", lang, "--psm", "3", "--dpi", str(dpi), "tsv"]
    try:
        done = subprocess.run(
            cmd,
            input=png,
            capture_output=True,
            timeout=settings.ocr_timeout,
            check=False,
            env=_env(),
        )
    except subprocess.TimeoutExpired:
        raise OcrFailed(
            f"tesseract took longer than {settings.ocr_timeout:g} s"
            " (setting MADOGUCHI_INGEST__OCR_TIMEOUT)"
        ) from None
    except OSError as exc:
        raise OcrFailed(f"tesseract could not run: {exc}") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrFailed(f"tesseract failed ({done.returncode}): {err[-1] if err else ''}")
    text, conf, _ = read_tsv(done.stdout.decode("utf-8", "replace"))
    return text, conf


class OcrFailed(Exception):
    """One page could not be read (timeout, tesseract error)."""


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def read_page(
    image: Any, page: int, settings: IngestSettings, langs: Sequence[str], dpi: int | None = None
) -> OcrPage:
    """The best reading of one rendered page over ``langs`` (see the module's docstring);
    ``dpi``: the resolution it was rendered at (default ``ingest.ocr_dpi``)."""
    t0 = time.perf_counter()
    if image.getextrema()[0] > BLANK_LEVEL:
        return OcrPage(page, "", 0.0, "", time.perf_counter() - t0)
    png = _png(image)
    best: tuple[str, float, str] | None = None
    for lang in langs:
        text, conf = tesseract(png, lang, dpi or settings.ocr_dpi, settings)
        if best is None or conf > best[1]:
            best = (text, conf, lang)
        if best[1] >= settings.ocr_min_confidence:
            break
    assert best is not None
    return OcrPage(page, best[0], best[1], best[2], time.perf_counter() - t0)


def ocr_pdf(raw: bytes, pages: Sequence[int], settings: IngestSettings) -> OcrResult:
    """Read ``pages`` (0-based indexes) of the PDF ``raw``: at most ``ocr_max_pages``, each
    under the timeout. Pages that fail are named in ``warnings``; the rest are kept."""
    result = OcrResult()
    reason = unavailable(settings)
    if reason:
        result.unavailable = reason
        return result
    known = _languages(settings.ocr_command) or frozenset()
    langs = [lang for lang in settings.ocr_languages if lang in known]
    todo = list(pages)[: settings.ocr_max_pages]
    rest = list(pages)[settings.ocr_max_pages :]
    if rest:
        result.warnings.append(
            f"{page_list(rest)}: 文字認識していません (not read by OCR: more than {settings.ocr_max_pages}"
            " scanned pages, setting MADOGUCHI_INGEST__OCR_MAX_PAGES)"
        )
    if not todo:
        return result
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        result.warnings.append(
            f"{page_list(todo)}: 文字認識できませんでした (cannot be rendered for OCR: {exc})"
        )
        return result
    try:
        for index in todo:
            t0 = time.perf_counter()
            try:
                image, dpi = render(pdf, index, settings.ocr_dpi)
            except (pdfium.PdfiumError, ValueError, OSError) as exc:
                result.warnings.append(
                    f"p. {index + 1}: 文字認識できませんでした (cannot be rendered for OCR: {exc})"
                )
                continue
            try:
                read = read_page(image, index + 1, settings, langs, dpi)
            except OcrFailed as exc:
                result.warnings.append(
                    f"p. {index + 1}: 文字認識できませんでした (not read by OCR: {exc})"
                )
                continue
            seconds = time.perf_counter() - t0
            result.pages.append(OcrPage(read.page, read.text, read.confidence, read.lang, seconds))
    finally:
        pdf.close()
    return result


def page_list(indexes: Sequence[int]) -> str:
    """0-based page indexes as staff count them: "p. 3", "p. 3-5, 9"."""
    runs: list[list[int]] = []
    for i in sorted(indexes):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = [f"{r[0] + 1}" if len(r) == 1 else f"{r[0] + 1}-{r[-1] + 1}" for r in runs]
    return "p. " + ", ".join(parts)
