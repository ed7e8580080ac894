"""Per-lead views of a fitted persona model for charts: silhouettes and a 2-D projection.

Private to :mod:`salesmkt.personas`, which re-exports the public functions. Both work on a
random sample of leads (charts of more than a few thousand points say no more) and return
no lead identifiers, only personas and numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt import _persona_features as pf


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
