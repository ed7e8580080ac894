"""Reading the canonical tables from a folder of files, a workbook or a DuckDB file, unvalidated.

Files and sheets are named after the canonical tables (``leads.csv``, sheet ``deals``, DuckDB
table ``spend``); other files are listed in the findings and left alone. Input files are only
ever opened for reading. :func:`salesmkt.load` validates what this module reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from salesmkt.data.database import is_database, read_database
from salesmkt.data.engine import ENGINE_TABLES, keep_in_engine
from salesmkt.data.schema import TABLES
from salesmkt.data.validate import Finding

__all__ = ["read_tables", "FINDINGS_FILE", "ABOUT_FILE"]

_TEXT_KINDS = {"id", "text", "category", "channel"}
#: Findings of the loader that converted a vendor export into this folder (see
#: :func:`salesmkt.sources.convert_export`), reported again whenever the folder is loaded.
FINDINGS_FILE = ".salesmkt-findings.json"
#: Where the data come from and under which licence (a column mapping's ``about:``), kept
#: beside the converted tables so that every report on them can show it.
ABOUT_FILE = ".salesmkt-about.txt"


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

    ``path`` is a folder of ``<table>.csv`` / ``<table>.parquet`` files (a ``<table>.parquet``
    folder of part files, as Spark writes a table, is one table), an Excel workbook
    (``.xlsx``) with one sheet per table, or a DuckDB database file (``.duckdb``/``.db``) with
    one table per canonical table; or a database URL or Ibis connection (see :func:`load`).
    Returns the raw tables and findings about what was skipped.

    Examples
    --------
    >>> import salesmkt
    >>> tables, skipped = read_tables(salesmkt.sample_dir())
    >>> sorted(tables)[:3]
    ['assignments', 'campaigns', 'deals']
    """
    if is_database(path):  # a connection URL or an Ibis connection (salesmkt.data.database)
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
            if file.is_dir() and suffix != ".parquet":  # a table.parquet folder is read below
                continue
            if file.name.startswith(".") or suffix in (".md", ".yml", ".yaml"):
                continue
            if name not in TABLES or suffix not in (".csv", ".csv.gz", ".parquet", ".txt"):
                found.append(_skipped(file.name))
                continue
            if name in tables:
                raise ValueError(f"{path}: two files for table {name!r}; keep one of them.")
            try:
                if suffix == ".parquet" and name in ENGINE_TABLES and _big_parquet(name, file):
                    tables[name] = _parquet_table(name, file)  # read by DuckDB where it is
                    continue
                tables[name] = (
                    pd.read_parquet(file, engine="pyarrow")
                    if suffix == ".parquet"
                    else _read_csv(file)
                )
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
                if name.lower() in ENGINE_TABLES:
                    rows = con.execute(f'select count(*) from "{name}"').fetchone()[0]
                    if keep_in_engine(name.lower(), rows):
                        tables[name.lower()] = _duckdb_table(path, name)
                        continue
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


def _big_parquet(name: str, file: Path) -> bool:
    import pyarrow.dataset as pds

    return keep_in_engine(name, pds.dataset(file, format="parquet").count_rows())


def _parquet_table(name: str, file: Path):
    """A Parquet file of an event-sized table as an Ibis table run by DuckDB in-process; a
    folder ``<table>.parquet/`` (as Spark writes a table: part files, ``_SUCCESS``) is read
    whole."""
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    return con.read_parquet(file / "**" / "*.parquet" if file.is_dir() else file, table_name=name)


def _duckdb_table(path: Path, name: str):
    """A table of a DuckDB file as an Ibis table (the file opened read-only)."""
    import ibis

    con = ibis.duckdb.connect(str(path), read_only=True)
    con.raw_sql("SET TimeZone = 'UTC'")
    return con.table(name)


def _skipped(what: str) -> Finding:
    return Finding(
        "",
        "",
        f"{what} is not a canonical table and was not loaded",
        0,
        severity="warning",
        action="Left alone",
    )
