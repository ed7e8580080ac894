"""Leakage check: features known only after the outcome, or too good to be true.

A feature leaks when its value was recorded after the moment the score is for, most often
because the CRM writes it when the lead converts (a close date, a deal amount, the length of a
sales call). A model trained with it looks excellent and is useless on open leads. The check
looks for three signs (docs/semantics/scoring.md):

* **After the snapshot.** A timestamp column with values later than the row's snapshot date
  (``as_of_column``).
* **Filled once converted.** A column present (not missing) for most converters and missing
  for almost every other lead: written when the lead converts. A zero is a value, not a gap
  (a count of 0 email touches is known before the outcome), so only missing values count.
* **Too predictive alone.** A single feature whose AUC on its own is above ``max_auc`` (0.95 by
  default): no honest lead attribute tells the future that well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from salesmkt._base.tables import column_label

__all__ = ["leakage_check", "single_feature_auc"]

_COLUMNS = ["feature", "rules", "auc", "reason"]


def _codes(s: pd.Series, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """A number per row that orders the leads by the feature: the value itself, or for
    categories the conversion rate of the category out of fold (so an identifier scores
    nothing)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        v = pd.to_numeric(s.astype("Float64")).to_numpy(dtype=float, na_value=np.nan)
        lo = np.nanmin(v) if np.isfinite(v).any() else 0.0
        return np.where(np.isnan(v), lo - 1.0, v)
    if pd.api.types.is_datetime64_any_dtype(s):
        v = pd.to_datetime(s, utc=True)
        x = v.astype("int64").to_numpy(dtype=float)
        x[v.isna().to_numpy()] = np.nan
        return np.where(np.isnan(x), np.nanmin(x) - 1 if np.isfinite(x).any() else 0.0, x)
    cat = s.astype("string").fillna("(missing)").to_numpy(dtype=object)
    out = np.full(len(cat), y.mean())
    for train, test in KFold(5, shuffle=True, random_state=seed).split(cat):
        rates = pd.Series(y[train]).groupby(cat[train]).mean()
        out[test] = pd.Series(cat[test]).map(rates).fillna(y[train].mean()).to_numpy()
    return out


def single_feature_auc(values: pd.Series, label) -> float:
    """How well one feature alone separates converters from the others: the ROC AUC of its
    values (or, for categories, of their out-of-fold conversion rate), folded so that 0.5 is
    no information and 1.0 perfect whichever way the feature points.

    Examples
    --------
    >>> import pandas as pd
    >>> single_feature_auc(pd.Series([1, 2, 3, 4]), [False, False, True, True])
    1.0
    """
    y = np.asarray(pd.Series(label).astype(bool))
    if y.all() or not y.any():
        return float("nan")
    auc = roc_auc_score(y, _codes(pd.Series(values).reset_index(drop=True), y))
    return float(max(auc, 1 - auc))


def leakage_check(
    frame: pd.DataFrame,
    label,
    *,
    as_of_column: str | None = None,
    features=None,
    max_auc: float = 0.95,
    filled_converters: float = 0.5,
    filled_others: float = 0.05,
) -> pd.DataFrame:
    """Features that leak the outcome, one row each, with the reason in words.

    Parameters
    ----------
    frame : DataFrame
        One row per lead (e.g. a :func:`salesmkt.scoring.snapshot.lead_snapshot`).
    label : str or array
        The outcome (booleans), a column of ``frame`` or an array.
    as_of_column : str, optional
        The column holding each row's snapshot date; timestamp columns later than it are
        flagged.
    features : list of str, optional
        The columns to check (default: every column but the label, ``as_of_column`` and
        ``lead_id``).
    max_auc : float
        A feature whose single-feature AUC (:func:`single_feature_auc`) is above it is flagged.
    filled_converters, filled_others : float
        A column filled (not missing: zeros are values) for at least ``filled_converters`` of
        the converters and at most ``filled_others`` of the other leads is flagged.

    Returns
    -------
    DataFrame
        ``feature``, ``rules`` (which signs: ``after_snapshot``, ``filled_once_converted``,
        ``too_predictive``, comma-separated), ``auc`` (single-feature AUC) and ``reason``
        (plain words, with the numbers). Empty when nothing leaks. ``attrs["auc"]``: the
        single-feature AUC of every checked feature.

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.scoring.snapshot import lead_snapshot
    >>> ds = salesmkt.load_sample()
    >>> snap = lead_snapshot(ds, as_of="2025-10-01")
    >>> leakage_check(snap, "label", as_of_column="as_of").empty  # the snapshot is clean
    True
    >>> closed = ds.leads.set_index("lead_id")["customer_at"]
    >>> leaky = snap.assign(customer_at=snap["lead_id"].map(closed))
    >>> leakage_check(leaky, "label", as_of_column="as_of")["feature"].tolist()
    ['customer_at']
    """
    if isinstance(label, str):
        if label not in frame.columns:
            raise ValueError(f"leakage_check: the frame has no label column {label!r}")
        y_raw = frame[label]
    else:
        y_raw = pd.Series(np.asarray(label), index=frame.index)
        if len(y_raw) != len(frame):
            raise ValueError(f"leakage_check: {len(frame)} rows but {len(y_raw)} labels")
    known = y_raw.notna().to_numpy()
    df = frame[known].reset_index(drop=True)
    y = np.asarray(y_raw[known].astype(bool))
    skip = {label if isinstance(label, str) else None, as_of_column, "lead_id"}
    cols = list(features) if features is not None else [c for c in df.columns if c not in skip]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"leakage_check: the frame has no column {', '.join(missing)}")
    as_of = None
    if as_of_column is not None:
        if as_of_column not in frame.columns:
            raise ValueError(f"leakage_check: the frame has no as_of column {as_of_column!r}")
        as_of = pd.to_datetime(df[as_of_column], utc=True)
    rows, aucs = [], {}
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    for c in cols:
        s = df[c]
        rules, why = [], []
        name = column_label(c)
        if pd.api.types.is_datetime64_any_dtype(s) and as_of is not None:
            late = (pd.to_datetime(s, utc=True) >= as_of).fillna(False).to_numpy()
            if late.any():
                rules.append("after_snapshot")
                why.append(
                    f"{name} is recorded after the snapshot date for {int(late.sum()):,} of "
                    f"{len(s):,} leads ({late.mean():.0%}): it is not known when the lead is "
                    "scored"
                )
        # missing values only: a zero (a count of 0, an amount of 0) is a value known beforehand
        filled = s.notna().to_numpy()
        if n_pos and n_neg:
            fp, fn = filled[y].mean(), filled[~y].mean()
            if fp >= filled_converters and fn <= filled_others:
                rules.append("filled_once_converted")
                why.append(
                    f"{name} is filled for {fp:.0%} of the leads that converted and {fn:.0%} "
                    "of the others: a value written when a lead converts"
                )
            auc = single_feature_auc(s, y)
        else:
            auc = float("nan")
        aucs[c] = auc
        if auc > max_auc:
            rules.append("too_predictive")
            why.append(
                f"{name} alone predicts the outcome with an AUC of {auc:.2f} (above "
                f"{max_auc:.2f}): no attribute known beforehand tells the future that well"
            )
        if rules:
            reason = "; ".join(why)
            rows.append([c, ", ".join(rules), round(auc, 3), reason[:1].upper() + reason[1:] + "."])
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out.attrs["auc"] = pd.Series(aucs, name="auc", dtype=float)
    return out
