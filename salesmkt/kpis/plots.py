"""KPI charts and tables: the scorecard table, trends with a target band, cohort retention and
SLA compliance."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from salesmkt._base.style import (
    BAD,
    DEFAULT_CURRENCY,
    GOOD,
    INK,
    MUTED,
    PAPER,
    PRIMARY,
    SEQUENTIAL_CMAP,
    WARNING,
    annotated_heatmap,
    currency_axis,
    finish,
    format_interval,
    format_unit,
    get_ax,
    light,
    no_data,
    percent_axis,
    plain_label,
)

__all__ = [
    "scorecard_table",
    "plot_kpi_trend",
    "plot_cohort_retention",
    "plot_sla_compliance",
    "format_value",
]

STATUS_COLORS = {"on track": GOOD, "at risk": WARNING, "off track": BAD}
_STATUS_FILL = {status: light(color) for status, color in STATUS_COLORS.items()}
#: A rate's 95 % interval is shown beside it when it spans at least this much (10 points: the
#: count is too small to read the value to within ±5 points).
WIDE_INTERVAL = 0.10


def _value_words(row, currency: str | None) -> str:
    """A scorecard value in its unit, with its interval when the count behind it is small."""
    lo, hi = row.get("ci_low", np.nan), row.get("ci_high", np.nan)
    if row["unit"] == "share" and pd.notna(lo) and pd.notna(hi) and hi - lo >= WIDE_INTERVAL:
        return format_interval(row["value"], lo, hi)
    return format_value(row["value"], row["unit"], currency=currency)


def format_value(value, unit: str, *, currency: str | None = None) -> str:
    """A KPI value for people: 25.0 %, $1,234, 3.2 h, 22.0 days.

    Amounts carry ``currency`` (an ISO code, ``kpis.yml``'s ``currency``; default USD).

    Examples
    --------
    >>> format_value(0.2534, "share"), format_value(1234.5, "currency"), format_value(3.21, "hours")
    ('25.3 %', '$1,234', '3.2 h')
    >>> format_value(80.5, "currency/day", currency="EUR")
    '€80.50 a day'
    """
    return format_unit(value, unit, currency)


def scorecard_table(
    scorecard: pd.DataFrame, *, title: str | None = None, currency: str | None = None
):
    """The scorecard as a formatted great_tables ``GT`` (renders as HTML in notebooks).

    Values are formatted by unit, the status cell says the status and is tinted by it (the
    palette's good, warning and bad colours), and the arrow says whether the KPI moved the right way since the
    previous period. A rate over a small count shows its 95 % Wilson interval beside it
    (``33.3 % (23–45 %)``, when the interval spans :data:`WIDE_INTERVAL` or more). When the
    scorecard's ``check`` flags a row (a probable quota-data problem, a target already beaten
    by far), a *Check* column says so. The scorecard's ``attrs["cost_basis"]`` (what costs and
    returns rest on, from ``kpis.yml``) is the table's footnote.

    Parameters
    ----------
    scorecard : DataFrame
        Output of :func:`salesmkt.scorecard`.
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``; default USD).

    Examples
    --------
    >>> import salesmkt
    >>> sc = salesmkt.scorecard(salesmkt.load_sample(), period="2026-05")
    >>> "Win rate" in scorecard_table(sc).as_raw_html()
    True
    """
    from great_tables import GT, loc, style

    sc = scorecard.reset_index(drop=True)
    better = np.where(sc["direction"] == "lower", -1, 1) * np.sign(sc["change"].astype(float))
    arrow = np.select([better > 0, better < 0], ["▲ better", "▼ worse"], "–")
    view = pd.DataFrame(
        {
            "KPI": sc["name"],
            "Owner": sc["owner"].map(plain_label),
            "Value": [_value_words(r, currency) for _, r in sc.iterrows()],
            "Target": [
                format_value(v, u, currency=currency)
                for v, u in zip(sc["target"], sc["unit"], strict=True)
            ],
            "Previous": [
                format_value(v, u, currency=currency)
                for v, u in zip(sc["previous"], sc["unit"], strict=True)
            ],
            "Trend": np.where(sc["change"].isna(), "–", arrow),
            "Status": sc["status"],
        }
    )
    if "check" in sc.columns and sc["check"].fillna("").astype(str).str.strip().any():
        # sanity checks (implausible quotas, a target beaten by far): read before the status
        view["Check"] = sc["check"].fillna("").astype(str)
    period = sc["period"].iloc[0] if len(sc) else ""
    gt = GT(view).tab_header(
        title=title or f"KPI scorecard, {period}",
        subtitle="Value against target; at risk = within the tolerance; (a–b %) = the 95 % "
        "interval of a rate over a small count",
    )
    if scorecard.attrs.get("cost_basis"):
        gt = gt.tab_source_note(scorecard.attrs["cost_basis"])
    for status, fill in _STATUS_FILL.items():
        rows = view.index[view["Status"] == status].tolist()
        if rows:
            gt = gt.tab_style(
                style=[style.fill(color=fill), style.text(weight="bold")],
                locations=loc.body(columns="Status", rows=rows),
            )
    gt = gt.cols_align(align="right", columns=["Value", "Target", "Previous"])
    # a value, its interval and a status read on one line ("38.6 % (30–48 %)", "off track")
    gt = gt.tab_style(
        style=style.css("white-space: nowrap;"),
        locations=loc.body(columns=["Value", "Target", "Previous", "Trend", "Status"]),
    )
    return gt.tab_options(table_font_size="15px", column_labels_font_weight="bold")


def plot_kpi_trend(
    table: pd.DataFrame,
    kpi: str,
    *,
    item: str | None = None,
    target: float | None = None,
    tolerance: float = 0.1,
    currency: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A KPI's value per period, with its target line and the at-risk band.

    The band spans from the target to ``tolerance`` x ``abs(target)`` on the wrong side (below for
    higher-is-better KPIs, above for lower-is-better). A period still running at ``as_of`` is
    drawn with a hollow marker (the table's ``complete`` column).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.kpi_table` (without breakdown).
    kpi : str
        KPI id; ``item`` defaults to its headline.
    currency : str, optional
        ISO code of an amount KPI's axis and target (``kpis.yml``'s ``currency``; default USD).

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.kpi_table(salesmkt.load_sample(), kpis=["win_rate"])
    >>> ax = plot_kpi_trend(t, "win_rate", target=0.3)
    >>> ax.get_title(loc="left")
    'Win rate'
    """
    from salesmkt.kpis.compute import KPI_CATALOG

    spec = KPI_CATALOG[kpi]
    item = item or spec.headline
    d = table[(table["kpi"] == kpi) & (table["item"] == item)].sort_values("period_start")
    ax = get_ax(ax, (8, 3.4))
    x = d["period_start"].dt.tz_localize(None)
    full = d["complete"].to_numpy(dtype=bool)
    ax.plot(x, d["value"], color=PRIMARY, lw=2, zorder=3)
    ax.scatter(x[full], d["value"][full], color=PRIMARY, s=18, zorder=4)
    if (~full).any():
        ax.scatter(
            x[~full],
            d["value"][~full],
            facecolor=PAPER,
            edgecolor=PRIMARY,
            s=30,
            zorder=4,
            label="period still running",
        )
    if target is not None and not pd.isna(target):
        band = tolerance * abs(target)
        lo, hi = (target - band, target) if spec.direction == "higher" else (target, target + band)
        ax.axhline(
            target,
            color=GOOD,
            ls="--",
            lw=1.2,
            label=f"target {format_value(target, spec.unit, currency=currency)}",
        )
        ax.axhspan(lo, hi, facecolor=light(WARNING), edgecolor=WARNING, hatch="..", lw=0,
                   label="at risk")  # fmt: skip
    if spec.unit == "share":
        percent_axis(ax.yaxis)
    elif spec.unit.startswith("currency"):
        currency_axis(ax.yaxis, currency)
    ax.set_ylim(bottom=min(0, float(np.nanmin(d["value"])) if d["value"].notna().any() else 0))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False, loc="best")
    title = spec.name if item == spec.headline else f"{spec.name}: {item}"
    better = {"higher": "higher is better", "lower": "lower is better"}.get(spec.direction, "")
    unit = {
        "currency": currency or DEFAULT_CURRENCY,
        "currency/day": f"{currency or DEFAULT_CURRENCY} a day",
        "share": "share",
    }.get(spec.unit, spec.unit)
    return finish(ax, title, ylabel=unit + (f" ({better})" if better else ""))


def plot_kpi_trends(
    table: pd.DataFrame,
    config: dict | None = None,
    *,
    kpis=None,
    ncols: int = 2,
    last: int | None = None,
):
    """Small multiples: one :func:`plot_kpi_trend` per KPI with the config's targets.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.kpi_table`.
    config : dict, optional
        From :func:`salesmkt.load_kpi_config` (targets, tolerance, the KPI list and the
        currency of the amount KPIs).
    kpis : list of str, optional
        Default: the config's KPIs present in ``table``.
    last : int, optional
        Show only the last ``last`` periods.

    Returns
    -------
    Figure

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.kpi_table(salesmkt.load_sample(), kpis=["win_rate", "cac"])
    >>> len(plot_kpi_trends(t, kpis=["win_rate", "cac"]).axes)
    2
    """
    import matplotlib.pyplot as plt

    kpis = kpis or [k for k in (config or {}).get("kpis", []) if k in set(table["kpi"])]
    if last:
        keep = sorted(table["period_start"].unique())[-last:]
        table = table[table["period_start"].isin(keep)]
    nrows = max(1, -(-len(kpis) // ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(6 * ncols, 3.2 * nrows), layout="constrained", squeeze=False
    )
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        spec = (config or {}).get("targets", {}).get(kpi, {})
        tol = spec.get("tolerance", (config or {}).get("at_risk_tolerance", 0.1))
        plot_kpi_trend(
            table,
            kpi,
            target=spec.get("target"),
            tolerance=tol,
            currency=(config or {}).get("currency"),
            ax=ax,
        )
        ax.tick_params(axis="x", labelsize=8, labelrotation=30)
    for ax in list(axes.flat)[len(kpis) :]:
        ax.remove()
    return fig


def plot_cohort_retention(retention: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heatmap of cohort retention: the share of each first-order cohort active, by age.

    This is *cohort* retention (``RETENTION_LABELS["cohort_retention"]`` in
    :mod:`salesmkt.data.definitions`): it falls with age and is not the period-on-period
    customer retention of the scorecard. A customer under contract counts as active (an
    annual customer between payments is retained). Cells that are not ``mature`` (less than
    the longest contract term observed since, so a lapsed customer may still renew) are
    hatched.

    Parameters
    ----------
    retention : DataFrame
        Output of :func:`salesmkt.cohort_retention`.

    Examples
    --------
    >>> import salesmkt
    >>> r = salesmkt.cohort_retention(salesmkt.load_sample().orders, freq="Q")
    >>> plot_cohort_retention(r).get_title(loc="left")
    'Cohort retention: share of each first-order cohort active, by age'
    """
    title = "Cohort retention: share of each first-order cohort active, by age"
    if retention.empty:
        ax = no_data(get_ax(ax, (10, 2.5)), retention.attrs.get("note", "No orders yet."))
        return finish(ax, title)
    wide = retention.pivot_table(index="cohort", columns="age", values="retention")
    sizes = retention.drop_duplicates("cohort").set_index("cohort")["customers"]
    names = [f"{c:%Y-%m} ({int(sizes[c])})" for c in wide.index]
    wide = wide.set_axis(names)
    hatch = None
    if "mature" in retention.columns:
        mature = retention.pivot_table(index="cohort", columns="age", values="mature")
        hatch = (mature == 0).set_axis(names)
    ax = get_ax(ax, (10, 0.35 * len(wide) + 1.8))
    labels = None
    if wide.shape[1] > 20:  # too many cells to read: colour only
        labels = wide.map(lambda v: "")
    return annotated_heatmap(
        wide,
        fmt=".0%",
        labels=labels,
        cmap=SEQUENTIAL_CMAP,
        vmin=0,
        vmax=1,
        xlabel=(
            "periods since first order (active: paying or under contract; "
            "hatched: provisional, a lapsed customer may still renew)"
        ),
        ylabel="cohort (customers)",
        missing_label="",
        title=title,
        fontsize=7,
        hatch=hatch,
        ax=ax,
    )


def plot_sla_compliance(
    report: pd.DataFrame, *, term: str = "response_time", ax: Axes | None = None
) -> Axes:
    """Team SLA compliance per period against the commitment.

    Bars of periods that met it are plain (good colour), those that missed it cross-hatched
    (bad colour), so the status reads without colour.

    Parameters
    ----------
    report : DataFrame
        Output of :func:`salesmkt.sla_report`.
    term : {"response_time", "mql_delivery", "acceptance"}
        Which SLA term to draw. For response time, breaches are written above the bars.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_sla_compliance(salesmkt.sla_report(salesmkt.load_sample()))
    >>> ax.get_title(loc="left")
    'SLA: MQLs answered in time'
    """
    d = report[(report["term"] == term) & (report["owner_id"] == "(team)")]
    d = d[d["actual"].notna()].sort_values("period_start")
    ax = get_ax(ax, (9, 3.6))
    met = d["met"].astype(object)
    colors = [GOOD if m is True else (BAD if m is False else MUTED) for m in met]
    hatches = ["" if m is True else ("xx" if m is False else "..") for m in met]
    bars = ax.bar(d["period"], d["actual"], color=colors, edgecolor=PAPER, lw=0.5)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    handles = [
        Patch(facecolor=GOOD, edgecolor=PAPER, label="met"),
        Patch(facecolor=BAD, edgecolor=PAPER, hatch="xx", label="missed"),
    ]
    if any(m is not True and m is not False for m in met):
        handles.append(Patch(facecolor=MUTED, edgecolor=PAPER, hatch="..", label="no commitment"))
    commit = pd.to_numeric(d["commitment"], errors="coerce")
    if commit.notna().any():
        ax.axhline(
            commit.iloc[-1],
            color=INK,
            ls="--",
            lw=1,
            label=f"commitment {commit.iloc[-1]:g}"
            if term == "mql_delivery"
            else f"commitment {commit.iloc[-1]:.0%}",
        )
        handles.append(ax.get_lines()[-1])
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="lower right",
              bbox_to_anchor=(1, 1.0), ncols=len(handles))  # fmt: skip
    if term == "response_time":
        for p, a, b in zip(d["period"], d["actual"], d["breaches"], strict=True):
            ax.text(p, a + 0.01, f"{int(b)}", ha="center", va="bottom", fontsize=7, color=BAD)
    if term != "mql_delivery":
        percent_axis(ax.yaxis)
        ax.set_ylim(0, 1.08)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    titles = {
        "response_time": "SLA: MQLs answered in time",
        "mql_delivery": "SLA: MQLs delivered by marketing",
        "acceptance": "SLA: MQLs accepted by sales",
    }
    ylabel = {
        "response_time": "share answered in time\n(numbers: breaches)",
        "mql_delivery": "MQLs",
        "acceptance": "share accepted",
    }[term]
    return finish(ax, titles[term], ylabel=ylabel)
