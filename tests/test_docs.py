"""The documentation site: it builds without a warning, its internal links resolve, and no
docstring sends the reader to a markdown file the repository does not contain."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: markdown files named in docstrings that live outside the repository on purpose: each real
#: public data set carries its provenance in a SOURCES.md beside its files
EXTERNAL_MD = {"SOURCES.md"}

_MD = re.compile(r"[\w./-]*\w\.md\b")


def _docstrings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the module, class and function docstrings and ``#:`` comments."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                found.append((node.body[0].lineno, doc))
    found += [
        (i, line) for i, line in enumerate(source.splitlines(), 1) if line.lstrip().startswith("#:")
    ]
    return found


def _missing_md(text: str) -> list[str]:
    missing = []
    for name in _MD.findall(text):
        if Path(name).name in EXTERNAL_MD:
            continue
        if not any((base / name).is_file() for base in (ROOT, DOCS)):
            missing.append(name)
    return missing


def test_docstrings_name_only_markdown_files_the_repository_has():
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / "salesmkt").rglob("*.py"))
        for line, text in _docstrings(path)
        for name in _missing_md(text)
    ]
    assert problems == [], "docstrings cite files the repository lacks:\n" + "\n".join(problems)


def test_the_markdown_check_catches_a_missing_file():
    # the check above is only worth something if it fails on the old citations
    assert _missing_md("Semantics follow ``reference/kpis.md`` section 2") == ["reference/kpis.md"]
    assert _missing_md("see ``kpis.md``") == ["kpis.md"]
    assert _missing_md("see docs/semantics/kpis.md and docs/exports.md") == []
    assert _missing_md("the data set's SOURCES.md") == []


class _Links(HTMLParser):
    """The ``href`` values and the ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag in ("a", "link") and attrs.get("href") is not None:
            self.hrefs.append(attrs["href"])


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path) -> list[str]:
    """Every internal link of the built site whose page or anchor does not exist."""
    # _static/ holds the theme's templates and assets, not pages
    pages = {p: _parse(p) for p in site.rglob("*.html") if "_static" not in p.parts}
    broken = []
    for page, links in pages.items():
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("javascript:"):
                continue  # an external address, not checked (the site must build offline)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site)}: {href}"
            if not target.is_file():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no such anchor)")
    return broken


def test_link_check_finds_a_missing_page_and_anchor(tmp_path):
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><a href="b.html#here">b</a><a href="#top">t</a>'
        '<a href="c.html">c</a><a href="b.html#nowhere">x</a><a href="https://e.org/">e</a>'
    )
    (tmp_path / "b.html").write_text('<p id="here">B</p>')
    assert broken_links(tmp_path) == [
        "a.html: c.html (no such file)",
        "a.html: b.html#nowhere (no such anchor)",
    ]


@pytest.mark.slow
def test_site_builds_without_warnings_and_its_links_resolve(tmp_path):
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    # -W --keep-going: every warning (a broken reference, a docstring docutils cannot read,
    # a gallery script that fails) fails the build, and all of them are listed at once
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-5000:] or build.stdout[-5000:]
    for page in ["index.html", "semantics/kpis.html", "api/funnels.html", "exports.html"]:
        assert (out / page).is_file(), page
    # every public name of every domain package has its API page
    sys.path.insert(0, str(DOCS))
    try:
        import conf  # the docs' conf.py: the list of packages and their public names
    finally:
        sys.path.remove(str(DOCS))
    for package in conf.API_PACKAGES:
        for name, _ in conf.public_names(package):
            assert (out / "api" / "generated" / f"salesmkt.{package}.{name}.html").is_file()
    # every public plot_* function is drawn in the gallery
    import salesmkt

    gallery = "\n".join(p.read_text() for p in (DOCS / "gallery").rglob("plot_*.py"))
    plots = {n for n in salesmkt.__all__ if n.startswith("plot_")}
    assert {n for n in plots if f"salesmkt.{n}(" not in gallery} == set()
    assert len(list((out / "auto_gallery").rglob("*.html"))) >= 9
    assert broken_links(out) == []
