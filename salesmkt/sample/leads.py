"""Leads of the sample company: personas, attributes, lifecycle, SLA, holdout, PII, defects.

Private to :mod:`salesmkt.sample`. Returns plain numpy arrays (times as float seconds, NaN for
never); :mod:`salesmkt.sample` turns them into typed DataFrames.
"""

from __future__ import annotations

import numpy as np

from salesmkt.data.schema import CHANNELS
from salesmkt.sample.base import (
    CH,
    business_seconds,
    campaign_windows,
    choice_rows,
    floor_s,
    lognormal,
    pick_campaign,
    seasonal_times,
)
from salesmkt.sample.config import (
    BREACH,
    BREACH_MONTHS,
    CAMPAIGNS,
    CHANNEL_ECON,
    DAY,
    DOMAIN_SUFFIX,
    DOMAIN_WORDS,
    END,
    FIRST_NAMES,
    HOLDOUT,
    HOUR,
    LAST_NAMES,
    N_LEADS,
    O08_START,
    OVERDISPERSION,
    PERSONAS,
    RESPONSE,
)

STAGE_COLS = ("mql", "sql", "opp", "close", "disq")


def _param(key: str, index: np.ndarray) -> np.ndarray:
    return np.array([p[key] for p in PERSONAS], dtype=float)[index]


def _econ(key: str, channel: np.ndarray) -> np.ndarray:
    return np.array([CHANNEL_ECON[c][key] for c in CHANNELS], dtype=float)[channel]


def make_leads(rng: np.random.Generator, scale: float) -> dict[str, np.ndarray]:
    """Draw every lead: who they are, where they came from and how far they got."""
    n = round(N_LEADS * scale)
    shares = np.array([p["share"] for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum())
    chan_p = np.array([p["channels"] for p in PERSONAS], float)
    channel = choice_rows(rng, chan_p[persona])
    created = seasonal_times(rng, n)

    # Event-sourced leads are created at the events (badge scans imported up to 5 days later).
    cchan, cstart, cend, _, cweight = campaign_windows()
    ev = np.flatnonzero(channel == CH["events"])
    ev_w = np.where(cchan == CH["events"], cweight, 0.0)
    which = rng.choice(len(ev_w), size=len(ev), p=ev_w / ev_w.sum())
    span = cend[which] - cstart[which] + 5 * DAY
    day0 = cstart[which] + np.floor(rng.random(len(ev)) * span / DAY) * DAY
    created[ev] = day0 + business_seconds(rng, len(ev))

    campaign = pick_campaign(rng, channel, created)
    campaign[ev] = np.array([c[0] for c in CAMPAIGNS], dtype=object)[which]
    order = np.argsort(created, kind="stable")
    persona, channel, created = persona[order], channel[order], created[order]
    lead = {"persona": persona, "channel": channel, "created": created}
    lead["campaign"] = campaign[order]
    lead.update(_attributes(rng, persona))
    lead.update(_lifecycle(rng, persona, channel, created))
    _censor(lead)
    lead["group"] = _holdout(rng, lead)
    lead["first_response"] = _first_response(rng, lead)
    lead["owner"] = _owners(rng, lead)
    lead.update(_pii(rng, lead["region"]))
    lead["customer"] = np.where(lead["won"] & (lead["close"] < END), lead["close"], np.nan)
    return lead


def _attributes(rng: np.random.Generator, persona: np.ndarray) -> dict[str, np.ndarray]:
    n = len(persona)
    size_med = np.array([p["size"][0] for p in PERSONAS], float)[persona]
    size_sig = np.array([p["size"][1] for p in PERSONAS], float)[persona]
    size = np.maximum(1, np.round(lognormal(rng, size_med, size_sig)))
    rpe_med = np.array([p["rpe"][0] for p in PERSONAS], float)[persona]
    rpe_sig = np.array([p["rpe"][1] for p in PERSONAS], float)[persona]
    revenue = np.round(size * lognormal(rng, rpe_med, rpe_sig), -3)
    out = {"company_size": size.astype(np.int64), "annual_revenue": revenue}
    for key, col in (
        ("industry", "industry"),
        ("role", "job_role"),
        ("seniority", "seniority"),
        ("region", "region"),
    ):
        out[col] = choice_rows(rng, np.array([p[key] for p in PERSONAS], float)[persona])
    for key, col in (
        ("visits", "web_visits_90d"),
        ("downloads", "content_downloads"),
        ("webinars", "webinars_attended"),
    ):
        out[col] = rng.poisson(_param(key, persona) * lognormal(rng, 1.0, OVERDISPERSION, n))
    a = np.array([p["open"][0] for p in PERSONAS], float)[persona]
    b = np.array([p["open"][1] for p in PERSONAS], float)[persona]
    out["email_open_rate"] = np.round(rng.beta(a, b), 4)
    out["trial_user"] = rng.random(n) < _param("trial", persona)
    return out


def _lifecycle(rng, persona, channel, created) -> dict[str, np.ndarray]:
    """Stage times before censoring; ``close`` is the deal's close (won or lost)."""
    n = len(persona)
    f = np.array([p["funnel"] for p in PERSONAS], float)[persona]
    p_mql = np.clip(f[:, 0] * _econ("mql", channel), 0, 0.95)
    p_win = np.clip(f[:, 3] * _econ("win", channel), 0, 0.9)
    u = rng.random((n, 6))
    is_mql = u[:, 0] < p_mql
    is_sql = is_mql & (u[:, 1] < f[:, 1])
    is_opp = is_sql & (u[:, 2] < f[:, 2])
    won = is_opp & (u[:, 3] < p_win)
    mql = created + lognormal(rng, 2.5, 1.0, n) * DAY
    sql = mql + lognormal(rng, 4.0, 0.8, n) * DAY
    opp = sql + lognormal(rng, 6.0, 0.7, n) * DAY
    cycle = _param("cycle", persona)
    close = opp + rng.gamma(3.0, cycle / 3.0) * np.where(won, 1.0, 0.8) * DAY
    dq_p = np.select([~is_mql, ~is_sql, ~is_opp], [0.08, 0.45, 0.55], 0.0)
    dq_from = np.select([~is_mql, ~is_sql], [created, mql], sql)
    dq_gap = np.where(is_mql, lognormal(rng, 9.0, 0.8, n), lognormal(rng, 25.0, 0.6, n))
    disq = np.where(u[:, 4] < dq_p, dq_from + dq_gap * DAY, np.nan)
    nan = np.nan
    out = {
        "mql": np.where(is_mql, mql, nan),
        "sql": np.where(is_sql, sql, nan),
        "opp": np.where(is_opp, opp, nan),
        "close": np.where(is_opp, close, nan),
        "won": won,
        "disq": disq,
    }
    # A few hot leads (referrals, events, direct) skip MQL: sales takes them straight to SQL.
    hot = np.isin(channel, [CH["referral"], CH["events"], CH["direct"]])
    skip = is_sql & hot & (u[:, 5] < 0.12)
    out["mql"][skip] = nan
    acv_med = np.array([p["acv"][0] for p in PERSONAS], float)[persona]
    acv_sig = np.array([p["acv"][1] for p in PERSONAS], float)[persona]
    out["acv"] = np.round(lognormal(rng, acv_med, acv_sig) * _econ("acv", channel), -2)
    prod = np.array([p["product"] for p in PERSONAS], float)[persona]
    out["product"] = choice_rows(rng, prod)
    for k in STAGE_COLS:
        out[k] = floor_s(out[k])
    return out


def _censor(lead: dict[str, np.ndarray]) -> None:
    """Anything at or after END has not happened yet."""
    for k in ("mql", "sql", "opp", "disq"):
        lead[k][lead[k] >= END] = np.nan


def _holdout(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> np.ndarray:
    """Assign stalled leads 50/50 at one moment and rewrite their future by the planted rates.

    Eligible: created at least ``min_age_days`` before assignment, no SQL and not disqualified
    by then. After assignment exactly ``round(rate x arm size)`` leads of each arm reach
    opportunity within ``window_days`` (control or treatment rate); of the others,
    ``later_rate`` (both arms, random) reach it 61-140 days after assignment.
    Returns the group per lead: -1 not assigned, 0 control, 1 treatment.
    """
    a = float(HOLDOUT["assigned_at"])
    elig = (
        (lead["created"] <= a - HOLDOUT["min_age_days"] * DAY)
        & ~(lead["sql"] <= a)
        & ~(lead["disq"] <= a)
    )
    idx = np.flatnonzero(elig)
    group = np.full(len(lead["created"]), -1)
    perm = rng.permutation(idx)
    group[perm[: len(perm) // 2]] = 1
    group[perm[len(perm) // 2 :]] = 0
    m = len(idx)
    for k in ("sql", "opp", "close", "disq"):
        lead[k][idx] = np.nan
    lead["mql"][idx] = np.where(lead["mql"][idx] > a, np.nan, lead["mql"][idx])
    lead["won"][idx] = False
    u = rng.random((m, 4))
    w = HOLDOUT["window_days"]
    # Exactly round(rate x group size) converters per arm, so the planted rates are realised;
    # within an arm, leads with more pre-period web visits (the covariate) convert more often.
    x = np.log1p(lead[HOLDOUT["covariate"]][idx].astype(float))
    odds = np.exp(HOLDOUT["covariate_effect"] * (x - x.mean()) / x.std())
    conv = np.zeros(m, bool)
    for g, rate in ((0, HOLDOUT["control_rate"]), (1, HOLDOUT["treatment_rate"])):
        members = np.flatnonzero(group[idx] == g)
        p = odds[members] / odds[members].sum()
        conv[rng.choice(members, size=round(rate * len(members)), replace=False, p=p)] = True
    later = ~conv & (u[:, 1] < HOLDOUT["later_rate"])
    gap = np.where(conv, 2.0 + rng.beta(1.3, 2.0, m) * (w - 2.5), w + 1 + u[:, 2] * 80)
    opp = np.where(conv | later, floor_s(a + gap * DAY), np.nan)
    sql = floor_s(a + (opp - a) * rng.uniform(0.3, 0.8, m))
    mql_new = floor_s(a + (sql - a) * rng.uniform(0.1, 0.5, m))
    mql = lead["mql"][idx]
    lead["mql"][idx] = np.where(np.isnan(mql) & ~np.isnan(opp), mql_new, mql)
    lead["sql"][idx], lead["opp"][idx] = sql, opp
    persona = lead["persona"][idx]
    p_win = np.array([p["funnel"][3] for p in PERSONAS])[persona]
    p_win = np.clip(p_win * _econ("win", lead["channel"][idx]), 0, 0.9)
    won = ~np.isnan(opp) & (u[:, 3] < p_win)
    cycle = _param("cycle", persona)
    close = opp + rng.gamma(3.0, cycle / 3.0) * np.where(won, 1.0, 0.8) * DAY
    lead["close"][idx] = floor_s(close)
    lead["won"][idx] = won
    dq = np.isnan(opp) & (rng.random(m) < 0.15)
    lead["disq"][idx] = np.where(dq, floor_s(a + rng.uniform(20, 140, m) * DAY), np.nan)
    _censor(lead)
    return group


def _first_response(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> np.ndarray:
    """First sales response after the handoff (MQL, or SQL for leads that skipped MQL)."""
    handoff = np.where(np.isnan(lead["mql"]), lead["sql"], lead["mql"])
    n = len(handoff)
    month = np.where(
        np.isnan(handoff), "", np.datetime_as_string(handoff.astype("datetime64[s]"), unit="M")
    )
    breach = np.isin(month, BREACH_MONTHS)
    med = np.where(breach, BREACH["median_h"], RESPONSE["median_h"])
    sig = np.where(breach, BREACH["sigma"], RESPONSE["sigma"])
    none_p = np.where(breach, BREACH["no_response"], RESPONSE["no_response"])
    hours = lognormal(rng, med, sig)
    u = rng.random((n, 2))
    hours = np.where(u[:, 1] < 0.01, -rng.uniform(0.2, 3.0, n), hours)  # logged before MQL
    resp = floor_s(handoff + hours * HOUR)
    resp[(u[:, 0] < none_p) | (resp >= END)] = np.nan
    return resp


def _owners(rng: np.random.Generator, lead: dict[str, np.ndarray]) -> np.ndarray:
    """O01-O02 enterprise, O03-O04 North America and LATAM, O05-O06 EMEA, O07 APAC, O08 from July 2025."""
    n = len(lead["created"])
    region = lead["region"]
    ent = (lead["persona"] == 0) | (lead["company_size"] >= 2000)
    pair = np.select([region == 1, region == 2], [4, 6], 2)  # O05/O06, O07, else O03/O04
    owner = np.where(region == 2, 6, pair + rng.integers(0, 2, n))
    owner = np.where(ent, rng.integers(0, 2, n), owner)
    o8 = (lead["created"] >= O08_START) & ~ent & (region != 2) & (rng.random(n) < 0.3)
    return np.where(o8, 7, owner)


def _pii(rng: np.random.Generator, region: np.ndarray) -> dict[str, np.ndarray]:
    """Fake names, emails on reserved ``.example`` domains and fictional phone ranges."""
    n = len(region)
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    w1 = np.array(DOMAIN_WORDS, dtype=object)[rng.integers(0, len(DOMAIN_WORDS), n)]
    w2 = np.array(DOMAIN_SUFFIX, dtype=object)[rng.integers(0, len(DOMAIN_SUFFIX), n)]
    full = first + " " + last
    local = np.array(
        [f"{a}.{b}".lower().replace(" ", "") for a, b in zip(first, last, strict=True)], object
    )
    email = local + "@" + w1 + w2 + ".example"
    seen: dict[str, int] = {}
    for i, e in enumerate(email):  # a few same-name colleagues: number the later ones
        k = seen.get(e, 0)
        seen[e] = k + 1
        if k:
            email[i] = e.replace("@", f"{k + 1}@")
    d = rng.integers(0, 10_000, n)
    phone = np.select(
        [region == 1, region == 2],
        [
            np.array([f"+44 20 7946 0{x % 1000:03d}" for x in d], object),
            np.array([f"+61 2 5550 {x:04d}" for x in d], object),
        ],
        np.array([f"+1 {200 + x % 700:03d} 555 01{x % 100:02d}" for x in d], object),
    )
    return {"full_name": full, "email": email, "phone": phone}


def plant_defects(rng: np.random.Generator, lead: dict[str, np.ndarray], scale: float) -> list:
    """Put a few realistic CRM errors into the leads (never into the holdout groups).

    Returns ``(table, problem, lead indices)`` records for the ground truth.
    """
    lead["created0"] = lead["created"].copy()  # the true creation, before the defects
    free = lead["group"] < 0
    taken = np.zeros(len(free), bool)

    def pick(mask: np.ndarray, k: int) -> np.ndarray:
        cand = np.flatnonzero(mask & free & ~taken)
        out = np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))
        taken[out] = True
        return out

    has = {k: np.isfinite(lead[k]) for k in ("mql", "sql", "customer")}
    a = pick(has["mql"] & has["sql"], round(12 * scale))
    lead["mql"][a] = floor_s(lead["sql"][a] + rng.uniform(1, 48, len(a)) * HOUR)
    b = pick(has["mql"] & ~has["sql"] & (lead["mql"] < END - 11 * DAY), round(5 * scale))
    lead["created"][b] = floor_s(lead["mql"][b] + rng.uniform(1, 10, len(b)) * DAY)
    c = pick(has["customer"], round(5 * scale))
    lead["opp"][c] = floor_s(lead["customer"][c] + rng.uniform(1, 6, len(c)) * DAY)
    return [
        ("leads", "mql_at after sql_at (marketing stamp written after sales accepted)", a),
        ("leads", "created_at after mql_at (record re-imported, creation date reset)", b),
        ("leads", "opportunity_at after customer_at (opportunity logged after the win)", c),
    ]
