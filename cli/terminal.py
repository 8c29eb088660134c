"""`python main.py chat`: the bot's Dispatcher in the terminal, on the offline Bot API.

Messages are typed; buttons are pressed by number (`#2`). With `--demo`, the demo enterprises
are loaded and the terminal can be any of the people around the first of them (`cli.cast`):
`:as 区县` switches inside one run, so what the delivery queue sends to the others (review
cards, return notices) waits for them and is shown when the terminal becomes them. Separate
runs (`--as county`) resume too, since every conversation is in the database, but what was sent
to someone while another run played someone else is not shown again (`/queue` finds the forms).
"""

from __future__ import annotations

import asyncio
import codecs
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram import Bot, Dispatcher
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import app
from bot.offline import OfflineChat, offline_bot
from cli.cast import Role, find
from cli.screen import Screen, plain
from domain.catalog import Catalog

Read = Callable[[], Awaitable[str | None]]  # the next line typed; None at the end
QUIT = ("q", "quit", "exit", "/quit")
HELP = (
    ("直接输入文字", "作为消息发给机器人（/start、/help 等命令也一样）"),
    ("#编号", "按对应的按钮（#0 分享手机号）"),
    (":as 角色", "换一个人{roles}"),
    (":群  :私聊", "审核人员把输入切到本局审核群或私聊"),
    (":file 路径 [说明]", "发送文件（如管理员导入企业名单：:file 名单.xlsx /import）"),
    ("q 或 Ctrl-C", "退出（内容都已保存，下次继续）"),
)
BYE = "已退出。所有内容都已保存，下次运行从这里继续。"
_QUEUE = "发 /queue 看待审核的表单，/help 看全部命令。{}后，审核卡片会发到这里。"
HINTS = {
    "county": _QUEUE.format("企业提交"),
    "city": _QUEUE.format("区县通过"),
    "province": _QUEUE.format("市级通过"),
    "admin": "发 /help 看管理员的命令：/status、/export、/import、/invite、/broadcast 等。",
    "coordinator": "发 /broadcast 给企业群发通知。",
}


class Keyboard:
    """Lines typed at the terminal, read on the event loop, not in a thread: a thread blocked
    in input() kept Ctrl-C waiting for Enter. Ctrl-C reads as the end."""

    def __init__(self) -> None:
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.partial = ""
        self.interrupted = False
        self.loop = asyncio.get_running_loop()
        self.fd = sys.stdin.fileno()
        self.watching = False

    def __enter__(self) -> Keyboard:
        self.loop.add_signal_handler(signal.SIGINT, self._interrupt)
        try:
            self.loop.add_reader(self.fd, self._readable)
            self.watching = True
        except PermissionError:  # a regular file: it cannot be watched, and never blocks
            for line in sys.stdin:
                self.lines.put_nowait(line.rstrip("\n"))
            self.lines.put_nowait(None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.watching:
            self.loop.remove_reader(self.fd)
        self.loop.remove_signal_handler(signal.SIGINT)

    def _interrupt(self) -> None:
        self.interrupted = True
        self.lines.put_nowait(None)

    def _readable(self) -> None:
        data = os.read(self.fd, 4096)
        self.partial += self.decoder.decode(data, final=not data)
        *lines, self.partial = self.partial.split("\n")
        for line in lines:
            self.lines.put_nowait(line)
        if not data:
            self.loop.remove_reader(self.fd)
            self.watching = False
            if self.partial:
                self.lines.put_nowait(self.partial)
            self.lines.put_nowait(None)

    async def read(self) -> str | None:
        line = None if self.interrupted else await self.lines.get()
        if line is not None and not self.interrupted and not sys.stdin.isatty():
            print(line)  # what a terminal would have echoed, so the transcript reads as one
        return None if self.interrupted else line


class Player:
    """One person's chats with the bot: their private chat, and an official's bureau group."""

    def __init__(self, role: Role, dispatcher: Dispatcher, bot: Bot) -> None:
        self.role = role
        self.chats = {
            chat: OfflineChat(
                dispatcher, bot, role.user_id, role.name, group=chat if chat < 0 else None
            )
            for chat in role.chats
        }


async def chat(
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    console: Console,
    cast: dict[str, Role],
    start: str = "contact",
    read: Read | None = None,
) -> None:
    """Until q, Ctrl-C or the end of the input; the delivery queue's sender and the reminders
    run meanwhile, and stop before this returns."""
    screen = Screen(console)
    bot = offline_bot(screen.on_call)
    screen.shown = bot.session.shown  # type: ignore[attr-defined]
    running = app.assemble(bot, sessions, catalog)
    players = {key: Player(role, running.dispatcher, bot) for key, role in cast.items()}
    stop = asyncio.Event()
    background = asyncio.create_task(running.background(stop))
    try:
        if read is None:
            with Keyboard() as keyboard:
                await _talk(screen, players, players[start], keyboard.read)
        else:
            await _talk(screen, players, players[start], read)
    finally:
        stop.set()
        await background
        console.print()
        console.print(BYE)


async def _talk(screen: Screen, players: dict[str, Player], player: Player, read: Read) -> None:
    console = screen.console
    roles = "：" + "、".join(p.role.alias for p in players.values()) if len(players) > 1 else ""
    console.print(
        "输入文字即发送；[bold]#编号[/bold] 按按钮；"
        + ("[bold]:as 角色[/bold] 换一个人（如 :as 区县）；" if roles else "")
        + ":help 看全部；q 退出。"
    )
    _become(screen, player)
    if player.role.key == "contact":
        await player.chats[player.role.user_id].send("/start")
    while True:
        screen.prompting = True
        console.print(screen.prompt(), end="", markup=False, highlight=False)
        console.file.flush()
        line = await read()
        screen.prompting = False
        if line is None or line.strip().lower() in QUIT:
            return
        line = line.strip()
        if not line:
            continue
        if line[0] in ":：":
            player = await _command(screen, players, player, line[1:].strip(), roles)
        elif line[0] in "#＃" and line[1:].strip().isdigit():
            screen.acted()
            await _press(screen, player, int(line[1:]))
        else:
            screen.acted()
            await player.chats[screen.typing_to].send(line)


def _become(screen: Screen, player: Player) -> None:
    console, role = screen.console, player.role
    where = f" · {role.where}" if role.where else ""
    console.rule(f"[bold]现在你是{role.title} {plain(role.name)}{plain(where)}[/bold]")
    if role.group:
        console.print(
            f"[dim]私聊和「{plain(role.group_title)}」的消息都会显示；"
            ":群 / :私聊 切换输入到哪里。[/dim]"
        )
    if not screen.become(role) and role.key != "contact":
        console.print(f"[dim]{HINTS[role.key]}[/dim]")


async def _command(
    screen: Screen, players: dict[str, Player], player: Player, command: str, roles: str
) -> Player:
    """A line starting with a colon: the terminal's own commands, never sent to the bot."""
    console = screen.console
    word, rest = (*command.split(maxsplit=1), "", "")[:2]  # full-width spaces too
    role = player.role
    if word == "as":
        chosen = find({k: p.role for k, p in players.items()}, rest) if rest else None
        if chosen is None:
            _list(console, players, player, rest)
        elif chosen.key == role.key:
            console.print(f"你现在就是{role.title}。")
        else:
            player = players[chosen.key]
            _become(screen, player)
    elif word in ("群", "group", "私聊", "private"):
        chat = role.group if word in ("群", "group") else role.user_id
        if chat is None:
            console.print("[yellow]只有审核人员有本局的审核群。[/yellow]")
        else:
            screen.typing_to = chat
    elif word == "file":
        await _upload(screen, player, rest)
    else:
        table = Table.grid(padding=(0, 2))
        for keys, meaning in HELP:
            table.add_row("  " + keys, meaning.format(roles=roles or "（只在演示模式里）"))
        console.print("终端里的操作：", table)
    return player


def _list(console: Console, players: dict[str, Player], player: Player, asked: str) -> None:
    if len(players) == 1:
        console.print(
            "[yellow]只有演示模式有其他角色：python main.py chat --demo（即 make run）。[/yellow]"
        )
        return
    if asked:
        console.print(f"[yellow]没有“{plain(asked)}”这个角色。[/yellow]")
    console.print("可以扮演（:as 名称）：")
    table = Table.grid(padding=(0, 2))
    for other in players.values():
        role = other.role
        chats = "私聊 + 本局审核群" if role.group else ""
        table.add_row(
            f"  [bold]{role.alias}[/bold]",
            f"{role.title} {plain(role.name)}",
            plain(role.where),
            chats,
            "← 现在" if other is player else "",
        )
    console.print(table)


async def _upload(screen: Screen, player: Player, rest: str) -> None:
    name, _, caption = rest.partition(" ")
    path = Path(name).expanduser()
    if not name or not path.is_file():
        screen.console.print("[yellow]用法：:file 路径 [说明]，路径要指向一个文件。[/yellow]")
        return
    screen.acted()
    await player.chats[screen.typing_to].send_document(
        path.name, path.read_bytes(), caption or None
    )


async def _press(screen: Screen, player: Player, number: int) -> None:
    role = player.role
    if number == 0 and role.user_id in screen.phone:
        screen.phone.discard(role.user_id)
        screen.typing_to = role.user_id
        await player.chats[role.user_id].share_contact(role.phone)
        return
    button = screen.buttons.get(number)
    if button is None or button.chat_id not in player.chats:
        screen.console.print("[yellow]没有这个编号的按钮。[/yellow]")
        return
    screen.typing_to = button.chat_id
    await player.chats[button.chat_id].press_data(button.message_id, button.data)
