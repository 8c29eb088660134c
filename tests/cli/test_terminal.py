"""`python main.py chat --demo`, as a newcomer uses it: the contact binds and fills in the form,
the terminal becomes the county official, who sees the card and starts returning the form, and
the contact sees the return; each sees only their own chats; Ctrl-C and q end it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import date
from io import StringIO
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.middlewares import Buckets
from bot.offline import BOT_USER
from cli import cast, terminal
from domain import clock
from domain.catalog import Catalog, Kind
from main import app
from storage.fsm import SqlStorage
from tests.chat.conftest import migrated, sessions  # noqa: F401
from tests.chat.helpers import typed
from tests.conftest import CLEAN
from tests.factories import as_row

ROOT = Path(__file__).resolve().parents[2]
CONTACT, COUNTY = 10_000, 20001


class Newcomer:
    """Someone at the terminal: lines typed one by one, and buttons pressed by the number the
    screen shows next to their label."""

    def __init__(self, engine: AsyncEngine, catalog: Catalog) -> None:
        self.out = StringIO()
        self.console = Console(file=self.out, width=100, color_system=None)
        self.engine, self.catalog = engine, catalog
        self.lines = self.script()
        self.pace, self.who = Buckets(), CONTACT

    async def read(self) -> str | None:
        line = await anext(self.lines, None)
        if line is not None:
            # No faster than the bot's flood limit lets one person type.
            while not (await self.pace.take(self.who, time.time()))[0]:
                await asyncio.sleep(0.1)
            self.console.print(line, markup=False)  # as the terminal echoes it
        return line

    def press(self, label: str, first_since: str = "") -> str:
        """The newest button whose label holds `label` (or the first since `first_since`)."""
        text = self.out.getvalue()
        text = text[text.rindex(first_since) :] if first_since else text
        found = [n for n, shown in re.findall(r"#(\d+) ([^#\n]*)", text) if label in shown]
        assert found, f"no button “{label}” on screen"
        return f"#{found[0] if first_since else found[-1]}"

    async def until(self, text: str) -> None:
        """Until the screen shows `text` (sent in the background by the delivery queue)."""
        for _ in range(400):
            if text in self.out.getvalue():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"“{text}” never appeared")

    async def at(self) -> dict[str, object]:
        key = StorageKey(bot_id=BOT_USER.id, chat_id=CONTACT, user_id=CONTACT)
        data = await SqlStorage(self.engine).get_data(key)  # a new one: it caches what it read
        return dict(data.get("at") or {})

    async def fill(self) -> AsyncIterator[str]:
        """Through the form to the summary: check what was pre-loaded, answer the rest."""
        for _ in range(100):
            at = await self.at()
            if at.get("kind") == "summary":
                return
            if at.get("kind") == "preloaded":
                yield self.press("全部正确")
                continue
            name = str(at["field"])
            field, value = self.catalog.by_name[name], CLEAN.get(name)
            if value is None:
                yield self.press("跳过")
            elif field.kind is Kind.CHOICE:
                yield self.press(str(value))
            elif field.kind is Kind.YES_NO:
                yield self.press("是" if value else "否")
            elif field.kind is Kind.MULTI:
                for option in value:  # type: ignore[attr-defined]
                    yield self.press(option)
                yield self.press("完成")
            else:
                yield typed(self.catalog, name, value)
        raise AssertionError("the form did not reach the summary")

    async def script(self) -> AsyncIterator[str]:
        yield "#0"  # share the phone number: bound
        async for line in self.fill():
            yield line
        yield self.press("签署承诺书并提交")
        yield self.press("内容无误")
        yield self.press("我已阅读并同意")
        await self.until("已提交")
        yield ":as 区县"
        self.who = COUNTY
        await self.until("新提交")
        yield self.press("退回", first_since="现在你是区县审核员")  # the group's card
        yield self.press("创新投入")
        yield self.press("2025年度研发费用")
        yield self.press("选好了")
        yield "与审计报告不符，请按审计报告填写"
        yield self.press("确认退回")
        yield ":as 企业"
        self.who = CONTACT
        await self.until("开始修改")
        yield self.press("开始修改")
        yield "q"


async def test_a_newcomer_plays_the_contact_then_the_county_official(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    catalog: Catalog,
    tmp_path: Path,
) -> None:
    demo = tmp_path / "demo.json"
    preloaded = {
        k: v for k, v in CLEAN.items() if catalog.by_name[k].prefill or k == "contact_mobile"
    }
    demo.write_text(json.dumps([as_row(preloaded, catalog)], ensure_ascii=False), "utf-8")
    clock.pin(date(2026, 12, 24), catalog.campaign.zone)  # the demo works on any date
    assert cast.demo_day(catalog) == date(2026, 6, 13)  # … inside the collection window
    people = await cast.demo_cast(sessions, catalog, CONTACT, demo)
    newcomer = Newcomer(sessions.kw["bind"], catalog)

    await asyncio.wait_for(
        terminal.chat(sessions, catalog, newcomer.console, people, read=newcomer.read), 60
    )

    out = newcomer.out.getvalue()
    contact, rest = out.split("企业联系人> :as 区县")
    county, contact_again = rest.split("区县审核员（审核群）> :as 企业")
    assert "✅ 已绑定：大连海创智能装备有限公司" in contact and "✅ 已提交" in contact
    assert "新提交" not in contact  # the officials' card is not the contact's to see
    assert re.search(r"─ 大连市甘井子区科技局审核群 ─+\n📥 新提交 · 大连市甘井子区", county)
    assert re.search(r"─ 私聊 ─+\n📥 新提交", county)  # the county official's own copy
    assert "已记录" not in county and "已提交" not in county  # nothing of the contact's
    # The picker, edited when a section is chosen and again when a field is: reprinted in
    # place, its new buttons working on the edited message.
    assert re.search(
        r"审核群 · （已更新） ─+\n↩️ 退回 大连海创智能装备有限公司：请选择需要企业修改的项目"
        r"（可多选）\n\n创新投入\n  #1 ⬜ 2025年度研发费用",
        county,
    )
    assert "已选 1 项：2025年度研发费用\n\n创新投入\n  #1 ☑️ 2025年度研发费用" in county
    # The comment typed after pressing in the group went to the group.
    assert "区县审核员（审核群）> 与审计报告不符" in county
    assert "王科长 已退回：大连海创智能装备有限公司，共 1 条意见" in county
    assert "↩️ 大连市甘井子区科技局 退回了您的填报" in contact_again
    assert "📝 审核意见：与审计报告不符，请按审计报告填写" in contact_again
    assert "王科长 已退回" not in contact_again
    assert contact_again.rstrip().endswith(terminal.BYE)


def test_ctrl_c_ends_the_chat_at_once(tmp_path: Path) -> None:
    """Ctrl-C at the prompt, the terminal still open: the chat says goodbye and ends, not
    waiting for Enter."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        "CXJF_TODAY": "2026-12-24",
    }
    process = subprocess.Popen(
        [sys.executable, "main.py", "chat", "--demo"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,  # left open, as a terminal is
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    chunks: list[bytes] = []
    reader = threading.Thread(
        target=lambda: chunks.extend(iter(lambda: os.read(process.stdout.fileno(), 4096), b""))  # type: ignore[union-attr]
    )
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while b"> " not in b"".join(chunks):
            assert time.monotonic() < deadline and process.poll() is None, b"".join(chunks)
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        reader.join()
    out = b"".join(chunks).decode()
    assert out.rstrip().endswith(terminal.BYE) and "Traceback" not in out
    assert "演示日期：2026年6月13日（征集期内）" in out  # CXJF_TODAY is outside the window


def test_who_to_be_is_checked_before_starting() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["chat", "--as", "nobody"])
    assert result.exit_code == 2 and "--as 只能是 contact, 企业, county, 区县" in result.output
    result = runner.invoke(app, ["chat", "--as", "区县"])
    assert result.exit_code == 2 and "python main.py chat --demo --as 区县" in result.output


def test_the_hint_to_bind_is_given_only_while_the_contact_is_not_bound(tmp_path: Path) -> None:
    """A chat resumed after binding does not offer #0 to bind again (#0 is then another
    button)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}

    def chat(typed: str) -> str:
        done = subprocess.run(
            [sys.executable, "main.py", "chat", "--demo"],
            cwd=ROOT,
            env=env,
            input=typed,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0 and "Traceback" not in done.stdout, done.stdout + done.stderr
        return done.stdout

    hint = "按 #0（分享手机号）即可绑定第一家"
    first = chat("#0\n")
    assert hint in first and "第 1/7 部分" in first
    again = chat("")
    assert hint not in again and "第 1/7 部分" in again
