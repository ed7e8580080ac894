"""How good a lead score is, shown rather than assumed: ranking (ROC AUC, PR AUC), accuracy of the
probabilities (Brier score, log loss, the calibration table), gain and lift by decile, score
against outcome per persona or channel. The warning when there are too few conversions to learn
from is in :mod:`~salesmkt.scoring.minimums`.

Every function takes plain outcomes (0/1) and probabilities, so it judges any model: the lead
score, a plain logistic baseline or the base rate. The definitions are in
``docs/semantics/score_quality.md``.

Examples
--------
>>> import pandas as pd
>>> predictions = pd.DataFrame({
...     "model": ["score"] * 4 + ["base rate"] * 4,
...     "converted": [1, 0, 1, 0] * 2,
...     "probability": [0.9, 0.2, 0.6, 0.4] + [0.5] * 4,
... })
>>> model_quality(predictions)[["model", "roc_auc", "brier"]]
       model  roc_auc    brier
0  base rate      0.5  0.25000
1      score      1.0  0.09250
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesmkt.kpis.compute import wilson_interval

__all__ = [
    "model_quality",
    "calibration_table",
    "gain_lift",
    "score_by_group",
]

#: Probabilities are clipped to ``[EPS, 1 - EPS]`` in the log loss (a 0 or 1 that is wrong
#: would otherwise cost an infinite loss).
LOG_LOSS_EPS = 1e-15
POOLED = "(pooled)"
MISSING = "(missing)"


def _rows(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)[:3]
    return ", ".join(str(int(i)) for i in idx)


def _floats(values) -> np.ndarray:
    """Numbers, booleans or nullable values as a float array (missing and non-numbers: NaN)."""
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("Float64")
    num = pd.to_numeric(s, errors="coerce")
    return num.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _check(y, p, *, table: str = "predictions", y_name: str = "y", p_name: str = "p"):
    """Outcomes as 0/1 floats and probabilities as floats, or a clear error."""
    y_arr, p_arr = _floats(y), _floats(p)
    if len(y_arr) != len(p_arr):
        raise ValueError(
            f"{table}: {len(y_arr)} outcomes but {len(p_arr)} probabilities; give one of each"
        )
    bad_y = np.isnan(y_arr) | ~np.isin(y_arr, [0.0, 1.0])
    if bad_y.any():
        raise ValueError(
            f"{table}.{y_name}: {int(bad_y.sum())} values are not 0/1 (missing or other), "
            f"first at rows {_rows(bad_y)}"
        )
    bad_p = np.isnan(p_arr) | (p_arr < 0) | (p_arr > 1)
    if bad_p.any():
        raise ValueError(
            f"{table}.{p_name}: {int(bad_p.sum())} values are missing or outside 0-1, "
            f"first at rows {_rows(bad_p)}"
        )
    return y_arr, p_arr


def _metrics(y: np.ndarray, p: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    n, k = len(y), float(y.sum())
    base = k / n if n else np.nan
    both = 0 < k < n
    brier = float(np.mean((p - y) ** 2)) if n else np.nan
    ref = base * (1 - base)  # the Brier score of predicting the base rate for everyone
    clipped = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return {
        "n": n,
        "conversions": int(k),
        "base_rate": base,
        "roc_auc": float(roc_auc_score(y, p)) if both else np.nan,
        "pr_auc": float(average_precision_score(y, p)) if both else np.nan,
        "brier": brier,
        "brier_skill": 1 - brier / ref if both else np.nan,
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])) if n else np.nan,
    }


def model_quality(
    predictions: pd.DataFrame,
    *,
    y: str = "converted",
    p: str = "probability",
    model: str = "model",
    fold: str = "fold",
) -> pd.DataFrame:
    """Ranking and accuracy of each model's probabilities, per fold and pooled.

    Give the predictions of several models on the **same** leads and folds (e.g. the lead score,
    a plain logistic model and the base rate, each scored on later cohorts after training on
    earlier ones): the rows then compare fairly.

    Parameters
    ----------
    predictions : DataFrame
        One row per lead and model: the outcome ``y`` (0/1 or bool), the predicted probability
        ``p``, and optionally the ``model`` name and the validation ``fold``.
    y, p, model, fold : str
        Column names. Without a ``model`` column all rows are one model (``"model"``); without a
        ``fold`` column only the pooled rows are given.

    Returns
    -------
    DataFrame
        One row per model and fold, then the model's pooled row (``fold`` = ``"(pooled)"``):
        ``model, fold, n, conversions, base_rate`` (conversions / n), ``roc_auc`` (chance that a
        converting lead scores above a non-converting one, ties counting half), ``pr_auc``
        (average precision), ``brier`` (mean squared error of the probability), ``brier_skill``
        (1 - brier / brier of the base rate of the same rows, base_rate x (1 - base_rate):
        above 0 beats the base rate), ``log_loss`` (probabilities clipped to 1e-15).
        The AUCs and skill are missing when the rows hold only one outcome.

    Examples
    --------
    >>> import pandas as pd
    >>> pr = pd.DataFrame({"converted": [1, 0, 1, 0, 0], "probability": [.8, .3, .4, .5, .1],
    ...                    "fold": [1, 1, 1, 2, 2]})
    >>> model_quality(pr)[["fold", "n", "conversions", "roc_auc"]]
           fold  n  conversions   roc_auc
    0         1  3            2  1.000000
    1         2  2            0       NaN
    2  (pooled)  5            2  0.833333
    """
    if not isinstance(predictions, pd.DataFrame):
        raise TypeError("model_quality: predictions must be a pandas DataFrame")
    for col in (y, p):
        if col not in predictions.columns:
            raise ValueError(
                f"predictions.{col}: model_quality needs this column, which is missing "
                f"(columns: {', '.join(map(str, predictions.columns))})"
            )
    yv, pv = _check(predictions[y], predictions[p], y_name=y, p_name=p)
    models = (
        predictions[model].astype(str).to_numpy()
        if model in predictions.columns
        else np.full(len(yv), "model", dtype=object)
    )
    folds = predictions[fold].to_numpy() if fold in predictions.columns else None
    rows = []
    for name in sorted(set(models)):
        m = models == name
        if folds is not None:
            fm = folds[m]
            for f in pd.unique(pd.Series(fm).sort_values()):
                sel = m & (folds == f)
                rows.append({"model": name, "fold": f, **_metrics(yv[sel], pv[sel])})
        rows.append({"model": name, "fold": POOLED, **_metrics(yv[m], pv[m])})
    cols = ["model", "fold", "n", "conversions", "base_rate", "roc_auc", "pr_auc", "brier"]
    cols += ["brier_skill", "log_loss"]
    out = pd.DataFrame(rows, columns=cols).astype({"fold": object})
    return (out if folds is not None else out.drop(columns="fold")).reset_index(drop=True)


def calibration_table(y, p, *, bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """The reliability table: predicted probability against the observed rate, bin by bin.

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    p : array-like of float
        Predicted probabilities.
    bins : int
        Number of bins (fewer when quantile edges coincide: tied scores are never split).
    strategy : {"quantile", "uniform"}
        ``quantile``: bins holding about the same number of leads (edges at the quantiles of
        ``p``); ``uniform``: equal-width bins on 0-1. Bins are closed on the right, the first
        also on the left. Empty bins are left out.

    Returns
    -------
    DataFrame
        One row per non-empty bin, lowest scores first: ``bin`` (1, 2, ...), ``p_low, p_high``
        (the bin's edges), ``n, conversions, mean_predicted, observed_rate`` and ``ci_low,
        ci_high`` (95 % Wilson interval of the observed rate). A calibrated score has
        ``observed_rate`` close to ``mean_predicted`` in every bin.

    Examples
    --------
    >>> calibration_table([0, 0, 1, 0, 1, 1], [.1, .2, .3, .6, .7, .8], bins=2)[
    ...     ["bin", "n", "mean_predicted", "observed_rate"]]
       bin  n  mean_predicted  observed_rate
    0    1  3            0.20       0.333333
    1    2  3            0.70       0.666667
    """
    yv, pv = _check(y, p)
    if not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(
            f"calibration_table: bins must be a whole number of at least 1, got {bins!r}"
        )
    if strategy == "quantile":
        edges = np.unique(np.quantile(pv, np.linspace(0, 1, bins + 1))) if len(pv) else [0, 1]
    elif strategy == "uniform":
        edges = np.linspace(0, 1, bins + 1)
    else:
        raise ValueError(
            f"calibration_table: strategy must be 'quantile' or 'uniform', got {strategy!r}"
        )
    edges = np.asarray(edges, dtype=float)
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0]])
    # bin i holds edges[i-1] < p <= edges[i]; the lowest edge belongs to bin 1
    idx = np.clip(np.searchsorted(edges, pv, side="left"), 1, len(edges) - 1)
    frame = pd.DataFrame({"b": idx, "y": yv, "p": pv})
    g = frame.groupby("b").agg(
        n=("y", "size"), conversions=("y", "sum"), mean_predicted=("p", "mean")
    )
    g = g.reset_index()
    lo, hi = wilson_interval(g["conversions"], g["n"])
    out = pd.DataFrame(
        {
            "bin": np.arange(1, len(g) + 1),
            "p_low": edges[g["b"] - 1],
            "p_high": edges[g["b"]],
            "n": g["n"].astype(int),
            "conversions": g["conversions"].astype(int),
            "mean_predicted": g["mean_predicted"],
            "observed_rate": g["conversions"] / g["n"],
            "ci_low": lo,
            "ci_high": hi,
        }
    )
    return out


def gain_lift(y, p, *, groups: int = 10) -> pd.DataFrame:
    """Cumulative gain and lift: how many conversions the best-scored leads hold.

    Leads are ranked by score, highest first, and cut into ``groups`` groups of equal size
    (deciles by default; group 1 holds the highest scores). **Ties stay together**: leads with
    the same score go to one group, the one holding the middle of their ranks (their average
    rank r, group ceil(r x groups / n)), so the result does not depend on the order of the rows
    and some groups may be larger, or empty (left out; ``cum_leads_share`` says where each
    group ends).

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    p : array-like of float
        Scores (probabilities).
    groups : int
        Number of groups (10: deciles).

    Returns
    -------
    DataFrame
        One row per non-empty group, best first: ``group, leads, conversions,
        conversion_rate, min_score, max_score, cum_leads, cum_leads_share, cum_conversions,
        gain`` (cumulative share of all conversions, 1 in the last group), ``lift``
        (conversion_rate / base rate), ``cum_lift`` (gain / cum_leads_share).

    Examples
    --------
    >>> gain_lift([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, .05],
    ...           groups=5)[["group", "conversions", "gain", "lift"]]
       group  conversions      gain      lift
    0      1            1  0.333333  1.666667
    1      2            1  0.666667  1.666667
    2      3            1  1.000000  1.666667
    3      4            0  1.000000  0.000000
    4      5            0  1.000000  0.000000
    """
    yv, pv = _check(y, p)
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"gain_lift: groups must be a whole number of at least 1, got {groups!r}")
    n = len(yv)
    if n == 0:
        raise ValueError("gain_lift: no leads given")
    rank = pd.Series(-pv).rank(method="average").to_numpy()  # 1 = highest score
    group = np.clip(np.ceil(rank * groups / n - 1e-9).astype(int), 1, groups)
    frame = pd.DataFrame({"group": group, "y": yv, "p": pv})
    g = frame.groupby("group").agg(
        leads=("y", "size"),
        conversions=("y", "sum"),
        min_score=("p", "min"),
        max_score=("p", "max"),
    )
    g = g.reset_index()
    total = yv.sum()
    base = total / n
    g["leads"] = g["leads"].astype(int)
    g["conversions"] = g["conversions"].astype(int)
    g["conversion_rate"] = g["conversions"] / g["leads"]
    g["cum_leads"] = g["leads"].cumsum()
    g["cum_leads_share"] = g["cum_leads"] / n
    g["cum_conversions"] = g["conversions"].cumsum()
    g["gain"] = g["cum_conversions"] / total if total else np.nan
    g["lift"] = g["conversion_rate"] / base if total else np.nan
    g["cum_lift"] = g["gain"] / g["cum_leads_share"]
    cols = ["group", "leads", "conversions", "conversion_rate", "min_score", "max_score"]
    cols += ["cum_leads", "cum_leads_share", "cum_conversions", "gain", "lift", "cum_lift"]
    return g[cols]


def score_by_group(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    y: str = "converted",
    p: str = "probability",
) -> pd.DataFrame:
    """Mean score against the observed conversion rate per persona, channel or any column.

    Parameters
    ----------
    frame : DataFrame
        One row per lead: the ``by`` column(s), the outcome ``y`` and the probability ``p``.
    by : str or list of str
        Grouping column(s); missing values form the group ``"(missing)"``.
    y, p : str
        Column names of the outcome (0/1) and the probability.

    Returns
    -------
    DataFrame
        One row per group, most leads first (then by name): the ``by`` columns, ``leads, conversions,
        mean_score, observed_rate, ci_low, ci_high`` (95 % Wilson interval of the observed
        rate), ``gap`` (mean_score - observed_rate: above 0 the score promises more than the
        group delivered).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"channel": ["email", "email", "events", None],
    ...                   "converted": [1, 0, 1, 0], "probability": [.6, .2, .7, .1]})
    >>> score_by_group(f, "channel")[["channel", "leads", "mean_score", "observed_rate"]]
         channel  leads  mean_score  observed_rate
    0      email      2         0.4            0.5
    1  (missing)      1         0.1            0.0
    2     events      1         0.7            1.0
    """
    by = [by] if isinstance(by, str) else list(by)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("score_by_group: frame must be a pandas DataFrame")
    for col in [*by, y, p]:
        if col not in frame.columns:
            raise ValueError(f"scores.{col}: score_by_group needs this column, which is missing")
    yv, pv = _check(frame[y], frame[p], table="scores", y_name=y, p_name=p)
    keys = {c: frame[c].astype(object).where(frame[c].notna(), MISSING).to_numpy() for c in by}
    d = pd.DataFrame({**keys, "_y": yv, "_p": pv})
    g = d.groupby(by, sort=True).agg(
        leads=("_y", "size"), conversions=("_y", "sum"), mean_score=("_p", "mean")
    )
    g = g.reset_index()
    g["leads"] = g["leads"].astype(int)
    g["conversions"] = g["conversions"].astype(int)
    g["observed_rate"] = g["conversions"] / g["leads"]
    g["ci_low"], g["ci_high"] = wilson_interval(g["conversions"], g["leads"])
    g["gap"] = g["mean_score"] - g["observed_rate"]
    g = g.sort_values("leads", ascending=False, kind="stable")
    return g.reset_index(drop=True)
