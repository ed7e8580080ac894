"""The campaign review in sentences: the headline, section findings and decisions.

Written from :func:`~salesmkt.campaigns.spend.spend_metrics` (by channel or by campaign),
:func:`~salesmkt.campaigns.holdout.holdout_test` and
:func:`~salesmkt.campaigns.lift.conversion_rates`; each function returns Markdown.

Examples
--------
>>> import pandas as pd
>>> ch = pd.DataFrame({"channel": ["email", "events", "referral"],
...     "spend": [10_000.0, 200_000.0, None], "customers": [20, 25, 35],
...     "revenue": [500_000.0, 1_800_000.0, 700_000.0], "cac": [500.0, 8_000.0, None],
...     "roas": [50.0, 9.0, None]})
>>> print(campaign_decisions(ch))
- Move budget from Events (CAC $8,000, 1.7× the paid average of $4,667) to Email (CAC $500, 50.0× the spend in revenue).
- Record the cost of Referral: 35 new customers (44 % of all) come from channels whose cost is unknown.
"""

from __future__ import annotations

import pandas as pd

from salesmkt._base.formats import format_amount, plain_label

__all__ = [
    "campaign_headline",
    "campaign_decisions",
    "spend_finding",
    "channel_cost_finding",
    "conversion_finding",
]

_NOT_CHANNELS = ("(unsourced)", "(missing)", "(no campaign_id)")


def _pct(x: float, digits: int = 0) -> str:
    return f"{x:.{digits}%}".replace("%", " %")


def _paid(by_channel: pd.DataFrame) -> pd.DataFrame:
    c = by_channel[~by_channel["channel"].astype(str).isin(_NOT_CHANNELS)]
    return c[c["spend"].fillna(0) > 0]


def _average_cac(paid: pd.DataFrame) -> float:
    n = paid["customers"].sum()
    return paid["spend"].sum() / n if n else float("nan")


def _campaign_name(h: pd.Series) -> str:
    """The campaign's name, or its id when the data give no name."""
    name = h.get("campaign_name")
    return str(h["campaign_id"]) if name is None or pd.isna(name) or not str(name) else name


def _holdout_words(holdout: pd.DataFrame | None) -> str:
    if holdout is None or holdout.empty:
        return ""
    h = holdout.iloc[0]
    if pd.isna(h.get("absolute_lift")):  # no test in these data: its section says why
        return ""
    verdict = str(h["verdict"]).split(". ")[0].rstrip(".")
    name = _campaign_name(h)
    return (
        f"Holdout test of *{name}*: {verdict.lower()}, {h['absolute_lift'] * 100:+.1f} points "
        f"({_pct(h['rate_treatment'], 1)} with the campaign against {_pct(h['rate_control'], 1)} "
        "without)."
    )


def _decisions(
    by_channel: pd.DataFrame, holdout: pd.DataFrame | None, currency: str | None = None
) -> list[str]:
    out = []
    paid = _paid(by_channel)
    avg = _average_cac(paid)
    amount = lambda v: format_amount(v, currency)  # noqa: E731
    margin = _margin_of(by_channel)
    with_cac = paid.dropna(subset=["cac"])
    if len(with_cac) >= 2:
        worst = with_cac.sort_values(["cac", "channel"], ascending=[False, True]).iloc[0]
        best = with_cac.sort_values(["cac", "channel"]).iloc[0]
        if worst["channel"] != best["channel"]:
            back = (
                f"{best['roas_on_margin']:.1f}× the spend in gross margin"
                if margin is not None
                else f"{best['roas']:.1f}× the spend in revenue"
            )
            out.append(
                f"Move budget from {plain_label(worst['channel'])} (CAC {amount(worst['cac'])}, "
                f"{worst['cac'] / avg:.1f}× the paid average of {amount(avg)}) to "
                f"{plain_label(best['channel'])} (CAC {amount(best['cac'])}, {back})."
            )
    if holdout is not None and len(holdout):
        h = holdout.iloc[0]
        name = _campaign_name(h)
        verdict = str(h["verdict"]).lower()
        if verdict.startswith("real lift"):
            out.append(
                f"Roll out *{name}* to every eligible lead: it added about "
                f"{h['incremental_conversions']:,.0f} conversions among "
                f"{h['n_treatment']:,.0f} people reached."
            )
        elif "inconclusive" in verdict or "not enough" in verdict:
            out.append(
                f"Extend the test of *{name}*: about {h['n_needed_per_arm']:,.0f} people per "
                "group are needed to tell."
            )
        else:
            out.append(f"Do not scale *{name}* on this evidence: {verdict.split('. ')[0]}.")
    unknown = by_channel[
        ~by_channel["channel"].astype(str).isin(_NOT_CHANNELS)
        & by_channel["spend"].isna()
        & (by_channel["customers"] > 0)
    ]
    if len(unknown):
        n = unknown["customers"].sum()
        total = by_channel.loc[
            ~by_channel["channel"].astype(str).isin(_NOT_CHANNELS), "customers"
        ].sum()
        out.append(
            f"Record the cost of {', '.join(unknown['channel'].astype(str).map(plain_label))}: {n:,.0f} new "
            f"customers ({_pct(n / total)} of all) come from channels whose cost is unknown."
        )
    return out[:4]


def campaign_decisions(
    by_channel: pd.DataFrame, holdout: pd.DataFrame | None = None, *, currency: str | None = None
) -> str:
    """Two to four concrete actions from the channel economics and the holdout test.

    The budget to move (from the paid channel with the highest CAC to the one with the
    lowest), what to do with the tested campaign (roll out, extend the test, or stop), and
    the channels whose cost is unknown.

    Parameters
    ----------
    by_channel : DataFrame
        :func:`salesmkt.spend_metrics` with ``by="channel"``.
    holdout : DataFrame, optional
        :func:`salesmkt.holdout_test`.
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``).

    Returns
    -------
    str
        A Markdown list.
    """
    return "\n".join(f"- {d}" for d in _decisions(by_channel, holdout, currency))


def _margin_of(by_channel: pd.DataFrame) -> float | None:
    """The gross margin behind ``roas_on_margin`` (``None``: returns are on revenue)."""
    if (
        "roas_on_margin" not in by_channel
        or "variant" in by_channel
        and (by_channel["variant"].eq("revenue").all())
    ):
        return None
    both = by_channel.dropna(subset=["roas_on_margin", "roas"])
    both = both[both["roas"] > 0]
    return float((both["roas_on_margin"] / both["roas"]).median()) if len(both) else None


def campaign_headline(
    by_channel: pd.DataFrame | None,
    holdout: pd.DataFrame | None = None,
    *,
    currency: str | None = None,
    rates: pd.DataFrame | None = None,
    missing: str = "",
) -> str:
    """The campaign review's answer first: what paid media returned in gross margin (sourced,
    and attributed beside it), the best and the worst paid channel, the holdout verdict and
    the first decision.

    The return leads with gross profit per unit of spend (revenue × the gross margin of
    ``kpis.yml``) and says which return it is; without a margin it is on revenue and says
    that this overstates it.

    Parameters
    ----------
    by_channel : DataFrame
        :func:`salesmkt.spend_metrics` with ``by="channel"`` (with ``gross_margin`` for
        returns on margin, with ``attribution`` for the attributed return).
    holdout : DataFrame, optional
        :func:`salesmkt.holdout_test`.
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``).
    rates : DataFrame, optional
        :func:`salesmkt.conversion_rates`: without spend or deals (``by_channel`` is
        ``None``), who converts best and worst is the answer.
    missing : str
        What the data lack for the returns (:func:`salesmkt.missing_data`), said below.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> rates = salesmkt.conversion_rates(ds.leads, "channel")
    >>> print(campaign_headline(None, rates=rates, missing="No spend."))  # doctest: +ELLIPSIS
    **By channel, Referral converts best (...); their intervals do not overlap, so the gap is not chance.**
    - No spend.
    >>> text = campaign_headline(salesmkt.spend_metrics(ds, by="channel", gross_margin=0.8))
    >>> text.startswith("**Paid channels returned") and "in gross margin" in text
    True
    """
    if by_channel is None:  # no spend or deals: who converts is what these data can say
        found = conversion_finding(rates) if rates is not None else ""
        lines = [f"**{found}**"] if found else []
        lines += [t for t in (missing, _holdout_words(holdout)) if t]
        return (lines[0] + "".join(f"\n- {t}" for t in lines[1:])) if lines else missing
    paid = _paid(by_channel)
    lines = []
    margin = _margin_of(by_channel)
    if len(paid):
        spend, revenue = paid["spend"].sum(), paid["revenue"].sum()
        amount = lambda v: format_amount(v, currency)  # noqa: E731
        if margin is not None:
            text = (
                f"**Paid channels returned {revenue * margin / spend:.1f}× their spend in gross "
                f"margin** (sourced: {amount(revenue * margin)} gross profit, "
                f"{_pct(margin)} of the {amount(revenue)} won from the leads they brought, "
                f"against {amount(spend)} spent"
            )
        else:
            text = (
                f"**Paid channels returned {revenue / spend:.1f}× their spend in revenue** "
                f"(sourced: {amount(revenue)} won from the leads they brought against "
                f"{amount(spend)} spent; no gross margin is set in kpis.yml, so this overstates "
                "the return"
            )
        if "attributed_revenue" in paid and paid["attributed_revenue"].notna().any():
            attributed = paid["attributed_revenue"].sum() * (margin if margin is not None else 1)
            model = by_channel.attrs.get("attribution_model")
            text += (
                f"; attributed{f' ({plain_label(model).lower()} model)' if model else ''}: "
                f"{attributed / spend:.1f}×"
            )
        lines.append(f"{text}). A new customer cost {amount(_average_cac(paid))} on average.")
        measure = "roas_on_margin" if margin is not None else "roas"
        ranked = paid.dropna(subset=[measure]).sort_values(
            [measure, "channel"], ascending=[False, True]
        )
        if len(ranked) >= 2:
            b, w = ranked.iloc[0], ranked.iloc[-1]
            lines.append(
                f"Best return: {plain_label(b['channel'])} ({b[measure]:.1f}× the spend, CAC "
                f"{amount(b['cac'])}); weakest: {plain_label(w['channel'])} ({w[measure]:.1f}×, "
                f"CAC {amount(w['cac'])})."
            )
    else:
        lines.append("**No spend is recorded for any channel**: returns cannot be computed.")
    hold = _holdout_words(holdout)
    if hold:
        lines.append(hold)
    decisions = _decisions(by_channel, holdout, currency)
    if decisions:
        lines.append(f"**To decide:** {decisions[0]}")
    return lines[0] + "".join(f"\n- {line}" for line in lines[1:])


def spend_finding(by_campaign: pd.DataFrame) -> str:
    """How many campaigns with spend returned more than they cost, the best and the weakest.

    With a gross margin (``roas_on_margin``), "returned" is gross profit against spend;
    without one, revenue, and the sentence says so.

    Parameters
    ----------
    by_campaign : DataFrame
        :func:`salesmkt.spend_metrics` with ``by="campaign_id"``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"campaign_id": ["C1", "C2", "C3"], "name": ["Brand", "Fair", "Nurture"],
    ...     "spend": [100.0, 300.0, 50.0], "leads": [10, 5, 0], "revenue": [900.0, 150.0, 0.0],
    ...     "roas": [9.0, 0.5, 0.0]})
    >>> print(spend_finding(c))
    1 of 3 campaigns with spend returned more revenue than they cost: best *Brand* (9.0× the spend), weakest *Fair* (0.5×). 1 sourced no leads (*Nurture*): their effect shows in the attribution and holdout sections, not here.
    """
    c = by_campaign[by_campaign["spend"].fillna(0) > 0]
    if c.empty:
        return "No campaign has spend rows: returns cannot be computed."
    name = c["name"].fillna(c["campaign_id"]) if "name" in c else c["campaign_id"]
    c = c.assign(_name=name.astype(str))
    sourcing = c[c["leads"] > 0]
    margin = _margin_of(c)
    measure, words = (
        ("roas_on_margin", "gross profit") if margin is not None else ("roas", "revenue")
    )
    back = c["revenue"] * (margin if margin is not None else 1)
    above = int((back > c["spend"]).sum())
    text = f"{above} of {len(c)} campaigns with spend returned more {words} than they cost"
    ranked = sourcing.dropna(subset=[measure]).sort_values(
        [measure, "_name"], ascending=[False, True]
    )
    if len(ranked) >= 2:
        b, w = ranked.iloc[0], ranked.iloc[-1]
        text += (
            f": best *{b['_name']}* ({b[measure]:.1f}× the spend), weakest *{w['_name']}* "
            f"({w[measure]:.1f}×)"
        )
    text += "."
    none = c[c["leads"] == 0]
    if len(none):
        text += (
            f" {len(none)} sourced no leads (*{'*, *'.join(none['_name'])}*): their effect shows "
            "in the attribution and holdout sections, not here."
        )
    return text


def channel_cost_finding(by_channel: pd.DataFrame, *, currency: str | None = None) -> str:
    """The cheapest and the most expensive customers by paid channel, against the average.

    Examples
    --------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"channel": ["email", "events"], "spend": [1000.0, 9000.0],
    ...     "customers": [10, 10], "cpl": [10.0, 300.0], "cac": [100.0, 900.0]})
    >>> print(channel_cost_finding(ch))
    A new customer cost $500 on average across paid channels: from $100 in Email (cost per lead $10.00) to $900 in Events (cost per lead $300), 1.8× the average.
    """
    paid = _paid(by_channel).dropna(subset=["cac"])
    if paid.empty:
        return "No paid channel has won a customer yet: CAC cannot be computed."
    avg = _average_cac(_paid(by_channel))
    lo = paid.sort_values(["cac", "channel"]).iloc[0]
    hi = paid.sort_values(["cac", "channel"], ascending=[False, True]).iloc[0]
    amount = lambda v: format_amount(v, currency)  # noqa: E731
    text = f"A new customer cost {amount(avg)} on average across paid channels"
    if lo["channel"] == hi["channel"]:
        return text + "."
    return text + (
        f": from {amount(lo['cac'])} in {plain_label(lo['channel'])} (cost per lead "
        f"{amount(lo['cpl'])}) to {amount(hi['cac'])} in {plain_label(hi['channel'])} (cost per "
        f"lead {amount(hi['cpl'])}), {hi['cac'] / avg:.1f}× the average."
    )


def conversion_finding(rates: pd.DataFrame) -> str:
    """The groups converting best and worst, and whether their 95 % intervals overlap.

    Parameters
    ----------
    rates : DataFrame
        :func:`salesmkt.conversion_rates` (``breakdown, group, leads, rate, rate_low,
        rate_high``); the first breakdown is described.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"breakdown": ["channel"] * 2, "group": ["referral", "display"],
    ...     "leads": [300, 350], "rate": [0.11, 0.02], "rate_low": [0.08, 0.01],
    ...     "rate_high": [0.15, 0.04]})
    >>> print(conversion_finding(r))
    By channel, Referral converts best (11 % of 300 leads became customers) and Display worst (2 % of 350); their intervals do not overlap, so the gap is not chance.
    """
    if rates.empty:
        return ""
    r = rates[rates["breakdown"] == rates["breakdown"].iloc[0]].sort_values(
        ["rate", "group"], ascending=[False, True]
    )
    if len(r) < 2:
        return ""
    b, w = r.iloc[0], r.iloc[-1]
    overlap = b["rate_low"] <= w["rate_high"]
    return (
        f"By {str(b['breakdown']).replace('_', ' ')}, {plain_label(b['group'])} converts best ({_pct(b['rate'])} of "
        f"{b['leads']:,.0f} leads became customers) and {plain_label(w['group'])} worst ({_pct(w['rate'])} of "
        f"{w['leads']:,.0f}); their intervals "
        + (
            "overlap, so the gap may be chance."
            if overlap
            else "do not overlap, so the gap is not chance."
        )
    )
