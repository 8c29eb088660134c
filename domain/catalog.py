"""The form catalog: every field of the form, resolved for one campaign.

Fields are declared once, in `domain.fields`, with year-relative keys ("rd_expense_{year}");
`Catalog` resolves them against a campaign. Code asks the catalog for labels, units, choices
and examples, and never repeats them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, create_model
from pydantic import Field as PydanticField

from domain.campaign import Campaign, CampaignError


class Kind(Enum):
    TEXT = "text"
    MONEY = "money"
    COUNT = "count"
    RANK = "rank"  # a position on a list: a positive integer, or LISTED
    DATE = "date"
    CHOICE = "choice"
    MULTI = "multi"
    YES_NO = "yes_no"
    USCC = "uscc"
    MOBILE = "mobile"
    EMAIL = "email"
    PERSON = "person"
    REGION = "region"
    INDUSTRY = "industry"


NUMERIC_KINDS = frozenset({Kind.MONEY, Kind.COUNT, Kind.RANK})
LISTED = "入选"
"""A rank's answer for a list without positions (瞪羚, 专精特新): on the list, no number."""


@dataclass(frozen=True, slots=True)
class Section:
    number: int
    key: str
    title: str


SECTIONS: tuple[Section, ...] = (
    Section(1, "basic", "基本信息"),
    Section(2, "products", "企业产品与技术"),
    Section(3, "input", "创新投入"),
    Section(4, "output", "创新产出"),
    Section(5, "development", "创新发展"),
    Section(6, "impact", "创新影响"),
    Section(7, "finance", "科技金融"),
)
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}


@dataclass(frozen=True, slots=True)
class Field:
    """One form field. `name` is stable across years; `key` and `label` may hold {year}/{prev}."""

    name: str
    key: str
    label: str
    section: str
    kind: Kind
    example: str
    help: str = ""
    unit: str = ""
    required: bool = True
    prefill: bool = False
    choices: tuple[str, ...] = ()
    choices_from: str = ""  # a campaign list that supplies the choices (e.g. "banks")
    exclusive: str = ""  # a multi-choice option that excludes the others ("无")
    max_length: int = 0
    negative: bool = False  # may be read below zero: a rule, not the reader, says what it means
    required_with: str = ""  # required only when this other field is filled
    follows: str = ""  # asked only once this other field is answered

    @property
    def label_with_unit(self) -> str:
        return f"{self.label}（{self.unit}）" if self.unit else self.label


_PARENTHETICAL = re.compile(r"[（(][^）)]*[）)]|\s+")


def header_form(text: str) -> str:
    """A column header reduced for matching: no whitespace, no parenthetical unit notes."""
    return _PARENTHETICAL.sub("", text)


class Catalog:
    """The fields of one campaign's form, with keys, labels and choices resolved."""

    def __init__(self, campaign: Campaign, declared: tuple[Field, ...]) -> None:
        self.campaign = campaign
        years = {"year": campaign.reporting_year, "prev": campaign.previous_year}
        fields = []
        for f in declared:
            choices = getattr(campaign, f.choices_from) if f.choices_from else f.choices
            fields.append(
                replace(
                    f,
                    key=f.key.format(**years),
                    label=f.label.format(**years),
                    help=f.help.format(**years),
                    choices=tuple(choices),
                )
            )
        self.fields: tuple[Field, ...] = tuple(fields)
        self.by_name: dict[str, Field] = {f.name: f for f in self.fields}
        self.by_key: dict[str, Field] = {f.key: f for f in self.fields}
        self._headers: dict[str, Field] = {}
        for f in self.fields:
            for header in {f.key, f.name, header_form(f.label)}:
                other = self._headers.setdefault(header, f)
                if other is not f:
                    raise ValueError(f"header '{header}' names both {other.name} and {f.name}")
        self._check_campaign_tables()

    def _check_campaign_tables(self) -> None:
        tech = self.by_name["tech_field"].choices
        plausible = set(self.campaign.tech_fields.plausible)
        wanted = set(tech) - {self.campaign.tech_fields.discouraged}
        if plausible != wanted:
            raise CampaignError(f"tech_fields.plausible must list exactly {sorted(wanted)}")
        levels = set(self.by_name["ranking_list_level"].choices)
        if set(self.campaign.bonus.rankings.levels) != levels:
            raise CampaignError(f"bonus.rankings.levels must name exactly {sorted(levels)}")
        statuses = set(self.by_name["operating_status"].choices)
        if not set(self.campaign.eligibility.statuses) <= statuses:
            raise CampaignError(f"eligibility.statuses must be among {sorted(statuses)}")

    @cached_property
    def required_fields(self) -> tuple[Field, ...]:
        """Required fields, and those required once another field is answered."""
        return tuple(f for f in self.fields if f.required or f.required_with)

    @cached_property
    def required_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.required_fields)

    @cached_property
    def followers(self) -> tuple[tuple[str, str], ...]:
        """Each field that follows another (asked once that one is answered), with that one."""
        return tuple((f.name, f.follows) for f in self.fields if f.follows)

    @cached_property
    def numeric_names(self) -> tuple[str, ...]:
        """Fields answered with a number: money, counts, ranks."""
        return tuple(f.name for f in self.fields if f.kind in NUMERIC_KINDS)

    def field_for_header(self, header: str) -> Field | None:
        """The field a file column names: its key, its stable name or its Chinese label."""
        return self._headers.get(header.strip()) or self._headers.get(header_form(header))

    def section(self, key: str) -> Section:
        return SECTIONS_BY_KEY[key]

    def in_section(self, key: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.section == key)

    @cached_property
    def submission_model(self) -> type[BaseModel]:
        """A pydantic model of a complete submission, keyed by the campaign's field keys."""
        definitions: dict[str, Any] = {}
        for f in self.fields:
            annotation, constraints = self._python_type(f)
            if f.required and not f.required_with:
                default: Any = ...
            else:
                annotation = annotation | None
                default = None
            definitions[f.name] = (
                annotation,
                PydanticField(
                    default,
                    alias=f.key,
                    validation_alias=AliasChoices(f.key, f.name),
                    title=f.label_with_unit,
                    description=f.help or None,
                    **constraints,
                ),
            )
        return create_model(  # type: ignore[call-overload, no-any-return]
            "Submission",
            __config__=ConfigDict(extra="forbid", frozen=True, populate_by_name=True),
            **definitions,
        )

    def _python_type(self, f: Field) -> tuple[Any, dict[str, Any]]:
        checks = self.campaign.checks
        if f.kind is Kind.MONEY:
            bound = checks.ceiling_money
            return Decimal, {"le": bound, "ge": -bound if f.negative else 0, "decimal_places": 4}
        if f.kind is Kind.COUNT:
            bound = checks.ceiling_count
            return int, {"ge": -bound if f.negative else 0, "le": bound}
        if f.kind is Kind.RANK:
            position = Annotated[int, PydanticField(ge=1, le=checks.ceiling_count)]
            return position | Literal[LISTED], {}  # type: ignore[valid-type]
        if f.kind is Kind.DATE:
            return date, {}
        if f.kind is Kind.YES_NO:
            return bool, {}
        if f.kind is Kind.CHOICE:
            return Literal[f.choices], {}  # type: ignore[valid-type]
        if f.kind is Kind.MULTI:
            return tuple[Literal[f.choices], ...], {"min_length": 1}  # type: ignore[valid-type]
        return str, {"min_length": 1, **({"max_length": f.max_length} if f.max_length else {})}
