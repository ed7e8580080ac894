"""Checking and normalising the options of the event-funnel functions (private).

Everything a user passes to :func:`salesmkt.funnel` is turned into one frozen
:class:`FunnelSpec` here, so the engine (:mod:`salesmkt.funnels._engine`) only ever sees checked
values: step matchers, a positive window, per-step gaps, exclusion rules with 0-based step
positions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

ORDERS = ("ordered", "strict", "any")
ENTRIES = ("any", "first")
ATTRIBUTIONS = ("first", "last")

#: A step matcher: one event name, several names, or ``f(table) -> boolean column``.
Matcher = str | tuple[str, ...] | Callable


@dataclass(frozen=True)
class Step:
    label: str
    matcher: Matcher


@dataclass(frozen=True)
class Exclusion:
    matcher: Matcher
    start: int  # 0-based position of the step after which the exclusion counts
    end: int  # 0-based position of the step before which it counts


@dataclass(frozen=True)
class FunnelSpec:
    steps: tuple[Step, ...]
    window: pd.Timedelta
    person_col: str
    ts_col: str
    event_col: str
    order: str
    entry: str
    by: str | None
    attribution: str
    exclude: tuple[Exclusion, ...]
    gaps: tuple[pd.Timedelta | None, ...]  # gaps[k]: max time from step k-1 to step k; gaps[0] None
    strict_increase: bool

    @property
    def n(self) -> int:
        return len(self.steps)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.steps]

    def describe(self) -> str:
        """The semantics in words, for report captions."""
        order = {
            "ordered": "steps in order",
            "strict": "steps in strict order (no other event in between)",
            "any": "steps in any order",
        }[self.order]
        entry = "any step-1 event may start" if self.entry == "any" else "first step-1 event starts"
        text = f"{order}; {entry}; window {_words(self.window)} from step 1"
        if any(g is not None for g in self.gaps):
            text += "; with maximum gaps between steps"
        if self.exclude:
            text += f"; {len(self.exclude)} exclusion rule{'s' * (len(self.exclude) > 1)}"
        return text


def _words(td: pd.Timedelta) -> str:
    if td % pd.Timedelta(days=1) == pd.Timedelta(0):
        days = td.days
        return f"{days} day{'s' * (days != 1)}"
    return str(td)


def to_timedelta(value, name: str) -> pd.Timedelta:
    """A positive duration from a timedelta, a pandas Timedelta or a string like ``"30D"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f"{name} must be a duration such as '30D', '12h' or datetime.timedelta(days=30), "
            f"not the bare number {value!r} (the unit would be a guess)"
        )
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}: cannot read {value!r} as a duration ({err})") from None
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise ValueError(f"{name} must be a positive duration, got {value!r}")
    if td % pd.Timedelta(milliseconds=1) != pd.Timedelta(0):
        raise ValueError(f"{name} must be a whole number of milliseconds, got {value!r}")
    return td


def _matcher(value, what: str) -> Matcher:
    if isinstance(value, str):
        return value
    if callable(value):
        return value
    if isinstance(value, (list, tuple, set, frozenset)) and value:
        names = tuple(sorted(value)) if isinstance(value, (set, frozenset)) else tuple(value)
        if all(isinstance(v, str) for v in names):
            return names
    raise ValueError(
        f"{what}: expected an event name, a list of event names or a function "
        f"table -> boolean column, got {value!r}"
    )


def parse_steps(steps) -> tuple[Step, ...]:
    if isinstance(steps, str) or not isinstance(steps, Sequence) or len(steps) == 0:
        raise ValueError("steps must be a non-empty list of event names or (label, matcher) pairs")
    out = []
    for i, step in enumerate(steps, start=1):
        if isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str):
            label, matcher = step
            out.append(Step(label, _matcher(matcher, f"step {i} ({label!r})")))
        else:
            matcher = _matcher(step, f"step {i}")
            if not isinstance(matcher, str):
                raise ValueError(
                    f"step {i}: give a label with a list or a function, e.g. ('signup', {step!r})"
                )
            out.append(Step(matcher, matcher))
    labels = [s.label for s in out]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        out = [Step(f"{s.label} ({i})", s.matcher) for i, s in enumerate(out, start=1)]
    return tuple(out)


def _step_index(value, n: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= n:
        raise ValueError(f"{what} must be a step number from 1 to {n}, got {value!r}")
    return value - 1


def parse_exclude(exclude, n: int) -> tuple[Exclusion, ...]:
    if exclude is None:
        return ()
    if isinstance(exclude, str) or callable(exclude):
        exclude = [exclude]
    out = []
    for rule in exclude:
        if isinstance(rule, tuple) and len(rule) == 3:
            matcher, a, b = rule
            start = _step_index(a, n, "exclusion from-step")
            end = _step_index(b, n, "exclusion to-step")
        else:
            matcher, start, end = rule, 0, n - 1
        if end <= start:
            raise ValueError(
                f"exclusion {rule!r}: the to-step must come after the from-step "
                f"(and the funnel needs at least 2 steps)"
            )
        out.append(Exclusion(_matcher(matcher, f"exclusion {rule!r}"), start, end))
    return tuple(out)


def parse_gaps(max_gap, n: int) -> tuple[pd.Timedelta | None, ...]:
    gaps: list[pd.Timedelta | None] = [None] * n
    if max_gap is None:
        return tuple(gaps)
    if isinstance(max_gap, dict):
        for step, gap in max_gap.items():
            k = _step_index(step, n, "max_gap key")
            if k == 0:
                raise ValueError("max_gap: step 1 has no previous step; use keys 2..n")
            gaps[k] = None if gap is None else to_timedelta(gap, f"max_gap[{step}]")
    elif isinstance(max_gap, (list, tuple)):
        if len(max_gap) != n - 1:
            raise ValueError(
                f"max_gap as a list needs one value per step after the first ({n - 1}), "
                f"got {len(max_gap)}"
            )
        for k, gap in enumerate(max_gap, start=1):
            gaps[k] = None if gap is None else to_timedelta(gap, f"max_gap[{k}]")
    else:
        td = to_timedelta(max_gap, "max_gap")
        gaps = [None] + [td] * (n - 1)
    return tuple(gaps)


def build_spec(
    steps,
    *,
    window,
    person_col: str,
    ts_col: str,
    event_col: str,
    order: str,
    entry: str,
    by: str | None,
    attribution: str,
    exclude,
    max_gap,
    strict_increase: bool,
) -> FunnelSpec:
    """Check every option and return the frozen spec (errors say which option and why)."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if entry not in ENTRIES:
        raise ValueError(f"entry must be one of {ENTRIES}, got {entry!r}")
    if attribution not in ATTRIBUTIONS:
        raise ValueError(f"attribution must be one of {ATTRIBUTIONS}, got {attribution!r}")
    parsed = parse_steps(steps)
    n = len(parsed)
    td = to_timedelta(window, "window")
    rules = parse_exclude(exclude, n)
    gaps = parse_gaps(max_gap, n)
    if order != "ordered" and rules:
        raise ValueError("exclude= is defined for order='ordered' only")
    if order == "any":
        if any(g is not None for g in gaps):
            raise ValueError("max_gap= has no meaning with order='any' (steps have no previous)")
        if strict_increase:
            raise ValueError("strict_increase=True has no meaning with order='any'")
        if by is not None and attribution == "last":
            raise ValueError("attribution='last' is defined for ordered and strict funnels only")
    return FunnelSpec(
        steps=parsed,
        window=td,
        person_col=person_col,
        ts_col=ts_col,
        event_col=event_col,
        order=order,
        entry=entry,
        by=by,
        attribution=attribution,
        exclude=rules,
        gaps=gaps,
        strict_increase=bool(strict_increase),
    )
