"""
Attribution and lift
====================

Credit for conversions by channel under several attribution models, the Markov chain's
transitions between channels, and the lift of a campaign with a holdout group.
"""

import salesmkt

ds = salesmkt.load_sample()
conversions = salesmkt.customer_conversions(ds.leads, ds.deals)
journeys = salesmkt.build_journeys(ds.touchpoints, conversions, lookback_days=365)

# %%
# Conversions credited to each channel, model by model
credit = salesmkt.attribute(journeys, models=["first_touch", "last_touch", "linear", "markov"])
salesmkt.plot_attribution(credit)

# %%
# Transition probabilities of the first-order Markov chain
salesmkt.plot_transitions(salesmkt.markov_transition_matrix(journeys))

# %%
# Lift of a treated group over its holdout: 90 conversions of 1,000 against 50 of 1,000
salesmkt.plot_lift(salesmkt.conversion_lift(50, 1000, 90, 1000))
