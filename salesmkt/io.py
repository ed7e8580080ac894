"""Loading a team's data: a folder of CSV or Parquet files, an Excel workbook, a DuckDB file.

Files and sheets are named after the canonical tables (``leads.csv``, sheet ``deals``, DuckDB
table ``spend``); other files are listed in the dataset's findings and left alone. Input files
are only ever opened for reading.

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> ds.leads.shape[0] > 3000
True
>>> "deals" in ds.tables
True
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import pandas as pd

from salesmkt._io_database import describe, is_database, read_database
from salesmkt.schema import TABLES
from salesmkt.validate import Finding, findings_frame, validate_tables

__all__ = ["Dataset", "load", "load_sample", "sample_dir", "read_tables"]

_TEXT_KINDS = {"id", "text", "category", "channel"}
#: Findings of the loader that converted a vendor export into this folder (see
#: :func:`salesmkt.sources.convert_export`), reported again whenever the folder is loaded.
FINDINGS_FILE = ".salesmkt-findings.json"
#: Where the data come from and under which licence (a column mapping's ``about:``), kept
#: beside the converted tables so that every report on them can show it.
ABOUT_FILE = ".salesmkt-about.txt"


@dataclass(frozen=True)
class Dataset:
    """The canonical tables of one company, validated.

    One attribute per table (``None`` when the data has no such table); ``findings`` lists
    what validation reported (warnings about rows that were kept) and ``source`` where the data
    came from. ``about`` is the data's attribution and licence note when the data came through
    a column mapping with an ``about:`` entry (reports show it under their title), else ``""``.
    """

    leads: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None
    sessions: pd.DataFrame | None = None
    touchpoints: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None
    spend: pd.DataFrame | None = None
    orders: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    findings: pd.DataFrame = field(default_factory=lambda: findings_frame([]))
    source: str = ""
    about: str = ""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in TABLES and getattr(self, f.name) is not None
        }

    def summary(self) -> pd.DataFrame:
        """One row per table: rows, columns, and the first and last timestamp it holds.

        Examples
        --------
        >>> import salesmkt
        >>> salesmkt.load_sample().summary().columns.tolist()
        ['table', 'rows', 'columns', 'first', 'last', 'description']
        """
        rows = []
        for name, df in self.tables.items():
            spec = TABLES[name]
            time_cols = [
                c.name
                for c in (*spec.required, *spec.optional)
                if c.kind in ("timestamp", "date") and c.name in df.columns
            ]
            first = last = pd.NaT
            if time_cols:
                first, last = df[time_cols[0]].min(), df[time_cols[0]].max()
            rows.append(
                {
                    "table": name,
                    "rows": len(df),
                    "columns": df.shape[1],
                    "first": first,
                    "last": last,
                    "description": spec.description,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(df):,}" for n, df in self.tables.items())
        return f"Dataset({parts}; {len(self.findings)} findings; source={self.source!r})"


def _read_csv(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise _EmptyFile(path)
    text_cols = {
        c for c, col in TABLES[_table_name(path)].columns.items() if col.kind in _TEXT_KINDS
    }
    try:
        return pd.read_csv(
            path,
            dtype={c: "string" for c in text_cols},
            sep=None if path.suffix.lower() == ".txt" else ",",
            engine="python" if path.suffix.lower() == ".txt" else "c",
            encoding_errors="strict",
        )
    except pd.errors.EmptyDataError as exc:
        raise _EmptyFile(path) from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}). Save the file as "
            "UTF-8 (in Excel: 'CSV UTF-8') and load it again."
        ) from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path.name}: not a readable CSV file ({exc}).") from exc


class _EmptyFile(Exception):
    def __init__(self, path: Path):
        self.path = path


def _table_name(path: Path) -> str:
    return path.name.split(".")[0].lower()


def read_tables(path: str | Path) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Read the canonical tables from ``path`` without validating them.

    ``path`` is a folder of ``<table>.csv`` / ``<table>.parquet`` files, an Excel workbook
    (``.xlsx``) with one sheet per table, or a DuckDB database file (``.duckdb``/``.db``) with
    one table per canonical table; or a database URL or Ibis connection (see :func:`load`).
    Returns the raw tables and findings about what was skipped.

    Examples
    --------
    >>> tables, skipped = read_tables(sample_dir())
    >>> sorted(tables)[:3]
    ['assignments', 'campaigns', 'deals']
    """
    if is_database(path):  # a connection URL or an Ibis connection (salesmkt._io_database)
        return read_database(path)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such file or folder. Point salesmkt.load() at a folder of CSV/Parquet "
            "files, an .xlsx workbook or a .duckdb file."
        )
    found: list[Finding] = []
    tables: dict[str, pd.DataFrame] = {}
    if path.is_dir():
        notes = path / FINDINGS_FILE  # what a vendor-export loader noted when it wrote the folder
        if notes.is_file():
            found += [
                Finding(**{**d, "rows": tuple(d["rows"]), "examples": tuple(d["examples"])})
                for d in json.loads(notes.read_text(encoding="utf-8"))
            ]
        for file in sorted(path.iterdir()):
            name, suffix = _table_name(file), "".join(file.suffixes).lower()
            if file.is_dir() or file.name.startswith(".") or suffix in (".md", ".yml", ".yaml"):
                continue
            if name not in TABLES or suffix not in (".csv", ".csv.gz", ".parquet", ".txt"):
                found.append(_skipped(file.name))
                continue
            if name in tables:
                raise ValueError(f"{path}: two files for table {name!r}; keep one of them.")
            try:
                tables[name] = pd.read_parquet(file) if suffix == ".parquet" else _read_csv(file)
            except _EmptyFile:
                tables[name] = pd.DataFrame()
    elif path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        sheets = pd.read_excel(path, sheet_name=None)
        for sheet, df in sheets.items():
            if sheet.strip().lower() in TABLES:
                tables[sheet.strip().lower()] = df
            else:
                found.append(_skipped(f"sheet {sheet!r}"))
    elif path.suffix.lower() in (".duckdb", ".db", ".ddb"):
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            for (name,) in con.execute(
                "select table_name from information_schema.tables"
            ).fetchall():
                if name.lower() in TABLES:
                    rel = con.table(name)
                    # to_arrow_table is the name since duckdb 1.4; fetch_arrow_table before
                    fetch = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table
                    tables[name.lower()] = fetch().to_pandas()
                else:
                    found.append(_skipped(f"table {name!r}"))
    else:
        raise ValueError(
            f"{path.name}: cannot read this kind of file. Use a folder of CSV/Parquet files, an "
            ".xlsx workbook or a .duckdb database."
        )
    if not tables:
        raise ValueError(
            f"{path}: found none of the tables {', '.join(TABLES)}. Name files, sheets or tables "
            "after them (e.g. leads.csv)."
        )
    return tables, found


def _skipped(what: str) -> Finding:
    return Finding(
        "",
        "",
        f"{what} is not a canonical table and was not loaded",
        0,
        severity="warning",
        action="Left alone",
    )


def load(
    path: str | Path, *, tz: str | None = None, source: str | Path | None = None, **options
) -> Dataset:
    """Load and validate a team's data.

    Parameters
    ----------
    path : str, Path or Ibis connection
        A folder of ``<table>.csv`` or ``<table>.parquet`` files, an ``.xlsx`` workbook with one
        sheet per table, or a ``.duckdb`` database file. Never modified. With ``source``: a
        vendor export file or a folder of them (see :mod:`salesmkt.sources`). Or a database:
        a connection URL as ``ibis.connect`` takes it (``postgres://user@host:5432/crm``,
        ``postgres://user@host/crm/schema``, ``duckdb:///path/crm.duckdb``,
        ``bigquery://project/dataset``) or an Ibis connection; its tables named after the
        canonical tables (any case) are read and validated as files are, other tables are
        left alone. Passwords are best kept out of the URL (``PGPASSWORD``, ``~/.pgpass``).
    tz : str, optional
        The time zone naive timestamps were recorded in (e.g. ``"Europe/Paris"``). Without it,
        timestamps must carry an offset.
    source : str or Path, optional
        ``"hubspot"``, ``"salesforce"``, ``"ga4"`` or the path of a YAML column mapping: read
        the vendor's export format instead of canonical files (docs/exports.md).
    **options
        Passed to the vendor reader with ``source`` (e.g. ``encoding``, ``dayfirst``).

    Returns
    -------
    Dataset

    Raises
    ------
    salesmkt.ValidationError
        Listing every problem in every table, each with its table, column, count and rows.

    Examples
    --------
    >>> ds = load(sample_dir())
    >>> bool(ds.deals["amount"].min() >= 0)
    True

    From a database (here a DuckDB file; a PostgreSQL URL works the same way):

    >>> import tempfile, duckdb
    >>> db = Path(tempfile.mkdtemp()) / "crm.duckdb"
    >>> with duckdb.connect(str(db)) as con:
    ...     con.execute("create table deals as select * from read_csv(?)", [str(sample_dir() / "deals.csv")])
    ...     con.execute("create table notes as select 1 as x")
    <...>
    >>> crm = load(f"duckdb://{db}")
    >>> sorted(crm.tables), len(crm.deals) == len(ds.deals)
    (['deals'], True)
    """
    if source is not None and is_database(path):
        raise ValueError(
            f"source={source!r} reads vendor export files; {describe(path)} is a database, "
            "whose tables are read as canonical tables (leads, deals, ...) without source="
        )
    if source is not None:
        from salesmkt.sources import read_source

        raw, skipped = read_source(path, source, tz=tz, **options)
    elif options:
        raise TypeError(f"load() got options {sorted(options)} that only apply with source=")
    else:
        raw, skipped = read_tables(path)
    tables, findings = validate_tables(raw, tz=tz)
    where = describe(path) if is_database(path) else str(path)
    where = where if source is None else f"{path} ({source})"
    return Dataset(
        **tables,
        findings=findings_frame([*skipped, *findings]),
        source=where,
        about=_about(path, source),
    )


def _about(path: str | Path, source: str | Path | None) -> str:
    """The attribution note of a mapping source, or the one kept beside converted tables."""
    if source is not None:
        if str(source).lower().endswith((".yml", ".yaml")):
            from salesmkt.sources.mapping import mapping_about

            return mapping_about(source)
        return ""
    if is_database(path):
        return ""
    note = Path(path) / ABOUT_FILE
    return note.read_text(encoding="utf-8").strip() if note.is_file() else ""


def sample_dir() -> Path:
    """The folder holding the bundled sample company's CSV files.

    Examples
    --------
    >>> (sample_dir() / "leads.csv").exists()
    True
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_sample_data", here.parent / "data" / "sample"):
        if (candidate / "leads.csv").exists():
            return candidate
    raise FileNotFoundError(
        "The sample data is missing from this installation; rebuild it with "
        "`python -m salesmkt.sample --out data/sample`."
    )


@functools.lru_cache(maxsize=1)
def _cached_sample() -> Dataset:
    return load(sample_dir())


def load_sample() -> Dataset:
    """The bundled sample company, validated, as a :class:`Dataset`.

    Examples
    --------
    >>> ds = load_sample()
    >>> sorted(ds.tables) == sorted(TABLES)
    True
    """
    cached = _cached_sample()
    # parsed once per process; every caller gets its own copies to change as it likes
    copies = {name: df.copy() for name, df in cached.tables.items()}
    return replace(cached, **copies, findings=cached.findings.copy())
