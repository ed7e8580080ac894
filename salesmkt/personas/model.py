"""Data-driven buyer personas: segment leads, choose the number of personas, explain them.

:class:`PersonaModel` follows scikit-learn's estimator contract. It prepares numeric and
categorical lead attributes (see :mod:`salesmkt.personas.features`: log1p for skewed money
columns, standardisation, block-weighted one-hot categories), clusters them (k-means by
default; Gaussian mixture, HDBSCAN or k-prototypes as options) and describes each persona in a
tidy profile. :func:`choose_n_personas` compares k = 2..10 in one table, :func:`persona_summary`
joins outcomes (conversion, win rate, revenue, CAC) and the surrogate-tree rules, and the
persona file (:func:`load_personas`, :func:`save_personas`, :func:`match_personas`) keeps the
names and notes a workshop gives the personas across re-fits.

Personas are numbered by size: persona 0 is the largest (HDBSCAN's noise stays -1).

Examples
--------
>>> import salesmkt
>>> leads = salesmkt.load_sample().leads
>>> model = PersonaModel(n_personas=5, random_state=0).fit(leads)
>>> model.labels_.shape == (len(leads),)
True
>>> sorted(set(model.labels_.tolist()))
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from salesmkt.personas import features as pf
from salesmkt.personas.explain import persona_profiles

__all__ = ["PersonaModel", "persona_features"]

METHODS = ("kmeans", "gmm", "hdbscan", "kprototypes")


class PersonaModel(ClusterMixin, TransformerMixin, BaseEstimator):
    """Segment leads into personas.

    Parameters
    ----------
    n_personas : int, default 5
        Number of personas (not used by ``method="hdbscan"``, which finds its own number;
        see ``n_personas_``).
    features : list of str, optional
        Columns to segment on. Default: the attribute columns of the leads table (see
        :func:`persona_features`); for a numeric array, all its columns.
    categorical : list of str, optional
        Numeric columns to treat as categories (e.g. coded ratings). Text and boolean columns
        are always categorical.
    method : {"kmeans", "gmm", "hdbscan", "kprototypes"}, default "kmeans"
        ``"kmeans"``: :class:`sklearn.cluster.KMeans`. ``"gmm"``: a full-covariance
        :class:`sklearn.mixture.GaussianMixture` (soft membership via :meth:`predict_proba`).
        ``"hdbscan"``: :class:`sklearn.cluster.HDBSCAN`; leads in no dense region get -1.
        ``"kprototypes"``: ``kmodes``' k-prototypes on the scaled numeric features and the raw
        categories (needs the optional ``kmodes`` package), with
        γ = ``categorical_weight`` × 0.5 × mean std of the scaled numeric columns (Huang's
        default when the weight is 1).
    categorical_weight : float, default 1.0
        Total variance given to each categorical feature, relative to 1 for each standardised
        numeric feature.
    log_skewed : bool, default True
        log1p-transform non-negative numeric features whose skewness exceeds
        ``skew_threshold``.
    skew_threshold : float, default 1.0
    n_init : int, default 10
        Restarts of k-means / the mixture / k-prototypes.
    max_fit_rows : int, default 50_000
        Above this many leads the clusterer is fitted on a uniform random sample of this size
        and every lead is then assigned. The centres are means over thousands of leads each (a
        persona of 5 % has 2,500 in the sample), so their sampling error (σ/√n per feature,
        here 0.02 σ) is far below the distance between personas.
    min_cluster_size : int, optional
        HDBSCAN's smallest persona; default 2 % of the leads (at least 5).
    random_state : int, optional
        Controls every random choice (initialisation, subsample).

    Attributes
    ----------
    labels_ : ndarray of int
        Persona of every lead fitted (0 = largest).
    n_personas_ : int
    features_ : list of str
        The features used, numeric first.
    centers_ : ndarray (n_personas, n_prepared)
        Mean of each persona in the prepared (scaled) feature space.
    inertia_ : float
        Sum of squared distances of the leads to their persona centre (prepared space).
    profiles_ : DataFrame
        Tidy profile, see :func:`persona_profiles`.
    feature_plan_ : FeaturePlan
        How each feature was prepared (``feature_table_`` shows it as a DataFrame).
    estimator_ : the fitted clusterer.

    Examples
    --------
    >>> import salesmkt
    >>> model = PersonaModel(n_personas=5, random_state=0).fit(salesmkt.load_sample().leads)
    >>> model.profiles_.columns.tolist()[:5]
    ['persona', 'size', 'share', 'feature', 'kind']
    """

    def __init__(
        self,
        n_personas: int = 5,
        *,
        features: list[str] | None = None,
        categorical: list[str] | None = None,
        method: str = "kmeans",
        categorical_weight: float = 1.0,
        log_skewed: bool = True,
        skew_threshold: float = 1.0,
        n_init: int = 10,
        max_fit_rows: int = 50_000,
        min_cluster_size: int | None = None,
        random_state: int | None = None,
    ):
        self.n_personas = n_personas
        self.features = features
        self.categorical = categorical
        self.method = method
        self.categorical_weight = categorical_weight
        self.log_skewed = log_skewed
        self.skew_threshold = skew_threshold
        self.n_init = n_init
        self.max_fit_rows = max_fit_rows
        self.min_cluster_size = min_cluster_size
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # --- input -----------------------------------------------------------------------------

    def _frame(self, X, *, reset: bool) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            if reset:
                self.n_features_in_ = X.shape[1]
                cols = np.asarray(X.columns, dtype=object)
                if all(isinstance(c, str) for c in cols):
                    self.feature_names_in_ = cols
                elif hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            missing = [c for c in getattr(self, "features_", []) if c not in X.columns]
            if not reset and missing:
                raise ValueError(
                    f"leads: {', '.join(map(str, missing))} missing; PersonaModel was fitted "
                    f"on {', '.join(self.features_)}."
                )
            df = X
        else:
            arr = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan")
            names = getattr(self, "_array_columns", None)
            if reset or names is None:
                names = [f"x{i}" for i in range(arr.shape[1])]
                self._array_columns = names
            df = pd.DataFrame(arr, columns=names)
        if len(df) == 0:
            raise ValueError("leads: the table has no rows (0 samples); PersonaModel needs leads.")
        return df

    def _resolve_features(self, df: pd.DataFrame) -> list[str]:
        if self.features is not None:
            feats = list(self.features)
            absent = [f for f in feats if f not in df.columns]
            if absent:
                raise ValueError(
                    f"leads: feature column(s) {', '.join(absent)} not found; the table has "
                    f"{', '.join(map(str, df.columns[:15]))}."
                )
        else:
            feats = pf.default_features(df)
        if not feats:
            raise ValueError("leads: no usable feature columns; pass features=[...].")
        for f in feats:
            s = df[f]
            if pf.is_numeric(s) and np.isinf(s.astype("float64")).any():
                raise ValueError(f"leads.{f}: infinite values; replace them before segmenting.")
        return feats

    # --- fitting ---------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Prepare the features and cluster the leads; returns ``self``."""
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; choose one of {', '.join(METHODS)}.")
        df = self._frame(X, reset=True)
        k = int(self.n_personas)
        if self.method != "hdbscan" and len(df) < k:
            raise ValueError(f"n_samples={len(df)} should be >= n_personas={k}.")
        feats = self._resolve_features(df)
        plan = pf.plan_features(
            df,
            feats,
            categorical=self.categorical,
            log_skewed=self.log_skewed,
            skew_threshold=self.skew_threshold,
            categorical_weight=self.categorical_weight,
        )
        Z = pf.transform(plan, df)
        rng = np.random.default_rng(self.random_state)
        seed = int(rng.integers(2**31 - 1))
        fit_rows = np.arange(len(df))
        if len(df) > self.max_fit_rows:
            fit_rows = np.sort(rng.choice(len(df), self.max_fit_rows, replace=False))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # see choose_n_personas: threads hurt on a busy machine
            est, raw = self._cluster(plan, df, Z, fit_rows, seed)
        # number personas by size, largest first; noise (-1) stays -1
        ids, counts = np.unique(raw[raw >= 0], return_counts=True)
        order = ids[np.lexsort((ids, -counts))]
        mapping = np.full(int(raw.max(initial=0)) + 2, -1)
        mapping[order] = np.arange(len(order))
        self._raw_to_persona = mapping
        self.labels_ = np.where(raw >= 0, mapping[np.maximum(raw, 0)], -1)
        self.estimator_ = est
        self.feature_plan_ = plan
        self.features_ = plan.features
        self.n_personas_ = len(order)
        self.centers_ = (
            np.vstack([Z[self.labels_ == p].mean(axis=0) for p in range(self.n_personas_)])
            if self.n_personas_
            else np.empty((0, Z.shape[1]))
        )
        assigned = self.labels_ >= 0
        diff = Z[assigned] - self.centers_[self.labels_[assigned]]
        self.inertia_ = float(np.einsum("ij,ij->", diff, diff))
        self.profiles_ = persona_profiles(df, self.labels_, plan=plan)
        return self

    def _cluster(self, plan, df, Z, rows, seed):
        k, Zf = int(self.n_personas), Z[rows]
        if self.method == "kmeans":
            from sklearn.cluster import KMeans

            est = KMeans(k, n_init=self.n_init, random_state=seed).fit(Zf)
            return est, est.predict(Z)
        if self.method == "gmm":
            from sklearn.mixture import GaussianMixture

            est = GaussianMixture(
                k, covariance_type="full", reg_covar=1e-3, n_init=self.n_init, random_state=seed
            ).fit(Zf)
            return est, est.predict(Z)
        if self.method == "hdbscan":
            from sklearn.cluster import HDBSCAN

            size = self.min_cluster_size or max(5, int(0.02 * len(rows)))
            est = HDBSCAN(min_cluster_size=size, copy=True).fit(Zf)
            raw = np.full(len(df), -1)
            raw[rows] = est.labels_
            if len(rows) < len(df):  # the rest go to the nearest dense persona
                cents = np.vstack(
                    [Zf[est.labels_ == c].mean(0) for c in np.unique(est.labels_) if c >= 0]
                )
                rest = np.setdiff1d(np.arange(len(df)), rows)
                raw[rest] = _nearest(Z[rest], cents)
            return est, raw
        return self._kprototypes(plan, df, rows, seed)

    def _kprototypes(self, plan, df, rows, seed):
        try:
            from kmodes.kprototypes import KPrototypes
        except ImportError as exc:
            raise ImportError(
                "method='kprototypes' needs the optional package kmodes: pip install kmodes"
            ) from exc
        if not plan.categorical or not plan.numeric:
            raise ValueError(
                "method='kprototypes' needs numeric and categorical features; use 'kmeans'."
            )
        mixed = _kproto_matrix(plan, df)
        gamma = self.categorical_weight * 0.5 * 1.0  # scaled numeric columns have std 1
        est = KPrototypes(
            int(self.n_personas),
            init="Cao",
            n_init=self.n_init,
            gamma=gamma,
            random_state=seed,
            n_jobs=1,
        )
        ncat = len(plan.numeric)
        est.fit(mixed[rows], categorical=list(range(ncat, mixed.shape[1])))
        return est, np.asarray(est.predict(mixed, categorical=list(range(ncat, mixed.shape[1]))))

    # --- using the fitted model ------------------------------------------------------------

    def _prepared(self, X) -> tuple[pd.DataFrame, np.ndarray]:
        check_is_fitted(self, "labels_")
        df = self._frame(X, reset=False)
        return df, pf.transform(self.feature_plan_, df)

    def predict(self, X) -> np.ndarray:
        """Persona of each lead in ``X`` (new leads are prepared like the fitted ones).

        k-means, the mixture and k-prototypes use their own assignment rule; HDBSCAN personas
        are assigned by the nearest persona centre (new leads never get the noise label).
        """
        df, Z = self._prepared(X)
        if self.method in ("kmeans", "gmm"):
            raw = self.estimator_.predict(Z)
        elif self.method == "kprototypes":
            mixed = _kproto_matrix(self.feature_plan_, df)
            cat = list(range(len(self.feature_plan_.numeric), mixed.shape[1]))
            raw = np.asarray(self.estimator_.predict(mixed, categorical=cat))
        else:
            return _nearest(Z, self.centers_)
        return self._raw_to_persona[raw]

    @available_if(lambda self: self.method == "gmm")
    def predict_proba(self, X) -> np.ndarray:
        """Soft membership (columns = personas); only with ``method="gmm"``."""
        _, Z = self._prepared(X)
        raw = self.estimator_.predict_proba(Z)
        out = np.zeros_like(raw)
        out[:, self._raw_to_persona[: raw.shape[1]]] = raw
        return out

    def transform(self, X) -> np.ndarray:
        """Distance of each lead to each persona centre in the prepared feature space."""
        _, Z = self._prepared(X)
        d2 = (Z**2).sum(1)[:, None] - 2 * Z @ self.centers_.T + (self.centers_**2).sum(1)
        return np.sqrt(np.maximum(d2, 0))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``persona_<i>_distance`` for each persona."""
        check_is_fitted(self, "labels_")
        return np.array([f"persona_{i}_distance" for i in range(self.n_personas_)], dtype=object)

    @property
    def feature_table_(self) -> pd.DataFrame:
        """How each feature was prepared: kind, transform, skew, levels, weight, missing."""
        check_is_fitted(self, "labels_")
        return pf.describe_plan(self.feature_plan_)


def _kproto_matrix(plan: pf.FeaturePlan, df: pd.DataFrame) -> np.ndarray:
    mean = np.array([s.mean for s in plan.numeric])
    std = np.array([s.std for s in plan.numeric])
    num = (pf.numeric_values(plan, df) - mean) / std
    codes = pf.category_codes(plan, df)
    return np.hstack([num.astype(object), codes.astype(object)])


def _nearest(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d2 = (centers**2).sum(1)[None, :] - 2 * Z @ centers.T
    return np.argmin(d2, axis=1)


def persona_features(leads: pd.DataFrame, *, features: list[str] | None = None) -> pd.DataFrame:
    """The candidate persona features of a leads table and how they would be prepared.

    Returns
    -------
    DataFrame
        One row per feature: ``feature, kind, transform, skew, levels, weight, n_missing``.

    Examples
    --------
    >>> import salesmkt
    >>> table = persona_features(salesmkt.load_sample().leads)
    >>> "email" in set(table["feature"])
    False
    """
    pf_cols = features or pf.default_features(leads)
    return pf.describe_plan(pf.plan_features(leads, pf_cols))
