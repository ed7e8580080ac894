"""
The lifecycle funnel
====================

CRM leads through the stages lead, MQL, SQL, opportunity and customer: overall, by channel, and
the time leads spend in each stage.
"""

import salesmkt

leads = salesmkt.load_sample().leads

# %%
# Leads reaching each stage, with the drop-off between stages
salesmkt.plot_lifecycle_funnel(salesmkt.lifecycle_funnel(leads))

# %%
# Stage-to-stage conversion by channel
salesmkt.plot_lifecycle_breakdown(salesmkt.lifecycle_funnel(leads, by="channel"))

# %%
# Time in each stage of the leads that moved on
salesmkt.plot_time_in_stage(salesmkt.stage_durations(leads))
