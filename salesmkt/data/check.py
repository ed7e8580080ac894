"""What a user checks first in new data: tables, date ranges, gaps, channel mix, findings.

Each function takes a :class:`salesmkt.Dataset` and returns a tidy DataFrame; the
``plot_*`` functions in :mod:`salesmkt.data.plots` draw them.

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> table_overview(ds).loc[lambda t: t["table"] == "leads", "rows"].item() > 3000
True
"""

from __future__ import annotations

import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.data.schema import TABLES

__all__ = [
    "table_overview",
    "missing_values",
    "channel_mix",
    "monthly_volume",
    "describe_findings",
    "missing_data",
]


def _time_column(table: str) -> str | None:
    kinds = ("timestamp", "date")
    return next((c.name for c in TABLES[table].required if c.kind in kinds), None)


def table_overview(dataset: Dataset) -> pd.DataFrame:
    """One row per table: rows, columns, first and last date, and validation warnings.

    Returns
    -------
    DataFrame
        Columns ``table, rows, columns, first, last, description, warnings``.

    Examples
    --------
    >>> import salesmkt
    >>> table_overview(salesmkt.load_sample()).columns.tolist()[-1]
    'warnings'
    """
    overview = dataset.summary()
    counts = dataset.findings.groupby("table").size()
    overview["warnings"] = overview["table"].map(counts).fillna(0).astype(int)
    return overview


def missing_values(dataset: Dataset) -> pd.DataFrame:
    """Missing values per column of every table, declared columns first.

    Returns
    -------
    DataFrame
        Columns ``table, column, declared, required, missing, share`` (share of rows missing),
        one row per column.

    Examples
    --------
    >>> import salesmkt
    >>> mv = missing_values(salesmkt.load_sample())
    >>> int(mv.query("required")["missing"].sum())
    0
    """
    rows = []
    for name, df in dataset.tables.items():
        spec = TABLES[name]
        required = {c.name for c in spec.required}
        for col in df.columns:
            n = int(df[col].isna().sum())
            rows.append(
                {
                    "table": name,
                    "column": col,
                    "declared": col in spec.columns,
                    "required": col in required,
                    "missing": n,
                    "share": n / len(df) if len(df) else float("nan"),
                }
            )
    return pd.DataFrame(
        rows, columns=["table", "column", "declared", "required", "missing", "share"]
    )


def channel_mix(
    dataset: Dataset, *, tables: tuple[str, ...] = ("leads", "sessions")
) -> pd.DataFrame:
    """Rows per channel in ``tables``, with each channel's share of the table.

    Missing channels are shown as ``"(missing)"``, never dropped.

    Returns
    -------
    DataFrame
        Columns ``table, channel, rows, share``.

    Examples
    --------
    >>> import salesmkt
    >>> mix = channel_mix(salesmkt.load_sample())
    >>> mix.groupby("table")["share"].sum().round(6).tolist()
    [1.0, 1.0]
    """
    parts = []
    for name in tables:
        df = dataset.tables.get(name)
        if df is None or "channel" not in df.columns:
            continue
        counts = df["channel"].astype("string").fillna("(missing)").value_counts()
        parts.append(
            pd.DataFrame(
                {
                    "table": name,
                    "channel": counts.index.astype(str),
                    "rows": counts.to_numpy(),
                    "share": counts.to_numpy() / counts.sum(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["table", "channel", "rows", "share"])
    return pd.concat(parts, ignore_index=True)


def monthly_volume(dataset: Dataset) -> pd.DataFrame:
    """Rows per calendar month (UTC) of each dated table, by its main timestamp.

    Months are the half-open UTC intervals of :mod:`salesmkt.data.periods`, the same months
    as :func:`salesmkt.kpi_table` and the lifecycle funnel's cohorts.

    Months without rows inside a table's range appear with 0, so gaps show.

    Returns
    -------
    DataFrame
        Columns ``table, month, rows``; ``month`` is the first day of the month.

    Examples
    --------
    >>> import salesmkt
    >>> vol = monthly_volume(salesmkt.load_sample())
    >>> vol.query("table == 'leads'")["month"].nunique()
    18
    """
    parts = []
    for name, df in dataset.tables.items():
        col = _time_column(name)
        if col is None or df[col].isna().all():
            continue
        months = _periods.floor(df[col], "M")
        counts = months.value_counts()
        full = _periods.period_frame(counts.index.min(), counts.index.max() + pd.Timedelta(1), "M")
        counts = counts.reindex(full["period_start"], fill_value=0)
        month = full["period_start"].dt.tz_localize(None)  # naive first day of the UTC month
        parts.append(pd.DataFrame({"table": name, "month": month, "rows": counts.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def describe_findings(dataset: Dataset) -> str:
    """What validation reported, in plain words, as a Markdown list for a report.

    Examples
    --------
    >>> import salesmkt
    >>> print(describe_findings(salesmkt.load_sample()).splitlines()[0])
    Validation passed: ...
    """
    f = dataset.findings
    if f.empty:
        return "Validation passed: every table meets the data contract and nothing was flagged."
    lines = [
        f"Validation passed: the data meets the contract. {len(f)} things are worth knowing; "
        "the rows concerned are kept, and every analysis that has to leave them out says how "
        "many it left out."
    ]
    lines += [f"- {m}" for m in f["message"]]
    return "\n".join(lines)


def missing_data(
    dataset: Dataset, *, tables: list[str] | tuple = (), columns: list[str] | tuple = ()
) -> str:
    """What a report section needs and the data lack, as one plain sentence (``""`` if nothing).

    Parameters
    ----------
    dataset : Dataset
    tables : list of str
        Tables the section needs (``"spend"``, ``"deals"``, ...); an empty table counts as
        missing.
    columns : list of str
        Columns the section needs, as ``"table.column"``; a column without a single value counts
        as missing.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> missing_data(ds, tables=["spend"], columns=["leads.mql_at"])
    ''
    >>> missing_data(salesmkt.Dataset(leads=ds.leads), tables=["spend", "deals"])
    'This section needs the spend and deals tables, which these data do not have.'
    """
    have = {n: df for n, df in dataset.tables.items() if len(df)}
    gone = [t for t in tables if t not in have]
    empty = []
    for item in columns:
        table, _, col = item.partition(".")
        if table in gone:
            continue
        df = have.get(table)
        if df is None:
            gone.append(table)
        elif col not in df.columns or df[col].isna().all():
            empty.append(item)
    parts = []
    if gone:
        names = " and ".join([", ".join(gone[:-1]), gone[-1]] if len(gone) > 1 else gone)
        parts.append(f"the {names} table{'s' if len(gone) > 1 else ''}")
    if empty:
        names = " and ".join([", ".join(empty[:-1]), empty[-1]] if len(empty) > 1 else empty)
        parts.append(f"values in {names}")
    if not parts:
        return ""
    return f"This section needs {' and '.join(parts)}, which these data do not have."
