"""Two people at one form at the same moment: a signed form never changes; a decision on a form
that moved on meanwhile is refused; an import never writes into a form being submitted.

The interleavings are forced: one update is held at the point where it has read the form and
is about to write, while the other runs to its end. On PostgreSQL updates run side by side, as
on several instances; SQLite runs one update at a time (`bot.middlewares.Services`), so there
the interleaving cannot happen and these tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from bot.offline import OfflineChat, texts
from services import form, imports, review
from services.record_files import Record
from storage.models import Answer, Commitment, Submission
from storage.repositories import Store
from tests.chat.conftest import World
from tests.chat.helpers import fill, sign
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import bureaus, status, submitted_form
from tests.conftest import CLEAN

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="SQLite runs one update at a time: there is no interleaving to force",
)


class Gate:
    """Holds one update at a chosen call until released, and says when it got there."""

    def __init__(self) -> None:
        self.arrived, self.released = asyncio.Event(), asyncio.Event()

    def before(
        self, original: Callable[..., Awaitable[Any]], when: Callable[..., bool]
    ) -> Callable[..., Awaitable[Any]]:
        """`original`, its picked calls held before they run."""

        async def held(*args: Any) -> Any:
            if when(*args):
                await self._wait()
            return await original(*args)

        return held

    def after(
        self, original: Callable[..., Awaitable[Any]], when: Callable[..., bool]
    ) -> Callable[..., Awaitable[Any]]:
        """`original`, its picked calls held once they have run (what they read is then old)."""

        async def held(*args: Any) -> Any:
            found = await original(*args)
            if when(*args):
                await self._wait()
            return found

        return held

    async def _wait(self) -> None:
        self.arrived.set()
        await asyncio.wait_for(self.released.wait(), 5)

    async def meanwhile(self, steps: Awaitable[Any]) -> Any:
        """Once the held update got there, run `steps`; then let it go on."""
        try:
            await asyncio.wait_for(self.arrived.wait(), 5)
            return await steps
        finally:
            self.released.set()


async def second_contact(world: World, enterprise: Any) -> OfflineChat:
    other = world.person(1002, "李娜")
    await other.send(f"/start {await world.invitation(enterprise)}")
    return other


async def signed_answers(world: World) -> tuple[dict[str, Any], Commitment]:
    async with world.sessions() as session:
        answers = await Store(session).submissions.answers(1)
        commitment = (await session.scalars(select(Commitment))).one()
    return answers, commitment


async def test_an_answer_sent_while_another_contact_signs_is_not_saved(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    enterprise, writer = await bound(world)
    await fill(world, writer, CLEAN)
    signer = await second_contact(world, enterprise)
    await signer.send("/start")
    await signer.press("签署承诺书并提交")
    await signer.press("内容无误")
    await writer.press("菜单")
    await writer.press("企业产品与技术")
    await writer.press("企业技术需求")  # the writer is typing into the form …

    gate = Gate()
    writing = gate.before(form.put, lambda store, draft, name, *rest: name == "tech_needs")
    monkeypatch.setattr(form, "put", writing)
    # … and sends the answer as the other contact presses 我已阅读并同意
    typed, _ = await asyncio.gather(
        writer.send("需要高精度在线检测设备"), gate.meanwhile(signer.press("我已阅读并同意"))
    )
    typed = texts(typed)
    assert await status(world) == "submitted"
    assert "表单已由 李娜" in typed[0] and "提交，本次修改没有保存" in typed[0]
    answers, commitment = await signed_answers(world)
    assert answers["tech_needs"].value is None  # skipped, as signed
    assert commitment.data_sha256 == form.data_hash(enterprise.credit_code, answers)


async def test_a_signature_after_the_form_changed_is_refused(world: World) -> None:
    """The other way round: the answer is stored first; the signature then covers figures the
    signer never saw, so it is refused and the summary shown again."""
    enterprise, writer = await bound(world)
    await fill(world, writer, CLEAN)
    signer = await second_contact(world, enterprise)
    await signer.send("/start")
    await signer.press("签署承诺书并提交")  # the signer reads the commitment …
    await signer.press("内容无误")
    await writer.press("菜单")
    await writer.press("企业产品与技术")
    await writer.press("企业技术需求")
    await writer.send("需要高精度在线检测设备")  # … while the writer changes an answer
    said = texts(await signer.press("我已阅读并同意"))
    assert "没有提交：您阅读承诺书时，张伟 修改了表单" in said[0]
    assert "提交前请核对" in said[-1]
    assert await status(world) == "draft"
    said = texts(await signer.press("签署承诺书并提交"))
    said = texts(await signer.press("内容无误"))
    said = texts(await signer.press("我已阅读并同意"))
    assert "已提交" in said[-1]
    answers, commitment = await signed_answers(world)
    assert answers["tech_needs"].value == "需要高精度在线检测设备"
    assert commitment.data_sha256 == form.data_hash(enterprise.credit_code, answers)


async def test_a_return_confirmed_after_the_form_was_returned_and_resubmitted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    county, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    # two officials of the county each write a return on the card they got
    for official_chat, comment in ((county, "请补充说明"), (group, "请核对")):
        await official_chat.press("退回")
        await official_chat.press("整张表")
        await official_chat.press("选好了")
        await official_chat.send(comment)
    loads = count(1)
    gate = Gate()
    # the first one's 确认退回 has read the form (its second look, in review.return_form) …
    monkeypatch.setattr(review, "_load", gate.after(review._load, lambda *_: next(loads) == 2))

    async def returned_and_resubmitted() -> None:
        # … when the second one's return goes through and the enterprise resubmits
        await group.press("确认退回")
        await person.press("开始修改")
        await sign(person)

    confirmed, _ = await asyncio.gather(
        county.press("确认退回"), gate.meanwhile(returned_and_resubmitted())
    )
    assert await status(world) == "submitted"  # the resubmission stands
    assert "这份表单已经处理，退回未生效" in texts(confirmed)[-1]
    async with world.sessions() as session:
        submission = (await session.scalars(select(Submission))).one()
    assert submission.round == 3  # submitted, returned, resubmitted: nothing after


async def test_an_import_never_writes_into_a_form_being_submitted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    preloaded = {k: v for k, v in PRELOADED.items() if k != "rd_super_deduction"}
    _, person = await bound(world, preloaded)
    await fill(world, person, {**CLEAN, "rd_super_deduction": None})
    async with world.sessions() as session:  # an optional question the contact never opened
        await session.execute(delete(Answer).where(Answer.field == "rd_super_deduction"))
        await session.execute(update(Submission).values(version=Submission.version + 1))
        await session.commit()
    await person.send("/start")
    await person.press("签署承诺书并提交")
    await person.press("内容无误")
    # the import has found the form open and is about to give it the new pre-loaded value …
    gate = Gate()
    monkeypatch.setattr(imports, "_open_drafts", gate.after(imports._open_drafts, lambda *_: True))
    prefill = {f.name for f in world.catalog.fields if f.prefill}
    values = {k: v for k, v in preloaded.items() if k in prefill}
    record = Record(2, {**values, "rd_super_deduction": Decimal("52.5")})

    async def run_import() -> None:
        async with world.sessions() as session:
            await imports.import_records(Store(session), world.catalog, [record], None)
            await session.commit()

    async def agree() -> list[str]:
        # … when the contact presses 同意 (waiting a moment for the import's lock, if it holds one)
        task = asyncio.ensure_future(person.press("我已阅读并同意"))
        await asyncio.sleep(0.5)
        gate.released.set()
        return texts(await task)

    _, said = await asyncio.gather(run_import(), gate.meanwhile(agree()))
    async with world.sessions() as session:
        submission = (await session.scalars(select(Submission))).one()
        added = (
            await session.scalars(select(Answer).where(Answer.field == "rd_super_deduction"))
        ).one()
    # never a value in a submitted form that nobody checked: the contact is asked to check it
    assert submission.status == "draft" and not added.confirmed
    assert "没有提交" in said[0] and "提交前请核对" in said[-1]
