"""The documentation stays inside the repository and its links keep working.

The README and docs/*.md are read on machines that have nothing but the
checkout (a town's server, a USB stick), so they must not send the reader to a
file outside it: no ``../``, no design notes that live elsewhere. One exception,
kept as narrow as the text allows: the benchmarks read third-party municipal
data from the sibling folder ``../shared/data``, which is not redistributed, so
docs/BENCHMARKS.md and eval/datasets/README.md (the two files that describe
those benchmarks) may name exactly that folder. eval/datasets/README.md and
demo/README.md sit below the root, so they may also use ``../`` inside a
Markdown link, as long as the link resolves to a file in the repository.

Every relative Markdown link must name a file in the repository and, when it
has a ``#fragment``, a heading of that file (GitHub's anchor rules). Links to
other sites are not used: the guide must read the same offline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: README.md and docs/*.md: no ``../`` at all (except the data folder where allowed).
TOP_DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
#: Docs below the root, whose links to docs/ need ``../``.
SUB_DOCS = [ROOT / "eval" / "datasets" / "README.md", ROOT / "demo" / "README.md"]
ALL_DOCS = TOP_DOCS + SUB_DOCS

#: The sibling data folder the benchmarks read, and the only files that may name it.
DATA_FOLDER = "../shared/data"
MAY_NAME_DATA_FOLDER = {"docs/BENCHMARKS.md", "eval/datasets/README.md"}

FORBIDDEN = ("DESIGN.md", "shared/DESIGN", "/work/")

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")
# [text](target "title") and ![alt](target); the text may hold one level of brackets
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^)]*)?\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
AUTOLINK = re.compile(r"<((?:https?|ftp|file|mailto):[^>\s]+)>")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def without_code(text: str) -> str:
    """The prose of a Markdown file: fenced blocks and code spans blanked out."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


def links(text: str) -> list[str]:
    prose = without_code(text)
    found = INLINE_LINK.findall(prose) + REFERENCE_DEF.findall(prose)
    return found + AUTOLINK.findall(prose)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, title in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(title)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def link_problem(doc: Path, target: str) -> str | None:
    """Why ``target`` (a link in ``doc``) is not a working link inside the repository."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
        return "points outside the repository"
    path_part, _, fragment = target.partition("#")
    if path_part.startswith("/"):
        return "is an absolute path"
    dest = (doc.parent / path_part).resolve() if path_part else doc
    if not dest.is_relative_to(ROOT):
        return "leaves the repository"
    if not dest.exists():
        return "names a file that does not exist"
    if fragment:
        if dest.suffix != ".md":
            return "has a #fragment on a file that is not Markdown"
        if fragment not in anchors(dest):
            return f"names no heading of {rel(dest)}"
    return None


def test_the_documents_exist():
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()
    assert (ROOT / "docs" / "BENCHMARKS.md").is_file()
    for doc in ALL_DOCS:
        assert doc.is_file(), rel(doc)


@pytest.mark.parametrize("doc", ALL_DOCS, ids=rel)
def test_no_reference_to_files_outside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    for word in FORBIDDEN:
        assert word not in text, f"{rel(doc)} mentions {word!r}"


def climbing_lines(doc, *, except_links: bool) -> list[int]:
    """Lines of ``doc`` with a '../' (the allowed data folder and, if asked, links aside:
    links are checked by test_relative_links_resolve)."""
    text = doc.read_text(encoding="utf-8")
    if except_links:
        text = INLINE_LINK.sub("", text)
    if rel(doc) in MAY_NAME_DATA_FOLDER:
        text = text.replace(DATA_FOLDER, "")
    return [n for n, line in enumerate(text.splitlines(), 1) if "../" in line]


@pytest.mark.parametrize("doc", TOP_DOCS, ids=rel)
def test_top_level_docs_never_climb_out(doc):
    lines = climbing_lines(doc, except_links=False)
    assert not lines, f"{rel(doc)}: '../' on line(s) {lines}"


@pytest.mark.parametrize("doc", SUB_DOCS, ids=rel)
def test_sub_docs_climb_only_through_links_into_the_repository(doc):
    lines = climbing_lines(doc, except_links=True)
    assert not lines, f"{rel(doc)}: '../' outside a link on line(s) {lines}"


@pytest.mark.parametrize("doc", ALL_DOCS, ids=rel)
def test_relative_links_resolve(doc):
    problems = []
    for target in links(doc.read_text(encoding="utf-8")):
        why = link_problem(doc, target)
        if why:
            problems.append(f"{target} {why}")
    assert not problems, f"{rel(doc)}: " + "; ".join(problems)


def test_readme_is_short_and_starts_with_set_up():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 450, f"README.md has {len(lines)} lines; move detail into docs/"
    head = "\n".join(lines[:40])
    assert "./run demo" in head
    assert "./run test" in head


def test_readme_links_to_the_architecture_and_the_benchmarks():
    targets = {t.partition("#")[0] for t in links((ROOT / "README.md").read_text("utf-8"))}
    assert {"docs/ARCHITECTURE.md", "docs/BENCHMARKS.md"} <= targets


def test_every_widget_attribute_is_documented():
    widget = (ROOT / "ui" / "widget" / "widget.js").read_text(encoding="utf-8")
    read = set(re.findall(r"\bds\.([a-zA-Z]+)", widget))
    assert read, "the widget no longer reads its script tag's dataset as ds.<name>"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    kebab = {"data-" + re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), n) for n in read}
    missing = sorted(a for a in kebab if f"`{a}`" not in readme)
    assert not missing, f"widget attributes missing from README.md: {missing}"


# ---- the checker itself, on made-up documents ---------------------------------------------


def test_checker_finds_links_but_not_code(tmp_path):
    text = (
        "See [the guide](docs/ARCHITECTURE.md#layout) and ![a](img.png).\n"
        "`[not](a-link.md)`\n\n```\n[nor](this.md)\n```\n[ref]: other.md\n"
    )
    assert links(text) == ["docs/ARCHITECTURE.md#layout", "img.png", "other.md"]


def test_checker_slugs_like_github():
    assert slug("Stable contracts") == "stable-contracts"
    assert slug("Evaluation sets (JSON Lines)") == "evaluation-sets-json-lines"
    assert slug("The town's synonym list (言い換え辞書)") == "the-towns-synonym-list-言い換え辞書"
    assert slug("`eval run`, step 2") == "eval-run-step-2"


def test_checker_rejects_links_out_of_the_repository():
    readme = ROOT / "README.md"
    assert link_problem(readme, "../shared/DESIGN.md") == "leaves the repository"
    assert link_problem(readme, "https://example.jp/") == "points outside the repository"
    assert link_problem(readme, "/etc/passwd") == "is an absolute path"
    assert link_problem(readme, "docs/NOPE.md") == "names a file that does not exist"
    assert link_problem(readme, "docs/ARCHITECTURE.md#no-such-heading") is not None
    assert link_problem(readme, "docs/ARCHITECTURE.md#stable-contracts") is None
    assert link_problem(readme, "#layout") is None
