"""How the Dispatcher is put together, where a mistake would cost every update."""

from __future__ import annotations

from collections.abc import Iterator

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from tests.chat.conftest import World


def _callables(router: Router) -> Iterator[tuple[str, CallableObject]]:
    for name, observer in router.observers.items():
        for handler in observer.handlers:
            yield f"{router.name}.{name} handler {handler.callback!r}", handler
            for check in handler.filters or ():
                yield f"{router.name}.{name} filter {check.callback!r}", check
        for check in observer._handler.filters or ():
            yield f"{router.name}.{name} router filter {check.callback!r}", check
    for child in router.sub_routers:
        yield from _callables(child)


async def test_every_handler_and_filter_is_awaited_in_place(world: World) -> None:
    """aiogram runs a plain callable (F.text, a State, a def) in a worker thread on each update."""
    checked = list(_callables(world.dispatcher))
    assert len(checked) > 50
    assert [name for name, c in checked if not c.awaitable] == []
