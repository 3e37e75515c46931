"""FAQ open-data CSVs (自治体標準オープンデータセット「よくある質問」) and other tables.

Column names are matched flexibly, since towns rename them. A CSV with a
question and an answer column yields one ``faq`` document per row; any other
CSV (e.g. a 5374 garbage-sorting ``target.csv``) yields one ``table`` document
per record with its cells as readable "列名: 値" lines.

Source ids follow DESIGN.md §4: ``<file id>#<ID column value>``, or
``#<1-based data record number>`` when there is no ID column (a quoted
multi-line record counts once).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from kit.errors import ParseError
from kit.types import SourceDocument

# canonical field -> accepted header names (compared after NFKC, lower case, no spaces)
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "no", "no.", "番号", "faq_id", "faqid", "質問id", "通し番号", "識別子"),
    "question": (
        "質問",
        "問い",
        "問",
        "q",
        "question",
        "質問内容",
        "よくある質問",
        "タイトル",
        "title",
    ),
    "answer": ("回答", "答え", "答", "a", "answer", "回答内容", "説明"),
    "department": (
        "所管部署",
        "担当課",
        "担当部署",
        "部署",
        "問い合わせ先",
        "問合せ先",
        "担当",
        "所管課",
        "department",
    ),
    "phone": ("電話番号", "電話", "tel", "phone", "連絡先電話番号"),
    "url": ("url", "リンク", "参考url", "関連url", "link"),
    "updated": ("更新日", "最終更新日", "更新日時", "updated"),
    "category": ("カテゴリ", "カテゴリー", "分類", "category", "大分類"),
}


def _norm(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace(" ", "").replace("　", "")


def map_columns(header: list[str]) -> dict[str, int]:
    """Canonical field name -> column index, for the columns recognised."""
    found: dict[str, int] = {}
    normed = [_norm(h) for h in header]
    for field, names in COLUMNS.items():
        for i, h in enumerate(normed):
            if h in names and field not in found and i not in found.values():
                found[field] = i
                break
    return found


def decode_bytes(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), then CP932, then charset-normalizer's best guess."""
    if b"\x00" in raw[:8192]:
        raise ParseError(f"{name}: binary data, not a text/CSV file")
    for enc in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ParseError(f"{name}: cannot determine the text encoding")
    return str(best)


def read_table(path: Path, name: str) -> tuple[list[str], list[list[str]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ParseError(f"{name}: empty file, no rows")
    text = decode_bytes(raw, name)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ParseError(f"{name}: not a readable CSV: {exc}") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ParseError(f"{name}: no rows")
    header = [h.strip() for h in rows[0]]
    if len(rows) < 2:
        raise ParseError(f"{name}: header only, no rows")
    if len(header) < 2 and len(rows[1]) < 2:
        raise ParseError(f"{name}: not a CSV table (one column only)")
    return header, rows[1:]


def is_faq(header: list[str]) -> bool:
    cols = map_columns(header)
    return "question" in cols and "answer" in cols


class FaqCsvConnector:
    """One document per row of a FAQ CSV, or per record of any other CSV table."""

    def __init__(self, path: Path | str, source_id: str, uri: str | None = None) -> None:
        self.path = Path(path)
        self.source_id = source_id
        self.uri = uri or source_id
        self.skipped: list[tuple[str, str]] = []

    def documents(self) -> Iterator[SourceDocument]:
        header, rows = read_table(self.path, self.source_id)
        cols = map_columns(header)
        faq = "question" in cols and "answer" in cols
        seen: set[str] = set()
        for n, row in enumerate(rows, start=1):
            row = row + [""] * (len(header) - len(row))
            fields = {f: row[i].strip() for f, i in cols.items()}
            key = fields.get("id") or str(n)
            sid = f"{self.source_id}#{key}"
            if sid in seen:
                self.skipped.append((sid, "duplicate ID in the file"))
                continue
            seen.add(sid)
            doc = self._faq_doc(sid, fields) if faq else self._table_doc(sid, header, row)
            if doc is None:
                self.skipped.append((sid, "empty row"))
                continue
            yield doc

    def _faq_doc(self, sid: str, fields: dict[str, str]) -> SourceDocument | None:
        q, a = fields.get("question", ""), fields.get("answer", "")
        if not q and not a:
            return None
        meta = {"kind": "faq", "question": q, "answer": a}
        for f in ("department", "phone", "url", "updated", "category"):
            if fields.get(f):
                meta[f] = fields[f]
        return SourceDocument(
            source_id=sid,
            uri=meta.get("url") or self.uri,
            title=q or a[:40],
            body=f"{q}\n{a}",
            mime="text/csv",
            meta=meta,
        )

    def _table_doc(self, sid: str, header: list[str], row: list[str]) -> SourceDocument | None:
        pairs = [
            (h or f"列{i + 1}", v.strip())
            for i, (h, v) in enumerate(zip(header, row, strict=False))
        ]
        pairs = [(h, v) for h, v in pairs if v]
        if not pairs:
            return None
        # a 5374 table names the item in "name"; elsewhere the first non-numeric cell
        names = {_norm(h): v for h, v in pairs}
        title = (
            names.get("name")
            or names.get("品目")
            or names.get("名称")
            or next((v for _, v in pairs if not v.isdigit()), pairs[0][1])
        )
        ordered = sorted(pairs, key=lambda hv: 0 if hv[1] == title else 1)
        body = "\n".join(f"{h}: {v}" for h, v in ordered)
        return SourceDocument(
            source_id=sid,
            uri=self.uri,
            title=title[:80],
            body=body,
            mime="text/csv",
            meta={"kind": "table", "columns": ",".join(header)},
        )
