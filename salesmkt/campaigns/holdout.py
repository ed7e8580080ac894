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

from salesmkt._base.formats import format_amount
from salesmkt.campaigns.experiments import (
    cuped_lift,
    experiment_moments,
    sample_ratio_check,
    sequential_verdict,
)
from salesmkt.campaigns.lift import conversion_lift, revenue_lift, revenue_lift_from_buyers
from salesmkt.data.dataset import Dataset
from salesmkt.data.definitions import won_deals
from salesmkt.data.engine import as_table, execute, is_table
from salesmkt.data.schema import STAGES
from salesmkt.data.stages import stage_entries, stages_in
from salesmkt.data.validate import check_columns

__all__ = ["holdout_people", "holdout_test", "holdout_summary", "holdout_table", "NO_HOLDOUT"]


_DEAL_OUTCOMES = {"deal_created", "deal_won"}


NO_HOLDOUT = (
    "No holdout test: the data has no assignments table (who received a campaign and who "
    "was held out at random)."
)


def holdout_summary(result: pd.DataFrame, *, currency: str | None = None) -> str:
    """One Markdown paragraph on a :func:`holdout_test` result, for a report.

    Amounts (revenue per person and its difference interval) carry ``currency`` (an ISO code,
    ``kpis.yml``'s ``currency``; default USD), whole units from 100 on, cents below.

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
    amounts = [
        r[c]
        for c in (
            "revenue_revenue_per_person_treatment",
            "revenue_revenue_per_person_control",
            "revenue_difference_low",
            "revenue_difference_high",
        )
    ]
    # one precision for the four amounts of the sentence: whole units unless all are small
    finite = [abs(float(v)) for v in amounts if pd.notna(v)]
    decimals = 0 if finite and max(finite) >= 100 else 2
    money = lambda v: format_amount(v, currency, decimals=decimals)  # noqa: E731
    text = (
        f"**{r['campaign_name']}** ({r['campaign_id']}), outcome "
        f"`{r['outcome']}` within {r['window_days']:.0f} days: "
        f"{r['verdict']} "
        f"That is about {r['incremental_conversions']:,.0f} extra conversions among "
        f"{r['n_treatment']:,} people reached. Revenue per person from deals opened "
        f"in the window: {money(r['revenue_revenue_per_person_treatment'])} with the "
        f"campaign against {money(r['revenue_revenue_per_person_control'])} without "
        f"(difference interval {money(r['revenue_difference_low'])} to "
        f"{money(r['revenue_difference_high'])})."
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
    ``campaign_id=None`` takes the campaign with the most assigned people (of those tied, the
    first ``campaign_id`` in sort order).

    Returns
    -------
    DataFrame
        ``person_id, group, converted`` (0/1), ``revenue`` and every further column of the
        assignments table (a pre-period covariate such as ``pre_period_visits``);
        ``attrs``: ``campaign_id``, ``n_excluded``. From Ibis tables (see
        :func:`holdout_test`) the table is built in their engine and sorted by ``person_id``
        (a database keeps no row order); :func:`holdout_test` itself brings back only sums.

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
    if _in_engine(dataset):  # built where the data lives, the whole table brought back
        expr, campaign_id, n_excluded, _ = _people_expr(
            dataset, campaign_id=campaign_id, outcome=outcome, window=window, covariate=None
        )
        out = execute(expr)
        out = out.sort_values("person_id", kind="stable", ignore_index=True)
        out["group"] = out["group"].astype("string")
        out["converted"] = out["converted"].astype("int64")
        out.attrs.update(campaign_id=campaign_id, n_excluded=n_excluded)
        return out
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
        counts = a["campaign_id"].dropna().astype(str).value_counts()
        campaign_id = str(min(counts.index[counts == counts.max()]))  # ties: the first id
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

    Where the data lives: when the assignments, leads or deals are Ibis tables (a database or
    Parquet read with :func:`salesmkt.load`, a Spark session, any Ibis backend), the per-person
    table is an Ibis expression built by the rules of :func:`holdout_people` and run by that
    backend; only the per-group sufficient statistics
    (:func:`~salesmkt.campaigns.experiments.experiment_moments`: counts, sums, sums of squares
    and cross products) and the people with a non-zero revenue (for the revenue bootstrap) come
    back. The result equals that of the same tables in pandas
    (:func:`~salesmkt.campaigns.lift.revenue_lift_from_buyers` bootstraps the revenue from the
    buyers and the group sizes, whatever the row order).

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
    if _in_engine(dataset):  # the per-person table stays an expression in the engine
        people, campaign_id, n_excluded, covariate = _people_expr(
            dataset, campaign_id=campaign_id, outcome=outcome, window=window, covariate=covariate
        )
    else:
        people = holdout_people(dataset, campaign_id=campaign_id, outcome=outcome, window=window)
        campaign_id, n_excluded = people.attrs["campaign_id"], people.attrs["n_excluded"]
        if covariate is not None and covariate not in people.columns:
            lead_x = dataset.leads.drop_duplicates("lead_id").set_index("lead_id")
            if covariate in lead_x.columns:
                people[covariate] = people["person_id"].map(lead_x[covariate]).to_numpy()
            else:
                covariate = None
    moments, nonzero = _people_statistics(people, covariate)
    if covariate is not None and moments["sum__xmiss"].sum() > 0:
        covariate = None  # a missing pre-period value: said in the covariate column, not dropped
    by_group = moments.set_index("group")
    sizes = by_group["n"]
    arms = ("control", "treatment")
    n_arm = {a: int(sizes.get(a, 0)) for a in arms}
    conv = {a: int(round(float(by_group["sum_converted"].get(a, 0.0)))) for a in arms}
    lift = conversion_lift(
        conv["control"],
        n_arm["control"],
        conv["treatment"],
        n_arm["treatment"],
        alpha=alpha,
        seed=seed,
    )
    buyers = {a: nonzero.loc[nonzero["group"] == a, "revenue"].to_numpy(float) for a in arms}
    rev = revenue_lift_from_buyers(
        buyers["control"],
        n_arm["control"],
        buyers["treatment"],
        n_arm["treatment"],
        alpha=alpha,
        n_boot=n_boot,
        seed=seed,
    )
    rev = rev.drop(columns=["n_control", "n_treatment"]).add_prefix("revenue_")
    name = _campaign_name(dataset.campaigns, campaign_id)
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
    parts = [head, lift, rev]
    both = n_arm["control"] > 1 and n_arm["treatment"] > 1
    cuped = None
    if both:
        m = moments if covariate is not None else _without_covariate(moments)
        cuped = cuped_lift(None, metric="converted", covariate="_x", alpha=alpha, moments=m)
        if covariate is None:  # no covariate: the adjusted columns say nothing
            adj = [c for c in cuped.columns if c.startswith("adjusted_")]
            cuped[[*adj, "theta", "correlation", "variance_reduction", "interval_narrower"]] = (
                np.nan
            )
        parts.append(cuped.drop(columns=["n_control", "n_treatment"]).add_prefix("cuped_"))
    extra: dict = {"covariate": covariate if covariate is not None else pd.NA}
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
        n = n_arm["control"] + n_arm["treatment"]
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


# --- the per-person table and its sufficient statistics ---------------------------------------


def _in_engine(dataset: Dataset) -> bool:
    """Whether a table the holdout test reads is an Ibis table (in a database or file)."""
    return any(is_table(t) for t in (dataset.assignments, dataset.leads, dataset.deals))


def _campaign_name(campaigns, campaign_id: str) -> str:
    if campaigns is None or "name" not in campaigns.columns:
        return campaign_id
    if is_table(campaigns):
        hit = execute(campaigns.filter(campaigns["campaign_id"] == campaign_id).select("name"))
        names = hit["name"].dropna()
        return str(names.iloc[0]) if len(names) else campaign_id
    names = campaigns.set_index("campaign_id")["name"]
    if campaign_id in names.index and pd.notna(names[campaign_id]):
        return str(names[campaign_id])
    return campaign_id


def _people_statistics(people, covariate: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-group moments of ``converted``, ``revenue`` and the covariate (``_x``, missing values
    as 0, counted in ``_xmiss``), and the people with a non-zero revenue (``group, revenue``):
    the only things that leave the engine."""
    cols = ["converted", "revenue"]
    if is_table(people):
        if covariate is not None:
            x = people[covariate]
            x = x.try_cast("float64") if x.type().is_string() else x.cast("float64")
            people = people.mutate(_x=x.fill_null(0.0), _xmiss=x.isnull().ifelse(1, 0))
            cols += ["_x", "_xmiss"]
        moments = experiment_moments(people, columns=cols)
        rev = people.filter(people["revenue"] != 0).select("group", "revenue")
        nonzero = execute(rev)
    else:
        if covariate is not None:
            x = pd.to_numeric(people[covariate], errors="coerce").astype(float)
            people = people.assign(_x=x.fillna(0.0), _xmiss=x.isna().astype("int64"))
            cols += ["_x", "_xmiss"]
        moments = experiment_moments(people, columns=cols)
        nonzero = people.loc[people["revenue"].to_numpy() != 0, ["group", "revenue"]]
    nonzero = nonzero.assign(group=nonzero["group"].astype(str))
    return moments, nonzero.reset_index(drop=True)


def _without_covariate(moments: pd.DataFrame) -> pd.DataFrame:
    """The moments with the covariate set to zero (CUPED then adjusts nothing)."""
    return moments.assign(sum__x=0.0, sum_converted_x__x=0.0, sum__x_x__x=0.0)


def _check_table(t, name: str, columns: list[str]) -> None:
    check_columns(t, name, columns, caller="holdout_test")


def _people_expr(
    dataset: Dataset,
    *,
    campaign_id: str | None,
    outcome: str,
    window: float,
    covariate: str | None,
):
    """The per-person table of :func:`holdout_people` as an Ibis expression run where the data
    lives (a pandas table among them becomes an in-memory DuckDB table, see
    :func:`salesmkt.data.engine.as_table`): ``(expression, campaign_id, n_excluded,
    covariate)``, the covariate ``None`` when neither the assignments nor the leads have it.

    The same rules as :func:`holdout_people`: stage entries as :mod:`salesmkt.data.stages`
    defines them (a skipped stage entered with the next stage reached; leads whose stage
    timestamps are out of order left out and counted), won deals as
    :func:`salesmkt.data.definitions.won_deals` defines them (status ``won`` with a
    ``closed_at``). The leads must have one row per ``lead_id`` (a database keeps no row order,
    so "the first of the duplicates" would not be defined).
    """
    import ibis

    a = as_table(dataset.assignments)
    leads = as_table(dataset.leads)
    _check_table(a, "assignments", ["person_id", "campaign_id", "group", "assigned_at"])
    _check_table(leads, "leads", ["lead_id"])
    if campaign_id is None:
        counts = execute(a.group_by("campaign_id").aggregate(n=a.count()))
        if counts.empty:
            raise ValueError("holdout_test: the assignments table is empty")
        counts = counts.dropna().sort_values(["n", "campaign_id"], ascending=[False, True])
        campaign_id = str(counts["campaign_id"].iloc[0])
    a = a.filter(a["campaign_id"] == campaign_id)
    spec = [(n, c) for n, c in STAGES if c in leads.columns]
    stage_cols = [c for _, c in spec]
    stage_of = {c: n for n, c in spec}
    deal_outcome = outcome in _DEAL_OUTCOMES
    if not deal_outcome and outcome not in leads.columns:
        raise ValueError(
            f"holdout_test: outcome {outcome!r} is neither a column of leads nor one of "
            f"{sorted(_DEAL_OUTCOMES)}"
        )
    dup = execute(leads.aggregate(n=leads.count(), ids=leads["lead_id"].nunique()))
    if int(dup["n"].iloc[0]) != int(dup["ids"].iloc[0]):
        raise ValueError(
            f"holdout_test: leads.lead_id has {int(dup['n'].iloc[0] - dup['ids'].iloc[0]):,} "
            "duplicated values; keep one row per lead before testing"
        )
    # the lead's columns the test needs: outcome time, stage-order exclusion, covariate
    lead_cols: dict = {"_lead": leads["lead_id"], "_excluded": ibis.literal(False)}
    if outcome in stage_of:
        ts = [leads[c] for c in stage_cols]
        running, excluded = ts[0], ibis.literal(False)
        for t in ts[1:]:  # a timestamp earlier than any earlier stage's: out of order
            excluded = excluded | (t.notnull() & running.notnull() & (t < running)).fill_null(False)
            running = ibis.cases(
                (running.isnull(), t), (t.isnull(), running), (t > running, t), else_=running
            )
        k = stage_cols.index(outcome)
        entry = ibis.coalesce(*ts[k:]) if len(ts) > k + 1 else ts[k]
        lead_cols["_excluded"] = excluded
        lead_cols["_at"] = entry
    elif not deal_outcome:
        lead_cols["_at"] = leads[outcome]
    extra = [c for c in a.columns if c not in ("person_id", "group", "campaign_id")]
    if covariate is not None and covariate not in extra:
        if covariate in leads.columns:
            lead_cols["_cov"] = leads[covariate]
        else:
            covariate = None
    lt = leads.select(**lead_cols)
    j = a.left_join(lt, a["person_id"] == lt["_lead"])
    known = j["_lead"].notnull() & ~j["_excluded"].fill_null(False)
    n_excluded = int(execute(j.aggregate(n=known.ifelse(0, 1).sum()))["n"].fillna(0).iloc[0])
    j = j.filter(known)
    days = float(window)
    span = (
        ibis.interval(days=int(days))
        if days.is_integer()
        else ibis.interval(seconds=int(round(days * 86_400)))
    )
    start = j["assigned_at"]
    end = start + span
    cols: dict = {"person_id": j["person_id"], "group": j["group"].cast("string")}
    for c in extra:
        cols[c] = j[c]
    if "_cov" in j.columns:
        cols[covariate] = j["_cov"]
    if "_at" in j.columns:
        cols["_at"] = j["_at"]
    deals = dataset.deals
    if deal_outcome or deals is not None:
        d = as_table(deals) if deals is not None else None
        if d is None:
            raise ValueError(f"holdout_test: outcome {outcome!r} needs the deals table")
        _check_table(d, "deals", ["lead_id", "created_at", "amount"])
    keys = j.select(_p=j["person_id"], _s=j["assigned_at"]).distinct()
    base = j.select(_p=j["person_id"], _s=j["assigned_at"], _a=start, _e=end, **cols)

    def per_person(table, at: str, **aggs):
        m = keys.join(table, keys["_p"] == table["lead_id"])
        m = m.filter(m[at] > m["_s"], m[at] <= m["_s"] + span)
        return m.group_by(["_p", "_s"]).aggregate(**{k: f(m) for k, f in aggs.items()})

    if deal_outcome:
        d_out = d if outcome == "deal_created" else _won(d)
        at = "created_at" if outcome == "deal_created" else "closed_at"
        hits = per_person(d_out.select("lead_id", _t=d_out[at]), "_t", _hit=lambda m: m.count())
        base = base.left_join(hits, [base["_p"] == hits["_p"], base["_s"] == hits["_s"]])
        converted = base["_hit"].notnull()
    else:
        converted = (base["_at"] > base["_a"]) & (base["_at"] <= base["_e"])
        converted = converted.fill_null(False)
    if deals is not None and {"status", "closed_at"} <= set(d.columns):
        won = _won(d)
        won = won.select("lead_id", _t=won["created_at"], _amt=won["amount"].cast("float64"))
        rev = per_person(won, "_t", _rev=lambda m: m["_amt"].sum())
        base = base.left_join(rev, [base["_p"] == rev["_p"], base["_s"] == rev["_s"]])
        revenue = base["_rev"].fill_null(0.0)
    else:
        revenue = ibis.literal(0.0)
    out = base.select(
        person_id=base["person_id"],
        group=base["group"],
        converted=converted.ifelse(1, 0),  # PostgreSQL casts no boolean to bigint
        revenue=revenue.cast("float64"),
        **{c: base[c] for c in cols if c not in ("person_id", "group", "_at")},
    )
    return out, campaign_id, n_excluded, covariate


def _won(deals):
    """Won deals as :func:`salesmkt.data.definitions.won_deals` defines them (status ``won`` and
    a ``closed_at``), as an Ibis expression."""
    return deals.filter(deals["status"].cast("string") == "won", deals["closed_at"].notnull())
