"""Personal data: find the columns that hold it and make sure reports do not show it.

Reports carry aggregates and persona-level figures only. :func:`pii_columns` flags columns
holding emails, phone numbers or person names (by name and by content); :func:`find_pii` scans
rendered text for any of those values and for anything shaped like an email address or phone
number. The report pipeline refuses to publish a report in which it finds any.

Examples
--------
>>> import pandas as pd
>>> leads = pd.DataFrame({"lead_id": ["L1"], "contact": ["ana@example.com"], "industry": ["Retail"]})
>>> pii_columns(leads)
['contact']
>>> find_pii("<p>Write to ana@example.com</p>", {"ana@example.com"})["kind"].tolist()
['email']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from salesmkt.data.engine import execute, is_table

__all__ = ["pii_columns", "pii_values", "find_pii", "pseudonymize"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d ()./-]{7,}\d(?![\w.])")
_NAME_HINTS = re.compile(
    r"(^|_)(e_?mail|phone|mobile|tel|telephone|full_?name|first_?name|last_?name|surname|"
    r"given_?name|contact_?name|person_?name|address|street)(_(address|addr|number|num|no))?$",
    re.IGNORECASE,
)
_BASE64 = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")
_TAGS = re.compile(r"<[^>]+>")


def pii_columns(df: pd.DataFrame) -> list[str]:
    """Columns of ``df`` that hold personal data (emails, phone numbers, person names).

    A column is flagged by its name (``email``, ``phone``, ``first_name``, ...) or when most of
    a sample of its text values look like email addresses or phone numbers.

    Examples
    --------
    >>> import salesmkt
    >>> pii_columns(salesmkt.load_sample().leads)
    ['full_name', 'email', 'phone']
    """
    flagged = []
    for col in df.columns:
        name = str(col)
        if _NAME_HINTS.search(re.sub(r"[\s\-.]+", "_", name.strip())):
            flagged.append(name)
            continue
        s = df[col]
        if not (pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)):
            continue
        sample = s.dropna().astype(str).head(200)
        if len(sample) == 0:
            continue
        looks = sample.str.fullmatch(_EMAIL.pattern) | sample.str.fullmatch(_PHONE.pattern)
        if looks.mean() > 0.5:
            flagged.append(name)
    return flagged


def pii_values(tables: Iterable[pd.DataFrame]) -> set[str]:
    """Every distinct personal value in the PII columns of ``tables`` (three characters or more).

    Examples
    --------
    >>> import salesmkt
    >>> len(pii_values(salesmkt.load_sample().tables.values())) > 1000
    True
    """
    values: set[str] = set()
    for df in tables:
        if is_table(df):  # kept in its database: its personal columns by name, values there
            cols = [c for c in df.columns if _NAME_HINTS.search(re.sub(r"[\s\-.]+", "_", c))]
            for col in cols:
                found = execute(df.select(col).distinct())[col].dropna().astype(str)
                values.update(v.strip() for v in found if len(v.strip()) >= 3)
            continue
        for col in pii_columns(df):
            values.update(v.strip() for v in df[col].dropna().astype(str) if len(v.strip()) >= 3)
    return values


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def find_pii(text: str, values: Iterable[str] = ()) -> pd.DataFrame:
    """Personal data found in ``text`` (an HTML page or any rendered output).

    Finds anything shaped like an email address, any phone number in ``values`` (compared by
    digits) and any other of ``values`` as a whole word sequence. Embedded images are skipped.

    Returns
    -------
    DataFrame
        One row per hit with ``kind`` (email, phone, value) and ``masked`` (the hit with most
        characters hidden, safe to print).

    Examples
    --------
    >>> find_pii("Top persona: Scaling founders", {"Ana Lima"}).empty
    True
    >>> find_pii("Owner: Ana  Lima", {"Ana Lima"})["masked"].tolist()
    ['A*******']
    """
    plain = _TAGS.sub(" ", _BASE64.sub(" ", text))
    values = set(values)
    hits: list[tuple[str, str]] = [("email", m) for m in _EMAIL.findall(plain)]
    phones = {_digits(v) for v in values if _PHONE.fullmatch(v) and len(_digits(v)) >= 7}
    hits += [("phone", m) for m in _PHONE.findall(plain) if _digits(m) in phones]
    words = re.findall(r"\w+", plain.lower())
    word_set = set(words)
    others = [v for v in values if not _EMAIL.fullmatch(v) and not _PHONE.fullmatch(v)]
    ngrams: dict[int, set[tuple[str, ...]]] = {}
    for v in others:
        toks = tuple(re.findall(r"\w+", v.lower()))
        if not toks or not set(toks) <= word_set:
            continue
        n = len(toks)
        if n not in ngrams:
            ngrams[n] = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
        if toks in ngrams[n]:
            hits.append(("value", v))
    return pd.DataFrame(
        {"kind": [k for k, _ in hits], "masked": [v[:1] + "*" * (len(v) - 1) for _, v in hits]},
        columns=["kind", "masked"],
    )


def pseudonymize(
    df: pd.DataFrame, columns: Iterable[str], *, salt: str, prefix: str | None = None
) -> pd.DataFrame:
    """A copy of ``df`` with ``columns`` replaced by stable pseudonyms (salted SHA-256).

    The same value and salt always give the same pseudonym, so joins between tables still
    work; without the salt the original cannot be looked up.

    Examples
    --------
    >>> import pandas as pd
    >>> out = pseudonymize(pd.DataFrame({"lead_id": ["L1", "L2", "L1"]}), ["lead_id"], salt="s")
    >>> out["lead_id"].nunique(), out["lead_id"].iloc[0] == out["lead_id"].iloc[2]
    (2, True)
    """
    import hashlib

    out = df.copy()
    for col in columns:

        def hide(v, col=col):
            digest = hashlib.sha256(f"{salt}\x00{v}".encode()).hexdigest()[:12]
            return f"{prefix or col}_{digest}"

        out[col] = df[col].map(hide, na_action="ignore").astype("string")
    return out
