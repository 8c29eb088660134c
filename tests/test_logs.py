"""Logs keep secrets out and personal data masked, tracebacks included."""

from __future__ import annotations

import io
import logging

from bot.logs import Redact, database_password

TOKEN = "123456789:AAE" + "x" * 32
PASSWORD = "pa55-w0rd-of-the-db"


def test_secrets_and_personal_data_are_masked_in_messages_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    url = f"postgresql+asyncpg://cxjf:{PASSWORD}@db/cxjf"
    handler.addFilter(Redact([TOKEN, database_password(url), "webhook-secret-123456"]))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("GET https://api.telegram.org/bot%s/getMe failed", TOKEN)
        log.warning("connect %s; secret webhook-secret-123456", url)
        log.warning(
            "contact 13812345678 <zhangwei@example.com> bound; other token 987654:%s", "B" * 35
        )
        try:
            raise RuntimeError(f"INSERT … params ('13912345678', '{TOKEN}')")
        except RuntimeError:
            log.exception("update 7 failed")
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    for secret in (TOKEN, PASSWORD, "webhook-secret-123456", "B" * 35):
        assert secret not in text
    assert "13812345678" not in text and "138****5678" in text and "139****5678" in text
    assert "zhangwei@" not in text and "z***@example.com" in text
    assert "RuntimeError" in text and "update 7 failed" in text  # still useful to read
    assert database_password("sqlite+aiosqlite:///data/cxjf.db") is None
