"""The lifecycle funnel in sentences: where leads drop, which segment loses most, who is stuck.

Each function takes the output of a funnel function and returns one Markdown sentence for the
top of a report section (``""`` when there is nothing to say).

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"stage": ["lead", "mql", "customer"], "step": [1, 2, 3],
...                   "entered": [1000, 400, 40], "dropped": [0, 600, 360]})
>>> print(funnel_finding(f))
Of 1,000 leads, 4.0 % became customers. The biggest drop is from MQL to Customer: 90 % of the 400 leads that reached MQL went no further (360 leads).
"""

from __future__ import annotations

import pandas as pd

from salesmkt._base.formats import ACRONYMS, plain_label, plain_text
from salesmkt.funnels.lifecycle import biggest_drop_offs

__all__ = ["funnel_finding", "drop_off_finding", "stalled_finding"]


def _pct(x: float, digits: int = 0) -> str:
    return f"{x:.{digits}%}".replace("%", " %")


def _plural(stage: str) -> str:
    """A stage as a plural noun: leads, MQLs, opportunities, customers."""
    word = (
        stage if stage.endswith("s") else stage[:-1] + "ies" if stage.endswith("y") else stage + "s"
    )
    return ACRONYMS.get(word, word)


def funnel_finding(funnel: pd.DataFrame) -> str:
    """The funnel in one finding: lead-to-last-stage conversion and the step that loses the
    largest share of the leads that reached it.

    Parameters
    ----------
    funnel : DataFrame
        :func:`salesmkt.lifecycle_funnel` without a breakdown (``stage, step, entered``).

    Examples
    --------
    >>> import salesmkt
    >>> funnel_finding(salesmkt.lifecycle_funnel(salesmkt.load_sample().leads)).startswith("Of ")
    True
    """
    f = funnel.sort_values("step").reset_index(drop=True)
    if len(f) < 2 or f["entered"].iloc[0] <= 0:
        return ""
    first, last = f.iloc[0], f.iloc[-1]
    text = (
        f"Of {first['entered']:,.0f} {_plural(first['stage'])}, "
        f"{_pct(last['entered'] / first['entered'], 1)} became {_plural(last['stage'])}."
    )
    prev = f["entered"].shift(1)
    share = (1 - f["entered"] / prev.where(prev > 0)).iloc[1:]
    if share.notna().any():
        i = share.idxmax()
        text += (
            f" The biggest drop is from {plain_label(f['stage'].iloc[i - 1])} to "
            f"{plain_label(f['stage'].iloc[i])}: "
            f"{_pct(share[i])} of the {prev[i]:,.0f} leads that reached {plain_label(f['stage'].iloc[i - 1])} "
            f"went no further ({prev[i] - f['entered'].iloc[i]:,.0f} leads)."
        )
    return text


def drop_off_finding(funnel: pd.DataFrame, *, by: str | None = None) -> str:
    """The segment and step that lose the most leads beyond the average, in one sentence.

    Parameters
    ----------
    funnel : DataFrame
        :func:`salesmkt.lifecycle_funnel` with ``by`` (a channel or persona breakdown).
    by : str, optional
        The breakdown column (default: the funnel's own).

    Examples
    --------
    >>> import salesmkt
    >>> f = salesmkt.lifecycle_funnel(salesmkt.load_sample().leads, by="channel")
    >>> drop_off_finding(f).startswith("The largest loss beyond the average")
    True
    """
    top = biggest_drop_offs(funnel, by=by, top=1)
    if top.empty or not top["excess_lost"].iloc[0] > 0:
        return "No segment loses clearly more leads than the average at any step."
    r = top.iloc[0]
    key = top.columns[0]
    return (
        f"The largest loss beyond the average is {key.replace('_', ' ')} *{plain_label(r[key])}* at {plain_text(r['step'])}: "
        f"{_pct(r['conversion'])} of its {r['decided']:,.0f} leads whose outcome is known moved on against "
        f"{_pct(r['overall_conversion'])} overall, about {r['excess_lost']:,.0f} leads more "
        "lost than at the average rate."
    )


def stalled_finding(stalled: pd.DataFrame) -> str:
    """Where most leads are stuck, in one sentence.

    Parameters
    ----------
    stalled : DataFrame
        :func:`salesmkt.stalled_leads` (``stage, threshold_days, in_stage, stalled``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"stage": ["mql", "sql"], "threshold_days": [10.0, 30.0],
    ...                   "in_stage": [50, 20], "stalled": [5, 12], "stalled_share": [0.1, 0.6]})
    >>> print(stalled_finding(s))
    12 leads in SQL (60 % of those in the stage) have waited longer than 30 days, longer than 90 % of the leads that moved on; 17 stalled leads in all.
    """
    s = stalled.dropna(subset=["stalled"])
    s = s[s["stalled"] > 0]
    if s.empty:
        return "No lead has been in its stage longer than 90 % of the leads that moved on."
    # the first stage holds leads that never became MQLs: look past it when later stages stall
    later = s.iloc[1:] if len(s) > 1 and s.index[0] == stalled.index[0] else s
    r = later.sort_values("stalled", ascending=False).iloc[0]
    return (
        f"{r['stalled']:,.0f} leads in {plain_label(r['stage'])} ({_pct(r['stalled'] / r['in_stage'])} of those in "
        f"the stage) have waited longer than {r['threshold_days']:,.0f} days, longer than 90 % "
        f"of the leads that moved on; {s['stalled'].sum():,.0f} stalled leads in all."
    )
