"""
The data check
==============

Before any analysis: which columns have gaps, which channels the leads come from, and how
many rows each table holds per month.
"""

import salesmkt

ds = salesmkt.load_sample()

# %%
# Missing values per column (the columns with the most gaps first)
salesmkt.plot_missing_values(salesmkt.missing_values(ds))

# %%
# The channel mix of leads and sessions
salesmkt.plot_channel_mix(salesmkt.channel_mix(ds))

# %%
# Rows per month in each table
salesmkt.plot_monthly_volume(salesmkt.monthly_volume(ds), tables=["leads", "sessions", "deals"])
