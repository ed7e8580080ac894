"""GA4's default channel group: the rules (first match wins) and its map onto the channels.

Rules as in docs/exports.md (GA4); the site lists are approximations of Google's unpublished
ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CHANNEL_GROUPS", "default_channel_group"]

#: GA4 default channel group -> channel (docs/semantics/data.md, Channels).
CHANNEL_GROUPS: dict[str, str] = {
    "organic search": "organic_search",
    "paid search": "paid_search",
    "paid shopping": "paid_search",
    "organic social": "organic_social",
    "organic video": "organic_social",
    "paid social": "paid_social",
    "email": "email",
    "referral": "referral",
    "affiliates": "referral",
    "direct": "direct",
    "display": "display",
    "paid video": "display",
    "cross-network": "display",
    "paid other": "other",
    "organic shopping": "other",
    "audio": "other",
    "sms": "other",
    "mobile push notifications": "other",
    "unassigned": "other",
}
# Site lists: Google maintains the real ones and does not publish them whole; these hold the
# common sources, matched on a dot-separated part of the source (l.facebook.com -> facebook).
_SEARCH = "google|bing|yahoo|duckduckgo|baidu|yandex|ecosia|naver|seznam|qwant|search.brave|ask"
_SOCIAL = (
    "facebook|fb|instagram|linkedin|lnkd|twitter|t\\.co|x|reddit|pinterest|tiktok|snapchat|"
    "quora|threads|xing|mastodon|tumblr|whatsapp"
)
_VIDEO = "youtube|vimeo|twitch|dailymotion|wistia"
_SHOPPING = "amazon|ebay|etsy|shopping\\.google|shopify|walmart|mercadolibre|alibaba"
_PAID = r"^(?:.*cp.*|ppc|retargeting|paid.*)$"


def _site(pattern: str) -> str:
    return rf"(?:^|\.)(?:{pattern})(?:\.|$)"


def default_channel_group(source: pd.Series, medium: pd.Series, campaign: pd.Series) -> pd.Series:
    """GA4's default channel group rules (first match wins) on session source/medium/campaign.

    Examples
    --------
    >>> s = pd.Series
    >>> default_channel_group(s(["google", "(direct)", "facebook"]), s(["cpc", "(none)", "paid"]),
    ...                       s([None, None, None])).tolist()
    ['Paid Search', 'Direct', 'Paid Social']
    """
    src = source.astype("string").str.strip().str.lower().fillna("")
    med = medium.astype("string").str.strip().str.lower().fillna("")
    camp = campaign.astype("string").str.strip().str.lower().fillna("")

    def m(s: pd.Series, pattern: str) -> np.ndarray:
        return s.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)

    paid = m(med, _PAID)
    shop_camp = m(camp, r"^(?:.*(?:(?:[^a-df-z]|^)shop|shopping).*)$")
    shop, search = m(src, _site(_SHOPPING)), m(src, _site(_SEARCH))
    social, video = m(src, _site(_SOCIAL)), m(src, _site(_VIDEO))
    email_words = r"^(?:email|e-mail|e_mail|e mail)$"
    rules = [
        (
            "Direct",
            src.eq("(direct)").to_numpy() & med.isin(["(not set)", "(none)", ""]).to_numpy(),
        ),
        ("Cross-network", m(camp, "cross-network")),
        ("Paid Shopping", (shop | shop_camp) & paid),
        ("Paid Search", search & paid),
        ("Paid Social", social & paid),
        ("Paid Video", video & paid),
        (
            "Display",
            med.isin(["display", "banner", "expandable", "interstitial", "cpm"]).to_numpy(),
        ),
        ("Paid Other", paid),
        ("Organic Shopping", shop | shop_camp),
        (
            "Organic Social",
            social
            | med.isin(
                ["social", "social-network", "social-media", "sm", "social network", "social media"]
            ).to_numpy(),
        ),
        ("Organic Video", video | m(med, "video")),
        ("Organic Search", search | med.eq("organic").to_numpy()),
        ("Referral", med.isin(["referral", "app", "link"]).to_numpy()),
        ("Email", m(src, email_words) | m(med, email_words)),
        ("Affiliates", med.eq("affiliate").to_numpy()),
        ("Audio", med.eq("audio").to_numpy()),
        ("SMS", src.eq("sms").to_numpy() | med.eq("sms").to_numpy()),
        (
            "Mobile Push Notifications",
            m(med, r"push$") | m(med, "mobile|notification") | src.eq("firebase").to_numpy(),
        ),
    ]
    out = np.select([r for _, r in rules], [n for n, _ in rules], default="Unassigned")
    return pd.Series(out, index=source.index, dtype="string")
