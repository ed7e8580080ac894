"""Drift of a score's inputs between training and today: the population stability index (PSI).

For each feature the training rows are cut into bins, the current rows are put into the same
bins, and the shares are compared:

    PSI = sum over bins of (current share - training share) x ln(current share / training share)

* **Numeric features** are cut at the training quantiles (``bins`` bins of about equal training
  share; coinciding quantiles merge), open-ended at both sides, so current values beyond the
  training range land in the outer bins.
* **Categorical features** (text, categories, booleans) have one bin per training level; current
  levels never seen in training are counted together in the bin ``"(unseen)"``.
* Missing values are a bin of their own, ``"(missing)"``, in both kinds.
* A bin empty on one side would make the index infinite: an empty share counts as
  :data:`EPSILON` (0.0001, one in ten thousand).

The verdict follows the usual reading of the index: below 0.1 **stable**, 0.1 to 0.25
**moderate shift**, above 0.25 **major shift** (:data:`MODERATE`, :data:`MAJOR`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["EPSILON", "MODERATE", "MAJOR", "population_stability", "stability_bins", "verdict"]

#: The share an empty bin counts as (so the logarithm stays finite).
EPSILON = 1e-4
#: PSI from which the shift is moderate, and above which it is major.
MODERATE = 0.1
MAJOR = 0.25
MISSING = "(missing)"
UNSEEN = "(unseen)"


def verdict(psi: float) -> str:
    """``stable`` (PSI < 0.1), ``moderate shift`` (0.1 to 0.25) or ``major shift`` (> 0.25).

    Examples
    --------
    >>> verdict(0.02), verdict(0.1), verdict(0.25), verdict(0.4)
    ('stable', 'moderate shift', 'moderate shift', 'major shift')
    """
    if psi is None or pd.isna(psi):
        return "no data"
    if psi < MODERATE:
        return "stable"
    return "moderate shift" if psi <= MAJOR else "major shift"


def _is_numeric(s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    ) or pd.api.types.is_datetime64_any_dtype(s)


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):  # seconds since 1970 (UTC; NaT -> NaN)
        ts = pd.to_datetime(s, utc=True)
        return (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(float)
    return pd.to_numeric(s, errors="coerce").astype(float).to_numpy()


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _feature_bins(feature: str, train: pd.Series, current: pd.Series, bins: int) -> pd.DataFrame:
    if _is_numeric(train):
        t, c = _as_float(train), _as_float(current)
        finite = t[~np.isnan(t)]
        edges = (
            np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1))[1:-1])
            if len(finite)
            else np.array([])
        )
        # bin i holds edges[i-1] < x <= edges[i]; open-ended at both sides
        labels = []
        bounds = [-np.inf, *edges, np.inf]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if np.isinf(lo) and np.isinf(hi):
                labels.append("all values")
            elif np.isinf(lo):
                labels.append(f"<= {_fmt(hi)}")
            elif np.isinf(hi):
                labels.append(f"> {_fmt(lo)}")
            else:
                labels.append(f"{_fmt(lo)} to {_fmt(hi)}")

        def count(x):
            k = np.bincount(
                np.searchsorted(edges, x[~np.isnan(x)], side="left"), minlength=len(labels)
            )
            return [*k, int(np.isnan(x).sum())]

        names = [*labels, MISSING]
        tc, cc = count(t), count(c)
        kind = "numeric"
    else:
        t = train.astype(object).where(train.notna(), MISSING)
        c = current.astype(object).where(current.notna(), MISSING)
        levels = sorted({str(v) for v in t if v != MISSING})
        t, c = t.map(str), c.map(str)
        names = [*levels, UNSEEN, MISSING]
        seen = set(levels) | {MISSING}
        c = c.where(c.isin(seen), UNSEEN)
        tc = t.value_counts().reindex(names, fill_value=0).tolist()
        cc = c.value_counts().reindex(names, fill_value=0).tolist()
        kind = "categorical"
    out = pd.DataFrame({"bin": names, "train_count": tc, "current_count": cc})
    # the missing and unseen bins are shown only when one side has rows in them
    keep = ~out["bin"].isin([MISSING, UNSEEN]) | (out["train_count"] + out["current_count"] > 0)
    out = out[keep.to_numpy()].reset_index(drop=True)
    nt, nc = len(train), len(current)
    out["train_share"] = out["train_count"] / nt if nt else np.nan
    out["current_share"] = out["current_count"] / nc if nc else np.nan
    ts = np.maximum(out["train_share"].to_numpy(float), EPSILON)
    cs = np.maximum(out["current_share"].to_numpy(float), EPSILON)
    out["psi"] = (cs - ts) * np.log(cs / ts)
    out.insert(0, "kind", kind)
    out.insert(0, "feature", feature)
    return out


def _features(train, current, features) -> list[str]:
    for name, f in (("train", train), ("current", current)):
        if not isinstance(f, pd.DataFrame):
            raise TypeError(f"population_stability: {name} must be a pandas DataFrame")
    if features is None:
        return [c for c in train.columns if c in current.columns]
    features = [features] if isinstance(features, str) else list(features)
    for name, f in (("train", train), ("current", current)):
        missing = [c for c in features if c not in f.columns]
        if missing:
            raise ValueError(
                f"{name}.{missing[0]}: population_stability needs this feature, which is missing"
            )
    return features


def stability_bins(
    train: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: str | Sequence[str] | None = None,
    bins: int = 10,
) -> pd.DataFrame:
    """The bins behind :func:`population_stability`, one row per feature and bin.

    Returns
    -------
    DataFrame
        ``feature, kind`` (numeric / categorical), ``bin`` (its label: ``<= 3``, ``3 to 7``,
        ``> 7``, a level, ``(unseen)``, ``(missing)``), ``train_count, current_count,
        train_share, current_share``, ``psi`` (the bin's term of the index, empty shares counted
        as :data:`EPSILON`).

    Examples
    --------
    >>> import pandas as pd
    >>> b = stability_bins(pd.DataFrame({"x": [1, 2, 3, 4]}), pd.DataFrame({"x": [1, 1, 4, 9]}),
    ...                    bins=2)
    >>> b[["bin", "train_count", "current_count"]]
          bin  train_count  current_count
    0  <= 2.5            2              2
    1   > 2.5            2              2
    """
    if not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(
            f"population_stability: bins must be a whole number of at least 1, got {bins!r}"
        )
    names = _features(train, current, features)
    parts = [_feature_bins(f, train[f], current[f], bins) for f in names]
    cols = ["feature", "kind", "bin", "train_count", "current_count", "train_share"]
    cols += ["current_share", "psi"]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def population_stability(
    train: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: str | Sequence[str] | None = None,
    bins: int = 10,
) -> pd.DataFrame:
    """Population stability index (PSI) of each feature between training and current rows.

    Parameters
    ----------
    train : DataFrame
        The rows the score was trained on (one per lead).
    current : DataFrame
        The rows scored today.
    features : str or list of str, optional
        The features to compare; default every column the two frames share.
    bins : int
        Number of training-quantile bins of a numeric feature (fewer when quantiles coincide).

    Returns
    -------
    DataFrame
        One row per feature, largest shift first: ``feature, kind, psi, verdict`` (``stable``
        below 0.1, ``moderate shift`` 0.1 to 0.25, ``major shift`` above 0.25), ``bins`` (how
        many), ``n_train, n_current``, ``unseen_share`` (share of current rows with a level
        never seen in training; 0 for numeric features), ``missing_train_share,
        missing_current_share``, ``top_bin`` (the bin contributing most to the index). The bins
        themselves: :func:`stability_bins`.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"channel": ["email"] * 50 + ["events"] * 50})
    >>> now = pd.DataFrame({"channel": ["email"] * 80 + ["events"] * 20})
    >>> population_stability(train, now)[["feature", "psi", "verdict"]].round(3)
       feature    psi      verdict
    0  channel  0.416  major shift
    """
    detail = stability_bins(train, current, features=features, bins=bins)
    rows = []
    for feature, b in detail.groupby("feature", sort=False):
        unseen = b.loc[b["bin"] == UNSEEN, "current_share"].sum()
        missing = b[b["bin"] == MISSING]
        psi = float(b["psi"].sum())
        rows.append(
            {
                "feature": feature,
                "kind": b["kind"].iloc[0],
                "psi": psi,
                "verdict": verdict(psi),
                "bins": len(b),
                "n_train": len(train),
                "n_current": len(current),
                "unseen_share": float(unseen),
                "missing_train_share": float(missing["train_share"].sum()),
                "missing_current_share": float(missing["current_share"].sum()),
                "top_bin": b.loc[b["psi"].idxmax(), "bin"] if len(b) else None,
            }
        )
    cols = ["feature", "kind", "psi", "verdict", "bins", "n_train", "n_current", "unseen_share"]
    cols += ["missing_train_share", "missing_current_share", "top_bin"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
