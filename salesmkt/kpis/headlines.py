"""The KPI report and the check-in in sentences: headlines, section findings and decisions.

Every sentence is written from a result frame (the :func:`~salesmkt.kpis.targets.scorecard`,
the :func:`~salesmkt.kpis.targets.sla_report`, the lifecycle funnel), never as fixed text, so a
report opens with its answer and the answer always agrees with the tables below it. Functions
return Markdown strings for ``IPython.display.Markdown``.

Examples
--------
>>> import pandas as pd
>>> sc = pd.DataFrame({
...     "kpi": ["win_rate", "cac"], "name": ["Win rate", "CAC"], "owner": ["sales", "marketing"],
...     "unit": ["share", "currency"], "direction": ["higher", "lower"],
...     "period": ["2026-06"] * 2, "value": [0.30, 500.0], "previous": [0.32, 370.0],
...     "target": [0.25, 390.0], "gap_share": [0.2, 0.28], "status": ["on track", "off track"]})
>>> print(checkin_headline(sc))
**June 2026: 1 of 2 KPIs on track, 0 at risk, 1 off track.** Off track: CAC $500 against $390 (28 % worse). **To decide:** Agree one action on CAC (owner: marketing), the KPI furthest from its target.
"""

from __future__ import annotations

import pandas as pd

from salesmkt.funnels.headlines import funnel_finding
from salesmkt.kpis.plots import _value_words, format_value

__all__ = [
    "checkin_headline",
    "scorecard_changes",
    "checkin_decisions",
    "kpi_headline",
    "kpi_decisions",
    "scorecard_finding",
    "sla_finding",
]

_JUDGED = ("on track", "at risk", "off track")


def _pct(x: float) -> str:
    return f"{x:.0%}".replace("%", " %")


def _missed(met) -> bool:
    """Whether an SLA row's ``met`` says missed (``False``; missing is not judged)."""
    return bool(pd.notna(met) and not bool(met))


def _period_words(label) -> str:
    """``2026-06`` as ``June 2026``; other labels (quarters, weeks) as they are."""
    try:
        return pd.Period(str(label), "M").strftime("%B %Y")
    except (ValueError, TypeError):
        return str(label)


def _worse(row) -> bool:
    """Whether the KPI moved in its bad direction since the previous period."""
    if pd.isna(row["value"]) or pd.isna(row["previous"]) or row["value"] == row["previous"]:
        return False
    return (row["value"] < row["previous"]) == (row["direction"] == "higher")


def _gap_words(row, currency: str | None = None) -> str:
    """``501 against 390 (28 % worse than the target)`` for a scorecard row."""
    value = format_value(row["value"], row["unit"], currency=currency)
    target = format_value(row["target"], row["unit"], currency=currency)
    text = f"{value} against {target}"
    if pd.notna(row["target"]) and row["target"]:
        off = abs(row["value"] - row["target"]) / abs(row["target"])
        text += (
            f" ({_pct(off)} {'worse' if row['status'] != 'on track' else 'better'} than the target)"
        )
    return text


def _change_words(row) -> str:
    if pd.isna(row["previous"]) or not row["previous"]:
        return ""
    change = (row["value"] - row["previous"]) / abs(row["previous"])
    return f"{'up' if change > 0 else 'down'} {_pct(abs(change))} on the previous period"


def _counts(scorecard: pd.DataFrame) -> dict[str, int]:
    n = scorecard["status"].value_counts()
    return {s: int(n.get(s, 0)) for s in _JUDGED}


def scorecard_finding(scorecard: pd.DataFrame) -> str:
    """The scorecard in one sentence: counts by status and what is off track and by how much.

    The counts are those of ``scorecard["status"]`` (the same as the scorecard table shows).

    Parameters
    ----------
    scorecard : DataFrame
        The output of :func:`salesmkt.scorecard`.

    Examples
    --------
    >>> import salesmkt
    >>> sc = salesmkt.scorecard(salesmkt.load_sample(), period="2026-05")
    >>> scorecard_finding(sc).startswith("**May 2026:")
    True
    """
    c = _counts(scorecard)
    judged = sum(c.values())
    text = (
        f"**{_period_words(scorecard['period'].iloc[0])}: {c['on track']} of {judged} KPIs on "
        f"track, {c['at risk']} at risk, {c['off track']} off track.**"
    )
    for status in ("off track", "at risk"):
        rows = scorecard[scorecard["status"] == status]
        if len(rows):
            parts = []
            for _, r in rows.iterrows():
                part = f"{r['name']} {_gap_words(r, scorecard.attrs.get('currency'))}"
                change = _change_words(r)
                parts.append(part + (f", {change}" if change else ""))
            text += f" {status.capitalize()}: " + "; ".join(parts) + "."
    return text


def _worse_on_track(scorecard: pd.DataFrame) -> str:
    on = scorecard[scorecard["status"] == "on track"]
    worse = on[on.apply(_worse, axis=1)] if len(on) else on
    if worse.empty:
        return ""
    currency = scorecard.attrs.get("currency")
    names = ", ".join(
        f"{r['name']} ({format_value(r['previous'], r['unit'], currency=currency)} → "
        f"{format_value(r['value'], r['unit'], currency=currency)})"
        for _, r in worse.iterrows()
    )
    return (
        f"{len(worse)} of the {len(on)} KPIs on track got worse than the previous period: {names}."
    )


def _sla_rows(sla: pd.DataFrame | None, period) -> pd.DataFrame | None:
    if sla is None or sla.empty:
        return None
    label = sla["period"].max() if period is None else str(period)
    rows = sla[sla["period"] == label]
    return rows if len(rows) else None


def _missed_in_a_row(sla: pd.DataFrame, term: str, label) -> int:
    """Periods in a row, up to and including ``label``, in which the team missed ``term``."""
    hist = sla[(sla["term"] == term) & (sla["owner_id"] == "(team)") & (sla["period"] <= label)]
    n = 0
    for met in hist.sort_values("period")["met"].iloc[::-1]:
        if _missed(met):
            n += 1
        else:
            break
    return n


def sla_finding(sla: pd.DataFrame | None, *, period=None) -> str:
    """Whether each side kept the SLA in ``period`` (default: the latest in ``sla``), in words.

    Parameters
    ----------
    sla : DataFrame or None
        The output of :func:`salesmkt.sla_report`; ``None`` gives ``""``.
    period : str, optional
        A period label of ``sla`` (``"2026-06"``).

    Examples
    --------
    >>> import pandas as pd
    >>> sla = pd.DataFrame({"period": ["2026-06"] * 3, "term": ["response_time"] * 2 + ["mql_delivery"],
    ...     "owner_id": ["(team)", "O07", "(team)"], "actual": [0.84, 0.67, 100.0],
    ...     "commitment": [0.9, 0.9, 150.0], "met": [False, False, False], "breaches": [16, 5, None]})
    >>> print(sla_finding(sla))
    SLA: sales answered 84 % of MQLs in time against 90 % (lowest: O07, 67 %); marketing delivered 100 MQLs against 150 (missed 1 period in a row).
    """
    rows = _sla_rows(sla, period)
    if rows is None:
        return ""
    label = rows["period"].iloc[0]
    parts = []
    team = rows[rows["owner_id"] == "(team)"].set_index("term")
    if "response_time" in team.index and pd.notna(team.loc["response_time", "actual"]):
        r = team.loc["response_time"]
        text = f"sales answered {r['actual']:.0%} of MQLs in time against {r['commitment']:.0%}"
        owners = rows[(rows["term"] == "response_time") & (rows["owner_id"] != "(team)")]
        owners = owners.dropna(subset=["actual"])
        if len(owners):
            low = owners.sort_values(["actual", "owner_id"]).iloc[0]
            text += f" (lowest: {low['owner_id']}, {low['actual']:.0%})"
        parts.append(text.replace("%", " %"))
    if "mql_delivery" in team.index and pd.notna(team.loc["mql_delivery", "actual"]):
        r = team.loc["mql_delivery"]
        if pd.notna(r["commitment"]):
            text = f"marketing delivered {r['actual']:,.0f} MQLs against {r['commitment']:,.0f}"
            n = _missed_in_a_row(sla, "mql_delivery", label)
            if n:
                text += f" (missed {n} period{'s' if n > 1 else ''} in a row)"
            parts.append(text)
    if "acceptance" in team.index and _missed(team.loc["acceptance", "met"]):
        r = team.loc["acceptance"]
        parts.append(
            f"sales accepted {r['actual']:.0%} of MQLs against {r['commitment']:.0%}".replace(
                "%", " %"
            )
        )
    return ("SLA: " + "; ".join(parts) + ".") if parts else ""


def _off_track_words(scorecard: pd.DataFrame) -> str:
    """``Off track: CAC $500 against $400 (25 % worse); ...`` in the scorecard's order."""
    rows = scorecard[scorecard["status"] == "off track"]
    if rows.empty:
        at_risk = scorecard.loc[scorecard["status"] == "at risk", "name"].tolist()
        return f"Nothing is off track; at risk: {', '.join(at_risk)}." if at_risk else ""
    currency = scorecard.attrs.get("currency")
    parts = []
    for _, r in rows.iterrows():
        text = f"{r['name']} {_value_words(r, currency)} against "
        text += format_value(r["target"], r["unit"], currency=currency)
        if pd.notna(r["target"]) and r["target"]:
            text += f" ({_pct(abs(r['value'] - r['target']) / abs(r['target']))} worse)"
        parts.append(text)
    return "Off track: " + "; ".join(parts) + "."


def checkin_headline(scorecard: pd.DataFrame, sla: pd.DataFrame | None = None) -> str:
    """The check-in's answer first, in two or three sentences: how many KPIs are on track,
    what is off track and by how much, and the first thing to decide.

    The counts by status are those of ``scorecard`` (on track, at risk, off track), so the
    headline always agrees with the scorecard table. What is at risk, what got worse and the
    SLA are the sections' findings (:func:`scorecard_changes`, :func:`sla_finding`).

    Parameters
    ----------
    scorecard : DataFrame
        The output of :func:`salesmkt.scorecard`.
    sla : DataFrame, optional
        The output of :func:`salesmkt.sla_report`; its row for the scorecard's period is used
        for the decision.

    Returns
    -------
    str
        Markdown: one paragraph opening with the counts in bold.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> sc = salesmkt.scorecard(ds, period="2026-05")
    >>> print(checkin_headline(sc))  # doctest: +ELLIPSIS
    **May 2026: ... KPIs on track, ... at risk, ... off track.**...
    """
    text = f"{_summary(scorecard)} {_off_track_words(scorecard)}".strip()
    untargeted = int((scorecard["status"] == "no target").sum())
    if untargeted:
        text += f" {untargeted} KPI{'s have' if untargeted > 1 else ' has'} no target yet."
    decisions = _decisions(scorecard, sla, short=True)
    if decisions:
        text += f" **To decide:** {decisions[0]}"
    return text


def _summary(scorecard: pd.DataFrame) -> str:
    c = _counts(scorecard)
    return (
        f"**{_period_words(scorecard['period'].iloc[0])}: {c['on track']} of {sum(c.values())} "
        f"KPIs on track, {c['at risk']} at risk, {c['off track']} off track.**"
    )


def scorecard_changes(scorecard: pd.DataFrame) -> str:
    """What the scorecard adds to the headline: the KPIs at risk and by how much, the biggest
    move since the previous period, the KPIs on track that got worse and those without a target.

    The check-in's and the KPI report's scorecard section opens with it, below a headline that
    already gave the counts and what is off track (:func:`checkin_headline`).

    Parameters
    ----------
    scorecard : DataFrame
        The output of :func:`salesmkt.scorecard`.

    Examples
    --------
    >>> import pandas as pd
    >>> sc = pd.DataFrame({
    ...     "kpi": ["win_rate", "cac"], "name": ["Win rate", "CAC"], "owner": ["sales", "marketing"],
    ...     "unit": ["share", "currency"], "direction": ["higher", "lower"],
    ...     "period": ["2026-06"] * 2, "value": [0.30, 500.0], "previous": [0.32, 370.0],
    ...     "target": [0.25, 390.0], "gap_share": [0.2, 0.28], "status": ["on track", "off track"]})
    >>> print(scorecard_changes(sc))
    Biggest move since the previous period: CAC $370 → $500 (up 35 %). 1 of the 1 KPIs on track got worse than the previous period: Win rate (32.0 % → 30.0 %).
    """
    currency = scorecard.attrs.get("currency")
    parts = []
    risk = scorecard[scorecard["status"] == "at risk"]
    if len(risk):
        gaps = "; ".join(f"{r['name']} {_gap_words(r, currency)}" for _, r in risk.iterrows())
        parts.append(f"Within the tolerance but short of the target: {gaps}.")
    moved = scorecard.dropna(subset=["value", "previous"])
    moved = moved[moved["previous"] != 0]
    if len(moved):
        change = (moved["value"] - moved["previous"]) / moved["previous"].abs()
        r = moved.loc[change.abs().idxmax()]
        old = format_value(r["previous"], r["unit"], currency=currency)
        new = format_value(r["value"], r["unit"], currency=currency)
        parts.append(
            f"Biggest move since the previous period: {r['name']} {old} → {new} "
            f"({_change_words(r).removesuffix(' on the previous period')})."
        )
    worse = _worse_on_track(scorecard)
    if worse:
        parts.append(worse)
    chance = _within_interval(scorecard)
    if chance:
        parts.append(chance)
    untargeted = scorecard.loc[scorecard["status"] == "no target", "name"].tolist()
    if untargeted:
        parts.append(f"Without a target (not judged): {', '.join(untargeted)}.")
    if scorecard.attrs.get("cost_basis"):
        parts.append(scorecard.attrs["cost_basis"])
    return " ".join(parts)


def _within_interval(scorecard: pd.DataFrame) -> str:
    """The rates judged off target whose 95 % interval still holds the target (small counts)."""
    if "ci_low" not in scorecard:
        return ""
    judged = scorecard[scorecard["status"].isin(["at risk", "off track"])]
    rows = judged[(judged["ci_low"] <= judged["target"]) & (judged["target"] <= judged["ci_high"])]
    if rows.empty:
        return ""
    named = "; ".join(
        f"{r['name']} {format_value(r['value'], r['unit'])} of {r['denominator']:,.0f} "
        f"(95 % interval {r['ci_low'] * 100:.0f}–{r['ci_high'] * 100:.0f} %) against "
        f"{format_value(r['target'], r['unit'])}"
        for _, r in rows.iterrows()
    )
    return (
        f"Small counts: {named}. The target lies inside the 95 % interval, so this gap may "
        "still be chance; look at the trend before acting on it."
    )


def _decisions(
    scorecard: pd.DataFrame, sla: pd.DataFrame | None, *, short: bool = False
) -> list[str]:
    """The actions, most pressing first; ``short`` leaves out the gaps the headline gave."""
    out = []
    off = scorecard[scorecard["status"] == "off track"].copy()
    if len(off):
        off["_gap"] = off["gap_share"].abs()
        for _, r in off.sort_values("_gap", ascending=False).head(2).iterrows():
            if short:
                out.append(
                    f"Agree one action on {r['name']} (owner: {r['owner']}), the KPI furthest "
                    "from its target."
                )
            else:
                gap = _gap_words(r, scorecard.attrs.get("currency"))
                out.append(f"Agree one action on {r['name']} (owner: {r['owner']}): {gap}.")
    rows = _sla_rows(sla, scorecard["period"].iloc[0])
    if rows is not None:
        owners = rows[(rows["term"] == "response_time") & (rows["owner_id"] != "(team)")].dropna(
            subset=["actual"]
        )
        owners = owners[owners["met"].map(_missed)]
        if len(owners):
            low = owners.sort_values(["actual", "owner_id"]).iloc[0]
            late = (
                f" ({low['breaches']:,.0f} MQLs answered late or not at all)"
                if pd.notna(low.get("breaches"))
                else ""
            )
            out.append(
                f"Discuss the SLA with owner {low['owner_id']}: {low['actual']:.0%} answered in "
                f"time against {low['commitment']:.0%}{late}.".replace("%", " %")
            )
        team = rows[(rows["owner_id"] == "(team)") & (rows["term"] == "mql_delivery")]
        if len(team) and _missed(team["met"].iloc[0]):
            r = team.iloc[0]
            n = _missed_in_a_row(sla, "mql_delivery", r["period"])
            out.append(
                f"Marketing to close the MQL gap: {r['actual']:,.0f} delivered against "
                f"{r['commitment']:,.0f}" + (f", missed {n} periods in a row." if n > 1 else ".")
            )
    easy = scorecard[(scorecard["status"] == "on track") & (scorecard["gap_share"].abs() >= 0.5)]
    for _, r in easy.head(1).iterrows():
        out.append(
            f"Raise the target of {r['name']}: {_gap_words(r, scorecard.attrs.get('currency'))}, a target that does not steer."
        )
    untargeted = scorecard.loc[scorecard["status"] == "no target", "name"].tolist()
    if untargeted:
        out.append(f"Agree targets for {', '.join(untargeted)} and save them in kpis.yml.")
    return out[:4]


def checkin_decisions(scorecard: pd.DataFrame, sla: pd.DataFrame | None = None) -> str:
    """Two to four concrete actions for the check-in, from the scorecard and the SLA.

    In order: the KPIs furthest off track (with their owner team and gap), the sales owner
    furthest below the response-time commitment, a missed MQL commitment, a target already
    beaten by half or more, and KPIs without a target.

    Returns
    -------
    str
        A Markdown list (``""`` when there is nothing to decide).

    Examples
    --------
    >>> import pandas as pd
    >>> sc = pd.DataFrame({"kpi": ["cac"], "name": ["CAC"], "owner": ["marketing"],
    ...     "unit": ["currency"], "direction": ["lower"], "period": ["2026-06"],
    ...     "value": [500.0], "previous": [370.0], "target": [400.0], "gap_share": [0.25],
    ...     "status": ["off track"]})
    >>> print(checkin_decisions(sc))
    - Agree one action on CAC (owner: marketing): $500 against $400 (25 % worse than the target).
    """
    return "\n".join(f"- {d}" for d in _decisions(scorecard, sla))


def kpi_headline(
    scorecard: pd.DataFrame, sla: pd.DataFrame | None = None, *, funnel: pd.DataFrame | None = None
) -> str:
    """The KPI setup report's answer first: how the latest period scores against the targets
    (as the check-in's headline), how many leads became customers, and the first decision.

    The funnel's weakest step, the KPIs at risk and the SLA open their own sections.

    Parameters
    ----------
    scorecard : DataFrame
        :func:`salesmkt.scorecard` of the latest full period against the targets to agree.
    sla : DataFrame, optional
        :func:`salesmkt.sla_report` over the past periods.
    funnel : DataFrame, optional
        :func:`salesmkt.lifecycle_funnel` of all leads.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> text = kpi_headline(salesmkt.scorecard(ds), funnel=salesmkt.lifecycle_funnel(ds.leads))
    >>> "became customers" in text
    True
    """
    converted = (
        funnel_finding(funnel).split(". ")[0].rstrip(".")
        if funnel is not None and len(funnel)
        else ""
    )
    if not sum(_counts(scorecard).values()):  # nothing to score: the funnel is the answer
        text = f"**{converted} over the whole history.** " if converted else ""
        return text + "No KPI is scored: kpis.yml sets no target for any of them yet."
    text = f"{_summary(scorecard)} {_off_track_words(scorecard)}".strip()
    if converted:
        text += f" {converted} over the whole history."
    decisions = _decisions(scorecard, sla, short=True)
    if decisions:
        text += f" **To decide:** {decisions[0]}"
    return text


def kpi_decisions(scorecard: pd.DataFrame, sla: pd.DataFrame | None = None) -> str:
    """Two to four concrete actions for the KPI setup, as :func:`checkin_decisions`.

    Examples
    --------
    >>> import salesmkt
    >>> kpi_decisions(salesmkt.scorecard(salesmkt.load_sample())).startswith("- ")
    True
    """
    return checkin_decisions(scorecard, sla)
