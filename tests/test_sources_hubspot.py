"""HubSpot contacts and deals exports: label and internal forms, time zones, stages, errors.

Expected values are worked out by hand from the fixture rows in tests/fixtures/exports/hubspot
(UI export, portal zone America/New_York: EST = UTC-5 until 10 March 2024, EDT = UTC-4 after).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

import salesmkt
from salesmkt.data.validate import ValidationError

FIX = Path(__file__).parent / "fixtures" / "exports"
HUB = FIX / "hubspot"
CONTACTS = HUB / "hubspot-crm-exports-all-contacts-2024-03-31.csv"
DEALS = HUB / "hubspot-crm-exports-all-deals-2024-03-31.csv"
NY = "America/New_York"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def hub():
    return salesmkt.load(HUB, source="hubspot", tz=NY)


def by_id(df: pd.DataFrame, key: str) -> pd.DataFrame:
    return df.set_index(key)


def test_contacts_become_leads_with_utc_times(hub):
    leads = by_id(hub.leads, "lead_id")
    assert leads.index.tolist() == ["51", "52", "53", "54", "55", "56"]
    # 2024-03-04 09:15 EST -> 14:15 UTC; 2024-03-11 10:00 is after the DST change: EDT -> 14:00
    assert leads.loc["51", "created_at"] == utc("2024-03-04 14:15")
    assert leads.loc["53", "created_at"] == utc("2024-03-11 14:00")
    assert leads.loc["51", "mql_at"] == utc("2024-03-05 15:00")
    assert leads.loc["51", "sql_at"] == utc("2024-03-07 21:30")
    assert leads.loc["51", "opportunity_at"] == utc("2024-03-08 16:00")
    assert leads.loc["51", "customer_at"] == utc("2024-03-20 19:45")
    assert pd.isna(leads.loc["56", "mql_at"])
    assert str(hub.leads["created_at"].dtype) == "datetime64[ns, UTC]"


def test_original_source_maps_to_channels_and_keeps_raw(hub):
    leads = by_id(hub.leads, "lead_id")
    assert leads["channel"].tolist() == [
        "organic_search",
        "paid_search",
        "email",
        "organic_social",  # old label "Social media"
        "other",  # Offline sources
        "direct",
    ]
    assert leads.loc["54", "channel_raw"] == "Social media"
    # utm_campaign sits in drill-down 1 for paid search and email, drill-down 2 for social
    assert leads["campaign_id"].iloc[1:4].tolist() == [
        "spring_sale",
        "march_newsletter",
        "q1_brand",
    ]
    assert pd.isna(leads.loc["51", "campaign_id"])  # organic drill-down 1 is a search term
    assert pd.isna(leads.loc["55", "campaign_id"])  # "IMPORT" is not a campaign


def test_other_contact_columns(hub):
    leads = by_id(hub.leads, "lead_id")
    assert leads.loc["53", "account_id"] == "9002"  # first of "9002;9003"
    assert leads.loc["51", "owner_id"] == "Sam Seller"
    assert leads.loc["52", "lifecycle_stage"] == "marketingqualifiedlead"
    assert leads.loc["51", "company_size"] == 250.0
    assert leads.loc["51", "last_name"] == "Pérez"
    # personal data is kept for matching but recognised as such
    assert {"email", "first_name", "last_name", "phone_number"} <= set(
        salesmkt.pii_columns(hub.leads)
    )


def test_stage_inversion_is_kept_and_reported(hub):
    # contact 55: MQL 16 March after SQL 15 March
    assert len(hub.leads) == 6
    msgs = hub.findings.query("table == 'leads'")["message"].tolist()
    assert any("out of order" in m and "row 4" in m for m in msgs)


def test_deals(hub):
    deals = by_id(hub.deals, "deal_id")
    assert deals["status"].tolist() == ["won", "open", "lost", "open", "open"]
    assert deals["amount"].tolist() == [12500.5, 4800.0, 2000.0, 0.0, 1250.0]
    assert deals["amount_missing"].tolist() == [False, False, False, True, False]
    # closed deals: close date is when they closed (EDT); open: only an expected date
    assert deals.loc["7001", "closed_at"] == utc("2024-03-20 19:45")
    assert pd.isna(deals.loc["7002", "closed_at"])
    assert deals.loc["7002", "expected_close_at"] == utc("2024-05-01 03:59")
    assert deals.loc["7003", "created_at"] == utc("2024-02-15 14:00")
    assert deals["deal_type"].tolist()[:3] == ["new_business", "expansion", "expansion"]
    assert pd.isna(deals.loc["7005", "deal_type"])
    assert deals.loc["7005", "deal_type_raw"] == "Partner deal"
    # 7001 names its contact; 7003 does not, but contact 55 lists deal 7003
    assert deals.loc["7001", "lead_id"] == "51"
    assert deals.loc["7003", "lead_id"] == "55"
    assert deals.loc["7001", "pipeline"] == "Sales Pipeline"


def test_deal_warnings_count_what_was_assumed(hub):
    f = hub.findings.query("table == 'deals'").set_index("column")
    assert f.loc["amount", "count"] == 1
    assert f.loc["status", "count"] == 1  # numeric custom stage 1234567
    assert f.loc["deal_type", "count"] == 1


def test_custom_stages_can_be_named_won(tmp_path):
    ds = salesmkt.load(DEALS, source="hubspot", tz=NY, won_stages=["1234567"])
    assert ds.deals.set_index("deal_id").loc["7005", "status"] == "won"
    ds = salesmkt.load(DEALS, source="hubspot", tz=NY, existing_business="renewal")
    assert ds.deals.set_index("deal_id").loc["7002", "deal_type"] == "renewal"


def test_touchpoints_and_campaigns(hub):
    tp = hub.touchpoints
    assert len(tp) == 8  # six original sources + latest source of 51 and 52
    first = tp.query("person_id == '51' and touch == 'original_source'").iloc[0]
    assert first["ts"] == utc("2024-03-02 01:10")  # Time First Seen, 20:10 EST the day before
    latest = tp.query("person_id == '52' and touch == 'latest_source'").iloc[0]
    assert (latest["channel"], latest["campaign_id"]) == ("email", "march_newsletter")
    assert latest["ts"] == utc("2024-03-18 12:30")
    camp = hub.campaigns.set_index("campaign_id")["channel"].to_dict()
    assert camp == {
        "march_newsletter": "email",
        "q1_brand": "organic_social",
        "spring_sale": "paid_search",
    }


def test_internal_names_are_utc_without_tz():
    ds = salesmkt.load(FIX / "hubspot_api", source="hubspot")
    leads = ds.leads.set_index("lead_id")
    assert leads.loc["101", "created_at"] == utc("2024-03-04 14:15")
    assert leads.loc["102", "created_at"] == utc("2021-04-01 17:32:47")  # Fivetran: naive UTC
    assert leads.loc["103", "created_at"] == utc("2024-03-08 16:00")  # epoch milliseconds
    assert leads["channel"].tolist() == ["organic_search", "paid_social", "referral"]
    deals = ds.deals.set_index("deal_id")
    assert deals["status"].tolist() == ["won", "lost", "open"]
    assert deals.loc["801", "closed_at"] == utc("2024-03-20 16:50:06.678")
    assert deals["deal_type"].tolist() == ["new_business", "expansion", "new_business"]


def test_ui_export_without_tz_is_a_clear_error():
    with pytest.raises(ValidationError) as err:
        salesmkt.load(CONTACTS, source="hubspot")
    msg = str(err.value)
    assert CONTACTS.name in msg and "Create Date" in msg and "tz=" in msg


def test_missing_column_names_file_and_closest_match(tmp_path):
    df = pd.read_csv(CONTACTS, dtype=str)
    renamed = tmp_path / "contacts.csv"
    df.rename(columns={"Create Date": "Creation Date"}).to_csv(renamed, index=False)
    with pytest.raises(ValidationError) as err:
        salesmkt.load(renamed, source="hubspot", tz=NY)
    msg = str(err.value)
    assert "leads.created_at" in msg and "contacts.csv" in msg
    assert "'Create Date'" in msg and "Closest in the file: 'Creation Date'" in msg


def test_headers_match_case_insensitively(tmp_path):
    df = pd.read_csv(CONTACTS, dtype=str)
    lower = tmp_path / "contacts-lower.csv"
    df.rename(columns=str.upper).to_csv(lower, index=False)
    ds = salesmkt.load(lower, source="hubspot", tz=NY)
    assert ds.leads["channel"].iloc[1] == "paid_search"


def test_excel_export(tmp_path):
    df = pd.read_csv(CONTACTS, dtype=str)
    xlsx = tmp_path / "hubspot-contacts.xlsx"
    df.to_excel(xlsx, index=False)
    ds = salesmkt.load(xlsx, source="hubspot", tz=NY)
    assert ds.leads.set_index("lead_id").loc["51", "customer_at"] == utc("2024-03-20 19:45")


def test_one_folder_gives_crm_web_and_spend(tmp_path, sample):
    folder = tmp_path / "exports"
    folder.mkdir()
    for f in (CONTACTS, DEALS, FIX / "ga4" / "events_20240301.json"):
        shutil.copy(f, folder)
    spend = pd.DataFrame(
        {
            "date": ["2024-03-01", "2024-03-02"],
            "campaign_id": ["spring_sale"] * 2,
            "amount": [120.0, 80.0],
        }
    )
    spend.to_csv(folder / "spend.csv", index=False)
    (folder / "notes.docx").write_bytes(b"not an export")
    before = digest(folder)
    ds = salesmkt.load(folder, source="hubspot", tz=NY)
    assert digest(folder) == before
    assert sorted(ds.tables) == [
        "campaigns",
        "deals",
        "events",
        "leads",
        "sessions",
        "spend",
        "touchpoints",
    ]
    assert len(ds.sessions) == 6 and len(ds.touchpoints) == 8 + 6
    assert ds.touchpoints["origin"].value_counts().to_dict() == {"hubspot": 8, "ga4": 6}
    assert ds.spend["amount"].sum() == 200.0
    # GA4 user_id "51" is the HubSpot contact: the demo-request session resolves to the lead
    assert ds.sessions["lead_id"].dropna().tolist() == ["51"]
    assert "notes.docx" in " ".join(ds.findings["message"])


def test_no_input_file_is_modified():
    before = digest(HUB)
    salesmkt.load(HUB, source="hubspot", tz=NY)
    assert digest(HUB) == before


def test_fields_the_export_lacks_are_present_and_empty(hub):
    # HubSpot has no default first-response property: the column is there, empty, so that a
    # KPI that needs it shows as missing instead of stopping a report
    assert hub.leads["first_response_at"].isna().all()
    assert str(hub.leads["first_response_at"].dtype) == "datetime64[ns, UTC]"
    assert hub.deals["product"].isna().all()


def test_canonical_campaigns_file_beats_derived_campaigns(tmp_path):
    folder = tmp_path / "exports"
    shutil.copytree(HUB, folder)
    pd.DataFrame(
        {"campaign_id": ["spring_sale"], "channel": ["paid_search"], "name": ["Spring"]}
    ).to_csv(folder / "campaigns.csv", index=False)
    ds = salesmkt.load(folder, source="hubspot", tz=NY)
    assert ds.campaigns["name"].tolist() == ["Spring"]
    assert any("were not used" in m for m in ds.findings["message"])


def assert_clean_report(report) -> None:
    """A rendered report with no error, no warning (nothing on stderr) and a chart."""
    page = report.html_path.read_text()
    assert "Traceback" not in page, report.notebook
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page, report.notebook
    if "two quarters of lead history" in page:  # 06 on a few days of data: it says why instead
        assert report.notebook.startswith("06"), report.notebook
        return
    assert 'src="data:image/png;base64,' in page, report.notebook


@pytest.mark.slow
def test_every_report_renders_on_the_small_hubspot_and_ga4_fixtures(tmp_path, capfd):
    """Six contacts, five deals, one GA4 day; no spend, orders, quotas or assignments."""
    folder = tmp_path / "exports"
    folder.mkdir()
    for f in (FIX / "hubspot").iterdir():
        shutil.copy(f, folder)
    shutil.copy(FIX / "ga4" / "events_20240301.json", folder)
    reports = salesmkt.run_reports(
        folder, tmp_path / "reports", source="hubspot", tz=NY, progress=False
    )
    assert [r.notebook for r in reports] == [
        p.name for p in salesmkt.reports.pipeline.notebook_paths()
    ]
    for r in reports:
        assert_clean_report(r)
    pages = {r.notebook[:2]: r.html_path.read_text() for r in reports}
    # what the data lacks is said in plain words, not hidden
    assert "Only k = 2 compared: 6 leads allow at most 2 personas" in pages["02"]
    assert "No holdout test: the data has no assignments table" in pages["04"]
    assert "no data" in pages["05"]  # KPIs needing spend, orders or quotas
    err = capfd.readouterr().err
    assert err == "", err
