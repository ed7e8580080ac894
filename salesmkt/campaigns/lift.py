"""Is a campaign's effect real? Lift tests for holdout groups and A/B splits.

Thin wrappers over statsmodels and scipy (docs/semantics/lift.md):

* conversion lift: two-proportion z-test with the pooled proportion (= Pearson χ² without
  continuity correction), Wilson intervals per arm, Newcombe's interval for the difference;
* a Bayesian probability that treatment beats control (Beta posteriors, exact sum for integer
  posterior parameters, else seeded Monte Carlo) and the expected loss of choosing treatment;
* the sample size per arm needed to detect an effect (Cohen's h, normal power; a t-test for
  means), with the variance a pre-period covariate removes (CUPED) taken into account;
* revenue per person with a seeded percentile-bootstrap interval and Welch's t-test;
* a verdict in plain words;
* conversion rates of lead groups (by contact channel, number of calls, ...) with Wilson
  intervals, to compare groups that were not split at random.

:func:`conversion_lift` works from plain counts; :func:`salesmkt.holdout_test` reads a
campaign's groups from the ``assignments`` table and its outcome from the CRM.

Examples
--------
>>> row = conversion_lift(120, 1000, 150, 1000).iloc[0]
>>> round(float(row["z"]) ** 2, 4), round(float(row["p_value"]), 5)
(3.8536, 0.04964)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from salesmkt.data.schema import STAGES
from salesmkt.data.stages import leads_reached

__all__ = [
    "conversion_lift",
    "conversion_rates",
    "prob_treatment_better",
    "sample_size",
    "sample_size_mean",
    "revenue_lift",
    "revenue_lift_from_buyers",
]


def prob_treatment_better(
    x_control: int,
    n_control: int,
    x_treatment: int,
    n_treatment: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    n_draws: int = 200_000,
    seed: int = 0,
) -> float:
    """P(rate of treatment > rate of control) under independent Beta posteriors.

    Posterior per arm: ``Beta(a + x, b + n - x)``. With integer posterior parameters (the
    default flat prior) the probability is the exact finite sum of Evan Miller's formula;
    otherwise a seeded Monte Carlo estimate with ``n_draws`` draws.

    Examples
    --------
    >>> round(prob_treatment_better(0, 1, 1, 1), 4)  # Beta(1,2) vs Beta(2,1)
    0.8333
    """
    a, b = prior
    a_a, b_a = a + x_control, b + n_control - x_control
    a_b, b_b = a + x_treatment, b + n_treatment - x_treatment
    if min(a_a, b_a, a_b, b_b) <= 0:
        raise ValueError("prob_treatment_better: posterior parameters must be > 0")
    if float(a_b).is_integer() and a_b <= 1_000_000:
        i = np.arange(int(a_b))
        log_terms = (
            special.betaln(a_a + i, b_a + b_b)
            - np.log(b_b + i)
            - special.betaln(1 + i, b_b)
            - special.betaln(a_a, b_a)
        )
        return float(min(1.0, max(0.0, np.exp(special.logsumexp(log_terms)))))
    rng = np.random.default_rng(seed)
    return float(np.mean(rng.beta(a_b, b_b, n_draws) > rng.beta(a_a, b_a, n_draws)))


def _prob(p: float) -> str:
    if p > 0.999:
        return "above 99.9%"
    if p < 0.001:
        return "below 0.1%"
    return f"{p:.1%}"


def _verdict(row: dict, alpha: float) -> str:
    if not np.isfinite(row["p_value"]):
        return "Not enough data: one of the groups is empty."
    level = f"{1 - alpha:.0%}"
    diff = (
        f"{row['rate_treatment']:.1%} of the treatment group converted against "
        f"{row['rate_control']:.1%} of the control group: {row['absolute_lift'] * 100:+.1f} "
        f"points ({level} interval {row['lift_low'] * 100:+.1f} to {row['lift_high'] * 100:+.1f}, "
        f"p = {row['p_value']:.2g}; probability that treatment is better "
        f"{_prob(row['prob_treatment_better'])})."
    )
    if row["p_value"] < alpha and row["absolute_lift"] > 0:
        return f"Real lift. {diff} The campaign adds conversions."
    if row["p_value"] < alpha:
        return f"Real but negative effect. {diff} The campaign costs conversions."
    need = row["n_needed_per_arm"]
    more = (
        f" About {need:,.0f} people per group would detect a lift of this size."
        if np.isfinite(need)
        else ""
    )
    return f"No proven effect. {diff} The interval includes zero.{more}"


def conversion_lift(
    x_control: int,
    n_control: int,
    x_treatment: int,
    n_treatment: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    prior: tuple[float, float] = (1.0, 1.0),
    seed: int = 0,
) -> pd.DataFrame:
    """Conversion lift of treatment over control from counts.

    Returns
    -------
    DataFrame
        One row: ``n_control, conversions_control, rate_control, rate_control_low,
        rate_control_high`` (Wilson), the same for treatment, ``absolute_lift`` (treatment −
        control rate), ``lift_low, lift_high`` (Newcombe), ``relative_lift``, ``z, p_value``
        (two-sided pooled z-test), ``prob_treatment_better, expected_loss`` (Bayesian: the
        expected conversion-rate shortfall when choosing treatment), ``incremental_conversions``
        (lift × treatment size), ``n_needed_per_arm`` (to detect the observed lift at
        ``alpha`` and ``power``) and ``verdict``. Empty groups give missing values.

    Examples
    --------
    >>> t = conversion_lift(50, 1000, 90, 1000)
    >>> t[["rate_control", "rate_treatment", "absolute_lift"]].round(3).iloc[0].tolist()
    [0.05, 0.09, 0.04]
    >>> bool(t["p_value"].iloc[0] < 0.05)
    True
    """
    counts = [x_control, n_control, x_treatment, n_treatment]
    if any(c < 0 for c in counts) or x_control > n_control or x_treatment > n_treatment:
        raise ValueError(
            "conversion_lift: counts must be >= 0 with conversions <= group size, got "
            f"control {x_control}/{n_control}, treatment {x_treatment}/{n_treatment}"
        )
    nan = float("nan")
    row: dict = {"n_control": n_control, "conversions_control": x_control}
    for arm, x, n in (("control", x_control, n_control), ("treatment", x_treatment, n_treatment)):
        row[f"n_{arm}"], row[f"conversions_{arm}"] = n, x
        if n > 0:
            low, high = proportion_confint(x, n, alpha=alpha, method="wilson")
            row.update({f"rate_{arm}": x / n, f"rate_{arm}_low": low, f"rate_{arm}_high": high})
        else:
            row.update({f"rate_{arm}": nan, f"rate_{arm}_low": nan, f"rate_{arm}_high": nan})
    both = n_control > 0 and n_treatment > 0
    diff = row["rate_treatment"] - row["rate_control"]
    row["absolute_lift"] = diff
    row["lift_low"] = row["lift_high"] = nan
    row["z"] = row["p_value"] = nan
    row["prob_treatment_better"] = row["expected_loss"] = nan
    if both:
        low, high = confint_proportions_2indep(
            x_treatment, n_treatment, x_control, n_control, method="newcomb", alpha=alpha
        )
        row["lift_low"], row["lift_high"] = float(low), float(high)
        if 0 < x_control + x_treatment < n_control + n_treatment:
            z, p = proportions_ztest([x_treatment, x_control], [n_treatment, n_control])
            row["z"], row["p_value"] = float(z), float(p)
        else:
            row["z"], row["p_value"] = 0.0, 1.0  # identical all-or-nothing outcomes
        row["prob_treatment_better"] = prob_treatment_better(
            x_control, n_control, x_treatment, n_treatment, prior=prior, seed=seed
        )
        rng = np.random.default_rng(seed)
        a, b = prior
        draws_b = rng.beta(a + x_treatment, b + n_treatment - x_treatment, 100_000)
        draws_a = rng.beta(a + x_control, b + n_control - x_control, 100_000)
        row["expected_loss"] = float(np.mean(np.maximum(draws_a - draws_b, 0.0)))
    row["relative_lift"] = diff / row["rate_control"] if row["rate_control"] > 0 else nan
    row["incremental_conversions"] = diff * n_treatment if both else nan
    row["n_needed_per_arm"] = nan
    if both and diff != 0 and 0 < row["rate_control"] < 1 and 0 < row["rate_treatment"] < 1:
        row["n_needed_per_arm"] = float(
            sample_size(row["rate_control"], row["rate_treatment"], alpha=alpha, power=power)[
                "n_per_arm"
            ].iloc[0]
        )
    row["verdict"] = _verdict(row, alpha)
    return pd.DataFrame([row])


def sample_size(
    baseline_rate: float,
    target_rate: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    correlation: float = 0.0,
) -> pd.DataFrame:
    """People per group needed to detect a change from ``baseline_rate`` to ``target_rate``.

    Two-sided test at ``alpha`` with Cohen's effect size ``h = 2 asin√p₂ − 2 asin√p₁`` and the
    normal approximation (statsmodels ``NormalIndPower``); ``ratio`` = treatment / control size.
    With a pre-period covariate correlated ``correlation`` (``ρ``) with the outcome within the
    groups, CUPED (:func:`salesmkt.cuped_lift`) leaves a share ``1 − ρ²`` of the outcome's
    variance, so the effect size is ``h / √(1 − ρ²)`` and the groups need ``1 − ρ²`` times the
    people.

    Returns
    -------
    DataFrame
        One row: ``baseline_rate, target_rate, effect_size`` (Cohen's h, before the
        adjustment), ``correlation, alpha, power, n_control, n_treatment, n_per_arm`` (control
        size, rounded up).

    Examples
    --------
    >>> sample_size(0.05, 0.09)["n_per_arm"].item()
    626
    >>> sample_size(0.05, 0.09, correlation=0.5)["n_per_arm"].item()  # 626 x 0.75, rounded up
    470
    """
    if not -1 < correlation < 1:
        raise ValueError(f"sample_size: correlation must lie in (-1, 1), got {correlation}")
    for name, rate in (("baseline_rate", baseline_rate), ("target_rate", target_rate)):
        if not 0 < rate < 1:
            raise ValueError(f"sample_size: {name} must be between 0 and 1, got {rate}")
    if baseline_rate == target_rate:
        raise ValueError("sample_size: target_rate must differ from baseline_rate")
    h = proportion_effectsize(target_rate, baseline_rate)
    n1 = NormalIndPower().solve_power(
        effect_size=abs(h) / np.sqrt(1 - correlation**2),
        alpha=alpha,
        power=power,
        ratio=ratio,
        alternative="two-sided",
    )
    n_control = int(np.ceil(n1))
    return pd.DataFrame(
        [
            {
                "baseline_rate": baseline_rate,
                "target_rate": target_rate,
                "effect_size": h,
                "correlation": correlation,
                "alpha": alpha,
                "power": power,
                "n_control": n_control,
                "n_treatment": int(np.ceil(n1 * ratio)),
                "n_per_arm": n_control,
            }
        ]
    )


def sample_size_mean(
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    correlation: float = 0.0,
) -> pd.DataFrame:
    """People per group needed to detect a difference ``effect`` in a mean (revenue per person).

    Two-sided two-sample t-test (statsmodels ``TTestIndPower``) with standardised effect
    ``d = effect / (sd √(1 − ρ²))``: ``sd`` is the outcome's standard deviation within a group
    and ``correlation`` (``ρ``) that of a pre-period covariate with the outcome, by which CUPED
    removes a share ``ρ²`` of the variance. ``ratio`` = treatment / control size.

    Returns
    -------
    DataFrame
        One row: ``effect, sd, effect_size`` (``d``), ``correlation, alpha, power, n_control,
        n_treatment, n_per_arm`` (control size, rounded up).

    Examples
    --------
    >>> sample_size_mean(50, 400)["n_per_arm"].item()
    1006
    >>> sample_size_mean(50, 400, correlation=0.6)["n_per_arm"].item()
    644
    """
    if effect == 0 or sd <= 0:
        raise ValueError(f"sample_size_mean: need effect != 0 and sd > 0, got {effect}, {sd}")
    if not -1 < correlation < 1:
        raise ValueError(f"sample_size_mean: correlation must lie in (-1, 1), got {correlation}")
    d = abs(effect) / (sd * np.sqrt(1 - correlation**2))
    n1 = TTestIndPower().solve_power(
        effect_size=d, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    n_control = int(np.ceil(n1))
    row = {"effect": effect, "sd": sd, "effect_size": d, "correlation": correlation,
           "alpha": alpha, "power": power, "n_control": n_control,
           "n_treatment": int(np.ceil(n1 * ratio)), "n_per_arm": n_control}  # fmt: skip
    return pd.DataFrame([row])


def revenue_lift(
    control: np.ndarray | pd.Series,
    treatment: np.ndarray | pd.Series,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Revenue per person in each group and the difference, with a bootstrap interval.

    Every person counts (zero for those who bought nothing). The interval is the percentile
    bootstrap of the difference in means, resampling each group independently with a seeded
    generator; the p-value is Welch's t-test. The bootstrap draws, for each resample, how many
    of the group's ``n`` draws land on a person with revenue (binomial, ``k / n``) and then
    which of those ``k`` people (uniformly, their amounts in sorted order): the same
    distribution as drawing ``n`` people with replacement, at a cost that grows with the people
    who bought rather than with everyone (ten million people, a few thousand buyers), and the
    same result whatever the order of the rows.

    Returns
    -------
    DataFrame
        One row: ``revenue_per_person_control, revenue_per_person_treatment, difference,
        difference_low, difference_high, p_value, n_control, n_treatment``.

    Examples
    --------
    >>> t = revenue_lift([0, 0, 100, 0], [0, 200, 0, 100])
    >>> t[["revenue_per_person_control", "revenue_per_person_treatment", "difference"]].iloc[0].tolist()
    [25.0, 75.0, 50.0]
    """
    a = np.asarray(control, dtype=float)
    b = np.asarray(treatment, dtype=float)
    return revenue_lift_from_buyers(
        a[a != 0], a.size, b[b != 0], b.size, alpha=alpha, n_boot=n_boot, seed=seed
    )


def revenue_lift_from_buyers(
    control: np.ndarray,
    n_control: int,
    treatment: np.ndarray,
    n_treatment: int,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`revenue_lift` from the non-zero revenues of each group and the group sizes (the
    others bought nothing): what a database returns for ten million people, a few thousand
    rows. Same result as :func:`revenue_lift` over the full arrays.

    Examples
    --------
    >>> revenue_lift_from_buyers([100.0], 4, [200.0, 100.0], 4).equals(
    ...     revenue_lift([0, 0, 100, 0], [0, 200, 0, 100]))
    True
    """
    groups = []
    for values, n in ((control, n_control), (treatment, n_treatment)):
        v = np.sort(np.asarray(values, dtype=float))
        if v.size > n:
            raise ValueError(f"revenue_lift: {v.size} non-zero revenues in a group of {n}")
        groups.append((v, int(n)))
    (a, na), (b, nb) = groups
    nan = float("nan")
    mean_a = a.sum() / na if na else nan
    mean_b = b.sum() / nb if nb else nan
    row = {"revenue_per_person_control": mean_a, "revenue_per_person_treatment": mean_b}
    row["difference"] = mean_b - mean_a
    row["difference_low"] = row["difference_high"] = row["p_value"] = nan
    if na > 1 and nb > 1:
        rng = np.random.default_rng(seed)
        boot = _boot_means(b, nb, n_boot, rng) - _boot_means(a, na, n_boot, rng)
        row["difference_low"], row["difference_high"] = np.quantile(
            boot, [alpha / 2, 1 - alpha / 2]
        )
        ss_a = ((a - mean_a) ** 2).sum() + (na - a.size) * mean_a**2
        ss_b = ((b - mean_b) ** 2).sum() + (nb - b.size) * mean_b**2
        if ss_a > 0 or ss_b > 0:
            row["p_value"] = float(
                stats.ttest_ind_from_stats(
                    mean_b, np.sqrt(ss_b / (nb - 1)), nb, mean_a, np.sqrt(ss_a / (na - 1)), na,
                    equal_var=False,
                ).pvalue
            )  # fmt: skip
    row["n_control"], row["n_treatment"] = na, nb
    return pd.DataFrame([row])


def _boot_means(buyers: np.ndarray, n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` resamples with replacement of ``n`` people of whom ``buyers`` hold
    the non-zero amounts: per resample, the number of draws landing on a buyer is binomial
    ``(n, k / n)`` and those draws pick buyers uniformly."""
    k = buyers.size
    if k == 0:
        return np.zeros(n_boot)
    hits = rng.binomial(n, k / n, n_boot)
    out = np.empty(n_boot)
    start = 0
    while start < n_boot:  # chunks of about 8M draws keep memory small
        stop = start + 1
        total = int(hits[start])
        while stop < n_boot and total + hits[stop] <= 8_000_000:
            total += int(hits[stop])
            stop += 1
        which = np.repeat(np.arange(stop - start), hits[start:stop])
        picks = buyers[rng.integers(0, k, total)]
        out[start:stop] = np.bincount(which, weights=picks, minlength=stop - start) / n
        start = stop
    return out


def _bin_labels(edges: list[float]) -> list[str]:
    labels = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if np.isinf(hi):
            labels.append(f"{lo:g}+")
        elif hi - lo == 1 and float(lo).is_integer():
            labels.append(f"{lo:g}")
        else:
            labels.append(f"{lo:g}-{hi - 1:g}" if float(lo).is_integer() else f"{lo:g}-<{hi:g}")
    return labels


def _groups(leads: pd.DataFrame, by: str, bins) -> tuple[pd.Series, list[str] | None]:
    if bins is None:
        return leads[by].astype("string").fillna("(missing)"), None
    edges = [float(b) for b in bins] + [np.inf]
    x = pd.to_numeric(leads[by], errors="coerce")
    labels = _bin_labels(edges)
    group = pd.cut(x, bins=edges, right=False, labels=labels).astype("string")
    below = x.notna() & (x < edges[0])
    group = group.mask(below, "(below)").fillna("(missing)")
    return group, [*(["(below)"] if below.any() else []), *labels, "(missing)"]


def conversion_rates(
    leads: pd.DataFrame,
    by: str | list[str] | dict[str, list[float] | None],
    *,
    outcome: str = "customer_at",
    bins: list[float] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share of leads that converted, per value of one or more lead columns, with Wilson
    intervals.

    A lead converted when ``outcome`` holds a value or is true (a flag). When ``outcome`` is a
    lifecycle stage's timestamp (``customer_at``, ``opportunity_at``, ...), a lead converted
    when it reached that stage as the funnel counts it (:func:`salesmkt.leads_reached`): a lead
    whose stage dates are out of order reached nothing. It stays among the leads of its
    group, so that the groups add up to all leads, and ``attrs["n_excluded"]`` counts them. The groups were not assigned at random, so a difference between them
    is an association, not an effect: use :func:`conversion_lift` for a randomised split.

    Parameters
    ----------
    leads : DataFrame
    by : str, list of str or dict
        Column(s) to group by; missing values form the group ``"(missing)"``. A dict maps each
        column to number bins for it (or ``None``).
    outcome : str
        Column that says whether a lead converted.
    bins : list of float, optional
        Left edges of number bins for a numeric ``by`` given as a string (``[1, 2, 3, 6, 11]``:
        ``1``, ``2``, ``3-5``, ``6-10``, ``11+``); values below the first edge form
        ``"(below)"``.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per column and group, groups in their order (bins) or by name:
        ``breakdown`` (the column), ``group``, ``leads``, ``converted``, ``rate``,
        ``rate_low``, ``rate_high`` and ``lift`` (rate / the rate of all leads).

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> t = conversion_rates(leads, "channel")
    >>> int(t["leads"].sum()) == len(leads)
    True
    >>> int(t["converted"].sum()) == int(salesmkt.leads_reached(leads, "customer").sum())
    True
    >>> conversion_rates(leads, {"company_size": [1, 50, 500]})["group"].tolist()
    ['1-49', '50-499', '500+']
    """
    from salesmkt.data.validate import check_columns

    spec = by if isinstance(by, dict) else {b: bins for b in ([by] if isinstance(by, str) else by)}
    check_columns(leads, "leads", [*spec, outcome], caller="conversion_rates")
    stage = {c: n for n, c in STAGES}.get(outcome)
    n_excluded = 0
    if stage is not None and "created_at" in leads.columns:
        # one definition of reaching a stage, the funnel's (out-of-order leads reach nothing)
        reached = leads_reached(leads, stage)
        hit, n_excluded = reached.to_numpy(), reached.attrs["n_excluded"]
    else:
        hit = leads[outcome]
        flag = hit.dtype == "boolean" or hit.dtype == bool
        hit = (hit.fillna(False).astype(bool) if flag else hit.notna()).to_numpy()
    overall = hit.mean() if len(hit) else np.nan
    parts = []
    for col, edges in spec.items():
        group, order = _groups(leads, col, edges)
        t = (
            pd.DataFrame({"group": group.to_numpy(), "hit": hit})
            .groupby("group", sort=True)["hit"]
            .agg(leads="size", converted="sum")
        )
        if order is not None:
            t = t.reindex([o for o in order if o in t.index])
        t = t.reset_index()
        t.insert(0, "breakdown", col)
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out["converted"] = out["converted"].astype(int)
    low, high = proportion_confint(out["converted"], out["leads"], alpha=alpha, method="wilson")
    out["rate"] = out["converted"] / out["leads"]
    out["rate_low"], out["rate_high"] = np.asarray(low, float), np.asarray(high, float)
    out["lift"] = out["rate"] / overall if overall else np.nan
    out.attrs["n_excluded"] = n_excluded
    return out
