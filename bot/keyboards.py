"""Inline keyboards. Every button carries the screen it belongs to and an opaque action code;
labels come from `phrases.j2`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from pydantic import Field

from bot.texts import phrase
from domain.regions import RegionTable

Number = Annotated[int, Field(ge=0, le=2**31 - 1)]
"""A number in button data: a row id (PostgreSQL's `integer`), a page or a screen. A forged one
out of this range fails the button's filter and gets "已过期" (handlers/fallback.py), never
reaching a query that would overflow."""


class Press(CallbackData, prefix="p"):
    """A button press: the screen number tells a current button from an old one."""

    screen: Number
    act: str
    arg: str = ""


_SEPARATOR = Press.__separator__


class WorkbookPress(CallbackData, prefix="xl"):
    """用 Excel 填写: no screen number, as sending the contact's workbook changes nothing and
    works from any message (the welcome, the menu, the summary)."""


def workbook_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=phrase("excel"), callback_data=WorkbookPress().pack())


# A button's fifteen optional fields filled once: copying it with text and data is ten times
# faster than `model_construct`, which looks up every default again. The same for a keyboard.
_BUTTON = InlineKeyboardButton.model_construct(text="", callback_data="")
_MARKUP = InlineKeyboardMarkup.model_construct(inline_keyboard=[])


class Keys:
    """Builds the buttons of one screen.

    Buttons are assembled directly (not through aiogram's builder, which deep-copies them, nor
    by validating each one): a question's keyboard is built on every answer.
    """

    def __init__(self, screen: int) -> None:
        self.screen = screen
        self.rows: list[list[InlineKeyboardButton]] = []

    def button(self, text: str, act: str, arg: str | int = "") -> InlineKeyboardButton:
        arg = str(arg)
        assert _SEPARATOR not in act + arg, "an action or argument holding the separator"
        data = _SEPARATOR.join((Press.__prefix__, str(self.screen), act, arg))  # Press.pack()
        return _BUTTON.model_copy(update={"text": text, "callback_data": data})

    def row(self, *buttons: InlineKeyboardButton) -> Keys:
        if buttons:
            self.rows.append(list(buttons))
        return self

    def grid(self, buttons: Sequence[InlineKeyboardButton], width: int = 2) -> Keys:
        for start in range(0, len(buttons), width):
            self.rows.append(list(buttons[start : start + width]))
        return self

    def regions(self, table: RegionTable, city: str = "") -> Keys:
        """Cities, or the counties of one city with a way back to the cities."""
        if not city:
            return self.grid([self.button(c.name, "city", c.code) for c in table.cities], width=3)
        counties = [c for c in table.counties.values() if c.city_code == city]
        self.grid([self.button(c.name, "county", c.code) for c in counties], width=3)
        return self.row(self.button(phrase("other_city"), "city", ""))

    def workbook(self) -> Keys:
        """A row with the button that sends the contact's workbook."""
        self.rows.append([workbook_button()])
        return self

    def navigation(self, back: bool = True) -> Keys:
        buttons = [self.button(phrase("back"), "back")] if back else []
        return self.row(*buttons, self.button(phrase("menu"), "menu"))

    def markup(self) -> InlineKeyboardMarkup:
        return _MARKUP.model_copy(update={"inline_keyboard": self.rows})


def share_phone() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=phrase("share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
