"""A local stand-in for the Telegram Bot API that holds a sender to Telegram's limits.

    python -m bench.fake_api --port 8081 --per-second 30 [--latency 0.1]

sendMessage is refused with 429 (retry_after 1) when a private chat gets a second message within
a second, or when more than `per-second` messages were accepted in the last second; it also fails
on purpose: a 429 at each of `--pauses`, a 502 for every `--flaky`-th call. Every message
accepted is counted per chat and per (chat, text), so duplicates and misses show. GET /stats
returns the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from contextlib import closing
from typing import Any

from aiohttp import web


class FakeBotApi:
    def __init__(self, per_second: float, pauses: set[int], flaky: int, latency: float) -> None:
        self.per_second = per_second
        self.latency = latency  # seconds before each answer, as over a real network
        self.pauses = pauses  # call numbers answered with an injected 429
        self.flaky = flaky  # every n-th call fails with 502 (0: never)
        self.calls = 0
        self.window: deque[float] = deque()  # when the messages of the last second were accepted
        self.last_to: dict[int, float] = {}  # private chat → when it last got a message
        self.per_chat: Counter[int] = Counter()
        self.texts: Counter[tuple[int, str]] = Counter()  # (chat, text) → times accepted
        self.refused = Counter[str]()
        self.first = self.last = 0.0
        self.edits = 0

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/bot{token}/{method}", self.method)
        application.router.add_get("/stats", self.stats)
        return application

    async def method(self, request: web.Request) -> web.Response:
        name = request.match_info["method"].lower()
        form = await request.post()
        await asyncio.sleep(self.latency)
        chat = int(str(form.get("chat_id", "0")))
        if name == "editmessagetext":
            self.edits += 1
            return _ok(_message(int(str(form.get("message_id", "1"))), chat, form))
        if name == "getme":
            return _ok({"id": 42, "is_bot": True, "first_name": "创新积分", "username": "cxjf_bot"})
        if name != "sendmessage":
            return _ok(True)
        self.calls += 1
        at = time.monotonic()
        if self.calls in self.pauses:
            return self._refuse("injected_429", 429, retry_after=1)
        if self.flaky and self.calls % self.flaky == 0:
            return self._refuse("injected_5xx", 502)
        while self.window and self.window[0] <= at - 1:
            self.window.popleft()
        if len(self.window) >= self.per_second:
            return self._refuse("over_rate", 429, retry_after=1)
        if chat > 0 and at - self.last_to.get(chat, -10.0) < 1:
            return self._refuse("same_chat_within_1s", 429, retry_after=1)
        self.window.append(at)
        self.last_to[chat] = at
        self.per_chat[chat] += 1
        self.texts[chat, str(form.get("text", ""))] += 1
        self.first = self.first or at
        self.last = at
        return _ok(_message(self.calls, chat, form))

    def _refuse(self, why: str, status: int, retry_after: int | None = None) -> web.Response:
        self.refused[why] += 1
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if retry_after is not None:
            body["description"] = f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        else:
            body["description"] = "Bad Gateway"
        return web.json_response(body, status=status)

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "delivered": sum(self.per_chat.values()),
                "chats": len(self.per_chat),
                "duplicates": sum(n - 1 for n in self.per_chat.values() if n > 1),
                "same_text_twice": sum(n - 1 for n in self.texts.values() if n > 1),
                "per_chat": {str(chat): n for chat, n in self.per_chat.items()},
                "seconds": self.last - self.first,
                "refused": dict(self.refused),
                "edits": self.edits,
                "chat_ids": sorted(self.per_chat),
            }
        )


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _message(message_id: int, chat: int, form: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
        "text": str(form.get("text", "")),
    }


def free_port() -> int:
    """A local TCP port nothing listens on now."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch(*options: str) -> tuple[subprocess.Popen[bytes], str]:
    """This stand-in in another process on a free port: (the process, its base URL)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_api", "--port", str(port), *options]
    )
    for _ in range(100):
        try:
            with closing(socket.create_connection(("127.0.0.1", port), timeout=0.1)):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the fake Bot API did not start")


def serve(port: int, per_second: float, pauses: set[int], flaky: int, latency: float) -> None:
    web.run_app(
        FakeBotApi(per_second, pauses, flaky, latency).app(),
        host="127.0.0.1",
        port=port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--per-second", type=float, default=30)
    parser.add_argument("--pauses", type=int, nargs="*", default=[])
    parser.add_argument("--flaky", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    options = parser.parse_args()
    serve(options.port, options.per_second, set(options.pauses), options.flaky, options.latency)
