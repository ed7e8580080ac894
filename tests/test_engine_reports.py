"""The campaign review rendered from Parquet files whose event-sized tables (sessions,
touchpoints, events) stay in place and are computed by DuckDB shows the figures of the review
rendered from the CSV sample (the PostgreSQL counterpart for the check-in is in
test_postgres.py)."""

from __future__ import annotations

import pytest

import salesmkt

pytestmark = pytest.mark.slow


def test_campaign_review_from_parquet_in_place_shows_the_figures_of_the_files(
    sample, tmp_path, monkeypatch
):
    from test_cross_report import _page, _tables

    folder = tmp_path / "parquet"
    folder.mkdir()
    for name, df in sample.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")  # the notebook's load sees it too
    kept = salesmkt.load(folder)
    assert all(
        not hasattr(getattr(kept, name), "iloc") for name in ("sessions", "touchpoints", "events")
    )
    conf = salesmkt.sample_dir()
    runs = {}
    for name, data in (("files", conf), ("parquet", folder)):
        out = tmp_path / name
        runs[name] = (out, salesmkt.run_reports(data, out, only=["04"], config_dir=conf,
                                                progress=False))  # fmt: skip
    files, pq = _page(runs["files"], "04"), _page(runs["parquet"], "04")
    text = {k: " ".join(p.get_text(" ").split()) for k, p in (("files", files), ("pq", pq))}
    assert "Traceback" not in text["pq"]
    assert text["pq"].replace(str(folder), str(conf)) == text["files"]
    assert [(t.title, t.columns, t.rows) for t in _tables(files)] == [
        (t.title, t.columns, t.rows) for t in _tables(pq)
    ]
