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
from dataclasses import replace
from pathlib import Path

from salesmkt.data.database import describe, is_database
from salesmkt.data.dataset import Dataset
from salesmkt.data.files import ABOUT_FILE, read_tables
from salesmkt.data.validate import findings_frame, validate_tables

__all__ = ["load", "load_sample", "sample_dir"]


def load(
    path: str | Path, *, tz: str | None = None, source: str | Path | None = None, **options
) -> Dataset:
    """Load and validate a team's data.

    Parameters
    ----------
    path : str, Path or Ibis connection
        A folder of ``<table>.csv`` or ``<table>.parquet`` files (or ``<table>.parquet``
        folders of part files, as Spark writes a table), an ``.xlsx`` workbook with one sheet
        per table, or a ``.duckdb`` database file. Never modified. With ``source``: a
        vendor export file or a folder of them (see :mod:`salesmkt.sources`). Or a database:
        a connection URL as ``ibis.connect`` takes it (``postgres://user@host:5432/crm``,
        ``postgres://user@host/crm/schema``, ``duckdb:///path/crm.duckdb``,
        ``bigquery://project/dataset``) or an Ibis connection; its tables named after the
        canonical tables (any case) are read and validated as files are, other tables are
        left alone. Passwords are best kept out of the URL (``PGPASSWORD``, ``~/.pgpass``).
        Spark: ``ibis.pyspark.connect(spark)`` with the session that holds the tables (temporary
        views or tables of its catalog, the warehouse); see Notes.
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

    Notes
    -----
    Event-sized tables (``sessions``, ``touchpoints``, ``events``) with more rows than
    ``SALESMKT_IN_MEMORY_ROWS`` (five million by default) stay in their database or Parquet
    file as Ibis tables, and the analyses over them run there; the other tables are read into
    pandas.

    From Spark, ``load(ibis.pyspark.connect(spark))`` reads the tables of the session's current
    database (``SHOW TABLES``: its temporary views and its catalog's tables) named after the
    canonical tables; kept event tables stay in Spark, and journeys, attribution and the web
    KPIs run there. Spark's ``TIMESTAMP`` columns are instants and are read as UTC (the session's
    time zone, which ``ibis.pyspark.connect`` sets to UTC). ``TIMESTAMP_NTZ`` columns are
    wall-clock times: a table read into pandas needs ``tz=``, and an event table kept in Spark
    needs its timestamps as ``TIMESTAMP`` (a view that converts them). A ``pyspark://`` URL
    is refused: a session started from it would see none of the views of the session that
    holds the data. Reports from Spark: :func:`salesmkt.run_reports` with the connection.

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
        from salesmkt.sources.convert import read_source

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
    >>> from salesmkt.data.schema import TABLES
    >>> sorted(ds.tables) == sorted(TABLES)
    True
    """
    cached = _cached_sample()
    # parsed once per process; every caller gets its own copies to change as it likes
    copies = {name: df.copy() for name, df in cached.tables.items()}
    return replace(cached, **copies, findings=cached.findings.copy())
