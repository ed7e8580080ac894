"""
Event funnels
=============

The share of people who go from visiting the pricing page to purchasing within 30 days, how
the funnel differs between two halves of the year, and how long conversion takes.
"""

import salesmkt

events = salesmkt.load_sample().events
steps = ["visit_pricing", "start_trial", "activate", "purchase"]

# %%
# The funnel: people reaching each step, in order, within the window
salesmkt.plot_funnel(salesmkt.funnel(events, steps, window="30D"))

# %%
# The same funnel broken down by a column (here: first or second half of the year)
halves = events.assign(half=events["ts"].dt.month.le(6).map({True: "Jan-Jun", False: "Jul-Dec"}))
salesmkt.plot_funnel_breakdown(salesmkt.funnel(halves, steps, window="30D", by="half"))

# %%
# Time from the first step to the last, for those who converted
salesmkt.plot_time_to_convert(salesmkt.time_to_convert(events, steps[:2], window="30D"))

# %%
# Conversion by month of entry
salesmkt.plot_funnel_trends(salesmkt.funnel_trends(events, steps[:2], window="30D", freq="M"))
