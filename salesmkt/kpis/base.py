"""Machinery shared by the KPI catalog: the KPI declaration, the computing context, periods,
segments and the completion of a KPI's rows into the long tidy table.

Every KPI function takes a :class:`Context` and returns a DataFrame of *parts* with columns
``period_start, segment, item, numerator, denominator, value, n_excluded, n_pending,
median, variant`` (missing columns are filled). :func:`complete` then adds every period and
segment with no rows (counts 0, ratios missing) so gaps show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.data.definitions import customer_key
from salesmkt.data.engine import as_table, execute, is_table

MISSING = "(missing)"
ALL = "(all)"
PART_COLS = [
    "period_start",
    "segment",
    "item",
    "numerator",
    "denominator",
    "value",
    "median",
    "n_excluded",
    "n_pending",
    "variant",
]

DEFAULT_SETTINGS: dict = {
    # §1.8: margin for ROI, LTV, payback; None = computed on revenue, labelled "revenue"
    "gross_margin": None,
    # §1.6: channel groups; marketing channels are all channels except "other"
    "channel_groups": {
        "paid": ["paid_search", "paid_social", "display"],
        "organic": ["organic_search"],
    },
    # people, tools, agencies: a monthly amount, or {"2025-02": amount} per month
    "other_costs": None,
    "sla_response_hours": 4.0,
    "bounce_definition": "ga4",  # ga4 | single_page | column
    "engaged_seconds": 10.0,
    "response_clock": "mql_at",  # mql_at | created_at
    "revenue_share_source": "orders",  # orders | deals
    "revenue_by_product_source": "orders",  # orders | deals
    "new_customer_source": "deals",  # deals | orders
    "clv_horizon": None,  # periods; default 12 months (M), 4 quarters (Q), 52 weeks (W)
    # lead columns holding amounts in the config's currency (a balance, a company's annual
    # revenue): persona cards write them with the currency sign
    "amount_columns": [],
    # lead columns holding rates (fractions 0-1 or points 0-100): persona cards write them as
    # percentages; None: the rule of salesmkt._base.formats.percent_columns (names ending in
    # _rate, _share, _ratio, _pct, _percent with fraction values), a list replaces the rule
    "percent_columns": None,
}


@dataclass(frozen=True)
class KPI:
    """One declared KPI of the catalog (see the KPI semantics page, docs/semantics/kpis.md).

    ``kind`` is ``period`` (events whose own timestamp is in P), ``cohort`` (items that entered
    a state in P, followed to ``as_of``) or ``snapshot`` (state at the start of P).
    ``value_kind`` is ``ratio`` (value = numerator / denominator, missing when the denominator
    is 0), ``median`` (value = median; numerator / denominator = mean), ``amount`` (value =
    numerator, an amount of money; numerator / denominator = its share) or ``derived`` (value
    from other KPIs). ``headline`` names the ``item`` a scorecard shows.
    """

    id: str
    name: str
    owner: str
    unit: str
    direction: str
    definition: str
    formula: str
    kind: str
    value_kind: str
    tables: tuple[str, ...]
    compute: Callable = field(repr=False, compare=False)
    headline: str = "total"


@dataclass
class Context:
    """What every KPI function needs: the data, periods, breakdown and settings."""

    ds: Dataset
    freq: str
    periods: pd.DataFrame
    by: str | None
    as_of: pd.Timestamp
    settings: dict
    _cache: dict = field(default_factory=dict)
    #: What a KPI's values assume, in words (kpi id -> text), filled by the KPI functions.
    assumptions: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- periods
    @property
    def first(self) -> pd.Timestamp:
        return self.periods["period_start"].iloc[0]

    @property
    def last_end(self) -> pd.Timestamp:
        return self.periods["period_end"].iloc[-1]

    def place(self, ts: pd.Series) -> pd.Series:
        """Period start of each timestamp; NaT outside the requested periods."""
        ts = pd.to_datetime(ts, utc=True)
        start = _periods.floor(ts, self.freq)
        inside = (ts >= self.first) & (ts < self.last_end)
        return start.where(inside)

    def floor(self, ts: pd.Series) -> pd.Series:
        """Period start of each timestamp, wherever it is."""
        return _periods.floor(pd.to_datetime(ts, utc=True), self.freq)

    # ---------------------------------------------------------------- settings
    def channel_group(self, channel: pd.Series) -> pd.Series:
        groups = self.settings["channel_groups"]
        ch = channel.astype("string")
        out = pd.Series("unpaid_other", index=channel.index, dtype=object)
        out[ch.isin(groups.get("organic", [])).fillna(False).to_numpy()] = "organic"
        out[ch.isin(groups.get("paid", [])).fillna(False).to_numpy()] = "paid"
        return out

    def is_paid(self, channel: pd.Series) -> pd.Series:
        return channel.astype("string").isin(self.settings["channel_groups"]["paid"]).fillna(False)

    @property
    def margin(self) -> tuple[float, str]:
        m = self.settings.get("gross_margin")
        return (1.0, "revenue") if m is None else (float(m), "margin")

    def margin_note(self, kpi: str) -> None:
        """State the gross margin ``kpi`` rests on in :attr:`assumptions`."""
        m = self.settings.get("gross_margin")
        self.assume(
            kpi,
            "no gross margin set (kpis.yml settings.gross_margin): computed on revenue, "
            "which overstates the return"
            if m is None
            else f"gross margin {float(m):.0%} (kpis.yml settings.gross_margin)",
        )

    def assume(self, kpi: str, text: str) -> None:
        old = self.assumptions.get(kpi)
        if old is None:
            self.assumptions[kpi] = text
        elif text not in old:
            self.assumptions[kpi] = f"{old}; {text}"

    # ---------------------------------------------------------------- tables
    def table(self, name: str) -> pd.DataFrame:
        df = getattr(self.ds, name)
        return df if df is not None else pd.DataFrame()

    def lead_attr(self, name: str) -> pd.Series:
        """A lead column indexed by lead_id."""
        key = ("lead_attr", name)
        if key not in self._cache:
            leads = self.table("leads")
            if name in leads.columns:
                s = leads.drop_duplicates("lead_id").set_index("lead_id")[name]
            else:
                s = pd.Series(dtype=object)
            self._cache[key] = s
        return self._cache[key]

    def account_attr(self, name: str) -> pd.Series:
        """A lead column indexed by account (the account's first lead by creation)."""
        key = ("account_attr", name)
        if key not in self._cache:
            leads = self.table("leads")
            if name in leads.columns and len(leads):
                acc = leads["account_id"].astype("string") if "account_id" in leads else None
                acc = (
                    leads["lead_id"].astype("string")
                    if acc is None
                    else acc.fillna(leads["lead_id"].astype("string"))
                )
                first = leads.assign(_acc=acc).sort_values("created_at", kind="stable")
                s = first.drop_duplicates("_acc").set_index("_acc")[name]
            else:
                s = pd.Series(dtype=object)
            self._cache[key] = s
        return self._cache[key]

    def deal_channel(self, deals: pd.DataFrame) -> pd.Series:
        """The lead source channel of each deal (§1.7); missing for deals without a lead."""
        if "lead_id" not in deals.columns:
            return pd.Series(pd.NA, index=deals.index, dtype="string")
        return deals["lead_id"].map(self.lead_attr("channel")).astype("string")

    def segment(self, df: pd.DataFrame, table: str) -> pd.Series:
        """The breakdown value of each row: own column, else via its lead, account or campaign."""
        if self.by is None:
            return pd.Series(ALL, index=df.index, dtype=object)
        by = self.by
        if by in df.columns:
            s = df[by]
        elif "lead_id" in df.columns and by in self.table("leads").columns:
            s = df["lead_id"].map(self.lead_attr(by))
        elif table == "orders" and by in self.table("leads").columns:
            s = df["customer_id"].astype("string").map(self.account_attr(by))
        elif "account_id" in df.columns and by in self.table("leads").columns:
            s = df["account_id"].astype("string").map(self.account_attr(by))
        elif "campaign_id" in df.columns and by in self.table("campaigns").columns:
            camp = self.table("campaigns").drop_duplicates("campaign_id").set_index("campaign_id")
            s = df["campaign_id"].map(camp[by])
        else:
            s = pd.Series(pd.NA, index=df.index)
        return s.astype("string").fillna(MISSING).astype(object)

    def spend(self) -> pd.DataFrame:
        """The spend table with a ``channel`` (its own or its campaign's)."""
        sp = self.table("spend")
        if sp.empty:
            return pd.DataFrame(columns=["date", "campaign_id", "amount", "channel"])
        if "channel" not in sp.columns or sp["channel"].isna().any():
            camp = self.table("campaigns")
            if "channel" in camp.columns:
                mapped = sp["campaign_id"].map(
                    camp.drop_duplicates("campaign_id").set_index("campaign_id")["channel"]
                )
                own = sp["channel"] if "channel" in sp.columns else mapped
                sp = sp.assign(channel=own.fillna(mapped))
        return sp

    def account_key(self, df: pd.DataFrame) -> pd.Series:
        """Customer key of deals or leads (:func:`salesmkt.data.definitions.customer_key`)."""
        return customer_key(df)

    def other_costs(self, start: pd.Timestamp, end: pd.Timestamp) -> float | None:
        """People, tools and agency costs in ``[start, end)`` from the settings, or None."""
        oc = self.settings.get("other_costs")
        if oc is None:
            return None
        months = pd.period_range(
            start.tz_localize(None), end.tz_localize(None) - pd.Timedelta(1), freq="M"
        )
        if isinstance(oc, int | float):
            return float(oc) * _periods.MONTHS_PER_PERIOD[self.freq]
        total = 0.0
        for m in months:
            amount = float(oc.get(str(m), 0.0))
            if self.freq == "W":
                amount *= 7 / m.days_in_month
            total += amount
        return total


# -------------------------------------------------------------------- aggregation helpers
def grouped(
    ctx: Context, df: pd.DataFrame, ts: str | pd.Series, table: str, **aggs
) -> pd.DataFrame:
    """Rows of ``df`` placed by ``ts`` in the periods, grouped by (period_start, segment).

    ``aggs`` are named aggregations; the result is indexed by (period_start, segment). Rows
    outside the requested periods are dropped (they belong to other periods).
    """
    if df.empty:
        idx = pd.MultiIndex.from_arrays([[], []], names=["period_start", "segment"])
        return pd.DataFrame({k: pd.Series(dtype=float) for k in aggs}, index=idx)
    stamp = df[ts] if isinstance(ts, str) else ts
    work = df.assign(period_start=ctx.place(stamp), segment=ctx.segment(df, table))
    work = work[work["period_start"].notna()]
    return work.groupby(["period_start", "segment"], observed=True).agg(**aggs)


# -------------------------------------------------------------------- engine helpers
def engine_segment(ctx: Context, t):
    """``t`` with a string column ``_segment``: the breakdown value of each session (its own
    column, else its lead's, else its campaign's; ``(missing)`` without one), as
    :meth:`Context.segment` gives it."""
    import ibis

    by = ctx.by
    if by is None:
        return t.mutate(_segment=ibis.literal(ALL))
    if by in t.columns:
        return t.mutate(_segment=t[by].cast("string").fill_null(MISSING))
    for key, attr, other in (
        ("lead_id", ctx.lead_attr, "leads"),
        ("campaign_id", None, "campaigns"),
    ):
        if key not in t.columns or by not in ctx.table(other).columns:
            continue
        if attr is not None:
            values = attr(by)
        else:
            camp = ctx.table("campaigns").drop_duplicates("campaign_id")
            values = camp.set_index("campaign_id")[by]
        lookup = pd.DataFrame(
            {
                "_key": values.index.astype("string"),
                "_value": values.astype("string").to_numpy(),
            }
        ).dropna(subset=["_key"])
        m = ibis.memtable(lookup)
        joined = t.left_join(m, t[key].cast("string") == m["_key"])
        joined = joined.drop("_key")
        return joined.mutate(_segment=joined["_value"].fill_null(MISSING)).drop("_value")
    return t.mutate(_segment=ibis.literal(MISSING))


def segment_values(ctx: Context, sessions) -> set[str]:
    """The breakdown values the sessions hold (one row per value comes back)."""
    t = engine_segment(ctx, as_table(sessions, [ctx.by, "lead_id", "campaign_id"]))
    return set(execute(t.select("_segment").distinct())["_segment"])


def ratio(num, den):
    """num / den, missing where den is 0 or missing (never inf)."""
    num = pd.Series(num, dtype=float) if not isinstance(num, pd.Series) else num.astype(float)
    den = pd.Series(den, dtype=float) if not isinstance(den, pd.Series) else den.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den.where(den != 0)
    return out.replace([np.inf, -np.inf], np.nan)


def parts(
    g: pd.DataFrame,
    *,
    num: str,
    den: str,
    item: str = "total",
    variant: str = "",
    excluded: str | None = None,
    pending: str | None = None,
    median: str | None = None,
    value: str | pd.Series | None = None,
) -> pd.DataFrame:
    """Turn a grouped frame into KPI parts."""
    out = pd.DataFrame(index=g.index)
    out["numerator"] = g[num].astype(float)
    out["denominator"] = g[den].astype(float)
    if value is None:
        out["value"] = ratio(out["numerator"], out["denominator"])
    else:
        out["value"] = g[value] if isinstance(value, str) else value
    out["median"] = g[median] if median else np.nan
    out["n_excluded"] = g[excluded] if excluded else 0
    out["n_pending"] = g[pending] if pending else 0
    out["item"] = item
    out["variant"] = variant
    return out.reset_index()


def join(*frames: pd.DataFrame) -> pd.DataFrame:
    """Outer-join grouped frames on (period_start, segment), filling counts with 0."""
    out = pd.concat(frames, axis=1)
    return out.fillna(0)


def segments(ctx: Context) -> list[str]:
    """Every breakdown value present in the data (``(all)`` without a breakdown)."""
    if ctx.by is None:
        return [ALL]
    if "segments" not in ctx._cache:
        values: set[str] = set()
        for name in ("leads", "deals", "sessions", "spend", "orders", "quotas"):
            df = ctx.spend() if name == "spend" else ctx.table(name)
            if is_table(df):  # sessions in a database: the distinct values come back
                values |= segment_values(ctx, df)
            elif not df.empty:
                values |= set(ctx.segment(df, name).unique())
        ctx._cache["segments"] = sorted(values)
    return ctx._cache["segments"]


def complete(ctx: Context, kpi: KPI, found: pd.DataFrame) -> pd.DataFrame:
    """Add every (period, segment, item) without rows: counts 0, ratios missing."""
    found = found.reindex(columns=PART_COLS)
    items = list(dict.fromkeys([kpi.headline, *found["item"].dropna()]))
    grid = (
        ctx.periods[["period_start"]]
        .merge(pd.DataFrame({"segment": segments(ctx)}), how="cross")
        .merge(pd.DataFrame({"item": items}), how="cross")
    )
    found = found.assign(period_start=pd.to_datetime(found["period_start"], utc=True))
    out = grid.merge(found, on=["period_start", "segment", "item"], how="left", indicator=True)
    absent = out["_merge"] == "left_only"
    for c in ("numerator", "denominator", "n_excluded", "n_pending"):
        out[c] = out[c].astype(float).fillna(0.0)
    if kpi.value_kind == "amount":
        out.loc[absent, "value"] = 0.0
    default_variant = found["variant"].dropna().iloc[0] if found["variant"].notna().any() else ""
    out["variant"] = out["variant"].astype(object).where(out["variant"].notna(), default_variant)
    out["value"] = out["value"].astype(float).replace([np.inf, -np.inf], np.nan)
    out["median"] = out["median"].astype(float)
    out["n_excluded"] = out["n_excluded"].astype(int)
    out["n_pending"] = out["n_pending"].astype(int)
    return out.drop(columns="_merge")
