"""Experiments at today's standard: variance reduction, ratio metrics, a check of the split,
peeking that stays valid and several tests at once.

Every statistic here is a closed form over per-group *sufficient statistics*: the number of
people, the sums of each column, and the sums of squares and cross products
(:func:`experiment_moments`). Over an Ibis table (DuckDB, Parquet, PostgreSQL, Spark, ...) these
are one ``GROUP BY`` in the database, so ten million assigned people never leave it; over a
pandas frame they are a few ``numpy.bincount`` calls. The formulas (docs/semantics/lift.md):

* :func:`cuped_lift` — CUPED (Deng, Xu, Kohavi & Walker 2013): the outcome ``y`` adjusted by a
  pre-period covariate ``x`` measured before assignment, ``y' = y − θ (x − x̄)``, with ``θ`` the
  slope of ``y`` on ``x`` pooled *within* the groups. The adjusted difference in means equals
  the treatment coefficient of the regression ``y ~ treatment + (x − x̄)`` (Frisch–Waugh–Lovell)
  and its variance shrinks by the factor ``1 − ρ²`` (``ρ`` the within-group correlation).
* :func:`ratio_lift` — the delta method for a ratio of sums per group (revenue per lead over
  accounts, conversions per session over visitors): ``Var(R) ≈ (s²_num − 2 R s_num,den +
  R² s²_den) / (n · mean_den²)``.
* :func:`sample_ratio_check` — the sample-ratio-mismatch test: Pearson's χ² of the group sizes
  against the planned split; ``p < 0.001`` means the split itself is broken and no verdict on
  the effect should be drawn.
* :func:`confidence_sequence` and :func:`sequential_verdict` — asymptotic confidence sequences
  (Waudby-Smith, Arnold, Wu, Howard & Ramdas 2024), the "safe to peek" intervals of GrowthBook
  and Eppo: valid at every look, so a weekly check-in can say *keep running*, *stop: the effect
  is real* or *stop: no effect large enough to matter*.
* :func:`adjust_p_values` — Holm (default) or Benjamini–Hochberg when several campaigns or
  variants are tested at once.

The sample size with a covariate lives with the other sample sizes in
:func:`salesmkt.campaigns.lift.sample_size` (``correlation=``).

Examples
--------
>>> import salesmkt
>>> people = salesmkt.holdout_people(salesmkt.load_sample())
>>> t = cuped_lift(people, metric="converted", covariate="pre_period_visits")
>>> bool(t["adjusted_se"].iloc[0] < t["se"].iloc[0])
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

__all__ = [
    "experiment_moments",
    "cuped_lift",
    "ratio_lift",
    "sample_ratio_check",
    "confidence_sequence",
    "sequential_verdict",
    "adjust_p_values",
    "SRM_THRESHOLD",
]

SRM_THRESHOLD = 0.001
"""p-value below which the group sizes are too far from the planned split to trust the test."""


def _is_ibis(data: Any) -> bool:
    try:
        import ibis.expr.types as ir
    except ImportError:  # pragma: no cover - ibis is a dependency
        return False
    return isinstance(data, ir.Table)


def _pairs(columns: Sequence[str]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(columns) for b in columns[i:]]


def _moment_names(columns: Sequence[str]) -> list[str]:
    return [f"sum_{c}" for c in columns] + [f"sum_{a}_x_{b}" for a, b in _pairs(columns)]


def experiment_moments(
    data: pd.DataFrame | Any,
    *,
    columns: Sequence[str],
    group: str = "group",
) -> pd.DataFrame:
    """Per-group sufficient statistics: size, sums, sums of squares and cross products.

    Over an Ibis table the statistics are one aggregate query run by its backend (only one row
    per group comes back); over a pandas frame they are computed with numpy.

    Parameters
    ----------
    data : DataFrame or ibis Table
        One row per person with the ``group`` column and the numeric ``columns`` (booleans
        count as 0/1). Missing values are an error (nothing is silently dropped).
    columns : sequence of str
        The outcome, covariate, numerator or denominator columns.
    group : str
        The group column (``control``/``treatment`` or variant names).

    Returns
    -------
    DataFrame
        One row per group, sorted by group: ``group``, ``n``, ``sum_<c>`` for each column and
        ``sum_<a>_x_<b>`` for each pair (``a`` before or equal to ``b`` in ``columns``).

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["a", "a", "b"], "y": [1.0, 2.0, 3.0]})
    >>> experiment_moments(df, columns=["y"]).to_dict("records")
    [{'group': 'a', 'n': 2, 'sum_y': 3.0, 'sum_y_x_y': 5.0}, {'group': 'b', 'n': 1, 'sum_y': 3.0, 'sum_y_x_y': 9.0}]
    """
    columns = list(dict.fromkeys(columns))
    names = _moment_names(columns)
    if _is_ibis(data):
        missing = [c for c in [group, *columns] if c not in data.columns]
        if missing:
            raise ValueError(f"experiment_moments: the table has no column(s) {missing}")
        v = {c: _as_double(data[c]) for c in columns}
        aggs: dict[str, Any] = {"n": data.count()}
        for c in columns:
            aggs[f"nmiss_{c}"] = v[c].isnull().ifelse(1, 0).sum()
        aggs[f"nmiss_{group}"] = data[group].isnull().ifelse(1, 0).sum()
        for c in columns:
            aggs[f"sum_{c}"] = v[c].sum()
        for a, b in _pairs(columns):
            aggs[f"sum_{a}_x_{b}"] = (v[a] * v[b]).sum()
        out = data.group_by(group).aggregate(**aggs).to_pandas()
        _no_missing(out, [group, *columns], group)
        out = out.drop(columns=[c for c in out.columns if c.startswith("nmiss_")])
        out = out.dropna(subset=[group])
    else:
        from salesmkt.data.validate import check_columns

        check_columns(data, "experiment", [group, *columns], caller="experiment_moments")
        counts = {c: int(data[c].isna().sum()) for c in [group, *columns]}
        _no_missing(
            pd.DataFrame([{f"nmiss_{c}": k for c, k in counts.items()}]), [group, *columns], group
        )
        codes, labels = pd.factorize(data[group], sort=True)
        k = len(labels)
        vals = {c: data[c].to_numpy(dtype=float) for c in columns}
        rec: dict[str, Any] = {"group": labels.astype(object), "n": np.bincount(codes, minlength=k)}
        for c in columns:
            rec[f"sum_{c}"] = np.bincount(codes, weights=vals[c], minlength=k)
        for a, b in _pairs(columns):
            rec[f"sum_{a}_x_{b}"] = np.bincount(codes, weights=vals[a] * vals[b], minlength=k)
        out = pd.DataFrame(rec)
    out = out.rename(columns={group: "group"})
    out["group"] = out["group"].astype(str)
    out["n"] = out["n"].astype("int64")
    return out[["group", "n", *names]].sort_values("group", ignore_index=True)


def _as_double(col: Any) -> Any:
    """A column as double precision on every engine: a boolean through a 32-bit integer
    (PostgreSQL casts a boolean to ``integer`` only), exact decimals (NUMERIC) and integers
    before any product, so no sum is done in integer or decimal arithmetic."""
    if col.type().is_boolean():
        col = col.cast("int32")
    return col.cast("float64")


def _no_missing(counts: pd.DataFrame, columns: list[str], group: str) -> None:
    bad = {c: int(counts[f"nmiss_{c}"].sum()) for c in columns}
    bad = {c: k for c, k in bad.items() if k}
    if bad:
        what = ", ".join(f"{c}: {k:,} missing values" for c, k in bad.items())
        raise ValueError(
            f"experiment_moments: {what}; fill them (e.g. 0 for no conversion) or remove those "
            "people explicitly before testing"
        )


def _arm(m: pd.DataFrame, name: str, caller: str) -> pd.Series:
    row = m[m["group"] == str(name)]
    if row.empty:
        raise ValueError(
            f"{caller}: no people in group {name!r}; groups present: {m['group'].tolist()}"
        )
    return row.iloc[0]


def _central(r: pd.Series, a: str, b: str) -> float:
    """Centred cross product ``Σ (a − ā)(b − b̄)`` of one group."""
    key = f"sum_{a}_x_{b}" if f"sum_{a}_x_{b}" in r.index else f"sum_{b}_x_{a}"
    return float(r[key] - r[f"sum_{a}"] * r[f"sum_{b}"] / r["n"])


def _normal_test(diff: float, se: float, alpha: float) -> tuple[float, float, float]:
    if not np.isfinite(se) or se <= 0:
        return (diff, diff, 1.0 if diff == 0 else 0.0) if se == 0 else (np.nan,) * 3
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(diff) / se))
    return diff - z * se, diff + z * se, p


def cuped_lift(
    data: pd.DataFrame | Any,
    *,
    metric: str,
    covariate: str,
    group: str = "group",
    control: str = "control",
    treatment: str = "treatment",
    alpha: float = 0.05,
    moments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Difference in means with and without CUPED variance reduction.

    The covariate must be measured before assignment (pre-period web visits, last quarter's
    revenue), so the campaign cannot have changed it. With ``θ`` the within-group pooled slope

    ``θ = Σ_g Σ_i (x_i − x̄_g)(y_i − ȳ_g) / Σ_g Σ_i (x_i − x̄_g)²``

    the adjusted difference is ``(ȳ_T − ȳ_C) − θ (x̄_T − x̄_C)``, exactly the coefficient of
    ``treatment`` in the least-squares fit ``y ~ treatment + (x − x̄)``. Each group's variance of
    the adjusted outcome is ``s²_y − 2θ s_xy + θ² s²_x`` (sample variances, ``n − 1``); the
    standard error is ``√(Σ_g s²_adj,g / n_g)`` (unequal variances, normal approximation), and
    the plain one is the same with ``θ = 0``. The share of variance removed is
    ``1 − (se_adj / se)²``, about ``ρ²``.

    Parameters
    ----------
    data : DataFrame or ibis Table
        One row per assigned person (see :func:`experiment_moments`).
    metric, covariate : str
        Outcome column (0/1 conversion or an amount) and pre-period covariate column.
    group, control, treatment : str
        Group column and the labels of the two groups compared.
    alpha : float
        1 − confidence level.
    moments : DataFrame, optional
        Output of :func:`experiment_moments` over ``[metric, covariate]`` (skips the pass
        over ``data``).

    Returns
    -------
    DataFrame
        One row: ``n_control, n_treatment, mean_control, mean_treatment, difference, se,
        difference_low, difference_high, p_value`` (plain), ``adjusted_difference,
        adjusted_se, adjusted_low, adjusted_high, adjusted_p_value`` (CUPED), ``theta``,
        ``correlation`` (within groups), ``variance_reduction`` and ``interval_narrower``
        (``1 − adjusted width / plain width``).

    Examples
    --------
    >>> import salesmkt
    >>> people = salesmkt.holdout_people(salesmkt.load_sample())
    >>> t = cuped_lift(people, metric="converted", covariate="pre_period_visits")
    >>> bool(0 < t["variance_reduction"].iloc[0] < 1)
    True
    """
    y, x = metric, covariate
    m = moments if moments is not None else experiment_moments(data, columns=[y, x], group=group)
    c, t = _arm(m, control, "cuped_lift"), _arm(m, treatment, "cuped_lift")
    sxx = _central(c, x, x) + _central(t, x, x)
    sxy = _central(c, x, y) + _central(t, x, y)
    syy = _central(c, y, y) + _central(t, y, y)
    theta = sxy / sxx if sxx > 0 else 0.0
    corr = sxy / np.sqrt(sxx * syy) if sxx > 0 and syy > 0 else np.nan
    row: dict[str, Any] = {"n_control": int(c["n"]), "n_treatment": int(t["n"])}
    var, var_adj, means, xbar = {}, {}, {}, {}
    for arm, r in (("control", c), ("treatment", t)):
        n = float(r["n"])
        means[arm], xbar[arm] = r[f"sum_{y}"] / n, r[f"sum_{x}"] / n
        if n < 2:
            raise ValueError(f"cuped_lift: group {arm!r} needs at least two people, has {n:.0f}")
        vy, vx, vxy = (_central(r, y, y) / (n - 1), _central(r, x, x) / (n - 1),
                       _central(r, x, y) / (n - 1))  # fmt: skip
        var[arm] = vy / n
        var_adj[arm] = max(vy - 2 * theta * vxy + theta**2 * vx, 0.0) / n
        row[f"mean_{arm}"] = means[arm]
    diff = means["treatment"] - means["control"]
    se = float(np.sqrt(var["control"] + var["treatment"]))
    lo, hi, p = _normal_test(diff, se, alpha)
    row.update(difference=diff, se=se, difference_low=lo, difference_high=hi, p_value=p)
    adj = diff - theta * (xbar["treatment"] - xbar["control"])
    se_adj = float(np.sqrt(var_adj["control"] + var_adj["treatment"]))
    lo, hi, p = _normal_test(adj, se_adj, alpha)
    row.update(
        adjusted_difference=adj,
        adjusted_se=se_adj,
        adjusted_low=lo,
        adjusted_high=hi,
        adjusted_p_value=p,
        theta=theta,
        correlation=corr,
        variance_reduction=1 - (se_adj / se) ** 2 if se > 0 else np.nan,
        interval_narrower=1 - se_adj / se if se > 0 else np.nan,
    )
    return pd.DataFrame([row])


def ratio_lift(
    data: pd.DataFrame | Any,
    *,
    numerator: str,
    denominator: str,
    group: str = "group",
    control: str = "control",
    treatment: str = "treatment",
    alpha: float = 0.05,
    covariate: str | None = None,
    covariate_denominator: str | None = None,
) -> pd.DataFrame:
    """Difference of a ratio metric between two groups, by the delta method, optionally with
    CUPED variance reduction by a pre-period covariate.

    Use it when the unit randomised (a visitor, an account) is not the unit of the metric (a
    session, a lead): revenue per lead with accounts randomised, conversions per session with
    visitors randomised. Per group ``R = Σ num / Σ den`` and

    ``Var(R) ≈ (s²_num − 2 R s_num,den + R² s²_den) / (n · mean_den²)``

    (sample (co)variances over the ``n`` randomised units). The difference ``R_T − R_C`` has
    variance ``Var(R_T) + Var(R_C)``; the relative lift ``R_T / R_C − 1`` has variance
    ``(R_T/R_C)² (Var(R_T)/R_T² + Var(R_C)/R_C²)``.

    **With a covariate** (CUPED for ratio metrics: Deng, Xu, Kohavi & Walker 2013, §3.3; the
    approach of GrowthBook and Eppo), the ratio is linearised per unit,
    ``z_i = R + (num_i − R den_i) / mean_den`` (its group mean is ``R`` and its variance over
    ``n`` is the delta-method variance above), and so is the covariate when it is a ratio too
    (``covariate / covariate_denominator``, e.g. pre-period revenue per pre-period lead);
    a plain covariate (pre-period visits per unit) is used as it is. Then :func:`cuped_lift`'s
    adjustment runs on the linearised values: ``θ`` is their within-group pooled slope, the
    adjusted difference ``(R_T − R_C) − θ (X_T − X_C)`` equals the treatment coefficient of
    the least-squares fit ``z ~ treatment + (w − w̄)`` (``w`` the covariate's linearised values,
    ``X`` their group means), and each group's variance is
    ``(s²_z − 2θ s_zw + θ² s²_w) / n``.

    Parameters
    ----------
    data : DataFrame or ibis Table
        One row per randomised unit (see :func:`experiment_moments`).
    numerator, denominator : str
        The columns summed above and below the ratio.
    group, control, treatment : str
        Group column and the labels of the two groups compared.
    alpha : float
        1 − confidence level.
    covariate : str, optional
        A pre-period column (measured before assignment) to reduce the variance with.
    covariate_denominator : str, optional
        The covariate's own denominator when the covariate is a ratio too.

    Returns
    -------
    DataFrame
        One row: ``n_control, n_treatment, ratio_control, ratio_treatment, difference, se,
        difference_low, difference_high, p_value, relative_lift, relative_low,
        relative_high``; with a covariate also ``adjusted_difference, adjusted_se,
        adjusted_low, adjusted_high, adjusted_p_value, theta, correlation`` (within groups,
        of the linearised values), ``variance_reduction`` and ``interval_narrower``, as
        :func:`cuped_lift` names them.

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["control"] * 3 + ["treatment"] * 3,
    ...                    "orders": [1, 0, 2, 2, 1, 3], "sessions": [2, 1, 3, 2, 2, 3]})
    >>> t = ratio_lift(df, numerator="orders", denominator="sessions")
    >>> t[["ratio_control", "ratio_treatment"]].round(3).iloc[0].tolist()
    [0.5, 0.857]
    >>> t = ratio_lift(df.assign(visits=[3, 1, 4, 3, 2, 5]), numerator="orders",
    ...                denominator="sessions", covariate="visits")
    >>> bool(t["adjusted_se"].iloc[0] < t["se"].iloc[0])
    True
    """
    if covariate_denominator is not None and covariate is None:
        raise ValueError("ratio_lift: covariate_denominator needs a covariate")
    a, b = numerator, denominator
    cols = [a, b] + [c for c in (covariate, covariate_denominator) if c is not None]
    m = experiment_moments(data, columns=cols, group=group)
    row: dict[str, Any] = {}
    ratio, var, lin = {}, {}, {}
    for arm, name in (("control", control), ("treatment", treatment)):
        r = _arm(m, name, "ratio_lift")
        n = float(r["n"])
        if n < 2 or r[f"sum_{b}"] == 0:
            raise ValueError(
                f"ratio_lift: group {name!r} needs at least two units and a non-zero total {b}"
            )
        ratio[arm] = r[f"sum_{a}"] / r[f"sum_{b}"]
        z = _Linear(r, a, b)
        var[arm] = max(z.central(z), 0.0) / (n - 1) / n
        lin[arm] = (r, n, z)
        row[f"n_{arm}"] = int(n)
    row["ratio_control"], row["ratio_treatment"] = ratio["control"], ratio["treatment"]
    diff = ratio["treatment"] - ratio["control"]
    se = float(np.sqrt(var["control"] + var["treatment"]))
    lo, hi, p = _normal_test(diff, se, alpha)
    row.update(difference=diff, se=se, difference_low=lo, difference_high=hi, p_value=p)
    if ratio["control"] != 0 and ratio["treatment"] != 0:
        q = ratio["treatment"] / ratio["control"]
        se_q = q * np.sqrt(var["treatment"] / ratio["treatment"] ** 2
                           + var["control"] / ratio["control"] ** 2)  # fmt: skip
        lo, hi, _ = _normal_test(q - 1, float(se_q), alpha)
        row.update(relative_lift=q - 1, relative_low=lo, relative_high=hi)
    else:
        row.update(relative_lift=np.nan, relative_low=np.nan, relative_high=np.nan)
    if covariate is not None:
        row.update(_ratio_cuped(lin, covariate, covariate_denominator, diff, se, alpha))
    return pd.DataFrame([row])


class _Linear:
    """The linearised per-unit values of a ratio ``Σ num / Σ den`` within one group,
    ``ratio + (num − ratio · den) / mean_den`` (``den=None``: the column ``num`` itself), as
    combinations of the group's moments."""

    def __init__(self, r: pd.Series, num: str, den: str | None) -> None:
        n = float(r["n"])
        self.r, self.num, self.den = r, num, den
        if den is None:
            self.mean, self.ratio, self.scale = r[f"sum_{num}"] / n, 0.0, 1.0
        else:
            if r[f"sum_{den}"] == 0:
                raise ValueError(f"ratio_lift: a group has a zero total {den}")
            self.ratio = r[f"sum_{num}"] / r[f"sum_{den}"]
            self.mean, self.scale = self.ratio, r[f"sum_{den}"] / n

    def _terms(self) -> list[tuple[float, str]]:
        terms = [(1.0, self.num)]
        if self.den is not None:
            terms.append((-self.ratio, self.den))
        return terms

    def central(self, other: _Linear) -> float:
        """``Σ (u − ū)(v − v̄)`` over the group's units, ``u`` this and ``v`` the other."""
        total = sum(
            ca * cb * _central(self.r, x, y) for ca, x in self._terms() for cb, y in other._terms()
        )
        return float(total / (self.scale * other.scale))


def _ratio_cuped(lin: dict, covariate: str, cov_den: str | None, diff: float, se: float,
                 alpha: float) -> dict[str, float]:  # fmt: skip
    """CUPED on the linearised ratio (see :func:`ratio_lift`)."""
    szz = szw = sww = 0.0
    parts = {}
    for arm, (r, n, z) in lin.items():
        w = _Linear(r, covariate, cov_den)
        parts[arm] = (n, z, w)
        szz, szw, sww = szz + z.central(z), szw + z.central(w), sww + w.central(w)
    theta = szw / sww if sww > 0 else 0.0
    var_adj = {}
    for arm, (n, z, w) in parts.items():
        v = z.central(z) - 2 * theta * z.central(w) + theta**2 * w.central(w)
        var_adj[arm] = max(v, 0.0) / (n - 1) / n
    shift = parts["treatment"][2].mean - parts["control"][2].mean
    adj = diff - theta * shift
    se_adj = float(np.sqrt(var_adj["control"] + var_adj["treatment"]))
    lo, hi, p = _normal_test(adj, se_adj, alpha)
    return {
        "adjusted_difference": adj,
        "adjusted_se": se_adj,
        "adjusted_low": lo,
        "adjusted_high": hi,
        "adjusted_p_value": p,
        "theta": theta,
        "correlation": szw / np.sqrt(szz * sww) if szz > 0 and sww > 0 else np.nan,
        "variance_reduction": 1 - (se_adj / se) ** 2 if se > 0 else np.nan,
        "interval_narrower": 1 - se_adj / se if se > 0 else np.nan,
    }


def sample_ratio_check(
    observed: Mapping[str, int] | pd.Series,
    *,
    planned: Mapping[str, float] | None = None,
    threshold: float = SRM_THRESHOLD,
) -> pd.DataFrame:
    """Sample-ratio-mismatch check: are the group sizes what the planned split gives?

    Pearson's χ² goodness-of-fit of the observed group sizes against ``planned`` shares
    (equal shares by default), ``k − 1`` degrees of freedom. A p-value below ``threshold``
    (0.001, the usual platform setting: a healthy split fails it once in a thousand tests)
    means people were lost, double-counted or assigned by something other than the
    randomiser, and the test's verdict should not be trusted.

    Returns
    -------
    DataFrame
        One row per group: ``group, observed, expected, planned_share, observed_share,
        chi2, p_value, mismatch`` (the last three repeated) and ``attrs["message"]``, a
        sentence saying whether the split holds.

    Examples
    --------
    >>> t = sample_ratio_check({"control": 5_000, "treatment": 5_400})
    >>> bool(t["mismatch"].iloc[0])
    True
    >>> print(t.attrs["message"])  # doctest: +ELLIPSIS
    The split is broken: 5,000 control and 5,400 treatment people where the plan gives ...
    """
    obs = pd.Series(observed, dtype=float)
    if obs.empty or (obs < 0).any():
        raise ValueError("sample_ratio_check: give non-negative sizes of at least one group")
    shares = pd.Series(
        planned if planned is not None else dict.fromkeys(obs.index, 1.0), dtype=float
    )
    unknown = set(obs.index) ^ set(shares.index)
    if unknown:
        raise ValueError(
            f"sample_ratio_check: groups {sorted(map(str, unknown))} are not in both the "
            "observed sizes and the planned split"
        )
    shares = shares.reindex(obs.index) / shares.sum()
    total = obs.sum()
    expected = shares * total
    if len(obs) > 1 and total > 0:
        chi2, p = stats.chisquare(obs.to_numpy(), expected.to_numpy())
        chi2, p = float(chi2), float(p)
    else:
        chi2, p = 0.0, 1.0
    mismatch = p < threshold
    out = pd.DataFrame(
        {
            "group": obs.index.astype(str),
            "observed": obs.to_numpy().astype("int64"),
            "expected": expected.to_numpy(),
            "planned_share": shares.to_numpy(),
            "observed_share": (obs / total).to_numpy() if total else np.nan,
            "chi2": chi2,
            "p_value": p,
            "mismatch": mismatch,
        }
    )
    sizes = " and ".join(f"{int(v):,} {g}" for g, v in obs.items())
    plan = " and ".join(f"{e:,.0f}" if float(e).is_integer() else f"{e:,.1f}" for e in expected)
    if len(expected) > 1 and np.allclose(expected, expected.iloc[0]):
        plan = f"{plan.split(' and ')[0]} each"
    if mismatch:
        msg = (
            f"The split is broken: {sizes} people where the plan gives {plan} "
            f"(p = {p:.1g}, below {threshold:g}). Such a gap happens by chance less than once in "
            f"{1 / threshold:,.0f} tests, so people were lost, counted twice or assigned outside "
            "the randomiser; no verdict on the campaign is drawn until the split is repaired."
        )
    else:
        msg = (
            f"The split holds: {sizes} people against {plan} planned (p = {p:.2g}), within "
            "what chance gives."
        )
    out.attrs["message"] = msg
    return out


def _rho2(alpha: float, tuning: float) -> float:
    return (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning


def confidence_sequence(
    estimate: float | np.ndarray,
    se: float | np.ndarray,
    n: float | np.ndarray,
    *,
    alpha: float = 0.05,
    tuning: float = 5_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Asymptotic confidence sequence: an interval valid at every look at the data.

    Waudby-Smith, Arnold, Wu, Howard & Ramdas (2024), "Time-uniform central limit theory and
    asymptotic confidence sequences", Annals of Statistics; the form GrowthBook and Eppo use.
    With ``n`` people so far, ``σ̂ = se · √n`` (the per-person standard deviation behind the
    estimate's standard error) and

    ``ρ² = (−2 ln α + ln(−2 ln α + 1)) / tuning``,

    the half-width is ``σ̂ · √( 2 (n ρ² + 1) / (n² ρ²) · ln(√(n ρ² + 1) / α) )``. The chance
    that the true effect falls outside the interval at *any* look, however often one looks, is
    at most ``alpha`` (asymptotically). ``tuning`` is the number of people at which the sequence
    is narrowest; fix it before the test starts (GrowthBook's default, 5,000; the planned total
    sample size is a good choice). Compared with a fixed-sample interval at that size it is
    about 1.4 to 1.6 times as wide: the price of being allowed to peek.

    Returns
    -------
    (low, high) : arrays

    Examples
    --------
    >>> low, high = confidence_sequence(0.04, 0.013, 1_807, tuning=1_807)
    >>> round(float(low), 3), round(float(high), 3)  # 0.04 ± 3.04 x 0.013 (fixed: ± 1.96 x)
    (0.001, 0.079)
    """
    if not 0 < alpha < 1 or tuning <= 0:
        raise ValueError("confidence_sequence: alpha must be in (0, 1) and tuning > 0")
    est, se, n = (np.asarray(v, dtype=float) for v in (estimate, se, n))
    r2 = _rho2(alpha, tuning)
    sigma = se * np.sqrt(n)
    half = sigma * np.sqrt(2 * (n * r2 + 1) / (n**2 * r2) * np.log(np.sqrt(n * r2 + 1) / alpha))
    return est - half, est + half


def sequential_verdict(
    estimate: float,
    se: float,
    n: int,
    *,
    min_effect: float | None = None,
    alpha: float = 0.05,
    tuning: float = 5_000,
    unit: str = "points",
    scale: float = 100.0,
) -> pd.DataFrame:
    """What to do at this check-in, from the confidence sequence of the effect.

    * the sequence excludes zero: **stop: the effect is real** (positive or negative);
    * it lies within ``±min_effect``: **stop: no effect large enough to matter** (a futility
      stop: even the largest plausible effect is too small to act on);
    * otherwise: **keep running**.

    Because the sequence is valid at every look, the verdict may be read at every meeting
    without inflating the error rate (a fixed-sample p-value read weekly would).

    Parameters
    ----------
    estimate, se, n : float
        The effect estimate (e.g. the CUPED difference), its standard error and the number of
        people it rests on.
    min_effect : float, optional
        The smallest effect worth acting on, in the estimate's units; ``None``: no futility stop.
    unit, scale : str, float
        How the words show the effect (``0.04`` × 100 ``points``).

    Returns
    -------
    DataFrame
        One row: ``estimate, sequence_low, sequence_high, min_effect, decision`` (``keep
        running``, ``stop: the effect is real``, ``stop: no effect large enough to matter``)
        and ``explanation`` (plain words).

    Examples
    --------
    >>> sequential_verdict(0.04, 0.013, 1_807, tuning=1_807)["decision"].item()
    'stop: the effect is real'
    >>> sequential_verdict(0.001, 0.002, 9_000, min_effect=0.01)["decision"].item()
    'stop: no effect large enough to matter'
    """
    low, high = (float(v) for v in confidence_sequence(estimate, se, n, alpha=alpha, tuning=tuning))

    def f(v: float) -> str:
        return f"{v * scale:+.1f} {unit}"

    span = f"between {f(low)} and {f(high)}"
    if low > 0 or high < 0:
        decision = "stop: the effect is real"
        why = (
            f"The always-valid interval ({span}) excludes zero: the effect is "
            f"{'positive' if low > 0 else 'negative'}, and looking at the data at every meeting "
            "has not made this a false alarm."
        )
    elif min_effect is not None and -min_effect < low and high < min_effect:
        decision = "stop: no effect large enough to matter"
        why = (
            f"The always-valid interval ({span}) lies within {f(min_effect)} either way: "
            "whatever the effect is, it is too small to act on."
        )
    else:
        decision = "keep running"
        what = f" or as small as {f(-min_effect)} to {f(min_effect)}" if min_effect else ""
        why = (
            f"The always-valid interval ({span}) still includes zero{what}: the data cannot "
            "tell yet. Keep the groups as they are; it is safe to look again at the next meeting."
        )
    return pd.DataFrame(
        [
            {
                "estimate": float(estimate),
                "sequence_low": low,
                "sequence_high": high,
                "min_effect": np.nan if min_effect is None else float(min_effect),
                "decision": decision,
                "explanation": why,
            }
        ]
    )


def adjust_p_values(
    p_values: Sequence[float] | pd.Series,
    *,
    method: str = "holm",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Adjust the p-values of several campaigns or variants tested at once.

    ``method="holm"`` (default) keeps the chance of *any* false "real effect" among the tests
    below ``alpha`` (family-wise error), under any dependence between the tests: the right
    guard when each "real" verdict moves budget. ``method="fdr_bh"`` (Benjamini–Hochberg) keeps
    the expected *share* of false findings among those declared below ``alpha``: more
    findings, for screening many variants where a few false leads are acceptable. Both via
    :func:`statsmodels.stats.multitest.multipletests`.

    Returns
    -------
    DataFrame
        One row per test, in the input order (index kept): ``p_value, adjusted_p_value,
        significant``.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03])["adjusted_p_value"].round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    if method not in {"holm", "fdr_bh"}:
        raise ValueError(f"adjust_p_values: method must be 'holm' or 'fdr_bh', got {method!r}")
    p = pd.Series(p_values, dtype=float)
    if p.isna().any() or ((p < 0) | (p > 1)).any():
        raise ValueError("adjust_p_values: p-values must lie in [0, 1] with none missing")
    reject, adjusted, _, _ = multipletests(p.to_numpy(), alpha=alpha, method=method)
    return pd.DataFrame(
        {"p_value": p.to_numpy(), "adjusted_p_value": adjusted, "significant": reject},
        index=p.index,
    )
