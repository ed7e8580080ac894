"""
Persona outcomes, cards and RFM
===============================

How each persona converts and through which channels, one persona's card, and RFM segments of
customers.
"""

import salesmkt

ds = salesmkt.load_sample()
leads = ds.leads
model = salesmkt.PersonaModel(5, random_state=0).fit(leads)

# %%
# Win rate and deal size by persona
salesmkt.plot_persona_outcomes(salesmkt.persona_outcomes(ds, model.labels_))

# %%
# The lifecycle funnel of each persona
salesmkt.plot_persona_funnel(salesmkt.persona_funnel(leads, model.labels_))

# %%
# Channels each persona comes through
salesmkt.plot_persona_channels(salesmkt.persona_channels(leads, model.labels_))

# %%
# The card of the first persona
salesmkt.plot_persona_card(salesmkt.persona_cards(model, leads, dataset=ds), 0)

# %%
# RFM: customers by recency and frequency score
salesmkt.plot_rfm_grid(salesmkt.rfm(ds.orders, bins={"frequency": [2, 3, 4, 6]}))
