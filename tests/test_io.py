"""Loading every supported format, the sample, and a broken copy of every table."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

import salesmkt
from salesmkt.data.schema import TABLES

SAMPLE = salesmkt.sample_dir()


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_load_sample_has_every_table(sample):
    assert sorted(sample.tables) == sorted(TABLES)
    for name, df in sample.tables.items():
        assert len(df) > 0, name
        for col in TABLES[name].required:
            assert col.name in df.columns
    assert str(sample.leads["created_at"].dtype) == "datetime64[ns, UTC]"


def test_load_sample_returns_independent_copies():
    a = salesmkt.load_sample()
    a.deals.loc[0, "amount"] = -1
    assert salesmkt.load_sample().deals.loc[0, "amount"] >= 0


def test_load_never_modifies_input(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder)
    before = digest(folder)
    salesmkt.load(folder)
    assert digest(folder) == before


@pytest.fixture(scope="module")
def small_tables(sample):
    return {
        "leads": sample.leads.head(50),
        "campaigns": sample.campaigns,
        "spend": sample.spend.head(30),
    }


def test_parquet_folder_equals_csv(tmp_path, small_tables):
    for name, df in small_tables.items():
        df.to_parquet(tmp_path / f"{name}.parquet")
    ds = salesmkt.load(tmp_path)
    pd.testing.assert_frame_equal(ds.leads, small_tables["leads"], check_dtype=False)


def test_parquet_folder_of_part_files_as_spark_writes_a_table(tmp_path, sample, monkeypatch):
    """A table written by Spark is a folder ``sessions.parquet/`` of part files beside a
    ``_SUCCESS`` marker and ``.crc`` checksums; read into memory or kept in DuckDB, it holds
    the rows of its parts in order."""
    sessions = sample.sessions
    folder = tmp_path / "sessions.parquet"
    folder.mkdir()
    half = len(sessions) // 2
    sessions.iloc[:half].to_parquet(folder / "part-00000-a.snappy.parquet", index=False)
    sessions.iloc[half:].to_parquet(folder / "part-00001-a.snappy.parquet", index=False)
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-00000-a.snappy.parquet.crc").write_bytes(b"crc")
    sample.leads.to_parquet(tmp_path / "leads.parquet", index=False)
    pd.testing.assert_frame_equal(salesmkt.load(tmp_path).sessions, sessions)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
    kept = salesmkt.load(tmp_path).sessions
    assert not isinstance(kept, pd.DataFrame)
    assert int(kept.count().execute()) == len(sessions)
    back = kept.order_by("session_id").to_pandas()
    want = sessions.sort_values("session_id", ignore_index=True)
    pd.testing.assert_frame_equal(back[want.columns], want, check_dtype=False)


def test_a_spark_url_says_to_pass_the_session():
    with pytest.raises(ValueError, match=r"ibis\.pyspark\.connect\(spark\)"):
        salesmkt.load("pyspark:///srv/spark-warehouse")


def test_excel_workbook(tmp_path, small_tables):
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path) as xl:
        for name, df in small_tables.items():
            out = df.copy()
            for col in out.select_dtypes("datetimetz"):
                out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            out.to_excel(xl, sheet_name=name, index=False)
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="Notes", index=False)
    ds = salesmkt.load(path)
    assert sorted(ds.tables) == ["campaigns", "leads", "spend"]
    assert ds.leads["created_at"].equals(small_tables["leads"]["created_at"].reset_index(drop=True))
    assert ds.findings["problem"].str.contains("sheet 'Notes' is not a canonical table").any()


def test_duckdb_file_opened_read_only(tmp_path, small_tables):
    import duckdb

    path = tmp_path / "crm.duckdb"
    with duckdb.connect(str(path)) as con:
        for name, df in small_tables.items():
            con.register("df", df)
            con.execute(f"create table {name} as select * from df")
            con.unregister("df")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    ds = salesmkt.load(path)
    assert len(ds.spend) == 30 and ds.spend["amount"].sum() == pytest.approx(
        small_tables["spend"]["amount"].sum()
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_unknown_files_are_listed_not_loaded(tmp_path):
    shutil.copy(SAMPLE / "campaigns.csv", tmp_path)
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    ds = salesmkt.load(tmp_path)
    assert list(ds.tables) == ["campaigns"]
    assert "notes.csv is not a canonical table" in ds.findings["message"].iloc[0]


def test_clear_errors_for_paths():
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        salesmkt.load("/nonexistent/folder")


def test_non_utf8_file(tmp_path):
    (tmp_path / "campaigns.csv").write_bytes(
        "campaign_id,channel,name\nC1,email,Caf\xe9\n".encode("latin-1")
    )
    with pytest.raises(ValueError, match="campaigns.csv: not UTF-8 text.*CSV UTF-8"):
        salesmkt.load(tmp_path)


# --- a broken copy of every table -------------------------------------------------------


def _first(table: str, kinds: tuple[str, ...]) -> str | None:
    return next((c.name for c in TABLES[table].required if c.kind in kinds), None)


def _broken(table: str, how: str, tmp_path: Path) -> Path | None:
    df = pd.read_csv(SAMPLE / f"{table}.csv", dtype=str)
    spec = TABLES[table]
    if how == "missing column":
        df = df.drop(columns=spec.required[0].name)
    elif how == "wrong type":
        col = _first(table, ("timestamp", "date", "number"))
        if col is None:
            return None
        df.loc[3, col] = "n/a-ish"
    elif how == "duplicate id":
        if not spec.key:
            return None
        df.loc[5, list(spec.key)] = df.loc[4, list(spec.key)].to_numpy()
    elif how == "negative amount":
        col = next((c.name for c in spec.required if c.min_value is not None), None)
        if col is None:
            return None
        df.loc[[2, 7], col] = "-10"
    elif how == "naive timestamps":
        col = _first(table, ("timestamp",))
        if col is None:
            return None
        df[col] = df[col].str.replace("Z", "", regex=False)
    elif how == "empty file":
        (tmp_path / f"{table}.csv").write_text("")
        return tmp_path
    df.to_csv(tmp_path / f"{table}.csv", index=False)
    return tmp_path


EXPECTED = {
    "missing column": r"{t}\.\w+: required column missing",
    "wrong type": r"{t}\.\w+: 1 value not (timestamps|dates|numbers), first at row 3 \('n/a-ish'\)",
    "duplicate id": r"{t}\.[\w+]+: 2 rows share 1 duplicated id, first at rows 4, 5",
    "negative amount": r"{t}\.\w+: 2 values below 0, first at rows 2, 7 \(-10.0, -10.0\)",
    "naive timestamps": r"{t}\.\w+: \d+ timestamps without a time zone, first at rows 0, 1, 2",
    "empty file": r"{t}: the file is empty",
}


@pytest.mark.parametrize("how", list(EXPECTED))
@pytest.mark.parametrize("table", list(TABLES))
def test_broken_copy_gives_clear_error(table, how, tmp_path):
    folder = _broken(table, how, tmp_path)
    if folder is None:
        pytest.skip(f"{table} has no column for '{how}'")
    with pytest.raises(salesmkt.ValidationError, match=EXPECTED[how].format(t=table)):
        salesmkt.load(folder)


def test_sample_findings_match_planted_problems(sample):
    """The validator reports exactly the order problems the generator planted (independent truth)."""
    from salesmkt.sample import generate

    truth = generate().truth["data_quality"]
    planted = {
        table: set(" ".join(truth.loc[truth["table"] == table, "ids"]).split())
        for table in ("leads", "deals")
    }
    order = sample.findings[sample.findings["problem"].str.contains("out of order|before it was")]
    counts = dict(zip(order["table"], order["count"], strict=True))
    assert counts == {"leads": len(planted["leads"]), "deals": len(planted["deals"])}
    assert counts["deals"] == 5
