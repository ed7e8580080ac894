"""Hostile input for the loaders and the validator (property-based, bounded, derandomised).

Every case ends one of two ways:

- documented handling: a Dataset comes back (mixed offsets are converted to UTC; stages out of
  order, unknown channels and huge amounts are kept and reported; a Windows-1252 vendor export
  is read and noted; unicode names are kept as they are);
- a clear error: :class:`salesmkt.ValidationError`, or a ``ValueError`` whose message names the
  file or the table, never an exception raised from inside pandas, pyarrow or DuckDB.

No input file is ever modified (hashed before and after). The number of cases run is printed
at the end of the test output, in the warnings summary, so CI shows it (also under xdist).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data.schema import TABLES
from salesmkt.data.validate import ValidationError

FIX = Path(__file__).parent / "fixtures" / "exports"
VENDOR_FILES = {
    "hubspot": [
        FIX / "hubspot" / "hubspot-crm-exports-all-contacts-2024-03-31.csv",
        FIX / "hubspot" / "hubspot-crm-exports-all-deals-2024-03-31.csv",
    ],
    "salesforce": [
        FIX / "salesforce" / "report1711879200000.csv",
        FIX / "salesforce" / "report1711879300000.csv",
    ],
}
TZ = {"hubspot": "America/New_York", "salesforce": "Europe/London"}
FAST = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,  # the same examples on every run and machine, no replays of old ones
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
COUNTS: Counter[str] = Counter()


class HostileInputSummary(UserWarning):
    """Carries the count of hostile cases into the test output."""


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    total = sum(COUNTS.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    where = f" on xdist worker {worker}" if worker else ""
    message = f"hostile input: {total} cases run{where} ({parts})"
    warnings.warn(HostileInputSummary(message), stacklevel=1)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def attempt(kind: str, fn, names: list[str]):
    """Run ``fn``; a failure must be a clear error naming one of ``names``."""
    COUNTS[kind] += 1
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the point is to inspect any exception
        assert type(exc) in (ValueError, ValidationError), (
            f"{kind}: {type(exc).__module__}.{type(exc).__name__} escaped: {exc}"
        )
        assert any(n in str(exc) for n in names), f"{kind}: message names none of {names}: {exc}"
        return exc


def load_folder(kind: str, files: dict[str, bytes], names: list[str], **kw):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        before = digest(folder)
        result = attempt(kind, lambda: salesmkt.load(folder, **kw), names)
        assert digest(folder) == before, f"{kind}: an input file was modified"
        return result


# --- named case classes ------------------------------------------------------------------

OK = "lead_id,created_at,channel,full_name\nL1,2024-03-01T10:00:00Z,organic,Ana\nL2,2024-03-02T10:00:00+01:00,cpc,Bo\n"
DEALS = "deal_id,created_at,amount\n"
CASES = {
    # id: (table file, bytes, expected outcome, message fragment)
    "utf8-bom": ("leads.csv", b"\xef\xbb\xbf" + OK.encode(), "ok", None),
    "latin-1": ("leads.csv", OK.replace("Ana", "José").encode("latin-1"), "error", "not UTF-8"),
    "utf-16": ("leads.csv", OK.encode("utf-16"), "error", "not UTF-8"),
    "semicolon": ("leads.csv", OK.replace(",", ";").encode(), "error", "required columns missing"),
    "tab": ("leads.csv", OK.replace(",", "\t").encode(), "error", "required columns missing"),
    "wrong-types": ("deals.csv", (DEALS + "D1,yesterday,abc\n").encode(), "error", "not numbers"),
    "empty-file": ("leads.csv", b"", "error", "the file is empty"),
    "header-only": ("leads.csv", b"lead_id,created_at\n", "error", "has no rows"),
    "duplicate-ids": (
        "leads.csv",
        (OK + "L1,2024-03-03T10:00:00Z,cpc,Cy\n").encode(),
        "error",
        "duplicated id",
    ),
    "naive-times": (
        "leads.csv",
        b"lead_id,created_at\nL1,2024-03-01 10:00\n",
        "error",
        "without a time zone",
    ),
    "mixed-offsets": ("leads.csv", OK.encode(), "ok", None),
    "out-of-order": (
        "leads.csv",
        b"lead_id,created_at,mql_at\nL1,2024-03-05T10:00Z,2024-03-01T10:00Z\n",
        "ok",
        None,
    ),
    "negative-amount": (
        "deals.csv",
        (DEALS + "D1,2024-03-01T10:00Z,-5\n").encode(),
        "error",
        "below 0",
    ),
    "huge-amount": ("deals.csv", (DEALS + "D1,2024-03-01T10:00Z,1e300\n").encode(), "ok", None),
    "infinite-amount": (
        "deals.csv",
        (DEALS + "D1,2024-03-01T10:00Z,1e400\n").encode(),
        "error",
        "not numbers",
    ),
    "year-9999": (
        "leads.csv",
        b"lead_id,created_at\nL1,9999-12-31T10:00:00Z\n",
        "error",
        "not timestamps",
    ),
    "unicode-names": (
        "leads.csv",
        "lead_id,created_at,full_name\n🦄,2024-03-01T10:00Z,\u202eÉve\u0301 名前\n".encode(),
        "ok",
        None,
    ),
    "unclosed-quote": (
        "leads.csv",
        b'lead_id,created_at\n"L1,2024-03-01T10:00Z\n',
        "error",
        "not a readable CSV",
    ),
    "binary": ("leads.csv", bytes(range(256)) * 3, "error", "leads.csv"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_named_canonical_cases(case):
    file, data, expected, fragment = CASES[case]
    table = file.split(".")[0]
    result = load_folder(f"canonical:{case}", {file: data}, [file, table])
    if expected == "ok":
        assert isinstance(result, salesmkt.Dataset), result
    else:
        assert isinstance(result, Exception), f"{case}: loaded without error"
        assert fragment in str(result), str(result)


def test_documented_handling_details():
    ds = load_folder("canonical:details", {"leads.csv": OK.encode()}, ["leads"])
    assert ds.leads["created_at"].tolist() == [
        pd.Timestamp("2024-03-01 10:00", tz="UTC"),
        pd.Timestamp("2024-03-02 09:00", tz="UTC"),  # +01:00 converted
    ]
    ds = load_folder(
        "canonical:details",
        {"leads.csv": b"lead_id,created_at,mql_at\nL1,2024-03-05T10:00Z,2024-03-01T10:00Z\n"},
        ["leads"],
    )
    assert len(ds.leads) == 1 and "out of order" in " ".join(ds.findings["message"])
    ds = load_folder(
        "canonical:details",
        {"leads.csv": b"lead_id,created_at\nL1,2024-03-01 10:00\n"},
        ["leads"],
        tz="Europe/Paris",
    )
    assert ds.leads["created_at"].iloc[0] == pd.Timestamp("2024-03-01 09:00", tz="UTC")


@pytest.mark.parametrize(
    ("vendor", "encoding"),
    [
        ("hubspot", "cp1252"),
        ("hubspot", "utf-16"),
        ("hubspot", "utf-8-sig"),
        ("salesforce", "cp1252"),
        ("salesforce", "utf-16"),
        ("salesforce", "utf-8-sig"),
    ],
)
def test_vendor_encodings_are_read(vendor, encoding):
    files = {f.name: f.read_text(encoding="utf-8").encode(encoding) for f in VENDOR_FILES[vendor]}
    ds = load_folder(f"{vendor}:encoding", files, list(files), source=vendor, tz=TZ[vendor])
    assert isinstance(ds, salesmkt.Dataset), ds
    assert len(ds.leads) > 0 and len(ds.deals) == 5


@pytest.mark.parametrize("vendor", ["hubspot", "salesforce"])
@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_vendor_delimiters_are_sniffed(vendor, sep):
    files = {}
    for f in VENDOR_FILES[vendor]:
        df = pd.read_csv(
            f,
            dtype=str,
            keep_default_na=False,
            skipfooter=5 if vendor == "salesforce" else 0,
            engine="python",
        )
        files[f.name] = df.to_csv(sep=sep, index=False).encode()
    ds = load_folder(f"{vendor}:delimiter", files, list(files), source=vendor, tz=TZ[vendor])
    assert isinstance(ds, salesmkt.Dataset), ds
    assert len(ds.deals) == 5


# --- property-based -------------------------------------------------------------------------

cells = st.one_of(
    st.just(""),
    st.sampled_from(
        [
            "2024-03-01T10:00:00Z",
            "2024-03-01 10:00",
            "2024-03-01T10:00:00+05:30",
            "03/01/2024",
            "yesterday",
            "9999-12-31T00:00:00Z",
            "1e400",
            "-5",
            "1e300",
            "NaN",
            "inf",
            "true",
            "maybe",
            "cpc",
            "Organic Search",
            "🦄",
            "\u202e",
            "a,b",
            'quote"inside',
            "  padded  ",
            "0",
            "12.5",
        ]
    ),
    st.text(max_size=12),
)


@FAST
@given(
    table=st.sampled_from(["leads", "deals", "sessions", "spend"]),
    extra=st.lists(
        st.sampled_from(["channel", "amount", "mql_at", "pageviews", "bounced", "x"]),
        max_size=3,
        unique=True,
    ),
    rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=5),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]),
)
def test_random_canonical_files(table, extra, rows, sep, encoding):
    header = [c.name for c in TABLES[table].required] + [
        e for e in extra if e not in TABLES[table].required
    ]
    buf = io.StringIO()
    pd.DataFrame([r[: len(header)] for r in rows], columns=header).to_csv(buf, sep=sep, index=False)
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    load_folder("random:canonical-file", {f"{table}.csv": data}, [f"{table}.csv", table])


@FAST
@given(data=st.binary(max_size=400), table=st.sampled_from(["leads", "deals", "sessions"]))
def test_random_bytes(data, table):
    load_folder("random:bytes", {f"{table}.csv": data}, [f"{table}.csv", table])


values = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.datetimes(
        min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
    ),
    st.sampled_from(["2024-03-01T10:00:00Z", "2024-03-01 10:00", "won", "Closed Won", "cpc"]),
)


@FAST
@given(
    table=st.sampled_from(sorted(TABLES)),
    columns=st.data(),
    n=st.integers(0, 4),
)
def test_validate_table_random_frames(table, columns, n):
    spec = TABLES[table]
    optional = [c.name for c in spec.optional]
    chosen = [c.name for c in spec.required] + columns.draw(
        st.lists(st.sampled_from(optional), max_size=3, unique=True) if optional else st.just([])
    )
    frame = pd.DataFrame(
        {c: pd.Series([columns.draw(values) for _ in range(n)], dtype=object) for c in chosen}
    )
    before = frame.copy()
    COUNTS["random:frames"] += 1
    try:
        clean, _ = salesmkt.validate_table(
            table, frame, tz=columns.draw(st.sampled_from([None, "UTC"]))
        )
    except ValidationError as exc:
        assert table in str(exc)
    else:
        for col in spec.columns.values():
            if col.name in clean and col.kind == "timestamp":
                assert str(clean[col.name].dtype) == "datetime64[ns, UTC]"
            if col.name in clean and col.kind == "number":
                assert not np.isinf(clean[col.name]).any()
    pd.testing.assert_frame_equal(frame, before)  # the input frame is never changed


def _mutate(text: str, how: str, draw) -> bytes:
    lines = text.splitlines()
    if how == "drop-column":
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            on_bad_lines="skip",
            engine="python",
        )
        col = draw(st.sampled_from(list(df.columns)))
        return df.drop(columns=[col]).to_csv(index=False).encode()
    if how == "garble-cell":
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            on_bad_lines="skip",
            engine="python",
        )
        col = draw(st.sampled_from(list(df.columns)))
        df[col] = draw(st.sampled_from(["", "???", "-1", "1e400", "13/13/2024 25:61", "🦄"]))
        return df.to_csv(index=False).encode()
    if how == "truncate":
        data = text.encode()
        return data[: draw(st.integers(0, len(data)))]
    if how == "duplicate-rows":
        return "\n".join([*lines, *lines[1:]]).encode()
    if how == "header-only":
        return (lines[0] + "\n").encode()
    raise AssertionError(how)


@FAST
@given(
    vendor=st.sampled_from(["hubspot", "salesforce"]),
    how=st.sampled_from(
        ["drop-column", "garble-cell", "truncate", "duplicate-rows", "header-only"]
    ),
    which=st.integers(0, 1),
    data=st.data(),
)
def test_mutated_vendor_exports(vendor, how, which, data):
    files = {f.name: f.read_bytes() for f in VENDOR_FILES[vendor]}
    target = VENDOR_FILES[vendor][which]
    files[target.name] = _mutate(target.read_text(encoding="utf-8"), how, data.draw)
    names = [*files, "leads", "deals", "found no"]
    load_folder(f"{vendor}:{how}", files, names, source=vendor, tz=TZ[vendor])


@FAST
@given(cut=st.integers(0, 4000), garbage=st.sampled_from(["", "{not json", '{"event_name": 1}']))
def test_mutated_ga4_export(cut, garbage):
    text = (FIX / "ga4" / "events_20240301.json").read_text(encoding="utf-8")
    data = (text[:cut] + garbage).encode()
    load_folder(
        "ga4:mutated",
        {"events_20240301.json": data},
        ["events_20240301.json", "GA4", "sessions", "events", "found no"],
        source="ga4",
    )


def test_random_fixture_ids_never_collide_with_input_files():
    """A sanity check that the harness itself leaves the repository's fixtures alone."""
    before = {k: digest(v[0].parent) for k, v in VENDOR_FILES.items()}
    test_vendor_encodings_are_read("hubspot", "cp1252")
    assert before == {k: digest(v[0].parent) for k, v in VENDOR_FILES.items()}


def test_interrupted_mapping_write_keeps_the_old_file(tmp_path, monkeypatch):
    from salesmkt.sources import mapping_templates

    src = tmp_path / "crm.csv"
    src.write_text("Lead ID,Created\nL1,2024-03-01T10:00Z\n")
    out = mapping_templates.write_mapping_template(src)
    before = out.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt  # the user pressed Ctrl-C half-way

    monkeypatch.setattr(os, "replace", crash)
    COUNTS["mapping:interrupted-write"] += 1
    with pytest.raises(KeyboardInterrupt):
        mapping_templates.write_mapping_template(src, overwrite=True)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.csv", "crm.mapping.yml"]
