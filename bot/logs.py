"""Logging that keeps secrets out and personal data masked.

Every record's text (and its traceback) passes through `Redact` before any handler writes it:
the bot token, the webhook secret and the database password are replaced, wherever they occur
(an exception from the HTTP client can quote a URL holding the token; SQL errors quote their
parameters), mobiles keep their first three and last four digits, e-mail addresses their first
character and domain.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from sqlalchemy.engine import make_url

MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
TOKEN = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")  # any bot token, not only ours


class Redact(logging.Filter):
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = TOKEN.sub("<token>", text)
        text = MOBILE.sub(r"\1****\2", text)
        return EMAIL.sub(r"\1***@\2", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = self.redact(text), None
        return True


def database_password(url: str) -> str | None:
    return make_url(url).password


def setup(secrets: Iterable[str | None]) -> None:
    """INFO to stderr, every record redacted (the filter sits on the handler, so records from
    every library's logger pass through it)."""
    handler = logging.StreamHandler()
    handler.addFilter(Redact(secrets))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
