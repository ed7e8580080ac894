"""The lead score: a calibrated scikit-learn classifier for mixed lead tables, and its
time-based validation.

:class:`LeadScorer` takes a DataFrame of numbers, booleans and text (categories), with missing
values, and returns calibrated probabilities. Gradient boosting
(:class:`~sklearn.ensemble.HistGradientBoostingClassifier`, categories handled natively) is the
default; a logistic regression (one-hot categories, scaled numbers) is the readable
alternative. :func:`time_split_validation` trains on earlier cohorts and tests on later ones,
for the boosting, the logistic model and a base-rate baseline on the same folds.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from threadpoolctl import threadpool_limits

from salesmkt.scoring.minimums import TooFewConversionsWarning, warn_too_few_conversions

__all__ = [
    "LeadScorer",
    "time_split_validation",
]

_MODELS = ("boosting", "logistic")
_MISSING = "(missing)"


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(np.shape(X)[1])])


def _prepare(X: pd.DataFrame, categorical: list[str], numeric: list[str]) -> pd.DataFrame:
    """Numbers as float (booleans 0/1, pandas NA as NaN), categories as pandas categoricals of
    their text (missing as ``"(missing)"``): encoded once, never as a million Python
    strings."""
    out = {}
    for c in numeric:
        s = X[c]
        if s.dtype.kind == "f":
            out[c] = s.to_numpy(dtype=float, copy=False)
        else:
            out[c] = pd.to_numeric(s.astype("Float64"), errors="raise").to_numpy(
                dtype=float, na_value=np.nan
            )
    for c in categorical:
        s = X[c]
        if not isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype("category")
        cats = s.cat.categories
        if not (cats.dtype == object and all(isinstance(v, str) for v in cats)):
            s = s.cat.rename_categories([str(v) for v in cats]) if len(cats) else s
            if s.cat.categories.duplicated().any():  # 1 and "1" both become "1"
                s = s.astype(str).where(s.notna()).astype("category")
        if s.isna().any():
            if _MISSING not in s.cat.categories:
                s = s.cat.add_categories([_MISSING])
            s = s.fillna(_MISSING)
        out[c] = s.array
    return pd.DataFrame(out, index=X.index)[list(X.columns)]


class _CategoryCodes(TransformerMixin, BaseEstimator):
    """Ordinal codes of categorical columns for the boosting's native categories: the
    ``max_categories - 1`` most frequent values keep a code each, rarer ones share the last,
    values unseen in training are missing (NaN). Works on category codes, so a million rows
    cost a few array operations, not a million string look-ups."""

    def __init__(self, max_categories: int = 250):
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y=None):
        self.categories_, self.lookup_ = [], []
        for c in X.columns:
            s = X[c]
            counts = np.bincount(s.cat.codes.to_numpy()[s.cat.codes.to_numpy() >= 0],
                                 minlength=len(s.cat.categories))  # fmt: skip
            seen = np.flatnonzero(counts > 0)
            cats = s.cat.categories[seen]
            lut = np.arange(len(seen), dtype=float)
            if len(seen) > self.max_categories:
                order = np.argsort(-counts[seen], kind="stable")
                keep = np.sort(order[: self.max_categories - 1])
                lut[:] = self.max_categories - 1
                lut[keep] = np.arange(len(keep))
            self.categories_.append(pd.Index(cats))
            self.lookup_.append(np.append(lut, np.nan))  # code -1 (unseen) -> NaN
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(X), len(self.categories_)))
        for j, (c, cats) in enumerate(zip(X.columns, self.categories_, strict=True)):
            s = X[c]
            if s.cat.categories.equals(cats):
                codes = s.cat.codes.to_numpy()
            else:
                codes = cats.get_indexer(s.cat.categories)
                codes = np.append(codes, -1)[s.cat.codes.to_numpy()]
            out[:, j] = self.lookup_[j][codes]
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class LeadScorer(ClassifierMixin, BaseEstimator):
    """Calibrated probability that a lead converts, from a mixed lead table.

    Parameters
    ----------
    model : {"boosting", "logistic"}
        ``"boosting"``: :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with native
        categories (text columns ordinal-encoded, rare values grouped, missing values kept as
        missing). ``"logistic"``: one-hot categories, median-imputed and scaled numbers (with a
        missing-value indicator), :class:`~sklearn.linear_model.LogisticRegression`.
    calibration : {"auto", "isotonic", "sigmoid"}
        How probabilities are calibrated (:class:`~sklearn.calibration.CalibratedClassifierCV`).
        ``"auto"``: isotonic when each calibration fold holds at least 1,000 rows and 100
        conversions, else sigmoid (isotonic over-fits small samples).
    cv : int
        Calibration folds (below ``holdout_from`` rows). Without ``time_column``: stratified
        folds, the final model fitted on all rows (``cv + 1`` fits). With it: time-ordered
        folds (fit on earlier cohorts, calibrate on the next), the calibrated fold models
        averaged (``cv`` fits).
    holdout_from : int or None
        From this many rows (default 100,000) the probabilities are calibrated on one holdout
        instead of folds: the model is fitted once on 80 % of the rows and calibrated on the
        other 20 % (with ``time_column``: the latest cohorts, about 20 % of the rows, so the
        calibration is learned on the most recent leads; without it a stratified 20 %). The
        model is not refitted on all rows, so the calibration belongs to the model that is
        used. One fit instead of ``cv + 1``; a 20 % holdout of 100,000 rows is ample for
        isotonic calibration. ``None``: always folds.
    time_column : str, optional
        A column of ``X`` holding the cohort date of each row (e.g. a snapshot's ``as_of``);
        used to order the calibration folds, never as a feature.
    max_iter, learning_rate, max_leaf_nodes, l2_regularization : boosting settings
    C : float
        Inverse regularisation of the logistic model.
    random_state : int
    n_jobs : int or None
        Threads for gradient boosting (fitting and predicting). ``None`` (default) means one,
        as in scikit-learn; ``-1`` all cores. One thread is the safe default on a shared
        machine: on a loaded 2-core machine, two OpenMP threads waiting on each other made a
        100,000-row fit 8 times slower than one thread.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ : as every scikit-learn classifier
    features_ : list of str
        The feature columns (``feature_names_in_`` without ``time_column``).
    categorical_ : list of str
        The features treated as categories.
    calibration_method_ : str
    calibration_split_ : str
        How the calibration rows were held out: ``"folds"``, ``"time folds"``, ``"holdout"``,
        ``"time holdout"`` or ``"none"`` (too few of a class to hold any out).
    calibrated_ : CalibratedClassifierCV

    Examples
    --------
    >>> import salesmkt, warnings
    >>> from salesmkt.scoring.snapshot import training_snapshots
    >>> snaps = training_snapshots(salesmkt.load_sample(), dates="QS")
    >>> train = snaps[snaps["label"].notna()]
    >>> X, y = train.drop(columns=["lead_id", "label"]), train["label"].astype(bool)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     scorer = LeadScorer(time_column="as_of", max_iter=20).fit(X, y)
    >>> p = scorer.predict_proba(X)[:, 1]
    >>> bool(abs(p.mean() - y.mean()) < 0.01), scorer.classes_.tolist()
    (True, [False, True])
    """

    def __init__(
        self,
        model: str = "boosting",
        *,
        calibration: str = "auto",
        cv: int = 3,
        time_column: str | None = None,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 1.0,
        C: float = 0.1,
        random_state: int | None = 0,
        holdout_from: int | None = 100_000,
        n_jobs: int | None = None,
    ):
        self.model = model
        self.calibration = calibration
        self.cv = cv
        self.time_column = time_column
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.C = C
        self.random_state = random_state
        self.holdout_from = holdout_from
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    # -- inputs ---------------------------------------------------------------------------
    def _validate(self, X, y=None, *, reset: bool):
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise ValueError(f"Found array with shape {X.shape}: LeadScorer needs data")
            frame = X
        else:
            arr = validate_data(
                self, X, reset=reset, dtype="numeric", ensure_all_finite="allow-nan"
            )
            frame = _as_frame(arr)
        if y is None:
            return frame
        y = column_or_1d(y, warn=True)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)} values")
        check_classification_targets(y)
        return frame, y

    def _pipeline(self, numeric: list[str], categorical: list[str]) -> Pipeline:
        if self.model == "boosting":
            prep = ColumnTransformer(
                [
                    ("num", "passthrough", numeric),
                    ("cat", _CategoryCodes(max_categories=250), categorical),
                ],
                verbose_feature_names_out=False,
            )
            mask = [False] * len(numeric) + [True] * len(categorical)
            est = HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                l2_regularization=self.l2_regularization,
                categorical_features=mask if any(mask) else None,
                early_stopping=False,
                random_state=self.random_state,
            )
        elif self.model == "logistic":
            num = Pipeline(
                [
                    ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                    ("scale", StandardScaler()),
                ]
            )
            prep = ColumnTransformer(
                [
                    ("num", num, numeric),
                    (
                        "cat",
                        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5),
                        categorical,
                    ),
                ],
                verbose_feature_names_out=False,
            )
            est = LogisticRegression(C=self.C, max_iter=2000)
        else:
            raise ValueError(f"LeadScorer: model must be one of {_MODELS}, got {self.model!r}")
        return Pipeline([("prep", prep), ("model", est)])

    def _splits(self, time: pd.Series | None, y: np.ndarray, n_splits: int):
        if time is None:
            from sklearn.model_selection import StratifiedKFold

            return StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
        order = np.sort(pd.unique(time.to_numpy()))
        if len(order) < n_splits + 1:
            raise ValueError(
                f"LeadScorer: time column {self.time_column!r} has {len(order)} distinct "
                f"dates, {n_splits + 1} are needed for {n_splits} time-ordered calibration folds"
            )
        blocks = np.array_split(order, n_splits + 1)
        t = time.to_numpy()
        out = []
        for k in range(1, n_splits + 1):
            train = np.flatnonzero(t < blocks[k][0])
            test = np.flatnonzero(np.isin(t, blocks[k]))
            out.append((train, test))
        return out

    # -- fitting --------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit the model and calibrate its probabilities.

        Parameters
        ----------
        X : DataFrame or array, one row per lead
        y : array of labels (booleans for "converted")
        """
        if y is None:
            raise ValueError("LeadScorer requires y to be passed, but the target y is None")
        frame, y = self._validate(X, y, reset=True)
        time = None
        cols = list(frame.columns)
        if self.time_column is not None:
            if self.time_column not in cols:
                raise ValueError(f"LeadScorer: X has no time column {self.time_column!r}")
            time = pd.to_datetime(frame[self.time_column], utc=True).reset_index(drop=True)
            cols.remove(self.time_column)
        if not cols:
            raise ValueError("LeadScorer: X has no feature column")
        self.features_ = cols
        self.categorical_ = [c for c in cols if _is_categorical(frame[c])]
        self.numeric_ = [c for c in cols if c not in self.categorical_]
        data = _prepare(frame[cols].reset_index(drop=True), self.categorical_, self.numeric_)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"LeadScorer needs samples of at least 2 classes in y; got only one class "
                f"({self.classes_[0]!r})"
            )
        if len(self.classes_) == 2:  # conversions are the second class
            warn_too_few_conversions(y_enc, stacklevel=2)
        counts = np.bincount(y_enc)
        n_splits = int(min(self.cv, counts.min()))
        self.calibration_method_ = self._method(len(y), int(counts.min()), max(n_splits, 1))
        pipe = self._pipeline(self.numeric_, self.categorical_)
        with threadpool_limits(self._threads()):
            self._fit(pipe, data, y, time, n_splits)
        self.reference_ = self._reference(data)
        self.n_iter_ = max(
            int(np.max(getattr(e.named_steps["model"], "n_iter_", 0))) for e in self.estimators_
        )
        if self.model == "logistic":
            self.train_means_ = [
                np.asarray(e.named_steps["prep"].transform(data).mean(axis=0)).ravel()
                for e in self.estimators_
            ]
        return self

    def _threads(self) -> int:
        if self.n_jobs is None:
            return 1
        n = int(self.n_jobs)
        return max(1, (os.cpu_count() or 1) + 1 + n if n < 0 else n)

    def _fit(self, pipe, data, y, time, n_splits) -> None:
        if n_splits < 2:
            # too few of one class to hold any out: an uncalibrated fit, said so in the attribute
            self.calibration_method_ = "none"
            self.calibration_split_ = "none"
            self.calibrated_ = None
            self.estimators_ = [pipe.fit(data, y)]
            return
        if self.holdout_from is not None and len(y) >= self.holdout_from:
            split = self._holdout(time, y)
            if split is not None:
                fit_rows, cal_rows = split
                n_min = int(np.unique(y[cal_rows], return_counts=True)[1].min())
                self.calibration_method_ = self._method(len(cal_rows), n_min, 1)
                pipe.fit(data.iloc[fit_rows], y[fit_rows])
                cal = CalibratedClassifierCV(FrozenEstimator(pipe), method=self.calibration_method_)
                self.calibrated_ = cal.fit(data.iloc[cal_rows], y[cal_rows])
                self.estimators_ = [pipe]
                return
        self.calibration_split_ = "folds" if time is None else "time folds"
        cv = self._splits(time, y, n_splits)
        cal = CalibratedClassifierCV(
            pipe, method=self.calibration_method_, cv=cv, ensemble=time is not None
        )
        self.calibrated_ = cal.fit(data, y)
        self.estimators_ = [c.estimator for c in cal.calibrated_classifiers_]

    def _holdout(self, time: pd.Series | None, y: np.ndarray, share: float = 0.2):
        """Rows to fit on and rows to calibrate on: the latest cohorts (about ``share`` of the
        rows) with a time column, else a stratified ``share``; None when a part would lack a
        class."""
        n = len(y)
        if time is not None:
            t = time.to_numpy()
            dates, counts = np.unique(t, return_counts=True)
            before = np.cumsum(counts) - counts  # rows strictly before each date
            k = int(np.searchsorted(before, (1 - share) * n))
            k = min(max(k, 1), len(dates) - 1) if len(dates) > 1 else 0
            if k > 0:
                cal = t >= dates[k]
                fit_rows, cal_rows = np.flatnonzero(~cal), np.flatnonzero(cal)
                k_all = len(self.classes_)
                if len(np.unique(y[fit_rows])) == k_all == len(np.unique(y[cal_rows])):
                    self.calibration_split_ = "time holdout"
                    return fit_rows, cal_rows
        from sklearn.model_selection import StratifiedShuffleSplit

        sss = StratifiedShuffleSplit(1, test_size=share, random_state=self.random_state)
        fit_rows, cal_rows = next(sss.split(np.zeros(n), y))
        self.calibration_split_ = "holdout"
        return np.sort(fit_rows), np.sort(cal_rows)

    def _method(self, n: int, n_min: int, folds: int) -> str:
        if self.calibration in ("isotonic", "sigmoid"):
            return self.calibration
        if self.calibration != "auto":
            raise ValueError(
                "LeadScorer: calibration must be 'auto', 'isotonic' or 'sigmoid', "
                f"got {self.calibration!r}"
            )
        return "isotonic" if n / folds >= 1000 and n_min / folds >= 100 else "sigmoid"

    def _reference(self, data: pd.DataFrame) -> dict:
        """The typical value of each feature (median, or most frequent category)."""
        ref = {}
        for c in self.numeric_:
            v = np.nanmedian(data[c]) if data[c].notna().any() else np.nan
            ref[c] = float(v)
        for c in self.categorical_:
            ref[c] = data[c].value_counts().index[0]
        return ref

    # -- prediction -----------------------------------------------------------------------
    def _data(self, X) -> pd.DataFrame:
        check_is_fitted(self, "estimators_")
        frame = self._validate(X, reset=False)
        return _prepare(
            frame[self.features_].reset_index(drop=True), self.categorical_, self.numeric_
        )

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities, columns in the order of ``classes_``."""
        data = self._data(X)
        with threadpool_limits(self._threads()):
            if self.calibrated_ is None:
                return self.estimators_[0].predict_proba(data)
            return self.calibrated_.predict_proba(data)

    def _proba_from_log_odds(self, raw: list[np.ndarray]) -> np.ndarray:
        """The calibrated probability of conversion from each model's raw log-odds (what
        :meth:`predict_proba` computes, for a caller that already has them)."""
        if self.calibrated_ is None:
            return 1.0 / (1.0 + np.exp(-raw[0]))
        cals = self.calibrated_.calibrated_classifiers_
        p = np.mean([c.calibrators[0].predict(r) for c, r in zip(cals, raw, strict=True)], axis=0)
        return np.minimum(p, 1.0)

    def predict(self, X) -> np.ndarray:
        """The most probable class (for a lead score, read :meth:`predict_proba` instead)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def log_odds(self, X) -> np.ndarray:
        """The uncalibrated log-odds of the positive class (two classes only): the scale of
        :func:`salesmkt.scoring.reasons.lead_contributions`."""
        if len(self.classes_) != 2:
            raise ValueError("log_odds: only for two classes")
        data = self._data(X)
        with threadpool_limits(self._threads()):
            return np.mean([e.decision_function(data) for e in self.estimators_], axis=0)


def _fold_blocks(time: pd.Series, n_splits: int, gap: pd.Timedelta):
    order = np.sort(pd.unique(time.to_numpy()))
    if len(order) < n_splits + 1:
        raise ValueError(
            f"time_split_validation: {len(order)} distinct cohort dates, "
            f"{n_splits + 1} needed for {n_splits} folds"
        )
    blocks = np.array_split(order, n_splits + 1)
    t = time.to_numpy()
    for k in range(1, n_splits + 1):
        start = blocks[k][0]
        # a training row's outcome window must close before the test cohort starts
        train = np.flatnonzero(t <= start - gap.to_timedelta64())
        test = np.flatnonzero(np.isin(t, blocks[k]))
        yield k, train, test, pd.Timestamp(start)


def time_split_validation(
    X: pd.DataFrame,
    y,
    time,
    n_splits: int = 4,
    *,
    lead_id=None,
    gap="90D",
    models=("boosting", "logistic", "base_rate"),
    **scorer_params,
) -> pd.DataFrame:
    """Train on earlier cohorts, test on later ones: per-fold predictions of every model.

    The distinct cohort dates of ``time`` are cut into ``n_splits + 1`` consecutive blocks;
    fold ``k`` tests on block ``k`` and trains on the rows whose cohort date is at least
    ``gap`` (the label horizon) before the block starts, so no training label was observed
    after the test cohort was scored. Every model sees the same folds. ``base_rate`` predicts
    the training conversion rate for every lead.

    Parameters
    ----------
    X : DataFrame
        Features (the time column may be among them; it is never a feature).
    y : array of bool
    time : Series or column name of ``X``
        The cohort date of each row (a snapshot's ``as_of``).
    n_splits : int
    lead_id : array or column name of ``X``, optional
    gap : str or Timedelta
        The label horizon (default 90 days).
    models : sequence of {"boosting", "logistic", "base_rate"}
    **scorer_params
        Passed to :class:`LeadScorer`.

    Returns
    -------
    DataFrame
        One row per fold, test lead and model: ``fold``, ``cohort_start`` (first date of the
        test block), ``as_of``, ``lead_id``, ``y``, ``probability``, ``model``. ``attrs``:
        ``n_splits``, ``gap``, ``folds`` (per fold: training rows and conversions, test rows
        and conversions).

    Examples
    --------
    >>> import salesmkt, warnings
    >>> from salesmkt.scoring.snapshot import training_snapshots
    >>> snaps = training_snapshots(salesmkt.load_sample(), dates="QS")
    >>> train = snaps[snaps["label"].notna()]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cv = time_split_validation(train.drop(columns=["label"]), train["label"], "as_of",
    ...                                n_splits=3, lead_id="lead_id", max_iter=20)
    >>> sorted(cv["model"].unique())
    ['base_rate', 'boosting', 'logistic']
    >>> cv.groupby("model").size().nunique()  # the same test rows for every model
    1
    """
    X = X.reset_index(drop=True)
    if isinstance(time, str):
        time = X[time]
    time = pd.to_datetime(pd.Series(np.asarray(time)), utc=True)
    if isinstance(lead_id, str):
        lead_id = X[lead_id]
    ids = np.arange(len(X)) if lead_id is None else np.asarray(lead_id)
    y = np.asarray(pd.Series(y).astype(bool))
    drop = [c for c in X.columns if c in ("lead_id", "label")]
    if isinstance(lead_id, pd.Series) and lead_id.name in X.columns:
        drop.append(lead_id.name)
    feats = X.drop(columns=sorted(set(drop)))
    timecol = [c for c in feats.columns if pd.api.types.is_datetime64_any_dtype(feats[c])]
    feats = feats.drop(columns=timecol)
    gap = pd.Timedelta(gap)
    parts, folds = [], []
    for k, train, test, start in _fold_blocks(time, n_splits, gap):
        ytr = y[train]
        folds.append(
            {
                "fold": k,
                "cohort_start": start,
                "n_train": len(train),
                "train_conversions": int(ytr.sum()),
                "n_test": len(test),
                "test_conversions": int(y[test].sum()),
            }
        )
        for name in models:
            if name == "base_rate" or len(np.unique(ytr)) < 2:
                p = np.full(len(test), ytr.mean() if len(ytr) else np.nan)
            else:
                sc = LeadScorer(name, **scorer_params)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TooFewConversionsWarning)
                    sc.fit(feats.iloc[train], ytr)
                p = sc.predict_proba(feats.iloc[test])[:, 1]
            parts.append(
                pd.DataFrame(
                    {
                        "fold": k,
                        "cohort_start": start,
                        "as_of": time.to_numpy()[test],
                        "lead_id": ids[test],
                        "y": y[test],
                        "probability": p,
                        "model": name,
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out["as_of"] = pd.to_datetime(out["as_of"], utc=True)
    out.attrs.update(n_splits=n_splits, gap=gap, folds=pd.DataFrame(folds))
    warn_too_few_conversions(y, stacklevel=2)
    return out
