"""The persona workshop in sentences: the headline, the value finding and decisions.

Written from :func:`~salesmkt.personas.explain.persona_summary` (with a dataset, so it holds
the outcomes) and, for where to reach a persona,
:func:`~salesmkt.personas.explain.persona_channels`. Personas are called by the names the team
gave them (``names``), or "persona 0", "persona 1", ... until they have one.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"persona": [0, 1], "leads": [300, 700], "share": [0.3, 0.7],
...     "customers": [30, 14], "conversion_rate": [0.10, 0.02], "deals_won": [30, 14],
...     "deals_lost": [70, 86], "win_rate": [0.30, 0.14], "revenue": [600_000.0, 200_000.0]})
>>> print(persona_decisions(s, names={0: "IT lead", 1: "Student"}))
- Target persona *IT lead*: highest win rate 30 % (all personas: 22 %) and 75 % of the revenue from 30 % of the leads.
- Give *Student* its own nurture track or qualify it out earlier: 2.0 % of its leads become customers against 4.4 % overall.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from salesmkt._base.formats import plain_label

__all__ = ["persona_headline", "persona_decisions", "persona_finding"]


def _pct(x: float, digits: int = 0) -> str:
    return f"{x:.{digits}%}".replace("%", " %")


def _name(persona, names: Mapping | None) -> str:
    if isinstance(persona, float) and persona.is_integer():
        persona = int(persona)  # a row of numbers comes back as floats
    return str((names or {}).get(persona, f"persona {persona}"))


def _overall_win(s: pd.DataFrame) -> float:
    closed = s["deals_won"].sum() + s["deals_lost"].sum()
    return s["deals_won"].sum() / closed if closed else float("nan")


def _best(s: pd.DataFrame, column: str, *, ascending: bool = False):
    ranked = s.dropna(subset=[column]).sort_values([column, "persona"], ascending=[ascending, True])
    return ranked.iloc[0] if len(ranked) else None


def _decisions(s: pd.DataFrame, names, channels: pd.DataFrame | None) -> list[str]:
    out = []
    best = _best(s, "win_rate")
    revenue = s["revenue"].sum() if "revenue" in s else 0
    if best is not None:
        text = (
            f"Target persona *{_name(best['persona'], names)}*: highest win rate "
            f"{_pct(best['win_rate'])} (all personas: {_pct(_overall_win(s))})"
        )
        if revenue:
            text += (
                f" and {_pct(best['revenue'] / revenue)} of the revenue from "
                f"{_pct(best['share'])} of the leads"
            )
        if channels is not None and len(channels):
            c = channels[(channels["persona"] == best["persona"]) & (channels["leads"] >= 10)]
            c = c[c["channel"] != "(missing)"].sort_values(
                ["lift", "channel"], ascending=[False, True]
            )
            if len(c) and c["lift"].iloc[0] > 1:
                text += (
                    f"; reach it through {plain_label(c['channel'].iloc[0])} ({c['lift'].iloc[0]:.1f}× as "
                    "common as among all leads)"
                )
        out.append(text + ".")
    worst = _best(s, "conversion_rate", ascending=True)
    if worst is not None and (best is None or worst["persona"] != best["persona"]):
        overall = s["customers"].sum() / s["leads"].sum()
        if worst["conversion_rate"] < overall:
            out.append(
                f"Give *{_name(worst['persona'], names)}* its own nurture track or qualify it "
                f"out earlier: {_pct(worst['conversion_rate'], 1)} of its leads become customers "
                f"against {_pct(overall, 1)} overall."
            )
    unnamed = [p for p in s["persona"] if p not in (names or {})]
    if unnamed:
        out.append(
            f"Name the {len(unnamed)} unnamed personas and save personas.yml, so every report "
            "uses the same names."
        )
    return out[:4]


def persona_decisions(
    summary: pd.DataFrame, *, names: Mapping | None = None, channels: pd.DataFrame | None = None
) -> str:
    """Two to four concrete actions: the persona to target (highest win rate, and the channel
    that reaches it best), the persona to nurture or qualify out (lowest conversion), and
    personas still to name.

    Parameters
    ----------
    summary : DataFrame
        :func:`salesmkt.persona_summary` computed with ``dataset=`` (outcome columns).
    names : mapping, optional
        Persona id to the name the team gave it (``workshop.names``).
    channels : DataFrame, optional
        :func:`salesmkt.persona_channels`.

    Returns
    -------
    str
        A Markdown list.
    """
    return "\n".join(f"- {d}" for d in _decisions(summary, names, channels))


def persona_finding(summary: pd.DataFrame, *, names: Mapping | None = None) -> str:
    """What each persona is worth, in one sentence: the best and worst win rate, and where the
    revenue comes from.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"persona": [0, 1], "leads": [300, 700], "share": [0.3, 0.7],
    ...     "customers": [30, 14], "conversion_rate": [0.10, 0.02], "deals_won": [30, 14],
    ...     "deals_lost": [70, 86], "win_rate": [0.30, 0.14], "revenue": [600_000.0, 200_000.0]})
    >>> print(persona_finding(s))
    *persona 0* wins 30 % of its closed deals and *persona 1* 14 % (all personas: 22 %); *persona 0* brings 75 % of the revenue from 30 % of the leads.

    Without deals (leads that became customers, no won or lost deal recorded):

    >>> print(persona_finding(s.assign(win_rate=float("nan"))))
    *persona 0* converts best (10 % of its leads became customers) and *persona 1* least (2 %); the data record no won or lost deals per persona, so win rates cannot be compared.
    """
    best, worst = _best(summary, "win_rate"), _best(summary, "win_rate", ascending=True)
    if best is None:
        top = _best(summary, "conversion_rate") if "conversion_rate" in summary else None
        low = _best(summary, "conversion_rate", ascending=True) if top is not None else None
        if top is None or top["persona"] == low["persona"]:
            return "No persona has won or lost deals in these data: win rates cannot be compared."
        return (
            f"*{_name(top['persona'], names)}* converts best ({_pct(top['conversion_rate'])} "
            f"of its leads became customers) and *{_name(low['persona'], names)}* least "
            f"({_pct(low['conversion_rate'])}); the data record no won or lost deals per "
            "persona, so win rates cannot be compared."
        )
    text = (
        f"*{_name(best['persona'], names)}* wins {_pct(best['win_rate'])} of its closed deals "
        f"and *{_name(worst['persona'], names)}* {_pct(worst['win_rate'])} (all personas: "
        f"{_pct(_overall_win(summary))})"
    )
    total = summary["revenue"].sum()
    top = _best(summary, "revenue")
    if total and top is not None:
        text += (
            f"; *{_name(top['persona'], names)}* brings {_pct(top['revenue'] / total)} of the "
            f"revenue from {_pct(top['share'])} of the leads"
        )
    return text + "."


def persona_headline(
    summary: pd.DataFrame, *, names: Mapping | None = None, channels: pd.DataFrame | None = None
) -> str:
    """The workshop's answer first: how many personas from how many leads, what each is worth
    at the extremes, and the first decision.

    Parameters
    ----------
    summary : DataFrame
        :func:`salesmkt.persona_summary` computed with ``dataset=``.
    names : mapping, optional
        Persona id to name (``workshop.names``).
    channels : DataFrame, optional
        :func:`salesmkt.persona_channels`, for where to reach the persona to target.

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> ds = salesmkt.load_sample()
    >>> model = PersonaModel(4, random_state=0).fit(ds.leads)
    >>> s = salesmkt.persona_summary(model, ds.leads, dataset=ds)
    >>> persona_headline(s).startswith("**4 personas")
    True
    """
    lines = [
        f"**{len(summary)} personas from {summary['leads'].sum():,.0f} leads.** "
        + persona_finding(summary, names=names)
    ]
    decisions = _decisions(summary, names, channels)
    if decisions:
        lines.append(f"**To decide:** {decisions[0]}")
    return lines[0] + "".join(f"\n- {line}" for line in lines[1:])
