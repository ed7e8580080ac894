"""Per-lead views of a fitted persona model for charts: silhouettes, a 2-D projection, and the
personas set against any other lead column.

Private to :mod:`salesmkt.personas`, which re-exports the public functions. Both work on a
random sample of leads (charts of more than a few thousand points say no more) and return
no lead identifiers, only personas and numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.personas import features as pf


def _sample(model, leads: pd.DataFrame, sample_size: int, random_state):
    labels = model.predict(leads)
    rng = np.random.default_rng(random_state)
    rows = np.arange(len(leads))
    if len(rows) > sample_size:
        rows = np.sort(rng.choice(len(rows), sample_size, replace=False))
    Z = pf.transform(model.feature_plan_, leads.iloc[rows])
    return Z, labels[rows]


def persona_silhouette(
    model, leads: pd.DataFrame, *, sample_size: int = 3000, random_state: int | None = 0
) -> pd.DataFrame:
    """Silhouette value of a random sample of leads under the model's personas.

    Silhouette s = (b − a) / max(a, b), where a is a lead's mean distance to its own persona
    and b to the nearest other persona (prepared feature space): near 1 clearly placed, near
    0 between two personas, negative closer to another persona.

    Returns
    -------
    DataFrame
        Columns ``persona, silhouette``, one row per sampled lead, sorted by persona then
        silhouette (descending).

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> leads = salesmkt.load_sample().leads
    >>> sil = persona_silhouette(PersonaModel(5, random_state=0).fit(leads), leads)
    >>> len(sil), bool(sil["silhouette"].between(-1, 1).all())
    (3000, True)
    """
    from sklearn.metrics import silhouette_samples

    Z, lab = _sample(model, leads, sample_size, random_state)
    ok = lab >= 0
    s = np.full(len(lab), np.nan)
    if len(np.unique(lab[ok])) > 1:
        s[ok] = silhouette_samples(Z[ok], lab[ok])
    out = pd.DataFrame({"persona": lab, "silhouette": s})
    return out.sort_values(["persona", "silhouette"], ascending=[True, False], ignore_index=True)


def persona_projection(
    model, leads: pd.DataFrame, *, sample_size: int = 3000, random_state: int | None = 0
) -> pd.DataFrame:
    """A 2-D map of leads: the first two principal components of the prepared features.

    Returns
    -------
    DataFrame
        Columns ``persona, x, y`` for a random sample of leads, plus one row per persona centre
        with ``kind = "centre"`` (``kind`` is ``"lead"`` otherwise); ``explained`` holds the
        share of variance the two axes show (the same on every row).

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> leads = salesmkt.load_sample().leads
    >>> proj = persona_projection(PersonaModel(5, random_state=0).fit(leads), leads)
    >>> proj["kind"].value_counts().to_dict()
    {'lead': 3000, 'centre': 5}
    """
    from sklearn.decomposition import PCA

    Z, lab = _sample(model, leads, sample_size, random_state)
    pca = PCA(2, random_state=0).fit(Z)
    xy = pca.transform(Z)
    cxy = pca.transform(model.centers_)
    out = pd.concat(
        [
            pd.DataFrame({"persona": lab, "x": xy[:, 0], "y": xy[:, 1], "kind": "lead"}),
            pd.DataFrame(
                {"persona": np.arange(len(cxy)), "x": cxy[:, 0], "y": cxy[:, 1], "kind": "centre"}
            ),  # fmt: skip
        ],
        ignore_index=True,
    )
    out["explained"] = float(pca.explained_variance_ratio_.sum())
    return out


def persona_crosstab(leads: pd.DataFrame, labels, *, column: str) -> pd.DataFrame:
    """Personas against another column of the leads: leads per persona and value, the share of
    the persona's leads with that value and the lift against all leads (1.5: half again as
    common as among all leads). Missing values show as ``"(missing)"``.

    Use it to set personas found on some attributes against a label the data already carry
    (a sales team's own profile of each customer, a region, a product line).

    Returns
    -------
    DataFrame
        Columns ``persona, <column>, leads, share, lift``; one row per persona and value.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> big = (leads["company_size"] > 1000).astype(int)
    >>> t = persona_crosstab(leads, big, column="region")
    >>> t.groupby("persona")["share"].sum().round(6).tolist()
    [1.0, 1.0]
    >>> bool(t["leads"].sum() == len(leads))
    True
    """
    from salesmkt.data.validate import check_columns

    check_columns(leads, "leads", [column], caller="persona_crosstab")
    lab = np.asarray(labels)
    if lab.shape != (len(leads),):
        raise ValueError(
            f"persona_crosstab: labels has {lab.shape[0] if lab.ndim else 0} values for "
            f"{len(leads)} leads; pass one persona per lead, in the leads' row order."
        )
    values = leads[column].astype("string").fillna("(missing)").to_numpy()
    counts = pd.crosstab(lab.astype(np.int64), values)
    share = counts.div(counts.sum(axis=1), axis=0)
    overall = counts.sum() / counts.to_numpy().sum()
    lift = share / overall
    return pd.DataFrame(
        {
            "persona": np.repeat(counts.index.to_numpy(), counts.shape[1]),
            column: np.tile(counts.columns.astype(str), counts.shape[0]),
            "leads": counts.to_numpy().ravel(),
            "share": share.to_numpy().ravel(),
            "lift": lift.to_numpy().ravel(),
        }
    )
