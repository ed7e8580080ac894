"""salesmkt: one shared, data-driven picture for sales and marketing.

The public API is re-exported here and imported on first use, so ``import salesmkt`` stays
light (no plotting or notebook machinery is loaded until asked for).

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> sorted(ds.tables)[:3]
['assignments', 'campaigns', 'deals']
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API: dict[str, str] = {
    # data contract and loading
    "TABLES": "salesmkt.schema",
    "CHANNELS": "salesmkt.schema",
    "Dataset": "salesmkt.io",
    "load": "salesmkt.io",
    "load_sample": "salesmkt.io",
    "sample_dir": "salesmkt.io",
    "ValidationError": "salesmkt.validate",
    "validate_table": "salesmkt.validate",
    "validate_tables": "salesmkt.validate",
    "normalize_channels": "salesmkt.channels",
    # vendor exports (HubSpot, Salesforce, GA4) and column mappings
    "read_source": "salesmkt.sources",
    "convert_export": "salesmkt.sources",
    "ga4_tables": "salesmkt.sources.ga4",
    "load_mapping": "salesmkt.sources.mapping",
    "mapping_template": "salesmkt.sources.mapping_template",
    "write_mapping_template": "salesmkt.sources.mapping_template",
    # data check
    "table_overview": "salesmkt.datacheck",
    "missing_values": "salesmkt.datacheck",
    "channel_mix": "salesmkt.datacheck",
    "monthly_volume": "salesmkt.datacheck",
    "describe_findings": "salesmkt.datacheck",
    "missing_data": "salesmkt.datacheck",
    "plot_missing_values": "salesmkt.plotting.datacheck",
    "plot_channel_mix": "salesmkt.plotting.datacheck",
    "plot_monthly_volume": "salesmkt.plotting.datacheck",
    # event funnels
    "funnel": "salesmkt.funnels",
    "funnel_trends": "salesmkt.funnels",
    "time_to_convert": "salesmkt.funnels",
    "plot_funnel": "salesmkt.plotting.funnel",
    "plot_funnel_breakdown": "salesmkt.plotting.funnel",
    "plot_time_to_convert": "salesmkt.plotting.funnel",
    "plot_funnel_trends": "salesmkt.plotting.funnel",
    # lifecycle funnel, KPI catalog, targets and SLA
    "lifecycle_funnel": "salesmkt.lifecycle",
    "stage_durations": "salesmkt.lifecycle",
    "time_in_stage": "salesmkt.lifecycle",
    "stalled_leads": "salesmkt.lifecycle",
    "lead_segments": "salesmkt.lifecycle",
    "reached_stage": "salesmkt.lifecycle",
    "biggest_drop_offs": "salesmkt.lifecycle",
    "KPI_CATALOG": "salesmkt.kpis",
    "kpi_catalog": "salesmkt.kpis",
    "kpi_table": "salesmkt.kpis",
    "missing_kpi_inputs": "salesmkt.kpis",
    "cohort_retention": "salesmkt.kpis",
    "load_kpi_config": "salesmkt.targets",
    "save_kpi_config": "salesmkt.targets",
    "kpi_config_template": "salesmkt.targets",
    "suggest_targets": "salesmkt.targets",
    "scorecard": "salesmkt.targets",
    "sla_report": "salesmkt.targets",
    "sla_breaches": "salesmkt.targets",
    "apply_targets": "salesmkt.targets",
    "kpi_settings": "salesmkt.targets",
    "report_period": "salesmkt.targets",
    "scorecard_summary": "salesmkt.targets",
    "plot_kpi_trends": "salesmkt.plotting.kpis",
    "plot_lifecycle_funnel": "salesmkt.plotting.lifecycle",
    "plot_lifecycle_breakdown": "salesmkt.plotting.lifecycle",
    "plot_time_in_stage": "salesmkt.plotting.lifecycle",
    "scorecard_table": "salesmkt.plotting.kpis",
    "plot_kpi_trend": "salesmkt.plotting.kpis",
    "plot_cohort_retention": "salesmkt.plotting.kpis",
    "plot_sla_compliance": "salesmkt.plotting.kpis",
    # campaign evaluation: spend metrics, journeys, attribution, lift
    "spend_metrics": "salesmkt.campaigns",
    "referral_summary": "salesmkt.campaigns",
    "customer_conversions": "salesmkt.journeys",
    "build_journeys": "salesmkt.journeys",
    "path_counts": "salesmkt.journeys",
    "attribute": "salesmkt.attribution",
    "markov_removal_effects": "salesmkt.attribution",
    "markov_transition_matrix": "salesmkt.attribution",
    "conversion_lift": "salesmkt.lift",
    "conversion_rates": "salesmkt.lift",
    "prob_treatment_better": "salesmkt.lift",
    "sample_size": "salesmkt.lift",
    "revenue_lift": "salesmkt.lift",
    "holdout_test": "salesmkt.holdout",
    "holdout_summary": "salesmkt.holdout",
    "plot_spend_vs_return": "salesmkt.plotting.campaigns",
    "plot_cac_cpl": "salesmkt.plotting.campaigns",
    "plot_attribution": "salesmkt.plotting.campaigns",
    "plot_transitions": "salesmkt.plotting.campaigns",
    "plot_lift": "salesmkt.plotting.campaigns",
    "plot_conversion_rates": "salesmkt.plotting.campaigns",
    # personas and RFM
    "PersonaModel": "salesmkt.personas",
    "KSelection": "salesmkt.personas",
    "choose_n_personas": "salesmkt.personas",
    "too_few_for_personas": "salesmkt.personas",
    "persona_features": "salesmkt.personas",
    "persona_profiles": "salesmkt.personas",
    "persona_outcomes": "salesmkt.personas",
    "persona_rules": "salesmkt.personas",
    "persona_summary": "salesmkt.personas",
    "persona_funnel": "salesmkt.personas",
    "persona_channels": "salesmkt.personas",
    "persona_crosstab": "salesmkt.personas",
    "persona_cards": "salesmkt.personas",
    "render_persona_cards": "salesmkt.personas",
    "load_personas": "salesmkt.personas",
    "save_personas": "salesmkt.personas",
    "match_personas": "salesmkt.personas",
    "persona_workshop": "salesmkt.personas",
    "PersonaWorkshop": "salesmkt.personas",
    "persona_silhouette": "salesmkt.personas",
    "persona_projection": "salesmkt.personas",
    "rfm": "salesmkt.rfm_segments",
    "rfm_coverage": "salesmkt.rfm_segments",
    "RFM_SEGMENTS": "salesmkt.rfm_segments",
    "rfm_summary": "salesmkt.rfm_segments",
    "plot_k_selection": "salesmkt.plotting.personas",
    "plot_silhouette": "salesmkt.plotting.personas",
    "plot_persona_profiles": "salesmkt.plotting.personas",
    "plot_persona_map": "salesmkt.plotting.personas",
    "plot_persona_outcomes": "salesmkt.plotting.personas",
    "plot_persona_funnel": "salesmkt.plotting.personas",
    "plot_persona_card": "salesmkt.plotting.personas",
    "plot_persona_channels": "salesmkt.plotting.personas",
    "plot_rfm_grid": "salesmkt.plotting.rfm",
    # reports and sharing
    "run_reports": "salesmkt.report",
    "find_pii": "salesmkt.pii",
    "pii_columns": "salesmkt.pii",
    "pseudonymize": "salesmkt.pii",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'salesmkt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
