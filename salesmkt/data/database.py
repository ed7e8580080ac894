"""Reading the canonical tables from a database through Ibis (private; see :func:`salesmkt.load`).

A team's CRM mirror or warehouse is given as a connection URL (``postgres://user@host:5432/db``,
``duckdb:///path/crm.duckdb``, ``bigquery://project/dataset``, ``snowflake://...``: anything
``ibis.connect`` takes) or as an Ibis backend connection made by the caller. Tables named after
the canonical tables (any case: ``LEADS`` on Snowflake) are read into pandas, with the column
names of the data contract matched case-blind, except an event-sized table (``sessions``,
``touchpoints``, ``events``) with more rows than ``SALESMKT_IN_MEMORY_ROWS``
(:mod:`salesmkt.data.engine`): it stays in the database as an Ibis table, and the analyses over
it (web KPIs, journeys and attribution, the data check) run there. :func:`salesmkt.load` then
validates them as it validates files. Other tables are left alone and noted once.

DuckDB files are opened read-only (``ibis.connect`` would create a missing file). Passwords in
URLs never appear in messages or in ``Dataset.source``; libpq also reads them from
``PGPASSWORD`` or ``~/.pgpass``, which keeps them out of the URL altogether.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from salesmkt.data.engine import ENGINE_TABLES, is_table, keep_in_engine
from salesmkt.data.schema import TABLES
from salesmkt.data.validate import Finding

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_FORMAT = (
    "A database URL looks like postgres://user@host:5432/database (PostgreSQL), "
    "duckdb:///path/to/crm.duckdb, or any URL ibis.connect() takes (bigquery://project/dataset, "
    "snowflake://user@account/database/schema)."
)


def is_database(data) -> bool:
    """True for a connection URL (``scheme://...``) or an Ibis backend connection."""
    if isinstance(data, str):
        return bool(_URL.match(data))
    if isinstance(data, Path):
        return False
    from ibis.backends import BaseBackend

    return isinstance(data, BaseBackend)


def describe(data) -> str:
    """The URL without its password, or the backend's name: safe to show in reports."""
    if not isinstance(data, str):
        return f"{data.name} connection"
    parts = urlsplit(data)
    if parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def _connect(url: str):
    import ibis

    scheme = url.split("://", 1)[0].lower()
    if scheme == "pyspark":
        raise ValueError(
            f"{describe(url)}: Spark tables are read through the session that holds them: "
            "salesmkt.load(ibis.pyspark.connect(spark)) or salesmkt.run_reports("
            "ibis.pyspark.connect(spark), ...) in Python. A session started from a URL sees "
            "none of another session's temporary views, nor a warehouse's tables without its "
            "metastore."
        )
    if scheme == "duckdb":
        path = url.split("://", 1)[1].split("?", 1)[0]
        if not path or path == ":memory:" or not Path(path).is_file():
            raise FileNotFoundError(
                f"{url}: no such DuckDB file. Use duckdb:///absolute/path/crm.duckdb "
                "(three slashes before an absolute path) or the file's path itself."
            )
        return ibis.duckdb.connect(path, read_only=True)
    try:
        return ibis.connect(url)
    except ImportError as exc:
        raise ImportError(
            f"{describe(url)}: the Ibis backend for {scheme!r} is not installed; install it "
            f'with pip install "ibis-framework[{scheme}]". ({str(exc).splitlines()[0]})'
        ) from exc
    except ValueError as exc:
        if "connect to" in str(exc):
            raise ValueError(f"{describe(url)}: not a database URL Ibis knows. {_FORMAT}") from exc
        raise
    except Exception as exc:  # the driver's own error: refused, unknown host, bad password...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConnectionError(
            f"{describe(url)}: could not connect ({first}). Check the host, port, user, "
            f"password and database name. {_FORMAT}"
        ) from exc


def _fetch(con, name: str, table: str) -> pd.DataFrame:
    """The table read into pandas; an event-sized table above the in-memory limit
    (:func:`salesmkt.data.engine.keep_in_engine`) is returned as the Ibis table instead."""
    t = con.table(name)
    wanted = TABLES[table].columns
    present = set(t.columns)
    renames = {c.lower(): c for c in t.columns if c.lower() in wanted and c.lower() not in present}
    if renames:  # e.g. Snowflake's upper-case LEAD_ID
        t = t.rename(renames)
    casts = {c: t[c].cast("float64") for c in t.columns if t[c].type().is_decimal()}
    # Spark's TIMESTAMP is an instant (TIMESTAMP_NTZ is the wall clock), which Ibis reads as a
    # naive timestamp in the session's time zone, UTC since ibis.pyspark.connect sets it
    casts |= {c: t[c].cast("timestamp('UTC')") for c in _spark_instants(con, name)}
    if casts:  # NUMERIC columns would arrive as Python Decimal objects
        t = t.mutate(**casts)
    # A database keeps no row order: sort by the table's key (then every column), so that row
    # numbers in findings and anything seeded (persona clustering) repeat from run to run.
    if table in ENGINE_TABLES and keep_in_engine(table, int(t.count().execute())):
        return t  # event-sized: stays in the database, its analyses run there
    spec = TABLES[table]
    first = [c for c in (spec.key or [c.name for c in spec.required]) if c in t.columns]
    order = first + [c for c in t.columns if c not in first and _sortable(t[c].type())]
    return con.to_pyarrow(t.order_by(order)).to_pandas()


def _spark_instants(con, name: str) -> list[str]:
    """The columns of Spark table ``name`` typed TIMESTAMP (an instant, shown in the session's
    time zone), not TIMESTAMP_NTZ (a wall-clock time, whose zone ``load(tz=...)`` names); none
    on other backends."""
    if con.name != "pyspark":
        return []
    if con._session.conf.get("spark.sql.session.timeZone") != "UTC":  # set by Ibis on connect
        raise ValueError(
            f"{name}: the Spark session's time zone must stay UTC (ibis.pyspark.connect sets "
            "it) for timestamps to be read as the instants they are."
        )
    fields = con._session.table(name).schema.fields
    return [f.name for f in fields if f.dataType.typeName() == "timestamp"]


def write_parquet(table, path: Path) -> None:
    """Write a table kept in its database to ``path`` with the database's own Parquet export
    (never through pandas). Spark writes a folder of part files there, its timestamps as UTC
    instants (``TIMESTAMP_MICROS``, not the legacy ``INT96`` that readers take for wall-clock
    times)."""
    from salesmkt._base.quiet import quiet

    backend = table._find_backend()
    with quiet():
        if backend.name != "pyspark":
            table.to_parquet(path)
            return
        conf, key = backend._session.conf, "spark.sql.parquet.outputTimestampType"
        before = conf.get(key)
        conf.set(key, "TIMESTAMP_MICROS")
        try:
            table.to_parquet(path)
        finally:
            conf.set(key, before)
    if not any(Path(path).glob("*.parquet")):  # written to a cluster's own file system
        raise RuntimeError(
            f"Spark wrote {Path(path).stem} to {path} on the cluster's file system, which this "
            "machine cannot read. Reports from a Spark cluster: call the library in a notebook "
            "attached to the session (docs: Bring your own data, Spark), or export the tables "
            "as Parquet to a folder this machine reads and run the reports on that folder."
        )


def _sortable(dtype) -> bool:
    return dtype.is_primitive() or dtype.is_temporal() or dtype.is_string()


def read_database(data) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """The canonical tables of a database (URL or Ibis connection), not yet validated."""
    from salesmkt._base.quiet import quiet  # Ibis 12's own deprecation notices

    con = _connect(data) if isinstance(data, str) else data
    tables: dict[str, pd.DataFrame] = {}
    try:
        with quiet():
            names = con.list_tables()
            owner: dict[str, str] = {}
            for name in names:
                table = name.lower()
                if table not in TABLES:
                    continue
                if table in owner:
                    raise ValueError(
                        f"{describe(data)}: two tables for {table!r} ({owner[table]!r} and "
                        f"{name!r}); keep one, or name the schema that holds the right one in "
                        "the URL."
                    )
                owner[table] = name
                tables[table] = _fetch(con, name, table)
    finally:  # the connection stays open while a table kept in the database uses it
        if isinstance(data, str) and not any(is_table(t) for t in tables.values()):
            con.disconnect()
    if not tables:
        shown = ", ".join(sorted(names)[:10]) + (", ..." if len(names) > 10 else "")
        raise ValueError(
            f"{describe(data)}: found none of the tables {', '.join(TABLES)} "
            f"(the database has {len(names)} tables{': ' + shown if names else ''}). Create "
            "tables or views named after them (e.g. a view leads over the CRM's contacts), or "
            "put the schema in the URL (postgres://user@host/database/schema)."
        )
    others = sorted(n for n in names if n.lower() not in TABLES)
    found = []
    if others:
        shown = ", ".join(others[:10]) + (", ..." if len(others) > 10 else "")
        found.append(
            Finding(
                "",
                "",
                f"{len(others)} other tables in the database are not canonical tables and were "
                f"not loaded ({shown})",
                0,
                severity="warning",
                action="Left alone",
            )
        )
    return tables, found
