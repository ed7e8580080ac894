"""The pipeline report and the check-in's forecast in sentences, and the forecast both show.

:func:`report_forecast` is the one place that decides which forecast a report shows (as of the
end of the report period, for the quarter holding that date, with a fixed seed and number of
simulations), so the check-in (notebook 05) and the pipeline report (notebook 06) cannot
disagree. The other functions write sentences from result frames, never fixed text; they
return Markdown strings for ``IPython.display.Markdown``.

Examples
--------
>>> import pandas as pd
>>> t = {"dimension": "total", "item": "total", "booked": 2e5, "p10": 1.1e6, "p50": 1.47e6,
...      "p90": 1.9e6, "target": 1.58e6, "p_reach_target": 0.28, "gap": 1.38e6,
...      "coverage": 2.1, "open_pipeline": 2.9e6}
>>> print(forecast_sentence(pd.DataFrame([t]), period="Q3 2026", currency="USD"))
**Q3 2026 is at risk:** P50 $1.47M against a $1.58M quarter target, a 28 % chance of making it (P10 $1.10M to P90 $1.90M); the open pipeline of $2.90M covers 2.1x the $1.38M still to book.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesmkt._base.formats import (
    DEFAULT_CURRENCY,
    format_amount,
    format_percent,
)
from salesmkt._base.formats import (
    compact_money as _money,
)
from salesmkt.data import periods as _periods

__all__ = [
    "report_forecast",
    "forecast_note",
    "forecast_sentence",
    "forecast_at_risk",
    "checkin_forecast_line",
    "pipeline_headline",
    "pipeline_decisions",
    "open_deals_summary",
    "REPORT_SIMULATIONS",
    "REPORT_SEED",
]

#: Simulations and seed of the forecast every report shows (the same draws in 05 and 06).
REPORT_SIMULATIONS = 10_000
REPORT_SEED = 0
#: Below this chance of making the target a quarter is "at risk" in the headlines.
AT_RISK = 0.5


def _pct(x: float) -> str:
    return f"{x:.0%}".replace("%", " %")


def quarter_words(start) -> str:
    """``2026-07-01`` as ``Q3 2026``.

    Examples
    --------
    >>> quarter_words(pd.Timestamp("2026-07-01", tz="UTC"))
    'Q3 2026'
    """
    start = pd.Timestamp(start)
    return f"Q{start.quarter} {start.year}"


def _carried_quotas(quotas: pd.DataFrame | None, start: pd.Timestamp):
    """Each owner's quota of the latest quarter with quotas before ``start`` (scaled to three
    months when that quarter holds fewer), and that quarter's words; None without quotas."""
    if quotas is None or not len(quotas):
        return None
    q = quotas.copy()
    q["period_start"] = pd.to_datetime(q["period_start"], utc=True)
    q = q[q["period_start"] < start]
    if q.empty:
        return None
    quarter = _periods.floor_one(q["period_start"].max(), "Q")
    last = q[q["period_start"] >= quarter]
    months = last["period_start"].dt.strftime("%Y-%m").nunique()
    per_owner = last.groupby("owner_id", observed=True)["quota"].sum() * (3 / months)
    return per_owner, quarter_words(quarter)


def report_forecast(dataset, config: dict | None = None, period: dict | None = None):
    """The forecast a report shows: as of the report period's end, for the quarter holding it.

    The check-in (notebook 05) and the pipeline report (notebook 06) both call this, so they
    show the same draws (:data:`REPORT_SIMULATIONS` simulations, seed :data:`REPORT_SEED`).

    * ``as_of`` is the end of the report period (``period["end"]``, exclusive: the forecast
      knows everything up to it), or the end of the data when that comes first;
    * the horizon is the quarter holding ``as_of``. After the latest full month of a quarter
      that is the next quarter, with nothing booked yet. When that quarter is already over at
      the end of the data (an old period chosen), the forecast is a replay of what was known
      then, and :func:`forecast_note` says so;
    * the target is the owners' quotas for the quarter (``quotas`` table). When the quotas do
      not cover it yet, each owner's quota of the latest quarter with quotas is carried
      forward, and :func:`forecast_note` says so.

    Parameters
    ----------
    dataset : Dataset
        ``deals`` (``leads`` for the sourcing, ``quotas`` for the target).
    config : dict, optional
        ``load_kpi_config(...)``: its ``currency``.
    period : dict, optional
        ``salesmkt.report_period(...)``: its ``end``. Default: the end of the data.

    Returns
    -------
    Forecast
        :func:`~salesmkt.forecast.revenue.revenue_forecast`'s result; its ``summary.attrs``
        hold ``report_note`` (the choices above in words) and ``quarter`` (``"Q3 2026"``).

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> period = salesmkt.report_period(ds, None, None)
    >>> f = report_forecast(ds, {"currency": "USD"}, period)
    >>> f.summary.attrs["quarter"], f.draws.shape[0]
    ('Q3 2026', 10000)
    """
    from salesmkt.forecast.revenue import revenue_forecast
    from salesmkt.forecast.win import snapshot_time

    config = config or {}
    currency = config.get("currency", DEFAULT_CURRENCY)
    deals = dataset.deals
    data_end = snapshot_time(deals)
    end = _periods.to_utc(period["end"]) if period else None
    as_of = end if end is not None else data_end
    start = _periods.floor_one(as_of, "Q")
    quarter_end = _periods.shift(start, "Q")
    quarter = quarter_words(start)
    notes = [f"Forecast as of {as_of:%d %B %Y} for {quarter}, the quarter holding that date."]
    if quarter_end <= data_end:
        notes.append(
            f"{quarter} is over in the data: this is a replay of what was known on "
            f"{as_of:%d %B %Y}, to compare with what was booked."
        )
    quotas = getattr(dataset, "quotas", None)
    targets = None
    covered = (
        quotas is not None
        and len(quotas)
        and _periods.within(
            pd.to_datetime(quotas["period_start"], utc=True), start, quarter_end
        ).any()
    )
    if not covered:
        carried = _carried_quotas(quotas, start)
        if carried is not None:
            per_owner, source = carried
            targets = {"total": float(per_owner.sum()), **per_owner.astype(float).to_dict()}
            notes.append(
                f"The quotas for {quarter} are not in the data yet: the target is the owners' "
                f"quotas of {source}, carried forward ({_money(targets['total'], currency)})."
            )
    f = revenue_forecast(
        dataset,
        as_of=as_of,
        horizon="Q",
        n_simulations=REPORT_SIMULATIONS,
        seed=REPORT_SEED,
        targets=targets,
        currency=currency,
    )
    f.summary.attrs.update(report_note=" ".join(notes), quarter=quarter)
    return f


def _total(summary: pd.DataFrame) -> pd.Series:
    s = summary[summary["item"] == "total"]
    if s.empty:
        raise ValueError("forecast summary: no 'total' row (columns dimension, item)")
    return s.iloc[0]


def forecast_at_risk(summary: pd.DataFrame) -> bool:
    """Whether the quarter is at risk: a target is set and the chance of making it is below
    half (:data:`AT_RISK`).

    Examples
    --------
    >>> forecast_at_risk(pd.DataFrame([{"item": "total", "target": 1e6, "p_reach_target": 0.3}]))
    True
    >>> forecast_at_risk(pd.DataFrame([{"item": "total", "target": np.nan,
    ...                                 "p_reach_target": np.nan}]))
    False
    """
    t = _total(summary)
    return bool(np.isfinite(t["target"]) and t["p_reach_target"] < AT_RISK)


def forecast_sentence(summary: pd.DataFrame, *, period: str, currency: str | None = None) -> str:
    """The forecast in one sentence, answer first: on track or at risk, P50 against target,
    the chance of making it, the P10-P90 band and the coverage of the gap.

    ``summary`` is ``Forecast.summary`` (its ``total`` row is read); ``period`` the quarter in
    words. See the module's example.
    """
    t = _total(summary)
    c = currency or DEFAULT_CURRENCY
    band = f"P10 {_money(t['p10'], c)} to P90 {_money(t['p90'], c)}"
    if not np.isfinite(t["target"]):
        return f"**{period}:** P50 {_money(t['p50'], c)} ({band}); no target is set."
    if t["gap"] <= 0:
        return (
            f"**{period} is made:** the {_money(t['target'], c)} target is already booked; "
            f"P50 {_money(t['p50'], c)} ({band})."
        )
    chance = t["p_reach_target"]
    verdict = "is at risk" if chance < AT_RISK else "is on track"
    text = (
        f"**{period} {verdict}:** P50 {_money(t['p50'], c)} against a "
        f"{_money(t['target'], c)} quarter target, a {_pct(chance)} chance of making it "
        f"({band})"
    )
    return (
        text + f"; the open pipeline of {_money(t['open_pipeline'], c)} covers "
        f"{t['coverage']:.1f}x the {_money(t['gap'], c)} still to book."
    )


def forecast_note(forecast) -> str:
    """The report's choices of date, quarter and target in words (:func:`report_forecast`)."""
    return str(forecast.summary.attrs.get("report_note", ""))


def checkin_forecast_line(summary: pd.DataFrame, *, period: str, currency=None) -> str:
    """The check-in headline's line on the forecast: empty unless the quarter is at risk.

    Examples
    --------
    >>> s = pd.DataFrame([{"item": "total", "target": 1e6, "p_reach_target": 0.8}])
    >>> checkin_forecast_line(s, period="Q3 2026")
    ''
    """
    if not forecast_at_risk(summary):
        return ""
    t = _total(summary)
    c = currency or DEFAULT_CURRENCY
    return (
        f"**{period} at risk:** forecast P50 {_money(t['p50'], c)} against the "
        f"{_money(t['target'], c)} target ({_pct(t['p_reach_target'])} chance of making it)."
    )


def pipeline_headline(
    summary: pd.DataFrame,
    threshold: pd.DataFrame | None,
    *,
    period: str,
    currency: str | None = None,
) -> str:
    """The pipeline report's headline: the forecast, then the MQL threshold that fills sales'
    capacity.

    Parameters
    ----------
    summary : DataFrame
        ``Forecast.summary``.
    threshold : DataFrame or None
        :func:`salesmkt.mql_threshold`'s row (``threshold, mqls_per_period, capacity,
        expected_share_captured``).
    period : str
        The quarter in words.
    currency : str, optional

    Examples
    --------
    >>> s = pd.DataFrame([{"item": "total", "booked": 0.0, "p10": 1.1e6, "p50": 1.47e6,
    ...     "p90": 1.9e6, "target": 1.58e6, "p_reach_target": 0.28, "gap": 1.58e6,
    ...     "coverage": 1.9, "open_pipeline": 3e6}])
    >>> t = pd.DataFrame([{"threshold": 0.04, "period": "M", "mqls_per_period": 148.2,
    ...     "capacity": 150.0, "expected_share_captured": 0.712}])
    >>> print(pipeline_headline(s, t, period="Q3 2026").split(".** ")[-1])
    Score leads at 4 % or more: about 148 MQLs a month for sales' capacity of 150; they hold 71 % of the customers the open leads are expected to bring.
    """
    lines = [forecast_sentence(summary, period=period, currency=currency)]
    if threshold is not None and len(threshold):
        r = threshold.iloc[0]
        every = {"M": "a month", "W": "a week", "Q": "a quarter"}.get(str(r["period"]), "a period")
        lines.append(
            f"**Which leads to call.** Score leads at {_threshold_pct(r['threshold'])} or more: "
            f"about {r['mqls_per_period']:,.0f} MQLs {every} for sales' capacity of "
            f"{r['capacity']:,.0f}; they hold "
            f"{_pct(r['expected_share_captured'])} of the customers the open leads are "
            "expected to bring."
        )
    return "\n\n".join(lines)


def _threshold_pct(x: float) -> str:
    v = 100 * float(x)
    for d in (0, 1):
        if abs(v - round(v, d)) < 1e-9:
            return f"{v:.{d}f} %"
    return f"{v:.2f} %"


def pipeline_decisions(
    summary: pd.DataFrame,
    threshold: pd.DataFrame | None,
    *,
    period: str,
    currency: str | None = None,
    drift: pd.DataFrame | None = None,
) -> str:
    """Concrete actions from the forecast, the threshold and the score's drift (Markdown list).

    Examples
    --------
    >>> s = pd.DataFrame([{"dimension": "total", "item": "total", "booked": 0.0, "p50": 1.2e6,
    ...     "target": 1.5e6, "p_reach_target": 0.2, "gap": 1.5e6, "coverage": 2.5,
    ...     "open_pipeline": 3.75e6}])
    >>> print(pipeline_decisions(s, None, period="Q3 2026"))
    - **Close the gap in Q3 2026:** the P50 falls $300k short of the $1.50M target; the open pipeline covers 2.5x the gap, so the deals to push are there.
    """
    c = currency or DEFAULT_CURRENCY
    t = _total(summary)
    items = []
    if np.isfinite(t["target"]) and t["gap"] > 0:
        short = t["target"] - t["p50"]
        if short > 0:
            where = (
                "so the deals to push are there"
                if t["coverage"] >= 1
                else "short of it even if every open deal were won: new pipeline is needed"
            )
            items.append(
                f"**Close the gap in {period}:** the P50 falls {_money(short, c)} short of the "
                f"{_money(t['target'], c)} target; the open pipeline covers "
                f"{t['coverage']:.1f}x the gap, {where}."
            )
        else:
            items.append(
                f"**Keep {period} on course:** the P50 is {_money(-short, c)} above the "
                f"{_money(t['target'], c)} target; watch the deals that carry it."
            )
        owners = summary[(summary["dimension"] == "owner_id") & np.isfinite(summary["target"])]
        owners = owners[owners["p_reach_target"] < AT_RISK].sort_values("p_reach_target")
        if len(owners):
            names = ", ".join(
                f"{r['item']} ({_pct(r['p_reach_target'])})" for _, r in owners.head(3).iterrows()
            )
            items.append(
                f"**Review the forecast with the owners least likely to make quota:** {names}."
            )
    if threshold is not None and len(threshold):
        r = threshold.iloc[0]
        items.append(
            f"**Agree the score-based MQL rule:** leads scored at "
            f"{_threshold_pct(r['threshold'])} or more are MQLs "
            f"(about {r['mqls_per_period']:,.0f} a month for a capacity of "
            f"{r['capacity']:,.0f}); write it into the SLA in kpis.yml."
        )
    if drift is not None and len(drift):
        moved = drift[drift["verdict"] == "major shift"]
        if len(moved):
            items.append(
                "**Check what changed in the leads:** the inputs "
                + ", ".join(str(x).replace("_", " ") for x in moved["feature"].head(3))
                + " moved a lot since the score was trained; retrain before trusting the tiers."
            )
    return "\n".join(f"- {i}" for i in items) if items else "- No action stands out this period."


#: Age bands of open deals (days since creation).
AGE_BANDS = (0, 30, 90, 180, np.inf)


def open_deals_summary(
    deals: pd.DataFrame, *, by: str = "stage", currency: str | None = None
) -> pd.DataFrame:
    """The open deals of a forecast (``Forecast.deals``) per stage or age band: how many, their
    amount, their average chance of being won in the period and the amount that chance is
    expected to bring, with plain labels.

    Parameters
    ----------
    deals : DataFrame
        ``amount, stage, age_days, p_win_in_period, p_win_eventually`` per open deal.
    by : {"stage", "age"}
    currency : str, optional
        ISO code of the amounts (default USD).

    Examples
    --------
    >>> d = pd.DataFrame({"amount": [100.0, 300.0, 50.0], "stage": ["Demo", "Demo", "Proposal"],
    ...     "age_days": [10, 100, 40], "p_win_in_period": [0.5, 0.1, 0.4],
    ...     "p_win_eventually": [0.6, 0.2, 0.5]})
    >>> open_deals_summary(d)[["Stage", "Open deals", "Expected in the period"]].to_dict("list")
    {'Stage': ['Demo', 'Proposal'], 'Open deals': ['2', '1'], 'Expected in the period': ['$80', '$20']}
    >>> open_deals_summary(d, by="age")["Age"].tolist()
    ['Under 30 days', '30 to 90 days', '90 to 180 days']
    """
    d = deals.assign(_expected=deals["amount"] * deals["p_win_in_period"])
    if by == "age":
        labels = ["Under 30 days", "30 to 90 days", "90 to 180 days", "180 days or more"]
        key = pd.cut(d["age_days"], AGE_BANDS, right=False, labels=labels)
        column = "Age"
    elif by == "stage":
        key, column = d["stage"].astype(str), "Stage"
    else:
        raise ValueError(f"open_deals_summary: by must be 'stage' or 'age', got {by!r}")
    g = d.groupby(key, observed=True, sort=True)
    c = currency or DEFAULT_CURRENCY
    pct = lambda v: format_percent(v, decimals=0)  # noqa: E731
    out = pd.DataFrame(
        {
            column: g.size().index.astype(str),
            "Open deals": [f"{n:,}" for n in g.size()],
            "Amount": [format_amount(v, c, decimals=0) for v in g["amount"].sum()],
            "Chance of winning in the period": [pct(v) for v in g["p_win_in_period"].mean()],
            "Chance of winning eventually": [pct(v) for v in g["p_win_eventually"].mean()],
            "Expected in the period": [
                format_amount(v, c, decimals=0) for v in g["_expected"].sum()
            ],
        }
    )
    return out


#: The lead history the score and the forecast need before the report's end: two quarters, so
#: that at least one quarterly snapshot has a labelled 90-day outcome to learn from.
MIN_HISTORY_DAYS = 183


@dataclass
class PipelineReview:
    """Everything report 06 shows, computed once; ``missing`` says in words why it could not be.

    ``forecast`` (:class:`~salesmkt.forecast.revenue.Forecast`), ``quarter`` (its period label),
    ``review`` (:class:`~salesmkt.scoring.review.ScoreReview`), ``scores`` (the open leads'
    :func:`~salesmkt.scoring.reasons.score_leads`), ``quality``
    (:func:`~salesmkt.scoring.quality.model_quality`), ``capacity``, ``tradeoff`` and
    ``threshold`` (:mod:`salesmkt.scoring.threshold`), ``drift``
    (:func:`~salesmkt.scoring.drift.population_stability`). All ``None`` when ``missing``.
    """

    missing: str = ""
    forecast: object = None
    quarter: str | None = None
    review: object = None
    scores: pd.DataFrame | None = None
    quality: pd.DataFrame | None = None
    capacity: float | None = None
    tradeoff: pd.DataFrame | None = None
    threshold: pd.DataFrame | None = None
    drift: pd.DataFrame | None = None


def pipeline_readiness(dataset, period: dict) -> str:
    """Why the score and the forecast cannot run on ``dataset`` up to ``period["end"]``, in one
    plain sentence, or ``""`` when they can: they need leads and deals, and two quarters of lead
    history (:data:`MIN_HISTORY_DAYS`) before the report's end.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> pipeline_readiness(ds, {"end": pd.Timestamp("2026-07-01", tz="UTC")})
    ''
    >>> pipeline_readiness(ds, {"end": pd.Timestamp("2024-03-01", tz="UTC")})[:60]
    'The lead score and the forecast need two quarters of lead hi'
    """
    from salesmkt.data.check import missing_data

    missing = missing_data(dataset, tables=["leads", "deals"])
    if missing:
        return missing
    first = pd.to_datetime(dataset.leads["created_at"], utc=True).min()
    days = (pd.Timestamp(period["end"]) - first) / pd.Timedelta(days=1)
    if not days >= MIN_HISTORY_DAYS:
        return (
            "The lead score and the forecast need two quarters of lead history before the "
            f"report's end ({MIN_HISTORY_DAYS} days); these data hold {max(days, 0):,.0f}. "
            "Run this report again when more history is in the data."
        )
    return ""


def pipeline_review(dataset, config: dict, period: dict, *, personas=None) -> PipelineReview:
    """The forecast, the lead score and its review, the MQL threshold and the drift of the
    score's inputs, as report 06 shows them (one call, so the notebook holds no logic).

    The forecast is :func:`report_forecast` (the check-in shows the same); the score is reviewed
    on quarterly snapshots (:func:`~salesmkt.scoring.review.score_review`); the threshold is the
    lowest lead score whose MQLs a month fit ``sla.sales_capacity`` of ``config``, and the
    trade-off is drawn on a grid of half a percentage point. When
    :func:`pipeline_readiness` finds the data too thin, only ``missing`` is set.
    """
    from salesmkt.scoring.drift import population_stability
    from salesmkt.scoring.quality import model_quality
    from salesmkt.scoring.reasons import score_leads
    from salesmkt.scoring.review import score_review
    from salesmkt.scoring.threshold import mql_threshold, threshold_tradeoff

    missing = pipeline_readiness(dataset, period)
    if missing:
        return PipelineReview(missing=missing)
    forecast = report_forecast(dataset, config, period)
    review = score_review(dataset, as_of=period["end"], personas=personas)
    capacity = config["sla"]["sales_capacity"]
    freq = config["freq"]
    return PipelineReview(
        forecast=forecast,
        quarter=forecast.summary.attrs["quarter"],
        review=review,
        scores=score_leads(dataset, as_of=period["end"], personas=personas),
        quality=model_quality(review.predictions),
        capacity=capacity,
        tradeoff=threshold_tradeoff(
            review.threshold_scores,
            capacity=capacity,
            period=freq,
            thresholds=[i / 200 for i in range(200)],
        ),
        threshold=mql_threshold(review.threshold_scores, capacity=capacity, period=freq, step=None),
        drift=population_stability(review.training, review.current),
    )
