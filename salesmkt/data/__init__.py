"""The data contract and the business definitions every analysis shares.

The canonical tables and their rules (:mod:`~salesmkt.data.schema`), validation with errors that
name table, column and rows (:mod:`~salesmkt.data.validate`), the channel vocabulary, reading
files and databases, personal-data detection, reporting periods, the data check, and the
definitions of a won deal, a new customer, a reached stage and a retained customer.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "check_decisions": "check",
        "check_headline": "check",
        "missing_finding": "check",
        "mix_finding": "check",
        "overview_finding": "check",
        "volume_finding": "check",
        "normalize_channels": "channels",
        "channel_mix": "check",
        "describe_findings": "check",
        "missing_data": "check",
        "missing_values": "check",
        "monthly_volume": "check",
        "table_overview": "check",
        "Dataset": "dataset",
        "read_tables": "files",
        "RETENTION_LABELS": "definitions",
        "active_customers": "definitions",
        "contract_terms": "definitions",
        "customer_key": "definitions",
        "customer_retention": "definitions",
        "first_order_cohort": "definitions",
        "new_customers": "definitions",
        "order_customer_type": "definitions",
        "revenue_retention": "definitions",
        "won_deals": "definitions",
        "find_pii": "pii",
        "pii_columns": "pii",
        "pseudonymize": "pii",
        "plot_channel_mix": "plots",
        "plot_missing_values": "plots",
        "plot_monthly_volume": "plots",
        "CHANNELS": "schema",
        "STAGES": "schema",
        "TABLES": "schema",
        "leads_reached": "stages",
        "reached_stage": "stages",
        "stage_entries": "stages",
        "Finding": "validate",
        "ValidationError": "validate",
        "check_columns": "validate",
        "validate_table": "validate",
        "validate_tables": "validate",
    },
)
