"""Who is an admin: the ids of ADMIN_IDS, and those other admins invited.

Asked on every update, so the invited ones are read from the database at most once a minute (and
at once after an invitation is used in this process); another instance learns of a new admin
within that minute.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from storage.models import Admin
from storage.repositories import Store


class Admins:
    def __init__(self, configured: frozenset[int] = frozenset(), ttl: float = 60.0) -> None:
        self.configured = configured
        self.ttl = ttl
        self._invited: frozenset[int] = frozenset()
        self._read_at = float("-inf")

    async def has(self, store: Store, user_id: int) -> bool:
        if user_id in self.configured:
            return True
        if time.monotonic() - self._read_at > self.ttl:
            rows = await store.session.scalars(select(Admin.telegram_user_id))
            self._invited = frozenset(rows.all())
            self._read_at = time.monotonic()
        return user_id in self._invited

    def forget(self) -> None:
        """Someone became an admin: read the list again at the next question."""
        self._read_at = float("-inf")
