"""Deals, customers, subscription invoices (orders) and quotas of the sample company.

Private to :mod:`salesmkt.sample`. Every account that ever buys is a *line owner*: a base
subscription (annual contract value ``acv``, billed monthly or yearly) that ends when the
account churns, plus add-on lines from won expansion deals. Orders are the invoices of those
lines from 2024-01-01 on; renewal deals mark the yearly anniversaries of annual contracts.
"""

from __future__ import annotations

import numpy as np

from salesmkt.sample.base import lognormal
from salesmkt.sample.config import (
    DAY,
    END,
    HOUR,
    N_EXISTING_CUSTOMERS,
    O08_START,
    ORDERS_FROM,
    OWNERS,
    PERSONAS,
    PRODUCTS,
    START,
)
from salesmkt.sample.leads import _econ

EXPANSION_HAZARD = 0.03  # per customer-month
RENEWAL_LEAD_DAYS = 45
SERVICES_SHARE = 0.35
#: Quota over average bookings per owner O01..O08 (attainment is about the inverse).
STRETCH = (0.95, 1.1, 1.25, 1.0, 1.35, 1.15, 0.85, 1.2)


def add_months(ts: np.ndarray, k) -> np.ndarray:
    """``ts`` moved by ``k`` calendar months; billing days past the 28th move to the 28th."""
    d = np.asarray(ts).astype("datetime64[s]")
    month = d.astype("datetime64[M]")
    offset = np.minimum((d - month.astype("datetime64[s]")).astype(np.int64), 28 * DAY - 1)
    shifted = (month + np.asarray(k).astype("timedelta64[M]")).astype("datetime64[s]")
    return shifted.astype(np.int64).astype(float) + offset


def _churn(rng, start, annual, p_month) -> np.ndarray:
    """Churn moment: a monthly contract lapses after a geometric number of months, an annual
    one at a geometric number of anniversaries."""
    p_year = 1 - (1 - p_month) ** 12
    months = np.where(annual, 12 * rng.geometric(p_year), rng.geometric(p_month))
    return add_months(start, months)


def _existing(rng, scale: float) -> dict[str, np.ndarray]:
    """Customers acquired 2021-2024, still billing on 2024-01-01."""
    m = 3 * round(N_EXISTING_CUSTOMERS * scale)
    start = np.floor(rng.uniform(np.datetime64("2021-01-01", "s").astype(int), START, m))
    annual = rng.random(m) < 0.55
    churn = _churn(rng, start, annual, np.full(m, 0.012))
    keep = np.flatnonzero(churn > ORDERS_FROM)[: round(N_EXISTING_CUSTOMERS * scale)]
    return {
        "start": start[keep],
        "annual": annual[keep],
        "churn": churn[keep],
        "acv": np.round(lognormal(rng, 18_000, 0.6, m), -2)[keep],
        "product": rng.choice(3, size=m, p=(0.25, 0.55, 0.2))[keep],
        "owner": rng.integers(0, 7, m)[keep],
    }


def make_revenue(rng: np.random.Generator, lead: dict, scale: float) -> dict[str, dict]:
    """Deals (new business, expansion, renewal), orders and account facts, as arrays.

    Accounts are numbered existing customers first, then one per lead in lead order.
    """
    ex = _existing(rng, scale)
    n_ex, n_lead = len(ex["start"]), len(lead["created"])
    lead_acct = n_ex + np.arange(n_lead)

    # New-business deals: one per lead that reached opportunity.
    i = np.flatnonzero(np.isfinite(lead["opp"]))
    close = lead["close"][i]
    done = close < END
    won = lead["won"][i] & done
    persona = lead["persona"][i]
    cycle = np.array([p["cycle"] for p in PERSONAS])[persona]
    nb = {
        "created": lead["opp"][i],
        "lead": i,
        "account": lead_acct[i],
        "owner": lead["owner"][i],
        "amount": lead["acv"][i],
        "product": lead["product"][i],
        "status": np.where(won, 2, np.where(done, 0, 1)),  # 0 lost, 1 open, 2 won
        "closed": np.where(done, close, np.nan),
        "expected": np.where(
            done, np.nan, np.floor(lead["opp"][i] + cycle * lognormal(rng, 1.0, 0.3) * DAY)
        ),
        "type": np.zeros(len(i), int),
    }

    # Customers: existing accounts plus won new business.
    w = i[won]
    p_annual = np.array([p["annual"] for p in PERSONAS])[lead["persona"][w]]
    annual_new = rng.random(len(w)) < p_annual
    p_churn = np.array([p["churn"] for p in PERSONAS])[lead["persona"][w]]
    p_churn = p_churn * _econ("churn", lead["channel"][w])
    start_new = lead["close"][w]
    cust = {
        "account": np.concatenate([np.arange(n_ex), lead_acct[w]]),
        "start": np.concatenate([ex["start"], start_new]),
        "annual": np.concatenate([ex["annual"], annual_new]),
        "churn": np.concatenate([ex["churn"], _churn(rng, start_new, annual_new, p_churn)]),
        "acv": np.concatenate([ex["acv"], lead["acv"][w]]),
        "product": np.concatenate([ex["product"], lead["product"][w]]),
        "owner": np.concatenate([ex["owner"], lead["owner"][w]]),
        "new": np.r_[np.zeros(n_ex, bool), np.ones(len(w), bool)],
    }
    exp = _expansions(rng, cust)
    ren = _renewals(rng, cust)
    deals = {k: np.concatenate([nb[k], exp[k], ren[k]]) for k in nb}
    orders = _orders(rng, cust, exp)
    return {"deals": deals, "orders": orders, "customers": cust, "n_accounts": n_ex + n_lead}


def _expansions(rng, cust) -> dict[str, np.ndarray]:
    """Up to two expansion deals per customer while it is active in the window."""
    m = len(cust["start"])
    active_from = np.maximum(cust["start"], START)
    t1 = add_months(active_from, rng.geometric(EXPANSION_HAZARD, m)) + rng.uniform(0, 20, m) * DAY
    t2 = add_months(t1, rng.geometric(EXPANSION_HAZARD, m))
    c = np.r_[np.arange(m), np.arange(m)]
    created = np.floor(np.r_[t1, t2])
    ok = (created < np.minimum(cust["churn"][c], END)) & (created >= START)
    c, created = c[ok], created[ok]
    k = len(c)
    close = np.floor(created + rng.gamma(2.0, 15.0, k) * DAY)
    done = close < END
    win = rng.random(k) < 0.4
    won = done & win & (close < cust["churn"][c])
    return {
        "created": created,
        "lead": np.full(k, -1),
        "account": cust["account"][c],
        "owner": cust["owner"][c],
        "amount": np.round(cust["acv"][c] * rng.uniform(0.15, 0.45, k), -2),
        "product": np.where(rng.random(k) < 0.65, 3, 2),
        "status": np.where(won, 2, np.where(done, 0, 1)),
        "closed": np.where(done, close, np.nan),
        "expected": np.where(done, np.nan, np.floor(created + 30 * DAY)),
        "type": np.ones(k, int),
        "cust": c,
    }


def _renewals(rng, cust) -> dict[str, np.ndarray]:
    """A renewal deal for every anniversary of an annual contract in the window."""
    rows = []
    for year in range(1, 7):
        anniv = add_months(cust["start"], 12 * year)
        created = np.floor(anniv - (RENEWAL_LEAD_DAYS - rng.uniform(0, 10, len(anniv))) * DAY)
        ok = cust["annual"] & (anniv >= START) & (created < END) & (cust["churn"] >= anniv)
        rows.append((np.flatnonzero(ok), anniv[ok], created[ok]))
    c = np.concatenate([r[0] for r in rows])
    anniv = np.concatenate([r[1] for r in rows])
    created = np.concatenate([r[2] for r in rows])
    done = anniv < END
    won = done & (cust["churn"][c] > anniv)
    return {
        "created": created,
        "lead": np.full(len(c), -1),
        "account": cust["account"][c],
        "owner": cust["owner"][c],
        "amount": cust["acv"][c],
        "product": cust["product"][c],
        "status": np.where(won, 2, np.where(done, 0, 1)),
        "closed": np.where(done, anniv, np.nan),
        "expected": np.where(done, np.nan, anniv),
        "type": np.full(len(c), 2),
    }


def _orders(rng, cust, exp) -> dict[str, np.ndarray]:
    """Invoices: base and add-on subscription lines, plus one-off onboarding services."""
    wx = exp["status"] == 2
    cx = exp["cust"][wx]
    line = {
        "account": np.r_[cust["account"], cust["account"][cx]],
        "start": np.r_[cust["start"], exp["closed"][wx]],
        "annual": np.r_[cust["annual"], cust["annual"][cx]],
        "end": np.r_[cust["churn"], cust["churn"][cx]],
        "amount": np.r_[cust["acv"], exp["amount"][wx]],
        "product": np.r_[cust["product"], exp["product"][wx]],
    }
    period = np.where(line["annual"], 12, 1)
    acc, ts, rev, prod = [], [], [], []
    for k in range(0, 80):
        t = add_months(line["start"], k * period)
        ok = (t >= ORDERS_FROM) & (t < np.minimum(line["end"], END))
        acc.append(line["account"][ok])
        ts.append(t[ok])
        rev.append(line["amount"][ok] * period[ok] / 12)
        prod.append(line["product"][ok])
    new = np.flatnonzero(cust["new"] & (rng.random(len(cust["new"])) < SERVICES_SHARE))
    t_srv = cust["start"][new] + rng.uniform(3, 20, len(new)) * DAY
    ok = t_srv < END
    acc.append(cust["account"][new][ok])
    ts.append(t_srv[ok])
    rev.append(np.round(lognormal(rng, 3_000, 0.4, len(new)), -1)[ok])
    prod.append(np.full(ok.sum(), PRODUCTS.index("Onboarding Services")))
    ts_all = np.concatenate(ts)
    day = np.floor(ts_all / DAY) * DAY
    ordered = day + np.floor((5 + rng.uniform(0, 3, len(day))) * HOUR)
    return {
        "account": np.concatenate(acc),
        "ordered": ordered,
        "revenue": np.round(np.concatenate(rev), 2),
        "product": np.concatenate(prod),
    }


def quotas(deals: dict, months: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly quota per owner: a stretch factor (:data:`STRETCH`, 0.85-1.35) x the owner's
    average monthly bookings x the team's bookings trend.

    Bookings = won amounts of every deal type (new business, expansion, renewal), as the
    quota-attainment KPI counts them. The trend is the team's monthly bookings smoothed over
    five months (centred) relative to their mean, so quotas follow the company's ramp-up and
    attainment is about the inverse of the stretch. O08 starts in July 2025 and ramps over
    three months. Returns owner index, month start (seconds) and quota.
    """
    booked = deals["status"] == 2
    which = np.searchsorted(months, deals["closed"][booked], side="right") - 1
    ok = (which >= 0) & (which < len(months))
    team = np.bincount(which[ok], weights=deals["amount"][booked][ok], minlength=len(months))
    smooth = np.array([team[max(0, j - 2) : j + 3].mean() for j in range(len(months))])
    trend = smooth / smooth.mean()
    own, mon, quo = [], [], []
    for o in range(len(OWNERS)):
        first = O08_START if o == 7 else START
        mine = booked & (deals["owner"] == o)
        live = months >= first
        base = deals["amount"][mine].sum() / max(trend[live].sum(), 1e-9)
        for j in np.flatnonzero(live):
            ramp = min(1.0, (j - np.argmax(live) + 1) / 3) if o == 7 else 1.0
            own.append(o)
            mon.append(months[j])
            quo.append(max(1000.0, round(STRETCH[o] * base * trend[j] * ramp, -3)))
    return np.array(own), np.array(mon, float), np.array(quo, float)
