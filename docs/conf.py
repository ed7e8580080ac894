"""Sphinx configuration of the salesmkt documentation (``make docs``).

The API pages (``api/<package>.rst``) are written here at each build from each package's
``__all__``, so a public name added to a package's table appears without editing the docs.
The gallery (``gallery/plot_*.py``) runs on the sample company through sphinx-gallery.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import salesmkt  # noqa: E402

project = "salesmkt"
author = "the salesmkt developers"
copyright = "the salesmkt developers, MIT licence"
release = version = salesmkt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# class pages list only the methods a class defines (see the template's comment)
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "semantics/generated",
    "gallery/README.rst",
    "gallery/*/README.rst",
    "**.ipynb_checkpoints",
]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API: one page per public name, from each package's table of public names
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpydoc Parameters section states the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

intersphinx_mapping: dict[str, tuple[str, None]] = {}

html_theme = "pydata_sphinx_theme"
html_title = f"salesmkt {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False

# Gallery: every public plot_* function drawn on the sample company, grouped by domain
sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["auto_gallery"],
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
}

# -- API pages, one per domain package, from salesmkt.<package>.__all__ ----------------------

#: package -> (title, one-line description) in the order of the site's navigation
API_PACKAGES = {
    "data": ("Data contract", "Tables, validation, channels, periods and the data check."),
    "io": ("Loading", "Load a folder, a file, a database or the sample company."),
    "sources": ("Vendor exports", "HubSpot, Salesforce, GA4 and mapped exports."),
    "funnels": ("Funnels", "Event funnels, the lifecycle funnel and time in stage."),
    "kpis": ("KPIs", "The KPI catalog, KPI tables, targets, scorecard and SLA."),
    "campaigns": ("Campaigns", "Spend and returns, journeys, attribution, lift and holdout."),
    "personas": ("Personas", "Persona model, k selection, cards, persona file and RFM."),
    "scoring": (
        "Lead score",
        "LeadScorer, snapshots, leakage, reasons, quality, drift, MQL threshold.",
    ),
    "forecast": ("Forecast", "Win probability, time to close, revenue forecast and backtest."),
    "reports": ("Reports", "The report pipeline and the reports on public data sets."),
}


def public_names(package: str) -> list[tuple[str, str]]:
    """``(name, defining module)`` of every public name of ``salesmkt.<package>``."""
    module = importlib.import_module(f"salesmkt.{package}")
    return [(n, _home(module, n)) for n in module.__all__]


def _home(module, name: str) -> str:
    value = getattr(module, name)
    home = getattr(value, "__module__", None)
    return home if home and home.startswith("salesmkt") else module.__name__


def write_api_pages(app=None) -> None:
    """Write ``api/<package>.rst`` (autosummary tables) for every domain package."""
    api = DOCS / "api"
    api.mkdir(exist_ok=True)
    # stubs of names a package no longer offers would still be read (and fail to import)
    shutil.rmtree(api / "generated", ignore_errors=True)
    for package, (title, blurb) in API_PACKAGES.items():
        heading = f"``salesmkt.{package}``: {title}"
        lines = [heading, "=" * len(heading), "", blurb, ""]
        lines += [f".. currentmodule:: salesmkt.{package}", ""]
        module = importlib.import_module(f"salesmkt.{package}")
        doc = (module.__doc__ or "").strip().split("\n\n")[0]
        if doc and getattr(module, "__all__", None):
            lines += [" ".join(doc.split()), ""]
        by_kind: dict[str, list[str]] = {"Functions": [], "Classes": [], "Constants": []}
        for name, home in public_names(package):
            value = getattr(importlib.import_module(home), name)
            kind = (
                "Classes"
                if isinstance(value, type)
                else "Functions"
                if callable(value)
                else "Constants"
            )
            by_kind[kind].append(name)
        for kind, targets in by_kind.items():
            if not targets:
                continue
            lines += [
                kind,
                "-" * len(kind),
                "",
                ".. autosummary::",
                "   :toctree: generated",
                "   :nosignatures:",
                "",
            ]
            lines += [f"   {t}" for t in sorted(targets, key=str.lower)]
            lines += [""]
        text = "\n".join(lines)
        path = api / f"{package}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


write_api_pages()


# -- tables of the semantics pages, from the code that defines them -------------------------


def _cell(value) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def write_semantics_tables() -> None:
    """``semantics/generated/*.md``: the KPI catalog and the tables of the data contract."""
    from salesmkt.data import schema
    from salesmkt.kpis import kpi_catalog

    out = DOCS / "semantics" / "generated"
    out.mkdir(exist_ok=True)
    catalog = kpi_catalog()
    rows = [
        "| id | KPI | owner | unit | better | kind | formula |",
        "|---|---|---|---|---|---|---|",
    ]
    rows += [
        f"| `{r.id}` | {_cell(r.name)} | {r.owner} | {r.unit} | {r.direction} | {r.kind} "
        f"| {_cell(r.formula)} |"
        for r in catalog.itertuples()
    ]
    files = {"kpi_catalog.md": "\n".join(rows) + "\n"}
    parts = []
    for name, table in schema.TABLES.items():
        parts += [f"### `{name}`", "", f"One row {table.description.removeprefix('one row ')}.", ""]
        parts += ["| column | required | kind | meaning |", "|---|---|---|---|"]
        for required, columns in ((True, table.required), (False, table.optional)):
            parts += [
                f"| `{c.name}` | {'yes' if required else ''} | {c.kind} | {_cell(c.description)} |"
                for c in columns
            ]
        notes = [f"key: `{', '.join(table.key)}`"] if table.key else []
        notes += [
            f"`{fk.column}` refers to `{fk.ref_table}.{fk.ref_column}`" for fk in table.foreign_keys
        ]
        notes += [rule.description for rule in table.order_rules]
        parts += ["", *(f"- {n}" for n in notes), ""]
    files["contract.md"] = "\n".join(parts)
    for fname, text in files.items():
        path = out / fname
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


write_semantics_tables()


def _constant_doc(app, what, name, obj, options, lines) -> None:
    """A constant's own ``#:`` comment from its defining module, not its type's docstring.

    Constants are documented where a package re-exports them (``salesmkt.personas.RFM_SEGMENTS``),
    but described by the ``#:`` comment above them in the module that defines them.
    """
    if what not in ("data", "attribute") or not name.startswith("salesmkt."):
        return
    from sphinx.pycode import ModuleAnalyzer

    package, attr = name.rsplit(".", 1)
    module = importlib.import_module(package)
    candidates = [package]
    if hasattr(module, "__path__"):
        candidates += [
            f"{package}.{p.stem}" for p in sorted(Path(module.__file__).parent.glob("*.py"))
        ]
    for modname in candidates:
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # a module without source has no comments
            continue
        if ("", attr) in docs:
            lines[:] = [line for line in docs[("", attr)] if line is not None]
            return
    if obj.__doc__ and obj.__doc__ == type(obj).__doc__:
        lines[:] = [f"A constant of type ``{type(obj).__name__}``."]


def setup(app):
    app.connect("autodoc-process-docstring", _constant_doc)
    return {"parallel_read_safe": True}
