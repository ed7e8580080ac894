"""Web sessions, marketing touchpoints, product events and ad spend of the sample company.

Private to :mod:`salesmkt.sample`; arrays in, arrays out (times as float seconds).
"""

from __future__ import annotations

import numpy as np

from salesmkt.data.schema import CHANNELS
from salesmkt.sample.base import (
    CH,
    campaign_windows,
    choice_rows,
    day_starts,
    lognormal,
    pick_campaign,
    seasonal_times,
)
from salesmkt.sample.config import CAMPAIGNS, DAY, END, HOLDOUT, HOUR, N_ANON_SESSIONS, START

LANDING = ("/", "/pricing", "/product", "/blog", "/webinars", "/lp/trial", "/lp/ebook", "/lp/demo")
# Landing-page mix per channel (rows in schema.CHANNELS order, columns in LANDING order).
LANDING_MIX = np.array(
    [
        [0.2, 0.1, 0.15, 0.55, 0.0, 0.0, 0.0, 0.0],  # organic_search
        [0.3, 0.3, 0.0, 0.0, 0.0, 0.4, 0.0, 0.0],  # paid_search
        [0.2, 0.0, 0.0, 0.8, 0.0, 0.0, 0.0, 0.0],  # organic_social
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.6, 0.0],  # paid_social
        [0.0, 0.0, 0.3, 0.4, 0.3, 0.0, 0.0, 0.0],  # email
        [0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # referral
        [0.7, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0],  # direct
        [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.5],  # display
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # events
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # other
    ]
)
BOUNCE = np.array([0.4, 0.45, 0.55, 0.65, 0.35, 0.3, 0.45, 0.75, 0.3, 0.5])
#: Channel mix of anonymous traffic (schema.CHANNELS order).
ANON_MIX = np.array([0.34, 0.15, 0.07, 0.11, 0.04, 0.04, 0.17, 0.06, 0.0, 0.02])
#: Channel mix of touches after the first, for journeys that reach opportunity / do not.
TOUCH_CONV = np.array([0.14, 0.15, 0.03, 0.04, 0.3, 0.05, 0.18, 0.03, 0.08, 0.0])
TOUCH_NULL = np.array([0.15, 0.1, 0.05, 0.15, 0.2, 0.02, 0.2, 0.13, 0.0, 0.0])
#: P(activate | trial) per persona.
ACTIVATE = np.array([0.45, 0.65, 0.5, 0.35, 0.75])


def make_sessions(rng: np.random.Generator, lead: dict, scale: float) -> dict[str, np.ndarray]:
    """Lead-creating sessions, the same visitors before and after, and anonymous traffic."""
    web = np.flatnonzero(~np.isin(lead["channel"], [CH["events"], CH["other"]]))
    n_web = len(web)
    # visitor keys: leads' visitors 0..n_web-1, anonymous ones after
    created = lead["created0"][web]
    first = {
        "visitor": np.arange(n_web),
        "started": np.floor(created - rng.uniform(60, 1200, n_web)),
        "channel": lead["channel"][web],
        "campaign": lead["campaign"][web],
        "lead": web,
        "forced": np.ones(n_web, bool),
    }
    k_pre = rng.poisson(0.8, n_web)
    v_pre = np.repeat(np.arange(n_web), k_pre)
    t_pre = np.floor(created[v_pre] - rng.exponential(12.0, len(v_pre)) * DAY)
    k_post = rng.poisson(np.minimum(lead["web_visits_90d"][web], 25) * 0.08)
    v_post = np.repeat(np.arange(n_web), k_post)
    t_post = np.floor(created[v_post] + rng.uniform(0.05, 90, len(v_post)) * DAY)
    n_anon_v = round(N_ANON_SESSIONS * scale / 1.4)
    k_anon = 1 + rng.poisson(0.4, n_anon_v)
    v_anon = n_web + np.repeat(np.arange(n_anon_v), k_anon)
    t_anon = seasonal_times(rng, len(v_anon))
    # a returning visitor comes back some days after the previous visit
    t_anon += np.where(_not_first(k_anon), rng.exponential(9.0, len(v_anon)) * DAY, 0.0)
    v = np.concatenate([v_pre, v_post, v_anon])
    t = np.concatenate([t_pre, t_post, t_anon])
    ch = choice_rows(rng, np.tile(ANON_MIX, (len(v), 1)))
    other = {
        "visitor": v,
        "started": t,
        "channel": ch,
        "campaign": pick_campaign(rng, ch, t),
        "lead": np.full(len(v), -1),
        "forced": np.zeros(len(v), bool),
    }
    s = {k: np.concatenate([first[k], other[k]]) for k in first}
    keep = (s["started"] >= START) & (s["started"] < END)
    s = {k: x[keep] for k, x in s.items()}
    order = np.lexsort((s["visitor"], s["started"]))
    s = {k: x[order] for k, x in s.items()}
    m = len(s["started"])
    bounced = ~s["forced"] & (rng.random(m) < BOUNCE[s["channel"]])
    pv = np.where(bounced, 1, 2 + rng.poisson(2.5, m))
    pv = np.where(~bounced & ~s["forced"] & (rng.random(m) < 0.1), 1, pv)
    dur = np.where(bounced, lognormal(rng, 8.0, 0.8, m), lognormal(rng, 210.0, 0.8, m))
    dur = np.round(dur)
    dur[rng.random(m) < 0.005] = np.nan
    s.update(
        bounced=bounced,
        pageviews=pv,
        duration=dur,
        landing=choice_rows(rng, LANDING_MIX[s["channel"]]),
    )
    # visitor ids in order of first appearance
    _, first_idx, inv = np.unique(s["visitor"], return_index=True, return_inverse=True)
    rank = np.empty(len(first_idx), int)
    rank[np.argsort(first_idx, kind="stable")] = np.arange(len(first_idx))
    s["visitor"] = rank[inv]
    return s


def _not_first(k: np.ndarray) -> np.ndarray:
    """For groups of sizes ``k`` laid out consecutively: False at each group's first row."""
    flag = np.ones(k.sum(), bool)
    flag[np.r_[0, k.cumsum()[:-1]]] = False
    return flag


def make_touchpoints(rng: np.random.Generator, lead: dict) -> dict[str, np.ndarray]:
    """1-8 touches per lead from before creation until conversion, plus the nurture emails."""
    n = len(lead["created"])
    reached = np.isfinite(lead["opp"])
    n_t = np.where(
        reached,
        3 + rng.binomial(5, 0.45, n),
        np.where(
            np.isfinite(lead["mql"]), 2 + rng.binomial(4, 0.35, n), 1 + rng.binomial(3, 0.3, n)
        ),
    )
    n_t = np.minimum(n_t, 8)
    created = lead["created0"]
    is_event = lead["channel"] == CH["events"]
    lead0 = np.where(is_event | (n_t == 1), rng.uniform(0, 1800, n), rng.exponential(6.0, n) * DAY)
    t0 = np.maximum(np.floor(created - lead0), START)
    end = np.select(
        [
            np.isfinite(lead["customer"]),
            reached,
            np.isfinite(lead["sql"]),
            np.isfinite(lead["mql"]),
        ],
        [lead["customer"] - HOUR, lead["opp"], lead["sql"], lead["mql"] + 30 * DAY],
        created + 45 * DAY,
    )
    end = np.clip(end, t0 + 60, END - 1)
    person = np.repeat(np.arange(n), n_t - 1)
    ts = np.floor(t0[person] + rng.random(len(person)) * (end - t0)[person])
    mix = np.where(reached[person][:, None], TOUCH_CONV[None, :], TOUCH_NULL[None, :])
    ch = choice_rows(rng, mix)
    ev_start, ev_end = _event_windows()
    in_event = ((ts[:, None] >= ev_start) & (ts[:, None] < ev_end)).any(axis=1)
    ch = np.where((ch == CH["events"]) & ~in_event, CH["email"], ch)
    camp = pick_campaign(rng, ch, ts)
    trial_email = (ch == CH["email"]) & lead["trial_user"][person] & (ts > created[person])
    camp = np.where(trial_email & (rng.random(len(ts)) < 0.4), "C11", camp)
    treat = np.flatnonzero(lead["group"] == 1)
    days = np.array(HOLDOUT["emails_days"], float)
    p_n = np.repeat(treat, len(days))
    t_n = HOLDOUT["assigned_at"] + np.tile(days, len(treat)) * DAY
    t_n = np.floor(t_n + rng.uniform(0, 6 * HOUR, len(p_n)))
    stop = ~(t_n >= lead["opp"][p_n])  # the nurture stops once a lead becomes an opportunity
    p_n, t_n = p_n[stop], t_n[stop]
    out = {
        "person": np.concatenate([np.arange(n), person, p_n]),
        "ts": np.concatenate([t0, ts, t_n]),
        "channel": np.concatenate([lead["channel"], ch, np.full(len(p_n), CH["email"])]),
        "campaign": np.concatenate([lead["campaign"], camp, np.full(len(p_n), "C12", object)]),
    }
    keep = out["ts"] < END
    order = np.lexsort((out["ts"][keep], out["person"][keep]))
    return {k: v[keep][order] for k, v in out.items()}


def _event_windows() -> tuple[np.ndarray, np.ndarray]:
    chan, start, end, _, _ = campaign_windows()
    ev = chan == CH["events"]
    return start[ev], end[ev]


def make_events(rng: np.random.Generator, lead: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Product-funnel events per lead, with repeats, clock-skew noise and duplicate rows."""
    n = len(lead["created"])
    created = lead["created0"]
    sql = np.isfinite(lead["sql"])
    parts = []

    def add(person, ts, name):
        parts.append((person, np.floor(ts), np.full(len(person), name, object)))

    lam = 0.4 + 0.08 * np.minimum(lead["web_visits_90d"], 25) + 1.0 * sql
    k = rng.poisson(lam)
    p = np.repeat(np.arange(n), k)
    add(p, created[p] + rng.exponential(8.0, len(p)) * DAY, "visit_pricing")
    trial = np.flatnonzero(lead["trial_user"])
    t_trial = created[trial] + rng.exponential(2.0, len(trial)) * DAY
    add(trial, t_trial, "start_trial")
    cust = np.isfinite(lead["customer"][trial])
    act = rng.random(len(trial)) < np.minimum(ACTIVATE[lead["persona"][trial]] + 0.25 * cust, 0.95)
    t_act = t_trial[act] + rng.gamma(2.0, 1.0, act.sum()) * DAY
    skew = rng.random(len(t_act)) < 0.02
    t_act = np.where(skew, t_trial[act] - rng.uniform(60, 7200, len(t_act)), t_act)
    add(trial[act], t_act, "activate")
    inv = rng.random(len(t_act)) < 0.45
    k_inv = np.where(inv, 1 + rng.poisson(0.6, len(t_act)), 0)
    p_inv = np.repeat(trial[act], k_inv)
    add(p_inv, np.repeat(t_act, k_inv) + rng.gamma(2.0, 2.0, len(p_inv)) * DAY, "invite_teammate")
    u = rng.random(n)
    demo_sql = np.flatnonzero(sql & (u < 0.7))
    add(demo_sql, lead["sql"][demo_sql] - rng.uniform(0, 6 * HOUR, len(demo_sql)), "request_demo")
    demo_other = np.flatnonzero(~sql & (u < 0.06))
    t_demo = created[demo_other] + rng.exponential(10.0, len(demo_other)) * DAY
    add(demo_other, t_demo, "request_demo")
    buyer = np.flatnonzero(np.isfinite(lead["customer"]))
    add(buyer, lead["customer"][buyer] + rng.uniform(0, 2 * HOUR, len(buyer)), "purchase")
    person = np.concatenate([x[0] for x in parts])
    ts = np.concatenate([x[1] for x in parts])
    event = np.concatenate([x[2] for x in parts])
    keep = ts < END
    person, ts, event = person[keep], ts[keep], event[keep]
    dup = np.flatnonzero(rng.random(len(ts)) < 0.01)
    person, ts, event = np.r_[person, person[dup]], np.r_[ts, ts[dup]], np.r_[event, event[dup]]
    order = np.lexsort((event, ts, person))
    noise = {"activate_before_start_trial": int(skew.sum()), "duplicate_rows": len(dup)}
    return {"person": person[order], "ts": ts[order], "event": event[order]}, noise


def make_spend(rng: np.random.Generator, lead: dict) -> dict[str, np.ndarray]:
    """Daily spend per paid campaign: sourced leads x planted CPL, spread over active days.

    Half of a campaign's budget follows its daily lead volume, half is spread evenly; events
    put 70 % on their first day (booth and sponsorship). Email tools cost a fixed daily fee.
    """
    days = day_starts()
    chan, start, end, cpl, _ = campaign_windows()
    day_idx = np.floor((lead["created0"] - START) / DAY).astype(int)
    cid, d_out, amt = [], [], []
    for j, c in enumerate(CAMPAIGNS):
        active = (days >= start[j]) & (days < end[j])
        n_act = active.sum()
        if np.isfinite(cpl[j]):
            mine = lead["campaign"] == c[0]
            per_day = np.bincount(day_idx[mine], minlength=len(days))[active].astype(float)
            total = max(mine.sum(), 1) * cpl[j] * lognormal(rng, 1.0, 0.08)
            if chan[j] == CH["events"]:
                w = np.full(n_act, 0.3 / n_act)
                w[0] += 0.7
            else:
                w = 0.5 / n_act + 0.5 * per_day / max(per_day.sum(), 1.0)
                w = w * lognormal(rng, 1.0, 0.15, n_act)
                w = w / w.sum()
            a = total * w
        else:
            a = c[8] * lognormal(rng, 1.0, 0.1, n_act)
        a = np.round(a, 2)
        ok = a > 0
        cid.append(np.full(ok.sum(), j))
        d_out.append(days[active][ok])
        amt.append(a[ok])
    return {
        "campaign": np.concatenate(cid),
        "date": np.concatenate(d_out),
        "amount": np.concatenate(amt),
    }


def channel_of(campaign_index: np.ndarray) -> np.ndarray:
    """Channel names of campaign indices."""
    return np.array([CHANNELS.index(c[1]) for c in CAMPAIGNS])[campaign_index]
