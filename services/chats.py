"""Which chats the bot can write to, and where a group went.

A chat that blocked or removed the bot is inactive: the delivery queue skips it. Telegram says so
(a 403, or a `my_chat_member` update); the chat is active again as soon as anything comes from it
(a contact who unblocked the bot writes /start, a re-added group binds again). A group upgraded
to a supergroup gets a new id: its binding and what is queued for it move there.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, update

from storage.models import ChatState, Delivery, ReviewChat, now
from storage.repositories import Store, dialect_insert


async def blocked(store: Store, chat_id: int, reason: str) -> None:
    """Nothing more goes to the chat until it speaks again. Does not commit."""
    row = {"active": False, "reason": reason[:200], "updated_at": now()}
    statement = dialect_insert(store.session.bind.dialect.name, ChatState.__table__)  # type: ignore[union-attr]
    await store.session.execute(
        statement.values(chat_id=chat_id, **row).on_conflict_do_update(
            index_elements=["chat_id"], set_=row
        )
    )


async def back(store: Store, chat_id: int) -> None:
    """The chat spoke to the bot, or took it back: messages go to it again. Does not commit."""
    await store.session.execute(
        update(ChatState)
        .where(ChatState.chat_id == chat_id, ChatState.active.is_(False))
        .values(active=True, reason="", updated_at=now())
    )


async def migrated(store: Store, old: int, new: int, resend: int | None = None) -> None:
    """The group `old` became the supergroup `new`: its binding and the messages queued for it
    move there, and `resend` (a message Telegram refused for the old id) goes again. Saying it
    twice changes nothing; a message queued for both ids goes once. Does not commit.

    A key names a message's chat last (`…:<chat id>`), so a moved message takes the new id's key:
    planning it again for the new id inserts nothing."""
    session = store.session
    if await session.scalar(select(ReviewChat.id).where(ReviewChat.chat_id == new)) is None:
        moved = await session.execute(
            update(ReviewChat).where(ReviewChat.chat_id == old).values(chat_id=new)
        )
    else:  # bound again in the supergroup already: that binding is the newer
        moved = await session.execute(delete(ReviewChat).where(ReviewChat.chat_id == old))
    if moved.rowcount:  # type: ignore[attr-defined]
        await store.audit.record("group.migrated", None, chat_id=old, to=new)
    movable = and_(
        Delivery.chat_id == old, or_(Delivery.status == "pending", Delivery.id == resend)
    )
    rows = (await session.execute(select(Delivery.id, Delivery.key).where(movable))).all()
    keys = {row: key.removesuffix(f":{old}") + f":{new}" for row, key in rows}
    taken = set(await session.scalars(select(Delivery.key).where(Delivery.key.in_(keys.values()))))
    for row, key in keys.items():
        values = (
            {"status": "skipped", "reason": "duplicate"}
            if key in taken
            else {"chat_id": new, "key": key, "status": "pending", "claimed_by": None}
        )
        await session.execute(update(Delivery).where(Delivery.id == row, movable).values(**values))
