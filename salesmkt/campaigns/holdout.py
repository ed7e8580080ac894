"""A campaign's holdout test from the CRM: who was held out, who converted, and the verdict.

:func:`holdout_test` reads the groups of a campaign from the ``assignments`` table and the
outcome from leads or deals, then runs the tests of :mod:`salesmkt.campaigns.lift`;
:func:`holdout_summary` says the result in one paragraph for a report.

Examples
--------
>>> import salesmkt
>>> t = holdout_test(salesmkt.load_sample())
>>> bool(t["absolute_lift"].iloc[0] > 0)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.campaigns.lift import conversion_lift, revenue_lift
from salesmkt.data.dataset import Dataset
from salesmkt.data.definitions import won_deals
from salesmkt.data.stages import stage_entries, stages_in
from salesmkt.data.validate import check_columns

__all__ = ["holdout_test", "holdout_summary", "NO_HOLDOUT"]


_DEAL_OUTCOMES = {"deal_created", "deal_won"}


NO_HOLDOUT = (
    "No holdout test: the data has no assignments table (who received a campaign and who "
    "was held out at random)."
)


def holdout_summary(result: pd.DataFrame) -> str:
    """One Markdown paragraph on a :func:`holdout_test` result, for a report.

    Examples
    --------
    >>> from salesmkt.data.dataset import Dataset
    >>> import salesmkt
    >>> print(holdout_summary(holdout_test(Dataset(leads=salesmkt.load_sample().leads))))
    No holdout test: the data has no assignments table (who received a campaign and who was held out at random).
    """
    r = result.iloc[0]
    if r["n_control"] + r["n_treatment"] == 0 and r["verdict"] == NO_HOLDOUT:
        return NO_HOLDOUT
    return (
        f"**{r['campaign_name']}** ({r['campaign_id']}), outcome "
        f"`{r['outcome']}` within {r['window_days']:.0f} days: "
        f"{r['verdict']} "
        f"That is about {r['incremental_conversions']:,.0f} extra conversions among "
        f"{r['n_treatment']:,} people reached. Revenue per person from deals opened "
        f"in the window: {r['revenue_revenue_per_person_treatment']:,.0f} with the "
        f"campaign against {r['revenue_revenue_per_person_control']:,.0f} without "
        f"(difference interval {r['revenue_difference_low']:,.0f} to "
        f"{r['revenue_difference_high']:,.0f})."
    )


def holdout_test(
    dataset: Dataset,
    *,
    campaign_id: str | None = None,
    outcome: str = "opportunity_at",
    window: float = 60.0,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Lift of a campaign with a randomised holdout, from the dataset's ``assignments``.

    A person converts when ``outcome`` happens within ``window`` days after their
    ``assigned_at`` (strictly after it). ``outcome`` is a lead timestamp column (``mql_at``,
    ``sql_at``, ``opportunity_at``, ``customer_at``) or ``"deal_created"`` / ``"deal_won"``
    (a deal of the lead created, or won, in the window). A lifecycle stage column is reached as
    :mod:`salesmkt.data.stages` defines it: a skipped stage is entered with the next stage the
    lead reached, and people whose stage timestamps are out of order are left out and counted
    in ``n_excluded``. Revenue per person is the amount of the lead's won deals created in the
    window (:func:`salesmkt.data.definitions.won_deals`; zero for everyone else).
    ``campaign_id=None`` takes the campaign with the most
    assigned people.

    Returns
    -------
    DataFrame
        One row: ``campaign_id, campaign_name, outcome, window_days, n_excluded`` (assigned
        people not found among the leads, or, for a stage outcome, with stage timestamps out of
        order), the columns of :func:`conversion_lift` and of :func:`revenue_lift` (prefixed
        ``revenue_``). Without an assignments table: one row with counts 0,
        every figure missing and the verdict saying there is no holdout test.

    Examples
    --------
    >>> import salesmkt
    >>> t = holdout_test(salesmkt.load_sample(), campaign_id="C12")
    >>> bool(t["absolute_lift"].iloc[0] > 0)
    True
    """
    if dataset.leads is None:
        raise ValueError("holdout_test: the dataset needs the leads table")
    if dataset.assignments is None:  # no holdout was run (or exported): say so, do not fail
        lift = conversion_lift(0, 0, 0, 0, alpha=alpha, seed=seed)
        lift["verdict"] = NO_HOLDOUT
        rev = revenue_lift(np.array([]), np.array([]), alpha=alpha, n_boot=n_boot, seed=seed)
        rev = rev.drop(columns=["n_control", "n_treatment"]).add_prefix("revenue_")
        head = pd.DataFrame(
            [{"campaign_id": pd.NA, "campaign_name": pd.NA, "outcome": outcome,
              "window_days": window, "n_excluded": 0}]
        )  # fmt: skip
        return pd.concat([head, lift, rev], axis=1)
    a = dataset.assignments
    check_columns(
        a,
        "assignments",
        ["person_id", "campaign_id", "group", "assigned_at"],
        caller="holdout_test",
    )
    if campaign_id is None:
        if a.empty:
            raise ValueError("holdout_test: the assignments table is empty")
        campaign_id = str(a["campaign_id"].value_counts().index[0])
    a = a[a["campaign_id"] == campaign_id]
    if a.empty:
        raise ValueError(f"holdout_test: no assignments for campaign_id={campaign_id!r}")
    leads = dataset.leads.drop_duplicates("lead_id")
    spec = stages_in(leads)
    stage = {c: n for n, c in spec}.get(outcome)
    known = a["person_id"].isin(leads["lead_id"])
    if stage is not None:  # reached as the one definition says (skips, out-of-order leads)
        e = stage_entries(leads, stages=spec, caller="holdout_test").set_index("lead_id")
        known &= ~a["person_id"].map(e["excluded"]).fillna(True).astype(bool)
    leads = leads.set_index("lead_id")
    n_excluded = int((~known).sum())
    a = a[known]
    start = a["assigned_at"]
    end = start + pd.Timedelta(days=window)
    deals = dataset.deals
    if outcome in _DEAL_OUTCOMES or deals is not None:
        check_columns(deals, "deals", ["lead_id", "created_at", "amount"], caller="holdout_test")
    if outcome in _DEAL_OUTCOMES:
        col = "created_at" if outcome == "deal_created" else "closed_at"
        d = deals if outcome == "deal_created" else won_deals(deals)
        d = d[["lead_id", col]].rename(columns={"lead_id": "person_id", col: "at"})
        m = a[["person_id"]].assign(start=start, end=end).merge(d, on="person_id", how="left")
        hit = (m["at"] > m["start"]) & (m["at"] <= m["end"])
        converted = hit.groupby(m["person_id"]).any().reindex(a["person_id"]).to_numpy()
    else:
        if outcome not in leads.columns:
            raise ValueError(
                f"holdout_test: outcome {outcome!r} is neither a column of leads nor one of "
                f"{sorted(_DEAL_OUTCOMES)}"
            )
        at = a["person_id"].map(e[stage] if stage is not None else leads[outcome])
        converted = ((at > start) & (at <= end)).to_numpy(dtype=bool, na_value=False)
    revenue = np.zeros(len(a))
    if deals is not None and {"status", "closed_at"} <= set(deals.columns):
        won = won_deals(deals)
        m = a[["person_id"]].assign(start=start, end=end, row=np.arange(len(a)))
        m = m.merge(
            won[["lead_id", "created_at", "amount"]], left_on="person_id", right_on="lead_id"
        )
        m = m[(m["created_at"] > m["start"]) & (m["created_at"] <= m["end"])]
        revenue = np.bincount(m["row"], weights=m["amount"].astype(float), minlength=len(a))
    treat = a["group"].eq("treatment").to_numpy(dtype=bool, na_value=False)
    ctrl = a["group"].eq("control").to_numpy(dtype=bool, na_value=False)
    lift = conversion_lift(
        int(converted[ctrl].sum()),
        int(ctrl.sum()),
        int(converted[treat].sum()),
        int(treat.sum()),
        alpha=alpha,
        seed=seed,
    )
    rev = revenue_lift(revenue[ctrl], revenue[treat], alpha=alpha, n_boot=n_boot, seed=seed)
    rev = rev.drop(columns=["n_control", "n_treatment"]).add_prefix("revenue_")
    name = campaign_id
    if dataset.campaigns is not None and "name" in dataset.campaigns.columns:
        names = dataset.campaigns.set_index("campaign_id")["name"]
        if campaign_id in names.index and pd.notna(names[campaign_id]):
            name = str(names[campaign_id])
    head = pd.DataFrame(
        [
            {
                "campaign_id": campaign_id,
                "campaign_name": name,
                "outcome": outcome,
                "window_days": window,
                "n_excluded": n_excluded,
            }
        ]
    )
    return pd.concat([head, lift, rev], axis=1)
