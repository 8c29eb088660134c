"""Binding a Telegram user to the enterprise whose form they fill in.

Three ways, strongest first: a one-time invitation link; the Telegram phone number matching the
pre-loaded contact mobile of exactly one enterprise; or a request the county bureau confirms.
A request still waiting yields to either of the others: the link or the number binds at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from domain.catalog import Catalog
from domain.identifiers import IdentifierError, read_mobile
from domain.review import Jurisdiction
from services import officials, review
from services.cells import csv_bytes
from services.notifier import Notifier
from services.people import TelegramUser
from storage.models import AuditEntry, Contact, Enterprise, Invitation, now
from storage.repositories import Store, token_hash

Refusal = Literal["invalid", "expired", "used", "other_enterprise", "no_match", "ambiguous"]


@dataclass(frozen=True, slots=True)
class Binding:
    """The outcome: the contact and enterprise, or why there is none."""

    contact: Contact | None = None
    enterprise: Enterprise | None = None
    refused: Refusal | None = None
    already: bool = False  # the user was bound before


async def issue_invitation(store: Store, enterprise: Enterprise, valid_for: timedelta) -> str:
    """A new one-time code for the enterprise's deep link; only its hash is kept."""
    token = secrets.token_urlsafe(24)  # 192 bits: guessing is hopeless
    store.invitations.add(
        Invitation(
            token_sha256=token_hash(token),
            kind="enterprise",
            enterprise_id=enterprise.id,
            expires_at=now() + valid_for,
        )
    )
    return token


@dataclass(frozen=True, slots=True)
class EnterpriseLink:
    """One row of the links file the bureaus send out."""

    enterprise: Enterprise
    contacts: int  # contacts already bound
    token: str
    expires_at: datetime


async def invite_enterprises(
    store: Store, where: Jurisdiction | None, valid_for: timedelta, unbound_only: bool
) -> list[EnterpriseLink]:
    """A new one-time link for every active enterprise (of a jurisdiction), in region order.

    Links issued before stay valid until they expire or are used: a bureau that already sent
    some out does not break them by issuing a fresh file.
    """
    contacts = (
        select(func.count(Contact.id))
        .where(Contact.enterprise_id == Enterprise.id, Contact.status == "active")
        .scalar_subquery()
    )
    query = select(Enterprise, contacts).where(Enterprise.status == "active")
    if where is not None:
        query = query.where(officials.within(where))
    if unbound_only:
        query = query.where(contacts == 0)
    rows = (
        await store.session.execute(query.order_by(Enterprise.region_code, Enterprise.credit_code))
    ).all()
    expires = now() + valid_for
    links = [EnterpriseLink(e, n, secrets.token_urlsafe(24), expires) for e, n in rows]
    if links:
        await store.session.execute(
            insert(Invitation),
            [
                {
                    "token_sha256": token_hash(link.token),
                    "kind": "enterprise",
                    "enterprise_id": link.enterprise.id,
                    "expires_at": expires,
                    "created_at": now(),
                }
                for link in links
            ],
        )
        await store.audit.record("invitations.issued", None, count=len(links))
    return links


def links_csv(
    links: list[EnterpriseLink], catalog: Catalog, deep_link: Callable[[str], str]
) -> bytes:
    """The links file (`invite enterprises --out links.csv`): one row per enterprise, for Excel."""
    counties, zone = catalog.campaign.regions.counties, catalog.campaign.zone
    header = ["统一社会信用代码", "企业名称", "所在市", "所在区县", "联系人手机", "已绑定联系人"]
    rows: list[list[object]] = [[*header, "邀请链接", "有效期至"]]
    for link in links:
        e = link.enterprise
        county = counties.get(e.region_code or "")
        rows.append(
            [
                e.credit_code,
                e.name,
                county.city_name if county else "",
                county.name if county else "",
                e.contact_mobile or "",
                link.contacts,
                deep_link(link.token),
                link.expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return csv_bytes(rows)


GUESSES = 5  # unknown codes one person may try …
GUESS_WINDOW = timedelta(minutes=10)  # … within this long


async def guessing(store: Store, user_id: int) -> bool:
    """The person tried too many unknown codes lately: no code is looked at for a while.

    Codes carry 192 bits, so guessing is hopeless anyway; this keeps someone from trying, and the
    audit log (shared by every instance) is where the attempts are counted.
    """
    tried = await store.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.actor == user_id,
            AuditEntry.action == "invitation.unknown",
            AuditEntry.at >= now() - GUESS_WINDOW,
        )
    )
    return int(tried or 0) >= GUESSES


async def unknown_code(store: Store, user_id: int, code: str) -> None:
    """Record an attempt with a code that matches no invitation (its length, never the code)."""
    await store.audit.record("invitation.unknown", user_id, length=len(code))
    await store.commit()


async def current(store: Store, user_id: int) -> Binding:
    """The user's binding; a refused request counts as none (they may ask again)."""
    contact = await store.contacts.by_user(user_id)
    if contact is None or contact.status == "refused":
        return Binding()
    return Binding(contact, await store.enterprises.get(contact.enterprise_id), already=True)


async def by_invitation(store: Store, user: TelegramUser, token: str) -> Binding:
    invitation = await store.invitations.by_token(token) if len(token) <= 64 else None
    if invitation is None or invitation.enterprise_id is None:
        return Binding(refused="invalid")
    existing = await current(store, user.id)
    if existing.contact is not None and existing.contact.status == "active":
        if existing.contact.enterprise_id == invitation.enterprise_id:
            return existing
        return Binding(existing.contact, existing.enterprise, refused="other_enterprise")
    if invitation.used_at is not None:
        return Binding(refused="used")
    if invitation.expires_at <= now():
        return Binding(refused="expired")
    if not await store.invitations.use(invitation, user.id):
        return Binding(refused="used")
    enterprise = await store.enterprises.get(invitation.enterprise_id)
    assert enterprise is not None
    return await _bind(store, user, enterprise, "invitation", "active")


async def by_phone(store: Store, user: TelegramUser, phone: str) -> Binding:
    """The number binds if it is one enterprise's; a request waiting stays as it is otherwise."""
    existing = await current(store, user.id)
    if existing.contact is not None and existing.contact.status == "active":
        return existing
    try:
        matches = await store.enterprises.active_by_mobile(read_mobile(phone))
    except IdentifierError:
        matches = []
    if len(matches) == 1:
        return await _bind(store, user, matches[0], "phone", "active")
    if existing.contact is not None:
        return existing  # the request waiting
    return Binding(refused="ambiguous" if matches else "no_match")


async def by_request(
    store: Store,
    user: TelegramUser,
    credit_code: str,
    name: str,
    region_code: str,
    notifier: Notifier,
) -> Binding:
    """Credit code and name typed by the contact: the county bureau must confirm the binding.

    An enterprise we do not know yet is created as pending; one we know is not handed to whoever
    types its code: the request waits for the county bureau all the same.
    """
    existing = await current(store, user.id)
    if existing.contact is not None:
        return existing
    enterprise = await store.enterprises.by_credit_code(credit_code)
    if enterprise is None:
        enterprise = Enterprise(
            credit_code=credit_code,
            name=name,
            region_code=region_code,
            status="pending",
            preloaded={},
        )
        store.enterprises.add(enterprise)
        await store.session.flush()
    binding = await _bind(store, user, enterprise, "request", "pending", typed_name=name)
    assert binding.contact is not None
    await review.registration_requested(store, enterprise, binding.contact, name, notifier)
    return binding


async def _bind(
    store: Store,
    user: TelegramUser,
    enterprise: Enterprise,
    via: str,
    status: str,
    typed_name: str = "",
) -> Binding:
    contact = await store.contacts.by_user(user.id)  # a refused request, asked again
    if contact is None:
        contact = Contact(telegram_user_id=user.id)
        store.contacts.add(contact)
    contact.enterprise_id, contact.status, contact.bound_via = enterprise.id, status, via
    contact.display_name = user.display_name
    try:
        await store.session.flush()
    except IntegrityError:  # the same user, bound a moment ago by a second press
        await store.rollback()
        return await current(store, user.id)
    await store.audit.record(
        "contact.bound" if status == "active" else "contact.requested",
        user.id,
        enterprise_id=enterprise.id,
        via=via,
        typed_name=typed_name,
    )
    await store.commit()
    return Binding(contact, enterprise)
