"""Towns as tenants: one service answering for several towns, each apart from the others.

A town is a folder under the data root, ``<data_dir>/towns/<id>/``, holding its
``town.toml`` (name, allowed origins, the digests of its admin keys, its answer, widget
and rate-limit settings, its source list) beside its own index, synonym list,
departments table and conversation log. ``town_settings(base, town)`` is the one place
that derives a town's ``Settings`` from the service's: every part of the kit that gets
those settings (``build_services``, the log, the limits) reads that town's folder and
nothing else, so a question asked for one town cannot reach another's documents or
conversations by construction. A shared back-end keys its rows by ``store.namespace``,
set here to the town id when the settings have one.

The registry (``TownRegistry``) reads and writes the ``town.toml`` files; the
operations on a whole town are here too: ``export_town`` (sources list, FAQ drafts,
synonyms, settings, the masked log), ``remove_town`` (refused until an export is newer
than the town's last change, unless forced; reports what it deleted) and
``import_town`` (an existing single-town data directory brought in without
re-embedding: SQLite files through the online-backup API, the Chroma folder copied,
then the chunk and vector counts checked).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from madoguchi.kit.config import (
    HandoffSettings,
    OfficeHoursSettings,
    Settings,
    StoreSettings,
    WidgetSettings,
)
from madoguchi.kit.errors import ConfigError, InputError

TOWNS_DIR = "towns"
TOWN_FILE = "town.toml"
TOWN_ID = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]")
KEY_PREFIX = "mdg_"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9*.\-]+(:(\d{1,5}|\*))?")
_DIGEST = re.compile(r"[0-9a-f]{64}")
#: files of a data directory that are never copied by an import (SQLite's side files are
#: taken through the backup API with their database)
_SIDE_FILES = ("-wal", "-shm", "-journal")


class TownNotFound(InputError):
    """No town of that id is registered."""


class BadTownId(TownNotFound):
    """The id cannot name a town at all (so there is none of that id either)."""


class TownExists(InputError):
    """A town of that id is registered already."""


class BadTownFile(InputError):
    """A ``town.toml`` (or a ``--from-toml`` file) that is not valid TOML or not a town."""


class RemovalRefused(InputError):
    """The town has not been exported since its last change (``--force`` removes anyway)."""


ID_RULE = (
    "2-32 characters, lower-case letters, digits and '-', starting with a letter (e.g. minami)"
)


def check_id(town_id: str) -> str:
    """The id itself, or ``BadTownId`` saying the rule."""
    if not TOWN_ID.fullmatch(town_id):
        raise BadTownId(f"town id {town_id[:40]!r}: {ID_RULE}")
    return town_id


# ---------------------------------------------------------------------------- the model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TownAnswer(_Strict):
    """The town's answer settings; unset ones are the service's."""

    faq_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    default_department: str | None = Field(default=None, min_length=1, max_length=100)
    default_phone: str | None = Field(default=None, max_length=40)


class TownWidget(_Strict):
    """What the town's widget shows; its title is the town's name."""

    phone: str | None = Field(default=None, max_length=40)
    disclaimer: str | None = Field(default=None, max_length=2000)
    suggestions: list[str] | None = None
    languages: list[str] | None = None

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        known = WidgetSettings().languages
        bad = [v for v in value if v not in known]
        if bad:
            raise ValueError(f"unknown widget language(s) {bad}; known: {', '.join(known)}")
        if not value:
            raise ValueError("languages: at least one")
        return value


class TownLimits(_Strict):
    """Questions per client address of this town's widget (0 switches a limit off)."""

    rate_limit_per_minute: int | None = Field(default=None, ge=0)
    daily_cap: int | None = Field(default=None, ge=0)


class TownLine(_Strict):
    """The town's own LINE channel (docs/LINE.md); without it the town has none."""

    channel_secret: str | None = Field(default=None, min_length=1, max_length=200)
    channel_access_token: str | None = Field(default=None, min_length=1, max_length=1000)
    user_hash_key: str | None = Field(default=None, min_length=16, max_length=200)


class Town(_Strict):
    """One town's ``town.toml``."""

    id: str
    name: str = Field(..., min_length=1, max_length=100)
    # the web origins whose pages may embed this town's widget (exact, or * patterns)
    origins: list[str] = []
    # SHA-256 digests of the town's admin keys (the keys themselves are never stored)
    admin_keys: list[str] = []
    # the town's sources: paths or URLs ``madoguchi towns ingest`` indexes
    sources: list[str] = []
    answer: TownAnswer = TownAnswer()
    widget: TownWidget = TownWidget()
    limits: TownLimits = TownLimits()
    line: TownLine = TownLine()
    # the town office's hours (kit.officehours) and its hand-off inbox; unset: the service's
    office_hours: OfficeHoursSettings | None = None
    handoff: HandoffSettings | None = None
    created: float = 0.0
    exported_at: float | None = None
    export_dest: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not TOWN_ID.fullmatch(value):
            raise ValueError(f"town id {value!r}: {ID_RULE}")
        return value

    @field_validator("origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            o = item.strip().rstrip("/")
            if o != "*" and not _ORIGIN.fullmatch(o):
                raise ValueError(
                    f"origin {item!r}: a scheme and host such as https://www.town.example.jp"
                )
            out.append(o)
        return out

    @field_validator("admin_keys")
    @classmethod
    def _digests(cls, value: list[str]) -> list[str]:
        for d in value:
            if not _DIGEST.fullmatch(d):
                raise ValueError("admin_keys holds SHA-256 digests (64 hex digits), not keys")
        return value

    def key_matches(self, given: str) -> bool:
        digest = hash_key(given)
        found = False
        for d in self.admin_keys:  # no early exit: the time does not say which one matched
            found |= hmac.compare_digest(digest, d)
        return found


def new_key() -> str:
    """A town admin key: 256 random bits, shown once, kept only as its digest."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # a random 256-bit key needs no slow hash: nobody can guess it from its digest
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def town_dir(root: Path | str, town_id: str) -> Path:
    return Path(root) / TOWNS_DIR / town_id


def town_settings(base: Settings, town: Town) -> Settings:
    """The service's settings as they apply to one town: its own data directory (index,
    synonyms, departments, log, uploads all inside), name, origins, limits, answer and
    widget settings, and no admin or prefecture key of the service. A shared back-end's
    ``store.namespace`` is the town id."""
    data = base.model_dump()
    root = Path(base.data_dir)
    data["data_dir"] = str(town_dir(root, town.id))
    data["town_name"] = town.name
    data["answer"].update(town.answer.model_dump(exclude_none=True))
    data["answer"]["departments_file"] = None  # <town dir>/departments.csv
    data["retrieval"]["synonyms_file"] = None  # <town dir>/synonyms.csv
    data["widget"].update(town.widget.model_dump(exclude_none=True))
    data["widget"]["town"] = town.name
    srv = data["server"]
    srv["allowed_origins"] = list(town.origins)
    srv["admin_key"] = None
    if "prefecture_key" in srv:
        srv["prefecture_key"] = None
    srv["upload_dir"] = str(town_dir(root, town.id) / "uploads")
    srv.update(town.limits.model_dump(exclude_none=True))
    # the town's own LINE channel or none: never the service's secret, token or hash key
    data["line"].update(
        {"channel_secret": None, "channel_access_token": None, "user_hash_key": None}
    )
    data["line"].update(town.line.model_dump(exclude_none=True))
    if town.office_hours is not None:
        data["office_hours"] = town.office_hours.model_dump()
    if town.handoff is not None:
        data["handoff"] = town.handoff.model_dump()
    data["handoff"]["faq_drafts_file"] = None  # <town dir>/faq_drafts.csv
    if "namespace" in data["store"]:
        data["store"]["namespace"] = town.id
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"town {town.id}: invalid settings: {exc}") from exc


# ---------------------------------------------------------------------------- the registry


class TownRegistry:
    """The towns of one data root, one ``towns/<id>/town.toml`` each."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.dir = self.root / TOWNS_DIR

    def path(self, town_id: str) -> Path:
        return self.dir / check_id(town_id)

    def ids(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.dir.iterdir()
            if TOWN_ID.fullmatch(p.name) and (p / TOWN_FILE).is_file()
        )

    def exists(self, town_id: str) -> bool:
        return bool(TOWN_ID.fullmatch(town_id)) and (self.dir / town_id / TOWN_FILE).is_file()

    def stamp(self, town_id: str) -> int:
        """Changes when the town's file changes (a cache built from it is stale)."""
        try:
            return (self.path(town_id) / TOWN_FILE).stat().st_mtime_ns
        except OSError:
            raise TownNotFound(f"no town {town_id!r}") from None

    def get(self, town_id: str) -> Town:
        file = self.path(town_id) / TOWN_FILE
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TownNotFound(f"no town {town_id!r} (madoguchi towns list)") from None
        except OSError as exc:
            raise ConfigError(f"cannot read {file}: {exc}") from exc
        town = parse_town(text, str(file))
        if town.id != town_id:
            raise ConfigError(f"{file}: id {town.id!r} does not match its folder {town_id!r}")
        return town

    def towns(self) -> list[Town]:
        return [self.get(i) for i in self.ids()]

    def add(self, town: Town) -> Path:
        if self.exists(town.id):
            raise TownExists(f"town {town.id!r} exists already (madoguchi towns show {town.id})")
        folder = self.path(town.id)
        if folder.is_dir() and any(folder.iterdir()):
            # what a removal that was cut short left: a new town must not inherit it
            raise TownExists(
                f"{folder} holds files of a town of that id that was not fully removed; "
                "delete the folder first"
            )
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if town.created == 0.0:
            town = town.model_copy(update={"created": time.time()})
        self.save(town)
        return folder

    def save(self, town: Town) -> None:
        """Write ``town.toml`` whole (a temporary file renamed over it)."""
        folder = self.path(town.id)
        tmp = folder / (TOWN_FILE + ".tmp")
        tmp.write_text(dump_town(town), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(folder / TOWN_FILE)


def parse_town(text: str, where: str = "town.toml") -> Town:
    try:
        data = tomlkit.parse(text).unwrap()
    except Exception as exc:  # tomlkit's ParseError and friends
        raise BadTownFile(f"{where}: not valid TOML: {exc}") from exc
    try:
        return Town.model_validate(data)
    except ValidationError as exc:
        raise BadTownFile(f"{where}: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else str(e.get("msg")))
    return "; ".join(parts)


def dump_town(town: Town) -> str:
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"madoguchi: the town {town.id} ({town.name})"))
    data = town.model_dump(exclude_none=True)
    for key in ("answer", "widget", "limits", "line", "office_hours", "handoff"):  # tables last
        if key in data:
            data[key] = data.pop(key)
    for key, value in data.items():
        doc[key] = value
    return tomlkit.dumps(doc)


def town_from_options(
    town_id: str,
    name: str | None,
    origins: Sequence[str] = (),
    sources: Sequence[str] = (),
    toml_file: Path | None = None,
) -> Town:
    """A new town from ``towns add`` options, or from a TOML file (options win)."""
    data: dict[str, Any] = {}
    if toml_file is not None:
        try:
            text = toml_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {toml_file}: {exc}") from exc
        try:
            data = tomlkit.parse(text).unwrap()
        except Exception as exc:
            raise BadTownFile(f"{toml_file}: not valid TOML: {exc}") from exc
        if data.get("admin_keys"):
            raise BadTownFile(f"{toml_file}: admin_keys are generated by 'towns add', not given")
        for stamp in ("created", "exported_at", "export_dest"):  # an export's town.toml
            data.pop(stamp, None)
        if "id" in data and data["id"] != town_id:
            raise BadTownFile(f"{toml_file}: its id {data['id']!r} is not {town_id!r}")
    data["id"] = check_id(town_id)
    if name:
        data["name"] = name
    if origins:
        data["origins"] = list(origins)
    if sources:
        data["sources"] = list(sources)
    if "name" not in data:
        raise InputError("a town needs a name (--name 南町)")
    try:
        return Town.model_validate(data)
    except ValidationError as exc:
        if toml_file is not None:
            raise BadTownFile(f"{toml_file}: {_first_error(exc)}") from exc
        raise InputError(_first_error(exc)) from exc


def add_town(registry: TownRegistry, town: Town) -> tuple[Town, str]:
    """Register a town with a fresh admin key; returns the town and the key (shown once)."""
    key = new_key()
    town = town.model_copy(update={"admin_keys": [hash_key(key)], "created": time.time()})
    registry.add(town)
    return town, key


def add_key(registry: TownRegistry, town_id: str, replace: bool = False) -> str:
    """Another admin key for a town (``replace``: the old ones stop working)."""
    town = registry.get(town_id)
    key = new_key()
    keys = [] if replace else list(town.admin_keys)
    registry.save(town.model_copy(update={"admin_keys": [*keys, hash_key(key)]}))
    return key


# ---------------------------------------------------------------------------- figures


def _ro(path: Path) -> sqlite3.Connection | None:
    if not path.is_file():
        return None
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return None


def _scalar(path: Path, sql: str) -> int:
    db = _ro(path)
    if db is None:
        return 0
    try:
        row = db.execute(sql).fetchone()
        return int(row[0] or 0) if row else 0
    except sqlite3.Error:
        return 0
    finally:
        db.close()


@dataclass(frozen=True)
class TownFigures:
    """What the prefecture sees of a town: counts, never its text."""

    id: str
    name: str
    sources: int
    chunks: int
    questions: int
    refused: int
    origins: list[str]
    admin_keys: int
    exported_at: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def town_figures(
    registry: TownRegistry, town: Town, store: StoreSettings | None = None
) -> TownFigures:
    """With the service's ``store`` on PostgreSQL, the counts are its schema's."""
    folder = registry.path(town.id)
    cat = folder / "catalogue.sqlite"
    log = folder / "conversations.sqlite"
    counts = (
        _scalar(cat, "SELECT COUNT(*) FROM sources"),
        _scalar(cat, "SELECT COUNT(*) FROM chunks"),
        _scalar(log, "SELECT COUNT(*) FROM turns"),
        _scalar(log, "SELECT COUNT(*) FROM turns WHERE refused = 1"),
    )
    if store is not None and store.database_url:
        from madoguchi.ingest import shared

        c = shared.contents(shared.for_namespace(store, town.id), vectors=False)
        counts = (c.sources, c.chunks, c.turns, c.refused)
    return TownFigures(
        id=town.id,
        name=town.name,
        sources=counts[0],
        chunks=counts[1],
        questions=counts[2],
        refused=counts[3],
        origins=list(town.origins),
        admin_keys=len(town.admin_keys),
        exported_at=town.exported_at,
    )


def last_change(folder: Path) -> float:
    """When the town's data last changed: its newest logged turn or indexed source."""
    newest = 0.0
    for name, sql in (
        ("conversations.sqlite", "SELECT MAX(ts) FROM turns"),
        ("catalogue.sqlite", "SELECT MAX(indexed_at) FROM sources"),
    ):
        db = _ro(folder / name)
        if db is None:
            continue
        try:
            row = db.execute(sql).fetchone()
            if row and row[0] is not None:
                newest = max(newest, float(row[0]))
        except (sqlite3.Error, TypeError, ValueError):
            pass
        finally:
            db.close()
    return newest


# ---------------------------------------------------------------------------- export


@dataclass
class ExportReport:
    town: str
    dest: str
    files: dict[str, int] = field(default_factory=dict)  # name -> rows (or groups)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def export_town(base: Settings, registry: TownRegistry, town_id: str, dest: Path) -> ExportReport:
    """Write everything a town takes with it into ``dest`` (a new or empty folder):

    - ``sources.csv``: the indexed sources (id, title, kind, chunks, URL, when);
    - ``faq_drafts.csv``: refused and thumbs-down questions, most asked first, to write
      FAQ entries from (masked, as logged);
    - ``conversations.jsonl``: the masked conversation log, one turn a line;
    - ``synonyms.csv`` and ``departments.csv`` when the town has them;
    - ``town.toml`` (without the key digests and the LINE channel's secrets) and ``settings.json`` (the town's
      effective answer, widget and limit settings);
    - ``export.json``: when, and the counts.

    The export time is written into the town's file: ``remove_town`` asks for it.
    """
    from madoguchi.kit.convlog import ConversationLog

    town = registry.get(town_id)
    folder = registry.path(town_id)
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(f"{dest} exists and is not an empty folder")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    report = ExportReport(town_id, str(dest))
    started = time.time()

    from madoguchi.ingest.shared import town_store

    shared_store = town_store(base.store, town_id)  # None: the rows are in the folder
    rows = _catalogue_sources(folder / "catalogue.sqlite", shared_store)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["source", "title", "kind", "chunks", "url", "indexed_at"])
    w.writerows(rows)
    _write_private(dest / "sources.csv", "\ufeff" + buf.getvalue())
    report.files["sources.csv"] = len(rows)

    log_path = folder / "conversations.sqlite"
    if log_path.is_file() or shared_store is not None:
        # a long retention so that opening the log for the export deletes nothing
        log = ConversationLog.in_data_dir(
            folder, max(base.server.retention_days, 36500), store=shared_store
        )
        try:
            drafts = log.unanswered()
            _write_private(dest / "faq_drafts.csv", log.unanswered_csv())
            n, lines = 0, list[str]()
            while True:
                page = log.turns(limit=1000, offset=n)
                if not page:
                    break
                lines.extend(json.dumps(t.to_json(), ensure_ascii=False) for t in page)
                n += len(page)
        finally:
            log.close()
    else:
        drafts, lines = [], []
        _write_private(dest / "faq_drafts.csv", "\ufeffquestion,count\r\n")
    _write_private(dest / "conversations.jsonl", "".join(line + "\n" for line in lines))
    report.files["faq_drafts.csv"] = len(drafts)
    report.files["conversations.jsonl"] = len(lines)

    for name in ("synonyms.csv", "departments.csv"):
        if (folder / name).is_file():
            shutil.copyfile(folder / name, dest / name)
            os.chmod(dest / name, 0o600)
            report.files[name] = sum(
                1
                for line in (folder / name).read_text(encoding="utf-8-sig").splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            )

    public = town.model_copy(update={"admin_keys": [], "line": TownLine()})
    _write_private(dest / TOWN_FILE, dump_town(public))
    ts = town_settings(base, town)
    effective = {
        "town": town.id,
        "name": town.name,
        "answer": ts.answer.model_dump(mode="json", exclude={"departments_file"}),
        "widget": ts.widget.model_dump(mode="json"),
        "allowed_origins": ts.server.allowed_origins,
        "rate_limit_per_minute": ts.server.rate_limit_per_minute,
        "daily_cap": ts.server.daily_cap,
        "sources": town.sources,
    }
    _write_private(dest / "settings.json", json.dumps(effective, ensure_ascii=False, indent=2))
    _write_private(
        dest / "export.json",
        json.dumps({"town": town_id, "exported_at": started, "files": report.files}, indent=2),
    )
    registry.save(
        town.model_copy(update={"exported_at": time.time(), "export_dest": str(dest.resolve())})
    )
    return report


def _catalogue_sources(path: Path, store: StoreSettings | None = None) -> list[list[Any]]:
    if store is not None:  # a town's namespace on PostgreSQL (``ingest.shared``)
        from madoguchi.ingest import shared

        got = shared.source_rows(store)
    else:
        db = _ro(path)
        if db is None:
            return []
        try:
            got = db.execute(
                "SELECT source_id, title, kind, n_chunks, uri, indexed_at FROM sources"
                " ORDER BY source_id"
            ).fetchall()
        except sqlite3.Error:
            return []
        finally:
            db.close()
    return [
        [sid, title, kind, n, uri or "", time.strftime("%Y-%m-%d %H:%M", time.localtime(at or 0))]
        for sid, title, kind, n, uri, at in got
    ]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


# ---------------------------------------------------------------------------- removal


@dataclass
class RemovalReport:
    town: str
    sources: int
    chunks: int
    vectors: int
    turns: int
    files: int
    bytes: int
    left: int  # files still there afterwards (0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _vector_count(folder: Path) -> int:
    """Vectors in the town's embedded Chroma (all its collections)."""
    return _scalar(folder / "chroma" / "chroma.sqlite3", "SELECT COUNT(*) FROM embeddings")


def release_chroma(folder: Path) -> None:
    """Forget this process's Chroma client of a town's folder, so a town added again
    under the same id starts from an empty store rather than a stale cached one."""
    with contextlib.suppress(Exception):
        from chromadb.api.shared_system_client import SharedSystemClient

        path = str(folder / "chroma")
        systems = SharedSystemClient._identifier_to_system
        for ident in [i for i in systems if i == path]:
            system = systems.pop(ident)
            SharedSystemClient._identifier_to_refcount.pop(ident, None)
            with contextlib.suppress(Exception):
                system.stop()


def removal_blocker(
    registry: TownRegistry, town_id: str, store: StoreSettings | None = None
) -> str | None:
    """Why the town may not be removed without force: no export, or one older than its
    last question or ingest (in its schema too, with ``store`` on PostgreSQL); None
    when it may."""
    town = registry.get(town_id)
    if town.exported_at is None:
        return f"town {town_id!r} has not been exported (madoguchi towns export {town_id} DEST)"
    changed = last_change(registry.path(town_id))
    if store is not None and store.database_url:
        from madoguchi.ingest import shared

        ns = shared.for_namespace(store, town_id)
        changed = max(changed, shared.contents(ns, vectors=False).last_change)
    if changed > town.exported_at:
        return (
            f"town {town_id!r} changed after its last export "
            f"({time.strftime('%Y-%m-%d %H:%M', time.localtime(town.exported_at))}); export again"
        )
    return None


def remove_town(
    registry: TownRegistry,
    town_id: str,
    *,
    force: bool = False,
    store: StoreSettings | None = None,
) -> RemovalReport:
    """Delete a town: its documents, vectors, log, settings and keys. Refused (an
    ``InputError`` saying why) unless an export is up to date or ``force``. With the
    service's ``store`` on shared back-ends, the town's schema in PostgreSQL and its
    collections on the Chroma server go too (``ingest.shared``), and are what is counted."""
    folder = registry.path(town_id)
    registry.get(town_id)  # TownNotFound first
    if not force:
        why = removal_blocker(registry, town_id, store)
        if why:
            raise RemovalRefused(why + "; or remove with --force")
    cat = folder / "catalogue.sqlite"
    files = [p for p in folder.rglob("*") if p.is_file()]
    report = RemovalReport(
        town=town_id,
        sources=_scalar(cat, "SELECT COUNT(*) FROM sources"),
        chunks=_scalar(cat, "SELECT COUNT(*) FROM chunks"),
        vectors=_vector_count(folder),
        turns=_scalar(folder / "conversations.sqlite", "SELECT COUNT(*) FROM turns"),
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        left=0,
    )
    if store is not None:
        from madoguchi.ingest import shared

        if shared.is_shared(store):
            gone = shared.drop(shared.for_namespace(store, town_id))
            if store.database_url:
                report.sources, report.chunks, report.turns = gone.sources, gone.chunks, gone.turns
            if store.chroma_server:
                report.vectors = gone.vectors
    release_chroma(folder)
    # the file first: a half-deleted town is no longer served or listed
    (folder / TOWN_FILE).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    report.left = sum(1 for p in folder.rglob("*")) if folder.exists() else 0
    if report.left:
        raise ConfigError(f"town {town_id}: {report.left} file(s) could not be deleted in {folder}")
    return report


# ---------------------------------------------------------------------------- import


@dataclass
class ImportReport:
    town: str
    source: str
    sources: int
    chunks: int
    vectors: dict[str, int]  # passage, titles, leads
    turns: int
    synonyms: bool
    files_copied: int
    embedder_calls: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _NoEmbedder:
    """Stands in for the embedder while an import is checked: counts every call (an
    import that needed one would have to re-embed, which it must not)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        raise ConfigError("the imported index is missing vectors: it would need re-embedding")

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        raise ConfigError("no embedding while an import is checked")


def _backup(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (the online-backup API)."""
    try:
        s = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
        d = sqlite3.connect(str(dest))
        try:
            s.backup(d)
        finally:
            d.close()
            s.close()
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot copy {src}: {exc}") from exc


def _copy_tree(
    src: Path, dest: Path, skip: Iterable[Path] = (), skip_names: Iterable[str] = ()
) -> int:
    """Copy a data directory: SQLite files through backup, the rest as files; symbolic
    links, the folders of ``skip`` (the service's towns, the town itself) and the files
    named in ``skip_names`` (the index lock) are not copied."""
    skipped = {p.resolve() for p in skip}
    names = set(skip_names)
    n = 0
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    for entry in sorted(src.iterdir()):
        if (
            entry.is_symlink()
            or entry.resolve() in skipped
            or entry.name.endswith(_SIDE_FILES)
            or entry.name in (TOWN_FILE, TOWN_FILE + ".tmp")
            or entry.name in names
        ):
            continue
        target = dest / entry.name
        if entry.is_dir():
            n += _copy_tree(entry, target, skip, names)
        elif entry.is_file():
            if entry.suffix in (".sqlite", ".sqlite3", ".db"):
                _backup(entry, target)
            else:
                shutil.copy2(entry, target)
            with contextlib.suppress(OSError):
                os.chmod(target, entry.stat().st_mode & 0o700 or 0o600)
            n += 1
    return n


def import_town(
    base: Settings,
    registry: TownRegistry,
    town_id: str,
    source: Path,
    embedder: Any,
    *,
    lock_timeout: float = 1800.0,
) -> ImportReport:
    """Bring a single-town data directory into a registered town without re-embedding.

    The town must have no index yet, and the service must keep its vectors in embedded
    Chroma (the default). While the source's index lock is held (so that an ingest into
    it waits, as for ``madoguchi backup``), the catalogue, the conversation log and
    Chroma's own database are copied through SQLite's online-backup API (consistent while
    a server still reads them), Chroma's vector segment files, the synonym list, the
    departments table and other files as they are. Then the copy is opened as the town's
    index and checked: the same number of chunks as the source, a vector for every chunk,
    title and lead, and no call to the embedder. ``embedder`` is the service's: the index
    must have been built with it. A failed import leaves the town as it was.
    """
    from madoguchi.ingest.embed import embedder_name
    from madoguchi.ingest.index import Index
    from madoguchi.ingest.writelock import LOCK_NAME, DataDirLock
    from madoguchi.kit.fields import lead_of

    t0 = time.perf_counter()
    town = registry.get(town_id)
    folder = registry.path(town_id)
    source = Path(source)
    if base.store.kind != "chroma" or base.store.chroma_server or base.store.database_url:
        raise ConfigError(
            "towns import copies an embedded index (SQLite files, embedded Chroma): it needs "
            "store.kind = chroma without store.chroma_url or store.database_url (ingest the "
            "town's documents instead)"
        )
    if not source.is_dir():
        raise InputError(f"{source}: no such folder")
    cat = source / "catalogue.sqlite"
    if not cat.is_file():
        raise InputError(f"{source} holds no index (no catalogue.sqlite)")
    if source.resolve() == folder.resolve():
        raise InputError(f"{source} is the town's own folder")
    _clear_for_import(folder, town_id)
    label = embedder_name(embedder)
    before = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    try:
        with DataDirLock(source).hold(timeout=lock_timeout):
            chunks, sources, built_with = _index_counts(cat)
            if built_with is not None and built_with != label:
                raise ConfigError(
                    f"{source} was built with the embedder '{built_with}', but this service "
                    f"uses '{label}'; importing it would mean re-embedding "
                    f"(madoguchi ingest --town {town_id} ...)"
                )
            copied = _copy_tree(
                source, folder, skip=[source / TOWNS_DIR, folder], skip_names={LOCK_NAME}
            )
        ts = town_settings(base, town)
        guard = _NoEmbedder(label)
        index = Index(ts, guard)  # type: ignore[arg-type]
        try:
            ids = [r[0] for r in index.db.execute("SELECT id FROM chunks")]
            tids = {r[0] for r in index.db.execute("SELECT tid FROM chunks WHERE tid != ''")}
            leads = {
                r[0]
                for r in index.db.execute("SELECT id, meta FROM chunks")
                if lead_of(json.loads(r[1]))
            }
            have = {
                "passage": index.vectors.ids(),
                "titles": index.title_vectors.ids(),
                "leads": index.lead_vectors.ids(),
            }
        finally:
            index.close()
        problems = []
        if len(ids) != chunks:
            problems.append(f"{len(ids)} chunks copied of {chunks}")
        for what, want in (("passage", set(ids)), ("titles", tids), ("leads", leads)):
            missing = len(want - have[what])
            if missing:
                problems.append(f"{missing} {what} vectors missing")
        if guard.calls:
            problems.append(f"{guard.calls} embedder call(s)")
        if problems:
            raise ConfigError(
                f"import of {source} into {town_id} failed its check: {'; '.join(problems)}"
            )
    except BaseException:
        _undo_import(folder, before)
        raise
    registry.save(registry.get(town_id))  # a server holding the town reopens it
    return ImportReport(
        town=town_id,
        source=str(source),
        sources=sources,
        chunks=len(ids),
        vectors={k: len(v) for k, v in have.items()},
        turns=_scalar(folder / "conversations.sqlite", "SELECT COUNT(*) FROM turns"),
        synonyms=(folder / "synonyms.csv").is_file(),
        files_copied=copied,
        embedder_calls=guard.calls,
        seconds=round(time.perf_counter() - t0, 3),
    )


#: what a town's folder may hold before an import: its file, the index lock, and the
#: empty index and log that a first request opens (they are removed)
_EMPTY_OK = {TOWN_FILE, TOWN_FILE + ".tmp", "index.lock", "uploads"}
_EMPTY_INDEX = ("catalogue.sqlite", "conversations.sqlite", "chroma")


def _sqlite_rows(path: Path) -> int:
    """Rows in all the tables of a SQLite file (an unreadable one counts as data)."""
    db = _ro(path)
    if db is None:
        return 1
    try:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        # a schema's bookkeeping (its version, the embedder's name) is not the town's data
        skip = {"info", "meta", "schema_version", "migrations"}
        return sum(
            int(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])
            for t in tables
            if t not in skip
        )
    except sqlite3.Error:
        return 1
    finally:
        db.close()


def _empty_store(path: Path) -> bool:
    """A file the kit opened for the town and nothing wrote to yet: an empty index or
    Chroma folder, or another of its SQLite stores (hand-offs, LINE events) with no rows,
    or one of their side files."""
    name = path.name
    if name.startswith(_EMPTY_INDEX):
        return True
    base = name
    for side in _SIDE_FILES:
        if base.endswith(side):
            base = base[: -len(side)]
    main = path.with_name(base)
    return main.suffix == ".sqlite" and main.is_file() and _sqlite_rows(main) == 0


def _clear_for_import(folder: Path, town_id: str) -> None:
    """Refuse an import into a town with data of its own (an index, a log, hand-offs, its
    own synonyms or departments); remove the empty stores a first request created."""
    if not folder.is_dir():
        return
    cat, log = folder / "catalogue.sqlite", folder / "conversations.sqlite"
    if _scalar(cat, "SELECT COUNT(*) FROM sources") or _scalar(cat, "SELECT COUNT(*) FROM chunks"):
        raise InputError(
            f"town {town_id!r} has an index already; import only into a town with none"
        )
    if _scalar(log, "SELECT COUNT(*) FROM turns"):
        raise InputError(f"town {town_id!r} has a conversation log of its own; import refused")
    uploads = folder / "uploads"
    if uploads.is_dir() and any(uploads.iterdir()):
        raise InputError(f"town {town_id!r} holds uploaded documents; import refused")
    own = sorted(
        p.name for p in folder.iterdir() if p.name not in _EMPTY_OK and not _empty_store(p)
    )
    if own:
        raise InputError(
            f"town {town_id!r} holds files of its own ({', '.join(own[:5])}); import refused"
        )
    release_chroma(folder)
    for entry in list(folder.iterdir()):
        if entry.name in _EMPTY_OK:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _index_counts(cat: Path) -> tuple[int, int, str | None]:
    """Chunks, sources and the embedder's name of a catalogue."""
    db = _ro(cat)
    if db is None:
        raise InputError(f"cannot open {cat}")
    try:
        row = db.execute("SELECT value FROM info WHERE key='embedder'").fetchone()
        chunks = int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        sources = int(db.execute("SELECT COUNT(*) FROM sources").fetchone()[0])
    except sqlite3.Error as exc:
        raise InputError(f"{cat} is not a madoguchi index: {exc}") from exc
    finally:
        db.close()
    return chunks, sources, (str(row[0]) if row is not None else None)


def _undo_import(folder: Path, before: set[str]) -> None:
    """Delete what a failed import wrote into the town's folder (what was there stays)."""
    release_chroma(folder)
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name in before:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
