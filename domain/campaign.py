"""One campaign year's configuration: calendar, thresholds, weights, tables.

Everything that changes from one year to the next is read from `campaigns/<year>.toml`
and validated here, so that logic elsewhere never names a year or a threshold.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, time
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.regions import RegionTable

STAGE_NAMES = ("初创期", "成长期", "稳定期")
INDICATOR_IDS = (
    "rd_expense",
    "rd_intensity",
    "rd_staff_share",
    "invention_patents",
    "ip_per_100_rd_staff",
    "tech_contract_value",
    "main_business_revenue",
    "revenue_growth",
    "return_on_equity",
)
SIZE_BOUNDS = ("employees", "revenue", "assets")

Amount = Annotated[Decimal, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    id: int = Field(ge=1, le=7)
    key: str
    name: str
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Stage:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"ends ({self.end}) before it starts ({self.start})")
        return self


class Eligibility(_Strict):
    statuses: tuple[str, ...] = Field(min_length=1)
    entity_types: tuple[str, ...] = Field(min_length=1)


class DevelopmentStage(_Strict):
    as_of: date
    growth_from_years: int = Field(ge=1)
    mature_from_years: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> DevelopmentStage:
        if self.mature_from_years <= self.growth_from_years:
            raise ValueError("mature_from_years must be greater than growth_from_years")
        return self


class Band(_Strict):
    at_least: Decimal | None = None
    more_than: Decimal | None = None
    points: Decimal = Field(ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if (self.at_least is None) == (self.more_than is None):
            raise ValueError("give exactly one of at_least or more_than")
        return self

    def admits(self, value: Decimal) -> bool:
        if self.at_least is not None:
            return value >= self.at_least
        assert self.more_than is not None
        return value > self.more_than


class NormalisedBand(_Strict):
    at_least: Decimal
    value: float = Field(ge=0, le=1)


class Scoring(_Strict):
    normaliser: Literal["percentile", "min_max", "efficacy", "bands"] = "percentile"
    min_cohort: int = Field(ge=1)
    label: str
    weights: dict[str, dict[str, int]]
    bands: dict[str, list[NormalisedBand]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _weights_complete(self) -> Scoring:
        if set(self.weights) != set(STAGE_NAMES):
            raise ValueError(f"weights: need exactly the stages {', '.join(STAGE_NAMES)}")
        for stage, table in self.weights.items():
            if set(table) != set(INDICATOR_IDS):
                missing = sorted(set(INDICATOR_IDS) - set(table))
                extra = sorted(set(table) - set(INDICATOR_IDS))
                raise ValueError(f"weights.{stage}: missing {missing}, unknown {extra}")
            if any(w < 0 for w in table.values()):
                raise ValueError(f"weights.{stage}: weights cannot be negative")
            if sum(table.values()) != 100:
                raise ValueError(f"weights.{stage}: must sum to 100, got {sum(table.values())}")
        unknown = sorted(set(self.bands) - set(INDICATOR_IDS))
        if unknown:
            raise ValueError(f"bands: unknown indicators {unknown}")
        if self.normaliser == "bands" and set(self.bands) != set(INDICATOR_IDS):
            raise ValueError("normaliser 'bands' needs a band list for each of the nine indicators")
        return self


class ProjectsBonus(_Strict):
    cap: Decimal = Field(ge=0)
    provincial_each: Decimal = Field(ge=0)
    municipal_each: Decimal = Field(ge=0)
    standard_each: Decimal = Field(ge=0)


class FinancingBonus(_Strict):
    cap: Decimal = Field(ge=0)
    bands: tuple[Band, ...] = Field(min_length=1)


class RankingsBonus(_Strict):
    cap: Decimal = Field(ge=0)
    levels: dict[str, Decimal]
    qualification: Decimal = Field(ge=0)


class Bonus(_Strict):
    projects: ProjectsBonus
    financing: FinancingBonus
    rankings: RankingsBonus


class Rules(_Strict):
    """Thresholds of S1–S8 and W1–W16, named by rule id."""

    S2_profit_revenue_factor: Amount
    S7_new_since: date
    W1_rd_expense_high: Amount
    W3_revenue_ratio: Amount
    W4_invention_patents: int = Field(ge=0)
    W5_ip_count: int = Field(ge=0)
    W6_tech_contract: Amount
    W7_revenue_profit_factor: Amount
    W8_equity_ratio: Amount
    W9_large_figure: Amount
    W10_projects_awards: int = Field(ge=0)
    W11_standards: int = Field(ge=0)
    W12_financing: Amount
    W13_keywords: tuple[str, ...]
    W14_credit_code_suffix: str = Field(min_length=1)

    @cached_property
    def W13_pattern(self) -> re.Pattern[str]:
        """The W13 keywords as one pattern: a name is searched once, not once per keyword."""
        return re.compile("|".join(re.escape(k) for k in self.W13_keywords) or "(?!)")


class Checks(_Strict):
    unit_suspect_ratio: Decimal = Field(gt=1)
    zeros_share: float = Field(gt=0, le=1)
    zeros_min_numeric: int = Field(ge=1)
    ceiling_money: Decimal = Field(gt=0)
    ceiling_count: int = Field(gt=0)
    balance_gap_share: Decimal = Field(ge=0)
    balance_gap_min: Decimal = Field(ge=0)
    qualify_industries: tuple[str, ...]  # W-qualify: GB/T 4754 code prefixes
    qualify_name_words: tuple[str, ...]  # … and words in the enterprise's name


class SizeCategory(_Strict):
    name: str
    upper: dict[str, Decimal]
    medium: dict[str, Decimal]
    small: dict[str, Decimal]

    @cached_property
    def tiers(self) -> tuple[tuple[str, tuple[tuple[int, Decimal], ...]], ...]:
        """(size, ((figure index in SIZE_BOUNDS, lower bound), …)) from the largest size down."""
        return tuple(
            (size, tuple((SIZE_BOUNDS.index(key), bound) for key, bound in part.items()))
            for size, part in (("大型", self.upper), ("中型", self.medium), ("小型", self.small))
        )

    @model_validator(mode="after")
    def _known_bounds(self) -> SizeCategory:
        for part in (self.upper, self.medium, self.small):
            if not part or set(part) - set(SIZE_BOUNDS):
                raise ValueError(f"bounds must be among {', '.join(SIZE_BOUNDS)}")
        return self


class Sme(_Strict):
    categories: dict[str, SizeCategory]
    industry_map: dict[str, str]

    @cached_property
    def code_categories(self) -> dict[str, str]:
        """A memo of `domain.sme.category_of`, filled as industry codes are met."""
        return {}

    @model_validator(mode="after")
    def _mapped_to_known(self) -> Sme:
        if "other" not in self.categories:
            raise ValueError("categories: an 'other' category is required")
        for prefix, category in self.industry_map.items():
            if category not in self.categories:
                raise ValueError(f"industry_map.{prefix}: unknown category '{category}'")
        return self


class TechFields(_Strict):
    discouraged: str
    any_field: tuple[str, ...]
    plausible: dict[str, tuple[str, ...]]

    @cached_property
    def prefixes(self) -> dict[str, tuple[str, ...]]:
        """Per field, the industry code prefixes that fit it, those that fit any included."""
        return {name: (*codes, *self.any_field) for name, codes in self.plausible.items()}


REMINDER_KINDS = (
    "opening",
    "countdown",
    "returned",
    "local_digest",
    "local_countdown",
    "province_digest",
    "province_countdown",
    "recheck",
    "results",
)


class ReminderKind(_Strict):
    enabled: bool = True
    stage: str
    on: Literal["start", "daily", "before_end"]
    days: tuple[int, ...] = ()  # before_end: days before the stage's last day
    until_stage: str = ""  # daily: through the end of this later stage instead

    @model_validator(mode="after")
    def _days_when_needed(self) -> ReminderKind:
        if self.on == "before_end" and not self.days:
            raise ValueError("before_end needs days = [...]")
        if any(d < 0 for d in self.days):
            raise ValueError("days cannot be negative")
        return self


class Reminders(_Strict):
    send_from: time
    send_until: time
    working_days_only: bool = True
    kinds: dict[str, ReminderKind]

    @model_validator(mode="after")
    def _known(self) -> Reminders:
        unknown = sorted(set(self.kinds) - set(REMINDER_KINDS))
        if unknown:
            raise ValueError(f"kinds: unknown {unknown}; known: {', '.join(REMINDER_KINDS)}")
        if self.send_until <= self.send_from:
            raise ValueError("send_until must be after send_from")
        return self


class Campaign(_Strict):
    year: int = Field(ge=2020, le=2100)
    name: str
    reporting_year: int
    timezone: str
    region_table: str
    stages: tuple[Stage, ...]
    banks: tuple[str, ...] = Field(min_length=1)
    eligibility: Eligibility
    development_stage: DevelopmentStage
    scoring: Scoring
    bonus: Bonus
    rules: Rules
    checks: Checks
    sme: Sme
    tech_fields: TechFields
    reminders: Reminders
    regions: RegionTable  # read from the `region_table` file by `load_campaign`

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        if self.reporting_year >= self.year:
            raise ValueError("reporting_year must be before the campaign year")
        if [s.id for s in self.stages] != list(range(1, 8)):
            raise ValueError("stages: need the seven stages with ids 1..7 in order")
        for before, after in zip(self.stages, self.stages[1:], strict=False):
            if after.start < before.start:
                raise ValueError(f"stages: stage {after.id} starts before stage {before.id}")
        keys = {s.key for s in self.stages}
        for name, kind in self.reminders.kinds.items():
            for stage in (kind.stage, kind.until_stage):
                if stage and stage not in keys:
                    raise ValueError(f"reminders.kinds.{name}: no stage '{stage}'")
        return self

    @property
    def previous_year(self) -> int:
        return self.reporting_year - 1

    @property
    def zone(self) -> ZoneInfo:
        """The campaign's local time, in which its dates and sending hours are meant."""
        return ZoneInfo(self.timezone)

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)


class CampaignError(Exception):
    """A campaign file that cannot be used; the message names the file, key and problem."""


def load_campaign(path: Path) -> Campaign:
    raw = _read_toml(path)
    if "regions" in raw:
        raise CampaignError(f'{path}: regions: not allowed here; use region_table = "<file>"')
    table = raw.get("region_table")
    if isinstance(table, str):
        raw["regions"] = _read_toml(path.parent / table)
    try:
        return Campaign.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CampaignError(f"{path}: invalid campaign configuration\n{problems}") from exc


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CampaignError(f"{path}: not valid TOML: {exc}") from exc
