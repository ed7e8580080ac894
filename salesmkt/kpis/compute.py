"""The shared KPI catalog: declared KPIs and one long tidy table of their values.

Every KPI follows docs/semantics/kpis.md: the formula, the variant adopted, the timestamp that
places a row in a period, and the edge cases. Conventions (section 1):

* Periods are half-open UTC intervals ``[start, end)`` of a week (Monday start), month or
  quarter. A *period* KPI counts events whose own timestamp is in P; a *cohort* KPI follows
  items that entered a state in P up to ``as_of`` (``n_pending`` counts those still open).
* A period without rows still appears, with counts and sums 0 and ratios missing. A zero
  denominator gives a missing value, never an error or infinity.
* Ratios are never averaged: every row carries its ``numerator`` and ``denominator`` so totals
  over periods or segments are recomputed from sums.
* Rows a KPI must leave out (a null duration, a deal closed before it was created, won deals of
  an owner without quota) are counted in ``n_excluded``.

Examples
--------
>>> import salesmkt
>>> t = salesmkt.kpi_table(salesmkt.load_sample(), kpis=["win_rate"], freq="Q")
>>> t.columns.tolist()[:5]
['kpi', 'period', 'period_start', 'period_end', 'item']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.data.engine import extreme, has_values, is_table, n_rows, timestamp_columns
from salesmkt.data.validate import check_columns
from salesmkt.kpis.base import DEFAULT_SETTINGS, KPI, PART_COLS, Context, complete, segments
from salesmkt.kpis.catalog import CATALOG
from salesmkt.kpis.customers import cohort_matrix

__all__ = ["KPI_CATALOG", "kpi_catalog", "kpi_table", "missing_kpi_inputs", "cohort_retention"]

#: Every KPI of the catalog by id (see :func:`kpi_catalog` for a table of the definitions).
KPI_CATALOG: dict[str, KPI] = CATALOG

# Columns each KPI reads, by table (checked at the door with a clear error).
_NEEDS: dict[str, dict[str, list[str]]] = {
    "sessions": {"sessions": ["started_at"]},
    "leads": {"leads": ["lead_id", "created_at"]},
    "deals": {"deals": ["created_at", "amount", "status", "closed_at"]},
    "spend": {"spend": ["date", "amount"]},
    "orders": {"orders": ["customer_id", "ordered_at", "revenue"]},
    "quotas": {"quotas": ["owner_id", "period_start", "quota"]},
}
_EXTRA: dict[str, dict[str, list[str]]] = {
    "avg_session_duration": {"sessions": ["duration_s"]},
    "traffic_by_channel_group": {"sessions": ["channel"]},
    "traffic_to_lead": {"sessions": ["visitor_id"]},
    "stage_conversion": {"leads": ["mql_at", "sql_at", "opportunity_at", "customer_at"]},
    "mql_sql_acceptance": {"leads": ["mql_at", "sql_at", "opportunity_at", "customer_at"]},
    "time_to_purchase": {"leads": ["customer_at"]},
    "lead_response_time": {"leads": ["mql_at", "first_response_at"]},
    "sla_compliance": {"leads": ["mql_at", "first_response_at"]},
    "quota_attainment": {"deals": ["owner_id"]},
    "marketing_roi": {"deals": ["lead_id"], "leads": ["channel"]},
    "roas": {"deals": ["lead_id"], "leads": ["channel"]},
    "mkt_sourced_pipeline": {"deals": ["lead_id"], "leads": ["channel"]},
    "mkt_sourced_revenue": {"deals": ["lead_id"], "leads": ["channel"]},
}


# Rates that are counts over counts (a share of leads, deals, sessions or customers): they get a
# Wilson interval. Items left out are not counts (value-weighted win rate, organic / paid).
_COUNT_RATES: dict[str, set[str]] = {
    "bounce_rate": set(),
    "traffic_by_channel_group": {"organic_to_paid"},
    "stage_conversion": set(),
    "mql_sql_acceptance": set(),
    "win_rate": {"value_weighted"},
    "sla_compliance": set(),
    "customer_retention": set(),
    "churn_rate": set(),
    "traffic_to_lead": {"per_visitor"},
}
_COUNT_ITEMS = {("quota_attainment", "share_at_quota")}
#: Below this many items in the denominator a rate carries a small-sample note.
SMALL_N = 30
_Z95 = 1.959963984540054


def wilson_interval(successes, n, *, z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (95 % by default); missing where ``n`` is 0.

    Examples
    --------
    >>> lo, hi = wilson_interval([3], [4])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.3006, 0.9544)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        den = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / den
        half = z / den * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    ok = n > 0
    return np.where(ok, np.clip(centre - half, 0, 1), np.nan), np.where(
        ok, np.clip(centre + half, 0, 1), np.nan
    )


def _intervals(out: pd.DataFrame) -> pd.DataFrame:
    """Add ``ci_low, ci_high`` (Wilson, count rates only) and a small-sample ``note``."""
    num, den = out["numerator"].astype(float), out["denominator"].astype(float)
    rate = np.array(
        [
            (k in _COUNT_RATES and i not in _COUNT_RATES[k]) or (k, i) in _COUNT_ITEMS
            for k, i in zip(out["kpi"], out["item"], strict=True)
        ],
        dtype=bool,
    )
    counts = (
        rate
        & (den > 0).to_numpy()
        & (num >= 0).to_numpy()
        & (num <= den).to_numpy()
        & np.isclose(num, np.round(num))
        & np.isclose(den, np.round(den))
    )
    lo, hi = wilson_interval(num.where(counts), den.where(counts))
    out["ci_low"], out["ci_high"] = lo, hi
    small = counts & (den < SMALL_N).to_numpy()
    out["note"] = ""
    out.loc[small, "note"] = [
        f"small sample (n = {int(n)}): 95 % interval {a:.0%} to {b:.0%}"
        for n, a, b in zip(den[small], lo[small], hi[small], strict=True)
    ]
    return out


# Optional columns that exports often lack: vendor loaders add them empty, so a column without
# a single value means "not in the data" (0 % SLA compliance would be wrong), not "none yet".
_OPTIONAL: set[tuple[str, str]] = {("leads", "first_response_at"), ("sessions", "duration_s")}


def kpi_catalog() -> pd.DataFrame:
    """The KPI definitions as a table, one row per KPI.

    Returns
    -------
    DataFrame
        ``id, name, owner, unit, direction, kind, definition, formula, headline``.
        ``direction`` is ``higher``/``lower`` (which way is better) or ``context``.

    Examples
    --------
    >>> cat = kpi_catalog()
    >>> cat.set_index("id").loc["win_rate", ["owner", "direction"]].tolist()
    ['sales', 'higher']
    """
    cols = ["id", "name", "owner", "unit", "direction", "kind", "definition", "formula", "headline"]
    return pd.DataFrame([{c: getattr(k, c) for c in cols} for k in KPI_CATALOG.values()])


# Planned dates (not events that happened) never set the default as_of.
_PLANNED = {
    ("deals", "expected_close_at"),
    ("campaigns", "start_date"),
    ("campaigns", "end_date"),
    ("quotas", "period_start"),
}


def _latest(ds: Dataset) -> pd.Timestamp:
    """The latest timestamp of something that happened (§1.2's default ``as_of``)."""
    stamps = []
    for name, df in ds.tables.items():  # an Ibis table (sessions in a database) answers there
        for c in timestamp_columns(df):
            if (name, c) in _PLANNED:
                continue
            latest = extreme(df, c, "max")
            if latest is not None:
                stamps.append(latest)
    return max(stamps) if stamps else pd.Timestamp.now(tz="UTC")


def _earliest(ds: Dataset) -> pd.Timestamp:
    for name, col in (
        ("leads", "created_at"),
        ("sessions", "started_at"),
        ("deals", "created_at"),
        ("orders", "ordered_at"),
    ):
        df = getattr(ds, name)
        first = extreme(df, col, "min") if df is not None and col in df.columns else None
        if first is not None:
            return first
    return _latest(ds)


def _settings(settings: dict | None) -> dict:
    out = {**DEFAULT_SETTINGS}
    for key, value in (settings or {}).items():
        if key not in out:
            raise ValueError(
                f"unknown KPI setting {key!r}; the settings are: {', '.join(sorted(out))}"
            )
        out[key] = value
    groups = out["channel_groups"] or {}
    out["channel_groups"] = {
        "paid": list(groups.get("paid", [])),
        "organic": list(groups.get("organic", [])),
    }
    return out


def _available(ds: Dataset, kpi: KPI) -> bool:
    return all(getattr(ds, t) is not None for t in kpi.tables)


def _needs(kpi: KPI) -> dict[str, list[str]]:
    need: dict[str, list[str]] = {}
    for t in kpi.tables:
        for tab, cols in _NEEDS[t].items():
            need.setdefault(tab, []).extend(cols)
    for tab, cols in _EXTRA.get(kpi.id, {}).items():
        need.setdefault(tab, []).extend(cols)
    return need


def missing_kpi_inputs(dataset: Dataset, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """Which tables and columns each KPI needs but the dataset does not have.

    A team's own exports rarely hold everything the sample company has (no ad-spend file, no
    first-response time): this says, per KPI, what is missing, in plain words a report can show.

    Parameters
    ----------
    dataset : Dataset
    kpis : list of str, optional
        KPI ids; default every KPI of the catalog.

    Returns
    -------
    DataFrame
        One row per KPI that cannot be computed: ``kpi, name, missing`` (e.g. ``"the spend
        table"``, ``"the column leads.first_response_at"``). Empty when everything is there.
        Columns that exist but hold no values are listed only when exports often lack them
        (``leads.first_response_at``, ``sessions.duration_s``: ``"the values of ..."``);
        otherwise the KPI is computed and its values are missing or zero.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> len(missing_kpi_inputs(ds))
    0
    >>> from salesmkt.data.dataset import Dataset
    >>> missing_kpi_inputs(Dataset(leads=ds.leads), kpis=["win_rate"])["missing"].tolist()
    ['the deals table']
    """
    ids = list(KPI_CATALOG) if kpis is None else [kpis] if isinstance(kpis, str) else list(kpis)
    rows = []
    for kid in dict.fromkeys(ids):
        kpi = KPI_CATALOG[kid]
        gaps = [f"the {t} table" for t in kpi.tables if getattr(dataset, t) is None]
        for tab, cols in _needs(kpi).items():
            df = getattr(dataset, tab)
            if df is not None:
                gaps += [
                    f"the column {tab}.{c}" for c in dict.fromkeys(cols) if c not in df.columns
                ]
                gaps += [
                    f"the values of {tab}.{c}"
                    for c in dict.fromkeys(cols)
                    if (tab, c) in _OPTIONAL
                    and c in df.columns
                    and not has_values(df, c)
                    and n_rows(df)
                ]
        if gaps:
            rows.append({"kpi": kid, "name": kpi.name, "missing": ", ".join(gaps)})
    return pd.DataFrame(rows, columns=["kpi", "name", "missing"])


def _not_computed(ctx: Context, kpi: KPI, missing: str) -> pd.DataFrame:
    """Rows of a KPI the data cannot give: every value missing, the reason in ``variant``."""
    grid = ctx.periods[["period_start"]].merge(
        pd.DataFrame({"segment": segments(ctx)}), how="cross"
    )
    return grid.assign(
        item=kpi.headline,
        numerator=np.nan,
        denominator=np.nan,
        value=np.nan,
        median=np.nan,
        n_excluded=0,
        n_pending=0,
        variant=f"not computed: the data has no {missing.removeprefix('the ')}",
    )


def _check(ds: Dataset, kpi: KPI) -> None:
    missing = [t for t in kpi.tables if getattr(ds, t) is None]
    if missing:
        raise ValueError(
            f"kpi_table: KPI {kpi.id!r} needs the table(s) {', '.join(missing)}, which the "
            "dataset does not have"
        )
    for tab, cols in _needs(kpi).items():
        df = getattr(ds, tab)
        if df is not None:
            check_columns(df, tab, dict.fromkeys(cols), caller=f"kpi_table ({kpi.id})")


def kpi_table(
    dataset: Dataset,
    kpis: Sequence[str] | None = None,
    freq: str = "M",
    by: str | None = None,
    start=None,
    end=None,
    as_of=None,
    settings: dict | None = None,
    *,
    unavailable: str = "raise",
    progress: bool = False,
) -> pd.DataFrame:
    """Compute catalog KPIs per period (and breakdown) into one long tidy table.

    Parameters
    ----------
    dataset : Dataset
        The company's tables (:func:`salesmkt.load`). Its ``sessions`` may be an Ibis table
        (a database or file too large for memory): the web KPIs then run in its backend and
        only per-period figures come back (docs/semantics/kpis.md).
    kpis : list of str, optional
        KPI ids from :data:`KPI_CATALOG`. Default: every KPI whose tables the dataset has.
    freq : {"M", "W", "Q"} or {"month", "week", "quarter"}
        Period length: month, week (Monday start) or quarter (see
        :mod:`salesmkt.data.periods` for the codes and words every function shares).
    by : str, optional
        Break down by a column: a row's own column (``sessions.channel``, ``deals.product``,
        ``deals.owner_id``), else its lead's (deals via ``lead_id``; orders via the account's
        first lead), else its campaign's (spend). Rows without a value form ``"(missing)"``.
        Amounts that cannot be split by the column (spend by a lead attribute, quotas by
        channel) land in ``"(missing)"``, so ratios needing them are missing for the other
        groups rather than wrong. Other costs are only added without a breakdown.
    start, end : date or str, optional
        Periods overlapping the half-open UTC interval ``[start, end)``. Default: from the first lead (or the first
        timestamp) to ``as_of``, the last period possibly partial.
    as_of : timestamp, optional
        Cut-off for cohort KPIs (and what counts as reached). Default: the latest timestamp in
        the data.
    settings : dict, optional
        KPI settings (keys of :data:`DEFAULT_SETTINGS`), usually ``kpis.yml``'s ``settings``:
        ``gross_margin``, ``channel_groups``, ``other_costs``, ``sla_response_hours``,
        ``bounce_definition``, ``engaged_seconds``, ``response_clock``, ...
    unavailable : {"raise", "skip"}
        What to do with a requested KPI whose tables or columns the data lacks
        (:func:`missing_kpi_inputs`): raise, or keep it with every value missing and the reason in
        ``variant`` (``not computed: the data has no spend table``), so a scorecard shows it
        as *no data* instead of failing. ``attrs["not_computed"]`` maps the skipped KPIs to
        what they miss (:func:`missing_kpi_inputs`).
    progress : bool
        Show a progress bar with one step per KPI (tqdm).

    Returns
    -------
    DataFrame
        One row per (kpi, period, breakdown, item): ``kpi, period`` (label such as
        ``2025-02``), ``period_start, period_end, [by], item`` (``total`` for the headline;
        parts such as ``paid``, a stage pair, a product or ``owner O1``), ``numerator,
        denominator, value, median`` (for duration and amount KPIs), ``n_excluded,
        n_pending, variant, as_of, complete`` (whether the period had ended by ``as_of``; a
        period still running is partial), ``ci_low, ci_high`` (95 % Wilson interval of rates
        that are counts over counts: win rate, conversions, acceptance, SLA compliance,
        retention, churn, bounce, traffic shares; missing for the others) and ``note`` (``small
        sample (n = 12): 95 % interval 14 % to 62 %`` when such a rate rests on fewer than 30
        items, else empty). For ``median`` KPIs numerator / denominator is the mean; for
        ``amount`` KPIs it is the share of the total. ``attrs["assumptions"]`` states, per
        KPI, what the values assume (gross margin, lifetime cap).

    Raises
    ------
    ValueError
        Unknown KPI id or setting, or a requested KPI whose tables are missing.
    ValidationError
        A table lacks a column the KPI needs.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> t = kpi_table(ds, kpis=["cost_per_lead", "win_rate"], by="channel")
    >>> sorted(t["kpi"].unique())
    ['cost_per_lead', 'win_rate']
    >>> bool(t["value"].abs().max() < float("inf"))
    True
    """
    freq = _periods.check_freq(freq, allowed=_periods.SUPPORTED["kpi_table"], caller="kpi_table")
    if kpis is None:
        chosen = [k for k in KPI_CATALOG.values() if _available(dataset, k)]
    else:
        kpis = [kpis] if isinstance(kpis, str) else list(kpis)
        unknown = [k for k in kpis if k not in KPI_CATALOG]
        if unknown:
            raise ValueError(
                f"unknown KPI id(s) {', '.join(map(repr, unknown))}; see salesmkt.kpi_catalog() "
                f"for the ids: {', '.join(KPI_CATALOG)}"
            )
        chosen = [KPI_CATALOG[k] for k in dict.fromkeys(kpis)]
    if unavailable not in ("raise", "skip"):
        raise ValueError(f"unavailable={unavailable!r}: use 'raise' or 'skip'")
    gaps = missing_kpi_inputs(dataset, [k.id for k in chosen])
    gaps = gaps if unavailable == "skip" else gaps.iloc[:0]
    skipped = dict(zip(gaps["kpi"], gaps["missing"], strict=True))
    for k in chosen:
        if k.id not in skipped:
            _check(dataset, k)
    if by is not None and not any(by in df.columns for df in dataset.tables.values()):
        raise ValueError(f"kpi_table: no table has a column {by!r} to break down by")
    as_of = _periods.to_utc(as_of) or _latest(dataset)
    first = _periods.to_utc(start) or _earliest(dataset)
    last = _periods.to_utc(end) or (as_of + pd.Timedelta(1))
    if last <= first:
        raise ValueError(f"kpi_table: end ({last}) must be after start ({first})")
    periods = _periods.period_frame(first, last, freq)
    ctx = Context(dataset, freq, periods, by, as_of, _settings(settings))
    from tqdm.auto import tqdm

    frames = []
    for kpi in tqdm(chosen, desc="KPIs", unit="kpi", disable=not progress):
        if kpi.id in skipped:
            rows = _not_computed(ctx, kpi, skipped[kpi.id])
        else:
            rows = complete(ctx, kpi, kpi.compute(ctx))
        rows.insert(0, "kpi", kpi.id)
        frames.append(rows)
    out = pd.concat(frames, ignore_index=True)
    out = out.merge(periods, on="period_start", how="left")
    out["as_of"] = as_of
    out["complete"] = _periods.is_full(out["period_end"], out["as_of"])
    seg = [by] if by else []
    out = out.rename(columns={"segment": by}) if by else out.drop(columns="segment")
    measures = PART_COLS[PART_COLS.index("item") :]
    cols = ["kpi", "period", "period_start", "period_end", *seg, *measures, "as_of", "complete"]
    out = _intervals(out[cols].reset_index(drop=True))
    out.attrs["not_computed"] = skipped
    out.attrs["assumptions"] = {
        k.id: ctx.assumptions[k.id] for k in chosen if k.id in ctx.assumptions
    }
    return out


def cohort_retention(
    orders: pd.DataFrame, *, freq: str = "M", as_of=None, max_age: int | None = None
) -> pd.DataFrame:
    """Cohort retention: the share of each first-order cohort active at each age (the retention
    heatmap's data).

    Not the period-on-period ``customer_retention`` of the scorecard
    (:func:`salesmkt.data.definitions.customer_retention`): that follows last period's
    customers one period; this follows a cohort from its first order, so it falls with age.
    A customer belongs to the cohort of its first order with revenue above 0 and is *active*
    at age h when it has a paying order in period ``cohort + h`` or an earlier order whose
    contract term covers it (:func:`salesmkt.data.definitions.active_customers`, the one
    definition): an annual customer paying once a year stays retained, not churned and won
    back. Cells are listed only when their period has ended by ``as_of`` (orders after it are
    not looked at), so the triangle never shows a partial period as a drop.

    A cell is ``mature`` when the data runs at least the longest contract term of the orders
    (12 months when some customers pay yearly) past the start of its period. Before that a
    customer who looks lapsed may still renew (a single order's term is not known until the
    second one), so immature cells are provisional: the heatmap hatches them.

    Parameters
    ----------
    orders : DataFrame or ibis.Table
        The canonical ``orders`` table. An Ibis table (PostgreSQL, PySpark, a DuckDB or
        Parquet file) is computed in its backend; one row per cohort and age comes back.
    freq : {"W", "M", "Q", "Y"} or {"week", "month", "quarter", "year"}
        Cohort and age length (weeks start on Monday; :mod:`salesmkt.data.periods`).
    as_of : timestamp, optional
        Cut-off: cells whose period has not ended by then are left out. Default: the last order.
    max_age : int, optional
        The oldest age (in periods) to list.

    Returns
    -------
    DataFrame
        ``cohort, age, customers, active, retention, revenue, cum_revenue_per_customer,
        mature`` (``revenue``: the cash of the orders placed in the period).
        Empty when ``orders`` is ``None`` (no orders table), with ``attrs["note"]`` saying so.

    Examples
    --------
    >>> import salesmkt
    >>> r = cohort_retention(salesmkt.load_sample().orders, freq="Q")
    >>> bool((r.query("age == 0")["retention"] == 1).all())
    True
    >>> bool(r.query("mature")["cohort"].max() < r["cohort"].max())  # the newest is provisional
    True
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["cohort_retention"], caller="cohort_retention"
    )
    cols = [
        "cohort",
        "age",
        "customers",
        "active",
        "retention",
        "revenue",
        "cum_revenue_per_customer",
        "mature",
    ]
    if orders is None:  # a team without an orders export
        out = pd.DataFrame(columns=cols)
        out.attrs["note"] = "The data has no orders table: no retention to show."
        return out
    check_columns(
        orders, "orders", ["customer_id", "ordered_at", "revenue"], caller="cohort_retention"
    )
    as_of = _periods.to_utc(as_of) or extreme(orders, "ordered_at", "max")
    if as_of is None:
        return pd.DataFrame(columns=cols)
    if is_table(orders):  # in a database: computed there, one row per cohort and age back
        from salesmkt.data.retention_engine import cohort_matrix as engine_matrix

        m = engine_matrix(orders, freq=freq, as_of=as_of, max_age=max_age)
    else:
        m = cohort_matrix(orders, freq=freq, as_of=as_of, max_age=max_age)
    m["retention"] = m["active"] / m["customers"]
    m["cum_revenue_per_customer"] = m["cum_revenue"] / m["customers"]
    return m[cols]
