"""Files and folders on disk: PDF, HTML, Markdown, text, and CSV (FAQ or table).

Source ids are the path as given on the command line, relative to the current
directory, with POSIX separators and no leading ``./`` (DESIGN.md §4); a file
found inside a given folder gets the folder's id + "/" + its relative path.
Nothing is decoded or parsed here (that is ``ingest.parse``), except CSVs,
whose rows are the documents. A file that cannot be read is recorded in
``skipped`` and the walk goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from connectors.faq_csv import FaqCsvConnector
from kit.errors import KitError
from kit.types import SourceDocument

KINDS: dict[str, tuple[str, str]] = {
    ".pdf": ("pdf", "application/pdf"),
    ".html": ("page", "text/html"),
    ".htm": ("page", "text/html"),
    ".md": ("page", "text/markdown"),
    ".markdown": ("page", "text/markdown"),
    ".txt": ("text", "text/plain"),
    ".csv": ("faq", "text/csv"),
}
MAX_FILE_BYTES = 50 * 1024 * 1024


def source_id_for(path: str | Path) -> str:
    """The DESIGN §4 source id of a path given by the user."""
    s = str(path).replace(os.sep, "/")
    p = PurePosixPath(s)
    if not p.is_absolute():
        parts = [x for x in p.parts if x != "."]
        s = "/".join(parts) if parts else "."
    return s.rstrip("/") if len(s) > 1 else s


class FolderConnector:
    def __init__(self, paths: list[str | Path] | list[str] | list[Path]) -> None:
        self.paths = [str(p) for p in paths]
        self.skipped: list[tuple[str, str]] = []

    def documents(self) -> Iterator[SourceDocument]:
        for given in self.paths:
            root = Path(given)
            root_id = source_id_for(given)
            if root.is_dir():
                for f in sorted(root.rglob("*")):
                    rel = f.relative_to(root)
                    if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                        continue
                    sid = rel.as_posix() if root_id == "." else f"{root_id}/{rel.as_posix()}"
                    yield from self._file(f, sid)
            elif root.is_file():
                yield from self._file(root, root_id)
            else:
                self.skipped.append((root_id, "not found"))

    def _file(self, path: Path, sid: str) -> Iterator[SourceDocument]:
        ext = path.suffix.lower()
        if ext not in KINDS:
            self.skipped.append((sid, f"unsupported file type '{ext or path.name}'"))
            return
        try:
            size = path.stat().st_size
        except OSError as exc:
            self.skipped.append((sid, f"cannot read: {exc.strerror or exc}"))
            return
        if size > MAX_FILE_BYTES:
            self.skipped.append((sid, f"too large ({size:,} bytes > {MAX_FILE_BYTES:,})"))
            return
        kind, mime = KINDS[ext]
        if ext == ".csv":
            conn = FaqCsvConnector(path, sid)
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
