"""Running a computation where the data lives (private): the KPIs over sessions and the
retention over orders are written once as Ibis expressions; this module turns their input into
an Ibis table and brings the (small) aggregates back.

* A pandas DataFrame becomes an in-memory table run by DuckDB in-process
  (:func:`as_table`): the same expression, the same results.
* An Ibis table (a DuckDB or Parquet file, PostgreSQL, PySpark, any Ibis backend) is used as
  it is: the work runs in its backend and only aggregates travel.

Periods are placed by comparing timestamps with the period boundaries of
:mod:`salesmkt.data.periods` (half-open UTC intervals), not with the backend's own date
truncation, whose week start and time zone differ between engines (a PostgreSQL server in
New York truncates a timestamp to its local day). So a row lands in the same period on every
backend as in pandas.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from salesmkt._base.quiet import quiet

if TYPE_CHECKING:  # Ibis is imported when a computation runs, not with the data layer
    import ibis.expr.types as ir

__all__ = [
    "ENGINE_TABLES",
    "as_table",
    "in_memory_rows",
    "keep_in_engine",
    "execute",
    "extreme",
    "has_values",
    "in_memory",
    "is_table",
    "n_rows",
    "period_index",
    "timestamp_columns",
    "within",
]


def is_table(obj) -> bool:
    """True for an Ibis table (data that is not in memory)."""
    types = sys.modules.get("ibis.expr.types")  # no Ibis imported: no Ibis table exists
    return types is not None and isinstance(obj, types.Table)


def in_memory(obj) -> bool:
    """True for a pandas DataFrame."""
    return isinstance(obj, pd.DataFrame)


def as_table(df: pd.DataFrame | ir.Table, columns: Sequence[str] | None = None) -> ir.Table:
    """An Ibis table over ``df``: itself when it is one, else an in-memory DuckDB table.

    Only ``columns`` (those present) are kept from a DataFrame, so little is copied. Naive
    timestamps are read as UTC; columns that are all missing become strings (a type every
    engine can store).
    """
    import ibis

    columns = None if columns is None else list(dict.fromkeys(columns))
    if is_table(df):
        return df if columns is None else df.select([c for c in columns if c in df.columns])
    keep = list(df.columns) if columns is None else [c for c in columns if c in df.columns]
    out = {}
    for col in keep:
        s = df[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            s = s.dt.tz_localize("UTC")
        elif s.dtype == object and s.isna().all() or s.dtype == object:
            s = s.astype("string")
        # by position: a Series would align on its index, and a filtered frame has gaps in it
        out[col] = (
            s.to_numpy() if isinstance(s.dtype, pd.CategoricalDtype) else s.reset_index(drop=True)
        )
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    return ibis.memtable(frame)


def _timestamp(value: pd.Timestamp) -> ir.Scalar:
    import ibis

    value = pd.Timestamp(value)
    value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    return ibis.literal(value.to_pydatetime(), type="timestamp('UTC')")


def within(ts: ir.Column, start=None, end=None) -> ir.BooleanColumn:
    """Whether each timestamp is in the half-open interval ``[start, end)`` (None: unbounded),
    as :func:`salesmkt.data.periods.within` says it for a pandas Series; missing is False."""
    inside = ts.notnull()
    if start is not None:
        inside &= ts >= _timestamp(start)
    if end is not None:
        inside &= ts < _timestamp(end)
    return inside


def period_index(ts: ir.Column, periods: pd.DataFrame) -> ir.Column:
    """The 0-based index of the period (a row of ``periods``, with ``period_start`` and
    ``period_end``, contiguous and ascending) holding each timestamp; null outside them."""
    import ibis

    starts = list(periods["period_start"])
    ends = list(periods["period_end"])
    if not starts:
        return ibis.null().cast("int64")
    inside = (ts >= _timestamp(starts[0])) & (ts < _timestamp(ends[-1]))
    branches = [(ts < _timestamp(e), i) for i, e in enumerate(ends)]
    return inside.ifelse(ibis.cases(*branches, else_=None), ibis.null()).cast("int64")


def execute(expr: ir.Table) -> pd.DataFrame:
    """Run ``expr`` in its backend (DuckDB for in-memory tables) and return pandas."""
    with quiet():
        backend = expr._find_backend(use_default=True)
        return backend.to_pyarrow(expr).to_pandas()


def n_rows(df) -> int:
    """Number of rows of a DataFrame or an Ibis table (counted in its backend)."""
    if not is_table(df):
        return len(df)
    with quiet():
        return int(df.count().execute())


def _scalar(expr):
    with quiet():
        return expr.execute()


def has_values(df, col: str) -> bool:
    """Whether column ``col`` holds at least one value (not all missing)."""
    if not is_table(df):
        return bool(df[col].notna().any())
    return bool(_scalar(df[col].notnull().any()))


def timestamp_columns(df) -> list[str]:
    """The time-zone-aware timestamp columns of a DataFrame or Ibis table."""
    if not is_table(df):
        return [c for c in df.columns if isinstance(df[c].dtype, pd.DatetimeTZDtype)]
    schema = df.schema()
    return [c for c in df.columns if schema[c].is_timestamp() and schema[c].timezone is not None]


def extreme(df, col: str, how: str) -> pd.Timestamp | None:
    """The earliest (``how="min"``) or latest (``"max"``) value of a timestamp column, in UTC;
    None when it holds none."""
    value = _scalar(getattr(df[col], how)()) if is_table(df) else getattr(df[col], how)()
    if value is None or pd.isna(value):
        return None
    # an engine answers in microseconds: nanoseconds, as pandas reads files (and as_of has)
    value = pd.Timestamp(value).as_unit("ns") if is_table(df) else pd.Timestamp(value)
    return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")


#: Tables that may stay where they are (in a database or a Parquet file) instead of being
#: read into memory: event-sized tables whose analyses run in the engine, and the assignments
#: of a holdout test (one row per person reached; the holdout test runs there). Leads, deals,
#: orders and the other tables are small and always read into pandas.
ENGINE_TABLES = ("sessions", "touchpoints", "events", "assignments")
#: Environment variable: above this many rows an engine table stays where it is.
ROWS_VARIABLE = "SALESMKT_IN_MEMORY_ROWS"
DEFAULT_IN_MEMORY_ROWS = 5_000_000


def in_memory_rows() -> int:
    """Rows above which an engine table (:data:`ENGINE_TABLES`) stays in its database or file
    (``SALESMKT_IN_MEMORY_ROWS``, default five million; ``0`` keeps them there always)."""
    import os

    raw = os.environ.get(ROWS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_IN_MEMORY_ROWS
    try:
        return int(float(raw))
    except ValueError:
        raise ValueError(f"{ROWS_VARIABLE}={raw!r}: give a number of rows, e.g. 5000000") from None


def keep_in_engine(name: str, rows: int) -> bool:
    """Whether table ``name`` with ``rows`` rows stays where it is rather than in memory."""
    return name in ENGINE_TABLES and rows > in_memory_rows()
