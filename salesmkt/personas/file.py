"""The persona file ``personas.yml``: names and workshop notes that survive re-fits.

Private to :mod:`salesmkt.personas`, which re-exports the public functions.

Each persona entry holds a stable ``id`` (P1, P2, ...), the workshop fields, and a
*fingerprint*: the persona's profile over the **full** feature set of the leads (every default
feature plus the model's own: mean of each numeric feature, share of each category level),
whatever features the model was fitted on. So every record, even one from a fit on a single
feature, can be compared with every other. When a model is re-fitted, :func:`match_personas`
lets every lead pick its nearest saved persona (mean squared distance over the columns that
saved persona knows, on the current leads' scale) and compares those groups with the new
personas by the overlap of their leads (Jaccard); the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) pairs them one to one. A pair overlapping at least
``min_jaccard`` keeps the saved id, name and notes (``status="matched"``); a new persona without
a partner is ``"new"`` with a fresh id and empty fields (never someone else's name); a saved
persona without a partner stays as ``"unmatched"`` **only when the team wrote something on it**
(an unnamed persona has nothing to lose, so refits do not pile up empty rows).

The team's explicit decisions: :func:`merge_personas` (the merged personas stay in the file as
``"merged"`` with ``merged_into``, their names and notes intact, and the kept persona's
fingerprint becomes the pair's joint profile), :func:`retire_persona` (``"retired"``: kept,
never matched again) and a split (the workshop adds a persona and notes where it came from).
Merged and retired entries are never matched and never dropped.

:func:`save_personas` keeps every saved entry with text that the table to save does not mention,
records the workshop settings (k, features, method) and writes atomically (temporary file in
the same folder, then ``os.replace``), so an interrupted save leaves the previous file intact.
:func:`draft_path` names the autosaved draft beside it (``personas.draft.yml``).
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
    *WORKSHOP_FIELDS, "merged_into", "fingerprint",
]  # fmt: skip
#: Statuses of entries the team set aside on purpose: kept in the file, never matched.
SET_ASIDE = ("merged", "retired")


def _path(config_dir) -> Path:
    p = Path(config_dir)
    return p if p.suffix in (".yml", ".yaml") else p / FILE_NAME


def draft_path(config_dir) -> Path:
    """The autosaved draft beside the persona file (``personas.draft.yml``).

    Examples
    --------
    >>> draft_path("crm").name
    'personas.draft.yml'
    """
    p = _path(config_dir)
    return p.with_name(f"{p.stem}.draft{p.suffix}")


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("personas", []), list):
        raise ValueError(f"{path}: not a personas file (expected a 'personas:' list).")
    return doc


def load_personas(config_dir) -> pd.DataFrame:
    """The saved personas (one row each; empty when there is no file yet).

    Returns
    -------
    DataFrame
        Columns ``id, persona, status, match_jaccard, share, suggested_label, name,
        description, goals, challenges, preferred_channels, objections, how_to_sell, notes,
        merged_into, fingerprint``.

    Examples
    --------
    >>> import tempfile
    >>> load_personas(tempfile.mkdtemp()).empty
    True
    """
    doc = _read(_path(config_dir))
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


def load_settings(config_dir) -> dict:
    """The workshop settings saved with the personas (``n_personas``, ``features``, ``method``,
    ``saved_at``); empty without a file.

    Examples
    --------
    >>> import tempfile
    >>> load_settings(tempfile.mkdtemp())
    {}
    """
    doc = _read(_path(config_dir))
    out = dict(doc.get("settings") or {})
    if doc.get("saved_at"):
        out["saved_at"] = doc["saved_at"]
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


def has_text(row) -> bool:
    """Whether the team wrote anything on a persona (any workshop field not blank)."""
    return any(str(row.get(f) or "").strip() for f in WORKSHOP_FIELDS)


def _worth_keeping(row) -> bool:
    return has_text(row) or row.get("status") in SET_ASIDE


def _complete(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for c in COLUMNS:
        if c not in table.columns:
            table[c] = "" if c in WORKSHOP_FIELDS else None
    for f in WORKSHOP_FIELDS:
        table[f] = table[f].fillna("").astype(str)
    return table


def save_personas(config_dir, personas: pd.DataFrame, *, settings: dict | None = None) -> Path:
    """Write ``personas`` to ``personas.yml`` in ``config_dir`` atomically; returns the path.

    Saved personas whose id is not in ``personas`` are kept (as ``"unmatched"``, or as they
    were when merged or retired) when they carry a name or a note: a save never loses a name or
    a note. ``config_dir`` may also name the file itself (``.../team.yml``).

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
    table = _complete(personas)
    if table["id"].isna().any() or table["id"].duplicated().any():
        raise ValueError("personas: every row needs its own id (P1, P2, ...).")
    old = load_personas(path)
    kept = old[~old["id"].isin(table["id"])]
    kept = kept.assign(
        status=kept["status"].where(kept["status"].isin(SET_ASIDE), "unmatched"), persona=pd.NA
    )
    entries = []
    for row in [*table[COLUMNS].to_dict("records"), *kept[COLUMNS].to_dict("records")]:
        if row["status"] in ("unmatched", *SET_ASIDE) and not _worth_keeping(row):
            continue
        entry = {"id": str(row["id"]), "label": _clean(row["persona"])}
        entry.update({c: _clean(row[c]) for c in COLUMNS if c not in ("id", "persona")})
        entries.append(entry)
    doc = {
        "version": 2,
        "saved_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **({"settings": _clean(settings)} if settings else {}),
        "personas": entries,
    }
    text = (
        "# Buyer personas: names and workshop notes, kept across re-fits by salesmkt.\n"
        "# Edit the text fields freely; keep the ids and fingerprints.\n"
        + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    )
    return write_text_atomic(path, text)


def _readable(plan: pf.FeaturePlan, centers: np.ndarray) -> list[dict]:
    """Centres in the prepared space as readable profiles (numeric means, category shares)."""
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


def _full_plan(leads: pd.DataFrame, extra=()) -> pf.FeaturePlan:
    feats = [f for f in dict.fromkeys([*pf.default_features(leads), *extra]) if f in leads]
    return pf.plan_features(leads, feats)


def fingerprints(model, leads: pd.DataFrame | None = None) -> list[dict]:
    """Each persona's profile over the full feature set of ``leads`` (see the module
    docstring); without ``leads``, over the model's own features (its centres)."""
    if leads is None:
        return _readable(model.feature_plan_, model.centers_)
    labels = np.asarray(model.predict(leads))
    plan = _full_plan(leads, model.features_)
    Z = pf.transform(plan, leads)
    centers = np.vstack(
        [Z[labels == p].mean(0) if (labels == p).any() else np.zeros(Z.shape[1])
         for p in range(model.n_personas_)]
    )  # fmt: skip
    return _readable(plan, centers)


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


def _fp_features(fp) -> list[str]:
    if not isinstance(fp, dict):
        return []
    return [*(fp.get("numeric") or {}), *(fp.get("categorical") or {})]


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
        unmatched that carry a name or a note, then the merged and retired ones; columns as
        :func:`load_personas`. ``status`` is ``matched``, ``new``, ``unmatched``, ``merged``
        or ``retired``; ``match_jaccard`` the overlap with the saved persona.

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
    prev_all = _complete(previous) if previous is not None and len(previous) else None
    if prev_all is None:
        prev_all = pd.DataFrame(columns=COLUMNS)
    aside = prev_all[prev_all["status"].isin(SET_ASIDE)]
    prev = prev_all[~prev_all["status"].isin(SET_ASIDE)].reset_index(drop=True)
    jac = np.zeros((k, len(prev)))
    usable = [isinstance(fp, dict) for fp in prev["fingerprint"]]
    if any(usable):
        extra = [f for fp in prev["fingerprint"] for f in _fp_features(fp)]
        plan = _full_plan(leads, [*model.features_, *extra])
        Z = pf.transform(plan, leads)
        dist = np.full((len(leads), len(prev)), np.inf)
        for j, fp in enumerate(prev["fingerprint"]):
            if not usable[j]:
                continue
            vec, known = _embed(fp, plan)
            if known.any():
                dist[:, j] = ((Z[:, known] - vec[known]) ** 2).mean(1)
        if np.isfinite(dist).any():
            old = np.argmin(dist, axis=1)
            for j in range(len(prev)):
                b = old == j
                if not np.isfinite(dist[0, j]):
                    continue
                for i in range(k):
                    a = labels == i
                    union = np.sum(a | b)
                    jac[i, j] = np.sum(a & b) / union if union else 0.0
    pairs = {}
    if len(prev):
        r, c = linear_sum_assignment(-jac)
        pairs = {i: j for i, j in zip(r, c, strict=True) if jac[i, j] >= min_jaccard}
    taken = set(map(str, prev_all["id"]))
    fresh = iter(_next_ids(taken, k))
    suggested = persona_labels(model.profiles_).set_index("persona")["label"]
    prints = fingerprints(model, leads)
    shares = np.bincount(labels[labels >= 0], minlength=k) / max(len(labels), 1)
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
                   merged_into=None, fingerprint=prints[i])  # fmt: skip
        rows.append(row)
    matched_prev = set(pairs.values())
    for j in range(len(prev)):
        row = prev.iloc[j].to_dict()
        if j not in matched_prev and has_text(row):  # unnamed: nothing to keep
            row.update(status="unmatched", persona=pd.NA,
                       match_jaccard=jac[:, j].max() if k else np.nan)  # fmt: skip
            rows.append(row)
    rows += [dict(r, persona=pd.NA) for r in aside.to_dict("records")]
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


def _row(table: pd.DataFrame, pid: str):
    hit = table.index[table["id"] == pid]
    if not len(hit):
        raise ValueError(f"personas: no persona with id {pid!r} (ids: {', '.join(table['id'])}).")
    return hit[0]


def merge_personas(table: pd.DataFrame, ids: list[str], *, into: str | None = None):
    """Merge personas ``ids`` into one (``into``, default the first): the others become
    ``"merged"`` with ``merged_into`` set, their names and notes kept; the kept persona's
    fingerprint becomes the share-weighted profile of all of them, and its notes say what was
    merged. Returns a new table (the input is not changed).

    Examples
    --------
    >>> t = pd.DataFrame({"id": ["P1", "P2"], "persona": [0, 1], "name": ["Ann", "Bo"],
    ...     "share": [0.75, 0.25], "status": ["new", "new"],
    ...     "fingerprint": [{"numeric": {"size": 4.0}}, {"numeric": {"size": 8.0}}]})
    >>> out = merge_personas(t, ["P1", "P2"])
    >>> out[["id", "status", "merged_into"]].values.tolist()
    [['P1', 'new', None], ['P2', 'merged', 'P1']]
    >>> out.loc[0, "fingerprint"]["numeric"]["size"], out.loc[0, "notes"]
    (5.0, 'Merged with P2 (Bo).')
    """
    out = _complete(table)
    ids = list(dict.fromkeys(ids))
    into = into or ids[0]
    if len(ids) < 2 or into not in ids:
        raise ValueError("merge_personas: name at least two ids, and `into` among them.")
    rows = [_row(out, i) for i in ids]
    keep = _row(out, into)
    w = np.array([float(out.at[r, "share"]) if pd.notna(out.at[r, "share"]) else 1.0
                  for r in rows])  # fmt: skip
    w = w / w.sum() if w.sum() > 0 else np.full(len(rows), 1 / len(rows))
    fps = [out.at[r, "fingerprint"] for r in rows]
    if all(isinstance(fp, dict) for fp in fps):
        joint = {"numeric": {}, "log": sorted({x for fp in fps for x in fp.get("log") or []}),
                 "categorical": {}}  # fmt: skip
        for name in set.intersection(*[set(fp.get("numeric") or {}) for fp in fps]):
            joint["numeric"][name] = float(sum(wi * fp["numeric"][name] for wi, fp in
                                               zip(w, fps, strict=True)))  # fmt: skip
        for name in set.intersection(*[set(fp.get("categorical") or {}) for fp in fps]):
            levels = set().union(*[fp["categorical"][name] for fp in fps])
            joint["categorical"][name] = {
                lvl: float(sum(wi * fp["categorical"][name].get(lvl, 0.0)
                               for wi, fp in zip(w, fps, strict=True)))
                for lvl in levels
            }  # fmt: skip
        out.at[keep, "fingerprint"] = joint
    others = [r for r in rows if r != keep]
    note = (
        "Merged with "
        + ", ".join(
            f"{out.at[r, 'id']}" + (f" ({out.at[r, 'name']})" if out.at[r, "name"] else "")
            for r in others
        )
        + "."
    )
    out.at[keep, "notes"] = (out.at[keep, "notes"] + "\n" + note).strip()
    if pd.notna(out.at[keep, "share"]):
        out.at[keep, "share"] = float(
            sum(float(out.at[r, "share"]) for r in rows if pd.notna(out.at[r, "share"]))
        )
    for r in others:
        out.at[r, "status"], out.at[r, "merged_into"] = "merged", into
        out.at[r, "persona"] = pd.NA
    return out


def retire_persona(table: pd.DataFrame, pid: str) -> pd.DataFrame:
    """Set persona ``pid`` aside (``"retired"``): kept in the file with its name and notes,
    never matched again. Returns a new table.

    Examples
    --------
    >>> t = pd.DataFrame({"id": ["P1"], "persona": [0], "name": ["Ann"]})
    >>> retire_persona(t, "P1")[["status", "name"]].values.tolist()
    [['retired', 'Ann']]
    """
    out = _complete(table)
    r = _row(out, pid)
    out.at[r, "status"], out.at[r, "persona"] = "retired", pd.NA
    return out
