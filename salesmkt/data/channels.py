"""The channel vocabulary and the mapping of exported source names onto it.

Exports name channels many ways (``"Organic Search"``, ``"ORGANIC_SEARCH"``, ``"cpc"``,
``"Paid Social"``, ``"Web"``). :func:`normalize_channels` maps them onto
:data:`salesmkt.data.schema.CHANNELS`; values it does not know become ``"other"`` and are reported.

Examples
--------
>>> import pandas as pd
>>> values, unknown = normalize_channels(pd.Series(["Organic Search", "cpc", "Carrier pigeon"]))
>>> values.tolist()
['organic_search', 'paid_search', 'other']
>>> unknown.tolist()
[False, False, True]
"""

from __future__ import annotations

import pandas as pd

from salesmkt.data.schema import CHANNELS

__all__ = ["CHANNEL_GROUPS", "SYNONYMS", "normalize_channels"]

#: Channel groups used by traffic and CAC KPIs (docs/semantics/kpis.md); ``kpis.yml`` may override them.
CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "paid": ("paid_search", "paid_social", "display"),
    "organic": ("organic_search",),
}

#: Exported names (lower case, spaces and dashes as underscores) and their channel.
SYNONYMS: dict[str, str] = {
    # search
    "organic": "organic_search",
    "seo": "organic_search",
    "search": "organic_search",
    "organic_searches": "organic_search",
    "cpc": "paid_search",
    "ppc": "paid_search",
    "sem": "paid_search",
    "paid": "paid_search",
    "paidsearch": "paid_search",
    "google_ads": "paid_search",
    "adwords": "paid_search",
    # social
    "social": "organic_social",
    "social_media": "organic_social",
    "organic_social_media": "organic_social",
    "paid_social_media": "paid_social",
    "paidsocial": "paid_social",
    "social_paid": "paid_social",
    "linkedin_ads": "paid_social",
    "facebook_ads": "paid_social",
    # email
    "e_mail": "email",
    "email_marketing": "email",
    "newsletter": "email",
    # referral
    "referrals": "referral",
    "partner": "referral",
    "word_of_mouth": "referral",
    "employee_referral": "referral",
    "external_referral": "referral",
    "partner_referral": "referral",
    # direct
    "direct_traffic": "direct",
    "(direct)": "direct",
    "(none)": "direct",
    "none": "direct",
    "web": "direct",
    # display
    "banner": "display",
    "cpm": "display",
    "programmatic": "display",
    "other_publicities": "display",
    # events
    "event": "events",
    "trade_show": "events",
    "tradeshow": "events",
    "webinar": "events",
    "seminar": "events",
    "conference": "events",
    # other
    "offline": "other",
    "offline_sources": "other",
    "unknown": "other",
    "other_campaigns": "other",
}


def normalize_channels(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Map exported channel names onto the vocabulary.

    Parameters
    ----------
    values : Series
        Channel names as exported.

    Returns
    -------
    (Series, Series)
        The channel per row as pandas ``string`` (missing stays missing), and a boolean mask of
        the rows whose name was not recognised and became ``"other"``.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_channels(pd.Series(["Paid Social", None]))[0].tolist()
    ['paid_social', <NA>]
    """
    key = values.astype("string").str.strip().str.lower().str.replace(r"[\s\-/]+", "_", regex=True)
    key = key.mask(key.eq(""))
    mapped = key.where(key.isin(CHANNELS), key.map(SYNONYMS))
    unknown = key.notna() & mapped.isna()
    return mapped.fillna(key.where(~unknown, "other")).astype("string"), unknown.fillna(False)
