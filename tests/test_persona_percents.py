"""Rate columns on persona cards, rules and the workshop read as percentages (47.8 %).

Frames are made by hand; expected texts are worked out from the frame's own medians with plain
f-strings, not with the formatter under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesmkt
from salesmkt._base.formats import percent_columns
from salesmkt.kpis.config import KPIConfigError, amount_settings, load_kpi_config
from salesmkt.personas import PersonaModel, persona_cards, persona_rules, persona_workshop

FEATURES = ["email_open_rate", "score", "bounce_pct", "housing"]


def _leads() -> pd.DataFrame:
    """120 leads in two clear groups: engaged (open rate near 0.48) and quiet (near 0.10)."""
    rng = np.random.default_rng(3)
    n = 60
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(2 * n)],
            "created_at": pd.Timestamp("2025-01-01", tz="UTC"),
            # a rate: fractions in [0, 1] under a *_rate name
            "email_open_rate": np.r_[rng.uniform(0.40, 0.56, n), rng.uniform(0.05, 0.15, n)],
            # in [0, 1] but not named a rate: stays a plain number
            "score": np.r_[rng.uniform(0.6, 0.9, n), rng.uniform(0.1, 0.3, n)],
            # percentage points already (0-100) under a *_pct name: never multiplied by 100
            "bounce_pct": np.r_[rng.uniform(10, 30, n), rng.uniform(50, 80, n)],
            "housing": ["yes"] * n + ["no"] * n,
        }
    )


def _medians(leads: pd.DataFrame, model) -> pd.DataFrame:
    return leads.groupby(model.predict(leads))[["email_open_rate", "score", "bounce_pct"]].median()


def test_the_rule_picks_fraction_columns_named_as_rates():
    frame = pd.DataFrame(
        {
            "email_open_rate": [0.478, 0.1, np.nan],
            "score": [0.5, 0.1, 0.9],  # in [0, 1], not named a rate
            "bounce_pct": [12.5, 40.0, 99.0],  # points
            "reply_pct": [0.2, 0.4, 0.5],  # fractions under a *_pct name
            "win_share": [0.2, 0.3, 0.1],
            "debt_ratio": [0.2, 1.5, 0.3],  # beyond 1: not a fraction
            "growth_rate": [-0.2, 0.1, 0.3],  # negative: not a share
            "churn_rate": [0, 1, 1],  # a 0/1 flag
            "trial_rate": [True, False, True],  # a boolean
            "visit_rate": ["high", "low", "low"],  # words
            "size_percent": [150.0, 20.0, 3.0],  # beyond 100
        }
    )
    assert percent_columns(frame) == {
        "email_open_rate": 1.0,
        "bounce_pct": 0.01,
        "reply_pct": 1.0,
        "win_share": 1.0,
    }
    # a declared list replaces the rule; columns absent from the frame are skipped
    assert percent_columns(frame, ["score", "bounce_pct", "not_here"]) == {
        "score": 1.0,
        "bounce_pct": 0.01,
    }
    assert percent_columns(frame, []) == {}
    with pytest.raises(ValueError, match="'visit_rate' is not numeric"):
        percent_columns(frame, ["visit_rate"])
    with pytest.raises(ValueError, match="'size_percent' has values up to 150, beyond 100"):
        percent_columns(frame, ["size_percent"])


def test_cards_write_rate_medians_as_percentages_and_leave_other_numbers():
    leads = _leads()
    model = PersonaModel(2, features=FEATURES, random_state=0).fit(leads)
    cards = persona_cards(model, leads)
    med = _medians(leads, model)
    for p, facts in zip(cards["persona"], cards["key_numbers"], strict=True):
        rate, score, bounce = med.loc[p]
        assert f"email open rate: median {rate * 100:.1f} %" in facts, facts
        assert f"score: median {score:.3g} " in facts, facts  # unchanged, no %
        assert f"bounce pct: median {bounce:.1f} %" in facts, facts  # points, not x 100
        assert "score: median " + f"{score * 100:.1f} %" not in facts
    # the engaged group reads as an open rate of about 48 %, not 0.48
    engaged = cards["key_numbers"][cards["persona"] == med["email_open_rate"].idxmax()].item()
    assert "email open rate: median 4" in engaged and " %" in engaged


def test_a_declared_list_overrides_the_rule(tmp_path):
    leads = _leads()
    (tmp_path / "kpis.yml").write_text("settings:\n  percent_columns: [score]\n", encoding="utf-8")
    money = amount_settings(tmp_path)
    assert money["percents"] == ["score"]
    model = PersonaModel(2, features=FEATURES, random_state=0).fit(leads)
    cards = persona_cards(model, leads, **money)
    med = _medians(leads, model)
    for p, facts in zip(cards["persona"], cards["key_numbers"], strict=True):
        rate, score, _ = med.loc[p]
        assert f"score: median {score * 100:.1f} %" in facts, facts
        assert f"email open rate: median {rate:.3g} " in facts, facts  # not declared
    # [] writes no column as a percentage
    none = persona_cards(model, leads, percents=[])
    assert not none["key_numbers"].str.contains("%").any()


def test_rule_thresholds_on_rates_read_as_percentages():
    leads = pd.DataFrame({"email_open_rate": [0.1, 0.2, 0.7, 0.8, 0.15, 0.9]})
    rules = persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["email_open_rate"])
    # the tree splits half-way between 0.2 and 0.7
    assert rules["rule"].tolist() == ["email open rate ≤ 45.0 %", "email open rate > 45.0 %"]
    plain = persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["email_open_rate"], percents=[])
    assert plain["rule"].tolist() == ["email open rate ≤ 0.45", "email open rate > 0.45"]


def test_percent_columns_setting_is_checked(tmp_path):
    (tmp_path / "kpis.yml").write_text("settings:\n  percent_columns: open_rate\n")
    with pytest.raises(KPIConfigError, match="settings.percent_columns: must be a list"):
        load_kpi_config(tmp_path)
    assert amount_settings(None)["percents"] is None  # the template leaves the rule on


def test_workshop_and_its_app_write_rates_as_percentages(tmp_path, monkeypatch):
    from salesmkt.cli import workshop_command
    from salesmkt.data.dataset import Dataset
    from salesmkt.personas.workshop import APP_ENV, workshop_app

    leads = _leads()
    ws = persona_workshop(Dataset(leads=leads), features=FEATURES, n_personas=2)
    med = _medians(leads, ws.model)
    first = f"email open rate: median {med['email_open_rate'].iloc[0] * 100:.1f} %"
    assert first in ws.snapshot_html()
    assert ws.cards["key_numbers"].str.contains("email open rate: median .* %").all()

    # the browser app: kpis.yml beside the data declares the rate columns
    leads.to_csv(tmp_path / "leads.csv", index=False)
    (tmp_path / "kpis.yml").write_text("settings:\n  percent_columns: [score]\n")
    _, env = workshop_command(str(tmp_path), browser=False)
    assert env[APP_ENV["percents"]] == "score"
    for key in APP_ENV.values():
        monkeypatch.setenv(key, env[key])
    app = workshop_app(show=False)
    assert app.percents == ["score"]
    # without the setting the variable is unset and the app applies the rule
    (tmp_path / "kpis.yml").unlink()
    monkeypatch.setenv(APP_ENV["percents"], "stale")
    _, env = workshop_command(str(tmp_path), browser=False)
    assert APP_ENV["percents"] not in env


def test_sample_cards_show_the_open_rate_as_a_percentage():
    ds = salesmkt.load_sample()
    model = PersonaModel(3, features=["email_open_rate", "industry"], random_state=0)
    model.fit(ds.leads)
    cards = persona_cards(model, ds.leads, **amount_settings(salesmkt.sample_dir()))
    med = ds.leads.groupby(model.predict(ds.leads))["email_open_rate"].median()
    for p, facts in zip(cards["persona"], cards["key_numbers"], strict=True):
        assert f"email open rate: median {med[p] * 100:.1f} %" in facts, facts


def test_yes_no_categories_read_yes_and_no_on_cards():
    """An over-represented level of a yes/no column reads ``trial user: yes``, not ``True``."""
    leads = _leads().assign(trial_user=[True] * 60 + [False] * 60)
    model = PersonaModel(2, features=[*FEATURES, "trial_user"], random_state=0).fit(leads)
    cards = persona_cards(model, leads)
    labels = pd.Series(model.predict(leads))
    engaged = int(labels[:60].mode()[0])
    assert (labels[:60] == engaged).all() and (labels[60:] != engaged).all()
    text = dict(zip(cards["persona"], cards["key_categories"], strict=True))
    # every trial user is in the engaged persona: 100 % of it, twice the 50 % overall
    assert "trial user: yes (100%, 2.0x)" in text[engaged]
    assert "trial user: no (100%, 2.0x)" in text[1 - engaged]
    assert not any("True" in t or "False" in t for t in text.values())


def test_yes_no_rules_read_yes_and_no():
    """A rule on a yes/no column reads ``trial user: yes`` / ``trial user: no``."""
    leads = pd.DataFrame({"trial_user": [True, True, False, False, True, False]})
    rules = persona_rules(leads, [1, 1, 0, 0, 1, 0], features=["trial_user"])
    by_persona = dict(zip(rules["persona"], rules["rule"], strict=True))
    assert by_persona == {0: "trial user: no", 1: "trial user: yes"}
