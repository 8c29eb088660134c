"""Who sends an update, as the services need to know them."""

from __future__ import annotations

from dataclasses import dataclass

from domain.text import visible

NAME_LENGTH = 200  # characters of a display name kept: the width of its columns


@dataclass(frozen=True, slots=True)
class TelegramUser:
    id: int
    display_name: str

    def __post_init__(self) -> None:
        # A Telegram name is whatever its owner typed: one made of Hangul fillers, or turned
        # around with U+202E, would otherwise reach the officials' cards as it is.
        name = visible(self.display_name).strip()[:NAME_LENGTH]
        object.__setattr__(self, "display_name", name)
