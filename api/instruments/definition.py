"""The instrument definition model: items, answer options, scoring, severity bands, cut-offs, change
rules, risk rules, licence and source, and the checks a file must pass beyond its field types.

Reading files is ``loader``'s job; scoring with a definition is ``scoring``'s.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Definition file format this code reads (the ``format`` key of every file).
DEFINITION_FORMAT = 1
#: Pattern of instrument, rule and subscale ids.
ID_PATTERN = r"^[a-z][a-z0-9_-]{1,31}$"
#: Most items one instrument may have.
MAX_ITEMS = 200

InstrumentId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]


class _Strict(BaseModel):
    """Unknown keys are errors, so a misspelt key in a file is reported, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: int = Field(ge=0, le=100, description="Points this answer scores")
    label: Label


class Item(_Strict):
    text: LongText
    options: tuple[Option, ...] | None = Field(
        default=None, description="This item's own options; default: the instrument's"
    )


class Licence(_Strict):
    name: Label
    allows_use: bool = Field(
        description="True only when the licence lets a clinic use the instrument as shipped"
    )
    text: LongText
    url: str | None = None


class Source(_Strict):
    citation: LongText
    doi: str | None = None
    url: str | None = None
    notes: LongText | None = None


class Fhir(_Strict):
    loinc_panel: str | None = Field(default=None, description="LOINC code of the whole form")
    loinc_total: str | None = Field(default=None, description="LOINC code of the total score")


class Scoring(_Strict):
    method: Literal["sum"] = "sum"
    max_total: int = Field(
        ge=1, description="Highest total; must equal the sum of the items' highest options"
    )


class Band(_Strict):
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    label: Label


class Cutoff(_Strict):
    total: int = Field(ge=0, description="A total at or above this meets the cut-off")
    label: LongText


class Change(_Strict):
    response_drop_pct: float = Field(
        default=50.0,
        gt=0,
        le=100,
        description="A drop from baseline of at least this % is a response",
    )
    remission_below: int | None = Field(
        default=None, ge=1, description="A total below this is remission (none: not defined)"
    )
    meaningful_change: int | None = Field(
        default=None,
        ge=1,
        description="A change of at least this many points is clinically meaningful",
    )


class RiskRule(_Strict):
    """Raises a safety alert when one item's answer, or the total, reaches a value."""

    id: InstrumentId
    label: Label
    item: int | None = Field(default=None, ge=1, description="Item number, counting from 1")
    at_least: int | None = Field(default=None, ge=0)
    total_at_least: int | None = Field(default=None, ge=0)


class Subscale(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    label: Label
    items: tuple[int, ...] = Field(min_length=1)


class Instrument(_Strict):
    """One questionnaire as its definition file describes it."""

    format: int
    id: InstrumentId
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    title: Label
    short_title: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    measures: Label
    recall: Label
    instructions: LongText
    stem: LongText | None = None
    licence: Licence
    source: Source
    fhir: Fhir = Fhir()
    options: tuple[Option, ...] | None = None
    items: tuple[Item, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    scoring: Scoring
    bands: tuple[Band, ...] = Field(min_length=1)
    cutoffs: tuple[Cutoff, ...] = ()
    change: Change = Change()
    risk_rules: tuple[RiskRule, ...] = ()
    subscales: tuple[Subscale, ...] = ()

    def item_options(self, index: int) -> tuple[Option, ...]:
        """Options of item ``index`` (0-based): its own, else the instrument's."""
        own = self.items[index].options
        return own if own is not None else (self.options or ())

    @cached_property
    def allowed_values(self) -> tuple[frozenset[int], ...]:
        """Per item (0-based), the values an answer may take."""
        return tuple(
            frozenset(o.value for o in self.item_options(i)) for i in range(len(self.items))
        )

    @property
    def min_total(self) -> int:
        return sum(min(values) for values in self.allowed_values)


def _n(index: int) -> int:
    """Array positions in field paths count from 1, like the items of a printed form."""
    return index + 1


def definition_problems(inst: Instrument) -> list[tuple[str, str]]:
    """What is wrong with a well-typed definition, as ``(field, message)`` pairs (empty: fine).

    Checks: the format version; every item has options with distinct values; the declared maximum
    equals the items' highest options; bands are in order, without gaps or overlaps, from the lowest
    to the highest possible total; cut-offs, risk rules and subscales refer to existing items and
    reachable values; the licence allows use.
    """
    problems: list[tuple[str, str]] = []
    if inst.format != DEFINITION_FORMAT:
        problems.append(("format", f"must be {DEFINITION_FORMAT}, the format this Somatrace reads"))
    if not inst.licence.allows_use:
        problems.append(
            (
                "licence.allows_use",
                "the licence does not allow use; Somatrace does not load such an instrument",
            )
        )
    if inst.options is not None and not inst.options:
        problems.append(("options", "must list at least one option"))
    for i, item in enumerate(inst.items):
        options = inst.item_options(i)
        where = f"items.{_n(i)}"
        if not options:
            problems.append(
                (f"{where}.options", "no options: give the item its own or set [[options]]")
            )
            continue
        values = [o.value for o in options]
        if len(set(values)) != len(values):
            problems.append(
                (
                    f"{where}.options" if item.options else "options",
                    "option values must be distinct",
                )
            )
    if problems:
        return problems

    low = inst.min_total
    high = sum(max(values) for values in inst.allowed_values)
    if inst.scoring.max_total != high:
        problems.append(
            (
                "scoring.max_total",
                f"is {inst.scoring.max_total} but the items' highest answers add up to {high}",
            )
        )
    expected = low
    for b, band in enumerate(inst.bands):
        where = f"bands.{_n(b)}"
        if band.max < band.min:
            problems.append((f"{where}.max", f"{band.max} is below min {band.min}"))
        if band.min != expected:
            problems.append(
                (
                    f"{where}.min",
                    f"is {band.min}; bands must run without gaps or overlaps from {low}, so this one must start at {expected}",
                )
            )
        expected = band.max + 1
    if inst.bands and inst.bands[-1].max != high:
        problems.append(
            (f"bands.{len(inst.bands)}.max", f"the last band must end at the highest total, {high}")
        )
    labels = [band.label for band in inst.bands]
    if len(set(labels)) != len(labels):
        problems.append(("bands", "band labels must be distinct"))
    for c, cutoff in enumerate(inst.cutoffs):
        if not low < cutoff.total <= high:
            problems.append((f"cutoffs.{_n(c)}.total", f"must lie in {low + 1}..{high}"))
    if inst.change.remission_below is not None and not low < inst.change.remission_below <= high:
        problems.append(("change.remission_below", f"must lie in {low + 1}..{high}"))
    rule_ids: set[str] = set()
    for r, rule in enumerate(inst.risk_rules):
        where = f"risk_rules.{_n(r)}"
        if rule.id in rule_ids:
            problems.append((f"{where}.id", f"duplicate rule id {rule.id!r}"))
        rule_ids.add(rule.id)
        by_item = rule.item is not None or rule.at_least is not None
        by_total = rule.total_at_least is not None
        if by_item == by_total:
            problems.append((where, "give either item and at_least, or total_at_least"))
            continue
        if by_item:
            if rule.item is None or rule.at_least is None:
                problems.append((where, "an item rule needs both item and at_least"))
            elif rule.item > len(inst.items):
                problems.append(
                    (
                        f"{where}.item",
                        f"there is no item {rule.item} (the instrument has {len(inst.items)})",
                    )
                )
            elif rule.at_least > max(inst.allowed_values[rule.item - 1]):
                problems.append((f"{where}.at_least", "no answer of that item reaches this value"))
        elif rule.total_at_least is not None and rule.total_at_least > high:
            problems.append(
                (f"{where}.total_at_least", f"no total reaches this value (highest is {high})")
            )
    sub_ids: set[str] = set()
    for s, sub in enumerate(inst.subscales):
        where = f"subscales.{_n(s)}"
        if sub.id in sub_ids:
            problems.append((f"{where}.id", f"duplicate subscale id {sub.id!r}"))
        sub_ids.add(sub.id)
        bad = [n for n in sub.items if not 1 <= n <= len(inst.items)]
        if bad:
            problems.append((f"{where}.items", f"no such item(s): {bad}"))
    return problems
