"""Funnels: event funnels over tracked events (:mod:`~salesmkt.funnels.events`) and the
lifecycle funnel of CRM leads with stage timing (:mod:`~salesmkt.funnels.lifecycle`,
:mod:`~salesmkt.funnels.stage_time`), and their charts (:mod:`~salesmkt.funnels.plots`).
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "drop_off_finding": "headlines",
        "funnel_finding": "headlines",
        "stalled_finding": "headlines",
        "funnel": "events",
        "funnel_trends": "events",
        "time_to_convert": "events",
        "biggest_drop_offs": "lifecycle",
        "funnel_coverage": "lifecycle",
        "lead_segments": "lifecycle",
        "lifecycle_funnel": "lifecycle",
        "plot_funnel": "plots",
        "plot_funnel_breakdown": "plots",
        "plot_funnel_trends": "plots",
        "plot_lifecycle_breakdown": "plots",
        "plot_lifecycle_funnel": "plots",
        "plot_time_in_stage": "plots",
        "plot_time_to_convert": "plots",
        "stage_durations": "stage_time",
        "stalled_leads": "stage_time",
        "time_in_stage": "stage_time",
    },
)
