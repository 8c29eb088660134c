"""The notifier that speaks through Telegram: officials' cards, and news for the enterprise."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards import Number
from bot.outbox import Outbox
from bot.texts import fitted, phrase, render, shown
from domain import formatting
from domain.catalog import Catalog
from domain.review import LEVEL_NAMES, LEVELS
from domain.text import same
from services.extensions import ExtensionNews
from services.officials import jurisdiction_name
from services.review import CardView, RegistrationView
from services.scores import SHOWN as SCORES_SHOWN
from services.scores import BureauSummary, Ranked, ScoreNews
from storage.codec import decode
from storage.models import Enterprise, ReviewNote
from storage.repositories import Outgoing


class CardPress(CallbackData, prefix="c"):
    """A button on an officials' card: the card's id and what to do, nothing else."""

    card: Number
    act: str  # ok, back, info; yes, no (registrations)


class ScoreSheet(CallbackData, prefix="ss"):
    """下载排名表 under a bureau's score summary: the bureau's level and code."""

    level: str
    code: str


class Resume(CallbackData, prefix="resume"):
    """开始修改 on a return notice: back into the form."""


def card_markup(
    card_id: int, registration: bool = False, details: bool = True
) -> InlineKeyboardMarkup:
    """The card's buttons; `details=False` under the details themselves, which end with them."""
    acts = (
        (("yes", "accept"), ("no", "refuse"))
        if registration
        else (("ok", "approve"), ("back", "send_back"), ("info", "details"))[: 3 if details else 2]
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=phrase(label), callback_data=CardPress(card=card_id, act=act).pack()
                )
                for act, label in acts
            ]
        ]
    )


def bureau(catalog: Catalog, level: str, region_code: str) -> str:
    """The bureau of `level` over an enterprise's county: 大连市甘井子区科技局, 大连市科技局 …"""
    regions = catalog.campaign.regions
    county = regions.counties.get(region_code)
    if county is None:
        return regions.name + "科技厅"
    code = {"county": county.code, "city": county.city_code, "province": regions.code}[level]
    return jurisdiction_name(regions, level, code)


def local(catalog: Catalog, when: datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone(catalog.campaign.zone).strftime("%m月%d日 %H:%M")


def card_text(catalog: Catalog, view: CardView) -> str:
    values = view.values

    def figure(name: str) -> str:
        f = catalog.by_name[name]
        return shown(catalog, f, values[name]) if name in values else "—"

    rd, revenue = values.get("rd_expense"), values.get("operating_revenue")
    share = (
        f"（{formatting.amount(round(rd * 100 / revenue, 1))}%）"  # type: ignore[operator]
        if rd is not None and revenue
        else ""
    )
    gap = "· " if share else " · "  # （7.8%）· reads tighter than （7.8%） ·
    figures = (
        f"营业收入 {figure('operating_revenue')} · 研发费用 {figure('rd_expense')}{share}{gap}"
        f"研发人员 {values.get('rd_staff', '—')}/{values.get('employees', '—')} 人"
    )
    changes, notes = return_details(catalog, view)
    if view.reason not in ("resubmitted", "opened"):  # what a level above sees is the form
        changes, notes = [], []
    return fitted(
        "card",
        view=view,
        county=bureau(catalog, "county", view.enterprise.region_code or "").removesuffix("科技局"),
        figures=figures,
        changes=changes,
        notes=notes,
        first=local(catalog, view.first_submitted),
        arrived=local(catalog, view.submission.status_at),
        approvals=[(LEVEL_NAMES[a.level], a.by, local(catalog, a.at)) for a in view.approvals],
    )


def return_details(
    catalog: Catalog, view: CardView
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Since the form was last returned: (label, old, new) of what changed, as people read the
    values, and (label, comment) of the return's comments."""
    changes = [
        (catalog.by_name[n].label, _stored(catalog, n, old), _stored(catalog, n, new))
        for n, old, new in view.changes
        if n in catalog.by_name
    ]
    notes = [
        (
            catalog.by_name[n.field].label if n.field in catalog.by_name else phrase("whole_form"),
            n.comment,
        )
        for n in view.notes
    ]
    return changes, notes


def _stored(catalog: Catalog, name: str, value: object) -> str:
    f = catalog.by_name[name]
    return shown(catalog, f, decode(f, value)) if value is not None else phrase("skipped")


def score_summary(
    catalog: Catalog, level: str, code: str, ranked: Sequence[Ranked]
) -> tuple[str, InlineKeyboardMarkup]:
    """A bureau's ranking: the top of it, and the button for the whole table."""
    totals = [r.stored.total for r in ranked if r.stored.total is not None]
    text = render(
        "score_summary",
        bureau=jurisdiction_name(catalog.campaign.regions, level, code),
        campaign=catalog.campaign,
        ranked=ranked,
        shown=SCORES_SHOWN,
        average=sum(totals) / len(totals) if totals else None,
    )
    button = InlineKeyboardButton(
        text=phrase("score_sheet"), callback_data=ScoreSheet(level=level, code=code).pack()
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[button]])


# Delivery priorities: officials' cards first, then news and reminders, then broadcasts.
ALERT, NEWS, BULK = 0, 1, 2


class TelegramNotifier:
    """Renders each notice and puts it in the delivery queue (reminders/sender.py sends it)."""

    def __init__(self, outbox: Outbox, catalog: Catalog, private_alerts: bool = True) -> None:
        self.outbox = outbox
        self.catalog = catalog
        self.private_alerts = private_alerts

    def together(self) -> AbstractAsyncContextManager[None]:
        return self.outbox.together()

    async def _send(
        self,
        chat_ids: Sequence[int],
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        priority: int = NEWS,
    ) -> None:
        event = uuid.uuid4().hex  # one notice: one row per chat, sent once
        data = markup.model_dump(exclude_none=True) if markup else None
        await self.outbox.put(
            [Outgoing(f"notice:{event}:{chat}", chat, text, priority, data) for chat in chat_ids]
        )

    async def review_card(self, chat_ids: Sequence[int], card: CardView) -> None:
        await self._send(chat_ids, card_text(self.catalog, card), card_markup(card.card_id), ALERT)

    async def form_progress(
        self, user_ids: Sequence[int], enterprise: Enterprise, level: str, status: str
    ) -> None:
        region = enterprise.region_code or ""
        index = LEVELS.index(level)  # type: ignore[arg-type]
        following = LEVELS[index + 1] if index + 1 < len(LEVELS) else level
        text = render(
            "progress",
            status=status,
            bureau=bureau(self.catalog, level, region),
            next_bureau=bureau(self.catalog, following, region),
        )
        await self._send(user_ids, text)

    async def form_returned(
        self,
        user_ids: Sequence[int],
        enterprise: Enterprise,
        level: str,
        notes: Sequence[ReviewNote],
        waited: int | None = None,
    ) -> None:
        rows = [
            (
                self.catalog.by_name[n.field].label
                if n.field in self.catalog.by_name
                else phrase("whole_form"),
                n.comment,
            )
            for n in notes
        ]
        when = local(self.catalog, notes[0].at) if notes else ""
        text = fitted(
            "returned",
            bureau=bureau(self.catalog, level, enterprise.region_code or ""),
            notes=rows,
            when=when,
            waited=waited,
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=phrase("start_fixing"), callback_data=Resume().pack())]
            ]
        )
        await self._send(user_ids, text, markup)

    async def registration_card(self, chat_ids: Sequence[int], card: RegistrationView) -> None:
        county = bureau(self.catalog, "county", card.enterprise.region_code or "")
        text = render(
            "registration_card",
            enterprise=card.enterprise,
            contact=card.contact,
            county=county.removesuffix("科技局"),
            typed_name="" if same(card.typed_name, card.enterprise.name) else card.typed_name,
        )
        await self._send(chat_ids, text, card_markup(card.card_id, registration=True), ALERT)

    async def registration_decided(
        self, user_id: int, enterprise: Enterprise, accepted: bool, reason: str
    ) -> None:
        await self._send(
            [user_id],
            render("registration_decided", enterprise=enterprise, accepted=accepted, reason=reason),
        )

    async def broadcast(self, broadcast_id: int, chat_ids: Sequence[int], text: str) -> None:
        text = render("broadcast_message", text=text)
        await self.outbox.put(
            [
                Outgoing(f"broadcast:{broadcast_id}:{chat}", chat, text, BULK, None, broadcast_id)
                for chat in chat_ids
            ]
        )

    async def scores(self, news: Sequence[ScoreNews], summaries: Sequence[BureauSummary]) -> None:
        campaign = self.catalog.campaign
        messages = [
            Outgoing(
                f"{n.key}:{chat}",
                chat,
                render("score_result", enterprise=n.enterprise, score=n.score, campaign=campaign),
                NEWS,
            )
            for n in news
            for chat in n.chat_ids
        ]
        for s in summaries:
            text, markup = score_summary(self.catalog, s.level, s.code, s.ranked)
            data = markup.model_dump(exclude_none=True)
            messages += [Outgoing(f"{s.key}:{chat}", chat, text, NEWS, data) for chat in s.chat_ids]
        if messages:
            await self.outbox.put(messages)

    async def deadline_extended(self, news: Sequence[ExtensionNews]) -> None:
        messages = [
            Outgoing(
                f"{n.key}:{chat}",
                chat,
                render(
                    "extended",
                    enterprise=n.enterprise,
                    place=n.place,
                    until=n.until,
                    returned=n.returned,
                ),
                NEWS,
            )
            for n in news
            for chat in n.chat_ids
        ]
        if messages:
            await self.outbox.put(messages)
