"""What services tell the outside world. The bot delivers it through Telegram; tests record it."""

from __future__ import annotations

import logging
from typing import Protocol

from storage.models import Contact, Enterprise, Submission

log = logging.getLogger(__name__)


class Notifier(Protocol):
    async def form_submitted(self, enterprise: Enterprise, submission: Submission) -> None: ...

    async def binding_requested(self, enterprise: Enterprise, contact: Contact) -> None: ...


class LogNotifier:
    """Until officials are reachable in chat (the review issue), events go to the log."""

    async def form_submitted(self, enterprise: Enterprise, submission: Submission) -> None:
        log.info("submitted: enterprise %s, submission %s", enterprise.id, submission.id)

    async def binding_requested(self, enterprise: Enterprise, contact: Contact) -> None:
        log.info("binding requested: enterprise %s by contact %s", enterprise.id, contact.id)
