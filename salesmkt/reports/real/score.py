"""The lead score on the real data sets: which columns leak, how well the score ranks and how
right its probabilities are, against a base rate and a plain logistic model on the same folds.

The report notebook ``score.ipynb`` beside this module makes one call per section; the work is
here. What to score is declared in each data set's score parameters (``bank-score.yml``,
``olist-score.yml``) under ``score``:

``features``
    Column -> plain name of the features known when the lead is scored (before the call, at the
    MQL). ``created_month`` is the month name of ``created_at`` (the call's or first contact's
    month).
``recorded_after_outcome``
    Column -> why its value is known only after the outcome (the bank's call ``duration``, the
    Olist closed-deal file's columns). They are run through the leakage check with every other
    column, flagged whatever the check's own rules find, and never enter the score.
``not_features``
    Columns that are the outcome itself, as exported (the bank's ``y``), left out of the check.
``relabel``
    Columns of opaque identifiers (Olist's landing page hashes) shown as ``page 1``, ``page 2``
    ... by number of leads, most first: the score may use them, the report never shows them.
``missing_values``
    Column -> a value standing for "not known" (the bank's ``pdays`` of -1: never contacted
    before), read as missing.
``cohort``
    ``created_at`` for time-based validation (train on earlier cohorts, test on later ones,
    :func:`salesmkt.scoring.model.time_split_validation`), or null when the rows carry no usable
    order (then stratified folds).
``gap``
    For time-based validation, the time between the last training cohort and the test cohort.
``by``
    Columns (of ``features``) to show the score against the outcome by.

Example (the declared list, without the real data)
--------------------------------------------------
>>> import pandas as pd
>>> t = leakage_table(pd.DataFrame({"calls": [1, 2, 3, 4] * 25, "length": range(100)}),
...                   [False, True] * 50, {"length": "known only after the call"})
>>> t[["feature", "rules"]].to_dict("records")
[{'feature': 'length', 'rules': 'declared recorded after the outcome'}]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesmkt._base.formats import format_percent
from salesmkt.scoring.leakage import leakage_check
from salesmkt.scoring.model import LeadScorer, time_split_validation
from salesmkt.scoring.quality import calibration_table, gain_lift, model_quality, score_by_group
from salesmkt.scoring.reasons import lead_contributions, reason_text

__all__ = ["RealScore", "leakage_table", "real_score", "score_frame"]

#: The validated models, as the report names them.
MODEL_LABELS = {
    "boosting": "Lead score (gradient boosting)",
    "logistic": "Plain logistic model",
    "base_rate": "Base rate (no model)",
}
DECLARED = "declared recorded after the outcome"


def score_frame(dataset, spec: Mapping) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The features (plain names), the other checked columns and the outcome of every lead.

    Returns
    -------
    features : DataFrame
        One row per lead, the ``features`` of ``spec`` under their plain names, and
        ``cohort`` (the ``created_at`` timestamp) when ``spec`` has a cohort.
    checked : DataFrame
        ``features`` plus every other lead column but the identifiers, stage dates and
        ``not_features``: what the leakage check reads (original names for the columns
        recorded after the outcome, plain names for the features).
    y : array of bool
        Whether the lead converted (``customer_at`` filled).
    """
    leads = dataset.leads
    feats: dict = dict(spec["features"])
    out = pd.DataFrame(index=leads.index)
    for col, name in feats.items():
        if col == "created_month":
            out[name] = leads["created_at"].dt.strftime("%B").astype("string")
            continue
        if col not in leads.columns:
            raise ValueError(f"leads.{col}: the score's feature is not in the data")
        values = leads[col]
        if col in (spec.get("missing_values") or {}):
            values = values.mask(values == spec["missing_values"][col])
        if col in (spec.get("relabel") or ()):
            rank = values.value_counts().index
            values = values.map({v: f"page {i + 1}" for i, v in enumerate(rank)}).astype("string")
        out[name] = values
    y = leads["customer_at"].notna().to_numpy()
    skip = {"lead_id", "created_at", *(c for c in leads.columns if c.endswith("_at"))}
    skip |= set(spec.get("not_features") or ()) | set(feats)
    skip |= {c for c in leads.columns if c.endswith("_raw")}  # the mapping's copy of a column
    checked = out.copy()
    for col in leads.columns:
        if col not in skip:
            checked[col] = leads[col]
    if spec.get("cohort"):
        out["cohort"] = leads[spec["cohort"]]
    return out, checked, y


def leakage_table(checked: pd.DataFrame, y, declared: Mapping[str, str] | None) -> pd.DataFrame:
    """The leakage check on every column, with the declared after-outcome columns flagged.

    A column the check's rules catch keeps their reason; a declared one the rules miss gets the
    declared reason and ``rules`` "declared recorded after the outcome"; one both catch gets
    both. ``auc``: the column's single-feature AUC.
    """
    declared = dict(declared or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = leakage_check(checked, np.asarray(y, dtype=bool))
    auc = found.attrs.get("auc", pd.Series(dtype=float))
    rows = {r.feature: {"feature": r.feature, "rules": r.rules, "auc": r.auc, "reason": r.reason}
            for r in found.itertuples()}  # fmt: skip
    for col, why in declared.items():
        said = f"Declared as recorded after the outcome: {why}."
        if col in rows:
            rows[col]["rules"] += f", {DECLARED}"
            rows[col]["reason"] = f"{said} {rows[col]['reason']}"
        else:
            rows[col] = {"feature": col, "rules": DECLARED, "auc": auc.get(col, np.nan),
                         "reason": said}  # fmt: skip
    table = pd.DataFrame(list(rows.values()), columns=["feature", "rules", "auc", "reason"])
    table.attrs["auc"] = auc
    return table


def _stratified(X: pd.DataFrame, y: np.ndarray, n_splits: int, seed: int) -> pd.DataFrame:
    from sklearn.model_selection import StratifiedKFold

    parts = []
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(X, y)
    for k, (tr, te) in enumerate(folds, start=1):
        for name in ("boosting", "logistic", "base_rate"):
            if name == "base_rate":
                p = np.full(len(te), y[tr].mean())
            else:
                model = LeadScorer(name, random_state=seed).fit(X.iloc[tr], y[tr])
                p = model.predict_proba(X.iloc[te])[:, 1]
            parts.append(
                pd.DataFrame({"fold": k, "row": te, "y": y[te], "probability": p, "model": name})
            )
    return pd.concat(parts, ignore_index=True)


@dataclass
class RealScore:
    """Everything the score report shows (see :func:`real_score`)."""

    n: int
    conversions: int
    validation: str
    leakage: pd.DataFrame
    predictions: pd.DataFrame
    quality: pd.DataFrame
    calibration: pd.DataFrame
    gains: pd.DataFrame
    by_group: dict[str, pd.DataFrame]
    reasons: pd.DataFrame
    features: list[str] = field(default_factory=list)
    #: time-based folds: per fold, training and test rows and conversions (else None)
    folds: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def pooled(self, model: str = "boosting") -> pd.Series:
        """The model's pooled quality row."""
        q = self.quality
        return q[(q["model"] == model) & (q["fold"] == "(pooled)")].iloc[0]

    @property
    def headline(self) -> str:
        """The headline: how well the score ranks and what its best tenth holds, in words."""
        s, lg, b = self.pooled("boosting"), self.pooled("logistic"), self.pooled("base_rate")
        top = self.gains.iloc[0]
        skill = s["brier_skill"]
        strength = (
            "a strong score"
            if s["roc_auc"] >= 0.8
            else "a useful score"
            if s["roc_auc"] >= 0.7
            else "a weak score"
        )
        cap = format_percent(top["gain"])
        share = format_percent(top["cum_leads_share"])
        rate = format_percent(self.conversions / self.n)
        return (
            f"**{strength.capitalize()}: the top {share} of leads by score hold {cap} of the "
            f"conversions** (against {share} at random; {self.conversions:,} conversions in "
            f"{self.n:,} leads, {rate}). Tested on leads it did not learn from "
            f"({self.validation}), it ranks a converting lead above a non-converting one "
            f"{format_percent(s['roc_auc'])} of the time (ROC AUC {s['roc_auc']:.2f}; the plain "
            f"logistic model {lg['roc_auc']:.2f}, chance 0.50). Its precision-recall AUC is "
            f"{s['pr_auc']:.2f} against a base rate of {b['base_rate']:.2f}, and its Brier score "
            f"{s['brier']:.3f} against {b['brier']:.3f} for the base rate alone ("
            + (
                f"{format_percent(skill)} better)."
                if skill > 0
                else "no better: its probabilities are not sharper than the average)."
            )
            + f" {self.calibration_sentence()}"
            + (
                f" It has only {len(self.features)} columns known when the lead is scored to "
                "learn from: rank leads with it, but do not read its probabilities as forecasts."
                if s["roc_auc"] < 0.7
                else ""
            )
        )

    def calibration_sentence(self) -> str:
        """The score's mean probability against the observed rate on the tested leads."""
        score = self.predictions[self.predictions["model"] == "boosting"]
        predicted, observed = score["probability"].mean(), score["converted"].mean()
        off = predicted / observed - 1 if observed else np.nan
        how = (
            "close to it"
            if abs(off) < 0.1
            else f"{format_percent(abs(off))} {'above' if off > 0 else 'below'} it"
        )
        return (
            f"On the tested leads it predicted {format_percent(predicted)} on average where "
            f"{format_percent(observed)} converted ({how})."
        )

    def leakage_finding(self) -> str:
        """The leaking columns in words: which and why, and that the score left them out."""
        if self.leakage.empty:
            return "No column leaks the outcome."
        names = ", ".join(_plain(f) for f in self.leakage["feature"])
        n = len(self.leakage)
        return (
            f"{n} column{'s' if n != 1 else ''} would leak the outcome and "
            f"{'are' if n != 1 else 'is'} left out of the score: {names}. The score uses "
            f"{len(self.features)} columns known when the lead is scored: "
            f"{', '.join(_plain(f) for f in self.features)}."
        )

    def leakage_display(self) -> pd.DataFrame:
        """The leakage table for a report: plain column names, which rule, AUC, the reason."""
        t = self.leakage
        return pd.DataFrame(
            {
                "Column": [_plain(f) for f in t["feature"]],
                "Caught by": [
                    ", ".join(_RULES.get(r.strip(), r.strip()) for r in rules.split(","))
                    for rules in t["rules"]
                ],
                "AUC alone": t["auc"].round(2),
                "Why": t["reason"],
            }
        )

    def quality_display(self) -> pd.DataFrame:
        """The pooled quality of the three models, one row each, the score first."""
        q = self.quality[self.quality["fold"] == "(pooled)"].set_index("model")
        q = q.loc[[m for m in MODEL_LABELS if m in q.index]]
        return pd.DataFrame(
            {
                "Model": [MODEL_LABELS[m] for m in q.index],
                "ROC AUC": [f"{v:.3f}" for v in q["roc_auc"]],
                "PR AUC": [f"{v:.3f}" for v in q["pr_auc"]],
                "Brier score": [f"{v:.4f}" for v in q["brier"]],
                # the base rate's skill is 0 by definition (its rounding error is not shown)
                # a rounding error of 0 (the base rate's own skill) shows as 0, not -0.0 %
                "Brier skill": [0.0 if abs(v) < 5e-5 else v for v in q["brier_skill"]],
            }
        )

    def gain_finding(self) -> str:
        """What the best-scored tenth and fifth of the leads hold, in words."""
        g = self.gains
        first, second = g.iloc[0], g.iloc[min(1, len(g) - 1)]
        return (
            f"The top {format_percent(first['cum_leads_share'])} of leads by score hold "
            f"{format_percent(first['gain'])} of the conversions and convert "
            f"{first['lift']:.1f} times as often as the average lead; the top "
            f"{format_percent(second['cum_leads_share'])} hold {format_percent(second['gain'])}. "
            f"The scores are out of fold ({self.validation})."
        )

    def gain_display(self) -> pd.DataFrame:
        """The gain and lift table by tenth of the score, best first."""
        g = self.gains
        return pd.DataFrame(
            {
                "Tenth of the score": g["group"].astype(int).map(lambda k: f"{k}"),
                "Leads": g["leads"].to_numpy(),
                "Conversions": g["conversions"].to_numpy(),
                "Conversion rate": g["conversion_rate"].to_numpy(),
                "Share of leads so far": g["cum_leads_share"].to_numpy(),
                "Share of conversions so far": g["gain"].to_numpy(),
                "Lift": g["lift"].round(2).to_numpy(),
            }
        )

    def group_displays(self) -> list[tuple[str, pd.DataFrame]]:
        """Per grouping column: its plain name and the score against the outcome per group."""
        out = []
        for by, t in self.by_group.items():
            out.append(
                (
                    _plain(by),
                    pd.DataFrame(
                        {
                            _plain(by): [
                                "not known"
                                if v == "(missing)"
                                else str(v).replace("_", " ").replace("-", " ")
                                for v in t[by]
                            ],
                            "Leads": t["leads"].to_numpy(),
                            "Conversions": t["conversions"].to_numpy(),
                            "Mean score": t["mean_score"].to_numpy(),
                            "Observed rate": t["observed_rate"].to_numpy(),
                            "Observed, low": t["ci_low"].to_numpy(),
                            "Observed, high": t["ci_high"].to_numpy(),
                        }
                    ),
                )
            )
        return out


_RULES = {
    "after_snapshot": "recorded after the snapshot",
    "filled_once_converted": "filled once converted",
    "too_predictive": "too predictive alone",
    DECLARED: "declared after the outcome",
}


def _plain(name: str) -> str:
    return str(name).replace("_", " ").strip().capitalize()


def _overall_reasons(model: LeadScorer, X: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """The strongest features over all leads: share of the total contribution, and the value
    that raises and lowers the score most (by mean contribution of the leads holding it)."""
    contrib = lead_contributions(model, X)
    strength = contrib.abs().mean()
    share = strength / strength.sum()
    rows = []
    for feat in strength.sort_values(ascending=False).index[:top]:
        values = X[feat]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
            bins = pd.qcut(values.rank(method="first"), 5, labels=False)
            key = bins.where(values.notna(), -1)
            shown = values.groupby(key).median()
        else:
            key = values.astype("object").where(values.notna(), "(missing)")
            shown = None
        means = contrib[feat].groupby(key).mean()
        counts = key.value_counts()
        means = means[counts.reindex(means.index).fillna(0) >= max(20, 0.01 * len(X))]
        hi, lo = means.idxmax(), means.idxmin()

        def label(k, c, shown=shown, feat=feat):
            v = shown.get(k, np.nan) if shown is not None else k
            v = np.nan if isinstance(v, str) and v == "(missing)" else v
            return reason_text(feat, round(float(v)) if shown is not None and v == v else v, c)

        rows.append(
            {
                "Feature": _plain(feat),
                "Share of the score's moves": share[feat],
                "Raises it most": label(hi, means[hi]) if means[hi] > 0 else "–",
                "Lowers it most": label(lo, means[lo]) if means[lo] < 0 else "–",
            }
        )
    return pd.DataFrame(rows)


def real_score(dataset, spec: Mapping, *, n_splits: int = 5, random_state: int = 0) -> RealScore:
    """Check the columns for leaks, validate the score and a logistic baseline on the same
    folds, and gather the quality outputs of the report.

    Parameters
    ----------
    dataset : Dataset
        The real data set, loaded through its mapping.
    spec : mapping
        The ``score`` parameters (see the module).
    n_splits : int
        Folds: stratified folds without a cohort; with one, ``n_splits - 1`` time-based folds
        (the first block of cohorts only trains).

    Returns
    -------
    RealScore
    """
    X, checked, y = score_frame(dataset, spec)
    declared = dict(spec.get("recorded_after_outcome") or {})
    feats = [c for c in X.columns if c != "cohort"]
    leak = leakage_table(checked, y, declared)
    leaking_features = sorted(set(leak["feature"]) & set(feats))
    if leaking_features:
        raise ValueError(
            f"the score's features {leaking_features} leak the outcome: "
            + "; ".join(leak.loc[leak["feature"].isin(leaking_features), "reason"])
        )
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if spec.get("cohort"):
            pred = time_split_validation(
                X, y, "cohort", n_splits=n_splits - 1, lead_id=np.arange(len(X)),
                gap=spec.get("gap", "0D"), random_state=random_state,
            ).rename(columns={"lead_id": "row"})  # fmt: skip
            folds = pred.attrs.get("folds")
            first = pd.Timestamp(pred["cohort_start"].min())
            validation = (
                f"time-based: {n_splits - 1} folds, each trained on the leads first contacted "
                f"before the tested months, tested from {first:%B %Y} on"
            )
            # attrs holding a DataFrame break pandas' concat and nlargest on the predictions
            # (pandas compares attrs with ==): keep the folds apart
            pred.attrs = {}
        else:
            pred = _stratified(X[feats], y, n_splits, random_state)
            folds = None
            validation = (
                f"{n_splits} stratified folds: the rows carry no usable order, so no "
                "time-based split"
            )
        pred = pred.rename(columns={"y": "converted"})
    notes += sorted({str(w.message) for w in caught if "conversion" in str(w.message).lower()})
    quality = model_quality(pred)
    score = pred[pred["model"] == "boosting"]
    calib = calibration_table(score["converted"], score["probability"], bins=10)
    gains = gain_lift(score["converted"], score["probability"], groups=10)
    rows = score["row"].to_numpy()
    by = {}
    for col in spec.get("by") or ():
        name = spec["features"][col]
        frame = pd.DataFrame(
            {
                name: X[name].iloc[rows].astype("object").fillna("(missing)").to_numpy(),
                "converted": score["converted"].astype(int).to_numpy(),
                "probability": score["probability"].to_numpy(),
            }
        )
        by[name] = score_by_group(frame, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final = LeadScorer("boosting", random_state=random_state).fit(X[feats], y)
    reasons = _overall_reasons(final, X[feats])
    return RealScore(
        n=len(y),
        conversions=int(y.sum()),
        validation=validation,
        leakage=leak,
        predictions=pred,
        quality=quality,
        calibration=calib,
        gains=gains,
        by_group=by,
        reasons=reasons,
        features=feats,
        folds=folds,
        notes=notes,
    )
