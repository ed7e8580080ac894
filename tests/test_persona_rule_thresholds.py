"""Persona rules read as a manager writes them: whole thresholds on counts (``≥ 52``, not
``> 51.5``) and money with its currency (``≤ $4.64M``), each selecting the same leads as the
tree's split.

Frames are made by hand; expected rules are written out by hand, and the row check reads the
rule's text back (an independent parser below) and applies it to the frame.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from salesmkt.personas import PersonaModel, persona_cards, persona_rules
from salesmkt.personas.explain import _condition

_PART = re.compile(
    r"^(?P<feature>.+?) (?P<op>≤|>|≥) (?P<cur>[$€]?)(?P<num>-?[\d,.]+)(?P<unit>[kM]?)$"
)


def _parse(condition: str) -> tuple[str, str, float]:
    """``annual revenue ≤ $4.64M`` -> ('annual_revenue', '≤', 4640000.0)."""
    m = _PART.match(condition)
    assert m, condition
    value = float(m["num"].replace(",", "")) * {"": 1, "k": 1e3, "M": 1e6}[m["unit"]]
    return m["feature"].replace(" ", "_"), m["op"], value


def _select(frame: pd.DataFrame, rule: str) -> np.ndarray:
    """The rows a rule's text selects, read back from the text alone."""
    keep = np.ones(len(frame), dtype=bool)
    for part in rule.split(" and "):
        feature, op, value = _parse(part)
        x = frame[feature].to_numpy(dtype=float)
        keep &= {"≤": x <= value, ">": x > value, "≥": x >= value}[op]
    return keep


def test_count_thresholds_are_whole_and_select_the_same_leads():
    # company size splits between 51 and 52: the tree's threshold is the midpoint 51.5
    leads = pd.DataFrame({"company_size": [3, 12, 51, 52, 60, 400, 40, 75]})
    labels = [0, 0, 0, 1, 1, 1, 0, 1]
    rules = persona_rules(leads, labels, features=["company_size"])
    assert rules["rule"].tolist() == ["company size ≤ 51", "company size ≥ 52"]
    original = leads["company_size"] <= 51.5
    assert (_select(leads, rules["rule"][0]) == original).all()
    assert (_select(leads, rules["rule"][1]) == ~original).all()
    assert rules["leads_matching"].tolist() == [4, 4]


def test_a_whole_threshold_on_an_integer_midpoint_moves_only_the_upper_side():
    # 8 and 900: the midpoint 454 is itself whole; "> 454" on whole numbers is "≥ 455"
    leads = pd.DataFrame({"web_visits_90d": [5, 8, 900, 1200, 7, 1500]})
    rules = persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["web_visits_90d"])
    assert rules["rule"].tolist() == ["web visits 90d ≤ 454", "web visits 90d ≥ 455"]


def test_fractional_columns_keep_their_threshold():
    leads = pd.DataFrame({"score": [0.1, 0.2, 0.7, 0.8, 0.15, 0.9]})
    rules = persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["score"])
    assert rules["rule"].tolist() == ["score ≤ 0.45", "score > 0.45"]


def test_a_deeper_rule_on_two_counts_selects_the_leads_the_tree_counts():
    # persona 1: large companies that visit often; every split falls on a half
    rng = np.random.default_rng(5)
    size = rng.integers(1, 200, 300)
    visits = rng.integers(0, 30, 300)
    leads = pd.DataFrame({"company_size": size, "web_visits_90d": visits})
    labels = ((size > 80) & (visits > 11)).astype(int)
    rules = persona_rules(leads, labels, features=["company_size", "web_visits_90d"])
    for r in rules.itertuples():
        assert ".5" not in r.rule, r.rule
        picked = _select(leads, r.rule)
        assert picked.sum() == r.leads_matching, r.rule
        assert np.isclose((labels[picked] == r.persona).mean(), r.precision), r.rule
    assert re.fullmatch(r"company size ≥ \d+ and web visits 90d ≥ \d+", rules["rule"][1])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(-10_000, 10_000), min_size=2, max_size=40, unique=True),
    st.data(),
)
def test_whole_conditions_select_what_the_threshold_selects(values, data):
    x = np.sort(np.array(values, dtype=float))
    i = data.draw(st.integers(0, len(x) - 2))
    thr = (x[i] + x[i + 1]) / 2  # the tree's split: a midpoint of neighbouring values
    for le in (True, False):
        text = _condition("count", le, thr, {}, values=x)
        _, op, value = _parse(text)
        got = {"≤": x <= value, ">": x > value, "≥": x >= value}[op]
        assert (got == ((x <= thr) if le else (x > thr))).all(), (text, thr)


def test_money_thresholds_carry_the_currency_in_the_cards_figures():
    # a wide gap around 4,642,000: the compact figure of the cards' medians
    revenue = [1.2e6, 2.5e6, 4_284_000, 5_000_000, 8.1e6, 9.9e6]
    leads = pd.DataFrame({"annual_revenue": revenue})
    labels = [0, 0, 0, 1, 1, 1]
    rules = persona_rules(leads, labels, features=["annual_revenue"], amounts=["annual_revenue"])
    assert rules["rule"].tolist() == ["annual revenue ≤ $4.64M", "annual revenue > $4.64M"]
    eur = persona_rules(
        leads, labels, features=["annual_revenue"], currency="EUR", amounts=["annual_revenue"]
    )
    assert eur["rule"].tolist() == ["annual revenue ≤ €4.64M", "annual revenue > €4.64M"]
    # not declared an amount: a whole number, no currency
    plain = persona_rules(leads, labels, features=["annual_revenue"])
    assert plain["rule"].tolist() == ["annual revenue ≤ 4,642,000", "annual revenue ≥ 4,642,001"]


def test_money_thresholds_never_round_across_a_lead():
    # 4,641,000 and 4,643,000 both read $4.64M: the rule keeps the figure that separates them
    leads = pd.DataFrame({"annual_revenue": [1e6, 2e6, 4_641_000, 4_643_000, 7e6, 9e6]})
    labels = np.array([0, 0, 0, 1, 1, 1])
    rules = persona_rules(leads, labels, features=["annual_revenue"], amounts=["annual_revenue"])
    assert rules["rule"].tolist() == ["annual revenue ≤ $4,642,000", "annual revenue > $4,642,000"]
    # 45,500 between 45,000 and 46,000 would read $46k, which puts 46,000 on the wrong side
    small = pd.DataFrame({"annual_revenue": [20_000, 45_000, 46_000, 90_000]})
    small_labels = np.array([0, 0, 1, 1])
    small_rules = persona_rules(
        small, small_labels, features=["annual_revenue"], amounts=["annual_revenue"]
    )
    assert small_rules["rule"].tolist() == ["annual revenue ≤ $45,500", "annual revenue > $45,500"]
    for frame, lab, r in ((leads, labels, rules), (small, small_labels, small_rules)):
        for persona, rule in zip(r["persona"], r["rule"], strict=True):
            assert (_select(frame, rule) == (lab == persona)).all(), rule


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(0, 3_000_000_000), min_size=2, max_size=40, unique=True),
    st.data(),
)
def test_money_conditions_select_what_the_split_selects(values, data):
    x = np.sort(np.array(values, dtype=float))
    i = data.draw(st.integers(0, len(x) - 2))
    thr = (x[i] + x[i + 1]) / 2
    # the tree compares in single precision: the leads on each side of its split
    left = x.astype(np.float32) <= thr
    for le in (True, False):
        text = _condition("amount", le, thr, {}, values=x, amounts=["amount"])
        _, op, value = _parse(text)
        assert text.split(" ")[2].startswith("$"), text
        got = x <= value if op == "≤" else x > value
        assert (got == (left if le else ~left)).all(), (text, thr)


def test_cards_write_money_thresholds_with_the_currency():
    rng = np.random.default_rng(2)
    n = 50
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(2 * n)],
            "created_at": pd.Timestamp("2025-01-01", tz="UTC"),
            "balance": np.r_[rng.integers(200, 900, n), rng.integers(40_000, 90_000, n)],
        }
    )
    model = PersonaModel(2, features=["balance"], random_state=0).fit(leads)
    cards = persona_cards(model, leads, currency="EUR", amounts=["balance"])
    for persona, rule in zip(cards["persona"], cards["rule"], strict=True):
        assert re.fullmatch(r"balance (≤|>) €[\d,.]+k?", rule), rule
        assert (_select(leads, rule) == (model.labels_ == persona)).all(), rule
