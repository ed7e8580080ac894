"""Lead scoring: snapshots taken as of a date (:mod:`~salesmkt.scoring.snapshot`), the leakage
check (:mod:`~salesmkt.scoring.leakage`), the calibrated :class:`LeadScorer` and its time-based
validation (:mod:`~salesmkt.scoring.model`), scores with reasons in plain words
(:mod:`~salesmkt.scoring.reasons`); the score's quality (:mod:`~salesmkt.scoring.quality`), drift
of its inputs (:mod:`~salesmkt.scoring.drift`), the MQL threshold from the sales-marketing
agreement (:mod:`~salesmkt.scoring.threshold`) and their charts.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "population_stability": "drift",
        "drift_finding": "headlines",
        "drift_summary": "headlines",
        "group_summary": "headlines",
        "quality_finding": "headlines",
        "quality_summary": "headlines",
        "threshold_moves": "headlines",
        "tier_finding": "headlines",
        "tier_summary": "headlines",
        "top_leads": "headlines",
        "ScoreReview": "review",
        "score_review": "review",
        "stability_bins": "drift",
        "plot_calibration": "plots",
        "plot_gain_lift": "plots",
        "plot_score_distribution": "plots",
        "plot_threshold_tradeoff": "plots",
        "TooFewConversionsWarning": "minimums",
        "calibration_table": "quality",
        "gain_lift": "quality",
        "model_quality": "quality",
        "score_by_group": "quality",
        "too_few_conversions": "minimums",
        "warn_too_few_conversions": "minimums",
        "mql_leads": "threshold",
        "mql_threshold": "threshold",
        "threshold_sentence": "threshold",
        "threshold_tradeoff": "threshold",
        "single_feature_auc": "leakage",
        "leakage_check": "leakage",
        "LeadScorer": "model",
        "time_split_validation": "model",
        "lead_contributions": "reasons",
        "reason_text": "reasons",
        "score_leads": "reasons",
        "train_lead_scorer": "reasons",
        "lead_snapshot": "snapshot",
        "training_snapshots": "snapshot",
    },
)
