"""Salesforce lead and opportunity report exports (en_GB locale, Europe/London, report footer).

Expected values are worked out by hand from tests/fixtures/exports/salesforce: London is on
GMT (= UTC) until 31 March 2024 and on BST (UTC+1) after; dates are day first.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import salesmkt
from salesmkt.data.validate import ValidationError

SF = Path(__file__).parent / "fixtures" / "exports" / "salesforce"
LEADS = SF / "report1711879200000.csv"
OPPS = SF / "report1711879300000.csv"
LONDON = "Europe/London"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def sf():
    return salesmkt.load(SF, source="salesforce", tz=LONDON)


def test_leads(sf):
    leads = sf.leads.set_index("lead_id")
    assert len(leads) == 5  # the footer lines are not rows
    assert leads.loc["00Q5g00000AbCd1", "created_at"] == utc("2024-03-04 09:15")  # 4 March
    assert leads.loc["00Q5g00000AbCd4", "created_at"] == utc("2024-04-02 09:30")  # BST
    assert leads["channel"].tolist() == ["other", "referral", "events", "events", "other"]
    assert leads.loc["00Q5g00000AbCd1", "channel_raw"] == "Web"  # a web form, not "direct"
    assert leads["is_converted"].tolist() == [True, False, True, False, False]
    assert leads.loc["00Q5g00000AbCd3", "account_id"] == "0015g00000Acc02"
    assert leads.loc["00Q5g00000AbCd4", "last_name"] == "Åberg"
    assert leads.loc["00Q5g00000AbCd1", "company_size"] == 300.0


def test_unknown_lead_source_is_reported(sf):
    f = sf.findings.query("table == 'leads' and column == 'channel'")
    assert f["count"].tolist() == [1]
    assert "Carrier Pigeon" in f["message"].iloc[0]


def test_converted_leads_link_to_their_opportunities(sf):
    leads = sf.leads.set_index("lead_id")
    # the report shows 15-character ids, the opportunity export 18-character ones
    assert leads.loc["00Q5g00000AbCd1", "opportunity_at"] == utc("2024-03-08 10:00")
    assert leads.loc["00Q5g00000AbCd1", "customer_at"] == utc("2024-03-20")
    assert leads.loc["00Q5g00000AbCd3", "opportunity_at"] == utc("2024-03-19 09:00")
    assert pd.isna(leads.loc["00Q5g00000AbCd3", "customer_at"])  # its opportunity was lost
    deals = sf.deals.set_index("deal_id")
    assert deals.loc["0065g00000XyZ12AAC", "lead_id"] == "00Q5g00000AbCd1"
    assert deals["lead_id"].notna().sum() == 2


def test_opportunities(sf):
    deals = sf.deals.set_index("deal_id")
    assert deals["amount"].tolist() == [12000.0, 3500.0, 8250.5, 5000.0, 0.0]
    assert deals["status"].tolist() == ["won", "lost", "open", "won", "open"]
    # Close Date is a date: the calendar day at UTC midnight, not shifted by the zone
    assert deals.loc["0065g00000XyZ12AAC", "closed_at"] == utc("2024-03-20")
    assert deals.loc["0065g00000XyZ14AAC", "expected_close_at"] == utc("2024-04-30")
    assert pd.isna(deals.loc["0065g00000XyZ14AAC", "closed_at"])
    assert deals["deal_type"].tolist()[:4] == [
        "new_business",
        "new_business",
        "expansion",
        "renewal",
    ]
    assert deals.loc["0065g00000XyZ16AAC", "amount_missing"]


def test_deal_type_map_is_configurable():
    ds = salesmkt.load(
        OPPS,
        source="salesforce",
        tz=LONDON,
        deal_types={"New Business": "new_business", "Existing Business": "renewal"},
    )
    types = ds.deals.set_index("deal_id")["deal_type"]
    assert types["0065g00000XyZ14AAC"] == "renewal"
    assert pd.isna(types["0065g00000XyZ15AAC"])  # not in the given map: left empty, reported
    assert "deal_type" in set(ds.findings["column"])


def test_status_from_stage_names_without_flag_columns(tmp_path):
    df = pd.read_csv(OPPS, dtype=str, skipfooter=5, engine="python")
    df = df.drop(columns=["Won", "Closed"])
    path = tmp_path / "opps.csv"
    df.to_csv(path, index=False)
    ds = salesmkt.load(path, source="salesforce", tz=LONDON)
    assert ds.deals["status"].tolist() == ["won", "lost", "open", "won", "open"]
    assert any("stage names" in m for m in ds.findings["message"])


def test_wrong_dayfirst_is_a_clear_error():
    with pytest.raises(ValidationError) as err:
        salesmkt.load(LEADS, source="salesforce", tz=LONDON, dayfirst=False)
    assert "Created Date" in str(err.value) and LEADS.name in str(err.value)


def test_ambiguous_dates_read_month_first_and_say_so(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text('"Lead ID","Created Date","Lead Source"\n"00Q1","03/04/2024 10:00","Web"\n')
    ds = salesmkt.load(path, source="salesforce", tz="UTC")
    assert ds.leads["created_at"].iloc[0] == utc("2024-03-04 10:00")  # 4 March (US)
    assert any("month first" in m for m in ds.findings["message"])


def test_api_extract_in_utc_needs_no_tz(tmp_path):
    path = tmp_path / "Lead.csv"
    path.write_text(
        "Id,CreatedDate,LeadSource,Status,IsConverted\n"
        "00Q000000000001AAA,2024-03-04T09:15:00.000Z,Partner Referral,Open,false\n"
    )
    ds = salesmkt.load(path, source="salesforce")
    assert ds.leads["created_at"].iloc[0] == utc("2024-03-04 09:15")
    assert ds.leads["channel"].iloc[0] == "referral"


def test_report_times_without_tz_are_an_error():
    with pytest.raises(ValidationError, match="tz="):
        salesmkt.load(LEADS, source="salesforce")


def test_windows_1252_export_is_read_and_noted(tmp_path):
    path = tmp_path / "leads-cp1252.csv"
    path.write_bytes(LEADS.read_text(encoding="utf-8").encode("cp1252"))
    ds = salesmkt.load(path, source="salesforce", tz=LONDON)
    assert "Åberg" in ds.leads["last_name"].tolist()
    assert any("Windows-1252" in m for m in ds.findings["message"])


def test_utf16_export_with_bom(tmp_path):
    path = tmp_path / "leads-utf16.csv"
    path.write_bytes(LEADS.read_text(encoding="utf-8").encode("utf-16"))
    ds = salesmkt.load(path, source="salesforce", tz=LONDON)
    assert len(ds.leads) == 5


def test_inputs_untouched():
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SF.iterdir()}
    salesmkt.load(SF, source="salesforce", tz=LONDON)
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SF.iterdir()}


def test_same_day_close_date_is_not_before_creation(tmp_path):
    path = tmp_path / "opps.csv"
    path.write_text(
        '"Opportunity ID","Created Date","Close Date","Amount","Won","Closed"\n'
        '"006A","14/03/2024 15:30","14/03/2024","100","1","1"\n'
        '"006B","14/03/2024 15:30","16/03/2024","100","1","1"\n'
        '"006C","14/03/2024 15:30","13/03/2024","100","1","1"\n'
    )
    ds = salesmkt.load(path, source="salesforce", tz=LONDON)
    closed = ds.deals.set_index("deal_id")["closed_at"]
    assert closed["006A"] == utc("2024-03-14 15:30")  # the creation day: not midnight before it
    assert closed["006B"] == utc("2024-03-16")
    assert closed["006C"] == utc("2024-03-13")  # a real inversion stays, and is reported
    assert any("closed before it was created" in m for m in ds.findings["message"])


def test_lead_history_gives_stage_times():
    ds = salesmkt.load(
        SF,
        source="salesforce",
        tz=LONDON,
        mql_statuses=["Marketing Qualified"],
        sql_statuses=["Sales Qualified"],
    )
    leads = ds.leads.set_index("lead_id")
    assert leads.loc["00Q5g00000AbCd1", "mql_at"] == utc("2024-03-04 11:40")
    assert leads.loc["00Q5g00000AbCd1", "sql_at"] == utc("2024-03-06 14:00")
    assert leads.loc["00Q5g00000AbCd1", "first_response_at"] == utc("2024-03-04 11:40")
    # the history names lead 3 by its 18-character id
    assert leads.loc["00Q5g00000AbCd3", "sql_at"] == utc("2024-03-18 15:00")
    assert pd.isna(leads.loc["00Q5g00000AbCd2", "mql_at"])
    assert leads.loc["00Q5g00000AbCd2", "first_response_at"] == utc("2024-03-14 09:00")
    assert leads.loc["00Q5g00000AbCd5", "disqualified_at"] == utc("2024-03-26 10:00")
    assert pd.isna(leads.loc["00Q5g00000AbCd4", "first_response_at"])  # a Rating change only


def test_without_statuses_no_mql_is_invented(sf):
    assert "mql_at" not in sf.leads or sf.leads["mql_at"].isna().all()
    assert sf.leads["first_response_at"].notna().sum() == 4


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook",
    ["01", "02", "03", "04", "05"],
)
def test_every_report_renders_on_the_salesforce_and_ga4_fixtures(tmp_path, capfd, notebook):
    """Five leads, five opportunities, the lead history and one GA4 day (docs/exports.md)."""
    import shutil

    from test_sources_hubspot import assert_clean_report

    folder = tmp_path / "exports"
    folder.mkdir()
    for f in SF.iterdir():
        shutil.copy(f, folder)
    shutil.copy(SF.parent / "ga4" / "events_20240301.json", folder)
    (report,) = salesmkt.run_reports(
        folder,
        tmp_path / "reports",
        source="salesforce",
        tz=LONDON,
        only=[notebook],
        progress=False,
    )
    err = capfd.readouterr().err
    assert err == "", err
    if notebook != "02":
        assert_clean_report(report)
    else:  # five leads form no personas (and so no chart): the report says why, and no error
        page = report.html_path.read_text(encoding="utf-8")
        assert "Traceback" not in page
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
        assert "Personas need at least 6 leads" in page and "these data have 5" in page
