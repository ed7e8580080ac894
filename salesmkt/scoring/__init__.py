"""Lead scoring: snapshots taken as of a date (:mod:`~salesmkt.scoring.snapshot`), the leakage
check (:mod:`~salesmkt.scoring.leakage`), the calibrated :class:`LeadScorer` and its time-based
validation (:mod:`~salesmkt.scoring.model`), and scores with reasons in plain words
(:mod:`~salesmkt.scoring.reasons`).
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "single_feature_auc": "leakage",
        "leakage_check": "leakage",
        "FewConversionsWarning": "model",
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
