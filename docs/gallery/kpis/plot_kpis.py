"""
KPI trends, retention and the SLA
=================================

Monthly KPIs from the catalog against a target, customer retention by cohort, and how often
sales answered marketing's leads within the SLA.
"""

import salesmkt

ds = salesmkt.load_sample()
table = salesmkt.kpi_table(ds, kpis=["win_rate", "cac", "cost_per_lead"], freq="M")

# %%
# One KPI against its target
salesmkt.plot_kpi_trend(table, "win_rate", target=0.3)

# %%
# Several KPIs, one small chart each
salesmkt.plot_kpi_trends(table, kpis=["win_rate", "cac", "cost_per_lead"])

# %%
# Share of each quarter's new customers who ordered again in later quarters
salesmkt.plot_cohort_retention(salesmkt.cohort_retention(ds.orders, freq="Q"))

# %%
# Compliance with the SLA terms (response time to marketing-qualified leads)
salesmkt.plot_sla_compliance(salesmkt.sla_report(ds))
