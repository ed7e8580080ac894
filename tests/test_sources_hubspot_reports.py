"""The done criterion of the HubSpot loader: the sample company written as a HubSpot export
(contacts and deals as HubSpot's UI writes them, with the company's other files) gives every
report, with no error, no warning and a chart in each.

Apart from test_sources_hubspot.py so that the two report runs (this one on the sample, that
one on the small fixtures) can run on two workers at once under ``-n 2 --dist loadfile``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_sources_hubspot import NY, assert_clean_report

import salesmkt


def _sample_as_hubspot_export(folder: Path, sample) -> None:
    """The sample company written the way HubSpot's UI exports it (labels, New York times)."""

    def local(s: pd.Series) -> pd.Series:
        # HubSpot writes local times without an offset, so a time in the hour New York repeats
        # when summer time ends is ambiguous, and the loader reports it rather than guess. The
        # sample has one (deal D0502, 2025-11-02 01:38 EST); a clean export is wanted here, so
        # such times are written an hour later.
        t = s.dt.tz_convert(NY)
        repeated = t.dt.tz_localize(None).dt.tz_localize(NY, ambiguous="NaT").isna() & t.notna()
        t = t.where(~repeated, t + pd.Timedelta(hours=1))
        return t.dt.strftime("%Y-%m-%d %H:%M").fillna("")

    source = {
        "organic_search": "Organic search",
        "paid_search": "Paid search",
        "email": "Email marketing",
        "organic_social": "Organic social",
        "paid_social": "Paid social",
        "referral": "Referrals",
        "direct": "Direct traffic",
        "display": "Other campaigns",
        "events": "Offline sources",
        "other": "Other campaigns",
    }
    leads, deals = sample.leads, sample.deals
    names = leads["full_name"].str.split(" ", n=1)
    pd.DataFrame(
        {
            "Record ID": leads["lead_id"],
            "First Name": names.str[0],
            "Last Name": names.str[1],
            "Email": leads["email"],
            "Phone Number": leads["phone"],
            "Industry": leads["industry"],
            "Number of Employees": leads["company_size"],
            "Annual Revenue": leads["annual_revenue"],
            "Contact owner": leads["owner_id"],
            "Create Date": local(leads["created_at"]),
            "Original Source": leads["channel"].map(source),
            "Original Source Drill-Down 1": leads["campaign_id"].where(
                leads["channel"].isin(["paid_search", "email"])
            ),
            "Became a Marketing Qualified Lead Date": local(leads["mql_at"]),
            "Became a Sales Qualified Lead Date": local(leads["sql_at"]),
            "Became an Opportunity Date": local(leads["opportunity_at"]),
            "Became a Customer Date": local(leads["customer_at"]),
            "Associated Company IDs": leads["account_id"],
            "Job Role": leads["job_role"],
            "Seniority": leads["seniority"],
        }
    ).to_csv(folder / "hubspot-crm-exports-all-contacts-2026-07-01.csv", index=False)
    pd.DataFrame(
        {
            "Record ID": deals["deal_id"],
            "Pipeline": "Sales Pipeline",
            "Deal Stage": deals["status"]
            .map({"won": "Closed Won", "lost": "Closed Lost"})
            .fillna(deals["stage"]),
            "Amount": deals["amount"],
            "Create Date": local(deals["created_at"]),
            "Close Date": local(deals["closed_at"].fillna(deals["expected_close_at"])),
            "Deal owner": deals["owner_id"],
            "Product": deals["product"],
            "Deal Type": deals["deal_type"].map(
                {"new_business": "New Business", "expansion": "Existing Business"}
            ),
            "Associated Contact IDs": deals["lead_id"],
            "Associated Company IDs": deals["account_id"],
        }
    ).to_csv(folder / "hubspot-crm-exports-all-deals-2026-07-01.csv", index=False)
    for table in ("sessions", "events", "campaigns", "spend", "orders", "quotas", "assignments"):
        shutil.copy(salesmkt.sample_dir() / f"{table}.csv", folder)


@pytest.mark.slow
def test_full_report_set_from_a_hubspot_export(tmp_path, sample):
    """The done criterion: a team's HubSpot export (+ its other files) -> every report."""
    folder = tmp_path / "exports"
    folder.mkdir()
    _sample_as_hubspot_export(folder, sample)
    ds = salesmkt.load(folder, source="hubspot", tz=NY)
    # the round trip through HubSpot's format keeps the funnel: same stage counts
    for col in ("mql_at", "sql_at", "opportunity_at", "customer_at"):
        assert ds.leads[col].notna().sum() == sample.leads[col].notna().sum(), col
    assert (
        ds.deals["status"].value_counts().to_dict()
        == sample.deals["status"].value_counts().to_dict()
    )
    assert ds.deals["amount"].sum() == pytest.approx(sample.deals["amount"].sum())
    reports = salesmkt.run_reports(
        folder, tmp_path / "reports", source="hubspot", tz=NY, progress=False
    )
    assert len(reports) == len(salesmkt.reports.pipeline.notebook_paths())
    for r in reports:
        assert_clean_report(r)
