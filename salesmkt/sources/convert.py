"""Vendor exports onto the canonical tables: HubSpot, Salesforce, GA4, or any file via a mapping.

:func:`read_source` is what ``salesmkt.load(path, source=...)`` calls. ``path`` is one export
file or a folder; in a folder every file is recognised by its header, so one folder can hold a
CRM's contacts and deals exports, a GA4 ``events_*`` export and canonical files such as
``spend.csv`` side by side, and gives one dataset. Files nobody recognises are listed in the
findings and left alone. Input files are only ever opened for reading.

======================  =======================================  ==============================
``source``              files                                    tables
======================  =======================================  ==============================
``"hubspot"``           contacts and deals exports (CSV/XLSX)    leads, deals, touchpoints,
                                                                 campaigns
``"salesforce"``        lead and opportunity report exports      leads, deals
``"ga4"``               BigQuery ``events_*`` (Parquet/JSON)     sessions, events, touchpoints
``"path/to/map.yml"``   any CSV/Excel, through a column mapping  the tables the mapping names
======================  =======================================  ==============================

Examples
--------
>>> sorted(SOURCES)
['ga4', 'hubspot', 'salesforce']
"""

from __future__ import annotations

import difflib
import importlib
import tempfile
from pathlib import Path

import pandas as pd

from salesmkt.data.schema import TABLES
from salesmkt.data.validate import Finding

__all__ = ["SOURCES", "read_source", "convert_export"]

#: Vendor name -> module with ``classify(path, header)``, ``default_kind(header)`` and
#: ``read(parts, **options)``.
SOURCES: dict[str, str] = {
    "hubspot": "salesmkt.sources.hubspot",
    "salesforce": "salesmkt.sources.salesforce",
    "ga4": "salesmkt.sources.ga4",
}
_SKIP = (".md", ".yml", ".yaml", ".txt.md", ".json.md")
_LABELS = {"hubspot": "HubSpot", "salesforce": "Salesforce", "ga4": "GA4"}


def _is_mapping(source: str | Path) -> bool:
    return str(source).lower().endswith((".yml", ".yaml"))


def _canonical_name(path: Path) -> str | None:
    name = path.name.split(".")[0].lower()
    suffix = "".join(path.suffixes).lower()
    ok = suffix in (".csv", ".csv.gz", ".parquet")
    return name if ok and name in TABLES else None


def _read_canonical(path: Path) -> pd.DataFrame:
    from salesmkt.data.files import _EmptyFile, _read_csv

    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    try:
        return _read_csv(path)
    except _EmptyFile:
        return pd.DataFrame()


_EMPTY = {
    "timestamp": "datetime64[ns, UTC]",
    "date": "datetime64[ns, UTC]",
    "number": "float64",
    "count": "Int64",
    "flag": "boolean",
}


def _with_declared_columns(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Every optional column of the contract, empty where the export has no such field, so
    that a figure the export cannot give shows as missing (and the data check says so) instead
    of stopping a report."""
    missing = [c for c in TABLES[name].optional if c.name not in df.columns]
    if not missing:
        return df
    empty = {
        c.name: pd.Series(pd.NA, index=df.index, dtype=_EMPTY.get(c.kind, "string"))
        for c in missing
    }
    return df.assign(**empty)


def _skipped(what: str) -> Finding:
    return Finding(
        "",
        "",
        f"{what} was not recognised as an export and was not loaded",
        0,
        severity="warning",
        action="Left alone",
    )


def read_source(
    path: str | Path, source: str | Path, *, tz: str | None = None, **options
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Read a vendor export (file or folder) into canonical tables, not yet validated.

    Parameters
    ----------
    path : str or Path
        One export file, or a folder of them (GA4 ``events_*`` files and canonical
        ``<table>.csv`` files in the same folder are read too).
    source : str or Path
        ``"hubspot"``, ``"salesforce"``, ``"ga4"``, or the path of a YAML column mapping.
    tz : str, optional
        Time zone of times exported without an offset (HubSpot portal zone, Salesforce user
        zone). Required when the export holds such times.
    **options
        Passed to the vendor reader (e.g. ``encoding``, ``won_stages``, ``dayfirst``,
        ``deal_types``; see :mod:`salesmkt.sources.hubspot` and friends).

    Returns
    -------
    (dict of DataFrame, list of Finding)

    Examples
    --------
    >>> from pathlib import Path
    >>> import salesmkt
    >>> root = Path(salesmkt.__file__).parent.parent / "tests" / "fixtures" / "exports"
    >>> tables, notes = read_source(root / "hubspot", "hubspot", tz="America/New_York")
    >>> sorted(tables)
    ['campaigns', 'deals', 'leads', 'touchpoints']
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder.")
    if _is_mapping(source):
        from salesmkt.sources.mapping import read_mapped

        return read_mapped(path, source, tz=tz)
    source = str(source).lower()
    if source not in SOURCES:
        close = difflib.get_close_matches(source, list(SOURCES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown source {source!r}: use one of {', '.join(sorted(SOURCES))} or the path of a "
            f"YAML column mapping (.yml).{hint}"
        )
    from salesmkt.sources import ga4
    from salesmkt.sources._read import header_of

    vendor = importlib.import_module(SOURCES[source])
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    parts: dict[str, list[Path]] = {}
    events: list[Path] = []
    canonical: dict[str, Path] = {}
    notes: list[Finding] = []
    for file in files:
        if file.name.startswith(".") or file.name.lower().endswith(_SKIP):
            continue
        if ga4.classify(file) == "events":
            events.append(file)
            continue
        kind = None
        if source != "ga4" and file.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xls"):
            try:
                header = header_of(file)
                kind = vendor.classify(file, header)
                if kind is None and path.is_file():  # named explicitly: read it as the vendor's
                    kind = vendor.default_kind(header)
            except (OSError, ValueError):
                kind = None
        if kind is not None:
            parts.setdefault(kind, []).append(file)
        elif _canonical_name(file) is not None and path.is_dir():
            canonical[_canonical_name(file)] = file
        else:
            notes.append(_skipped(file.name))
    if not parts and not events:
        expect = {
            "hubspot": "a contacts or deals export (columns 'Record ID', 'Create Date', ...)",
            "salesforce": "a lead or opportunity report ('Lead ID' or 'Opportunity ID', "
            "'Created Date', ...)",
            "ga4": "an events_* export (Parquet or JSON lines with event_name, event_params)",
        }[source]
        seen = ", ".join(f.name for f in files[:8]) or "no files"
        raise ValueError(
            f"{path}: found no {_LABELS[source]} export; expected {expect}. Found: {seen}."
        )
    tables: dict[str, pd.DataFrame] = {}
    if parts:
        tables, found = vendor.read(parts, tz=tz, **options)
        notes += found
        tables = {name: _with_declared_columns(name, df) for name, df in tables.items()}
    if events:
        web, found = ga4.read({"events": events}, **(options if source == "ga4" else {}))
        notes += found
        for name, df in web.items():
            if name in tables and name == "touchpoints":
                mine = tables[name]
                if "origin" not in mine:
                    mine = mine.assign(origin=source)
                tables[name] = pd.concat([mine, df.assign(origin="ga4")], ignore_index=True)
            else:
                tables[name] = df
    for name, file in canonical.items():
        if name == "campaigns" and name in tables:  # the team's campaign list beats utm values
            notes.append(
                Finding(
                    "campaigns",
                    "",
                    f"campaigns read from {file.name}; those derived from "
                    f"the {_LABELS[source]} export's campaign values were not used",
                    0,
                    severity="warning",
                    action="Left alone",
                )
            )
        elif name == "touchpoints" and name in tables:
            extra = _read_canonical(file).assign(origin=file.name)
            tables[name] = pd.concat([tables[name], extra], ignore_index=True)
            continue
        elif name in tables:
            raise ValueError(
                f"{path}: table {name!r} comes both from {file.name} and from the "
                f"{_LABELS[source]} export; keep one of them."
            )
        tables[name] = _read_canonical(file)
    return tables, notes


def convert_export(
    path: str | Path,
    out: str | Path | None = None,
    *,
    source: str | Path | None,
    tz: str | None = None,
    **options,
) -> Path:
    """Load an export, validate it, and write the canonical tables as Parquet files.

    The report pipeline does this once, so the notebooks read canonical files. What the loader
    noted (deals without an amount, unknown stages, ...) is written beside them as
    ``.salesmkt-findings.json`` and reported again by :func:`salesmkt.load` on that folder; a
    mapping's ``about:`` note (source and licence) is kept as ``.salesmkt-about.txt``.
    ``source=None`` reads canonical files (useful with ``tz`` for naive timestamps). Returns
    the folder written (a new temporary folder when ``out`` is not given).

    Examples
    --------
    >>> from pathlib import Path
    >>> import salesmkt
    >>> root = Path(salesmkt.__file__).parent.parent / "tests" / "fixtures" / "exports"
    >>> folder = convert_export(root / "ga4", source="ga4")
    >>> sorted(p.name for p in folder.iterdir())
    ['.salesmkt-findings.json', 'events.parquet', 'sessions.parquet', 'touchpoints.parquet']
    >>> len(salesmkt.load(folder).findings)
    1
    """
    import json
    from dataclasses import asdict

    from salesmkt.data.database import write_parquet
    from salesmkt.data.engine import is_table
    from salesmkt.data.files import ABOUT_FILE, FINDINGS_FILE, read_tables
    from salesmkt.data.validate import validate_tables
    from salesmkt.sources.mapping import mapping_about

    if source is not None:
        raw, notes = read_source(path, source, tz=tz, **options)
    elif options:
        raise TypeError(f"convert_export() got options {sorted(options)} that need source=")
    else:
        raw, notes = read_tables(path)
    tables, _ = validate_tables(raw, tz=tz)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="salesmkt-export-"))
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if is_table(df):  # kept in its database: written by the engine, never held in memory
            write_parquet(df, folder / f"{name}.parquet")
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)
    text = json.dumps([asdict(n) for n in notes], ensure_ascii=False, default=str)
    (folder / FINDINGS_FILE).write_text(text, encoding="utf-8")
    about = mapping_about(source) if source is not None and _is_mapping(source) else ""
    if about:  # the data's attribution travels with the converted tables (Dataset.about)
        (folder / ABOUT_FILE).write_text(about + "\n", encoding="utf-8")
    return folder
