"""What services tell people; the bot delivers it through Telegram (bot.notifier)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

from storage.models import Enterprise, ReviewNote

if TYPE_CHECKING:
    from services.extensions import ExtensionNews
    from services.review import CardView, RegistrationView
    from services.scores import BureauSummary, ScoreNews


class Notifier(Protocol):
    private_alerts: bool  # cards to the officials' private chats too, not only their groups

    def together(self) -> AbstractAsyncContextManager[None]:
        """The notices given meanwhile are queued together at the end (one statement)."""

    async def review_card(self, chat_ids: Sequence[int], card: CardView) -> None:
        """A form is waiting at a level: its card, with 通过 / 退回 / 详情, to the bureau."""

    async def form_progress(
        self, user_ids: Sequence[int], enterprise: Enterprise, level: str, status: str
    ) -> None:
        """The enterprise's contacts: a level approved their form."""

    async def form_returned(
        self,
        user_ids: Sequence[int],
        enterprise: Enterprise,
        level: str,
        notes: Sequence[ReviewNote],
        waited: int | None = None,
    ) -> None:
        """The enterprise's contacts: their form came back with comments on named fields (or,
        `waited` days later, the bureau reminds them of it: 催办)."""

    async def registration_card(self, chat_ids: Sequence[int], card: RegistrationView) -> None:
        """A self-registration waits for the county bureau's confirmation."""

    async def registration_decided(
        self, user_id: int, enterprise: Enterprise, accepted: bool, reason: str
    ) -> None:
        """The person who asked to be bound: confirmed, or refused with the reason."""

    async def broadcast(self, broadcast_id: int, chat_ids: Sequence[int], text: str) -> None:
        """A coordinator's notice, once to each chat, after alerts and reminders."""

    async def scores(self, news: Sequence[ScoreNews], summaries: Sequence[BureauSummary]) -> None:
        """A scoring run: each enterprise its estimate, each bureau its ranking. Queued in the
        caller's transaction (committed with it), keyed so a repeated run sends nothing twice."""

    async def deadline_extended(self, news: Sequence[ExtensionNews]) -> None:
        """The contacts of forms not yet submitted: the province moved their deadline. Queued
        in the caller's transaction, keyed so each contact is told once per extension."""
