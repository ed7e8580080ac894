"""Journeys, path counts and attribution computed where the touchpoints live give the same
results as the pandas path: DuckDB in-process and Parquet files here (with random touchpoints:
ties in time, persons who never convert, touches exactly at the lookback boundary);
PySpark in tests/test_journeys_spark.py, PostgreSQL in tests/test_postgres.py.

The pandas path is the independent computation: it is written with numpy over flat arrays,
the engine path as SQL window expressions.
"""

from __future__ import annotations

import itertools

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesmkt.campaigns import _engine
from salesmkt.campaigns._engine import WITHOUT_PERSON
from salesmkt.campaigns.attribution import MODELS, attribute
from salesmkt.campaigns.journeys import (
    build_journeys,
    customer_conversions,
    journeys_note,
    path_counts,
)

T0 = pd.Timestamp("2025-03-01", tz="UTC")


def same_journeys(engine: pd.DataFrame, pandas: pd.DataFrame) -> None:
    """Row by row equality of two journeys tables (types normalised, days to 1e-9)."""
    assert list(engine.columns) == list(pandas.columns)
    assert len(engine) == len(pandas)
    engine = engine.reset_index(drop=True)
    for col in pandas.columns:
        a, b = engine[col], pandas[col]
        if col == "days_before_conversion" or col == "conversion_value":
            np.testing.assert_allclose(
                a.to_numpy(float, na_value=np.nan), b.to_numpy(float, na_value=np.nan), atol=1e-9
            )
        elif col in ("ts", "conversion_at"):
            a = pd.to_datetime(a, utc=True).astype("datetime64[ns, UTC]")
            b = pd.to_datetime(b, utc=True).astype("datetime64[ns, UTC]")
            pd.testing.assert_series_equal(a, b, check_names=False)
        else:
            left = [None if pd.isna(x) else x for x in a.tolist()]
            right = [None if pd.isna(x) else x for x in b.tolist()]
            assert left == right, col


def same_paths(engine: pd.DataFrame, pandas: pd.DataFrame) -> None:
    assert engine["path"].tolist() == pandas["path"].tolist()
    for col in ("total_conversions", "total_null"):
        assert engine[col].tolist() == pandas[col].astype(int).tolist()
    np.testing.assert_allclose(
        engine["total_conversion_value"].to_numpy(float),
        pandas["total_conversion_value"].to_numpy(float),
        rtol=1e-12,
    )


def same_credit(engine: pd.DataFrame, pandas: pd.DataFrame, by: str = "channel") -> None:
    assert engine[[by, "model"]].values.tolist() == pandas[[by, "model"]].values.tolist()
    for col in ("attributed_conversions", "attributed_revenue", "share"):
        np.testing.assert_allclose(
            engine[col].to_numpy(float), pandas[col].to_numpy(float), rtol=1e-9, atol=1e-9
        )


def compare(table: ir_table, touchpoints, conversions, **options) -> None:  # noqa: F821
    """Every result of the engine path against the pandas path on the same data."""
    lookback = options.pop("lookback_days", 90.0)
    by = options.pop("by", "channel")
    jp = build_journeys(touchpoints, conversions, lookback_days=lookback, **options)
    je = build_journeys(table, conversions, lookback_days=lookback, **options)
    assert isinstance(je, ibis.expr.types.Table)
    same_journeys(je.to_pandas(), jp)
    same_paths(path_counts(je, by=by), path_counts(jp, by=by))
    # consecutive repeats collapsed (Markov, Shapley), against a collapse by hand
    pp = path_counts(jp, by=by)
    hand = pp.groupby(
        pp["path"].map(lambda p: " > ".join(k for k, _ in itertools.groupby(p.split(" > "))))
    )[["total_conversions", "total_null", "total_conversion_value"]].sum()
    got = _engine.path_counts(je, by=by, collapse=True).set_index("path").sort_index()
    assert got.index.tolist() == hand.index.astype(str).tolist()
    np.testing.assert_allclose(got.to_numpy(float), hand.to_numpy(float), rtol=1e-12)
    # the conversions without a person id: left out of both, and the same count reaches both
    n = jp.attrs[WITHOUT_PERSON]
    assert n == conversions["person_id"].isna().sum()
    assert path_counts(je, by=by).attrs[WITHOUT_PERSON] == n
    assert path_counts(jp, by=by).attrs[WITHOUT_PERSON] == n
    if (jp["n_touches"] > 0).any():
        credit_e, credit_p = attribute(je, by=by), attribute(jp, by=by)
        same_credit(credit_e, credit_p, by=by)
        assert credit_e.attrs[WITHOUT_PERSON] == credit_p.attrs[WITHOUT_PERSON] == n


@pytest.fixture(scope="module")
def duck():
    return ibis.duckdb.connect()


@pytest.fixture(scope="module")
def sample_conv(sample):
    return customer_conversions(sample.leads, sample.deals)


def test_sample_company_in_process_duckdb(duck, sample, sample_conv):
    table = duck.create_table("sample_tp", sample.touchpoints, overwrite=True)
    compare(table, sample.touchpoints, sample_conv)


def test_conversions_without_milestones_or_values(duck, sample, sample_conv):
    """Conversions that carry only a person and a time (no CRM milestones, no value): the
    milestone flags are false and the models that need no milestone agree."""
    table = duck.create_table("sample_tp", sample.touchpoints, overwrite=True)
    bare = sample_conv[["person_id", "converted_at"]]
    je = build_journeys(table, bare)
    assert not je[["lead_touch", "deal_touch", "won_touch"]].to_pandas().any().any()
    compare(table, sample.touchpoints, bare, start="2025-03-01")
    compare(table, sample.touchpoints, sample_conv, by="campaign_id", lookback_days=30)
    compare(table, sample.touchpoints, sample_conv, include_non_converting=False,
            start="2025-01-01", end="2025-07-01")  # fmt: skip


def test_sample_company_from_parquet(sample, sample_conv, tmp_path):
    path = tmp_path / "touchpoints.parquet"
    sample.touchpoints.to_parquet(path)
    table = ibis.duckdb.connect().read_parquet(path)
    compare(table, sample.touchpoints, sample_conv)
    # the conversions may live in the engine too (on the same connection)
    con = table.get_backend()
    conv_table = con.create_table("conv", sample_conv)
    je = build_journeys(table, conv_table)
    same_journeys(je.to_pandas(), build_journeys(sample.touchpoints, sample_conv))


def test_every_model_and_default_models(duck, sample, sample_conv):
    table = duck.create_table("sample_tp2", sample.touchpoints, overwrite=True)
    je = build_journeys(table, sample_conv)
    jp = build_journeys(sample.touchpoints, sample_conv)
    models = [*MODELS, "markov_2"]
    kwargs = dict(half_life_days=3.0, max_steps=6)
    same_credit(attribute(je, models=models, **kwargs), attribute(jp, models=models, **kwargs))
    # credit adds up to the conversions under every model
    out = attribute(je, models=models)
    totals = out.groupby("model")["attributed_conversions"].sum()
    np.testing.assert_allclose(totals, jp.drop_duplicates("journey_id")["converted"].sum())


def test_one_query_per_result(duck, sample, sample_conv):
    """Path assembly is one statement (no per-journey round trip), after one for the labels."""
    table = duck.create_table("sample_tp3", sample.touchpoints, overwrite=True)
    je = build_journeys(table, sample_conv)
    sql = ibis.to_sql(je)
    assert sql.count(";") <= 1
    queries = []
    con = table.get_backend()
    real = con.con

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def sql(self, query, *args, **kwargs):
            queries.append(query)
            return real.sql(query, *args, **kwargs)

        def execute(self, query, *args, **kwargs):
            queries.append(query)
            return real.execute(query, *args, **kwargs)

    con.con = Spy()

    def reads() -> list[str]:
        return [
            str(q)
            for q in queries
            if "SELECT" in str(q)
            and "CURRENT_" not in str(q)
            and not str(q).startswith(("CREATE", "COPY"))
        ]

    def created() -> list[str]:
        # (DuckDB keeps the journeys in a Parquet file: a COPY, then a view over the file)
        return [str(q) for q in queries if str(q).startswith(("CREATE TABLE", "COPY"))]

    try:
        path_counts(je)
        n_paths, n_created = len(reads()), len(created())
        queries.clear()
        attribute(je, models=["linear", "time_decay", "w_shaped", "markov", "shapley"])
        n_attr, n_created_attr = len(reads()), len(created())
    finally:
        con.con = real
    # the journeys' columns are computed once (a Parquet file) by path_counts, then read
    # by its two queries (the summary: labels and longest journey; the paths as integer
    # words), and by attribute's rule-based credit (the summary and the paths are remembered)
    assert n_created == 1
    assert n_paths == 2
    assert n_created_attr == 0
    assert n_attr == 1


def test_kept_journeys_are_dropped_with_their_object(sample, sample_conv):
    """DuckDB keeps the journeys' columns in a Parquet file under a temporary folder while the
    journeys object lives; the file and its view go when the object goes or another journeys
    table is read, and the connection holds no other table."""
    import gc
    from pathlib import Path

    con = ibis.duckdb.connect()
    table = con.create_table("tp", sample.touchpoints)
    je = build_journeys(table, sample_conv)
    path_counts(je)

    def kept_views() -> list[str]:
        return [n for n in con.list_tables() if "read_parquet" in n]

    views = kept_views()
    assert len(views) == 1
    kept = con.table(views[0])
    files = [Path(f) for f in con.raw_sql(
        f"SELECT DISTINCT file_name FROM parquet_metadata('{_parquet_of(con, views[0])}')"
    ).fetchall() for f in f]  # fmt: skip
    assert len(files) == 1 and files[0].exists()
    assert kept.count().execute() == len(build_journeys(sample.touchpoints, sample_conv))
    # another journeys table read: the first one's file goes
    other = build_journeys(table, sample_conv, lookback_days=30)
    path_counts(other)
    assert not files[0].exists()
    assert len(kept_views()) == 1 and kept_views() != views
    del other
    gc.collect()
    assert kept_views() == []


def _parquet_of(con, view: str) -> str:
    """The file a DuckDB view over ``read_parquet`` reads."""
    sql = con.raw_sql(f"SELECT sql FROM duckdb_views() WHERE view_name = '{view}'").fetchone()[0]
    return sql.split("read_parquet(")[1].split("'")[1]


def test_bad_input_names_table_and_column(duck, sample_conv):
    table = duck.create_table("no_channel", pd.DataFrame({"person_id": ["a"], "ts": [T0]}),
                              overwrite=True)  # fmt: skip
    with pytest.raises(Exception, match="touchpoints.*channel|channel.*touchpoints"):
        build_journeys(table, sample_conv)
    with pytest.raises(ValueError, match="lookback_days"):
        build_journeys(table, sample_conv, lookback_days=0)


# --- random touchpoints --------------------------------------------------------------------

PERSONS = [f"p{i}" for i in range(6)]
CHANNELS = ["direct", "email", "paid_search"]


@st.composite
def touch_data(draw):
    n = draw(st.integers(0, 30))
    persons = draw(st.lists(st.sampled_from(PERSONS), min_size=n, max_size=n))
    # whole hours over 6 days: many ties; the lookback is 2 days, so edges are hit exactly
    hours = draw(st.lists(st.integers(0, 6 * 24), min_size=n, max_size=n))
    channels = draw(st.lists(st.sampled_from([*CHANNELS, None]), min_size=n, max_size=n))
    campaigns = draw(st.lists(st.sampled_from(["c1", "c2", None]), min_size=n, max_size=n))
    tp = pd.DataFrame(
        {
            "person_id": pd.array(persons, dtype="string"),
            "ts": T0 + pd.to_timedelta(np.asarray(hours, dtype=np.int64), unit="h"),
            "channel": pd.array(channels, dtype="string"),
            "campaign_id": pd.array(campaigns, dtype="string"),
        }
    )
    converting = draw(st.lists(st.sampled_from(PERSONS), unique=True, max_size=5))
    rows = []
    for p in converting:
        at = T0 + pd.Timedelta(hours=draw(st.integers(0, 6 * 24)))
        lead = draw(st.sampled_from([None, -72, -48, -1, 0]))
        rows.append(
            {
                "person_id": p,
                "converted_at": at,
                "value": float(draw(st.integers(0, 5))) * 100,
                "lead_created_at": pd.NaT if lead is None else at + pd.Timedelta(hours=lead),
                "deal_created_at": at - pd.Timedelta(hours=draw(st.integers(0, 60))),
                "closed_won_at": at,
            }
        )
    # conversions without a person id (none of them can belong to a journey)
    for hour in draw(st.lists(st.integers(0, 6 * 24), max_size=2)):
        at = T0 + pd.Timedelta(hours=hour)
        rows.append({"person_id": None, "converted_at": at, "value": 100.0,
                     "lead_created_at": at, "deal_created_at": at, "closed_won_at": at})  # fmt: skip
    conv = pd.DataFrame(
        rows,
        columns=[
            "person_id",
            "converted_at",
            "value",
            "lead_created_at",
            "deal_created_at",
            "closed_won_at",
        ],  # fmt: skip
    )
    for col in ("converted_at", "lead_created_at", "deal_created_at", "closed_won_at"):
        conv[col] = pd.to_datetime(conv[col], utc=True)
    conv["person_id"] = conv["person_id"].astype("string")
    return tp, conv


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(data=touch_data(), include=st.booleans(), by=st.sampled_from(["channel", "campaign_id"]))
def test_random_touchpoints_identical(duck, data, include, by):
    tp, conv = data
    table = duck.create_table("random_tp", tp, overwrite=True)
    compare(table, tp, conv, lookback_days=2.0, include_non_converting=include, by=by)


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(data=touch_data(), include=st.booleans())
def test_integer_person_ids_give_the_journeys_of_the_strings(duck, data, include):
    """Persons keyed by integers in both tables are matched as integers in the engine (the
    fast path) and give the pandas journeys, numbered in the order of the ids as text (10
    before 9), whether the conversions are a frame or a table, or carry their ids as text.
    Conversions without an id (``pd.NA`` of nullable integers, NaN of floats, a NULL of the
    table) are left out of both and counted alike."""
    tp, conv = data
    number = dict(zip(PERSONS, [9, 10, 100, 2, 31, 1000], strict=True))
    tp = tp.assign(person_id=tp["person_id"].map(number).astype("int64"))
    conv = conv.assign(person_id=conv["person_id"].map(number).astype("Int64"))
    n_without = int(conv["person_id"].isna().sum())
    table = duck.create_table("random_int_tp", tp, overwrite=True)
    assert table.person_id.type().is_integer()
    compare(table, tp, conv, lookback_days=2.0, include_non_converting=include)
    expected = build_journeys(tp, conv, lookback_days=2.0)
    assert expected.attrs[WITHOUT_PERSON] == n_without
    assert expected["person_id"].notna().all() and (expected["journey_id"] >= 0).all()
    conv_table = duck.create_table("random_int_conv", conv.astype({"value": float}), overwrite=True)
    je = build_journeys(table, conv_table, lookback_days=2.0)
    same_journeys(je.to_pandas(), expected)
    assert path_counts(je).attrs[WITHOUT_PERSON] == n_without
    # an integer column with a missing id, as pandas reads it: floats with NaN
    as_float = conv.assign(person_id=conv["person_id"].astype("float64"))
    same_journeys(build_journeys(tp, as_float, lookback_days=2.0), expected)
    je = build_journeys(table, as_float, lookback_days=2.0)
    same_journeys(je.to_pandas(), expected)
    assert path_counts(je).attrs[WITHOUT_PERSON] == n_without
    as_text = conv.assign(person_id=conv["person_id"].astype("string"))
    compare(table, tp, as_text, lookback_days=2.0, include_non_converting=include)


@pytest.mark.parametrize("touches", [35, 700])
def test_long_journeys_over_many_labels(duck, touches):
    """Paths written as several 64-bit words (40 labels: 6 bits a position, 10 positions a
    word; 35 touches take 4 words) and, beyond 64 words (700 touches), by the list
    aggregation: the same paths and credit as in memory."""
    rng = np.random.default_rng(touches)
    labels = [f"ch{k:02d}" for k in range(40)]
    n = touches + 60
    tp = pd.DataFrame(
        {
            "person_id": pd.array(
                ["long"] * touches + list(rng.choice(["a", "b", "c"], 60)), dtype="string"
            ),  # fmt: skip
            "ts": T0 - pd.to_timedelta(rng.integers(0, 80 * 24, n), unit="h"),
            "channel": pd.array(rng.choice(labels, n), dtype="string"),
        }
    )
    conv = pd.DataFrame(
        {"person_id": ["long", "b"], "converted_at": [T0, T0], "value": [100.0, 50.0]}
    )
    table = duck.create_table("long_tp", tp, overwrite=True)
    compare(table, tp, conv)
    paths = path_counts(build_journeys(table, conv))
    assert paths["path"].str.count(" > ").max() == touches - 1


def test_ties_are_ordered_by_channel_whatever_the_row_order(duck):
    tp = pd.DataFrame(
        {
            "person_id": pd.array(["a", "a", "a"], dtype="string"),
            "ts": [T0, T0, T0 - pd.Timedelta(days=1)],
            "channel": pd.array(["paid_search", "email", "direct"], dtype="string"),
        }
    )
    conv = pd.DataFrame({"person_id": ["a"], "converted_at": [T0], "value": [10.0]})
    expected = ["direct > email > paid_search"]
    assert path_counts(build_journeys(tp, conv))["path"].tolist() == expected
    assert path_counts(build_journeys(tp.iloc[::-1], conv))["path"].tolist() == expected
    table = duck.create_table("ties", tp, overwrite=True)
    assert path_counts(build_journeys(table, conv))["path"].tolist() == expected


def test_boundary_touch_is_inside_the_window(duck):
    """A touch exactly ``lookback_days`` before the conversion counts; a second earlier does not."""
    tp = pd.DataFrame(
        {
            "person_id": pd.array(["a", "a", "a"], dtype="string"),
            "ts": [T0 - pd.Timedelta(days=2, seconds=1), T0 - pd.Timedelta(days=2), T0],
            "channel": pd.array(["display", "email", "direct"], dtype="string"),
        }
    )
    conv = pd.DataFrame({"person_id": ["a"], "converted_at": [T0], "value": [10.0]})
    table = duck.create_table("edge", tp, overwrite=True)
    j = build_journeys(table, conv, lookback_days=2).to_pandas()
    assert j["channel"].tolist() == ["email", "direct"]
    assert j["n_excluded_touches"].tolist() == [1, 1]
    assert j["days_before_conversion"].tolist() == [2.0, 0.0]


def test_journeys_without_times_use_positions(duck, sample, sample_conv):
    """A journeys table without days or milestones (e.g. written by another tool): time decay
    counts steps from the last touch, the other models read positions, as the pandas path."""
    jp = build_journeys(sample.touchpoints, sample_conv).drop(
        columns=["days_before_conversion", "lead_touch", "deal_touch", "won_touch"]
    )
    je = duck.create_table("journeys_no_times", jp, overwrite=True)
    models = ["time_decay", "first_touch", "last_touch", "last_non_direct", "position_based"]
    same_credit(attribute(je, models=models), attribute(jp, models=models))
    same_paths(path_counts(je), path_counts(jp))


# --- conversions without a person id -------------------------------------------------------


def _touches(ids: list) -> pd.DataFrame:
    """Person 0 touched by email then direct, person 1 by email only."""
    return pd.DataFrame(
        {
            "person_id": [ids[0], ids[0], ids[1]],
            "ts": [T0, T0 + pd.Timedelta(days=1), T0],
            "channel": pd.array(["email", "direct", "email"], dtype="string"),
        }
    )


def _conversions(person_ids) -> pd.DataFrame:
    """One conversion of the first person and two without a person id, on 3 March."""
    return pd.DataFrame(
        {
            "person_id": person_ids,
            "converted_at": [T0 + pd.Timedelta(days=2)] * 3,
            "value": [1.0, 2.0, 3.0],
        }
    )


ID_LESS = {
    "text None": (["a", "b"], ["a", None, None]),
    "text pd.NA": (["a", "b"], pd.array(["a", pd.NA, pd.NA], dtype="string")),
    "text NaN": (["a", "b"], ["a", np.nan, np.nan]),
    "integer pd.NA": ([7, 8], pd.array([7, pd.NA, pd.NA], dtype="Int64")),
    "integer NaN": ([7, 8], [7.0, np.nan, np.nan]),
    "integer None": ([7, 8], pd.Series([7, None, None], dtype=object)),
}


@pytest.mark.parametrize("case", list(ID_LESS))
def test_conversions_without_a_person_id_belong_to_no_journey(duck, case):
    """Worked by hand: the two conversions without an id make no journey (no journey -1, no
    person-less row, no "(no touch)" credit) in memory and in DuckDB; both count the 2."""
    touch_ids, conv_ids = ID_LESS[case]
    tp, conv = _touches(touch_ids), _conversions(conv_ids)
    a, b = str(touch_ids[0]), str(touch_ids[1])
    table = duck.create_table("noid_tp", tp, overwrite=True)
    jp = build_journeys(tp, conv)
    je = build_journeys(table, conv)
    for j in (jp, je.to_pandas()):
        assert j["journey_id"].tolist() == [0, 0, 1]
        assert j["person_id"].tolist() == [a, a, b]
        assert j["converted"].tolist() == [True, True, False]
        assert j["channel"].tolist() == ["email", "direct", "email"]
        assert j["conversion_value"].fillna(-1).tolist() == [1.0, 1.0, -1]
    assert jp.attrs[WITHOUT_PERSON] == 2
    for journeys in (jp, je):
        paths = path_counts(journeys)
        assert paths["path"].tolist() == ["email", "email > direct"]
        assert paths["total_conversions"].tolist() == [0, 1]
        assert paths["total_conversion_value"].tolist() == [0.0, 1.0]
        assert paths.attrs[WITHOUT_PERSON] == 2
        credit = attribute(journeys, models=["linear", "markov"])
        # one conversion shared, not three: the id-less ones are counted, not credited
        assert credit.groupby("model")["attributed_conversions"].sum().tolist() == [1.0, 1.0]
        assert "(no touch)" not in credit["channel"].tolist()
        assert credit.attrs[WITHOUT_PERSON] == 2
        note = journeys_note(journeys, conv, lookback_days=90)
        assert "2 customers without a person id are left out" in note
    compare(table, tp, conv)


def test_conversions_without_a_person_id_counted_in_the_period(duck):
    """With a period, only the id-less conversions it holds are counted (the others are out of
    the journeys anyway); a conversions table in DuckDB is counted there."""
    tp = _touches(["a", "b"])
    conv = _conversions(["a", None, None]).assign(
        converted_at=[
            T0 + pd.Timedelta(days=2),
            T0 + pd.Timedelta(days=2),
            T0 + pd.Timedelta(days=40),
        ]
    )
    period = {"start": "2025-03-01", "end": "2025-04-01"}
    table = duck.create_table("noid_tp2", tp, overwrite=True)
    conv_table = duck.create_table("noid_conv", conv, overwrite=True)
    assert build_journeys(tp, conv, **period).attrs[WITHOUT_PERSON] == 1
    assert build_journeys(tp, conv).attrs[WITHOUT_PERSON] == 2
    for c in (conv, conv_table):
        assert path_counts(build_journeys(table, c, **period)).attrs[WITHOUT_PERSON] == 1
        assert attribute(build_journeys(table, c), models=["linear"]).attrs[WITHOUT_PERSON] == 2
    # none left out: the note does not mention them, the count is 0
    full = _conversions(["a", "b", "b"])
    jp = build_journeys(tp, full)
    assert jp.attrs[WITHOUT_PERSON] == 0
    assert path_counts(build_journeys(table, full)).attrs[WITHOUT_PERSON] == 0
    assert "person id" not in journeys_note(jp, full, lookback_days=90)
