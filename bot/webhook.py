"""Webhook mode: aiogram's aiohttp request handler with Telegram's secret token checked, so any
number of instances can sit behind a load balancer (polling stays the one-instance default).

Updates are handled before the HTTP answer: an instance that dies mid-update has not said 200,
so Telegram delivers the update again (to any instance) rather than losing it.
"""

from __future__ import annotations

import re

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # Telegram allows 1–256 of these; we ask ≥ 16


class WebhookError(ValueError):
    """The webhook settings cannot work; the message says which and how to fix it."""


def check(url: str | None, secret: str | None) -> tuple[str, str]:
    if not url or not url.startswith("https://"):
        raise WebhookError("WEBHOOK_URL 未设置或不是 https:// 地址（Telegram 只向 HTTPS 推送）。")
    if not secret or not SECRET.fullmatch(secret):
        raise WebhookError(
            "WEBHOOK_SECRET 未设置或格式不对：16–256 个字母、数字、_ 或 -，每个实例相同。"
        )
    return url.rstrip("/"), secret


def web_app(dispatcher: Dispatcher, bot: Bot, path: str, secret: str) -> web.Application:
    """POST `path`: an update (401 without the secret); GET /healthz: for the load balancer."""
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret).register(
        app, path=path
    )
    app.router.add_get("/healthz", _healthy)
    setup_application(app, dispatcher, bot=bot)
    return app


async def _healthy(_: web.Request) -> web.Response:
    return web.Response(text="ok")
