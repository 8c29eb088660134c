"""Who sends an update, as the services need to know them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TelegramUser:
    id: int
    display_name: str
