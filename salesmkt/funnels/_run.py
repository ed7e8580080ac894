"""Running one funnel computation: input checks, the DuckDB connection for pandas input, the
engine, and the trip back to pandas (private; used by :mod:`salesmkt.funnels`)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesmkt.data.validate import Finding, ValidationError, check_columns
from salesmkt.funnels import _kernel as kernel
from salesmkt.funnels._engine import Engine, quiet
from salesmkt.funnels._spec import FunnelSpec, build_spec

MISSING = "(missing)"
# Above this many input rows, intermediate tables are materialised between steps.
_MATERIALIZE_ROWS = 200_000


def _as_table(events, spec: FunnelSpec, caller: str) -> ir.Table:
    needed = [spec.person_col, spec.ts_col, spec.event_col] + ([spec.by] if spec.by else [])
    if isinstance(events, ir.Table):
        missing = [c for c in needed if c not in events.columns]
        if missing:
            raise ValidationError(
                Finding("events", c, f"{caller} needs this column, which is missing", 0)
                for c in missing
            )
        if not events[spec.ts_col].type().is_timestamp():
            raise ValidationError(
                [Finding("events", spec.ts_col, f"{caller} needs timestamps here", 0)]
            )
        return events
    check_columns(events, "events", needed, caller=caller)
    ts = events[spec.ts_col]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        raise ValidationError(
            [
                Finding(
                    "events",
                    spec.ts_col,
                    f"{caller} needs timestamps here, got dtype {ts.dtype}",
                    int(ts.notna().sum()),
                    hint="Load the data with salesmkt.load() or convert with pd.to_datetime.",
                )
            ]
        )
    df = events.copy(deep=False)
    # Naive timestamps are read as UTC; aware ones are converted to UTC.
    df[spec.ts_col] = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    df = df.reset_index(drop=True)
    for col in df.columns:  # all-missing object columns have no type DuckDB can store
        if df[col].dtype == object and df[col].isna().all():
            df[col] = df[col].astype("string")
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    with quiet():
        return con.create_table("events", ibis.memtable(df), temp=True)


def _utc(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s)
    s = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    return s.astype("datetime64[ns, UTC]")  # one resolution whatever the backend returns


def run(events, steps, caller: str, *, window, person_col, ts_col, event_col, order, entry,
         by, attribution, exclude, max_gap, strict_increase, as_of, method, freq=None):  # fmt: skip
    spec = build_spec(
        steps,
        window=window,
        person_col=person_col,
        ts_col=ts_col,
        event_col=event_col,
        order=order,
        entry=entry,
        by=by,
        attribution=attribution,
        exclude=exclude,
        max_gap=max_gap,
        strict_increase=strict_increase,
    )
    table = _as_table(events, spec, caller)
    backend = table.get_backend().name
    if method == "kernel" and (freq is not None or not kernel.supports(spec, backend)):
        raise ValueError(
            "method='kernel' computes per-person results of ordered funnels without exclusions "
            f"or max_gap on DuckDB; use method='auto' here (this table lives on {backend})"
        )
    engine = Engine(table, spec, method="auto" if method == "kernel" else method,
                    naive=freq is None)  # fmt: skip
    try:
        # Counts and maximum alone can come from file statistics (Parquet); rows without
        # person or time are counted by a scan only when some exist.
        p, ts = table[person_col], table[ts_col]
        stats = engine.scalar(table.aggregate(end=ts.max(), rows=table.count(),
                                              n_p=p.count(), n_ts=ts.count()))  # fmt: skip
        rows = int(stats["rows"].iloc[0])
        engine.materialize = rows > _MATERIALIZE_ROWS
        end = stats["end"].iloc[0] if as_of is None else as_of
        invalid = 0
        if min(int(stats["n_p"].iloc[0]), int(stats["n_ts"].iloc[0])) < rows:
            bad = table.aggregate(n=(~engine.valid).cast("int32").sum().fill_null(0))
            invalid = int(engine.scalar(bad)["n"].iloc[0])
        if pd.isna(end):  # no events at all
            end = pd.Timestamp("1970-01-01", tz="UTC")
        use_kernel = method == "kernel" or (
            method == "auto" and freq is None and rows >= kernel.KERNEL_ROWS
            and kernel.supports(spec, backend) and kernel.available()
        )  # fmt: skip
        if freq is None:
            if use_kernel:
                out = kernel.persons(engine, end)
            else:
                out = engine.scalar(engine.persons(engine.starts(end, prune=True)))
            out = out[out["depth"] >= 1].reset_index(drop=True)  # any-order: no step-1 event
            for k in range(spec.n):
                out[f"t{k}"] = _utc(out[f"t{k}"])
        else:
            out = engine.scalar(engine.cohorts(engine.starts(end), freq))
            out = out[(out["depth"] >= 1) | out["void"].astype(bool)].reset_index(drop=True)
            out["period"] = _utc(out["period"])
    finally:
        engine.close()
    if "b" in out.columns:
        out["b"] = out["b"].astype("string").fillna(MISSING)
    return spec, out, invalid, pd.Timestamp(end)
