"""Targets and the sales-marketing SLA: ``kpis.yml``, the scorecard and SLA compliance.

``kpis.yml`` is the file the two teams edit together (a commented template ships with the
package: :func:`kpi_config_template`). It holds the shared KPIs and their targets per period,
the KPI settings and the SLA terms. Notebooks read it; it is written only on request, and
always atomically (a temporary file in the same folder, then ``os.replace``), so a crash mid-way
never leaves a half-written file.

Examples
--------
>>> import salesmkt
>>> config = salesmkt.kpi_config_template()
>>> config["sla"]["response_hours"]
4.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.kpis.compute import KPI_CATALOG, _latest, kpi_table
from salesmkt.kpis.config import (
    kpi_config_template,
)

__all__ = [
    "cost_basis",
    "suggest_targets",
    "kpi_settings",
    "scorecard",
    "sla_report",
    "sla_breaches",
]

STATUSES = ("on track", "at risk", "off track", "no target", "no data", "context")

#: An owner's quota attainment outside these bounds is flagged as a probable quota-data problem
#: (a missing, mistyped or stale quota) rather than read as performance.
QUOTA_PLAUSIBLE = (0.2, 1.5)
#: A target beaten by more than this share of it in every one of the last ``TOO_EASY_PERIODS``
#: periods is flagged as too easy to steer by.
TOO_EASY_MARGIN = 0.2
TOO_EASY_PERIODS = 3


def kpi_settings(config: dict) -> dict:
    """The ``settings`` argument of :func:`salesmkt.kpi_table` for a ``kpis.yml`` config.

    It is the config's ``settings`` plus the SLA's response hours (used by ``sla_compliance``).

    Examples
    --------
    >>> kpi_settings(kpi_config_template())["sla_response_hours"]
    4.0
    """
    return {**config.get("settings", {}), "sla_response_hours": config["sla"]["response_hours"]}


def _with_mql(dataset: Dataset, mql, *, caller: str = "sla_report") -> Dataset:
    """The dataset with an MQL definition of its own in ``leads.mql_at`` (``None``: unchanged).

    The SLA counts a lead as an MQL from its ``mql_at``, the CRM's hand-off by default. A team
    that hands over leads by score (e.g. :func:`salesmkt.mql_leads` above the threshold of
    :func:`salesmkt.mql_threshold`) passes its MQLs here: either a DataFrame ``lead_id,
    mql_at`` (when each lead became an MQL), or a collection of lead ids, which become MQLs
    when they were created (``created_at``). Every other lead has no ``mql_at``; the other
    stage timestamps are kept. The leads table is copied, never changed in place.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> first = ds.leads["lead_id"].iloc[:3]
    >>> int(_with_mql(ds, first).leads["mql_at"].notna().sum())
    3
    """
    if mql is None:
        return dataset
    from dataclasses import replace

    from salesmkt.data.validate import check_columns

    leads = dataset.leads
    check_columns(leads, "leads", ["lead_id", "created_at"], caller=caller)
    if isinstance(mql, pd.DataFrame):
        missing = [c for c in ("lead_id", "mql_at") if c not in mql.columns]
        if missing:
            raise ValueError(f"{caller}: mql.{missing[0]}: the MQL definition needs this column")
        ids = mql["lead_id"]
        when = pd.to_datetime(mql["mql_at"], utc=True, errors="coerce")
        if when.isna().any():
            raise ValueError(
                f"{caller}: mql.mql_at: {int(when.isna().sum())} missing or unreadable timestamps"
            )
    else:
        if isinstance(mql, str | bytes | float | int):
            raise TypeError(
                f"{caller}: mql must be lead ids or a DataFrame of lead_id and mql_at, "
                f"got {type(mql).__name__}"
            )
        ids = pd.Series(list(mql))
        when = None
    dup = ids.duplicated()
    if dup.any():
        raise ValueError(
            f"{caller}: mql.lead_id: {int(dup.sum())} lead ids given twice, e.g. "
            f"{', '.join(map(str, ids[dup].unique()[:3]))}"
        )
    known = ids.isin(leads["lead_id"])
    if not known.all():
        raise ValueError(
            f"{caller}: mql.lead_id: {int((~known).sum())} lead ids are not in leads, e.g. "
            f"{', '.join(map(str, ids[~known].iloc[:3]))}"
        )
    if when is None:
        new = leads["created_at"].where(leads["lead_id"].isin(ids))
    else:
        new = leads["lead_id"].map(pd.Series(when.to_numpy(), index=ids.to_numpy()))
    new = pd.to_datetime(new, utc=True).astype(leads["created_at"].dtype)
    return replace(dataset, leads=leads.assign(mql_at=new))


def _latest_full_period(t: pd.DataFrame) -> str:
    full = t[_periods.is_full(t["period_end"], t["as_of"])]
    return (full if len(full) else t).sort_values("period_start")["period"].iloc[-1]


def suggest_targets(table: pd.DataFrame, *, kpis=None, last: int = 3) -> pd.DataFrame:
    """Targets suggested from the data's own recent values (headline items).

    The suggestion is the KPI recomputed over the last ``last`` full periods from summed
    numerators and denominators (the median for duration KPIs), a starting point the team
    adjusts, not a goal in itself. It is rounded in the KPI's better direction (up for a
    higher-is-better KPI, down for a lower-is-better one), so a suggestion is never easier than
    recent performance; ``context`` KPIs are rounded to the nearest step. Data without a full
    period (an export of a few weeks) gives suggestions from the partial periods it has;
    ``periods`` names them.

    Returns
    -------
    DataFrame
        ``kpi, name, direction, unit, periods, recent_value, suggested_target``.

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.kpi_table(salesmkt.load_sample(), kpis=["win_rate"])
    >>> float(suggest_targets(t)["suggested_target"].iloc[0]) > 0
    True
    """
    full = _periods.is_full(table["period_end"], table["as_of"])
    t = table[full] if full.any() else table  # a short export: the partial period it has
    rows = []
    for kpi in kpis or list(dict.fromkeys(t["kpi"])):
        spec = KPI_CATALOG[kpi]
        h = t[(t["kpi"] == kpi) & (t["item"] == spec.headline)].sort_values("period_start")
        h = h.tail(last)
        if spec.value_kind in ("median", "amount") or kpi in (
            "pipeline_velocity",
            "clv_simple",
            "ltv_cac",
            "cac_payback_months",
            "clv_cohort",
        ):
            recent = h["value"].median()
        else:
            den = h["denominator"].sum()
            recent = h["numerator"].sum() / den if den else np.nan
        rows.append(
            {
                "kpi": kpi,
                "name": spec.name,
                "direction": spec.direction,
                "unit": spec.unit,
                "periods": ", ".join(h["period"]),
                "recent_value": recent,
                "suggested_target": _round(recent, spec.unit, spec.direction),
            }
        )
    cols = ["kpi", "name", "direction", "unit", "periods", "recent_value", "suggested_target"]
    return pd.DataFrame(rows, columns=cols)


def _round(v: float, unit: str, direction: str = "context") -> float:
    """``v`` rounded to a readable step: 0.01 for shares, two significant digits from 10 on,
    0.1 below; up for ``higher``-is-better KPIs, down for ``lower``, nearest otherwise."""
    if pd.isna(v):
        return np.nan
    v = float(v)
    if unit == "share":
        step = 0.01
    elif abs(v) >= 10:
        step = float(10 ** max(int(np.floor(np.log10(abs(v)))) - 1, 0))
    else:
        step = 0.1
    q = v / step
    q = round(q, 9)  # 0.29 / 0.01 is 28.999999999999996: not a reason to round up or down
    n = np.ceil(q) if direction == "higher" else np.floor(q) if direction == "lower" else round(q)
    return round(float(n) * step, 10)


def status_for(value, target, direction: str, tolerance: float) -> str:
    """``on track`` / ``at risk`` / ``off track`` for a value against a target.

    Higher-is-better KPIs are on track at or above the target and at risk within
    ``tolerance`` x ``abs(target)`` below it; lower-is-better ones mirror that. ``context`` KPIs are
    not judged; a missing value is ``no data`` and a missing target ``no target``.

    Examples
    --------
    >>> status_for(0.23, 0.25, "higher", 0.1), status_for(5.0, 4.0, "lower", 0.1)
    ('at risk', 'off track')
    """
    if direction == "context":
        return "context"
    if value is None or pd.isna(value):
        return "no data"
    if target is None or pd.isna(target):
        return "no target"
    band = tolerance * abs(target)
    gap = value - target if direction == "higher" else target - value
    if gap >= 0:
        return "on track"
    return "at risk" if gap >= -band else "off track"


def _target(config: dict, kpi: str, period: str):
    spec = config["targets"].get(kpi)
    if spec is None:
        return None, config["at_risk_tolerance"]
    target = spec.get("periods", {}).get(period, spec.get("target"))
    return target, spec.get("tolerance", config["at_risk_tolerance"])


def scorecard(
    kpi_table_or_dataset,
    config: dict | None = None,
    period=None,
    *,
    as_of=None,
    sla: pd.DataFrame | None = None,
    mql=None,
):
    """Each shared KPI's value in a period against its target, with gap and status.

    Parameters
    ----------
    kpi_table_or_dataset : DataFrame or Dataset
        A :func:`salesmkt.kpi_table` (without breakdown) or a dataset to compute it from (the
        config's KPIs, frequency and settings).
    config : dict, optional
        From :func:`load_kpi_config`; default the template.
    period : str or date, optional
        Period label (``2025-02``) or a date in it. Default: the latest full period. (One period
        named by its label, hence not ``start``/``end``; its length is the config's ``freq``.)
    as_of : timestamp, optional
        Cut-off for the KPI table computed from a dataset.
    sla : DataFrame, optional
        The :func:`sla_report` of the same data and frequency. With it, marketing's MQL
        delivery commitment (``sla.mql_per_period`` of ``config``) is scored as one more row,
        ``sla_mql_delivery`` ("MQLs delivered (SLA)"): the MQLs of the period against the
        commitment, judged like a KPI (more is better, the config's tolerance). The response
        time and acceptance terms are the KPIs ``sla_compliance`` and ``mql_sql_acceptance``.
    mql : DataFrame or collection of lead ids, optional
        The MQL definition of the KPIs computed from a dataset, as in :func:`sla_report`
        (default: the CRM's ``mql_at``). Pass the same one to :func:`sla_report` for ``sla``.

    Returns
    -------
    DataFrame
        One row per KPI of ``config["kpis"]`` (then the SLA row): ``kpi, name, owner, unit,
        direction, period, value, previous, change, target, gap`` (value - target),
        ``gap_share`` (gap / ``abs(target)``), ``status``, ``n_excluded, n_pending``,
        ``periods_missed`` (how many periods in a row up to this one missed the target: at
        risk or off track; 0 when on track), ``check``, and for rates over counts
        ``denominator, ci_low, ci_high`` (the count and the 95 % Wilson interval of the value,
        missing for other KPIs). Status logic: :func:`status_for`. ``attrs["cost_basis"]``
        says in one sentence what the cost- and margin-based KPIs rest on (:func:`cost_basis`).
        ``check`` is a sanity note, empty when there is nothing to say: for quota attainment,
        owners whose attainment is above 150 % or below 20 % (:data:`QUOTA_PLAUSIBLE`), a
        probable quota-data problem rather than performance; for any KPI with a target, a target
        beaten by more than 20 % in each of the last 3 periods up to ``period``
        (:data:`TOO_EASY_MARGIN`), too easy to steer by.

    Examples
    --------
    >>> import salesmkt
    >>> sc = scorecard(salesmkt.load_sample(), period="2026-05")
    >>> set(sc["status"]) <= set(STATUSES)
    True
    """
    config = config or kpi_config_template()
    kpis = config["kpis"]
    if isinstance(kpi_table_or_dataset, Dataset):
        t = kpi_table(
            _with_mql(kpi_table_or_dataset, mql, caller="scorecard"),
            kpis=kpis,
            freq=config["freq"],
            as_of=as_of,
            settings=kpi_settings(config),
        )
    else:
        t = kpi_table_or_dataset
        if mql is not None:
            raise ValueError(
                "scorecard: mql applies when the scorecard computes its KPIs from a dataset; "
                "pass the dataset, or compute the KPI table from the dataset with that definition"
            )
        missing = [k for k in kpis if k not in set(t["kpi"])]
        if missing:
            raise ValueError(f"scorecard: the KPI table has no rows for {', '.join(missing)}")
    freq = config["freq"]
    label = (
        _latest_full_period(t)
        if period is None
        else _periods.label(_periods.parse_period(period, freq), freq)
    )
    if label not in set(t["period"]):
        raise ValueError(
            f"scorecard: period {label} is not in the KPI table "
            f"({t['period'].min()} to {t['period'].max()})"
        )
    rows = []
    for kpi in kpis:
        spec = KPI_CATALOG[kpi]
        h = t[(t["kpi"] == kpi) & (t["item"] == spec.headline)].sort_values("period_start")
        labels = h["period"].tolist()
        targets = [_target(config, kpi, p) for p in labels]
        i = labels.index(label)
        row = _score_row(h["value"].tolist(), targets, i, spec.direction)
        cur = h[h["period"] == label].iloc[0]
        rows.append(
            {
                "kpi": kpi,
                "name": spec.name,
                "owner": spec.owner,
                "unit": spec.unit,
                "direction": spec.direction,
                "period": label,
                **row,
                "n_excluded": int(cur["n_excluded"]),
                "n_pending": int(cur["n_pending"]),
                "denominator": cur["denominator"] if pd.notna(cur.get("ci_low")) else np.nan,
                "ci_low": cur.get("ci_low", np.nan),
                "ci_high": cur.get("ci_high", np.nan),
                "check": "; ".join(
                    note
                    for note in (
                        _quota_check(t, label) if kpi == "quota_attainment" else "",
                        _too_easy(config, spec, h.iloc[: i + 1]),
                    )
                    if note
                ),
            }
        )
    if sla is not None:
        rows.append(_sla_delivery_row(sla, config, label))
    out = pd.DataFrame(rows)
    out.attrs["currency"] = config.get("currency")  # of the amounts, for the words about them
    out.attrs["cost_basis"] = cost_basis(config, kpis)
    return out


#: KPIs that add ``settings.other_costs`` to media spend, and KPIs that rest on the margin.
COST_KPIS = ("cost_per_lead", "cac", "cost_per_mql")
MARGIN_KPIS = ("marketing_roi", "roas", "clv_simple", "clv_cohort", "cac_payback_months", "ltv_cac")


def cost_basis(config: dict, kpis=None) -> str:
    """One sentence on what the cost- and margin-based KPIs of ``kpis`` rest on.

    Costs are fully loaded when ``kpis.yml`` sets ``settings.other_costs`` (media spend plus
    people, tools and agencies), media spend only otherwise; returns use
    ``settings.gross_margin``, else revenue. What ``kpis.yml`` does not set is called
    *assumed*. ``""`` when no KPI of ``kpis`` depends on either.

    Examples
    --------
    >>> from salesmkt.kpis.config import kpi_config_template
    >>> cost_basis(kpi_config_template(), ["cac", "roas"])
    'Costs are media spend only (assumed: kpis.yml sets no other costs); returns are on revenue (assumed: kpis.yml sets no gross margin, which overstates them).'
    >>> c = kpi_config_template()
    >>> c["settings"].update(gross_margin=0.8, other_costs=20000)
    >>> cost_basis(c, ["cac", "win_rate"])
    'Costs are fully loaded: media spend plus the other sales and marketing costs of kpis.yml (people, tools, agencies).'
    """
    kpis = list(config["kpis"] if kpis is None else kpis)
    settings = config.get("settings") or {}
    parts = []
    if any(k in COST_KPIS for k in kpis):
        parts.append(
            "costs are fully loaded: media spend plus the other sales and marketing costs of "
            "kpis.yml (people, tools, agencies)"
            if settings.get("other_costs")
            else "costs are media spend only (assumed: kpis.yml sets no other costs)"
        )
    if any(k in MARGIN_KPIS for k in kpis):
        m = settings.get("gross_margin")
        parts.append(
            f"returns use the {float(m):.0%} gross margin of kpis.yml".replace("%", " %")
            if m is not None
            else "returns are on revenue (assumed: kpis.yml sets no gross margin, which "
            "overstates them)"
        )
    if not parts:
        return ""
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def _quota_check(t: pd.DataFrame, label: str) -> str:
    """Owners whose attainment in ``label`` is implausible (:data:`QUOTA_PLAUSIBLE`)."""
    low, high = QUOTA_PLAUSIBLE
    o = t[
        (t["kpi"] == "quota_attainment")
        & (t["period"] == label)
        & t["item"].astype(str).str.startswith("owner ")
    ]
    odd = o[(o["value"] > high) | (o["value"] < low)].sort_values("value", ascending=False)
    if odd.empty:
        return ""
    owners = ", ".join(
        f"{item.removeprefix('owner ')} at {value:.0%}"
        for item, value in zip(odd["item"], odd["value"], strict=True)
    )
    return (
        f"probable quota-data problem: {owners} (outside {low:.0%} to {high:.0%}); "
        "check these quotas before reading attainment as performance"
    )


def _too_easy(config: dict, spec, h: pd.DataFrame) -> str:
    """A note when the target was beaten by far in each of the last periods of ``h``."""
    if spec.direction not in ("higher", "lower"):
        return ""
    recent = h.tail(TOO_EASY_PERIODS)
    if len(recent) < TOO_EASY_PERIODS:
        return ""
    for period, value in zip(recent["period"], recent["value"], strict=True):
        target, _ = _target(config, spec.id, period)
        if target is None or pd.isna(value) or target == 0:
            return ""
        gap = value - target if spec.direction == "higher" else target - value
        if gap <= TOO_EASY_MARGIN * abs(target):
            return ""
    return (
        f"target beaten by more than {TOO_EASY_MARGIN:.0%} in each of the last "
        f"{TOO_EASY_PERIODS} periods: too easy to steer by, consider raising it"
        if spec.direction == "higher"
        else f"target beaten by more than {TOO_EASY_MARGIN:.0%} in each of the last "
        f"{TOO_EASY_PERIODS} periods: too easy to steer by, consider lowering it"
    )


def _score_row(values: list, targets: list, i: int, direction: str) -> dict:
    """Value, previous, change, target, gap and status of period ``i`` of a KPI's history, and
    how many periods in a row up to ``i`` missed their target."""
    value, (target, tol) = values[i], targets[i]
    prev = values[i - 1] if i > 0 else np.nan
    missed = 0
    for v, (t, tl) in zip(values[i::-1], targets[i::-1], strict=True):
        if status_for(v, t, direction, tl) not in ("at risk", "off track"):
            break
        missed += 1
    gap = value - target if target is not None else np.nan
    return {
        "value": value,
        "previous": prev,
        "change": value - prev,
        "target": np.nan if target is None else target,
        "gap": gap,
        "gap_share": gap / abs(target) if target not in (None, 0) else np.nan,
        "status": status_for(value, target, direction, tol),
        "periods_missed": missed,
    }


def _sla_delivery_row(sla: pd.DataFrame, config: dict, label: str) -> dict:
    """The scorecard row of marketing's MQL delivery commitment (see :func:`scorecard`)."""
    h = sla[(sla["term"] == "mql_delivery") & (sla["owner_id"] == "(team)")]
    h = h.sort_values("period_start")
    labels = h["period"].tolist()
    if label not in labels:
        raise ValueError(
            f"scorecard: the SLA report has no MQL delivery for {label}; compute it with the "
            "same frequency and period as the KPI table."
        )
    commitment = config["sla"]["mql_per_period"]
    tol = config["at_risk_tolerance"]
    row = _score_row(h["actual"].tolist(), [(commitment, tol)] * len(h), labels.index(label),
                     "higher")  # fmt: skip
    return {
        "kpi": "sla_mql_delivery",
        "name": "MQLs delivered (SLA)",
        "owner": "marketing",
        "unit": "count",
        "direction": "higher",
        "period": label,
        **row,
        "n_excluded": 0,
        "n_pending": 0,
        "check": "",
    }


def sla_report(
    dataset: Dataset,
    config: dict | None = None,
    freq: str = "M",
    *,
    start=None,
    end=None,
    as_of=None,
    mql=None,
) -> pd.DataFrame:
    """SLA compliance per period and owner: MQL delivery, response time and acceptance.

    Terms (``kpis.yml`` ``sla``): marketing delivers ``mql_per_period`` MQLs (MQLs by
    ``mql_at``); sales answers MQLs within ``response_hours`` for at least
    ``response_compliance`` of them (``sla_compliance`` of docs/semantics/kpis.md: a response before the
    MQL complies; MQLs unanswered but still inside their deadline at ``as_of`` are pending,
    excluded and counted); at least ``acceptance_rate`` of MQLs are accepted (reach SQL or
    later by ``as_of``), a check on MQL quality owned by marketing. Response compliance is
    given for the sales team and for each sales owner (``owner_id``) of the leads.

    Parameters
    ----------
    dataset : Dataset
    config : dict, optional
        From :func:`load_kpi_config`; default the template.
    freq : {"M", "W", "Q"} or {"month", "week", "quarter"}
        Period length, as in :func:`salesmkt.kpi_table`.
    start, end : date or str, optional
        Periods overlapping the half-open UTC interval ``[start, end)``.
    as_of : timestamp, optional
        Cut-off for responses and acceptance. Default: the latest timestamp in the data.
    mql : DataFrame or collection of lead ids, optional
        The MQL definition. Default ``None``: the CRM's ``mql_at``. A score-based definition
        (:func:`salesmkt.mql_leads`: ``lead_id, mql_at``), or lead ids that became MQLs when
        they were created, replaces it: only these leads are MQLs, from these times.

    Returns
    -------
    DataFrame
        ``period, period_start, term, owner`` (marketing / sales), ``owner_id`` (``(team)`` or
        a sales owner), ``actual, commitment, met`` (missing without a commitment or data),
        ``numerator, denominator, breaches, n_pending``.

    Examples
    --------
    >>> import salesmkt
    >>> r = sla_report(salesmkt.load_sample())
    >>> sorted(r["term"].unique())
    ['acceptance', 'mql_delivery', 'response_time']
    """
    freq = _periods.check_freq(freq, allowed=_periods.SUPPORTED["sla_report"], caller="sla_report")
    dataset = _with_mql(dataset, mql, caller="sla_report")
    config = config or kpi_config_template()
    sla = config["sla"]
    settings = kpi_settings(config)
    # without first_response_at response compliance is not computed (missing), not an error
    kw = dict(freq=freq, start=start, end=end, as_of=as_of, settings=settings, unavailable="skip")
    team = kpi_table(dataset, kpis=["sla_compliance", "mql_sql_acceptance"], **kw)
    per_owner = kpi_table(dataset, kpis=["sla_compliance"], by="owner_id", **kw)
    per_owner = per_owner[per_owner["owner_id"] != "(missing)"].rename(columns={"owner_id": "oid"})
    team = team.assign(oid="(team)")
    parts = []
    mql = team[team["kpi"] == "mql_sql_acceptance"]
    parts.append(
        mql.assign(
            term="mql_delivery",
            owner="marketing",
            actual=mql["denominator"],
            commitment=sla["mql_per_period"],
            numerator=mql["denominator"],
            denominator=np.nan,
            breaches=np.nan,
            n_pending=0,
        )
    )
    parts.append(
        mql.assign(
            term="acceptance",
            owner="marketing",
            actual=mql["value"],
            commitment=sla["acceptance_rate"],
            breaches=np.nan,
        )
    )
    resp = pd.concat([team[team["kpi"] == "sla_compliance"], per_owner], ignore_index=True)
    parts.append(
        resp.assign(
            term="response_time",
            owner="sales",
            actual=resp["value"],
            commitment=sla["response_compliance"],
            breaches=resp["denominator"] - resp["numerator"],
        )
    )
    out = pd.concat(parts, ignore_index=True).rename(columns={"oid": "owner_id"})
    commit = pd.to_numeric(out["commitment"], errors="coerce")
    met = (out["actual"] >= commit).astype("boolean")
    out["met"] = met.mask(commit.isna() | out["actual"].isna())
    cols = [
        "period",
        "period_start",
        "term",
        "owner",
        "owner_id",
        "actual",
        "commitment",
        "met",
        "numerator",
        "denominator",
        "breaches",
        "n_pending",
    ]
    order = {"mql_delivery": 0, "acceptance": 1, "response_time": 2}
    out = out.assign(_o=out["term"].map(order), _t=out["owner_id"] != "(team)")
    return out.sort_values(["period_start", "_o", "_t", "owner_id"])[cols].reset_index(drop=True)


def sla_breaches(
    dataset: Dataset,
    config: dict | None = None,
    *,
    start=None,
    end=None,
    as_of=None,
    mql=None,
) -> pd.DataFrame:
    """MQLs that breached the response SLA: answered late, or not answered by the deadline.

    Lead and owner ids only (no names or contact details); reports should aggregate them by
    owner and period (:func:`sla_report`) rather than list them.

    Parameters
    ----------
    dataset : Dataset
    config : dict, optional
        From :func:`load_kpi_config`; default the template.
    start, end : date or str, optional
        MQLs with ``mql_at`` in the half-open UTC interval ``[start, end)``.
    as_of : timestamp, optional
        Cut-off: responses after it count as missing. Default: the latest timestamp in the data.
    mql : DataFrame or collection of lead ids, optional
        The MQL definition, as in :func:`sla_report` (default: the CRM's ``mql_at``).

    Returns
    -------
    DataFrame
        ``lead_id, owner_id, channel, mql_at, deadline, first_response_at, hours_to_response``
        (missing when unanswered), ``breach`` (``late`` or ``no_response``), sorted by
        ``mql_at``.

    Examples
    --------
    >>> import salesmkt
    >>> b = sla_breaches(salesmkt.load_sample())
    >>> sorted(b["breach"].unique())
    ['late', 'no_response']
    """
    config = config or kpi_config_template()
    dataset = _with_mql(dataset, mql, caller="sla_breaches")
    leads = dataset.leads
    from salesmkt.data.validate import check_columns

    check_columns(leads, "leads", ["lead_id", "mql_at", "first_response_at"], caller="sla_breaches")
    as_of = _periods.to_utc(as_of) or _latest(dataset)
    t = pd.Timedelta(hours=config["sla"]["response_hours"])
    m = leads[leads["mql_at"].notna()]
    m = m[_periods.within(m["mql_at"], start, end).to_numpy()]
    resp = m["first_response_at"].where(m["first_response_at"] <= as_of)
    late = resp.notna() & (resp - m["mql_at"] > t)
    none = resp.isna() & (m["mql_at"] + t <= as_of)
    b = m[(late | none).to_numpy()]
    r = resp[(late | none).to_numpy()]
    out = pd.DataFrame(
        {
            "lead_id": b["lead_id"],
            "owner_id": b.get("owner_id", pd.NA),
            "channel": b.get("channel", pd.NA),
            "mql_at": b["mql_at"],
            "deadline": b["mql_at"] + t,
            "first_response_at": r,
            "hours_to_response": (r - b["mql_at"]).dt.total_seconds() / 3600,
            "breach": np.where(r.notna(), "late", "no_response"),
        }
    )
    return out.sort_values("mql_at", kind="stable").reset_index(drop=True)
