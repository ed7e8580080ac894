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

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesmkt._base.quiet import quiet

__all__ = ["as_table", "execute", "in_memory", "is_table", "period_index"]


def is_table(obj) -> bool:
    """True for an Ibis table (data that is not in memory)."""
    return isinstance(obj, ir.Table)


def in_memory(obj) -> bool:
    """True for a pandas DataFrame."""
    return isinstance(obj, pd.DataFrame)


def as_table(df: pd.DataFrame | ir.Table, columns: Sequence[str] | None = None) -> ir.Table:
    """An Ibis table over ``df``: itself when it is one, else an in-memory DuckDB table.

    Only ``columns`` (those present) are kept from a DataFrame, so little is copied. Naive
    timestamps are read as UTC; columns that are all missing become strings (a type every
    engine can store).
    """
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
        out[col] = s.to_numpy() if isinstance(s.dtype, pd.CategoricalDtype) else s
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    return ibis.memtable(frame)


def _timestamp(value: pd.Timestamp) -> ir.Scalar:
    value = pd.Timestamp(value)
    value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    return ibis.literal(value.to_pydatetime(), type="timestamp('UTC')")


def period_index(ts: ir.Column, periods: pd.DataFrame) -> ir.Column:
    """The 0-based index of the period (a row of ``periods``, with ``period_start`` and
    ``period_end``, contiguous and ascending) holding each timestamp; null outside them."""
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
