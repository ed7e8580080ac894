"""
Personas
========

How many personas the data supports, what sets each apart, where they lie, and how they buy.
"""

import salesmkt

ds = salesmkt.load_sample()
leads = ds.leads
model = salesmkt.PersonaModel(5, random_state=0).fit(leads)

# %%
# Choosing the number of personas: fit, separation and stability for each k
selection = salesmkt.choose_n_personas(
    leads, k_range=range(3, 7), n_bootstrap=5, n_references=3, random_state=0
)
salesmkt.plot_k_selection(selection)

# %%
# Silhouette of each lead in its persona
salesmkt.plot_silhouette(salesmkt.persona_silhouette(model, leads))

# %%
# What sets each persona apart (standardised feature means)
salesmkt.plot_persona_profiles(model.profiles_)

# %%
# The leads on a two-dimensional projection, coloured by persona
salesmkt.plot_persona_map(salesmkt.persona_projection(model, leads))
