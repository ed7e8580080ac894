"""Campaign evaluation: spend and returns (:mod:`~salesmkt.campaigns.spend`), customer
journeys, multi-touch attribution (rules, Markov, Shapley), lift tests, holdout groups and
experiment statistics (CUPED, delta method, sample-ratio check, confidence sequences), and
their charts.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "campaign_decisions": "headlines",
        "campaign_headline": "headlines",
        "channel_cost_finding": "headlines",
        "conversion_finding": "headlines",
        "spend_finding": "headlines",
        "MODELS": "attribution",
        "attribute": "attribution",
        "markov_removal_effects": "attribution",
        "markov_transition_matrix": "attribution",
        "adjust_p_values": "experiments",
        "confidence_sequence": "experiments",
        "cuped_lift": "experiments",
        "experiment_moments": "experiments",
        "ratio_lift": "experiments",
        "sample_ratio_check": "experiments",
        "sequential_verdict": "experiments",
        "holdout_people": "holdout",
        "holdout_summary": "holdout",
        "holdout_table": "holdout",
        "holdout_test": "holdout",
        "build_journeys": "journeys",
        "customer_conversions": "journeys",
        "journeys_note": "journeys",
        "path_counts": "journeys",
        "conversion_lift": "lift",
        "conversion_rates": "lift",
        "prob_treatment_better": "lift",
        "revenue_lift": "lift",
        "revenue_lift_from_buyers": "lift",
        "sample_size": "lift",
        "sample_size_mean": "lift",
        "plot_attribution": "plots",
        "plot_cac_cpl": "plots",
        "plot_conversion_rates": "plots",
        "plot_lift": "plots",
        "plot_spend_vs_return": "plots",
        "plot_transitions": "plots",
        "attributed_returns": "spend",
        "returns_note": "spend",
        "referral_summary": "spend",
        "spend_metrics": "spend",
    },
)
