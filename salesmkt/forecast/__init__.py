"""Revenue forecast: the deals as they stood at a date (:mod:`~salesmkt.forecast.win`), win
probabilities and time to close of open deals, the Monte Carlo forecast of the period's
bookings against target and quota (:mod:`~salesmkt.forecast.revenue`), its backtest at past
dates (:mod:`~salesmkt.forecast.backtest`), and their charts.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "backtest_summary": "backtest",
        "checkin_forecast_line": "headlines",
        "forecast_at_risk": "headlines",
        "forecast_note": "headlines",
        "forecast_sentence": "headlines",
        "open_deals_summary": "headlines",
        "pipeline_decisions": "headlines",
        "pipeline_headline": "headlines",
        "report_forecast": "headlines",
        "pipeline_readiness": "headlines",
        "pipeline_review": "headlines",
        "PipelineReview": "headlines",
        "MIN_HISTORY_DAYS": "headlines",
        "forecast_backtest": "backtest",
        "plot_backtest": "plots",
        "plot_forecast_distribution": "plots",
        "plot_forecast_fan": "plots",
        "plot_win_curve": "plots",
        "Forecast": "revenue",
        "revenue_forecast": "revenue",
        "deal_win_probability": "win",
        "deals_as_of": "win",
        "open_deal_win_probability": "win",
        "stage_win_rates": "win",
        "time_to_close": "win",
    },
)
