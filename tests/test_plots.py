"""Every public chart on the sample company: it draws into the Axes it is given, says what it
shows, and uses only the shared palette; the annotated heatmap writes and marks every cell."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgba
from matplotlib.markers import MarkerStyle

import salesmkt
from salesmkt._base import style

PACKAGES = ("data", "funnels", "kpis", "campaigns", "personas", "scoring", "forecast")
PLOT_MODULES = [Path(salesmkt.__file__).parent / p / "plots.py" for p in PACKAGES]


def _public_plots() -> set[str]:
    names = set()
    for package in PACKAGES:
        module = importlib.import_module(f"salesmkt.{package}")
        names |= {n for n in module.__all__ if n.startswith("plot_")}
    return names


@pytest.fixture(scope="module")
def model(sample):
    return salesmkt.PersonaModel(5, random_state=0).fit(sample.leads)


def _lead_scores(ds) -> pd.DataFrame:
    """A stand-in lead score of the sample's leads (its own conversion rate per channel), so the
    score charts are drawn on the sample whatever model scores it."""
    leads = ds.leads
    converted = leads["customer_at"].notna().astype(int)
    channel = leads["channel"].astype(object).fillna("(missing)")
    rate = converted.groupby(channel).transform("mean")
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "created_at": leads["created_at"],
            "persona": channel,
            "converted": converted,
            "probability": rate,
        }
    )


def _journeys(ds):
    conversions = salesmkt.customer_conversions(ds.leads, ds.deals)
    return salesmkt.build_journeys(ds.touchpoints, conversions)


#: How each public chart is drawn on the sample company: (sample, model, ax) -> Axes.
DRAW = {
    "plot_missing_values": lambda ds, m, ax: salesmkt.plot_missing_values(
        salesmkt.missing_values(ds), ax=ax
    ),
    "plot_channel_mix": lambda ds, m, ax: salesmkt.plot_channel_mix(
        salesmkt.channel_mix(ds), ax=ax
    ),
    "plot_monthly_volume": lambda ds, m, ax: salesmkt.plot_monthly_volume(
        salesmkt.monthly_volume(ds), ax=ax
    ),
    "plot_funnel": lambda ds, m, ax: salesmkt.plot_funnel(
        salesmkt.funnel(ds.events, ["visit_pricing", "start_trial", "activate"], window="30D"),
        ax=ax,
    ),
    "plot_funnel_breakdown": lambda ds, m, ax: salesmkt.plot_funnel_breakdown(
        salesmkt.funnel(
            ds.events.assign(half=lambda d: np.where(d["ts"].dt.month <= 6, "H1", "H2")),
            ["visit_pricing", "start_trial"],
            window="30D",
            by="half",
        ),
        ax=ax,
    ),
    "plot_time_to_convert": lambda ds, m, ax: salesmkt.plot_time_to_convert(
        salesmkt.time_to_convert(ds.events, ["visit_pricing", "start_trial"], window="30D"),
        ax=ax,
    ),
    "plot_funnel_trends": lambda ds, m, ax: salesmkt.plot_funnel_trends(
        salesmkt.funnel_trends(ds.events, ["visit_pricing", "start_trial"], window="30D"),
        ax=ax,
    ),
    "plot_lifecycle_funnel": lambda ds, m, ax: salesmkt.plot_lifecycle_funnel(
        salesmkt.lifecycle_funnel(ds.leads), ax=ax
    ),
    "plot_lifecycle_breakdown": lambda ds, m, ax: salesmkt.plot_lifecycle_breakdown(
        salesmkt.lifecycle_funnel(ds.leads, by="channel"), ax=ax
    ),
    "plot_time_in_stage": lambda ds, m, ax: salesmkt.plot_time_in_stage(
        salesmkt.stage_durations(ds.leads), ax=ax
    ),
    "plot_kpi_trend": lambda ds, m, ax: salesmkt.plot_kpi_trend(
        salesmkt.kpi_table(ds, kpis=["win_rate"]), "win_rate", target=0.3, ax=ax
    ),
    "plot_cohort_retention": lambda ds, m, ax: salesmkt.plot_cohort_retention(
        salesmkt.cohort_retention(ds.orders, freq="Q"), ax=ax
    ),
    "plot_sla_compliance": lambda ds, m, ax: salesmkt.plot_sla_compliance(
        salesmkt.sla_report(ds), ax=ax
    ),
    "plot_spend_vs_return": lambda ds, m, ax: salesmkt.plot_spend_vs_return(
        salesmkt.spend_metrics(ds), ax=ax
    ),
    "plot_cac_cpl": lambda ds, m, ax: salesmkt.plot_cac_cpl(
        salesmkt.spend_metrics(ds, by="channel"), ax=ax
    ),
    "plot_attribution": lambda ds, m, ax: salesmkt.plot_attribution(
        salesmkt.attribute(_journeys(ds)), ax=ax
    ),
    "plot_transitions": lambda ds, m, ax: salesmkt.plot_transitions(
        salesmkt.markov_transition_matrix(_journeys(ds)), ax=ax
    ),
    "plot_lift": lambda ds, m, ax: salesmkt.plot_lift(
        salesmkt.conversion_lift(50, 1000, 90, 1000), ax=ax
    ),
    "plot_conversion_rates": lambda ds, m, ax: salesmkt.plot_conversion_rates(
        salesmkt.conversion_rates(ds.leads, "channel"), ax=ax
    ),
    "plot_k_selection": lambda ds, m, ax: salesmkt.plot_k_selection(
        salesmkt.choose_n_personas(
            ds.leads, k_range=range(3, 6), n_bootstrap=3, n_references=2, random_state=0
        ),
        ax=ax,
    ),
    "plot_silhouette": lambda ds, m, ax: salesmkt.plot_silhouette(
        salesmkt.persona_silhouette(m, ds.leads), ax=ax
    ),
    "plot_persona_profiles": lambda ds, m, ax: salesmkt.plot_persona_profiles(m.profiles_, ax=ax),
    "plot_persona_map": lambda ds, m, ax: salesmkt.plot_persona_map(
        salesmkt.persona_projection(m, ds.leads), ax=ax
    ),
    "plot_persona_outcomes": lambda ds, m, ax: salesmkt.plot_persona_outcomes(
        salesmkt.persona_outcomes(ds, m.labels_), ax=ax
    ),
    "plot_persona_funnel": lambda ds, m, ax: salesmkt.plot_persona_funnel(
        salesmkt.persona_funnel(ds.leads, m.labels_), ax=ax
    ),
    "plot_persona_channels": lambda ds, m, ax: salesmkt.plot_persona_channels(
        salesmkt.persona_channels(ds.leads, m.labels_), ax=ax
    ),
    "plot_persona_card": lambda ds, m, ax: salesmkt.plot_persona_card(
        salesmkt.persona_cards(m, ds.leads, dataset=ds), 0, ax=ax
    ),
    "plot_forecast_fan": lambda ds, m, ax: salesmkt.plot_forecast_fan(
        salesmkt.revenue_forecast(ds, as_of="2026-05-15", n_simulations=1000), ax=ax
    ),
    "plot_forecast_distribution": lambda ds, m, ax: salesmkt.plot_forecast_distribution(
        salesmkt.revenue_forecast(ds, as_of="2026-05-15", n_simulations=1000, fan=False), ax=ax
    ),
    "plot_backtest": lambda ds, m, ax: salesmkt.plot_backtest(
        salesmkt.forecast_backtest(ds, dates=["2026-03-01", "2026-05-15"], n_simulations=500),
        ax=ax,
    ),
    "plot_win_curve": lambda ds, m, ax: salesmkt.plot_win_curve(
        salesmkt.time_to_close(ds, by="customer_type"), by="customer_type", ax=ax
    ),
    "plot_rfm_grid": lambda ds, m, ax: salesmkt.plot_rfm_grid(
        salesmkt.rfm(ds.orders, bins={"frequency": [2, 3, 4, 6]}), ax=ax
    ),
    "plot_calibration": lambda ds, m, ax: salesmkt.plot_calibration(
        salesmkt.calibration_table(_lead_scores(ds)["converted"], _lead_scores(ds)["probability"]),
        ax=ax,
    ),
    "plot_gain_lift": lambda ds, m, ax: salesmkt.plot_gain_lift(
        salesmkt.gain_lift(_lead_scores(ds)["converted"], _lead_scores(ds)["probability"]),
        ax=ax,
    ),
    "plot_score_distribution": lambda ds, m, ax: salesmkt.plot_score_distribution(
        _lead_scores(ds), by="persona", ax=ax
    ),
    "plot_threshold_tradeoff": lambda ds, m, ax: salesmkt.plot_threshold_tradeoff(
        salesmkt.threshold_tradeoff(_lead_scores(ds), capacity=150),
        threshold=salesmkt.mql_threshold(_lead_scores(ds), capacity=150),
        ax=ax,
    ),
}
#: Public charts that draw a whole figure (small multiples) rather than into one Axes.
FIGURES = {"plot_kpi_trends"}


def _drawn_colors(ax) -> set[str]:
    """The colours of everything drawn in ``ax`` (not colour-mapped cells), as ``#rrggbb``."""
    found: list = []
    for p in ax.patches:
        found += [p.get_facecolor(), p.get_edgecolor()]
    for line in ax.lines:
        if line.get_linestyle() not in ("None", "none", "", " "):
            found.append(line.get_color())
        marker = line.get_marker()
        if marker not in (None, "None", "none", "", " "):
            found.append(line.get_markeredgecolor())
            if MarkerStyle(marker).is_filled():
                found.append(line.get_markerfacecolor())
    for c in ax.collections:
        if c.get_array() is None:  # colour-mapped meshes carry their values instead
            found += [*c.get_facecolors(), *c.get_edgecolors()]
    found += [t.get_color() for t in ax.texts]
    out = set()
    for color in found:
        if isinstance(color, str) and color in ("none", "auto"):
            continue
        rgba = to_rgba(color)
        if rgba[3] > 0:
            out.add(to_hex(rgba[:3]))
    return out


def test_every_public_chart_is_covered():
    assert _public_plots() == set(DRAW) | FIGURES


@pytest.mark.parametrize("name", sorted(DRAW))
def test_chart_draws_into_the_given_axes_in_palette_colours(name, sample, model):
    fig, ax = plt.subplots()
    returned = DRAW[name](sample, model, ax)
    assert returned is ax
    assert ax.get_title(loc="left") or ax.get_title() or ax.get_xlabel() or ax.get_ylabel()
    assert ax.patches or ax.lines or ax.collections or ax.texts, "nothing drawn"
    stray = _drawn_colors(ax) - style.palette()
    assert not stray, f"{name} draws colours outside the palette: {sorted(stray)}"


def test_kpi_trends_figure_uses_the_palette(sample):
    t = salesmkt.kpi_table(sample, kpis=["win_rate", "cac"])
    fig = salesmkt.plot_kpi_trends(t, kpis=["win_rate", "cac"])
    assert len(fig.axes) == 2 and fig.axes[0].get_title(loc="left") == "Win rate"
    for ax in fig.axes:
        assert _drawn_colors(ax) <= style.palette()


def test_kpi_trend_marks_the_running_period_from_the_table(sample):
    full = salesmkt.kpi_table(sample, kpis=["win_rate"])
    mid_month = full["period_start"].max() - pd.DateOffset(months=2) + pd.Timedelta(days=14)
    t = salesmkt.kpi_table(sample, kpis=["win_rate"], as_of=mid_month)
    # as_of falls mid-month: that month is still running, every earlier one is complete
    last = t["period_start"].max()
    assert last <= mid_month < last + pd.DateOffset(months=1)
    assert t.loc[t["period_start"] == last, "complete"].eq(False).all()
    assert t.loc[t["period_start"] < last, "complete"].all()
    ax = salesmkt.plot_kpi_trend(t, "win_rate")
    hollow = [c for c in ax.collections if c.get_label() == "period still running"]
    assert len(hollow) == 1 and len(hollow[0].get_offsets()) == 1


def test_palette_is_seaborns_colorblind_palette_with_named_roles():
    import seaborn as sns

    assert list(style.CATEGORICAL) == sns.color_palette("colorblind").as_hex()
    roles = [style.PRIMARY, style.MUTED, style.GOOD, style.BAD, style.WARNING]
    assert len(set(roles)) == 5
    assert set(roles) <= style.palette()


#: Machado, Oliveira & Fernandes (2009): linear-RGB simulation of full deuteranopia and
#: protanopia (the two red-green colour-vision deficiencies).
CVD = {
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
         [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
         [-0.003882, -0.048116, 1.051998]]
    ),
}  # fmt: skip


def _seen_as(color: str, deficiency: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    c = np.array(to_rgb(color))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    seen = np.clip(CVD[deficiency] @ linear, 0, 1)
    return np.where(seen <= 0.0031308, 12.92 * seen, 1.055 * seen ** (1 / 2.4) - 0.055)


@pytest.mark.parametrize("deficiency", sorted(CVD))
def test_good_warning_and_bad_stay_apart_under_red_green_deficiency(deficiency):
    # the former green #2f855a and red #c53030 came out 0.20 apart under deuteranopia
    roles = {"good": style.GOOD, "warning": style.WARNING, "bad": style.BAD}
    for (a, ca), (b, cb) in [(x, y) for x in roles.items() for y in roles.items() if x < y]:
        distance = np.linalg.norm(_seen_as(ca, deficiency) - _seen_as(cb, deficiency))
        assert distance > 0.4, f"{a} and {b} look alike under {deficiency} ({distance:.2f})"


def test_sla_misses_are_marked_by_hatch_not_only_colour(sample):
    report = salesmkt.sla_report(sample)
    ax = salesmkt.plot_sla_compliance(report)
    d = report[(report["term"] == "response_time") & (report["owner_id"] == "(team)")]
    d = d[d["actual"].notna()]
    missed = int((d["met"].astype(object) == False).sum())  # noqa: E712
    hatched = [p for p in ax.patches if p.get_hatch() == "xx"]
    assert len(hatched) == missed
    assert "Missed" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_no_plot_module_writes_a_colour_or_imports_a_private_name():
    hex_colour = re.compile(r"['\"]#[0-9a-fA-F]{3,8}['\"]")
    for path in PLOT_MODULES:
        source = path.read_text()
        assert not hex_colour.search(source), f"{path} hard-codes a colour"
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ImportFrom) or not node.module.startswith("salesmkt"):
                continue
            if node.module == "salesmkt._base.style":
                continue
            package = importlib.import_module(".".join(node.module.split(".")[:2]))
            for alias in node.names:
                assert alias.name in package.__all__, (
                    f"{path.parent.name}/plots.py imports {alias.name} from {node.module}, "
                    "which is not public"
                )


def test_heatmap_annotates_every_cell_and_marks_the_missing_one():
    values = pd.DataFrame(
        [[0.1, 0.25, 0.5], [0.75, np.nan, 0.0], [1.0, 0.333, 0.9]],
        index=["r1", "r2", "r3"],
        columns=["c1", "c2", "c3"],
    )
    fig, ax = plt.subplots()
    out = style.annotated_heatmap(values, fmt=".1%", xlabel="column", ylabel="row", ax=ax)
    assert out is ax
    texts = {(round(t.get_position()[0], 2), round(t.get_position()[1], 2)): t for t in ax.texts}
    expected = {
        (0.5, 0.5): "10.0%", (1.5, 0.5): "25.0%", (2.5, 0.5): "50.0%",
        (0.5, 1.5): "75.0%", (1.5, 1.5): "n/a", (2.5, 1.5): "0.0%",
        (0.5, 2.5): "100.0%", (1.5, 2.5): "33.3%", (2.5, 2.5): "90.0%",
    }  # fmt: skip
    assert {k: t.get_text() for k, t in texts.items()} == expected
    # the missing cell is hatched and not coloured by the colour map
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert [(p.get_x(), p.get_y()) for p in hatched] == [(1, 1)]
    mesh = next(c for c in ax.collections if c.get_array() is not None)
    assert np.ma.is_masked(mesh.get_array()) and mesh.get_array().mask.sum() == 1
    # readable ink: dark on the lightest cell, light on the darkest
    assert to_hex(texts[(0.5, 0.5)].get_color()) == style.INK  # 10 %: light cell
    assert to_hex(texts[(0.5, 2.5)].get_color()) == style.PAPER  # 100 %: dark cell
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "C1",
        "C2",
        "C3",
    ]  # ticks in plain words
    assert [t.get_text() for t in ax.get_yticklabels()] == ["R1", "R2", "R3"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("column", "row")


def test_heatmap_labels_replace_the_numbers_and_empty_labels_write_nothing():
    values = pd.DataFrame({"a": [0.2, np.nan], "b": [0.4, 0.6]})
    labels = pd.DataFrame({"a": ["x", ""], "b": ["", "z"]})
    ax = style.annotated_heatmap(values, labels=labels)
    assert sorted(t.get_text() for t in ax.texts if t.get_text()) == ["n/a", "x", "z"]


def test_heatmap_of_only_missing_cells_draws_hatches():
    values = pd.DataFrame({"a": [np.nan, np.nan]})
    ax = style.annotated_heatmap(values)
    assert [t.get_text() for t in ax.texts] == ["n/a", "n/a"]
    assert len([p for p in ax.patches if p.get_hatch()]) == 2


def test_amount_charts_carry_the_currency():
    metrics = pd.DataFrame(
        {
            "name": ["Brand search", "Newsletter"],
            "channel": ["paid_search", "email"],
            "spend": [20000.0, 500.0],
            "revenue": [90000.0, 30000.0],
            "leads": [100, 50],
            "cpl": [200.0, 10.0],
            "cac": [4000.0, 250.0],
        }
    )
    ax = salesmkt.plot_spend_vs_return(metrics, currency="EUR")
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert "€20k" in ticks and "€0" in ticks
    assert "EUR" in ax.get_xlabel() and "EUR" in ax.get_ylabel()
    ax = salesmkt.plot_cac_cpl(metrics, currency="GBP")
    labels = [t.get_text().strip() for t in ax.texts]
    assert {"£200", "£4k", "£10", "£250"} <= set(labels)
    assert "GBP" in ax.get_xlabel()
    table = pd.DataFrame(
        {
            "kpi": "cac",
            "item": "total",
            "period_start": pd.date_range("2026-01-01", periods=3, freq="MS", tz="UTC"),
            "value": [400.0, 450.0, 500.0],
            "complete": True,
        }
    )
    ax = salesmkt.plot_kpi_trend(table, "cac", target=390.0, currency="EUR")
    assert ax.get_ylabel() == "EUR (lower is better)"
    assert "Target €390" in [t.get_text() for t in ax.get_legend().get_texts()]
