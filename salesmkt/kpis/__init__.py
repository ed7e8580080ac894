"""KPIs shared by sales and marketing: the catalog and its computation
(:mod:`~salesmkt.kpis.compute`), targets and ``kpis.yml`` (:mod:`~salesmkt.kpis.config`), the
scorecard and the SLA (:mod:`~salesmkt.kpis.targets`), and their charts.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "checkin_decisions": "headlines",
        "checkin_headline": "headlines",
        "kpi_decisions": "headlines",
        "kpi_headline": "headlines",
        "scorecard_changes": "headlines",
        "scorecard_finding": "headlines",
        "sla_finding": "headlines",
        "KPI_CATALOG": "compute",
        "cohort_retention": "compute",
        "kpi_catalog": "compute",
        "kpi_table": "compute",
        "missing_kpi_inputs": "compute",
        "KPIConfigError": "config",
        "amount_settings": "config",
        "kpi_config_template": "config",
        "load_kpi_config": "config",
        "save_kpi_config": "config",
        "plot_cohort_retention": "plots",
        "plot_kpi_trend": "plots",
        "plot_kpi_trends": "plots",
        "plot_sla_compliance": "plots",
        "scorecard_table": "plots",
        "apply_targets": "setup",
        "report_period": "setup",
        "scorecard_summary": "setup",
        "cost_basis": "targets",
        "kpi_settings": "targets",
        "scorecard": "targets",
        "sla_breaches": "targets",
        "sla_report": "targets",
        "suggest_targets": "targets",
    },
)
