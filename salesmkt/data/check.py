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

from salesmkt._base.formats import plain_label
from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.data.engine import (
    execute,
    extreme,
    has_values,
    is_table,
    n_rows,
    period_index,
)
from salesmkt.data.schema import TABLES

__all__ = [
    "table_overview",
    "missing_values",
    "channel_mix",
    "monthly_volume",
    "describe_findings",
    "missing_data",
    "check_headline",
    "check_decisions",
    "overview_finding",
    "volume_finding",
    "missing_finding",
    "mix_finding",
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
        missing = _missing_counts(df)
        total = n_rows(df)
        for col in df.columns:
            n = int(missing[col])
            rows.append(
                {
                    "table": name,
                    "column": col,
                    "declared": col in spec.columns,
                    "required": col in required,
                    "missing": n,
                    "share": n / total if total else float("nan"),
                }
            )
    return pd.DataFrame(
        rows, columns=["table", "column", "declared", "required", "missing", "share"]
    )


def _missing_counts(df) -> pd.Series:
    """Missing values per column; counted in the engine for a table kept in its database or
    Parquet file (one row of counts comes back)."""
    if not is_table(df):
        return df.isna().sum()
    if not len(df.columns):
        return pd.Series(dtype=int)
    counts = execute(df.aggregate([df[c].isnull().sum().name(c) for c in df.columns]))
    return counts.iloc[0].fillna(0).astype(int)


def _channel_counts(df) -> pd.Series:
    """Rows per channel, most first, missing as ``"(missing)"``; counted in the engine for a
    table kept in its database or Parquet file (one row per channel comes back)."""
    if not is_table(df):
        return df["channel"].astype("string").fillna("(missing)").value_counts()
    channel = df["channel"].cast("string").fill_null("(missing)").name("channel")
    counts = execute(df.group_by(channel).aggregate(rows=df.count()))
    counts = counts.sort_values(["rows", "channel"], ascending=[False, True])
    return pd.Series(counts["rows"].to_numpy(), index=counts["channel"].astype(str), name="count")


def _month_counts(df, col: str) -> pd.Series | None:
    """Rows per calendar month (UTC) of column ``col``, every month of its range (0 where
    none), indexed by month start; None when the column holds no value. Counted in the engine
    for a table kept in its database or Parquet file (one row per month comes back)."""
    if not is_table(df):
        if df[col].isna().all():
            return None
        counts = _periods.floor(df[col], "M").value_counts()
        lo, hi = counts.index.min(), counts.index.max() + pd.Timedelta(1)
        full = _periods.period_frame(lo, hi, "M")
        return counts.reindex(full["period_start"], fill_value=0)
    lo, hi = extreme(df, col, "min"), extreme(df, col, "max")
    if lo is None:
        return None
    full = _periods.period_frame(lo, hi + pd.Timedelta(1), "M")
    t = df.filter(df[col].notnull())
    t = t.mutate(_month=period_index(t[col], full))
    counts = execute(t.group_by("_month").aggregate(rows=t.count()))
    per = counts.set_index("_month")["rows"].reindex(range(len(full)), fill_value=0)
    return pd.Series(per.to_numpy(), index=full["period_start"])


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
        counts = _channel_counts(df)
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
        counts = None if col is None else _month_counts(df, col)
        if counts is None:
            continue
        month = counts.index.tz_localize(None)  # naive first day of the UTC month
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


def _pct(x: float, digits: int = 0) -> str:
    return f"{x:.{digits}%}".replace("%", " %")


def _stale(overview: pd.DataFrame, days: int = 14) -> pd.DataFrame:
    """Dated tables whose last row is more than ``days`` before the latest table's last row."""
    o = overview.dropna(subset=["last"])
    o = o[~o["table"].isin(["campaigns", "quotas", "assignments"])]  # plans, not activity
    if o.empty:
        return o
    lag = (o["last"].max() - o["last"]).dt.days
    return o.assign(lag_days=lag)[lag > days]


def overview_finding(overview: pd.DataFrame) -> str:
    """The tables in one sentence: how many, how many rows, the span, and any stale table.

    Parameters
    ----------
    overview : DataFrame
        :func:`table_overview`.

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"table": ["leads", "deals"], "rows": [4600, 1100],
    ...     "first": pd.to_datetime(["2025-01-01", "2025-01-05"], utc=True),
    ...     "last": pd.to_datetime(["2026-06-30", "2026-03-31"], utc=True), "warnings": [1, 0]})
    >>> print(overview_finding(o))
    2 tables, 5,700 rows, from January 2025 to June 2026. *deals* ends on 2026-03-31, 91 days before the others: a stale export?
    """
    n = len(overview)
    text = f"{n} table{'' if n == 1 else 's'}, {overview['rows'].sum():,.0f} rows"
    dated = overview.dropna(subset=["first", "last"])
    if len(dated):
        text += f", from {dated['first'].min():%B %Y} to {dated['last'].max():%B %Y}"
    text += "."
    for _, r in _stale(overview).iterrows():
        text += (
            f" *{r['table']}* ends on {r['last']:%Y-%m-%d}, {r['lag_days']:,.0f} days before the "
            "others: a stale export?"
        )
    return text


def volume_finding(volume: pd.DataFrame) -> str:
    """Gaps in the monthly volume: months with no rows inside a table's range, or none.

    Parameters
    ----------
    volume : DataFrame
        :func:`monthly_volume`.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"table": ["leads"] * 3, "rows": [10, 0, 12],
    ...     "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"])})
    >>> print(volume_finding(v))
    1 month without rows inside a table's range: leads in February 2026. Re-export before reading trends.
    """
    gaps = volume[volume["rows"] == 0]
    if gaps.empty:
        return (
            f"Every table has rows in every month of its range ({volume['table'].nunique()} "
            "tables): no gap in the exports."
        )
    where = "; ".join(
        f"{table} in {', '.join(f'{m:%B %Y}' for m in g['month'])}"
        for table, g in gaps.groupby("table", sort=True)
    )
    n = len(gaps)
    return (
        f"{n} month{'s' if n > 1 else ''} without rows inside a table's range: {where}. "
        "Re-export before reading trends."
    )


def missing_finding(missing: pd.DataFrame, *, top: int = 2) -> str:
    """The optional columns most often empty, in one sentence.

    Parameters
    ----------
    missing : DataFrame
        :func:`missing_values`.
    top : int
        How many columns to name.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"table": ["leads", "leads", "deals"],
    ...     "column": ["channel", "mql_at", "product"], "missing": [46, 2300, 0],
    ...     "share": [0.01, 0.5, 0.0]})
    >>> print(missing_finding(m))
    2 columns have empty values; the most: leads.mql_at (50 %), leads.channel (1 %).
    """
    m = missing[missing["missing"] > 0].sort_values(
        ["share", "table", "column"], ascending=[False, True, True]
    )
    if m.empty:
        return "No column has empty values."
    names = ", ".join(
        f"{r['table']}.{r['column']} ({_pct(r['share'])})" for _, r in m.head(top).iterrows()
    )
    return f"{len(m)} column{'s' if len(m) > 1 else ''} have empty values; the most: {names}."


def mix_finding(mix: pd.DataFrame) -> str:
    """The largest lead channel and the share of leads without a known channel.

    Parameters
    ----------
    mix : DataFrame
        :func:`channel_mix`.

    Examples
    --------
    >>> import pandas as pd
    >>> mix = pd.DataFrame({"table": ["leads"] * 3, "channel": ["organic_search", "other", "email"],
    ...     "rows": [60, 10, 30], "share": [0.6, 0.1, 0.3]})
    >>> print(mix_finding(mix))
    The most leads come from Organic search (60 %); 10 % of leads have no known channel (other or missing).
    """
    leads = mix[mix["table"] == "leads"] if "leads" in set(mix["table"]) else mix
    if leads.empty:
        return "No table has a channel column."
    top = leads.sort_values(["share", "channel"], ascending=[False, True]).iloc[0]
    unknown = leads.loc[leads["channel"].isin(["other", "(missing)"]), "share"].sum()
    return (
        f"The most {top['table']} come from {plain_label(top['channel'])} ({_pct(top['share'])}); "
        f"{_pct(unknown)} of {top['table']} have no known channel (other or missing)."
    )


def _kept(dataset: Dataset) -> pd.Series:
    """Which findings are the note that a table stays in its database or file (computed there):
    information, not a problem to fix at the source."""
    f = dataset.findings
    kept = {n for n, df in dataset.tables.items() if is_table(df)}
    return f["table"].isin(kept) & (f["column"] == "") & (f["severity"] == "warning")


def check_headline(dataset: Dataset) -> str:
    """The data check's answer first: can the numbers be trusted, what was flagged, what to
    fix before reading any trend.

    Examples
    --------
    >>> import salesmkt
    >>> print(check_headline(salesmkt.load_sample()).splitlines()[0])  # doctest: +ELLIPSIS
    **The data meets the contract...
    """
    notes = _kept(dataset)
    f = dataset.findings[~notes]
    overview = table_overview(dataset)
    volume = monthly_volume(dataset)
    stale = _stale(overview)
    gaps = volume[volume["rows"] == 0]
    usable = stale.empty and gaps.empty
    lines = [
        "**The data meets the contract"
        + (" and can be used as it is.**" if usable else ", but check the exports first.**")
        + " "
        + overview_finding(overview)
    ]
    if len(f):
        lines.append(
            f"{len(f)} thing{'s' if len(f) > 1 else ''} flagged, rows kept (each analysis that "
            "has to leave them out says how many): "
            + "; ".join(f"{r['table']}: {r['problem']}" for _, r in f.iterrows())
            + "."
        )
    if notes.any():
        kept = dataset.findings[notes]
        names = ", ".join(kept["table"])
        lines.append(
            f"{names} ({kept['count'].sum():,.0f} rows) stay in the database or files and are "
            "computed there: only aggregates are read."
        )
    if not gaps.empty:
        lines.append(volume_finding(volume))
    lines.append(mix_finding(channel_mix(dataset)))
    decisions = _check_decisions(dataset)
    if decisions:
        lines.append(f"**To decide:** {decisions[0]}")
    return lines[0] + "".join(f"\n- {line}" for line in lines[1:])


def _check_decisions(dataset: Dataset) -> list[str]:
    out = []
    overview = table_overview(dataset)
    for _, r in _stale(overview).iterrows():
        out.append(
            f"Re-export *{r['table']}*: it ends {r['lag_days']:,.0f} days before the other tables."
        )
    gaps = monthly_volume(dataset).query("rows == 0")
    for table in sorted(gaps["table"].unique()):
        out.append(f"Fill the monthly gap in *{table}* before reading its trend.")
    f = dataset.findings[~_kept(dataset)]  # a table kept where it is has nothing to fix
    for _, r in f.iterrows():
        out.append(f"Fix at the source: {r['table']}.{r['column']}, {r['problem']}.")
    mix = channel_mix(dataset)
    leads = mix[mix["table"] == "leads"]
    unknown = leads.loc[leads["channel"].isin(["other", "(missing)"]), "share"].sum()
    if unknown >= 0.02:
        out.append(f"Map the unknown lead sources: {_pct(unknown)} of leads have no known channel.")
    return out[:4]


def check_decisions(dataset: Dataset) -> str:
    """Two to four concrete actions from the data check: tables to re-export, gaps to fill,
    flagged rows to fix at the source, lead sources to map.

    Returns
    -------
    str
        A Markdown list (a single line saying nothing needs fixing when that is so).

    Examples
    --------
    >>> import salesmkt
    >>> check_decisions(salesmkt.load_sample()).startswith("- ")
    True
    """
    d = _check_decisions(dataset)
    return "\n".join(f"- {x}" for x in d) if d else "- Nothing to fix: go on to the reports."


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
    have = {n: df for n, df in dataset.tables.items() if n_rows(df)}
    gone = [t for t in tables if t not in have]
    empty = []
    for item in columns:
        table, _, col = item.partition(".")
        if table in gone:
            continue
        df = have.get(table)
        if df is None:
            gone.append(table)
        elif col not in df.columns or not has_values(df, col):
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
