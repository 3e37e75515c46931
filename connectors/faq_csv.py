"""FAQ open-data CSVs (自治体標準オープンデータセット「よくある質問」) and other tables.

Column names are matched flexibly, since towns rename them. A CSV with a
question and an answer column yields one ``faq`` document per row; any other
CSV (e.g. a 5374 garbage-sorting ``target.csv``) yields one ``table`` document
per record with its cells as readable "列名: 値" lines.

Source ids follow docs/ARCHITECTURE.md: ``<file id>#<ID column value>``, or
``#<1-based data record number>`` when there is no ID column. Records are
counted as ``csv.reader`` yields them after the header (a quoted multi-line
record counts once, a blank line in the middle counts too), so the numbers
agree with what a spreadsheet or a short ``csv`` script shows.

Translations belong to the same entry (same source id, so a translated answer
cites the town's own row): either extra columns in the same file
(``質問_en``/``回答_en``, ``Question (English)``, ``answer_zh-Hans``,
``回答（やさしい日本語）`` …) or sibling files sharing the IDs (``faq_en.csv``,
``faq_zh-Hant.csv`` next to ``faq.csv``). They land in the entry's metadata as
``question_<lang>`` / ``answer_<lang>`` (kit language codes, see ``kit.lang``),
with ``langs`` listing the languages present; the translated questions are also
appended to the indexed text so a question in that language finds the entry.
A sibling translation file read this way yields no documents of its own.

Machine translations (``madoguchi translate``, ``ingest/translate.py``) live in files of
their own beside the FAQ, ``faq_en.mt.csv`` (columns ID, Question, Answer, status,
source_hash, model, updated, note), so the town's files are never rewritten. A row is
indexed while its ``status`` is ``machine`` or ``approved`` and its ``source_hash`` is the
hash of the entry's current Japanese text (:func:`source_hash`): a translation of an
earlier wording is not used, and is reported. The town's own translation of an entry
always wins over a machine one. Languages whose text is a machine translation staff have
not approved yet are listed in the entry's ``machine_langs``, so the answer can say so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from madoguchi.kit.charset import decode
from madoguchi.kit.errors import ParseError
from madoguchi.kit.lang import normalise_lang
from madoguchi.kit.types import SourceDocument

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
        "お問い合わせ先",
        "担当",
        "所管課",
        "department",
    ),
    "phone": ("電話番号", "電話", "tel", "phone", "連絡先電話番号"),
    "url": ("url", "リンク", "参考url", "関連url", "link"),
    "updated": ("更新日", "最終更新日", "更新日時", "updated"),
    "category": ("カテゴリ", "カテゴリー", "分類", "category", "大分類"),
}
# second pass: a header that *contains* one of these (e.g. "質問文", "担当部署名")
CONTAINS: dict[str, tuple[str, ...]] = {
    "question": ("質問",),
    "answer": ("回答",),
    "department": ("部署", "担当課", "所管"),
    "phone": ("電話", "tel"),
    "url": ("url",),
    "updated": ("更新",),
    "category": ("カテゴリ", "分類"),
}
# a table's title column, when it has one (5374: name)
TITLE_COLUMNS = ("name", "品目", "品名", "名称", "名前", "施設名", "項目")
# a reading index (5374's furigana holds only the first kana, for the app's あいうえお
# tabs): kept in meta, not shown to residents nor embedded
READING_COLUMNS = ("furigana", "ふりがな", "フリガナ", "よみがな", "ヨミガナ", "読み", "よみ")
# the 5374 garbage-sorting layout (type,name,notice) in words a resident reads
LABELS_5374 = {"name": "品目", "type": "分別", "notice": "出し方・注意"}


def _norm(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace(" ", "")


_LANG_SUFFIX = re.compile(r"^(?P<field>.+?)\s*[(（](?P<lang>.+)[)）]$")
_TRANSLATABLE = ("question", "answer")


def _translation_field(header: str) -> tuple[str, str] | None:
    """("question" | "answer", language) for a translation column header, else None.

    Accepts ``質問_en``, ``question_zh-Hans``, ``Question (English)``, ``回答（英語）``,
    ``answer en``; plain Japanese (``質問_ja``) is not a translation.
    """
    h = unicodedata.normalize("NFKC", header).strip()
    candidates: list[tuple[str, str]] = []
    m = _LANG_SUFFIX.match(h)
    if m:
        candidates.append((m.group("field"), m.group("lang")))
    for sep in ("_", " ", ":", "/"):
        if sep in h:
            head, _, tail = h.partition(sep)
            candidates.append((head, tail))
    for field_text, lang_text in candidates:
        field = _norm(field_text).rstrip("_-:")
        code = normalise_lang(lang_text.strip(" _-:"), strict=False)
        if code is None or code == "ja":
            continue
        for name in _TRANSLATABLE:
            if field in COLUMNS[name] or any(p in field for p in CONTAINS[name]):
                return name, code
    return None


def translation_columns(header: list[str]) -> dict[tuple[str, str], int]:
    """(field, language) -> column index for the translation columns of a header."""
    found: dict[tuple[str, str], int] = {}
    for i, h in enumerate(header):
        tf = _translation_field(h)
        if tf is not None and tf not in found:
            found[tf] = i
    return found


def map_columns(header: list[str]) -> dict[str, int]:
    """Canonical field name -> column index, for the columns recognised.

    Exact names win over partial ones, so "問い合わせ先" is a department and
    never the question, and each column serves one field at most. Translation
    columns (``質問_en``) never stand for a Japanese field.
    """
    normed = [_norm(h) for h in header]
    taken = set(translation_columns(header).values())
    normed = ["\0" if i in taken else h for i, h in enumerate(normed)]
    found: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for i, h in enumerate(normed):
            if h in names and i not in found.values():
                found[field] = i
                break
    for field, parts in CONTAINS.items():
        if field in found:
            continue
        for i, h in enumerate(normed):
            if i not in found.values() and any(p in h for p in parts):
                found[field] = i
                break
    return found


def is_faq(header: list[str]) -> bool:
    """Whether a header names both a question and an answer column."""
    cols = map_columns(header)
    return "question" in cols and "answer" in cols


def is_faq_csv(path: Path | str) -> bool:
    """Sniff a CSV file: True when it reads as a FAQ (question and answer columns).

    A file that is not a readable CSV at all is not FAQ-like (False); reading it
    with :class:`FaqCsvConnector` gives the reason.
    """
    try:
        header, _ = read_table(Path(path), str(path))
    except ParseError:
        return False
    return is_faq(header)


def _split_lang_stem(stem: str) -> tuple[str, str] | None:
    """("faq", "en") for "faq_en"; tries the last and the second-to-last separator
    so "faq_zh_TW" and "faq.zh-Hant" work too."""
    for sep in ("_", "."):
        parts = stem.split(sep)
        for cut in (len(parts) - 1, len(parts) - 2):
            if cut < 1:
                continue
            base, tag = sep.join(parts[:cut]), "-".join(parts[cut:])
            lang = normalise_lang(tag, strict=False)
            if lang is not None and lang != "ja" and base:
                return base, lang
    return None


def translation_base(path: Path) -> tuple[Path, str] | None:
    """(base file, language) when ``path`` is a translation file such as ``faq_en.csv``
    (or a machine translation ``faq_en.mt.csv``) beside a FAQ ``faq.csv``; else None."""
    split = _machine_stem(path.stem) or _split_lang_stem(path.stem)
    if split is None:
        return None
    base = path.with_name(split[0] + path.suffix)
    if base == path or not base.is_file() or not is_faq_csv(base):
        return None
    return base, split[1]


def translation_files(path: Path) -> list[tuple[Path, str]]:
    """The sibling translation files of a FAQ file, with their languages, sorted."""
    found: list[tuple[Path, str]] = []
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return []
    for p in siblings:
        if p == path or p.suffix.lower() != path.suffix.lower() or not p.is_file():
            continue
        if _machine_stem(p.stem):  # faq_zh-Hans.mt.csv: read as machine translations
            continue
        split = _split_lang_stem(p.stem)
        if split is not None and split[0] == path.stem:
            found.append((p, split[1]))
    return found


# --- machine translations: faq_en.mt.csv beside faq.csv ------------------------------

MACHINE_MARK = "mt"
MACHINE_HEADER = ("ID", "Question", "Answer", "status", "source_hash", "model", "updated", "note")
#: machine: not yet checked by staff (the answer says so); approved: checked; review: the
#: reply failed a check (a figure, phone or URL missing, another language), kept for staff
#: and not indexed; rejected: staff turned it down (not indexed, not asked for again until
#: the Japanese text changes)
STATUSES = ("machine", "approved", "review", "rejected")
INDEXED = ("machine", "approved")
_STATUS_WORDS = {
    "機械翻訳": "machine",
    "承認": "approved",
    "承認済み": "approved",
    "要確認": "review",
    "却下": "rejected",
}


def source_hash(question: str, answer: str) -> str:
    """A short hash of an entry's Japanese text, stored with each machine translation so
    a re-run translates only what changed and a stale translation is never shown."""
    text = unicodedata.normalize("NFC", f"{question.strip()}\0{answer.strip()}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def machine_translation_path(path: Path, lang: str) -> Path:
    """Where the machine translations of ``path`` into ``lang`` live: ``faq_en.mt.csv``."""
    return path.with_name(f"{path.stem}_{lang}.{MACHINE_MARK}{path.suffix}")


def _machine_stem(stem: str) -> tuple[str, str] | None:
    """("faq", "en") for "faq_en.mt"; None for any other stem."""
    tail = "." + MACHINE_MARK
    if not stem.endswith(tail):
        return None
    return _split_lang_stem(stem[: -len(tail)])


def machine_translation_files(path: Path) -> list[tuple[Path, str]]:
    """The machine translation files of a FAQ file, with their languages, sorted."""
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return []
    found = []
    for p in siblings:
        split = _machine_stem(p.stem)
        if split and split[0] == path.stem and p.suffix.lower() == path.suffix.lower():
            found.append((p, split[1]))
    return found


@dataclass(frozen=True)
class MachineTranslation:
    """One row of a machine translation file: an entry's translation into one language."""

    key: str  # the entry's ID (or record number) in the FAQ file
    question: str
    answer: str
    status: str  # one of STATUSES
    source_hash: str  # source_hash() of the Japanese text it translates
    model: str = ""
    updated: str = ""  # ISO time of the last change
    note: str = ""  # why it needs review, who approved it

    def row(self) -> list[str]:
        return [self.key, self.question, self.answer, self.status, self.source_hash,
                self.model, self.updated, self.note]  # fmt: skip


def read_machine_translations(path: Path, name: str | None = None) -> dict[str, MachineTranslation]:
    """Entry key -> row of a machine translation file, in file order ({} if there is none).

    The file may have been opened and saved in a spreadsheet (Shift_JIS, reordered
    columns, 承認 for approved): the columns are found by name. An unknown status is
    kept as written (it is simply not indexed). A file without ID and status columns is
    a ParseError."""
    name = name or path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ParseError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    text = decode(raw, name) if raw.strip() else ""
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise ParseError(f"{name}: not a readable CSV: {exc}") from exc
    if not rows:
        return {}
    header = [_norm(h.lstrip("\ufeff")) for h in rows[0]]
    col = {h: i for i, h in reversed(list(enumerate(header)))}
    if "id" not in col or "status" not in col:
        raise ParseError(f"{name}: not a machine translation file (no ID and status columns)")
    out: dict[str, MachineTranslation] = {}
    for r in rows[1:]:

        def cell(field: str, r: list[str] = r) -> str:
            i = col.get(field)
            return r[i].strip() if i is not None and i < len(r) else ""

        key = cell("id")
        if not key:
            continue
        status = cell("status")
        status = _STATUS_WORDS.get(status, status.lower())
        out[key] = MachineTranslation(
            key, cell("question"), cell("answer"), status, cell("source_hash"),
            cell("model"), cell("updated"), cell("note"),
        )  # fmt: skip
    return out


def write_machine_translations(path: Path, rows: Mapping[str, MachineTranslation]) -> None:
    """Write a machine translation file whole, atomically (a reader never sees half a
    file), UTF-8 with a BOM so a spreadsheet opens it as such; no rows: the file goes."""
    if not rows:
        path.unlink(missing_ok=True)
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(MACHINE_HEADER)
    for r in rows.values():
        w.writerow(r.row())
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_machine_translations(
    path: Path, changes: Mapping[str, MachineTranslation | None]
) -> dict[str, MachineTranslation]:
    """Re-read the file, apply ``changes`` (None deletes a row) and write it back, so two
    writers (a translate run, the admin screen) each change only their own rows."""
    rows = read_machine_translations(path)
    for key, row in changes.items():
        if row is None:
            rows.pop(key, None)
        else:
            rows[key] = row
    write_machine_translations(path, rows)
    return rows


def read_table(path: Path, name: str) -> tuple[list[str], list[list[str]]]:
    """Header and data records of a CSV (or tab-separated) file, decoded.

    Records keep their position: blank records inside the file stay (as empty
    lists) so record numbers match a plain ``csv.reader``; blank lines at the
    start and at the end are dropped.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ParseError(f"{name}: empty file, no rows")
    text = decode(raw, name)
    first_line = text.lstrip("\ufeff\r\n").split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ParseError(f"{name}: not a readable CSV: {exc}") from exc

    def blank(r: list[str]) -> bool:
        return not any(c.strip() for c in r)

    while rows and blank(rows[0]):
        rows.pop(0)
    while rows and blank(rows[-1]):
        rows.pop()
    if not rows:
        raise ParseError(f"{name}: empty file, no rows")
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    if len(rows) < 2:
        raise ParseError(f"{name}: header only, no rows")
    named = [h for h in header if h]
    if not named or all(_is_number(h) for h in named):
        raise ParseError(f"{name}: no header row (the first row holds no column names)")
    if len(header) < 2 and all(len(r) < 2 for r in rows[1:4]):
        raise ParseError(f"{name}: not a CSV table (one column only)")
    return header, rows[1:]


def _is_number(s: str) -> bool:
    try:
        float(unicodedata.normalize("NFKC", s).replace(",", ""))
    except ValueError:
        return False
    return True


class FaqCsvConnector:
    """One document per row of a FAQ CSV, or per record of any other CSV table.

    ``skipped`` lists (source id, reason) for rows that yield nothing: empty
    rows and repeated IDs. A file that cannot be read at all raises
    :class:`~kit.errors.ParseError` from :meth:`documents` before anything is
    yielded.
    """

    def __init__(
        self,
        path: Path | str,
        source_id: str,
        uri: str | None = None,
        *,
        machine_translations: bool = True,
    ) -> None:
        self.path = Path(path)
        self.source_id = source_id
        self.uri = uri or source_id
        # False: the town's own text and translations only (what ``madoguchi translate`` reads)
        self.machine_translations = machine_translations
        self.skipped: list[tuple[str, str]] = []
        # "faq", "table", or "translation" (a sibling file read with its base), known once read
        self.kind: str | None = None

    def documents(self) -> Iterator[SourceDocument]:
        if self._is_translation_file():
            return
        header, rows = read_table(self.path, self.source_id)
        cols = map_columns(header)
        faq = "question" in cols and "answer" in cols
        self.kind = "faq" if faq else "table"
        tcols = translation_columns(header) if faq else {}
        sibling = self._sibling_translations() if faq else {}
        machine = self._machine_translations() if faq and self.machine_translations else {}
        seen: set[str] = set()
        for n, row in enumerate(rows, start=1):
            row = row + [""] * (len(header) - len(row))
            fields = {f: row[i].strip() for f, i in cols.items()}
            key = fields.get("id") or str(n)
            sid = f"{self.source_id}#{key}"
            if faq:
                tr = dict(sibling.get(key, {}))
                tr.update({tf: row[i].strip() for tf, i in tcols.items() if row[i].strip()})
                unchecked = self._add_machine(key, fields, tr, machine)
                doc = self._faq_doc(sid, fields, tr, unchecked)
            else:
                doc = self._table_doc(sid, header, row)
            if doc is None:
                self.skipped.append((sid, "empty row"))
                continue
            if sid in seen:
                self.skipped.append((sid, f"duplicate ID {key!r} (record {n})"))
                continue
            seen.add(sid)
            yield doc

    def _is_translation_file(self) -> bool:
        """True (and the reason noted) for ``faq_en.csv`` or ``faq_en.mt.csv``, which are
        read together with their ``faq.csv``."""
        machine = _machine_stem(self.path.stem)
        base = translation_base(self.path)
        if base is None and machine is None:
            return False
        self.kind = "translation"
        if base is None:  # a machine translation whose FAQ file is gone: never a FAQ of its own
            stem = machine[0] if machine else self.path.stem
            reason = f"machine translation of {stem}{self.path.suffix}, which is missing or no FAQ"
        else:
            what = "machine translation" if machine else "translation"
            reason = f"{base[1]} {what} of {base[0].name}: read together with it"
        self.skipped.append((self.source_id, reason))
        return True

    def _faq_doc(
        self,
        sid: str,
        fields: dict[str, str],
        translations: dict[tuple[str, str], str],
        unchecked: Iterable[str] = (),
    ) -> SourceDocument | None:
        q, a = fields.get("question", ""), fields.get("answer", "")
        if not q and not a:
            return None
        meta = {"kind": "faq", "question": q, "answer": a}
        for f in ("department", "phone", "url", "updated", "category"):
            if fields.get(f):
                meta[f] = fields[f]
        body = f"{q}\n{a}"
        langs = sorted({lang for (_, lang), v in translations.items() if v})
        for lang in langs:
            tq = translations.get(("question", lang), "")
            ta = translations.get(("answer", lang), "")
            if tq:
                meta[f"question_{lang}"] = tq
            if ta:
                meta[f"answer_{lang}"] = ta
            if tq:
                # the resident's wording in that language finds the same entry
                body += f"\n{tq}"
        if langs:
            meta["langs"] = ",".join(langs)
        machine = sorted(set(unchecked) & set(langs))
        if machine:  # machine translations staff have not approved yet
            meta["machine_langs"] = ",".join(machine)
        return SourceDocument(
            source_id=sid,
            uri=meta.get("url") or self.uri,
            title=q or a[:40],
            body=body,
            mime="text/csv",
            meta=meta,
        )

    def _sibling_translations(self) -> dict[str, dict[tuple[str, str], str]]:
        """Entry key (ID, or record number) -> {(field, lang): text} from ``<stem>_<lang>.csv``
        files beside this one. A broken translation file is reported in ``skipped``."""
        out: dict[str, dict[tuple[str, str], str]] = {}
        for path, lang in translation_files(self.path):
            name = self._folder() + path.name
            try:
                header, rows = read_table(path, name)
            except ParseError as exc:
                self.skipped.append((name, str(exc).removeprefix(f"{name}: ")))
                continue
            cols = map_columns(header)
            tcols = translation_columns(header)
            q_i = cols.get("question", tcols.get(("question", lang)))
            a_i = cols.get("answer", tcols.get(("answer", lang)))
            if q_i is None and a_i is None:
                self.skipped.append((name, "no question or answer column"))
                continue
            for n, row in enumerate(rows, start=1):
                row = row + [""] * (len(header) - len(row))
                key = (row[cols["id"]].strip() if "id" in cols else "") or str(n)
                entry = out.setdefault(key, {})
                if q_i is not None and row[q_i].strip():
                    entry[("question", lang)] = row[q_i].strip()
                if a_i is not None and row[a_i].strip():
                    entry[("answer", lang)] = row[a_i].strip()
        return out

    def _folder(self) -> str:
        return self.source_id.rsplit("/", 1)[0] + "/" if "/" in self.source_id else ""

    def _machine_translations(self) -> dict[str, dict[str, tuple[str, MachineTranslation]]]:
        """Entry key -> {lang: (file name, row)} from the ``<stem>_<lang>.mt.csv`` files."""
        out: dict[str, dict[str, tuple[str, MachineTranslation]]] = {}
        for path, lang in machine_translation_files(self.path):
            name = self._folder() + path.name
            try:
                rows = read_machine_translations(path, name)
            except ParseError as exc:
                self.skipped.append((name, str(exc).removeprefix(f"{name}: ")))
                continue
            for key, row in rows.items():
                out.setdefault(key, {})[lang] = (name, row)
        return out

    def _add_machine(
        self,
        key: str,
        fields: dict[str, str],
        tr: dict[tuple[str, str], str],
        machine: dict[str, dict[str, tuple[str, MachineTranslation]]],
    ) -> set[str]:
        """Add an entry's usable machine translations to ``tr`` (where the town has none
        of its own in that language); the languages not yet approved by staff."""
        rows = machine.get(key)
        if not rows:
            return set()
        own = {lang for (_, lang), v in tr.items() if v}
        current = source_hash(fields.get("question", ""), fields.get("answer", ""))
        unchecked: set[str] = set()
        for lang, (name, row) in sorted(rows.items()):
            if lang in own or row.status not in INDEXED or not (row.question or row.answer):
                continue
            if row.source_hash != current:
                self.skipped.append(
                    (
                        f"{name}#{key}",
                        "machine translation of an earlier Japanese text, not used "
                        "(run 'madoguchi translate' again)",
                    )
                )
                continue
            if row.question:
                tr[("question", lang)] = row.question
            if row.answer:
                tr[("answer", lang)] = row.answer
            if row.status == "machine":
                unchecked.add(lang)
        return unchecked

    def _table_doc(self, sid: str, header: list[str], row: list[str]) -> SourceDocument | None:
        pairs = [
            (h or f"列{i + 1}", v.strip())
            for i, (h, v) in enumerate(zip(header, row, strict=False))
        ]
        reading = next((v for h, v in pairs if _norm(h) in READING_COLUMNS and v), None)
        pairs = [(h, v) for h, v in pairs if v and _norm(h) not in READING_COLUMNS]
        if not pairs:
            return None
        normed = {_norm(h) for h in header}
        if {"name", "type"} <= normed:  # 5374.jp's target.csv
            pairs = [(LABELS_5374.get(_norm(h), h), v) for h, v in pairs]
        # the item's name first (5374: "name"), else the first cell that is not a number
        by_name = {_norm(h): i for i, (h, _) in enumerate(pairs)}
        first = next((by_name[c] for c in TITLE_COLUMNS if c in by_name), None)
        if first is None:
            first = next((i for i, (_, v) in enumerate(pairs) if not _is_number(v)), 0)
        title = pairs[first][1]
        ordered = [pairs[first], *pairs[:first], *pairs[first + 1 :]]
        body = "\n".join(f"{h}: {v}" for h, v in ordered)
        return SourceDocument(
            source_id=sid,
            uri=self.uri,
            title=" ".join(title.split())[:80],
            body=body,
            mime="text/csv",
            meta={"kind": "table", "columns": ",".join(header)}
            | ({"reading": reading} if reading else {}),
        )
