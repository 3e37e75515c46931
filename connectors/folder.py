"""Files and folders on disk: PDF, HTML, Markdown, text, DOCX, PPTX, and CSV/XLSX (FAQ or table).

Source ids are the path as given on the command line, relative to the current
directory, with POSIX separators and no leading ``./`` (docs/ARCHITECTURE.md); a file
found inside a given folder gets the folder's id + "/" + its relative path.
Nothing is decoded or parsed here (that is ``ingest.parse``), except CSVs,
and XLSX workbooks, whose rows are the documents. A file that cannot be read, has an unsupported
type or is hidden is recorded in ``skipped`` and the walk goes on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from madoguchi.connectors.faq_csv import FaqCsvConnector
from madoguchi.connectors.office import DOCX, PPTX, XLSX, XlsxConnector
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
MAX_FILE_BYTES = 50 * 1024 * 1024


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
    ):
        self.paths = [str(p) for p in paths]
        self.base = Path(base) if base is not None else Path.cwd()
        # folders never walked, silently: the index's own data directory
        self.exclude = {Path(p).resolve() for p in exclude or ()}
        self.skipped: list[tuple[str, str]] = []

    def documents(self) -> Iterator[SourceDocument]:
        for given in self.paths:
            root = self.base / given  # an absolute ``given`` replaces base
            root_id = source_id_for(given)
            if root.is_dir():
                yield from self._walk(root, root_id)
            elif root.is_file():
                yield from self._file(root, root_id)
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

        files: list[Path] = []
        hidden: list[tuple[str, str]] = []
        for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
            here = Path(dirpath)
            for d in dirnames:
                if d.startswith("."):
                    hidden.append((sid_of(here / d), "hidden folder"))
            dirnames[:] = [
                d
                for d in dirnames
                if not d.startswith(".") and (here / d).resolve() not in self.exclude
            ]
            for name in filenames:
                if name.startswith("."):
                    hidden.append((sid_of(here / name), "hidden file"))
                else:
                    files.append(here / name)
        self.skipped.extend(sorted(hidden))
        for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            yield from self._file(path, sid_of(path))

    def _file(self, path: Path, sid: str) -> Iterator[SourceDocument]:
        ext = path.suffix.lower()
        if ext in LEGACY:
            self.skipped.append((sid, f"unsupported: {LEGACY[ext]}"))
            return
        if ext not in KINDS:
            self.skipped.append((sid, f"unsupported file type '{ext or path.name}'"))
            return
        try:
            st = path.stat()
        except OSError as exc:
            self.skipped.append((sid, f"cannot read: {exc.strerror or exc}"))
            return
        if not stat.S_ISREG(st.st_mode):
            self.skipped.append((sid, "not a regular file"))
            return
        if st.st_size > MAX_FILE_BYTES:
            self.skipped.append((sid, f"too large ({st.st_size:,} bytes > {MAX_FILE_BYTES:,})"))
            return
        kind, mime = KINDS[ext]
        if ext in (".csv", ".xlsx", ".xlsm"):
            conn = FaqCsvConnector(path, sid) if ext == ".csv" else XlsxConnector(path, sid)
            try:
                yield from conn.documents()
            except KitError as exc:
                self.skipped.append((sid, str(exc).removeprefix(f"{sid}: ")))
            self.skipped.extend(conn.skipped)
            return
        try:
            body = path.read_bytes()
        except OSError as exc:
            self.skipped.append((sid, f"cannot read: {exc.strerror or exc}"))
            return
        yield SourceDocument(
            source_id=sid,
            uri=sid,
            title=path.stem,
            body=body,
            mime=mime,
            meta={"kind": kind},
        )
