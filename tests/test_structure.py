"""The shape of the code, checked mechanically so that it cannot drift back.

- kit/ is the core: it imports nothing from connectors/, ingest/, ui/ or eval/;
- every import names the one installed package (``madoguchi.kit``, never ``kit``);
- no function outside tests/ and the data modules is longer than 120 lines;
- every package folder is in the wheel, and the wheel installs only ``madoguchi``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("kit", "connectors", "ingest", "ui", "eval")
OUTER = ("connectors", "ingest", "ui", "eval")
# modules that are data (question lists, the demo town's texts), not logic
DATA_MODULES = ("eval/datasets/", "demo/")
MAX_FUNCTION_LINES = 120


def _python_files(*folders: str) -> list[Path]:
    return sorted(
        p for f in folders for p in (REPO / f).rglob("*.py") if "__pycache__" not in p.parts
    )


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement names (top level, in functions, under
    TYPE_CHECKING), with its line; relative imports resolved against the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ["madoguchi", *path.relative_to(REPO).parent.parts]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                out.append(
                    (node.lineno, ".".join([*base, *([node.module] if node.module else [])]))
                )
            elif node.module:
                out.append((node.lineno, node.module))
    return out


def test_kit_imports_nothing_from_the_outer_packages():
    bad = [
        f"{p.relative_to(REPO)}:{line} imports {name}"
        for p in _python_files("kit")
        for line, name in _imports(p)
        if name.split(".")[:2] in (["madoguchi", o] for o in OUTER) or name.split(".")[0] in OUTER
    ]
    assert not bad, "kit/ is the core and must not import the outer packages:\n" + "\n".join(bad)


def test_imports_name_the_installed_package():
    bad = [
        f"{p.relative_to(REPO)}:{line} imports {name}"
        for p in _python_files(*SOURCES, "tests")
        for line, name in _imports(p)
        if name.split(".")[0] in SOURCES
    ]
    assert not bad, "import madoguchi.<folder>, not the bare folder:\n" + "\n".join(bad)


def test_the_check_sees_an_outer_import(tmp_path):
    """The import check itself can fail: a module importing ingest is caught."""
    probe = REPO / "kit" / "_probe_for_test.py"
    probe.write_text("def f():\n    from madoguchi.ingest.index import Index\n", encoding="utf-8")
    try:
        with pytest.raises(
            AssertionError, match=r"_probe_for_test\.py:2 imports madoguchi\.ingest"
        ):
            test_kit_imports_nothing_from_the_outer_packages()
    finally:
        probe.unlink()


def test_no_function_is_longer_than_120_lines():
    long = []
    for p in _python_files(*SOURCES):
        rel = p.relative_to(REPO).as_posix()
        if rel.startswith(DATA_MODULES):
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel}:{node.lineno} {node.name} has {n} lines")
    assert not long, "\n".join(long)


def test_every_package_folder_is_in_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(config["setuptools"]["packages"])
    found = {
        ".".join(["madoguchi", *init.parent.relative_to(REPO).parts])
        for folder in SOURCES
        for init in (REPO / folder).rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert all(name == "madoguchi" or name.startswith("madoguchi.") for name in listed)


@pytest.mark.slow
def test_the_wheel_installs_only_madoguchi(tmp_path):
    src = tmp_path / "src"  # a copy: building writes build/ and egg-info into the tree
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "madoguchi", *SOURCES):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, src / name, **({"symlinks": True} if copy is shutil.copytree else {}))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("madoguchi-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        top = next(n for n in names if n.endswith("top_level.txt"))
        assert z.read(top).decode().split() == ["madoguchi"]
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"madoguchi"}
    assert "madoguchi/ui/widget/widget.js" in names
    assert any(n.startswith("madoguchi/ui/templates/") for n in names)
    assert "madoguchi/kit/store.py" in names
