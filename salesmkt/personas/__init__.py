"""Buyer personas: the model (:mod:`~salesmkt.personas.model`), choosing their number,
explaining them, persona cards, the persona file ``personas.yml`` and the workshop, and RFM
customer segments.
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "FIELD_TITLES": "cards",
        "persona_cards": "cards",
        "render_persona_cards": "cards",
        "persona_channels": "explain",
        "persona_funnel": "explain",
        "persona_outcomes": "explain",
        "persona_profiles": "explain",
        "persona_rules": "explain",
        "persona_summary": "explain",
        "load_personas": "file",
        "match_personas": "file",
        "merge_personas": "file",
        "retire_persona": "file",
        "save_personas": "file",
        "PersonaModel": "model",
        "persona_features": "model",
        "plot_k_selection": "plots",
        "plot_persona_card": "plots",
        "plot_persona_channels": "plots",
        "plot_persona_funnel": "plots",
        "plot_persona_map": "plots",
        "plot_persona_outcomes": "plots",
        "plot_persona_profiles": "plots",
        "plot_rfm_grid": "plots",
        "plot_silhouette": "plots",
        "RFM_SEGMENTS": "rfm_segments",
        "rfm": "rfm_segments",
        "rfm_coverage": "rfm_segments",
        "rfm_summary": "rfm_segments",
        "KSelection": "select",
        "choose_n_personas": "select",
        "too_few_for_personas": "select",
        "persona_crosstab": "views",
        "persona_projection": "views",
        "persona_silhouette": "views",
        "PersonaWorkshop": "workshop",
        "persona_workshop": "workshop",
    },
)
