"""The lead score under review: out-of-time predictions, training rows and today's open leads.

:func:`score_review` gathers in one call what the pipeline report (notebook 06) shows about
the score: each model's predictions on later cohorts after training on earlier ones
(:func:`~salesmkt.scoring.model.time_split_validation`, the same folds for the lead score, a
plain logistic model and the base rate), the rows the score was trained on and the leads open
today (for drift, :func:`~salesmkt.scoring.drift.population_stability`), and the leads as the
MQL threshold sees them (one row per lead, its first out-of-time score, dated by its creation).

Examples
--------
>>> import salesmkt, warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     r = score_review(salesmkt.load_sample(), as_of="2026-07-01", n_splits=2)
>>> sorted(r.predictions["model"].unique())
['base_rate', 'boosting', 'logistic']
>>> bool(r.threshold_scores["lead_id"].is_unique)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.scoring.minimums import TooFewConversionsWarning, too_few_conversions
from salesmkt.scoring.model import time_split_validation
from salesmkt.scoring.snapshot import lead_snapshot, training_snapshots

__all__ = ["ScoreReview", "score_review"]

#: Columns of a snapshot that are not features (who, when, outcome).
_NOT_FEATURES = ("lead_id", "as_of", "label")


@dataclass(frozen=True)
class ScoreReview:
    """What :func:`score_review` returns.

    Attributes
    ----------
    predictions : DataFrame
        One row per fold, test lead and model (``boosting``, ``logistic``, ``base_rate``):
        ``fold, cohort_start, as_of, lead_id, converted, probability, model`` and the lead's
        ``channel`` and ``persona`` (the saved persona, else what stands in for it:
        ``attrs["persona_source"]``), for
        :func:`~salesmkt.scoring.quality.model_quality` and
        :func:`~salesmkt.scoring.quality.score_by_group`.
    training : DataFrame
        The labelled snapshot rows (features only) the validation trained on.
    current : DataFrame
        The leads open at ``as_of`` (features only), as they are scored today.
    threshold_scores : DataFrame
        The lead score's out-of-time predictions, one row per lead (its first scored
        snapshot): ``lead_id, created_at, probability, converted``, for
        :func:`~salesmkt.scoring.threshold.mql_threshold`.
    warning : str or None
        The too-few-conversions message (:func:`~salesmkt.scoring.minimums.too_few_conversions`)
        of the tested rows, or None.
    dates : str
        The snapshot frequency (``"QS"``: the first of every quarter).
    """

    predictions: pd.DataFrame
    training: pd.DataFrame
    current: pd.DataFrame
    threshold_scores: pd.DataFrame
    warning: str | None
    dates: str
    as_of: pd.Timestamp

    def model(self, name: str = "boosting") -> pd.DataFrame:
        """The predictions of one model (default: the lead score)."""
        return self.predictions[self.predictions["model"] == name].reset_index(drop=True)


def score_review(
    dataset,
    *,
    as_of=None,
    personas=None,
    dates: str = "QS",
    n_splits: int = 3,
    horizon="90D",
    target: str = "customer",
) -> ScoreReview:
    """Validate the lead score on the dataset's history and set today's leads beside it.

    Parameters
    ----------
    dataset : Dataset
        Needs ``leads`` (behaviour tables add features).
    as_of : timestamp, optional
        Today: the snapshot of open leads, and the end of the history (default: the end of the
        data).
    personas : DataFrame, path or None
        Saved personas (``personas.yml`` folder): the predictions carry each lead's ``persona``
        (not a feature of the score); without them, the company size band stands in
        (:func:`salesmkt.lead_segments`).
    dates : str
        Frequency of the training snapshots (``"QS"``, quarterly, keeps the report quick;
        ``"MS"`` gives three times the rows).
    n_splits : int
        Time folds: later cohorts tested after training on earlier ones.
    horizon, target : as :func:`~salesmkt.scoring.snapshot.lead_snapshot`

    Returns
    -------
    ScoreReview
    """
    from salesmkt.scoring.snapshot import data_end

    end = _periods.to_utc(as_of) or data_end(dataset)
    snaps = training_snapshots(dataset, dates=dates, horizon=horizon, target=target, end=end)
    train = snaps[(snaps["as_of"] < end) & snaps["label"].notna()].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        cv = time_split_validation(
            train.drop(columns=["label"]),
            train["label"].astype(bool),
            "as_of",
            n_splits=n_splits,
            lead_id="lead_id",
            gap=horizon,
        )
    cv = cv.rename(columns={"y": "converted"})
    cv["converted"] = cv["converted"].astype(int)
    leads = dataset.leads
    about = leads[["lead_id", "created_at"]].copy()
    about["channel"] = (
        leads["channel"].astype(object).where(leads["channel"].notna(), "(missing)")
        if "channel" in leads.columns
        else "(missing)"
    )
    from salesmkt.funnels.lifecycle import lead_segments
    from salesmkt.personas.file import assign_personas

    segments = lead_segments(assign_personas(leads, personas))
    about["persona"] = segments["persona"].astype(object).to_numpy()
    persona_source = segments.attrs.get("persona_source")
    cv = cv.merge(about, on="lead_id", how="left")
    cv.attrs["persona_source"] = persona_source
    score = cv[cv["model"] == "boosting"].sort_values(["as_of", "lead_id"], kind="stable")
    first = score.drop_duplicates("lead_id", keep="first")
    # the leads created while the tested cohorts were open: each is first scored at the next
    # snapshot after its creation, so a month's new leads are that month's candidate MQLs
    since = first["as_of"].min() - pd.tseries.frequencies.to_offset(dates)
    first = first[first["created_at"] >= since]
    thresholds = first[["lead_id", "created_at", "probability", "converted"]].reset_index(drop=True)
    now = lead_snapshot(dataset, as_of=end, horizon=horizon, target=target, end=end)
    features = [c for c in train.columns if c not in _NOT_FEATURES and c in now.columns]
    tested = cv.loc[cv["model"] == "boosting", "converted"].to_numpy()
    return ScoreReview(
        predictions=cv,
        training=train[features].reset_index(drop=True),
        current=now[features].reset_index(drop=True),
        threshold_scores=thresholds,
        warning=too_few_conversions(np.asarray(tested)),
        dates=dates,
        as_of=end,
    )
