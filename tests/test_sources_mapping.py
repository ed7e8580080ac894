"""YAML column mappings, the `salesmkt map --init` template, the source registry and errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

import salesmkt
from salesmkt.cli import main
from salesmkt.data.validate import ValidationError
from salesmkt.sources.mapping import load_mapping
from salesmkt.sources.mapping_templates import mapping_template, write_mapping_template

FIX = Path(__file__).parent / "fixtures" / "exports"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def signups(tmp_path) -> Path:
    path = tmp_path / "signups.csv"
    path.write_text(
        "Lead ID,Created,Origin,Email,Plan\n"
        "S1,2024-03-01 10:00,cpc,a@example.com,pro\n"
        "S2,2024-03-02 11:30,Newsletter,b@example.com,free\n"
        "S3,2024-03-03 12:45,Trade show,,free\n"
    )
    return path


def test_template_guesses_obvious_columns(signups):
    spec = yaml.safe_load(mapping_template(signups))
    assert list(spec) == ["leads"]  # the header fits the leads table best
    cols = spec["leads"]["columns"]
    assert cols["lead_id"] == "Lead ID"
    assert cols["created_at"] == "Created"
    assert cols["channel"] == "Origin"
    assert spec["leads"]["file"] == "signups.csv"


def test_template_round_trip(signups, tmp_path):
    out = write_mapping_template(signups)
    assert out == tmp_path / "signups.mapping.yml"
    spec = load_mapping(out)
    spec["leads"]["tz"] = "Europe/Paris"  # CET, UTC+1 in early March
    out.write_text(yaml.safe_dump(spec))
    ds = salesmkt.load(tmp_path, source=out)
    leads = ds.leads.set_index("lead_id")
    assert leads["created_at"].tolist() == [
        utc("2024-03-01 09:00"),
        utc("2024-03-02 10:30"),
        utc("2024-03-03 11:45"),
    ]
    assert leads["channel"].tolist() == ["paid_search", "email", "events"]
    assert leads["Plan"].tolist() == ["pro", "free", "free"]  # unmapped columns kept
    with pytest.raises(FileExistsError):
        write_mapping_template(signups)


def test_template_marks_required_columns_it_could_not_guess(tmp_path):
    path = tmp_path / "opps.csv"
    path.write_text("Opportunity ID;Opened;Deal Value;Outcome\nO1;2024-03-01T10:00Z;1.200,50;Won\n")
    text = mapping_template(path, table="deals")
    spec = yaml.safe_load(text)["deals"]["columns"]
    assert spec["deal_id"] == "Opportunity ID" and spec["amount"] == "Deal Value"
    assert spec["created_at"] is None and "REQUIRED: name the column" in text
    with pytest.raises(ValueError, match=r"deals.created_at is required but not mapped"):
        load_mapping(_write(tmp_path / "m.yml", text))


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_constants_formats_and_value_maps(tmp_path):
    (tmp_path / "crm.csv").write_text(
        "Opportunity ID;Opened;Deal Value;Outcome\n"
        "O1;01.03.2024 10:00;1.200,50;Won\n"
        "O2;05.03.2024 16:30;300;Open\n"
    )
    mapping = _write(
        tmp_path / "crm.yml",
        """\
        deals:
          file: crm.csv
          tz: Europe/Berlin
          columns:
            deal_id: Opportunity ID
            created_at: {column: Opened, format: "%d.%m.%Y %H:%M"}
            amount: Deal Value
            status: {column: Outcome, values: {Won: won, Open: open}}
            product: {value: Platform}
        """,
    )
    ds = salesmkt.load(tmp_path, source=mapping)
    deals = ds.deals.set_index("deal_id")
    assert deals["created_at"].tolist() == [utc("2024-03-01 09:00"), utc("2024-03-05 15:30")]
    assert deals["amount"].tolist() == [1200.5, 300.0]
    assert deals["status"].tolist() == ["won", "open"]
    assert deals["product"].tolist() == ["Platform", "Platform"]


def test_mapping_naming_an_absent_column(tmp_path, signups):
    mapping = _write(
        tmp_path / "m.yml",
        """\
        leads:
          file: signups.csv
          columns: {lead_id: Lead ID, created_at: Created On}
        """,
    )
    with pytest.raises(ValidationError) as err:
        salesmkt.load(tmp_path, source=mapping, tz="UTC")
    msg = str(err.value)
    assert "leads.created_at" in msg and "signups.csv" in msg and "'Created'" in msg


def test_bad_format_values_are_listed(tmp_path, signups):
    mapping = _write(
        tmp_path / "m.yml",
        """\
        leads:
          file: signups.csv
          columns: {lead_id: Lead ID, created_at: {column: Created, format: "%d/%m/%Y"}}
        """,
    )
    with pytest.raises(ValidationError, match="3 values in 'Created' do not match"):
        salesmkt.load(tmp_path, source=mapping)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("lead:\n  columns: {lead_id: a, created_at: b}\n", "did you mean 'leads'"),
        ("leads:\n  file: x.csv\n", "needs a 'columns:' block"),
        ("leads:\n  columns: {lead_id: a}\n", "required column(s) created_at missing"),
        ("leads:\n  colums: {}\n  columns: {lead_id: a, created_at: b}\n", "unknown key(s) colums"),
        ("leads: [", "not readable YAML"),
        ("leads:\n  columns: {lead_id: {column: a, value: b}, created_at: c}\n", "either"),
    ],
)
def test_mapping_file_errors_name_the_problem(tmp_path, text, problem):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_mapping(path)
    assert "bad.yml" in str(err.value) and problem in str(err.value)


def test_cli_map_init(signups, tmp_path, capsys):
    out = tmp_path / "custom.yml"
    assert main(["map", "--init", str(signups), "--table", "leads", "--out", str(out)]) == 0
    assert load_mapping(out)["leads"]["columns"]["lead_id"] == "Lead ID"
    assert "--source" in capsys.readouterr().out
    assert main(["map", "--init", str(signups), "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["map", "--init", str(signups), "--out", str(out), "--force"]) == 0


def test_unknown_source_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'hubspot'"):
        salesmkt.load(FIX / "hubspot", source="hubspt")


def test_folder_without_an_export_says_what_it_found(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="found no Salesforce export.*notes.csv"):
        salesmkt.load(tmp_path, source="salesforce")


def test_options_without_source_are_refused(tmp_path):
    with pytest.raises(TypeError, match="only apply with source="):
        salesmkt.load(salesmkt.sample_dir(), dayfirst=True)


def test_convert_export_writes_canonical_parquet(tmp_path):
    folder = salesmkt.convert_export(
        FIX / "salesforce", tmp_path / "canon", source="salesforce", tz="Europe/London"
    )
    ds = salesmkt.load(folder)
    assert len(ds.leads) == 5 and len(ds.deals) == 5
    assert ds.deals["amount"].sum() == 12000.0 + 3500.0 + 8250.5 + 5000.0
