"""The town's departments in the residents' languages: whom to call, said so they can.

An answer or a refusal names the department that handles the matter. 「総合窓口にお問い
合わせください」 does not help a resident who can neither read 総合窓口 nor say it at the
counter, and "the General information counter" alone is no name the staff would
recognise. So the kit gives both: the Japanese name, then its rendering in the
resident's language, 「総合窓口 (General information counter)」, 「税務課（税务科）」, and
for やさしい日本語 its reading, 「税務課（ぜいむか）」.

Where the renderings come from, first found wins:

1. **The town's table**, ``<data_dir>/departments.csv`` (setting
   ``answer.departments_file``): one row a department, UTF-8 (a BOM is fine)::

       name,phone,kana,en,zh-Hans,zh-Hant,ko,vi,pt,es,tl,ne,id
       総合窓口,01234-5-1101,そうごうまどぐち,General information counter,综合服务窗口,…

   ``name`` (or 部署 / 所管部署 / department) is the name as the town's documents write
   it; ``phone`` (or 電話番号) the number to call when a document gives none; ``kana``
   (or よみ / reading) its reading; every other column is a language, headed by any
   spelling :func:`kit.lang.normalise_lang` accepts (``en``, ``English``, ``英語``,
   ``zh-TW``, ``やさしい日本語``). Empty cells are fine. The file is read again when it
   changes; a file that cannot be read is reported in the log and the previous table
   (or the glossary alone) is used, so answering never stops over it.
2. **The bundled glossary** (``kit/glossary/*.jsonl``, the concepts of the
   ``department`` domain: 49 of them, 総合窓口, 住民課, 税務課, 保険年金課, 教育委員会 …,
   with their variants such as 課税課 for 税務課).
3. A name made of known names, such as 教育委員会生涯学習課 or 総務課防災係, is
   rendered part by part as far as the parts are known: "Board of Education, Lifelong
   Learning Division", "General Affairs Division" (a section the kit does not know is
   left in Japanese, in the name before it).
4. Otherwise the Japanese name alone.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from madoguchi.kit.errors import InputError
from madoguchi.kit.glossary import GLOSSARY_DIR
from madoguchi.kit.lang import contact_text, normalise_lang

log = logging.getLogger(__name__)

NAME_COLUMNS = ("name", "部署", "部署名", "所管部署", "担当課", "department", "課名")
PHONE_COLUMNS = ("phone", "電話番号", "電話", "tel")
KANA_COLUMNS = ("kana", "よみ", "読み", "よみがな", "ふりがな", "reading")
# scripts written with capitals: a glossary rendering is a name here ("General service counter")
_CAPITALISED = frozenset({"en", "vi", "pt", "es", "tl", "id", "fr", "de"})
MAX_ROWS = 5000


def _key(name: str) -> str:
    """Names meet after NFKC with spaces removed (「総務課 防災係」 = 「総務課防災係」)."""
    return "".join(unicodedata.normalize("NFKC", name).split())


@dataclass(frozen=True)
class Department:
    """One department: its names in other languages (widget codes), reading and phone."""

    name: str
    names: Mapping[str, str] = field(default_factory=dict)
    kana: str | None = None
    phone: str | None = None


def read_table(text: str, source: str = "departments.csv") -> dict[str, Department]:
    """The departments of a CSV text, by their folded name; a clear ``InputError`` for
    a file without a name column, an unknown column or a name given twice."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    roles: list[str | None] = []
    for h in header:
        low = h.lower()
        if low in NAME_COLUMNS:
            roles.append("name")
        elif low in PHONE_COLUMNS:
            roles.append("phone")
        elif low in KANA_COLUMNS:
            roles.append("kana")
        elif h == "" or h.startswith("#"):
            roles.append(None)  # a column kept for the staff's notes
        else:
            code = normalise_lang(h, strict=False)
            if code is None:
                raise InputError(
                    f"{source}: column {h!r} is neither name, phone, kana nor a language "
                    "(en, zh-Hans, zh-Hant, ko, vi, pt, es, tl, ne, id, ja-easy …)"
                )
            roles.append(code)
    if "name" not in roles:
        raise InputError(f"{source}: no name column (one of: {', '.join(NAME_COLUMNS)})")
    if len(rows) - 1 > MAX_ROWS:
        raise InputError(f"{source}: {len(rows) - 1:,} rows; at most {MAX_ROWS:,}")
    out: dict[str, Department] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = {r: (row[i].strip() if i < len(row) else "") for i, r in enumerate(roles) if r}
        name = cells.get("name", "")
        if not name:
            raise InputError(f"{source}, line {line}: the name is empty")
        key = _key(name)
        if key in out:
            raise InputError(f"{source}, line {line}: {name!r} is listed twice")
        names = {
            r: v for r, v in cells.items() if r not in ("name", "phone", "kana") and v and v != name
        }
        out[key] = Department(
            name, names, kana=cells.get("kana") or None, phone=cells.get("phone") or None
        )
    return out


def glossary_departments(files: Iterable[Path] | None = None) -> dict[str, Department]:
    """The ``department`` concepts of the bundled glossary, by each of their Japanese
    terms (the first rendering of each language, its reading where the glossary has the
    term's)."""
    paths = sorted(GLOSSARY_DIR.glob("*.jsonl")) if files is None else list(files)
    out: dict[str, Department] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            concept = json.loads(line)
            if concept.get("domain") != "department":
                continue
            names: dict[str, str] = {}
            for lang, values in concept.items():
                code = normalise_lang(lang, strict=False) if lang not in ("ja", "kana") else None
                if code and isinstance(values, list) and values:
                    first = str(values[0]).strip()
                    names[code] = first[:1].upper() + first[1:] if code in _CAPITALISED else first
            terms = [str(t) for t in concept.get("ja", [])]
            kana = [str(k) for k in concept.get("kana", [])]
            for i, term in enumerate(terms):
                reading = kana[i] if len(kana) == len(terms) else None
                out.setdefault(_key(term), Department(term, names, kana=reading))
    return out


@cache
def _bundled() -> dict[str, Department]:
    return glossary_departments()


class Departments:
    """Department names in the residents' languages (see the module docstring).

    Construction reads nothing: the town's file is read at the first name asked for
    (and again when it changes), the bundled glossary once per process."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, glossary: bool = True
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.use_glossary = glossary
        self._town: dict[str, Department] = {}
        self._stamp: tuple[float, int] | None = None
        self._lock = threading.Lock()

    @property
    def _glossary(self) -> dict[str, Department]:
        return _bundled() if self.use_glossary else {}

    @classmethod
    def from_rows(cls, text: str, *, glossary: bool = True) -> Departments:
        """A table given as CSV text (tests, the admin screen's preview)."""
        d = cls(None, glossary=glossary)
        d._town = read_table(text)
        return d

    def _table(self) -> dict[str, Department]:
        """The town's table, read again when its file changed."""
        if self.path is None:
            return self._town
        try:
            st = os.stat(self.path)
        except OSError:
            self._town, self._stamp = {}, None
            return self._town
        stamp = (st.st_mtime, st.st_size)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        self._town = read_table(
                            self.path.read_text(encoding="utf-8"), self.path.name
                        )
                    except (InputError, OSError, UnicodeDecodeError, csv.Error) as exc:
                        log.warning("%s is not used: %s", self.path, exc)
                    self._stamp = stamp
        return self._town

    def find(self, name: str | None) -> Department | None:
        """The town's entry for ``name``, else the glossary's (exact names only)."""
        if not name:
            return None
        key = _key(name)
        return self._table().get(key) or self._glossary.get(key)

    def translate(self, name: str | None, lang: str) -> str | None:
        """``name`` in ``lang`` (a reading for やさしい日本語), or None when unknown or
        when ``lang`` is plain Japanese."""
        code = normalise_lang(lang, strict=False)
        if not name or code is None or code == "ja":
            return None
        key = _key(name)
        for found in (self._table().get(key), self._glossary.get(key)):
            if found is not None:
                said = found.names.get(code) or (found.kana if code == "ja-easy" else None)
                if said:
                    return said
        return self._compound(name, code)

    def _compound(self, name: str, code: str) -> str | None:
        """A name made of known names, rendered as far as its parts are known from its start."""
        key = _key(name)
        table = {**self._glossary, **self._table()}
        parts: list[str] = []
        i = 0
        while i < len(key):
            best = next((j for j in range(len(key), i + 1, -1) if key[i:j] in table), None)
            if best is None:
                break
            dept = table[key[i:best]]
            part = dept.names.get(code) or (dept.kana if code == "ja-easy" else None)
            if not part:
                return None
            parts.append(part)
            i = best
        if not parts:
            return None
        seps = {"zh-Hans": "", "zh-Hant": "", "ko": " ", "ja-easy": "、"}
        sep = seps.get(code, ", ")
        return sep.join(parts)

    def phone(self, name: str | None) -> str | None:
        """The number the town's table gives for ``name`` (the glossary has none)."""
        if not name:
            return None
        found = self._table().get(_key(name))
        return found.phone if found else None

    def label(self, name: str | None, lang: str) -> str | None:
        """「税務課 (Tax Division)」: the Japanese name and its rendering in ``lang``."""
        if not name:
            return None
        return contact_text(lang, name, self.translate(name, lang))

    def contact(self, name: str | None, phone: str | None, lang: str) -> str:
        """「総合窓口 (General information counter, tel. 01234-5-1101)」 for a sentence."""
        return contact_text(lang, name, self.translate(name, lang), phone)
