"""Files and folders on disk: PDF, HTML, Markdown, text, DOCX, PPTX, and CSV/XLSX (FAQ or table).

Source ids are the path as given on the command line, relative to the current
directory, with POSIX separators and no leading ``./`` (docs/ARCHITECTURE.md); a file
found inside a given folder gets the folder's id + "/" + its relative path.
Nothing is decoded or parsed here (that is ``ingest.parse``), except CSVs,
and XLSX workbooks, whose rows are the documents. A file that cannot be read, has an unsupported
type or is hidden is recorded in ``skipped`` and the walk goes on.

Symbolic links inside a given folder: a linked file is read only when its target lies
inside that folder (else skipped, "outside the folder"); a linked folder is never walked
and is reported as skipped, which also keeps link loops out. A folder or file named on the
command line is read wherever it points, since the user chose it. Files are opened with
``O_NOFOLLOW`` on the checked path, so a link swapped in after the check is not followed.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from madoguchi.connectors.faq_csv import FaqCsvConnector
from madoguchi.connectors.office import DOCX, PPTX, XLSX, XlsxConnector
from madoguchi.kit.config import IngestSettings
from madoguchi.kit.errors import KitError
from madoguchi.kit.types import SourceDocument

KINDS: dict[str, tuple[str, str]] = {
    ".pdf": ("pdf", "application/pdf"),
    ".html": ("page", "text/html"),
    ".htm": ("page", "text/html"),
    ".md": ("page", "text/markdown"),
    ".markdown": ("page", "text/markdown"),
    ".txt": ("text", "text/plain"),
    ".csv": ("faq", "text/csv"),
    ".docx": ("page", DOCX),
    ".pptx": ("page", PPTX),
    ".xlsx": ("table", XLSX),
    ".xlsm": ("table", XLSX),
}
# formats we cannot read, with what to do about them
LEGACY = {
    ".doc": "old Word format '.doc'; save it as .docx",
    ".xls": "old Excel format '.xls'; save it as .xlsx (or CSV)",
    ".ppt": "old PowerPoint format '.ppt'; save it as .pptx",
    ".jtd": "Ichitaro '.jtd'; save it as .docx or PDF",
}
MAX_FILE_BYTES = IngestSettings().max_file_bytes  # the default; settings.ingest decides
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def source_id_for(path: str | Path) -> str:
    """The source id (docs/ARCHITECTURE.md) of a path given by the user.

    Kept as given (an absolute path stays absolute, ``..`` stays), only with
    POSIX separators, without ``.`` components, repeated or trailing slashes.
    """
    s = str(path).replace(os.sep, "/").replace("\\", "/")
    absolute = s.startswith("/")
    parts = [x for x in PurePosixPath(s).parts if x not in (".", "/")]
    joined = "/".join(parts)
    if absolute:
        return "/" + joined
    return joined or "."


class FolderConnector:
    """Documents from files and folders, in a deterministic (sorted) order.

    ``base`` is where relative paths are read from (default: the current
    directory); it never shows in source ids, which stay as given.
    """

    def __init__(
        self,
        paths: list[str | Path] | list[str] | list[Path],
        base: Path | None = None,
        exclude: list[Path] | None = None,
        limits: IngestSettings | None = None,
    ):
        self.paths = [str(p) for p in paths]
        self.base = Path(base) if base is not None else Path.cwd()
        # folders never walked, silently: the index's own data directory
        self.exclude = {Path(p).resolve() for p in exclude or ()}
        self.limits = limits or IngestSettings()
        self.skipped: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []  # (source id, doubtful decoding) of tables

    def documents(self) -> Iterator[SourceDocument]:
        for given in self.paths:
            root = self.base / given  # an absolute ``given`` replaces base
            root_id = source_id_for(given)
            if root.is_dir():
                yield from self._walk(root, root_id)
            elif root.is_file():
                yield from self._file(root, root_id, None)
            elif root.exists():
                self.skipped.append((root_id, "not a regular file or folder"))
            else:
                self.skipped.append((root_id, "not found"))

    def _walk(self, root: Path, root_id: str) -> Iterator[SourceDocument]:
        def sid_of(p: Path) -> str:
            rel = p.relative_to(root).as_posix()
            return rel if root_id == "." else f"{root_id}/{rel}"

        def on_error(exc: OSError) -> None:
            where = Path(exc.filename) if exc.filename else root
            sid = sid_of(where) if where != root else root_id
            self.skipped.append((sid, f"cannot read folder: {exc.strerror or exc}"))

        top = root.resolve()
        files: list[Path] = []
        passed: list[tuple[str, str]] = []  # hidden, linked
        for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
            here = Path(dirpath)
            keep = []
            for d in dirnames:
                reason = self._skip_folder(here / d)
                if reason:
                    passed.append((sid_of(here / d), reason))
                elif (here / d).resolve() not in self.exclude:
                    keep.append(d)
            dirnames[:] = keep
            for name in filenames:
                reason = self._skip_name(here / name, top)
                if reason:
                    passed.append((sid_of(here / name), reason))
                else:
                    files.append(here / name)
        self.skipped.extend(sorted(passed))
        for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            yield from self._file(path, sid_of(path), top)

    @staticmethod
    def _skip_folder(path: Path) -> str | None:
        if path.name.startswith("."):
            return "hidden folder"
        if path.is_symlink():
            return "linked folder (symbolic link): not followed; give its target folder to index it"
        return None

    def _skip_name(self, path: Path, top: Path) -> str | None:
        if path.name.startswith("."):
            return "hidden file"
        if path.is_symlink():
            target = path.resolve()
            if not target.exists():
                return "cannot read: broken symbolic link (its target does not exist)"
            if not target.is_relative_to(top):
                return "symbolic link to a file outside the folder: not followed"
            if any(target.is_relative_to(e) for e in self.exclude):
                return "symbolic link into the index's data folder: not followed"
        return None

    def _file(self, path: Path, sid: str, top: Path | None) -> Iterator[SourceDocument]:
        """``top``: the walked folder whose checks ``path`` passed (None: named by the user)."""
        ext = path.suffix.lower()
        if ext in LEGACY:
            self.skipped.append((sid, f"unsupported: {LEGACY[ext]}"))
            return
        if ext not in KINDS:
            self.skipped.append((sid, f"unsupported file type '{ext or path.name}'"))
            return
        real = path.resolve() if top is not None and path.is_symlink() else path
        opened = self._open(real if top is not None else path, sid)
        if opened is None:
            return
        fd, size = opened
        kind, mime = KINDS[ext]
        if ext in (".csv", ".xlsx", ".xlsm"):
            os.close(fd)
            cls = FaqCsvConnector if ext == ".csv" else XlsxConnector
            conn = cls(real, sid, limits=self.limits, root=top)
            try:
                yield from conn.documents()
            except KitError as exc:
                self.skipped.append((sid, str(exc).removeprefix(f"{sid}: ")))
            self.skipped.extend(conn.skipped)
            self.warnings.extend(conn.warnings)
            return
        try:
            with os.fdopen(fd, "rb") as f:
                body = f.read(size + 1)
        except OSError as exc:
            self.skipped.append((sid, f"cannot read: {exc.strerror or exc}"))
            return
        if len(body) > self.limits.max_file_bytes:  # it grew since fstat
            self.skipped.append((sid, self._too_large(len(body))))
            return
        yield SourceDocument(
            source_id=sid,
            uri=sid,
            title=path.stem,
            body=body,
            mime=mime,
            meta={"kind": kind},
        )

    def _open(self, path: Path, sid: str) -> tuple[int, int] | None:
        """A read-only descriptor of a regular file within the size limit, and its size;
        the last path component is not followed if it is (or became) a link."""
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            reason = "symbolic link: not followed" if exc.errno == errno.ELOOP else None
            self.skipped.append((sid, reason or f"cannot read: {exc.strerror or exc}"))
            return None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            self.skipped.append((sid, "not a regular file"))
            return None
        if st.st_size > self.limits.max_file_bytes:
            os.close(fd)
            self.skipped.append((sid, self._too_large(st.st_size)))
            return None
        return fd, st.st_size

    def _too_large(self, size: int) -> str:
        return str(
            self.limits.exceeded("", "too large", size, "max_file_bytes", "bytes")
        ).removeprefix(": ")
