"""Where a contact is in the form: what to show next, what came before, how far along.

Pure navigation over the catalog and the answers given so far; the chat renders the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from domain.catalog import SECTIONS, Catalog, Field

SKIP_WORDS = frozenset({"跳过", "略过", "不填", "skip"})
# Typed on a question that has a value: the value is right (as 无误 in the Excel workbook).
KEEP_WORDS = frozenset({"无误", "正确", "没错", "不变", "保持不变"})
"""Typed instead of pressing 跳过: an optional field is skipped, a required one is not."""


@dataclass(frozen=True, slots=True)
class FormState:
    values: Mapping[str, object]  # answers given, typed, by field name
    skipped: frozenset[str] = frozenset()  # optional fields the contact chose to skip
    unconfirmed: frozenset[str] = frozenset()  # pre-loaded values not yet checked

    def applies(self, f: Field) -> bool:
        """A field that follows another is asked only once that one is answered."""
        return not f.follows or f.follows in self.values

    def settled(self, f: Field) -> bool:
        """Answered (or skipped) and, if pre-loaded, checked by the contact."""
        return (f.name in self.values or f.name in self.skipped) and f.name not in self.unconfirmed

    @property
    def passed(self) -> frozenset[str]:
        """The fields the contact has answered or skipped."""
        return frozenset(self.values) | self.skipped


@dataclass(frozen=True, slots=True)
class Step:
    kind: Literal["preloaded", "field", "summary"]
    section: str = ""
    field: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    section: int  # 1–7: the section of the current step (7 at the summary)
    done: int
    total: int
    missing_required: list[str] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100


def next_step(
    catalog: Catalog, state: FormState, after: str = "", reopened: frozenset[str] | None = None
) -> Step:
    """The first unsettled field after `after` (or from the start), then from the start again.

    A pre-loaded value not yet checked is reviewed with the rest of its section's pre-loaded
    values; once everything is settled, the summary. A returned form asks again only the fields
    the reviewer reopened (`reopened`: those not yet answered again).
    """
    fields = catalog.fields
    start = [f.name for f in fields].index(after) + 1 if after else 0
    for f in (*fields[start:], *fields[:start]):
        if reopened is not None:
            if f.name in reopened:
                return Step("field", section=f.section, field=f.name)
            continue
        if not state.applies(f) or state.settled(f):
            continue
        if f.name in state.unconfirmed:
            return Step("preloaded", section=f.section)
        return Step("field", section=f.section, field=f.name)
    return Step("summary", section=SECTIONS[-1].key)


def before_section(catalog: Catalog, section: str) -> str:
    """The field just before a section, so that `next_step(after=…)` starts at the section."""
    names = [f.name for f in catalog.fields]
    first = names.index(catalog.in_section(section)[0].name)
    return names[first - 1] if first else ""


def previous_field(
    catalog: Catalog, state: FormState, name: str, among: frozenset[str] | None = None
) -> str:
    """The field asked before `name` ("上一项"); "" at the first field. `among`: the only
    fields that may be asked (a returned form's reopened fields)."""
    last = ""  # the last field so far that may be asked (all of them, if `name` may not be)
    for f in catalog.fields:
        if state.applies(f) and (among is None or f.name in among):
            if f.name == name:
                return last
            last = f.name
    return last


def progress(catalog: Catalog, state: FormState, step: Step) -> Progress:
    """How far along: a field that follows another counts from the start (answering the list's
    name does not make the form longer), until the one it follows is skipped. (In sets, not
    field by field: every question screen shows it.)"""
    values, skipped = state.values, state.skipped
    left_out = {
        name for name, follows in catalog.followers if follows in skipped and follows not in values
    }
    settled = (values.keys() | skipped) & catalog.by_name.keys()
    done = len(settled - state.unconfirmed - left_out)
    missing = [
        f.name for f in catalog.required_fields if f.name not in values and f.name not in left_out
    ]
    return Progress(
        section=catalog.section(step.section).number if step.section else 1,
        done=done,
        total=len(catalog.fields) - len(left_out),
        missing_required=missing,
    )
