"""The deadline's last minutes in miniature: contacts submitting at the same moment while the
reminder tick and the delivery queue's sender run. Every submission is recorded once, every
officials' alert delivered once."""

from __future__ import annotations

import asyncio

from aiogram.methods import SendMessage
from sqlalchemy import func, select

from bot.offline import OfflineChat
from reminders.tick import Ticker
from storage.models import AuditEntry, Commitment, Submission
from tests.chat.conftest import World, official
from tests.chat.helpers import fill
from tests.chat.test_journey import PRELOADED, bound
from tests.conftest import CLEAN
from tests.factories import numbered_code

CONTACTS = 12


async def test_submitting_at_once_while_reminders_and_alerts_flow(world: World) -> None:
    await official(world, "county", "210211", 501, "王科长")
    people: list[OfflineChat] = []
    for i in range(CONTACTS):
        answers = {
            **PRELOADED,
            "credit_code": numbered_code(i, "MC"),
            "enterprise_name": f"截止企业{i}有限公司",
        }
        _, person = await bound(world, answers, user_id=3000 + i)
        await fill(world, person, {**CLEAN, **answers})
        await person.send("/start")
        await person.press("签署承诺书并提交")  # the commitment is on screen: one tap to go
        await person.press("内容无误")
        # from here on the updates go straight to the Dispatcher; the sender runs on its own
        people.append(OfflineChat(world.dispatcher, world.bot, person.user.id))
    stop = asyncio.Event()
    sending = asyncio.create_task(world.sender.run(stop, poll=0.05))
    ticker = Ticker(world.bot, world.sessions, world.catalog, world.sender.wake, world.clock)

    async def agree(person: OfflineChat) -> None:
        await person.press("我已阅读并同意")
        await person.press("我已阅读并同意")  # pressed twice in the rush

    await asyncio.gather(*(agree(p) for p in people), *(ticker.tick() for _ in range(3)))
    stop.set()
    await sending
    await world.sender.drain()  # what the per-chat limit held back (on the test's clock)
    alerts = [
        c
        for c in world.bot.session.sent_to(501)  # type: ignore[attr-defined]
        if isinstance(c, SendMessage) and "新提交" in c.text
    ]
    async with world.sessions() as session:
        submitted = await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.status == "submitted")
        )
        recorded = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "submission.submitted")
        )
        signed = await session.scalar(select(func.count()).select_from(Commitment))
    assert submitted == recorded == signed == CONTACTS
    names = sorted(c.text.split("<b>")[2].split("</b>")[0] for c in alerts)
    assert names == sorted(f"截止企业{i}有限公司" for i in range(CONTACTS))  # each once
