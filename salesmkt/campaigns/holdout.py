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

from salesmkt.campaigns.experiments import cuped_lift, sample_ratio_check, sequential_verdict
from salesmkt.campaigns.lift import conversion_lift, revenue_lift
from salesmkt.data.dataset import Dataset
from salesmkt.data.definitions import won_deals
from salesmkt.data.stages import stage_entries, stages_in
from salesmkt.data.validate import check_columns

__all__ = ["holdout_people", "holdout_test", "holdout_summary", "holdout_table", "NO_HOLDOUT"]


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
    if bool(r.get("srm_mismatch", False)):
        return f"**{r['campaign_name']}** ({r['campaign_id']}): {r['verdict']}"
    text = (
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
    if "srm_message" in result.columns:
        text += f"\n\n**Is the split sound?** {r['srm_message']}"
    if pd.notna(r.get("covariate")) and pd.notna(r.get("cuped_adjusted_difference")):
        label = _label(r["covariate"])
        more = "more" if r["cuped_theta"] >= 0 else "fewer"
        text += (
            f"\n\n**Adjusted for {label}.** The groups differed a little by chance in {label} "
            f"before the campaign, and people with {more} {label} convert more often anyway. Taking "
            f"that into account (CUPED) the lift is {r['cuped_adjusted_difference'] * 100:+.1f} "
            f"points ({r['cuped_adjusted_low'] * 100:+.1f} to "
            f"{r['cuped_adjusted_high'] * 100:+.1f}) against "
            f"{r['cuped_difference'] * 100:+.1f} points ({r['cuped_difference_low'] * 100:+.1f} "
            f"to {r['cuped_difference_high'] * 100:+.1f}, computed the same way) without it: "
            "an interval "
            f"{r['cuped_interval_narrower']:.0%} narrower for the same people."
        )
    if "decision" in result.columns and pd.notna(r.get("decision")):
        text += (
            f"\n\n**Keep running or stop?** {str(r['decision']).capitalize()}. "
            f"{r['decision_explanation']}"
        )
    return text


def _label(column: str) -> str:
    return str(column).replace("pre_period", "pre-period").replace("_", " ")


def holdout_table(result: pd.DataFrame) -> pd.DataFrame:
    """The lift estimates of a :func:`holdout_test` side by side, in percentage points.

    Rows: the plain difference in conversion rates (normal interval, so that its width compares
    with the adjusted one; the verdict's Newcombe interval differs in the last digit), the same adjusted for the
    pre-period covariate (CUPED; only with a covariate) and the always-valid interval the
    sequential decision reads.

    Returns
    -------
    DataFrame
        ``estimate`` (what the row is), ``lift_points``, ``low_points``, ``high_points``,
        ``width_points``; empty without a holdout test.

    Examples
    --------
    >>> import salesmkt
    >>> holdout_table(holdout_test(salesmkt.load_sample()))["estimate"].tolist()
    ['Plain difference', 'Adjusted for pre-period visits (CUPED)', 'Always-valid interval (safe to peek)']
    """
    cols = ["estimate", "lift_points", "low_points", "high_points", "width_points"]
    r = result.iloc[0]
    if "cuped_difference" not in result.columns:
        return pd.DataFrame(columns=cols)
    rows = [("Plain difference", r["cuped_difference"], r["cuped_difference_low"],
             r["cuped_difference_high"])]  # fmt: skip
    if pd.notna(r.get("covariate")) and pd.notna(r["cuped_adjusted_difference"]):
        label = _label(r["covariate"])
        rows.append((f"Adjusted for {label} (CUPED)", r["cuped_adjusted_difference"],
                     r["cuped_adjusted_low"], r["cuped_adjusted_high"]))  # fmt: skip
        est = r["cuped_adjusted_difference"]
    else:
        est = r["cuped_difference"]
    rows.append(("Always-valid interval (safe to peek)", est, r["sequence_low"],
                 r["sequence_high"]))  # fmt: skip
    out = pd.DataFrame(rows, columns=cols[:4])
    out[cols[1:4]] = out[cols[1:4]].astype(float) * 100
    out["width_points"] = out["high_points"] - out["low_points"]
    return out


def holdout_people(
    dataset: Dataset,
    *,
    campaign_id: str | None = None,
    outcome: str = "opportunity_at",
    window: float = 60.0,
) -> pd.DataFrame:
    """One row per person assigned in a campaign's holdout test, with their outcome.

    A person converts when ``outcome`` happens within ``window`` days after their
    ``assigned_at`` (strictly after it). ``outcome`` is a lead timestamp column (``mql_at``,
    ``sql_at``, ``opportunity_at``, ``customer_at``) or ``"deal_created"`` / ``"deal_won"``
    (a deal of the lead created, or won, in the window). A lifecycle stage column is reached as
    :mod:`salesmkt.data.stages` defines it: a skipped stage is entered with the next stage the
    lead reached, and people whose stage timestamps are out of order are left out and counted
    in ``attrs["n_excluded"]`` (with assigned people not found among the leads). Revenue is the
    amount of the lead's won deals created in the window
    (:func:`salesmkt.data.definitions.won_deals`; zero for everyone else).
    ``campaign_id=None`` takes the campaign with the most assigned people.

    Returns
    -------
    DataFrame
        ``person_id, group, converted`` (0/1), ``revenue`` and every further column of the
        assignments table (a pre-period covariate such as ``pre_period_visits``);
        ``attrs``: ``campaign_id``, ``n_excluded``.

    Examples
    --------
    >>> import salesmkt
    >>> people = holdout_people(salesmkt.load_sample())
    >>> sorted(people["group"].unique())
    ['control', 'treatment']
    """
    if dataset.leads is None:
        raise ValueError("holdout_test: the dataset needs the leads table")
    if dataset.assignments is None:
        raise ValueError(f"holdout_people: {NO_HOLDOUT}")
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
    rest = [c for c in a.columns if c not in ("person_id", "group", "campaign_id")]
    out = pd.DataFrame(
        {
            "person_id": a["person_id"].to_numpy(),
            "group": a["group"].astype("string").to_numpy(),
            "converted": np.asarray(converted, dtype=bool).astype("int64"),
            "revenue": revenue,
        }
    )
    for c in rest:
        out[c] = a[c].to_numpy()
    out.attrs.update(campaign_id=campaign_id, n_excluded=n_excluded)
    return out


def holdout_test(
    dataset: Dataset,
    *,
    campaign_id: str | None = None,
    outcome: str = "opportunity_at",
    window: float = 60.0,
    covariate: str | None = "pre_period_visits",
    planned_split: dict[str, float] | None = None,
    min_effect: float | None = 0.01,
    tuning: float | None = None,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Lift of a campaign with a randomised holdout, from the dataset's ``assignments``.

    The people and their outcomes come from :func:`holdout_people`. On them run the tests of
    :mod:`salesmkt.campaigns.lift` (conversion and revenue) and of
    :mod:`salesmkt.campaigns.experiments`: the sample-ratio check of the group sizes against
    ``planned_split`` (equal groups by default; a mismatch replaces the verdict with the reason
    to distrust it), the CUPED estimate adjusted by the pre-period ``covariate`` (a column of
    the assignments table, else of leads; skipped when absent) beside the plain one, and the
    sequential decision from the confidence sequence of the (adjusted) effect, with
    ``min_effect`` the smallest lift in conversion rate worth acting on (0.01 = one point) and
    ``tuning`` the sequence's tuning size (default: the number of people assigned, the planned
    size of a test read once it is complete).

    Returns
    -------
    DataFrame
        One row: ``campaign_id, campaign_name, outcome, window_days, n_excluded``, the columns of
        :func:`conversion_lift`, of :func:`revenue_lift` (prefixed ``revenue_``), of
        :func:`cuped_lift` (prefixed ``cuped_``; missing without a covariate),
        ``covariate``, ``srm_p_value, srm_mismatch, srm_message`` and ``sequence_low,
        sequence_high, decision, decision_explanation``. Without an assignments table: one
        row with counts 0, every figure missing and the verdict saying there is no holdout test.

    Examples
    --------
    >>> import salesmkt
    >>> t = holdout_test(salesmkt.load_sample(), campaign_id="C12")
    >>> bool(t["absolute_lift"].iloc[0] > 0)
    True
    >>> bool(t["cuped_adjusted_se"].iloc[0] < t["cuped_se"].iloc[0])
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
    people = holdout_people(dataset, campaign_id=campaign_id, outcome=outcome, window=window)
    campaign_id = people.attrs["campaign_id"]
    if covariate is not None and covariate not in people.columns:
        lead_x = dataset.leads.drop_duplicates("lead_id").set_index("lead_id")
        if covariate in lead_x.columns:
            people[covariate] = people["person_id"].map(lead_x[covariate]).to_numpy()
        else:
            covariate = None
    if covariate is not None:
        people[covariate] = pd.to_numeric(people[covariate], errors="coerce")
        if people[covariate].isna().any():  # said in the covariate column, never dropped
            covariate = None
    converted = people["converted"].to_numpy(dtype=bool)
    revenue = people["revenue"].to_numpy(dtype=float)
    treat = people["group"].eq("treatment").to_numpy(dtype=bool, na_value=False)
    ctrl = people["group"].eq("control").to_numpy(dtype=bool, na_value=False)
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
                "n_excluded": people.attrs["n_excluded"],
            }
        ]
    )
    parts = [head, lift, rev]
    both = ctrl.sum() > 1 and treat.sum() > 1
    cuped = None
    if both:
        arms = people[ctrl | treat]
        cuped = cuped_lift(
            arms.assign(_x=0.0) if covariate is None else arms,
            metric="converted",
            covariate="_x" if covariate is None else covariate,
            alpha=alpha,
        )
        if covariate is None:  # no covariate: the adjusted columns say nothing
            adj = [c for c in cuped.columns if c.startswith("adjusted_")]
            cuped[[*adj, "theta", "correlation", "variance_reduction", "interval_narrower"]] = (
                np.nan
            )
        parts.append(cuped.drop(columns=["n_control", "n_treatment"]).add_prefix("cuped_"))
    extra: dict = {"covariate": covariate if covariate is not None else pd.NA}
    sizes = people["group"].astype(str).value_counts()
    if planned_split is None:
        planned_split = dict.fromkeys(sizes.index, 1.0)
    srm = sample_ratio_check(sizes, planned=planned_split)
    extra.update(
        srm_p_value=srm["p_value"].iloc[0],
        srm_mismatch=bool(srm["mismatch"].iloc[0]),
        srm_message=srm.attrs["message"],
    )
    if cuped is not None:
        r = cuped.iloc[0]
        use_adj = covariate is not None and np.isfinite(r["adjusted_se"])
        est = r["adjusted_difference"] if use_adj else r["difference"]
        se = r["adjusted_se"] if use_adj else r["se"]
        n = int(ctrl.sum() + treat.sum())
        seq = sequential_verdict(
            est, se, n, min_effect=min_effect, alpha=alpha, tuning=tuning or n
        ).iloc[0]
        extra.update(
            sequence_low=seq["sequence_low"],
            sequence_high=seq["sequence_high"],
            decision=seq["decision"],
            decision_explanation=seq["explanation"],
        )
    parts.append(pd.DataFrame([extra]))
    out = pd.concat(parts, axis=1)
    if extra["srm_mismatch"]:
        out["verdict"] = f"No verdict. {extra['srm_message']}"
        if "decision" in out.columns:
            out["decision"] = "stop: repair the split"
            out["decision_explanation"] = extra["srm_message"]
    return out
