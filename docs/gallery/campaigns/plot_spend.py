"""
Spend and returns
=================

What each campaign cost against the revenue it returned, cost per lead and per customer by
channel, and conversion rates by channel.
"""

import salesmkt

ds = salesmkt.load_sample()

# %%
# Spend against attributed revenue per campaign
salesmkt.plot_spend_vs_return(salesmkt.spend_metrics(ds))

# %%
# Cost per lead and customer acquisition cost by channel
salesmkt.plot_cac_cpl(salesmkt.spend_metrics(ds, by="channel"))

# %%
# Lead-to-customer conversion by channel, with confidence intervals
salesmkt.plot_conversion_rates(salesmkt.conversion_rates(ds.leads, "channel"))
