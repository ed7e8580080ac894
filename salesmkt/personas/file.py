"""The persona file ``personas.yml``: names and workshop notes that survive re-fits.

Private to :mod:`salesmkt.personas`, which re-exports the public functions.

Each persona entry holds a stable ``id`` (P1, P2, ...), the workshop fields, and a
*fingerprint*: the persona's centre in readable form (mean of each numeric feature on the model's
scale, share of each category level). When a model is re-fitted, :func:`match_personas` puts
the saved fingerprints into the new model's feature space, lets every lead pick its nearest
saved persona, and compares those groups with the new personas by Jaccard overlap; the
Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) pairs them one to one. A pair
overlapping at least ``min_jaccard`` keeps the saved id, name and notes (``status="matched"``);
a new persona without a partner is flagged ``"new"`` and gets a fresh id and empty fields (it
is never given someone else's name); a saved persona without a partner stays in the file as
``"unmatched"``. Nothing a team wrote is ever dropped: :func:`save_personas` keeps every saved
id that the table to save does not mention, and writes atomically (temporary file in the same
folder, then ``os.replace``), so an interrupted save leaves the previous file intact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from salesmkt._base.atomic import write_text_atomic
from salesmkt.personas import features as pf

FILE_NAME = "personas.yml"
WORKSHOP_FIELDS = (
    "name", "description", "goals", "challenges", "preferred_channels", "objections",
    "how_to_sell", "notes",
)  # fmt: skip
COLUMNS = [
    "id", "persona", "status", "match_jaccard", "share", "suggested_label",
    *WORKSHOP_FIELDS, "fingerprint",
]  # fmt: skip


def _path(config_dir) -> Path:
    p = Path(config_dir)
    return p if p.suffix in (".yml", ".yaml") else p / FILE_NAME


def load_personas(config_dir) -> pd.DataFrame:
    """The saved personas (one row each; empty when there is no file yet).

    Returns
    -------
    DataFrame
        Columns ``id, persona, status, match_jaccard, share, suggested_label, name,
        description, goals, challenges, preferred_channels, objections, how_to_sell, notes,
        fingerprint``.

    Examples
    --------
    >>> import tempfile
    >>> load_personas(tempfile.mkdtemp()).empty
    True
    """
    path = _path(config_dir)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("personas", []), list):
        raise ValueError(f"{path}: not a personas file (expected a 'personas:' list).")
    rows = []
    for entry in doc.get("personas") or []:
        row = {c: entry.get(c) for c in COLUMNS}
        row["persona"] = entry.get("label")
        for f in WORKSHOP_FIELDS:
            row[f] = "" if row[f] is None else str(row[f])
        rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["persona"] = pd.to_numeric(out["persona"], errors="coerce").astype("Int64")
    return out


def _clean(v):
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def save_personas(config_dir, personas: pd.DataFrame) -> Path:
    """Write ``personas`` to ``personas.yml`` in ``config_dir`` atomically; returns the path.

    Saved personas whose id is not in ``personas`` are kept (as ``"unmatched"``): a save never
    loses a name or a note.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> table = pd.DataFrame({"id": ["P1"], "persona": [0], "name": ["Careful Carla"]})
    >>> _ = save_personas(d, table)
    >>> load_personas(d)[["id", "name"]].to_dict("records")
    [{'id': 'P1', 'name': 'Careful Carla'}]
    """
    path = _path(config_dir)
    table = personas.copy()
    for c in COLUMNS:
        if c not in table.columns:
            table[c] = "" if c in WORKSHOP_FIELDS else None
    if table["id"].isna().any() or table["id"].duplicated().any():
        raise ValueError("personas: every row needs its own id (P1, P2, ...).")
    old = load_personas(path)
    kept = old[~old["id"].isin(table["id"])].assign(status="unmatched", persona=pd.NA)
    entries = []
    for row in [*table[COLUMNS].to_dict("records"), *kept[COLUMNS].to_dict("records")]:
        entry = {"id": str(row["id"]), "label": _clean(row["persona"])}
        entry.update({c: _clean(row[c]) for c in COLUMNS if c not in ("id", "persona")})
        entries.append(entry)
    doc = {
        "version": 1,
        "saved_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "personas": entries,
    }
    text = (
        "# Buyer personas: names and workshop notes, kept across re-fits by salesmkt.\n"
        "# Edit the text fields freely; keep the ids and fingerprints.\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    )
    return write_text_atomic(path, text)


def fingerprints(model) -> list[dict]:
    """Each persona's centre in readable form (see the module docstring)."""
    plan, centers = model.feature_plan_, model.centers_
    out = []
    for c in centers:
        fp = {"numeric": {}, "log": [], "categorical": {}}
        for j, s in enumerate(plan.numeric):
            fp["numeric"][s.name] = float(c[j] * s.std + s.mean)
            if s.log:
                fp["log"].append(s.name)
        for name, sl in plan.blocks()[len(plan.numeric) :]:
            spec = next(s for s in plan.categorical if s.name == name)
            shares = c[sl] / spec.weight + np.asarray(spec.shares) if spec.weight else spec.shares
            fp["categorical"][name] = {
                lvl: round(float(v), 6) for lvl, v in zip(spec.levels, shares, strict=True)
            }
        out.append(fp)
    return out


def _embed(fp: dict, plan: pf.FeaturePlan) -> tuple[np.ndarray, np.ndarray]:
    """A fingerprint as a point in ``plan``'s prepared space, with a mask of known columns."""
    vec = np.zeros(len(plan.columns))
    known = np.zeros(len(plan.columns), dtype=bool)
    logged = set(fp.get("log") or [])
    for j, s in enumerate(plan.numeric):
        v = (fp.get("numeric") or {}).get(s.name)
        if v is None:
            continue
        if s.name in logged and not s.log:
            v = float(np.expm1(v))
        elif s.log and s.name not in logged:
            v = float(np.log1p(max(v, 0.0)))
        vec[j], known[j] = (v - s.mean) / s.std, True
    i = len(plan.numeric)
    for s in plan.categorical:
        shares = (fp.get("categorical") or {}).get(s.name)
        if shares is not None:
            for j, lvl in enumerate(s.levels):
                vec[i + j] = (float(shares.get(lvl, 0.0)) - s.shares[j]) * s.weight
            known[i : i + len(s.levels)] = True
        i += len(s.levels)
    return vec, known


def _next_ids(taken: set[str], n: int) -> list[str]:
    out, i = [], 1
    while len(out) < n:
        if f"P{i}" not in taken:
            out.append(f"P{i}")
        i += 1
    return out


def match_personas(
    model, leads: pd.DataFrame, previous: pd.DataFrame | None = None, *, min_jaccard: float = 0.5
) -> pd.DataFrame:
    """Carry saved names and notes over to the personas of a (re-)fitted model.

    Parameters
    ----------
    model : fitted PersonaModel
    leads : DataFrame
        Leads to compare on (usually those the model was fitted on).
    previous : DataFrame, optional
        Saved personas (:func:`load_personas`); none means every persona is new.
    min_jaccard : float
        Smallest overlap for two personas to count as the same.

    Returns
    -------
    DataFrame
        One row per current persona (ordered by ``persona``), then the saved personas left
        unmatched; columns as :func:`load_personas`. ``status`` is ``matched``, ``new`` or
        ``unmatched``; ``match_jaccard`` the overlap with the saved persona.

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> leads = salesmkt.load_sample().leads
    >>> first = match_personas(PersonaModel(5, random_state=0).fit(leads), leads)
    >>> first = first.assign(name=[f"Persona {i}" for i in range(5)])
    >>> again = match_personas(PersonaModel(5, random_state=1).fit(leads), leads, first)
    >>> again["status"].tolist()
    ['matched', 'matched', 'matched', 'matched', 'matched']
    """
    from scipy.optimize import linear_sum_assignment

    from salesmkt.personas.explain import persona_labels

    labels = np.asarray(model.predict(leads))
    k = model.n_personas_
    plan = model.feature_plan_
    prev = previous if previous is not None else pd.DataFrame(columns=COLUMNS)
    prev = prev[prev["fingerprint"].notna()].reset_index(drop=True) if len(prev) else prev
    jac = np.zeros((k, len(prev)))
    if len(prev):
        Z = pf.transform(plan, leads)
        embedded = [_embed(fp, plan) for fp in prev["fingerprint"]]
        known = np.logical_and.reduce([m for _, m in embedded])
        if known.any():
            C = np.vstack([v for v, _ in embedded])[:, known]
            Zk = Z[:, known]
            old = np.argmin((C**2).sum(1)[None, :] - 2 * Zk @ C.T, axis=1)
            for i in range(k):
                a = labels == i
                for j in range(len(prev)):
                    b = old == j
                    union = np.sum(a | b)
                    jac[i, j] = np.sum(a & b) / union if union else 0.0
    pairs = {}
    if len(prev):
        r, c = linear_sum_assignment(-jac)
        pairs = {i: j for i, j in zip(r, c, strict=True) if jac[i, j] >= min_jaccard}
    taken = set(map(str, prev["id"])) if len(prev) else set()
    fresh = iter(_next_ids(taken, k))
    suggested = persona_labels(model.profiles_).set_index("persona")["label"]
    prints = fingerprints(model)
    shares = np.bincount(labels[labels >= 0], minlength=k) / len(labels)
    rows = []
    for i in range(k):
        row = {f: "" for f in WORKSHOP_FIELDS}
        if i in pairs:
            saved = prev.iloc[pairs[i]]
            row.update({f: saved[f] or "" for f in WORKSHOP_FIELDS})
            row.update(id=saved["id"], status="matched", match_jaccard=jac[i, pairs[i]])
        else:
            best = jac[i].max() if len(prev) else np.nan
            row.update(id=next(fresh), status="new", match_jaccard=best)
        row.update(persona=i, share=shares[i], suggested_label=suggested.get(i, ""),
                   fingerprint=prints[i])  # fmt: skip
        rows.append(row)
    matched_prev = set(pairs.values())
    for j in range(len(prev)):
        if j not in matched_prev:
            row = prev.iloc[j].to_dict()
            row.update(status="unmatched", persona=pd.NA, match_jaccard=jac[:, j].max())
            rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["persona"] = out["persona"].astype("Int64")
    return out


def assign_personas(leads: pd.DataFrame, personas=None) -> pd.DataFrame:
    """A copy of ``leads`` with the saved persona of every lead: ``persona_id`` and ``persona``.

    Each lead goes to the nearest saved persona centre (the fingerprints of ``personas.yml``)
    in the feature space the fingerprints name, prepared on ``leads`` as
    :class:`salesmkt.PersonaModel` prepares them. On the leads the workshop fitted, this is
    the workshop's own assignment (k-means assigns every lead to its nearest centre), so the
    check-in and campaign reports count the same personas, under the same names, as the
    workshop. Only the personas of the last fit are used (``unmatched`` ones are not).

    Parameters
    ----------
    leads : DataFrame
        The leads table; it needs the feature columns the fingerprints name.
    personas : DataFrame, path or None
        Saved personas (:func:`load_personas`), or the folder (or file) of ``personas.yml``.
        ``None``, a folder without the file or an empty table: ``leads`` is returned as it is
        (a copy).

    Returns
    -------
    DataFrame
        ``leads`` plus ``persona_id`` (``P1`` ...) and ``persona`` (the name the team gave,
        else ``persona P1``). ``attrs["persona_source"]`` says where the personas come from.

    Raises
    ------
    ValueError
        When the leads lack a feature column the fingerprints name.

    Examples
    --------
    >>> import tempfile
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> leads = salesmkt.load_sample().leads
    >>> model = PersonaModel(3, random_state=0).fit(leads)
    >>> table = match_personas(model, leads).assign(name=["Ann", "Bob", "Cy"])
    >>> out = assign_personas(leads, table)
    >>> bool((out["persona"].map({"Ann": 0, "Bob": 1, "Cy": 2}) == model.labels_).all())
    True
    """
    out = leads.copy()
    if personas is not None and not isinstance(personas, pd.DataFrame):
        personas = load_personas(personas)
    if personas is None or personas.empty:
        return out
    current = personas[personas["persona"].notna() & personas["fingerprint"].notna()]
    if current.empty:
        raise ValueError(
            "personas: no persona of the last workshop fit has a fingerprint; run the persona "
            "workshop (notebook 02) and save personas.yml again."
        )
    current = current.sort_values("persona")
    first = current["fingerprint"].iloc[0]
    numeric = list(first.get("numeric") or {})
    categorical = list(first.get("categorical") or {})
    missing = [c for c in [*numeric, *categorical] if c not in leads.columns]
    if missing:
        raise ValueError(
            f"leads: {', '.join(missing)} missing; the saved personas (personas.yml) were "
            "built on these columns."
        )
    # a numeric column the workshop treated as categories stays categorical (e.g. a 0/1 flag)
    forced = [c for c in categorical if pf.is_numeric(leads[c])]
    plan = pf.plan_features(leads, [*numeric, *categorical], categorical=forced)
    Z = pf.transform(plan, leads)
    C = np.vstack([_embed(fp, plan)[0] for fp in current["fingerprint"]])
    nearest = np.argmin((C**2).sum(1)[None, :] - 2 * Z @ C.T, axis=1)
    ids = current["id"].astype(str).to_numpy()
    names = np.array(
        [n or f"persona {i}" for n, i in zip(current["name"], ids, strict=True)], dtype=object
    )
    out["persona_id"] = pd.array(ids[nearest], dtype="string")
    out["persona"] = pd.array(names[nearest], dtype="string")
    out.attrs["persona_source"] = "the named personas of the workshop (personas.yml)"
    return out
