"""Scanned PDFs made from our own text, for the OCR benchmark and tests.

Notices of the fictional town of みどり川町 (written for this project, CC0) are drawn
with the Noto CJK font (Debian's fonts-noto-cjk) onto white pages at 200 dpi, as a
town-hall scanner would deliver them, and the images are wrapped in PDFs with no text
layer. Variants: clean, skewed (rotated a few degrees), noisy (salt-and-pepper and a
slight blur), vertical writing (縦書き), ruined (heavy noise and blur: read with little
confidence), and a page of pure noise (nothing to read).

Each page keeps the text it was drawn from, so the character error rate of the OCR
can be measured against it.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DPI = 200
# A5 portrait at 200 dpi: small pages keep the benchmark and tests quick
PAGE_PX = (1165, 1654)
MARGIN = 110

BOUSAI = (
    "みどり川町防災だより\n"
    "大雨や台風で避難指示が出たときは、ひばり台地区の皆さんは、"
    "指定避難所の「ひばり台ふれあい交流センター」へ避難してください。"
    "交流センターは、ひばり台三丁目の旧保育所の跡地にあり、約百二十人が入れます。\n"
    "避難するときは、飲み水、常備薬、懐中電灯、携帯ラジオを持ってきてください。"
    "ペットと一緒に避難する方は、ケージとえさを用意してください。\n"
    "お問い合わせ 総務課防災係 電話 01234-5-7788"
)
GOMI = (
    "粗大ごみの戸別収集のお知らせ\n"
    "令和七年度から、粗大ごみの戸別収集を毎月第二水曜日に行います。"
    "申し込みは収集日の一週間前までに、環境衛生課へ電話でお願いします。"
    "手数料は一点につき八百円で、町内の商店で販売している粗大ごみ処理券を貼ってください。\n"
    "冷蔵庫、洗濯機、テレビ、エアコンは家電リサイクル法の対象のため収集できません。\n"
    "お問い合わせ 環境衛生課 電話 01234-5-7721"
)
KENSHIN = (
    "特定健康診査の日程\n"
    "四十歳から七十四歳までの国民健康保険の加入者を対象に、特定健康診査を行います。"
    "会場はみどり川町保健センターで、受付時間は午前八時半から十時半までです。"
    "受診券と保険証を忘れずにお持ちください。前日の夜九時以降は食事をとらないでください。\n"
    "お問い合わせ 保健福祉課 電話 01234-5-7730"
)
TATEGAKI = (
    "町長からのごあいさつ\n"
    "みどり川町の皆さま、新しい年を健やかにお迎えのことと存じます。"
    "昨年は川沿いの遊歩道が完成し、春には桜並木に多くの方が訪れました。"
    "今年も町民の皆さまの声を大切にし、暮らしやすい町づくりに取り組んでまいります。"
)


@dataclass(frozen=True)
class ScanPage:
    """One scanned page: how it was made, the text drawn on it, and its PNG."""

    name: str
    variant: str  # clean, skewed, noisy, vertical, noise
    text: str  # what was drawn ("" for the noise page)
    png: bytes


@cache
def japanese_font_file() -> tuple[str, int]:
    """The Noto Sans CJK JP file and its index in the collection (fontconfig's answer)."""
    fc = shutil.which("fc-match")
    if fc:
        out = subprocess.run(
            [fc, "-f", "%{file}\n%{index}", "Noto Sans CJK JP:lang=ja"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split("\n")
        if len(out) >= 2 and out[0].endswith((".ttc", ".otf", ".ttf")) and Path(out[0]).exists():
            return out[0], int(out[1] or 0)
    for path in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ):
        if Path(path).exists():
            return path, 0
    raise FileNotFoundError(
        "no Japanese font: install Debian's fonts-noto-cjk (fc-list :lang=ja lists none)"
    )


def _font(size: int) -> Any:
    from PIL import ImageFont

    path, index = japanese_font_file()
    return ImageFont.truetype(path, size, index=index)


def _wrap(text: str, font: Any, width: int) -> list[str]:
    """Lines that fit ``width`` pixels, broken between any two characters (as Japanese is),
    never before 、。 (kinsoku, simplified)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            if line and font.getlength(line + ch) > width and ch not in "、。」）":
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


def render_horizontal(text: str, size_pt: float = 11.0) -> Any:
    """The text written across a white A5 page at 200 dpi (a PIL image, mode L)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(img)
    size = round(size_pt / 72 * DPI)
    title, _, body = text.partition("\n")
    head = _font(round(size * 1.4))
    font = _font(size)
    y = MARGIN
    draw.text((MARGIN, y), title, font=head, fill=0)
    y += round(size * 1.4 * 2)
    for line in _wrap(body, font, PAGE_PX[0] - 2 * MARGIN):
        draw.text((MARGIN, y), line, font=font, fill=0)
        y += round(size * 1.7)
    return img


def render_vertical(text: str, size_pt: float = 11.0) -> Any:
    """縦書き: columns from right to left, characters top to bottom (the font's vertical
    forms through libraqm when Pillow has it)."""
    from PIL import Image, ImageDraw, features

    img = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(img)
    size = round(size_pt / 72 * DPI)
    font = _font(size)
    height = PAGE_PX[1] - 2 * MARGIN
    per_column = height // size
    columns: list[str] = []
    for para in text.split("\n"):
        columns.extend(para[i : i + per_column] for i in range(0, len(para), per_column))
    x = PAGE_PX[0] - MARGIN - size
    ttb = features.check("raqm")
    for column in columns:
        if ttb:
            draw.text((x, MARGIN), column, font=font, fill=0, direction="ttb", features=["vert"])
        else:
            for i, ch in enumerate(column):
                draw.text((x, MARGIN + i * size), ch, font=font, fill=0)
        x -= round(size * 1.8)
    return img


def skew(img: Any, degrees: float = 2.5) -> Any:
    from PIL import Image

    return img.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)


def add_noise(img: Any, amount: float = 0.03, blur: float = 0.8, seed: int = 20) -> Any:
    """Salt-and-pepper on ``amount`` of the pixels, then a slight Gaussian blur."""
    from PIL import ImageFilter

    rnd = random.Random(seed)
    noisy = img.copy()
    px = noisy.load()
    w, h = noisy.size
    for _ in range(int(w * h * amount)):
        px[rnd.randrange(w), rnd.randrange(h)] = 0 if rnd.random() < 0.5 else 255
    return noisy.filter(ImageFilter.GaussianBlur(blur))


def ruined(img: Any) -> Any:
    """Heavy noise and blur: tesseract reads parts of it, with little confidence."""
    return add_noise(img, amount=0.3, blur=1.8, seed=30)


def pure_noise(seed: int = 7) -> Any:
    """A page of random grey blotches: there is nothing to read on it."""
    from PIL import Image, ImageFilter

    rnd = random.Random(seed)
    small = Image.new("L", (PAGE_PX[0] // 8, PAGE_PX[1] // 8))
    small.putdata([rnd.randrange(256) for _ in range(small.size[0] * small.size[1])])
    return small.resize(PAGE_PX, Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(2))


def _png(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def scan_pages() -> list[ScanPage]:
    """The benchmark's pages: each notice clean, the 防災 notice skewed, noisy and ruined,
    a vertical page, and a page of noise."""
    pages = [
        ScanPage("bousai", "clean", BOUSAI, _png(render_horizontal(BOUSAI))),
        ScanPage("gomi", "clean", GOMI, _png(render_horizontal(GOMI))),
        ScanPage("kenshin", "clean", KENSHIN, _png(render_horizontal(KENSHIN))),
        ScanPage("bousai", "skewed", BOUSAI, _png(skew(render_horizontal(BOUSAI)))),
        ScanPage("bousai", "noisy", BOUSAI, _png(add_noise(render_horizontal(BOUSAI)))),
        ScanPage("tategaki", "vertical", TATEGAKI, _png(render_vertical(TATEGAKI))),
        # a photocopy of a photocopy: readable in parts, read with little confidence
        ScanPage("bousai", "ruined", BOUSAI, _png(ruined(render_horizontal(BOUSAI)))),
        ScanPage("noise", "noise", "", _png(pure_noise())),
    ]
    return pages


def images_pdf(pngs: list[bytes], dpi: int = DPI) -> bytes:
    """A PDF of the images, one per page, at ``dpi``, with no text layer (as a scanner
    writes it). JPEG-compressed like most scanners' output, which keeps it small."""
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("L") for p in pngs]
    buf = io.BytesIO()
    images[0].save(
        buf, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:], quality=80
    )
    return buf.getvalue()


def write_pdfs(folder: Path, pages: list[ScanPage] | None = None) -> list[Path]:
    """One single-page scanned PDF per page into ``folder``: ``<name>-<variant>.pdf``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in pages if pages is not None else scan_pages():
        path = folder / f"{page.name}-{page.variant}.pdf"
        path.write_bytes(images_pdf([page.png]))
        paths.append(path)
    return paths
