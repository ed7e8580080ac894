"""The campaign review, the funnel & KPI setup and the check-in rendered from Parquet files whose
event-sized tables (sessions, touchpoints, events) stay in place and are computed by DuckDB show
the figures of the same reports rendered from the CSV sample (test_postgres.py does the same
from PostgreSQL)."""

from __future__ import annotations

import pytest

import salesmkt

pytestmark = pytest.mark.slow

EVENT_TABLES = ("sessions", "touchpoints", "events")


def render(data, out, stems: list[str]):
    """``(out, rendered)`` as test_cross_report's page reader takes it."""
    conf = salesmkt.sample_dir()
    return out, salesmkt.run_reports(data, out, only=stems, config_dir=conf, progress=False)


def assert_same_figures(files, other, stem: str, data) -> None:
    """The report ``stem`` of two renders reads the same after its title (which names the
    data's folder or database) and holds the same tables."""
    from test_cross_report import _page, _tables

    a, b = _page(files, stem), _page(other, stem)
    text = [" ".join(p.get_text(" ").split()) for p in (a, b)]
    assert "Traceback" not in text[1]
    body = [t.split("¶", 1)[1].replace(str(data), str(salesmkt.sample_dir())) for t in text]
    assert body[0] and body[0] == body[1]
    assert [(t.title, t.columns, t.rows) for t in _tables(a)] == [
        (t.title, t.columns, t.rows) for t in _tables(b)
    ]


@pytest.fixture
def parquet_in_place(sample, tmp_path, monkeypatch):
    """The sample as Parquet files, every event-sized table of which ``load`` keeps in place."""
    folder = tmp_path / "parquet"
    folder.mkdir()
    for name, df in sample.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")  # the notebook's load sees it too
    kept = salesmkt.load(folder)
    assert all(not hasattr(getattr(kept, name), "iloc") for name in EVENT_TABLES)
    return folder


def test_campaign_review_from_parquet_in_place_shows_the_figures_of_the_files(
    parquet_in_place, tmp_path, sample_reports
):
    files = sample_reports  # the sample's CSV files, in memory
    in_place = render(parquet_in_place, tmp_path / "parquet-out", ["04"])
    assert_same_figures(files, in_place, "04", parquet_in_place)


def test_funnel_kpis_and_check_in_from_parquet_in_place_show_the_figures_of_the_files(
    parquet_in_place, tmp_path, sample_reports
):
    files = sample_reports
    in_place = render(parquet_in_place, tmp_path / "parquet-out", ["03", "05"])
    for stem in ("03", "05"):
        assert_same_figures(files, in_place, stem, parquet_in_place)
