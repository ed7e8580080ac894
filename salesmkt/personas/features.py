"""Feature preparation for persona segmentation: numeric and categorical lead attributes.

Private to :mod:`salesmkt.personas`. A :class:`FeaturePlan` is learned on the leads the model is
fitted on and then applied, unchanged, to any leads (so new leads are scaled like the old).

What the plan does, column by column
------------------------------------
Numeric columns (numbers, counts)
    Missing values are replaced by the fitted median (and counted). Non-negative columns whose
    sample skewness exceeds ``skew_threshold`` (money, company size, counts of rare actions) are
    log1p-transformed first, so a handful of giant accounts do not become personas of their own.
    Then each column is standardised (mean 0, standard deviation 1).
Categorical columns (text, booleans)
    One indicator column per level (levels beyond ``max_levels`` by frequency are pooled into
    ``"(other)"``, missing values are the level ``"(missing)"``), centred on the level shares.
    The indicators of one feature are scaled together so that the feature's total variance
    (the sum of ``p(1 - p)`` over its levels) equals ``categorical_weight``, while every
    standardised numeric feature has variance 1. With the default weight 1 every feature,
    numeric or categorical, carries the same share of the total variance the clustering sees;
    the idea is the block weighting of multiple factor analysis. Raise the weight to let
    categories dominate, lower it to let the numbers dominate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesmkt.data.schema import TABLES

OTHER, MISSING = "(other)", "(missing)"


@dataclass(frozen=True)
class NumericSpec:
    name: str
    log: bool
    median: float
    mean: float
    std: float
    skew: float


@dataclass(frozen=True)
class CategoricalSpec:
    name: str
    levels: tuple[str, ...]
    shares: tuple[float, ...]
    weight: float  # multiplier applied to the centred indicators


@dataclass(frozen=True)
class FeaturePlan:
    numeric: tuple[NumericSpec, ...] = ()
    categorical: tuple[CategoricalSpec, ...] = ()
    n_missing: dict[str, int] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [s.name for s in self.numeric] + [s.name for s in self.categorical]

    @property
    def columns(self) -> list[str]:
        """Names of the prepared matrix's columns."""
        cols = [s.name for s in self.numeric]
        for s in self.categorical:
            cols += [f"{s.name}={lvl}" for lvl in s.levels]
        return cols

    def blocks(self) -> list[tuple[str, slice]]:
        """(feature, column slice) of every feature in the prepared matrix."""
        out, i = [], 0
        for s in self.numeric:
            out.append((s.name, slice(i, i + 1)))
            i += 1
        for s in self.categorical:
            out.append((s.name, slice(i, i + len(s.levels))))
            i += len(s.levels)
        return out


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


# Name tokens (of the snake_case name) that mark a column as not describing who a lead is.
_ID_TOKENS = {"id", "ids", "uuid", "guid", "url", "website", "domain", "address"}
_NAME_TOKENS = {"name", "names"}  # company_name, account_name: one value per company
_NAMES = {"company", "company_account", "account", "organization", "organisation"}
_JOURNEY_TOKENS = {"stage", "status", "converted", "channel", "campaign", "source", "utm",
                   "owner", "latest", "recent"}  # fmt: skip


def excluded_reason(col: str, s: pd.Series, *, max_levels: int = 30) -> str | None:
    """Why column ``col`` of a leads table is not a persona feature by default, or None.

    Examples
    --------
    >>> import pandas as pd
    >>> excluded_reason("associated_deal_ids", pd.Series(["1;2", "3", None]))
    'an identifier'
    >>> excluded_reason("lead_status", pd.Series(["open", "working"]))
    "the lead's journey or outcome"
    >>> excluded_reason("industry", pd.Series(["SaaS", "Retail"])) is None
    True
    """
    name = re.sub(r"[^0-9a-z]+", "_", str(col).lower()).strip("_")
    tokens = set(name.split("_"))
    values = s.dropna()
    if tokens & _ID_TOKENS:
        return "an identifier"
    if tokens & _NAME_TOKENS or name in _NAMES:
        return "a name (one value per company or person)"
    if tokens & _JOURNEY_TOKENS:
        return "the lead's journey or outcome"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "a time"
    if values.empty:
        return "empty"
    if is_numeric(s) or pd.api.types.is_bool_dtype(s):
        return None
    if values.nunique() > max_levels:
        return f"text with more than {max_levels} distinct values"
    if len(values) >= 5 and values.is_unique:
        return "a different value on every lead (an identifier or a name)"
    return None


def default_features(df: pd.DataFrame, *, max_levels: int = 30) -> list[str]:
    """Attribute columns of a leads table that can describe a persona.

    Leaves out the declared lead columns (ids, timestamps, channel and campaign: they describe
    the lead's journey, which personas are compared on afterwards, not who the lead is),
    personal data, and vendor columns that are identifiers, names, journey or outcome fields
    (``associated_deal_ids``, ``company_name``, ``lead_status``, ``latest_channel``, ...),
    times, and text with more than ``max_levels`` distinct values or a different value on every
    lead (see :func:`excluded_reason`).
    """
    from salesmkt.data.pii import pii_columns

    declared = set(TABLES["leads"].columns) | {"channel_raw", "persona"}
    skip = declared | set(pii_columns(df))
    return [
        col
        for col in df.columns
        if col not in skip and excluded_reason(col, df[col], max_levels=max_levels) is None
    ]


def plan_features(
    df: pd.DataFrame,
    features: list[str],
    *,
    categorical: list[str] | None = None,
    log_skewed: bool = True,
    skew_threshold: float = 1.0,
    categorical_weight: float = 1.0,
    max_levels: int = 30,
) -> FeaturePlan:
    """Learn the preparation of ``features`` from ``df`` (see the module docstring)."""
    forced = set(categorical or ())
    numeric, cats, n_missing = [], [], {}
    for col in features:
        s = df[col]
        n_missing[col] = int(s.isna().sum())
        if is_numeric(s) and col not in forced:
            x = s.astype("float64")
            median = float(x.median()) if x.notna().any() else 0.0
            x = x.fillna(median)
            skew = float(x.skew()) if len(x) > 2 else 0.0
            skew = 0.0 if not np.isfinite(skew) else skew
            log = bool(log_skewed and x.min() >= 0 and skew > skew_threshold)
            if log:
                x = np.log1p(x)
            std = float(x.std(ddof=0))
            numeric.append(
                NumericSpec(col, log, median, float(x.mean()), std if std > 0 else 1.0, skew)
            )
        else:
            codes, uniques = _factorize(s)
            counts = pd.Series(np.bincount(codes + 1, minlength=len(uniques) + 1),
                               index=[MISSING, *uniques]).groupby(level=0).sum()  # fmt: skip
            counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
            keep = list(counts.index[:max_levels])
            shares = counts / counts.sum()
            if len(counts) > max_levels:
                keep.append(OTHER)
                shares[OTHER] = shares.drop(keep[:-1]).sum()
            shares = shares.reindex(keep, fill_value=0.0)
            var = float((shares * (1 - shares)).sum())
            weight = float(np.sqrt(categorical_weight / var)) if var > 0 else 0.0
            cats.append(
                CategoricalSpec(
                    col, tuple(map(str, keep)), tuple(map(float, shares.to_numpy())), weight
                )
            )
    return FeaturePlan(tuple(numeric), tuple(cats), n_missing)


def numeric_values(plan: FeaturePlan, df: pd.DataFrame) -> np.ndarray:
    """The numeric features after imputation and log1p, before scaling (n x n_numeric)."""
    out = np.empty((len(df), len(plan.numeric)), dtype="float64")
    for j, s in enumerate(plan.numeric):
        x = pd.to_numeric(df[s.name], errors="coerce").astype("float64").fillna(s.median)
        x = x.to_numpy()
        if s.log:
            x = np.log1p(np.clip(x, 0, None))
        out[:, j] = x
    return out


def _factorize(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 for missing) and the distinct values as text; hash-based, no Python loop."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, [str(u) for u in uniques]


def category_codes(plan: FeaturePlan, df: pd.DataFrame) -> np.ndarray:
    """Level index of every categorical feature (n x n_categorical); unseen levels pool into
    ``(other)`` when the plan has it, else get code -1 (all indicators zero)."""
    out = np.empty((len(df), len(plan.categorical)), dtype=np.int64)
    for j, s in enumerate(plan.categorical):
        codes, uniques = _factorize(df[s.name])
        lookup = {lvl: i for i, lvl in enumerate(s.levels)}
        fallback = lookup.get(OTHER, -1)
        lut = np.array([lookup.get(u, fallback) for u in uniques] + [lookup.get(MISSING, fallback)])
        out[:, j] = lut[codes]  # code -1 picks the last entry: the missing level
    return out


def transform(plan: FeaturePlan, df: pd.DataFrame, dtype=np.float64) -> np.ndarray:
    """The prepared matrix: scaled numeric columns then weighted, centred indicators."""
    n = len(df)
    width = len(plan.columns)
    out = np.zeros((n, width), dtype=dtype)
    if plan.numeric:
        num = numeric_values(plan, df)
        mean = np.array([s.mean for s in plan.numeric])
        std = np.array([s.std for s in plan.numeric])
        out[:, : len(plan.numeric)] = (num - mean) / std
    i = len(plan.numeric)
    if plan.categorical:
        codes = category_codes(plan, df)
        rows = np.arange(n)
        for j, s in enumerate(plan.categorical):
            width_j = len(s.levels)
            block = np.zeros((n, width_j), dtype=dtype)
            ok = codes[:, j] >= 0
            block[rows[ok], codes[ok, j]] = 1.0
            block -= np.asarray(s.shares, dtype=dtype)
            out[:, i : i + width_j] = block * s.weight
            i += width_j
    return out


def describe_plan(plan: FeaturePlan) -> pd.DataFrame:
    """One row per feature: kind, transformation, levels, weight and missing values."""
    rows = [
        {
            "feature": s.name,
            "kind": "numeric",
            "transform": "log1p, standardised" if s.log else "standardised",
            "skew": s.skew,
            "levels": np.nan,
            "weight": 1.0,
            "n_missing": plan.n_missing.get(s.name, 0),
        }
        for s in plan.numeric
    ]
    rows += [
        {
            "feature": s.name,
            "kind": "categorical",
            "transform": "one-hot, centred, block-weighted",
            "skew": np.nan,
            "levels": len(s.levels),
            "weight": s.weight**2 * float(np.sum(np.multiply(s.shares, np.subtract(1, s.shares)))),
            "n_missing": plan.n_missing.get(s.name, 0),
        }
        for s in plan.categorical
    ]
    cols = ["feature", "kind", "transform", "skew", "levels", "weight", "n_missing"]
    return pd.DataFrame(rows, columns=cols)
