"""The tables. Changes to them go through an Alembic migration in `storage/migrations`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.clock import now as now  # the product's clock, where its callers find it


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, the text SQLAlchemy's DATETIME writes (`YYYY-MM-DD HH:MM:SS.ffffff`, the
        fields as they are, the zone left out) in one step: its processor, under this one,
        fills a format from a dictionary of seven attributes, and an answer binds four."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            value = self.process_bind_param(value, dialect)
            if value is None:
                return None
            return value.isoformat(" ", "microseconds")[:26]  # without its "+00:00"

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Enterprise(Base):
    """An enterprise, with the values the provincial platform pre-loads for it."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, pending, rejected
    contact_mobile: Mapped[str | None] = mapped_column(String(11), index=True)
    preloaded: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field name → stored value
    created_at: Mapped[datetime] = mapped_column(default=now)


class Contact(Base):
    """A Telegram user who fills in an enterprise's form."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, pending
    bound_via: Mapped[str] = mapped_column(String(16))  # invitation, phone, request
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)


class Submission(Base):
    """One enterprise's form in one campaign."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("enterprise_id", "campaign"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    campaign: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Kept at submission for the estimates of the others: development stage and the nine
    # indicator values (domain.scoring.raw_values).
    stage: Mapped[str | None] = mapped_column(String(8))
    indicators: Mapped[list[float | None] | None] = mapped_column(JSON)
    # The review: when the status last changed, which level returned it and which fields it
    # reopened, a round number that makes every older card's buttons stale, the figures for
    # copy-paste detection and what they resembled.
    status_at: Mapped[datetime | None]
    returned_level: Mapped[str | None] = mapped_column(String(16))
    reopened: Mapped[list[str] | None] = mapped_column(JSON)
    round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Raised by every change to its answers or confirmations (`Submissions.hold`, an import's
    # refreshed pre-loaded values): a process keeps a draft it read while this is unchanged.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    similar: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # What the workbench sorts and filters by: the weak rules the form fires (None: not yet
    # reckoned), the copies flagged, and on a resubmission to the level that returned it the
    # fields changed (None: it came by approval, or first submission); the day the
    # enterprise was last reminded to resubmit (催办, once a day).
    warnings: Mapped[int | None]
    copies: Mapped[int | None]
    changed: Mapped[int | None]
    nudged_on: Mapped[date | None]


class Answer(Base):
    """The current answer to one field; the history is in the audit log."""

    __tablename__ = "answers"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # null: skipped
    source: Mapped[str] = mapped_column(String(16))  # preloaded, typed, corrected, skipped
    confirmed: Mapped[bool] = mapped_column(default=True)  # a pre-loaded value the contact checked
    answered_at: Mapped[datetime] = mapped_column(default=now)
    answered_by: Mapped[int | None] = mapped_column(BigInteger)


class Confirmation(Base):
    """A weak rule the contact confirmed for these exact values."""

    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    fields: Mapped[str] = mapped_column(String(400))  # comma-separated field names
    snapshot: Mapped[dict[str, Any]] = mapped_column()  # those fields' stored values
    confirmed_by: Mapped[int] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime] = mapped_column(default=now)


class Commitment(Base):
    """《信息确认承诺书》 accepted: who, when, and hashes of the text and the data accepted."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    signed_at: Mapped[datetime] = mapped_column(default=now)
    text_sha256: Mapped[str] = mapped_column(String(64))
    data_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)  # as shown and accepted (HTML-escaped)
    signer: Mapped[str | None] = mapped_column(String(100))  # 承诺人, as the enterprise named them


class Invitation(Base):
    """A one-time, expiring deep-link code; only its hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # enterprise, official, group
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    level: Mapped[str | None] = mapped_column(String(16))  # official, group: county, city, province
    region_code: Mapped[str | None] = mapped_column(String(6))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=now)


class AuditEntry(Base):
    """Append-only record of every change: who, when, what (old → new)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_submission_at", "submission_id", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),  # a person's recent attempts
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now)
    actor: Mapped[int | None] = mapped_column(BigInteger)  # Telegram user id; None: system
    enterprise_id: Mapped[int | None] = mapped_column(Integer)
    submission_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Official(Base):
    """A reviewer at a county, city or province science bureau."""

    __tablename__ = "officials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    level: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)


class ReviewChat(Base):
    """A bureau's group chat, bound to its jurisdiction: review alerts go there."""

    __tablename__ = "review_chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    level: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    bound_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=now)


class ReviewCard(Base):
    """An alert about one form at one level; its id is what the buttons carry."""

    __tablename__ = "review_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="form")  # form, registration
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class ReviewNote(Base):
    """A reviewer's comment on a returned form: on one field, or on the form (field empty)."""

    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(40), default="")
    comment: Mapped[str] = mapped_column(Text)
    by: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=now)


class SimilarityKey(Base):
    """Index of submitted figures and texts by city, for copy-paste detection."""

    __tablename__ = "similarity_keys"
    __table_args__ = (Index("ix_similarity_keys_city_key", "city", "key"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    city: Mapped[str] = mapped_column(String(4))


class _RoleHolder:
    """A Telegram user given a role by an admin's invitation."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)


class Coordinator(_RoleHolder, Base):
    """Someone who may broadcast notices."""

    __tablename__ = "coordinators"


class Admin(_RoleHolder, Base):
    """An admin invited by another admin (those of ADMIN_IDS need no row)."""

    __tablename__ = "admins"


class StoredScore(Base):
    """A submitted form's estimate from the last scoring run, with its breakdown.

    `digest` fingerprints the numbers: a run that gives the same numbers changes nothing and
    tells nobody again.
    """

    __tablename__ = "scores"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    campaign: Mapped[int] = mapped_column(Integer, index=True)
    stage: Mapped[str | None] = mapped_column(String(8))
    core: Mapped[float | None]
    bonus: Mapped[float]
    total: Mapped[float | None]
    cohort_size: Mapped[int] = mapped_column(Integer)
    breakdown: Mapped[dict[str, Any]] = mapped_column()  # indicators' points, bonus parts, note
    digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=now)


class Delivery(Base):
    """One message to one chat, sent by the delivery queue exactly once.

    `key` names what it is for (a card, a reminder of a day, a broadcast's recipient), so planning
    it twice inserts nothing. pending → claimed (reserved by a sender) → sending (the API call is
    under way) → sent | failed | skipped; a failed attempt that may succeed later goes back to
    pending with `not_before` pushed out.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "priority", "not_before"),
        Index("ix_deliveries_broadcast", "broadcast_id", "status"),  # progress, and "all done?"
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    priority: Mapped[int] = mapped_column(Integer)  # 0 officials' alerts, 1 reminders, 2 broadcasts
    text: Mapped[str] = mapped_column(Text)
    markup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=now)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(40))  # why it failed or was skipped
    broadcast_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None]


class ChatState(Base):
    """A chat that blocked or removed the bot is inactive: nothing is sent to it until it speaks
    again (`services.chats`)."""

    __tablename__ = "chat_states"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    active: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=now)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    audience: Mapped[dict[str, Any]] = mapped_column()
    audience_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    draft: Mapped[str] = mapped_column(String(32), unique=True, index=True)  # one send per preview
    status: Mapped[str] = mapped_column(String(12), default="running")  # running, done
    total: Mapped[int] = mapped_column(Integer, default=0)
    progress_chat: Mapped[int | None] = mapped_column(BigInteger)
    progress_message: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]


class HandledUpdate(Base):
    """A Telegram update whose effects are stored: delivered again (a webhook instance killed
    before it answered, polling restarted before it confirmed), it is not applied twice.
    Telegram keeps an update for 24 hours; older rows are pruned."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)


class ConversationState(Base):
    """aiogram FSM state and data per chat, so a conversation survives restarts."""

    __tablename__ = "conversation_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class DeadlineExtension(Base):
    """The province moved the submission deadline for the whole province, a city, a county or
    one enterprise (domain/deadlines.py); for each of those the newest row holds."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (Index("ix_deadline_extensions_campaign", "campaign"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(16))  # province, city, county, enterprise
    code: Mapped[str] = mapped_column(String(18))  # a region code, or the credit code
    until: Mapped[date] = mapped_column(Date)
    granted_by: Mapped[int | None] = mapped_column(BigInteger)  # Telegram user; None: the CLI
    granted_at: Mapped[datetime] = mapped_column(default=now)
