"""Every text a person reads comes from a jinja2 template in `bot/templates`.

Messages are HTML (what the contact typed is escaped); button labels and pop-up notices are plain
text, from the macros of `phrases.j2`. A message whose length depends on data fits Telegram's
4,096 characters: `fitted` shortens the long parts of a screen (a template marks them with the
`clip` and `most` filters), `paged` splits a long list over several messages.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

from bot.telegram import TEXT_LIMIT, pages, visible_length
from domain import formatting, industry
from domain.catalog import NUMERIC_KINDS, Catalog, Field, Kind
from services.bounds import RecordFileError

_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}")


class _TextLinesEnd(Extension):
    """`trim_blocks` drops the line break after every block tag, also after one that closes a
    line of text (`· {{ label }}{% if c %}：{{ c }}{% endif %}`), and the next line would run on:
    such a line keeps its break. A tag alone on its line still leaves none."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        lines = source.splitlines(keepends=True)
        return "".join(
            line + "\n"
            if line.endswith("%}\n") and not line.endswith("-%}\n") and _TAG.sub("", line).strip()
            else line
            for line in lines
        )


_OPTIONS: dict[str, Any] = {
    "loader": PackageLoader("bot", "templates"),
    "extensions": [_TextLinesEnd],
    "trim_blocks": True,
    "lstrip_blocks": True,
    "undefined": StrictUndefined,
    "auto_reload": False,  # templates ship with the code; no file check on every message
    # Every template kept in a plain dictionary, not jinja's LRU cache (a lock and a reordered
    # queue on every lookup, an include's too): there are as many as there are files.
    "cache_size": -1,
}
# How far a screen gives way to fit a message, step by step: the most characters a variable
# text keeps (a comment, a typed answer) and the most items a list shows.
SQUEEZE: tuple[tuple[int | None, int | None], ...] = (
    (None, None),
    (160, None),
    (80, 30),
    (40, 15),
    (20, 8),
)


@pass_context
def _clip(context: Context, text: object) -> str:
    """`{{ comment|clip }}`: the text, cut with "…" as far as the screen must give way."""
    width = SQUEEZE[context.get("squeeze", 0)][0]
    said = str(text)
    return said if width is None or len(said) <= width else said[: width - 1] + "…"


@pass_context
def _most(context: Context, items: Any) -> list[Any]:
    """`{% set shown = notes|most %}`: the first items, as many as the screen allows."""
    count = SQUEEZE[context.get("squeeze", 0)][1]
    return list(items)[:count] if count is not None else list(items)


def _day(day: date) -> str:
    """`{{ deadline|day }}`: 6月26日."""
    return f"{day.month}月{day.day}日"


class _Environment(Environment):
    """jinja's, each template's globals in a plain dictionary, not a `ChainMap` over the
    environment's: every render and every include makes a context of them, going through the
    map twice at Python's pace (~5 % of an answer's CPU). Nothing changes the globals later."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


_html = _Environment(autoescape=True, **_OPTIONS)
_html.filters.update(clip=_clip, most=_most, day=_day)
_plain = _Environment(autoescape=False, **_OPTIONS)
_plain.filters.update(day=_day)
_phrases = _plain.get_template("phrases.j2").module  # type: ignore[attr-defined]
_file_problems = _plain.get_template("file_problems.j2").module  # type: ignore[attr-defined]


_GAPS = re.compile(r"\n{3,}")


def render(template: str, **context: Any) -> str:
    """A message (HTML) from `templates/<template>.j2`; parts left out by conditions never
    leave more than one blank line in a row."""
    return _GAPS.sub("\n\n", _html.get_template(f"{template}.j2").render(**context)).strip()


def plain(template: str, **context: Any) -> str:
    """Text for outside the chat (a workbook's instructions): nothing escaped."""
    return _plain.get_template(f"{template}.j2").render(**context).strip()


def fitted(template: str, **context: Any) -> str:
    """A message that fits Telegram: rendered in full if it fits, else with its clipped texts
    and lists shortened step by step (the screen says where the rest can be seen)."""
    for squeeze in range(len(SQUEEZE)):
        text = render(template, squeeze=squeeze, **context)
        if visible_length(text) <= TEXT_LIMIT:
            return text
    raise ValueError(f"{template} does not fit in a message even shortened")


def paged(template: str, **context: Any) -> list[str]:
    """A message as long as its data, over as many messages as it takes (split between lines)."""
    return pages([render(template, **context)])


def phrase(name: str, **arguments: Any) -> str:
    """A button label or a short notice (plain text), from a macro of `phrases.j2`."""
    if not arguments:
        return _label(name)
    return str(getattr(_phrases, name)(**arguments)).strip()


@cache
def _label(name: str) -> str:
    """A phrase without arguments, the same every time: rendered once (every screen has
    buttons)."""
    return str(getattr(_phrases, name)()).strip()


def file_problem(file: str, error: RecordFileError) -> str:
    """Why a file of records cannot be read (plain text), naming the file as its sender does."""
    problem = getattr(_file_problems, error.problem)(**error.details)
    return str(_file_problems.refused(file, problem)).strip()


def shown(catalog: Catalog, f: Field, value: object) -> str:
    """A stored value as the contact reads it: "3,500 万元", "2018年5月20日", "是"."""
    if value is None:
        return phrase("skipped")
    if f.kind in NUMERIC_KINDS:
        return formatting.quantity(f, value)
    if f.kind is Kind.DATE:
        return formatting.day(value)  # type: ignore[arg-type]
    if (said := formatting.words(catalog, f, value)) is not None:
        return said
    if f.kind is Kind.INDUSTRY:
        return f"{value}（{industry.division_name(str(value))}）"
    return str(value)


def money(value: Decimal) -> str:
    return formatting.amount(value)
