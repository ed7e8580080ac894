"""Lead scoring: the score's quality (:mod:`~salesmkt.scoring.quality`), drift of its inputs
(:mod:`~salesmkt.scoring.drift`), the MQL threshold from the sales-marketing agreement
(:mod:`~salesmkt.scoring.threshold`) and their charts.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "population_stability": "drift",
        "stability_bins": "drift",
        "plot_calibration": "plots",
        "plot_gain_lift": "plots",
        "plot_score_distribution": "plots",
        "plot_threshold_tradeoff": "plots",
        "TooFewConversionsWarning": "quality",
        "calibration_table": "quality",
        "gain_lift": "quality",
        "model_quality": "quality",
        "score_by_group": "quality",
        "too_few_conversions": "quality",
        "warn_too_few_conversions": "quality",
        "mql_leads": "threshold",
        "mql_threshold": "threshold",
        "threshold_sentence": "threshold",
        "threshold_tradeoff": "threshold",
    },
)
