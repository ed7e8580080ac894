"""The data contract: the canonical tables, their columns, types and rules.

Every function downstream relies only on what is declared here. Loaders map real exports onto
these tables; :func:`salesmkt.data.validate.validate_table` checks a table against its spec.

Column kinds
------------
``id``         text identifier (kept as pandas ``string``; numbers are read as text)
``text``       free text
``category``   text from a closed vocabulary (``values`` lists it)
``channel``    a marketing channel, normalised onto :data:`CHANNELS` (raw kept in ``channel_raw``)
``timestamp``  timezone-aware UTC ``datetime64[ns, UTC]``
``date``       a calendar day, stored as UTC midnight so it compares with timestamps
``number``     float (money, durations)
``count``      non-negative integer (nullable ``Int64``)
``flag``       boolean (nullable ``boolean``)

Examples
--------
>>> from salesmkt.data.schema import TABLES
>>> TABLES["deals"].key
('deal_id',)
>>> [c.name for c in TABLES["deals"].required]
['deal_id', 'created_at', 'amount']
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CHANNELS",
    "STAGES",
    "Column",
    "ForeignKey",
    "OrderRule",
    "Table",
    "TABLES",
]

#: The one channel vocabulary every table uses.
CHANNELS: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "organic_social",
    "paid_social",
    "email",
    "referral",
    "direct",
    "display",
    "events",
    "other",
)

#: Lifecycle stages of a lead, in funnel order, with the column that records entry.
STAGES: tuple[tuple[str, str], ...] = (
    ("lead", "created_at"),
    ("mql", "mql_at"),
    ("sql", "sql_at"),
    ("opportunity", "opportunity_at"),
    ("customer", "customer_at"),
)


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``min_value`` is checked inclusively for ``number`` and ``count`` columns; ``values``
    closes the vocabulary of a ``category`` column.
    """

    name: str
    kind: str
    description: str = ""
    min_value: float | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ForeignKey:
    """``column`` should resolve to ``ref_table.ref_column``; unresolved rows are reported."""

    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class OrderRule:
    """Timestamps that should not decrease along ``columns`` (nulls are skipped).

    Rows breaking the order are kept and reported: downstream functions decide what to exclude
    and count it.
    """

    columns: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Table:
    """Spec of one canonical table."""

    name: str
    description: str
    required: tuple[Column, ...]
    optional: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    order_rules: tuple[OrderRule, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> dict[str, Column]:
        """All declared columns by name, required first."""
        return {c.name: c for c in (*self.required, *self.optional)}


def _ts(name: str, description: str = "") -> Column:
    return Column(name, "timestamp", description)


_LEAD_STAGE_TS = tuple(_ts(col, f"when the lead became {stage}") for stage, col in STAGES[1:])

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "leads",
            "one row per person known to the CRM",
            required=(Column("lead_id", "id"), _ts("created_at", "when the lead was created")),
            optional=(
                Column("channel", "channel", "lead source channel (first touch)"),
                Column("channel_raw", "text", "the source value as exported"),
                Column("campaign_id", "id"),
                Column("account_id", "id"),
                Column("owner_id", "id", "sales owner"),
                *_LEAD_STAGE_TS,
                _ts("disqualified_at"),
                _ts("first_response_at", "first sales response"),
            ),
            key=("lead_id",),
            foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
            order_rules=(
                OrderRule(
                    tuple(col for _, col in STAGES),
                    "lifecycle stages out of order (a later stage entered before an earlier one)",
                ),
            ),
        ),
        Table(
            "deals",
            "one row per opportunity",
            required=(
                Column("deal_id", "id"),
                _ts("created_at"),
                Column("amount", "number", "deal value in the data's currency", min_value=0),
            ),
            optional=(
                Column("lead_id", "id"),
                Column("account_id", "id"),
                Column("owner_id", "id"),
                Column("stage", "text"),
                _ts("expected_close_at"),
                _ts("closed_at"),
                Column("status", "category", values=("open", "won", "lost")),
                Column("deal_type", "category", values=("new_business", "expansion", "renewal")),
                Column("product", "text"),
            ),
            key=("deal_id",),
            foreign_keys=(ForeignKey("lead_id", "leads", "lead_id"),),
            order_rules=(OrderRule(("created_at", "closed_at"), "closed before it was created"),),
        ),
        Table(
            "sessions",
            "one row per website session",
            required=(Column("session_id", "id"), Column("visitor_id", "id"), _ts("started_at")),
            optional=(
                Column("duration_s", "number", "session length in seconds", min_value=0),
                Column("pageviews", "count", min_value=0),
                Column("bounced", "flag", "bounce flag as exported"),
                Column("channel", "channel"),
                Column("channel_raw", "text"),
                Column("campaign_id", "id"),
                Column("landing_page", "text"),
                Column("lead_id", "id", "the lead created in this session, if any"),
            ),
            key=("session_id",),
            foreign_keys=(
                ForeignKey("lead_id", "leads", "lead_id"),
                ForeignKey("campaign_id", "campaigns", "campaign_id"),
            ),
        ),
        Table(
            "touchpoints",
            "one row per marketing touch on a person",
            required=(Column("person_id", "id"), _ts("ts"), Column("channel", "channel")),
            optional=(Column("channel_raw", "text"), Column("campaign_id", "id")),
            foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
        ),
        Table(
            "events",
            "one row per tracked event (generic funnels)",
            required=(Column("person_id", "id"), _ts("ts"), Column("event", "text")),
        ),
        Table(
            "campaigns",
            "one row per campaign",
            required=(Column("campaign_id", "id"), Column("channel", "channel")),
            optional=(
                Column("channel_raw", "text"),
                Column("name", "text"),
                Column("type", "text"),
                Column("offer", "text"),
                Column("start_date", "date"),
                Column("end_date", "date"),
            ),
            key=("campaign_id",),
            order_rules=(OrderRule(("start_date", "end_date"), "ends before it starts"),),
        ),
        Table(
            "spend",
            "spend per day and campaign",
            required=(
                Column("date", "date"),
                Column("campaign_id", "id"),
                Column("amount", "number", min_value=0),
            ),
            optional=(Column("channel", "channel"), Column("channel_raw", "text")),
            key=("date", "campaign_id"),
            foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
        ),
        Table(
            "orders",
            "one row per purchase or invoice",
            required=(
                Column("order_id", "id"),
                Column("customer_id", "id", "the account that bought (= account_id)"),
                _ts("ordered_at"),
                Column("revenue", "number", min_value=0),
            ),
            optional=(Column("product", "text"),),
            key=("order_id",),
        ),
        Table(
            "quotas",
            "sales target per owner and period",
            required=(
                Column("owner_id", "id"),
                Column("period_start", "date"),
                Column("quota", "number", min_value=0),
            ),
            key=("owner_id", "period_start"),
        ),
        Table(
            "assignments",
            "experiment groups: who was randomly assigned to receive a campaign or held out",
            required=(
                Column("person_id", "id"),
                Column("campaign_id", "id"),
                Column("group", "category", values=("treatment", "control")),
            ),
            optional=(
                _ts("assigned_at"),
                Column(
                    "pre_period_visits",
                    "count",
                    "web visits in the 90 days before assignment: a covariate for CUPED",
                    min_value=0,
                ),
            ),
            key=("person_id", "campaign_id"),
            foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
        ),
    )
}
