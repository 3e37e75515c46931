"""Folder walks: source ids as given (docs/ARCHITECTURE.md), kinds, CSV delegation, skips, order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from madoguchi.connectors.folder import FolderConnector, source_id_for
from madoguchi.kit.protocols import Connector


@pytest.fixture
def town(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "town"
    (root / "pages" / "sub").mkdir(parents=True)
    (root / "pdf").mkdir()
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("x")
    (root / "faq.csv").write_text("ID,質問,回答\n1,開庁時間は？,8時30分です。\n", encoding="utf-8")
    (root / "items.csv").write_bytes("品目,分別\nびん,資源\n".encode("cp932"))
    (root / "pages" / "gomi.html").write_bytes(b"<html><title>g</title><p>x</p></html>")
    (root / "pages" / "bousai.md").write_text("# 防災\n本文。", encoding="utf-8")
    (root / "pages" / "sub" / "memo.TXT").write_bytes("メモ".encode("cp932"))
    (root / "pages" / "old.htm").write_bytes(b"<p>old</p>")
    (root / "pages" / "guide.markdown").write_bytes(b"# g")
    (root / "pdf" / "guide.pdf").write_bytes(b"%PDF-1.4 not really")
    (root / "photo.png").write_bytes(b"\x89PNG")
    (root / ".DS_Store").write_bytes(b"\x00")
    (root / "broken.csv").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    return root


def ids(conn: FolderConnector) -> list[str]:
    return [d.source_id for d in conn.documents()]


def test_is_a_connector():
    assert isinstance(FolderConnector([]), Connector)


def test_folder_walk_ids_kinds_and_order(town):
    conn = FolderConnector(["town"])
    docs = list(conn.documents())
    got = {d.source_id: d for d in docs}
    assert [d.source_id for d in docs] == [
        "town/faq.csv#1",
        "town/items.csv#1",
        "town/pages/bousai.md",
        "town/pages/gomi.html",
        "town/pages/guide.markdown",
        "town/pages/old.htm",
        "town/pages/sub/memo.TXT",
        "town/pdf/guide.pdf",
    ]
    kinds = {sid: (d.meta["kind"], d.mime) for sid, d in got.items()}
    assert kinds == {
        "town/faq.csv#1": ("faq", "text/csv"),
        "town/items.csv#1": ("table", "text/csv"),
        "town/pages/bousai.md": ("page", "text/markdown"),
        "town/pages/gomi.html": ("page", "text/html"),
        "town/pages/guide.markdown": ("page", "text/markdown"),
        "town/pages/old.htm": ("page", "text/html"),
        "town/pages/sub/memo.TXT": ("text", "text/plain"),
        "town/pdf/guide.pdf": ("pdf", "application/pdf"),
    }
    # files are handed over as bytes: decoding is parse's job
    assert got["town/pages/sub/memo.TXT"].body == "メモ".encode("cp932")
    assert got["town/pdf/guide.pdf"].body == b"%PDF-1.4 not really"
    assert got["town/pages/bousai.md"].uri == "town/pages/bousai.md"
    assert got["town/items.csv#1"].title == "びん"


def test_skips_are_reported_not_raised(town):
    conn = FolderConnector(["town"])
    list(conn.documents())
    skipped = dict(conn.skipped)
    assert skipped["town/.git"] == "hidden folder"
    assert skipped["town/.DS_Store"] == "hidden file"
    assert "unsupported file type '.png'" in skipped["town/photo.png"]
    assert "no rows" in skipped["town/broken.csv"]
    assert not skipped["town/broken.csv"].startswith("town/")
    assert not any(s.startswith("town/.git/") for s in skipped)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("town", "town/faq.csv#1"),
        ("./town", "town/faq.csv#1"),
        ("town/", "town/faq.csv#1"),
        ("./town//", "town/faq.csv#1"),
        ("town/./", "town/faq.csv#1"),
        (".", "town/faq.csv#1"),
        ("town/faq.csv", "town/faq.csv#1"),
        ("./town/faq.csv", "town/faq.csv#1"),
    ],
)
def test_source_ids_are_the_path_as_given(town, given, expected):
    assert expected in ids(FolderConnector([given]))


def test_folder_given_from_inside(town, monkeypatch):
    monkeypatch.chdir(town)
    got = ids(FolderConnector(["."]))
    assert "faq.csv#1" in got and "pages/bousai.md" in got
    assert not any(s.startswith(("./", "/")) for s in got)
    assert ids(FolderConnector(["../town/pages/bousai.md"])) == ["../town/pages/bousai.md"]


def test_base_resolves_relative_paths_without_changing_ids(town, monkeypatch):
    monkeypatch.chdir(town / "pdf")
    got = ids(FolderConnector(["town/pages/bousai.md", "./town/faq.csv"], base=town.parent))
    assert got == ["town/pages/bousai.md", "town/faq.csv#1"]


def test_absolute_paths_stay_absolute_and_posix(town):
    got = ids(FolderConnector([str(town / "pages" / "bousai.md")]))
    assert got == [(town / "pages" / "bousai.md").as_posix()]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("./a/b.md", "a/b.md"),
        ("a//b.md", "a/b.md"),
        ("a/./b.md", "a/b.md"),
        ("./", "."),
        (".", "."),
        ("a/", "a"),
        ("../x/y.pdf", "../x/y.pdf"),
        ("/abs/./x.md", "/abs/x.md"),
        (Path("a") / "b.md", "a/b.md"),
    ],
)
def test_source_id_for(given, expected):
    assert source_id_for(given) == expected


def test_windows_separators_become_posix():
    assert source_id_for("town\\pages\\gomi.html") == "town/pages/gomi.html"


def test_missing_path_and_several_roots(town):
    conn = FolderConnector(["nowhere", "town/pages/bousai.md", "town/faq.csv"])
    assert ids(conn) == ["town/pages/bousai.md", "town/faq.csv#1"]
    assert conn.skipped == [("nowhere", "not found")]


def test_explicit_unsupported_file_is_skipped(town):
    conn = FolderConnector(["town/photo.png"])
    assert ids(conn) == []
    assert conn.skipped[0][0] == "town/photo.png"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_is_skipped_and_the_walk_goes_on(town):
    secret = town / "pages" / "secret.md"
    secret.write_text("# x")
    secret.chmod(0)
    try:
        conn = FolderConnector(["town/pages"])
        got = ids(conn)
    finally:
        secret.chmod(0o644)
    assert "town/pages/bousai.md" in got and "town/pages/secret.md" not in got
    assert "cannot read" in dict(conn.skipped)["town/pages/secret.md"]


def test_unreadable_file_is_skipped_even_as_root(town, monkeypatch):
    opener = os.open

    def refuse(path, *args, **kwargs):
        if "town/pages" in str(path):
            raise PermissionError(13, "Permission denied")
        return opener(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    conn = FolderConnector(["town/pages"])
    assert ids(conn) == []
    assert dict(conn.skipped)["town/pages/bousai.md"] == "cannot read: Permission denied"


def test_broken_symlink_is_skipped(town):
    (town / "pages" / "gone.md").symlink_to(town / "nothing.md")
    conn = FolderConnector(["town/pages"])
    assert "town/pages/gone.md" not in ids(conn)
    assert "cannot read" in dict(conn.skipped)["town/pages/gone.md"]


def test_walk_is_deterministic(town):
    assert ids(FolderConnector(["town"])) == ids(FolderConnector(["town"]))


# ------------------------------------------------------------------ symbolic links


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the town's, with what must not be indexed through a link."""
    out = tmp_path / "private"
    out.mkdir()
    (out / "secret.md").write_text("# 職員名簿\n非公開の内容。", encoding="utf-8")
    (out / "faq_en.csv").write_text("ID,Question,Answer\n1,secret?,leaked answer\n")
    return out


def test_linked_file_that_leaves_the_folder_is_skipped_with_a_reason(town, outside):
    (town / "pages" / "leak.md").symlink_to(outside / "secret.md")
    conn = FolderConnector(["town"])
    docs = list(conn.documents())
    assert "town/pages/leak.md" not in [d.source_id for d in docs]
    bodies = [
        d.body if isinstance(d.body, str) else d.body.decode("utf-8", "replace") for d in docs
    ]
    assert not any("非公開" in b for b in bodies)
    assert dict(conn.skipped)["town/pages/leak.md"] == (
        "symbolic link to a file outside the folder: not followed"
    )


def test_linked_file_inside_the_folder_is_read(town):
    (town / "pages" / "same.md").symlink_to(town / "pages" / "bousai.md")
    (town / "pages" / "rel.md").symlink_to("sub/../bousai.md")
    got = ids(FolderConnector(["town"]))
    assert {"town/pages/same.md", "town/pages/rel.md"} <= set(got)


def test_linked_folders_are_reported_and_not_walked(town, outside):
    (town / "pages" / "private").symlink_to(outside, target_is_directory=True)
    (town / "pages" / "loop").symlink_to(town, target_is_directory=True)  # a cycle
    (town / "pages" / "inner").symlink_to(town / "pdf", target_is_directory=True)
    conn = FolderConnector(["town"])
    got = ids(conn)
    assert not [s for s in got if "/private/" in s or "/loop/" in s or "/inner/" in s]
    skipped = dict(conn.skipped)
    for name in ("private", "loop", "inner"):
        assert skipped[f"town/pages/{name}"].startswith(
            "linked folder (symbolic link): not followed"
        )


def test_a_link_named_on_the_command_line_is_followed(town, outside, tmp_path):
    """The user chose it: a root given by path is read wherever it points."""
    (tmp_path / "shortcut").symlink_to(town, target_is_directory=True)
    assert "shortcut/pages/bousai.md" in ids(FolderConnector(["shortcut"]))


def test_faq_translation_linked_from_outside_is_not_read(town, outside):
    (town / "faq_en.csv").symlink_to(outside / "faq_en.csv")
    conn = FolderConnector(["town"])
    docs = {d.source_id: d for d in conn.documents()}
    assert "leaked answer" not in str(docs["town/faq.csv#1"].meta)
    skipped = dict(conn.skipped)
    assert "outside the folder" in skipped["town/faq_en.csv"]


def test_a_file_swapped_for_a_link_after_the_walk_is_not_followed(town, outside, monkeypatch):
    """Checked path, then opened with O_NOFOLLOW: a link put there in between fails."""
    conn = FolderConnector(["town/pages"])
    original = FolderConnector._open

    def swap_then_open(self, path, sid):
        if path.name == "bousai.md":
            path.unlink()
            path.symlink_to(outside / "secret.md")
        return original(self, path, sid)

    monkeypatch.setattr(FolderConnector, "_open", swap_then_open)
    docs = list(conn.documents())
    assert "town/pages/bousai.md" not in [d.source_id for d in docs]
    assert dict(conn.skipped)["town/pages/bousai.md"] == "symbolic link: not followed"
