"""``madoguchi backup`` and ``madoguchi restore``: a consistent copy of a town's data,
taken while the server runs, and brought back into a new data directory.

A backup is a folder (or, when its name ends in ``.tar.gz``, one file holding it)::

    manifest.json          versions, the index generation, counts, every file's size and sha256
    data/                  the data directory: catalogue.sqlite, chroma/, conversations.sqlite,
                           schedule.sqlite, synonyms.csv, departments.csv, ...
    extra/                 the synonym and department lists when the settings keep them elsewhere
    config/                the settings file and the town's sync file (town.toml), when given
    uploads/               documents staff uploaded on the admin screen (indexed from there)

How it stays consistent while residents ask and a sync may write:

- every SQLite file (the catalogue, Chroma's own ``chroma.sqlite3``, the conversation
  log, the schedule's state) is copied with SQLite's online-backup API, which gives one
  committed state even while another process writes;
- the index (catalogue + Chroma) is copied while holding the index's write lock
  (``ingest.writelock``, an ``flock`` every writer of the index takes), so no ingest,
  sync or repair is half-way through while its files are read; questions keep being
  answered meanwhile (they only read);
- the copy is then opened and checked (``ingest.consistency``): its catalogue and its
  vectors must agree as the live index did; the manifest records the generation and
  the vector counts of the copy;
- the conversation log is copied first, on its own: the manifest's ``log_rows`` is the
  number of rows in the copy, i.e. at snapshot time.

The backup is written under a temporary name and renamed when complete, so a folder
named like the backup is always a whole one. ``restore`` checks every file's checksum
before writing anything, refuses a data directory that is not empty (``force`` moves
the old one aside, it never deletes it), and checks the restored index again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from madoguchi.ingest.consistency import CATALOGUE, check_index
from madoguchi.ingest.writelock import LOCK_NAME, DataDirLock
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import FILENAME as LOG_FILE
from madoguchi.kit.errors import InputError, StoreError

MANIFEST = "manifest.json"
FORMAT = 1
#: a summary of the last backup, in the data directory (``madoguchi doctor`` reads it)
LAST_BACKUP = "last_backup.json"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BackupFile:
    path: str  # inside the backup, with /
    size: int
    sha256: str
    role: (
        str  # catalogue | vectors | log | data | synonyms | departments | settings | sync | upload
    )

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "role": self.role}


@dataclass
class Manifest:
    created_at: str
    versions: dict[str, str]
    data_dir: str
    embedder: str | None
    generation: int
    sources: int
    chunks: int
    vectors: dict[str, int]
    log_rows: int | None
    files: list[BackupFile]
    originals: dict[str, str] = field(default_factory=dict)  # role -> where it was
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    format: int = FORMAT

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "created_at": self.created_at,
            "versions": self.versions,
            "data_dir": self.data_dir,
            "embedder": self.embedder,
            "generation": self.generation,
            "sources": self.sources,
            "chunks": self.chunks,
            "vectors": self.vectors,
            "log_rows": self.log_rows,
            "files": [f.to_json() for f in self.files],
            "total_bytes": self.total_bytes,
            "originals": self.originals,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        try:
            if data.get("format") != FORMAT:
                raise InputError(
                    f"backup format {data.get('format')!r} is not one this version reads ({FORMAT})"
                )
            return cls(
                created_at=str(data["created_at"]),
                versions=dict(data["versions"]),
                data_dir=str(data["data_dir"]),
                embedder=data.get("embedder"),
                generation=int(data["generation"]),
                sources=int(data.get("sources", 0)),
                chunks=int(data["chunks"]),
                vectors={str(k): int(v) for k, v in data.get("vectors", {}).items()},
                log_rows=None if data.get("log_rows") is None else int(data["log_rows"]),
                files=[
                    BackupFile(str(f["path"]), int(f["size"]), str(f["sha256"]), str(f["role"]))
                    for f in data["files"]
                ],
                originals={str(k): str(v) for k, v in data.get("originals", {}).items()},
                warnings=[str(w) for w in data.get("warnings", [])],
                seconds=float(data.get("seconds", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{MANIFEST} is damaged: {exc}") from exc


def versions() -> dict[str, str]:
    """The versions a backup was made with (madoguchi, schema, Python, SQLite, Chroma)."""
    import madoguchi
    from madoguchi.ingest.migrations import MIGRATIONS

    out = {
        "madoguchi": madoguchi.__version__,
        "schema": MIGRATIONS[-1].__name__,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        from importlib.metadata import version

        out["chromadb"] = version("chromadb")
    except Exception:  # pragma: no cover - chromadb not installed as a distribution
        pass
    return out


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def copy_sqlite(src: Path, dest: Path) -> None:
    """One committed state of ``src`` (even while another process writes it) in ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        s = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        d = sqlite3.connect(dest)
        try:
            s.backup(d)
            d.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            d.close()
            s.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot copy {src}: {exc}") from exc


def _copy_tree(src: Path, dest: Path, *, skip: Callable[[Path], bool]) -> None:
    """Copy a folder: SQLite files through the backup API, the rest byte for byte."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_symlink() or skip(path) or path.name.endswith(_SKIP_SUFFIXES):
            continue
        target = dest / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            if is_sqlite(path):
                copy_sqlite(path, target)
            else:
                shutil.copyfile(path, target)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def upload_dir_of(settings: Settings) -> Path:
    """Where the admin screen keeps uploads (``ui.admin.upload_dir_for``)."""
    if settings.server.upload_dir is not None:
        return Path(settings.server.upload_dir)
    d = Path(settings.data_dir)
    return d.parent / f"{d.name}-uploads"


def _role(rel: str) -> str:
    if rel == f"data/{CATALOGUE}":
        return "catalogue"
    if rel.startswith("data/chroma/"):
        return "vectors"
    if rel == f"data/{LOG_FILE}":
        return "log"
    return {
        "data/synonyms.csv": "synonyms",
        "data/departments.csv": "departments",
        "extra/synonyms.csv": "synonyms",
        "extra/departments.csv": "departments",
        "config/settings.toml": "settings",
        "config/town.toml": "sync",
    }.get(rel, "upload" if rel.startswith("uploads/") else "data")


def _fresh_dest(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(f"{dest} already exists and is not empty; name a new folder or file")


def backup(
    settings: Settings,
    dest: Path | str,
    *,
    settings_file: Path | None = None,
    sync_file: Path | None = None,
    uploads: bool = True,
    lock: DataDirLock | None = None,
    lock_timeout: float = 1800.0,
    progress: Progress | None = None,
) -> Manifest:
    """Write a backup of ``settings.data_dir`` to ``dest`` (a new folder, or a ``.tar.gz``).

    ``lock`` is the index's own write lock when the caller holds the index in this
    process (the server); by default one is taken on the data directory. Waits at
    most ``lock_timeout`` seconds for a running ingest or sync to finish a write."""
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    data_dir = Path(settings.data_dir)
    if settings.store.database_url:
        raise InputError(
            "the index and the log are kept by PostgreSQL (store.database_url), not in "
            f"{data_dir}: back them up with pg_dump, and the Chroma server's folder "
            "(docs/SHARED_BACKENDS.md, Backups)"
        )
    if not (data_dir / CATALOGUE).is_file():
        raise InputError(
            f"{data_dir}: no index here (catalogue.sqlite missing); nothing to back up"
        )
    for given in (settings_file, sync_file):
        if given is not None and not Path(given).is_file():
            raise InputError(f"{given}: no such file")
    dest = Path(dest)
    archive = dest.name.endswith((".tar.gz", ".tgz"))
    _fresh_dest(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        manifest = _write_backup(
            settings, work, settings_file, sync_file, uploads, lock, lock_timeout, say
        )
        manifest.seconds = time.perf_counter() - t0
        (work / MANIFEST).write_text(
            json.dumps(manifest.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if archive:
            say("一つのファイルにまとめています (packing)")
            partial = dest.parent / f".{dest.name}.partial"
            with tarfile.open(partial, "w:gz") as tar:
                for p in sorted(work.iterdir()):
                    tar.add(p, arcname=p.name)
            os.replace(partial, dest)
        else:
            if dest.exists():
                dest.rmdir()  # an empty folder the caller made
            os.replace(work, dest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    _note_last_backup(data_dir, dest, manifest)
    return manifest


def _write_backup(
    settings: Settings,
    work: Path,
    settings_file: Path | None,
    sync_file: Path | None,
    uploads: bool,
    lock: DataDirLock | None,
    lock_timeout: float,
    say: Progress,
) -> Manifest:
    data_dir = Path(settings.data_dir)
    out = work / "data"
    out.mkdir()
    warnings: list[str] = []
    originals: dict[str, str] = {"data_dir": str(data_dir.resolve())}
    created = datetime.now(UTC).isoformat(timespec="seconds")
    # 1. the conversation log, on its own (it has its own writers and lock)
    log_rows: int | None = None
    if (data_dir / LOG_FILE).is_file():
        say("会話ログを写しています (conversation log)")
        copy_sqlite(data_dir / LOG_FILE, out / LOG_FILE)
        with sqlite3.connect(out / LOG_FILE) as db:
            log_rows = int(db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
        db.close()
    # 2. the index and everything else in the data directory, between two writes
    say("索引を写しています (index)")

    def skip(p: Path) -> bool:
        return p.name == LOCK_NAME or p.name == LAST_BACKUP or p == data_dir / LOG_FILE

    if settings.store.chroma_server:
        warnings.append(
            f"the vectors are kept by the Chroma server {settings.store.chroma_server[0]}, "
            "not in the data directory: back that server up too"
        )

    check = None
    for attempt in range(3):
        with (lock or DataDirLock(data_dir)).hold(timeout=lock_timeout):
            _copy_tree(data_dir, out, skip=skip)
        # 3. the copy must open and agree with itself as the live index did
        check = check_index(settings.model_copy(update={"data_dir": out}))
        if check.consistent or attempt == 2:
            break
        for p in out.iterdir():  # copy again: Chroma may have flushed in between
            if p.name != LOG_FILE:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    assert check is not None
    for f in check.fields:
        if not f.ok:
            warnings.append(
                f"{f.field}: {f.n_missing} vectors missing, {f.n_orphans} orphan vectors in the "
                "index itself (madoguchi doctor --repair fixes it)"
            )
    _copy_outside(settings, work, settings_file, sync_file, uploads, originals, say)
    say("チェックサムを計算しています (checksums)")
    files = [
        BackupFile(rel, p.stat().st_size, sha256_of(p), _role(rel))
        for p in sorted(work.rglob("*"))
        if p.is_file() and (rel := p.relative_to(work).as_posix()) != MANIFEST
    ]
    return Manifest(
        created_at=created,
        versions=versions(),
        data_dir=str(data_dir.resolve()),
        embedder=check.embedder,
        generation=check.generation,
        sources=check.sources,
        chunks=check.chunks,
        vectors={f.field: f.stored for f in check.fields},
        log_rows=log_rows,
        files=files,
        originals=originals,
        warnings=warnings,
    )


def _copy_outside(
    settings: Settings,
    work: Path,
    settings_file: Path | None,
    sync_file: Path | None,
    uploads: bool,
    originals: dict[str, str],
    say: Progress,
) -> None:
    """What lives outside the data directory: lists kept elsewhere, settings, uploads."""
    data_dir = Path(settings.data_dir)
    uploads_dir = upload_dir_of(settings)
    extra = work / "extra"
    for role, path in (
        ("synonyms", settings.synonyms_path),
        ("departments", settings.departments_path),
    ):
        if path.is_file() and not _inside(path, data_dir):
            extra.mkdir(exist_ok=True)
            shutil.copyfile(path, extra / f"{role}.csv")
            originals[role] = str(path.resolve())
    conf = work / "config"
    for role, name, given in (
        ("settings", "settings.toml", settings_file),
        ("sync", "town.toml", sync_file),
    ):
        if given is None:
            continue
        conf.mkdir(exist_ok=True)
        shutil.copyfile(given, conf / name)
        originals[role] = str(Path(given).resolve())
    if uploads and uploads_dir.is_dir():
        say("取り込んだ資料を写しています (uploads)")
        _copy_tree(uploads_dir, work / "uploads", skip=lambda _p: False)
        originals["uploads"] = str(uploads_dir.resolve())


def _note_last_backup(data_dir: Path, dest: Path, manifest: Manifest) -> None:
    note = {
        "created_at": manifest.created_at,
        "dest": str(dest.resolve()),
        "generation": manifest.generation,
        "bytes": manifest.total_bytes,
    }
    with contextlib.suppress(OSError):  # a read-only data dir: the backup itself is fine
        (data_dir / LAST_BACKUP).write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")


# ---- restore ---------------------------------------------------------------------------


@dataclass
class RestoreReport:
    manifest: Manifest
    data_dir: Path
    files: int = 0
    bytes: int = 0
    moved_aside: Path | None = None
    config_dir: Path | None = None
    upload_dir: Path | None = None
    log_rows: int | None = None
    generation: int = 0
    chunks: int = 0
    consistent: bool = True
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "files": self.files,
            "bytes": self.bytes,
            "moved_aside": str(self.moved_aside) if self.moved_aside else None,
            "config_dir": str(self.config_dir) if self.config_dir else None,
            "upload_dir": str(self.upload_dir) if self.upload_dir else None,
            "generation": self.generation,
            "chunks": self.chunks,
            "log_rows": self.log_rows,
            "consistent": self.consistent,
            "backup": {
                "created_at": self.manifest.created_at,
                "generation": self.manifest.generation,
                "log_rows": self.manifest.log_rows,
                "versions": self.manifest.versions,
            },
            "notes": self.notes,
        }


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder}: not a madoguchi backup ({MANIFEST} missing)")
    try:
        return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc


def verify(folder: Path, manifest: Manifest | None = None) -> list[str]:
    """Every problem with a backup folder's files (missing, wrong size, wrong sha256)."""
    manifest = manifest or read_manifest(folder)
    problems = []
    for f in manifest.files:
        p = folder / f.path
        if ".." in Path(f.path).parts or Path(f.path).is_absolute():
            problems.append(f"{f.path}: not a path inside the backup")
        elif not p.is_file():
            problems.append(f"{f.path}: missing")
        elif p.stat().st_size != f.size:
            problems.append(f"{f.path}: {p.stat().st_size} bytes, the manifest says {f.size}")
        elif sha256_of(p) != f.sha256:
            problems.append(f"{f.path}: checksum differs (the file is damaged)")
    return problems


def _destination(
    f: BackupFile,
    manifest: Manifest,
    target: Path,
    conf_dir: Path,
    up_dir: Path,
    report: RestoreReport,
) -> Path | None:
    """Where a backed-up file goes back to (None: a part this version does not know)."""
    top, *rest = Path(f.path).parts
    if top == "data":
        return target.joinpath(*rest)
    if top == "extra":  # lists kept outside the data directory: to their default places
        dest = target.joinpath(*rest)
        report.notes.append(
            f"{dest.name} was kept at {manifest.originals.get(f.role, '?')}; "
            f"restored to {dest} (the default place)"
        )
    elif top == "config":
        dest = conf_dir.joinpath(*rest)
        report.config_dir = conf_dir
    elif top == "uploads":
        dest = up_dir.joinpath(*rest)
        report.upload_dir = up_dir
    else:
        return None
    if dest.exists():
        raise InputError(f"{dest} already exists; it was not overwritten")
    return dest


def _restore_archive(src: Path, restore_folder: Callable[[Path], RestoreReport]) -> RestoreReport:
    with tempfile.TemporaryDirectory(prefix="madoguchi-restore-") as tmp:
        try:
            with tarfile.open(src) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise InputError(f"{src}: cannot unpack: {exc}") from exc
        return restore_folder(Path(tmp))


def restore(
    src: Path | str,
    data_dir: Path | str,
    *,
    force: bool = False,
    settings: Settings | None = None,
    config_dir: Path | None = None,
    upload_dir: Path | None = None,
) -> RestoreReport:
    """Bring a backup (folder or ``.tar.gz``) back into ``data_dir``; see the module docstring.

    ``settings`` give the embedder and store settings to check the restored index with
    (the data directory is replaced by ``data_dir``)."""
    src = Path(src)
    if src.is_file() and src.name.endswith((".tar.gz", ".tgz")):
        return _restore_archive(
            src,
            lambda folder: restore(
                folder,
                data_dir,
                force=force,
                settings=settings,
                config_dir=config_dir,
                upload_dir=upload_dir,
            ),
        )
    if not src.is_dir():
        raise InputError(f"{src}: no such backup folder or .tar.gz file")
    manifest = read_manifest(src)
    problems = verify(src, manifest)
    if problems:
        raise InputError(
            f"{src}: the backup is damaged, nothing was restored: " + "; ".join(problems[:10])
        )
    target = Path(data_dir)
    report = RestoreReport(manifest, target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        if not force:
            raise InputError(
                f"{target} is not empty; restore into a new folder, or add --force "
                "(the current folder is then renamed, not deleted)"
            )
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = target.with_name(f"{target.name}.before-restore-{stamp}")
        os.replace(target, aside)
        report.moved_aside = aside
    target.mkdir(parents=True, exist_ok=True)
    base = settings or Settings()
    settings = base.model_copy(update={"data_dir": target})
    conf_dir = config_dir or target.parent / f"{target.name}-config"
    up_dir = upload_dir or upload_dir_of(settings)
    for f in manifest.files:
        dest = _destination(f, manifest, target, conf_dir, up_dir, report)
        if dest is None:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / f.path, dest)
        if sha256_of(dest) != f.sha256:
            raise StoreError(f"{dest}: written, but its checksum differs (a failing disk?)")
        if f.role == "log" and os.name != "nt":
            os.chmod(dest, 0o600)
        report.files += 1
        report.bytes += f.size
    check = check_index(settings)
    report.generation = check.generation
    report.chunks = check.chunks
    report.consistent = check.consistent and check.generation == manifest.generation
    if not report.consistent:
        report.notes.append("the restored index does not agree with itself: run madoguchi doctor")
    if (target / LOG_FILE).is_file():
        with sqlite3.connect(target / LOG_FILE) as db:
            report.log_rows = int(db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
        db.close()
    if report.upload_dir is not None and "uploads" in manifest.originals:
        report.notes.append(
            f"uploads restored to {report.upload_dir} (they were in {manifest.originals['uploads']})"
        )
    return report
