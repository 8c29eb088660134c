"""Repositories: the queries the services need, on one session that commits as one unit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from domain.review import EDITABLE
from storage import hot, updates
from storage.models import (
    Answer,
    AuditEntry,
    ChatState,
    Commitment,
    Confirmation,
    Contact,
    DeadlineExtension,
    Delivery,
    Enterprise,
    HandledUpdate,
    Invitation,
    Submission,
    now,
)


class FormRow(NamedTuple):
    """An enterprise, its form in a campaign (None before its first use) and how many deadline
    extensions the campaign has (see `services.deadlines.extension_of`), read in one query."""

    enterprise: Enterprise
    submission: Submission | None
    extensions: int


class Sender(NamedTuple):
    """Who sent an update (`Contacts.of_update`)."""

    contact: Contact | None
    form: FormRow | None  # the contact's enterprise's form in the campaign
    inactive: bool  # their chat was marked inactive (`services.chats`)
    applied: bool  # the update was applied before (`storage.updates`)


@dataclass(slots=True)
class StoredAnswer:
    value: Any  # as stored (storage.codec); None: skipped
    source: str  # preloaded, typed, corrected, skipped
    confirmed: bool  # a pre-loaded value the contact checked
    answered_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def dialect_insert(dialect: str, table: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share the syntax)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def upsert(table: Any, keys: Sequence[str], changed: Sequence[str]) -> hot.Statement:
    """INSERT … ON CONFLICT (`keys`) UPDATE `changed`, each value bound by its column's name, for
    whichever dialect runs it (below the session: `storage.hot`)."""

    def build(dialect: str) -> Any:
        statement = dialect_insert(dialect, table).values(**hot.named(*keys, *changed))
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in changed}
        )

    return hot.Statement(build, later=True)


def _insert(session: AsyncSession, table: Any) -> Any:
    return dialect_insert(_dialect(session), table)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"


# Statements run on every message of the form, built once: SQLAlchemy takes longer to build a
# statement than SQLite takes to run it.
_CONTACT_BY_USER = select(Contact).where(Contact.telegram_user_id == bindparam("user_id"))
# Where the campaign's deadline extensions stand: they are only ever added, so a process keeps
# those it read while the count is the same.
_EXTENSIONS_STAMP = (
    select(func.count())
    .where(DeadlineExtension.campaign == bindparam("campaign"))
    .scalar_subquery()
)
_ITS_SUBMISSION = (Submission.enterprise_id == Enterprise.id) & (
    Submission.campaign == bindparam("campaign")
)
_SENDER = (Contact, Enterprise, Submission)
# Asked on every update: below the session (storage.hot), its instances made as the ORM would.
_SENDER_AND_CHAT = hot.Statement(
    select(
        *(column for cls in _SENDER for column in hot.columns(cls)),
        _EXTENSIONS_STAMP,
        select(literal(True))
        .where(ChatState.chat_id == bindparam("chat_id"), ChatState.active.is_(False))
        .scalar_subquery(),
        select(literal(True))
        .where(HandledUpdate.update_id == bindparam("update_id"))
        .scalar_subquery(),
    )
    .select_from(select(literal(1)).subquery())  # one row, whether the contact exists or not
    .outerjoin(Contact, Contact.telegram_user_id == bindparam("user_id"))
    .outerjoin(Enterprise, Enterprise.id == Contact.enterprise_id)
    .outerjoin(Submission, _ITS_SUBMISSION),
    writes=False,
)
_ENTERPRISE_AND_SUBMISSION = (
    select(Enterprise, Submission, _EXTENSIONS_STAMP)
    .outerjoin(Submission, _ITS_SUBMISSION)
    .where(Enterprise.id == bindparam("enterprise_id"))
    .execution_options(populate_existing=True)
)
_ANSWERS = select(
    Answer.field, Answer.value, Answer.source, Answer.confirmed, Answer.answered_at
).where(Answer.submission_id == bindparam("submission_id"))
_CONFIRMATIONS = select(Confirmation).where(
    Confirmation.submission_id == bindparam("submission_id")
)
# An answer's own statements, below the session (storage.hot).
_AUDIT = hot.Statement(
    insert(AuditEntry.__table__).values(
        **hot.named("action", "actor", "enterprise_id", "submission_id", "detail", "at")
    ),
    later=True,
)
_HOLD = hot.Statement(
    update(Submission.__table__)
    .where(Submission.id == bindparam("submission_id"))
    # a form no longer editable in the round the contact saw is refused: its version would be
    # NULL, which fails the statement, and with it the writes it carries (`or_`, not `in_`:
    # its expanding parameter is rendered per execution, and `hot` compiles once)
    .values(
        version=case(
            (
                and_(
                    or_(*(Submission.status == status for status in EDITABLE)),
                    Submission.round == bindparam("round"),
                ),
                Submission.version + 1,
            )
        )
    )
    .returning(Submission.version),
    carries=True,  # the answers and audit entries before it, and the update's record
)
_STATUS = hot.Statement(
    select(Submission.status, Submission.round).where(Submission.id == bindparam("submission_id")),
    writes=False,
)
_ANSWER_COLUMNS = ("value", "source", "confirmed", "answered_at", "answered_by")


_PUT_ANSWER = upsert(Answer.__table__, ("submission_id", "field"), _ANSWER_COLUMNS)


def unchecked(submission_id: int, field: str, value: Any, at: datetime) -> dict[str, Any]:
    """An answer row holding a pre-loaded value the contact has not checked yet."""
    return {
        "submission_id": submission_id,
        "field": field,
        "value": value,
        "source": "preloaded",
        "confirmed": False,
        "answered_at": at,
        "answered_by": None,
    }


class Enterprises:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, enterprise_id: int) -> Enterprise | None:
        return await self.session.get(Enterprise, enterprise_id)

    async def by_credit_code(self, code: str) -> Enterprise | None:
        return await self.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))

    async def active_by_mobile(self, mobile: str) -> Sequence[Enterprise]:
        query = select(Enterprise).where(
            Enterprise.contact_mobile == mobile, Enterprise.status == "active"
        )
        return (await self.session.scalars(query.limit(2))).all()

    def add(self, enterprise: Enterprise) -> None:
        self.session.add(enterprise)


class Contacts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_user(self, user_id: int) -> Contact | None:
        return await self.session.scalar(_CONTACT_BY_USER, {"user_id": user_id})

    async def of_update(
        self, user_id: int, chat_id: int | None, update_id: int | None, campaign: int
    ) -> Sender:
        """Who sent an update, with their form in the campaign (`services.form.open_draft`),
        whether its chat was inactive and whether the update was applied before: asked on
        every update, so in one round trip."""
        values = {
            "user_id": user_id,
            "chat_id": chat_id,
            "update_id": update_id,
            "campaign": campaign,
        }
        (row,) = await hot.run(self.session, _SENDER_AND_CHAT, values)
        contact, enterprise, submission = (
            None if columns[0] is None else hot.loaded(self.session, cls, columns)
            for cls, columns in _split(row, _SENDER)
        )
        extensions, inactive, applied = row[-3:]
        form = FormRow(enterprise, submission, extensions) if enterprise is not None else None
        return Sender(contact, form, bool(inactive), bool(applied))

    def add(self, contact: Contact) -> None:
        self.session.add(contact)


def _split(row: hot.Row, classes: Sequence[type]) -> Iterator[tuple[type, hot.Row]]:
    """A row's columns of each class in turn (`hot.columns`)."""
    start = 0
    for cls in classes:
        end = start + len(hot.columns(cls))
        yield cls, row[start:end]
        start = end


class Invitations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, invitation: Invitation) -> None:
        self.session.add(invitation)

    async def by_token(self, token: str) -> Invitation | None:
        return await self.session.scalar(
            select(Invitation).where(Invitation.token_sha256 == token_hash(token))
        )

    async def use(self, invitation: Invitation, user_id: int) -> bool:
        """Mark it used, unless another update did first (a code works exactly once)."""
        result = await self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
            .values(used_at=now(), used_by=user_id)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


class Submissions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, submission_id: int) -> Submission | None:
        return await self.session.get(Submission, submission_id, populate_existing=True)

    async def with_enterprise(self, enterprise_id: int, campaign: int) -> FormRow:
        params = {"enterprise_id": enterprise_id, "campaign": campaign}
        row = (await self.session.execute(_ENTERPRISE_AND_SUBMISSION, params)).one()
        return FormRow(row[0], row[1], row[2])

    async def of(self, enterprise_id: int, campaign: int) -> Submission | None:
        return await self.session.scalar(
            select(Submission)
            .where(Submission.enterprise_id == enterprise_id, Submission.campaign == campaign)
            .execution_options(populate_existing=True)
        )

    async def create(self, enterprise_id: int, campaign: int) -> bool:
        """Create the draft unless another contact of the enterprise just did."""
        statement = (
            _insert(self.session, Submission)
            .values(
                enterprise_id=enterprise_id, campaign=campaign, status="draft", created_at=now()
            )
            .on_conflict_do_nothing(index_elements=["enterprise_id", "campaign"])
        )
        return (await self.session.execute(statement)).rowcount == 1  # type: ignore[attr-defined]

    async def answers(self, submission_id: int) -> dict[str, StoredAnswer]:
        """The current answers by field (plain rows: read on every message of the form)."""
        rows = await self.session.execute(_ANSWERS, {"submission_id": submission_id})
        return {row[0]: StoredAnswer(*row[1:]) for row in rows}

    async def seed(self, submission_id: int, values: dict[str, Any], at: datetime) -> None:
        """Pre-loaded values as unconfirmed answers, where there is no answer yet."""
        if not values:
            return
        rows = [unchecked(submission_id, name, value, at) for name, value in values.items()]
        await self.session.execute(
            _insert(self.session, Answer)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["submission_id", "field"])
        )

    async def put(
        self, submission_id: int, field: str, value: Any, source: str, user_id: int
    ) -> None:
        row = {
            "submission_id": submission_id,
            "field": field,
            "value": value,
            "source": source,
            "confirmed": True,
            "answered_at": now(),
            "answered_by": user_id,
        }
        await hot.run(self.session, _PUT_ANSWER, row)

    async def confirm(self, submission_id: int, fields: Iterable[str], user_id: int) -> None:
        await self.session.execute(
            update(Answer)
            .where(Answer.submission_id == submission_id, Answer.field.in_(list(fields)))
            .values(confirmed=True, answered_by=user_id, answered_at=now())
        )

    async def confirmations(self, submission_id: int) -> Sequence[Confirmation]:
        return (await self.session.scalars(_CONFIRMATIONS, {"submission_id": submission_id})).all()

    def add_confirmation(self, confirmation: Confirmation) -> None:
        self.session.add(confirmation)

    def add_commitment(self, commitment: Commitment) -> None:
        self.session.add(commitment)

    async def hold(self, submission_id: int, round_: int, *, last: bool = False) -> int | None:
        """Before a change to the form's answers or confirmations: its new version (one more;
        None: no such form), its row locked until the transaction ends (PostgreSQL), so an
        answer is never written into a form being submitted, and every instance sees the same
        order. SQLite runs one update at a time and needs no lock. `IntegrityError` if the form
        is no longer editable in round `round_`; the transaction is then to be rolled back.

        The update's record, and on PostgreSQL the writes waiting before it, go in the same
        statement (`storage.hot`). `last`: the transaction writes nothing more that must go
        with them, so on PostgreSQL, if nothing else began the transaction on the server, that
        statement is the transaction (no BEGIN or COMMIT)."""
        await updates.recording(self.session)
        values = {"submission_id": submission_id, "round": round_}
        rows = await hot.run(self.session, _HOLD, values, last=last)
        return rows[0][0] if rows else None

    async def status(self, submission_id: int) -> tuple[str, int]:
        """The form's status and round, as committed."""
        ((status, round_),) = await hot.run(self.session, _STATUS, {"submission_id": submission_id})
        return status, round_

    async def move(self, submission: Submission, expected: str, status: str, **values: Any) -> bool:
        """Change the status only from `expected` in the round the caller read: a second submit
        finds the draft gone, a decision on a form that was returned and resubmitted meanwhile
        finds a new round."""
        values["status"] = status
        if status == "submitted" and submission.submitted_at is None:
            values["submitted_at"] = now()  # the first submission's time; status_at the latest
        result = await self.session.execute(
            update(Submission)
            .where(
                Submission.id == submission.id,
                Submission.status == expected,
                Submission.round == submission.round,
            )
            .values(**values)
            # The one object it changes is set below: evaluating the criteria on every form in
            # the session would cost a few hundred approvals at once quadratic time.
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for name, value in values.items():
            set_committed_value(submission, name, value)
        return True

    async def count_in(self, campaign: int, statuses: Sequence[str]) -> int:
        query = (
            select(func.count())
            .select_from(Submission)
            .where(Submission.campaign == campaign, Submission.status.in_(statuses))
        )
        return int(await self.session.scalar(query) or 0)


class Audit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        action: str,
        actor: int | None,
        *,
        enterprise_id: int | None = None,
        submission_id: int | None = None,
        **detail: Any,
    ) -> None:
        """Add an entry to the transaction (kept when it commits)."""
        row = {
            "action": action,
            "actor": actor,
            "enterprise_id": enterprise_id,
            "submission_id": submission_id,
            "detail": detail,
            "at": now(),
        }
        await hot.run(self.session, _AUDIT, row)

    async def of_submission(self, submission_id: int) -> Sequence[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.submission_id == submission_id)
        return (await self.session.scalars(query.order_by(AuditEntry.id))).all()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to put in the delivery queue."""

    key: str  # what it is for: planning it twice sends it once
    chat_id: int
    text: str
    priority: int
    markup: dict[str, Any] | None = None
    broadcast_id: int | None = None


async def enqueue(session: AsyncSession, messages: Sequence[Outgoing]) -> None:
    """Add messages to the delivery queue; a key already there is left alone. Does not commit."""
    at = now()
    rows = [
        {
            "key": m.key,
            "chat_id": m.chat_id,
            "text": m.text,
            "priority": m.priority,
            "markup": m.markup,
            "broadcast_id": m.broadcast_id,
            "status": "pending",
            "attempts": 0,
            "not_before": at,
            "created_at": at,
        }
        for m in messages
    ]
    statement = _insert(session, Delivery.__table__).on_conflict_do_nothing(index_elements=["key"])
    for start in range(0, len(rows), 1000):  # a broadcast of 20,000 in bounded statements
        await session.execute(statement, rows[start : start + 1000])


async def cancel_reminders(
    session: AsyncSession,
    chat_ids: Sequence[int] | Select[tuple[int]],
    kinds: Sequence[str] = (),
) -> None:
    """Reminders still queued for these chats (a list, or a query giving them) lost their
    reason: the form was submitted. Only reminders of `kinds` when given, else every one."""
    if isinstance(chat_ids, Sequence) and not chat_ids:
        return
    keys = [f"reminder:{kind}:%" for kind in kinds] or ["reminder:%"]
    await session.execute(
        update(Delivery)
        .where(
            Delivery.status == "pending",
            or_(*(Delivery.key.like(key) for key in keys)),
            Delivery.chat_id.in_(chat_ids if isinstance(chat_ids, Select) else list(chat_ids)),
        )
        .values(status="skipped", reason="resolved")
    )


class Store:
    """One unit of work: the repositories over one session; nothing is kept until `commit`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.enterprises = Enterprises(session)
        self.contacts = Contacts(session)
        self.invitations = Invitations(session)
        self.submissions = Submissions(session)
        self.audit = Audit(session)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        """Undo the transaction. The objects read stay usable, read again as they are now: a
        refused change goes on to tell the person where things stand (an expired object would
        be loaded lazily, which an async session cannot do)."""
        kept = list(self.session.identity_map.values())
        await self.session.rollback()
        for instance in kept:
            await self.session.refresh(instance)

    async def release(self) -> None:
        """On SQLite, end a reading transaction, so its one connection is free for the sender
        while the update waits on something else (a workbook or a chart made in a thread); an
        update that goes on to speak needs none (`LetGo` commits). (A commit, not a rollback:
        a rollback would expire the objects just read.) On PostgreSQL every turn at the
        database has a connection of its own (`bot.middlewares.Services`): the transaction
        goes on to the update's own commit, two round trips fewer.
        """
        if _dialect(self.session) == "sqlite":
            await self.session.commit()
