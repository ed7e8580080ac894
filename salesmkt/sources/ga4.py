"""Google Analytics 4 BigQuery export (``events_*``) onto ``sessions``, ``events`` and
``touchpoints``.

The export has one row per event with nested ``event_params`` (key + one of
``string_value``/``int_value``/``float_value``/``double_value``) and traffic-source records.
It is read from local extracts (Parquet, newline-delimited JSON, gzipped or not; JSON writes
INT64 values as strings, both are accepted) or straight from a warehouse table through Ibis
(``ga4_tables(con.table("events_20240301"))``): the flattening and the per-session aggregation
are one Ibis expression that the backend runs, so only one row per session and the narrow event
rows come back.

Semantic choices (docs/exports.md, GA4):

- A session is (``user_pseudo_id``, ``ga_session_id``), not a ``session_start`` row (ids repeat
  across users; ``session_start`` can be missing). ``session_id`` is
  ``user_pseudo_id + "." + ga_session_id``. Events without ``ga_session_id`` stay in
  ``events`` and are counted in the findings.
- ``started_at`` is the first event (microseconds, UTC); ``duration_s`` the span to the last
  event; ``engagement_s`` the summed ``engagement_time_msec``; ``pageviews`` the ``page_view``
  events; ``bounced`` is *not engaged*: no event with ``session_engaged`` = 1 (string or int).
- ``channel``: GA4's own ``session_traffic_source_last_click.cross_channel_campaign.
  default_channel_group`` when exported, else the default channel group rules applied to the
  session's source/medium (last-click record, then the first event's collected UTM values,
  then the ``source``/``medium`` event params; a ``gclid`` alone means google / cpc; nothing
  means direct), mapped onto the channel vocabulary. ``channel_raw`` keeps the group name and
  source / medium.
- ``landing_page`` is the first page view's ``page_location`` without query string or fragment.
- ``lead_id`` is the site-set ``user_id`` on the session holding a lead event
  (``generate_lead``, ``sign_up``, ``form_submit``); ``user_id`` is kept on every session.
- One touchpoint per session: person ``user_id`` if set, else ``user_pseudo_id``, at the start.

Examples
--------
>>> from pathlib import Path
>>> import salesmkt
>>> folder = Path(salesmkt.__file__).parent.parent / "tests" / "fixtures" / "exports" / "ga4"
>>> tables, notes = ga4_tables(folder / "events_20240301.json")
>>> tables["sessions"]["channel"].value_counts().sort_index().to_dict()
{'direct': 1, 'email': 1, 'organic_search': 1, 'paid_search': 1, 'paid_social': 1, 'referral': 1}
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from salesmkt.data.validate import Finding
from salesmkt.sources._ga4_channels import CHANNEL_GROUPS, default_channel_group

__all__ = ["ga4_tables", "read", "classify", "default_kind"]

LEAD_EVENTS = ("generate_lead", "sign_up", "form_submit")
_SUFFIXES = (".parquet", ".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")


def classify(path: Path, header: list[str] | None = None) -> str | None:
    """``"events"`` for a GA4 export file (``events_*`` Parquet or JSON), else ``None``."""
    name = path.name.lower()
    if not name.endswith(_SUFFIXES):
        return None
    if name.startswith(("events_", "events-", "ga4")):
        return "events"
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            cols = set(pq.read_schema(path).names)
        else:
            import gzip
            import json

            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as fh:
                cols = set(json.loads(fh.readline() or "{}"))
    except Exception:  # not a readable GA4 file: not ours
        return None
    return "events" if {"event_name", "event_params"} <= cols else None


# --- flattening (Ibis) ---------------------------------------------------------------------


def _fields(dtype) -> dict:
    return dict(dtype.fields) if dtype.is_struct() else {}


def _struct_path(t, path: Sequence[str]):
    """``t.a.b.c`` when every level exists in the schema, else ``None``."""
    if path[0] not in t.columns:
        return None
    expr = t[path[0]]
    for name in path[1:]:
        if name not in _fields(expr.type()):
            return None
        expr = expr[name]
    return expr


def _flatten(t):
    """One row per event with the params and traffic fields salesmkt uses, as plain columns."""
    import ibis

    missing = [c for c in ("event_timestamp", "event_name", "user_pseudo_id") if c not in t.columns]
    if missing:
        raise ValueError(
            f"GA4 export: column(s) {', '.join(missing)} missing (the table has: "
            f"{', '.join(t.columns[:12])}). Export the events_* table itself, not a report."
        )
    value_fields: dict = {}
    if "event_params" in t.columns and t.event_params.type().is_array():
        item = t.event_params.type().value_type
        value_fields = _fields(_fields(item).get("value", ibis.dtype("null")))

    def param(key: str, kind: str):
        if not value_fields:
            return ibis.null().cast(kind)
        order = ("int_value", "string_value", "double_value", "float_value")
        if kind == "string":
            order = ("string_value", "int_value", "double_value", "float_value")
        parts = []
        for f in order:
            if f in value_fields:
                v = t.event_params.filter(lambda p, k=key: p.key == k).map(
                    lambda p, f=f: p.value[f]
                )[0]
                parts.append(v.cast("string") if kind == "string" else v.try_cast(kind))
        return ibis.coalesce(*parts) if len(parts) > 1 else parts[0]

    def nested(*path: str):
        e = _struct_path(t, path)
        return ibis.null().cast("string") if e is None else e.cast("string")

    last = ("session_traffic_source_last_click", "cross_channel_campaign")
    manual = ("session_traffic_source_last_click", "manual_campaign")
    cts = "collected_traffic_source"
    user_id = t.user_id.cast("string") if "user_id" in t.columns else ibis.null().cast("string")
    return t.select(
        visitor_id=t.user_pseudo_id.cast("string"),
        user_id=user_id,
        ts_us=t.event_timestamp.try_cast("int64"),
        ts_raw=t.event_timestamp.cast("string"),
        event=t.event_name.cast("string"),
        ga_session_id=param("ga_session_id", "int64"),
        page_location=param("page_location", "string"),
        engagement_msec=param("engagement_time_msec", "int64"),
        session_engaged=param("session_engaged", "int64"),
        group=nested(*last, "default_channel_group"),
        src=ibis.coalesce(
            nested(*last, "source"),
            nested(*manual, "source"),
            nested(cts, "manual_source"),
            param("source", "string"),
        ),
        med=ibis.coalesce(
            nested(*last, "medium"),
            nested(*manual, "medium"),
            nested(cts, "manual_medium"),
            param("medium", "string"),
        ),
        camp=ibis.coalesce(
            nested(*last, "campaign_id"),
            nested(*manual, "campaign_id"),
            nested(*last, "campaign_name"),
            nested(*manual, "campaign_name"),
            nested(cts, "manual_campaign_id"),
            nested(cts, "manual_campaign_name"),
            param("campaign", "string"),
        ),
        gclid=nested(cts, "gclid"),
    )


def _sessions_expr(flat, lead_events: Sequence[str]):
    import ibis

    s = flat.filter(flat.ga_session_id.notnull())
    is_pv = s.event == "page_view"

    def first(col):
        return col.argmin(s.ts_us, where=col.notnull())

    return s.group_by(["visitor_id", "ga_session_id"]).aggregate(
        start_us=s.ts_us.min(),
        end_us=s.ts_us.max(),
        pageviews=is_pv.cast("int64").sum(),
        engaged=(s.session_engaged == 1).cast("int64").max(),
        engagement_msec=ibis.coalesce(s.engagement_msec.sum(), 0),
        n_events=s.count(),
        user_id=s.user_id.max(),
        has_lead_event=s.event.isin(list(lead_events)).cast("int64").max(),
        landing=s.page_location.argmin(s.ts_us, where=is_pv & s.page_location.notnull()),
        group=first(s.group),
        src=first(s.src),
        med=first(s.med),
        camp=first(s.camp),
        gclid=ibis.coalesce(s.gclid.notnull().cast("int64").max(), 0),
    )


# --- pandas finishing ----------------------------------------------------------------------


def _channel(sess: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    src, med = sess["src"].astype("string"), sess["med"].astype("string")
    gclid = sess["gclid"].fillna(0).astype(bool)
    src = src.mask(src.isna() & gclid, "google")
    med = med.mask(med.isna() & gclid, "cpc")
    src, med = src.fillna("(direct)"), med.fillna("(none)")
    computed = default_channel_group(src, med, sess["camp"])
    group = sess["group"].astype("string").fillna(computed)
    channel = group.str.lower().map(CHANNEL_GROUPS).fillna("other").astype("string")
    raw = (group + " (" + src + " / " + med + ")").astype("string")
    return channel, raw


def _strip_query(url: pd.Series) -> pd.Series:
    return url.astype("string").str.replace(r"[?#].*$", "", regex=True)


def ga4_tables(
    source,
    *,
    lead_events: Sequence[str] = LEAD_EVENTS,
    strip_query: bool = True,
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Sessions, events and touchpoints from a GA4 BigQuery export.

    Parameters
    ----------
    source : path, list of paths or ibis Table
        ``events_*`` files (Parquet, JSON lines, optionally gzipped) or a folder of them, or an
        Ibis table of the export on any backend (DuckDB, BigQuery, ...).
    lead_events : sequence of str
        Event names that create a lead; the session holding one gets ``lead_id = user_id``.
    strip_query : bool
        Drop query strings and fragments from ``landing_page``.

    Returns
    -------
    (dict of DataFrame, list of Finding)
        ``sessions``, ``events``, ``touchpoints`` (not yet validated) and notes, e.g. events
        without a session id.

    Examples
    --------
    >>> import ibis, salesmkt
    >>> from pathlib import Path
    >>> folder = Path(salesmkt.__file__).parent.parent / "tests/fixtures/exports/ga4"
    >>> con = ibis.duckdb.connect()
    >>> events = con.read_json(folder / "events_20240301.json", table_name="events_20240301")
    >>> tables, _ = ga4_tables(con.table("events_20240301"))
    >>> len(tables["sessions"]), len(tables["events"])
    (6, 22)
    """
    import ibis

    if isinstance(source, ibis.expr.types.Table):
        flats = [_flatten(source)]
    else:
        paths = _paths(source)
        con = ibis.duckdb.connect()
        flats = []
        for i, path in enumerate(paths):
            name = f"ga4_{i}"
            try:
                with _quiet():
                    if path.name.lower().endswith(".parquet"):
                        t = con.read_parquet(path, table_name=name)
                    else:
                        t = con.read_json(path, table_name=name)
                flats.append(_flatten(t))
            except ValueError as exc:
                raise ValueError(f"{path.name}: {exc}") from None
            except Exception as exc:  # duckdb/arrow errors for a malformed file
                raise ValueError(
                    f"{path.name}: not a readable GA4 export ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]})."
                ) from None
    flat = flats[0] if len(flats) == 1 else ibis.union(*flats)
    cols = ["visitor_id", "user_id", "ts_us", "ts_raw", "event", "ga_session_id", "page_location"]
    with _quiet():
        events = flat.select(*cols).to_pandas()
        sess = _sessions_expr(flat, lead_events).to_pandas()
    return _finish(events, sess, strip_query=strip_query)


@contextlib.contextmanager
def _quiet():
    """Ibis 12 on pandas 3 / DuckDB 1.5 warns about its own deprecated calls, not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*infer_string.*")
        yield


def _paths(source) -> list[Path]:
    items = source if isinstance(source, list | tuple) else [source]
    paths: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if classify(p) == "events")
        elif item.exists():
            paths.append(item)
        else:
            raise FileNotFoundError(f"{item}: no such GA4 export file or folder.")
    if not paths:
        raise ValueError(f"{', '.join(map(str, items))}: no GA4 events_* files found.")
    return paths


def _finish(events, sess, *, strip_query):
    notes: list[Finding] = []
    bad_ts = events["ts_us"].isna() & events["ts_raw"].notna()
    if bad_ts.any():
        raise ValueError(
            f"GA4 export: {int(bad_ts.sum())} event_timestamp values are not microseconds "
            f"(e.g. {events.loc[bad_ts, 'ts_raw'].iloc[0]!r})."
        )
    no_session = events["ga_session_id"].isna()
    if no_session.any():
        notes.append(
            Finding(
                "sessions",
                "session_id",
                f"{int(no_session.sum())} GA4 events without ga_session_id",
                int(no_session.sum()),
                severity="warning",
                action="Kept in events, not part of any session",
            )
        )
    # a visitor's site-set user_id (set on some events only) names all of its events
    known = events.dropna(subset=["user_id"]).drop_duplicates("visitor_id")
    user_of = known.set_index("visitor_id")["user_id"].astype("string")
    person = (
        events["visitor_id"]
        .map(user_of)
        .astype("string")
        .fillna(events["visitor_id"].astype("string"))
    )
    sid = events["ga_session_id"].astype("Int64").astype("string")
    ev = pd.DataFrame(
        {
            "person_id": person,
            "ts": pd.to_datetime(events["ts_us"].astype("int64"), unit="us", utc=True),
            "event": events["event"].astype("string"),
            "visitor_id": events["visitor_id"].astype("string"),
            "session_id": (events["visitor_id"].astype("string") + "." + sid),
            "page_location": events["page_location"].astype("string"),
        }
    )
    ev = ev.sort_values(["ts", "person_id"], kind="stable").reset_index(drop=True)
    sess = sess.sort_values(["start_us", "visitor_id"], kind="stable").reset_index(drop=True)
    channel, raw = _channel(sess)
    landing = sess["landing"].astype("string")
    started = pd.to_datetime(sess["start_us"].astype("int64"), unit="us", utc=True)
    user = sess["user_id"].astype("string")
    camp = sess["camp"].astype("string").str.strip()
    camp = camp.mask(camp.str.fullmatch(r"\(.*\)|").fillna(False))  # (organic), (not set), ...
    sessions = pd.DataFrame(
        {
            "session_id": sess["visitor_id"].astype("string")
            + "."
            + sess["ga_session_id"].astype("Int64").astype("string"),
            "visitor_id": sess["visitor_id"].astype("string"),
            "started_at": started,
            "duration_s": (sess["end_us"] - sess["start_us"]).astype("float64") / 1e6,
            "engagement_s": sess["engagement_msec"].astype("float64") / 1e3,
            "pageviews": sess["pageviews"].astype("Int64"),
            "bounced": ~sess["engaged"].fillna(0).astype(bool),
            "channel": channel,
            "channel_raw": raw,
            "campaign_id": camp,
            "landing_page": _strip_query(landing) if strip_query else landing,
            "user_id": user,
            "lead_id": user.where(sess["has_lead_event"].fillna(0).astype(bool)),
            "n_events": sess["n_events"].astype("Int64"),
        }
    )
    touchpoints = pd.DataFrame(
        {
            "person_id": sessions["visitor_id"]
            .map(user_of)
            .astype("string")
            .fillna(sessions["visitor_id"]),
            "ts": started,
            "channel": channel,
            "channel_raw": raw,
            "campaign_id": sessions["campaign_id"],
            "session_id": sessions["session_id"],
        }
    )
    return {"sessions": sessions, "events": ev, "touchpoints": touchpoints}, notes


def default_kind(header: list[str]) -> str:
    """Every file given explicitly as a GA4 export is read as events."""
    return "events"


def read(parts: dict[str, list[Path]], **options) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Registry entry: ``{"events": [paths]}`` -> sessions, events, touchpoints."""
    return ga4_tables(parts.get("events", []), **options)
