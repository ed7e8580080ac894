"""Enough to learn from: the conversions and leads a lead score needs, and the warning when a
table has fewer.

The minimums follow Salesforce Einstein Lead Scoring (about 1,000 leads and 120 conversions).
Below them a score and its quality figures vary a lot from one sample to the next. The model
(:class:`~salesmkt.scoring.model.LeadScorer`), its time-based validation and the quality report
all warn through :func:`warn_too_few_conversions`, with one message and one warning class.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = [
    "MIN_CONVERSIONS",
    "MIN_LEADS",
    "TooFewConversionsWarning",
    "too_few_conversions",
    "warn_too_few_conversions",
]

#: Conversions and leads a lead score needs to learn from (Salesforce Einstein Lead Scoring asks
#: for about 1,000 leads and 120 conversions).
MIN_CONVERSIONS = 120
MIN_LEADS = 1000


class TooFewConversionsWarning(UserWarning):
    """Too few conversions (or leads) to learn a lead score from; the message gives the numbers."""


def too_few_conversions(
    y, *, min_conversions: int = MIN_CONVERSIONS, min_leads: int = MIN_LEADS
) -> str | None:
    """A message when there are too few conversions or leads to learn a score from, else None.

    ``y`` holds the outcomes (booleans or 0/1; missing values count as leads, not conversions).

    Examples
    --------
    >>> too_few_conversions([1] * 40 + [0] * 600)
    'Only 40 conversions among 640 leads: a lead score needs about 120 conversions and 1,000 leads to learn from, so read this score and its quality figures as indicative.'
    >>> too_few_conversions([1] * 150 + [0] * 1000) is None
    True
    """
    s = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y)
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("Float64")
    yv = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    k, n = int(np.nansum(yv)), len(yv)
    if k >= min_conversions and n >= min_leads:
        return None
    return (
        f"Only {k:,} conversions among {n:,} leads: a lead score needs about "
        f"{min_conversions:,} conversions and {min_leads:,} leads to learn from, so read this "
        "score and its quality figures as indicative."
    )


def warn_too_few_conversions(
    y, *, min_conversions: int = MIN_CONVERSIONS, min_leads: int = MIN_LEADS, stacklevel: int = 2
) -> str | None:
    """Emit :class:`TooFewConversionsWarning` (a ``UserWarning``) when
    :func:`too_few_conversions` has a message; return the message (or None).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = warn_too_few_conversions([1, 0, 0])
    >>> caught[0].category.__name__
    'TooFewConversionsWarning'
    """
    message = too_few_conversions(y, min_conversions=min_conversions, min_leads=min_leads)
    if message:
        warnings.warn(message, TooFewConversionsWarning, stacklevel=stacklevel + 1)
    return message
