"""The review use cases: a submitted form reaches its bureaus, officials approve or return it,
the enterprise's self-registration is confirmed or refused.

Every decision is checked against the official's level and jurisdiction and against the form's
current round: a card whose form has moved on changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from domain.catalog import Catalog
from domain.review import (
    LEVELS,
    REPORTED,
    RETURNED,
    ReviewError,
    after_approval,
    may_return,
    waiting_level,
)
from domain.rules import Finding, Severity
from domain.similarity import FIGURE_KEYS_NEEDED, Profile, compare, keys, own_keys, profile
from domain.validation import check_values
from services import officials
from services.notifier import Notifier
from storage.codec import decode
from storage.models import (
    Answer,
    AuditEntry,
    Confirmation,
    Contact,
    Enterprise,
    Official,
    ReviewCard,
    ReviewNote,
    SimilarityKey,
    Submission,
    now,
)
from storage.repositories import Store

Outcome = Literal["done", "forbidden", "moved", "gone", "not_now"]


@dataclass(slots=True)
class CardView:
    """What an officials' card shows about one form at one level."""

    card_id: int
    level: str
    reason: Literal["submitted", "resubmitted", "approved_below", "opened"]
    enterprise: Enterprise
    submission: Submission
    values: dict[str, object]
    answered: set[str]  # fields with an answer, skipped ones included
    confirmed: list[Finding]  # weak rules the enterprise confirmed
    similar: list[dict[str, object]]
    # since the last return: the fields changed (field, old, new, as stored), and its comments
    changes: list[tuple[str, object, object]] = field(default_factory=list)
    notes: list[ReviewNote] = field(default_factory=list)
    first_submitted: datetime | None = None
    approvals: list[Approval] = field(default_factory=list)  # the levels below, lowest first


@dataclass(frozen=True, slots=True)
class Approval:
    level: str
    by: str
    at: datetime


@dataclass(slots=True)
class RegistrationView:
    card_id: int
    enterprise: Enterprise
    contact: Contact
    typed_name: str  # the company name as the registrant typed it


# ---- a submission reaches its bureau ----------------------------------------------------------


async def submitted(
    store: Store,
    catalog: Catalog,
    enterprise: Enterprise,
    submission: Submission,
    values: dict[str, object],
    notifier: Notifier,
) -> None:
    """After (re)submission: detect copies, open the card at the waiting level, alert the bureau."""
    level = waiting_level(submission.status)
    assert level is not None
    mine = profile(values)
    city = (enterprise.region_code or "")[:4]
    similar = await _similar(store, catalog, submission.id, city, mine)
    await store.session.execute(
        SimilarityKey.__table__.delete().where(SimilarityKey.submission_id == submission.id)
    )
    rows = [{"submission_id": submission.id, "key": k, "city": city} for k in own_keys(mine)]
    if rows:
        await store.session.execute(SimilarityKey.__table__.insert(), rows)
    submission.profile = mine.to_json()
    submission.similar = similar
    view = await form_view(store, catalog, submission, level, reason="submitted")
    reckon(view)
    if view.changes or submission.changed is not None:  # back at the level that returned it
        view.reason = "resubmitted"
    store.session.add(submission)
    view.card_id = (await _open_card(store, submission, level)).id
    await store.commit()
    chats = await officials.alert_chats(
        store, level, enterprise.region_code or "", notifier.private_alerts
    )
    await store.release()
    await notifier.review_card(chats, view)


async def _similar(
    store: Store, catalog: Catalog, submission_id: int, city: str, mine: Profile
) -> list[dict[str, object]]:
    """Submissions of the same city sharing enough index keys, compared one by one."""
    wanted = keys(mine)
    if not wanted or not city:
        return []
    table = SimilarityKey.__table__
    shared = (
        select(table.c.submission_id)
        .where(
            table.c.city == city, table.c.key.in_(wanted), table.c.submission_id != submission_id
        )
        .group_by(table.c.submission_id)
        .having(
            or_(
                func.sum(_is(table.c.key, "f:%")) >= FIGURE_KEYS_NEEDED,
                func.sum(_is(table.c.key, "n:%")) >= 1,
                func.sum(_is(table.c.key, "t:%")) >= 1,
            )
        )
        .limit(200)
    )
    candidates = list((await store.session.scalars(shared)).all())
    if not candidates:
        return []
    rows = await store.session.execute(
        select(Submission.id, Submission.profile, Enterprise.name, Enterprise.credit_code)
        .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        .where(Submission.id.in_(candidates))
    )
    labels = {f.name: f.label for f in catalog.fields}
    found = []
    for other_id, other_profile, name, code in rows:
        likeness = compare(mine, Profile.from_json(other_profile or {}), labels)
        if likeness is not None:
            found.append(
                {
                    "submission_id": other_id,
                    "enterprise": name,
                    "credit_code": code,
                    "reason": likeness.reason,
                }
            )
    return found[:5]


def _is(column: Any, pattern: str) -> Any:
    """1 where the key has this kind, for counting the shared keys of each kind."""
    return case((column.like(pattern), 1), else_=0)


async def _open_card(store: Store, submission: Submission, level: str) -> ReviewCard:
    card = ReviewCard(
        submission_id=submission.id,
        level=level,
        round=submission.round,
        kind="form",
        created_at=now(),
    )
    store.session.add(card)
    await store.session.flush()
    return card


async def card_view(store: Store, catalog: Catalog, card: ReviewCard, reason: str) -> CardView:
    submission = await store.submissions.get(card.submission_id or 0)
    assert submission is not None
    return await form_view(store, catalog, submission, card.level, card.id, reason)


async def form_view(
    store: Store,
    catalog: Catalog,
    submission: Submission,
    level: str,
    card_id: int = 0,
    reason: str = "opened",
) -> CardView:
    """What a card of `level` shows about the form as it stands."""
    (view,) = await form_views(store, catalog, [submission], level, reason)
    view.card_id = card_id
    return view


async def form_views(
    store: Store, catalog: Catalog, submissions: Sequence[Submission], level: str, reason: str
) -> list[CardView]:
    """The cards of many forms at once: the same few queries for one form or for hundreds."""
    ids = [s.id for s in submissions]
    enterprises = {
        e.id: e
        for e in await store.session.scalars(
            select(Enterprise).where(Enterprise.id.in_([s.enterprise_id for s in submissions]))
        )
    }
    answered: dict[int, set[str]] = {i: set() for i in ids}
    values: dict[int, dict[str, object]] = {i: {} for i in ids}
    for sid, name, value in await store.session.execute(
        select(Answer.submission_id, Answer.field, Answer.value).where(
            Answer.submission_id.in_(ids)
        )
    ):
        answered[sid].add(name)
        if value is not None and name in catalog.by_name:
            values[sid][name] = decode(catalog.by_name[name], value)
    confirmations: dict[int, set[tuple[str, str]]] = {i: set() for i in ids}
    for sid, rule, fields in await store.session.execute(
        select(Confirmation.submission_id, Confirmation.rule, Confirmation.fields).where(
            Confirmation.submission_id.in_(ids)
        )
    ):
        confirmations[sid].add((rule, fields))
    entries = await _review_entries(store, ids)
    notes = await _last_notes(store, ids)
    views = []
    for s in submissions:
        weak = [f for f in check_values(values[s.id], catalog) if f.severity is Severity.WEAK]
        mine = entries.get(s.id, [])
        views.append(
            CardView(
                0,
                level,
                reason,  # type: ignore[arg-type]
                enterprises[s.enterprise_id],
                s,
                values[s.id],
                answered[s.id],
                [f for f in weak if (f.rule, ",".join(f.fields)) in confirmations[s.id]],
                list(s.similar or []),
                changes=_changes_since_return(mine),
                notes=notes.get(s.id, []),
                first_submitted=next(
                    (e.at for e in mine if e.action == "submission.submitted"), s.submitted_at
                ),
                approvals=_approvals(mine, s, level),
            )
        )
    return views


def reckon(view: CardView) -> None:
    """Mark the form with what the workbench sorts by: the weak rules it fires (each confirmed
    by the enterprise before it could submit), the copies flagged, and on a resubmission to
    the level that returned it, the fields changed."""
    submission = view.submission
    submission.warnings = len(view.confirmed)
    submission.copies = len(view.similar)
    again = bool(view.notes) and submission.returned_level == view.level
    submission.changed = len(view.changes) if again else None


async def _review_entries(store: Store, ids: Sequence[int]) -> dict[int, list[AuditEntry]]:
    """The forms' submissions, decisions and answers in the audit log, oldest first; answers
    only since the form was last returned (what a card shows as changed)."""
    earlier = aliased(AuditEntry)
    last_return = (
        select(func.max(earlier.id))
        .where(
            earlier.submission_id == AuditEntry.submission_id,
            earlier.action == "review.returned",
        )
        .scalar_subquery()
    )
    rows = await store.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.submission_id.in_(ids),
            or_(
                AuditEntry.action.in_(
                    ("submission.submitted", "review.approved", "review.returned")
                ),
                and_(AuditEntry.action == "answer", AuditEntry.id > last_return),
            ),
        )
        .order_by(AuditEntry.id)
    )
    found: dict[int, list[AuditEntry]] = {}
    for entry in rows:
        found.setdefault(entry.submission_id or 0, []).append(entry)
    return found


def _approvals(entries: Sequence[AuditEntry], submission: Submission, level: str) -> list[Approval]:
    """Who approved the form at each level below `level` (every level of a reported form):
    the latest approval of each, which a return to a higher level leaves standing."""
    below = LEVELS if submission.status == REPORTED else LEVELS[: LEVELS.index(level)]  # type: ignore[arg-type]
    latest = {str(e.detail.get("level")): e for e in entries if e.action == "review.approved"}
    return [
        Approval(lv, str(latest[lv].detail.get("by_name") or ""), latest[lv].at)
        for lv in below
        if lv in latest
    ]


async def last_notes(store: Store, submission: Submission) -> list[ReviewNote]:
    """The comments of the last return, if the form was ever returned."""
    return (await _last_notes(store, [submission.id])).get(submission.id, [])


async def _last_notes(store: Store, ids: Sequence[int]) -> dict[int, list[ReviewNote]]:
    notes: dict[int, list[ReviewNote]] = {}
    for note in await store.session.scalars(
        select(ReviewNote).where(ReviewNote.submission_id.in_(ids)).order_by(ReviewNote.id)
    ):
        kept = notes.setdefault(note.submission_id, [])
        if kept and kept[0].round != note.round:
            kept.clear()  # a later return's comments replace an earlier one's
        kept.append(note)
    return notes


def _changes_since_return(entries: Sequence[AuditEntry]) -> list[tuple[str, object, object]]:
    """The fields changed since the form was last returned: (field, old, new), oldest value kept."""
    returned = max((e.id for e in entries if e.action == "review.returned"), default=None)
    if returned is None:
        return []
    changed: dict[str, tuple[object, object]] = {}
    for entry in entries:
        if entry.action != "answer":
            continue
        name = str(entry.detail.get("field"))
        old = changed[name][0] if name in changed else entry.detail.get("old")
        changed[name] = (old, entry.detail.get("new"))
    return [(n, old, new) for n, (old, new) in changed.items() if old != new]


# ---- officials decide -------------------------------------------------------------------------


@dataclass(slots=True)
class Decision:
    outcome: Outcome
    card: ReviewCard | None = None
    submission: Submission | None = None
    enterprise: Enterprise | None = None
    moved_by: str = ""  # for "moved": who handled it, and when
    moved_at: datetime | None = None


async def _load(store: Store, official: Official | None, card_id: int) -> Decision:
    """The card, its form and enterprise, if this official may act on it now."""
    card = await store.session.get(ReviewCard, card_id)
    if card is None or card.kind != "form" or card.submission_id is None:
        return Decision("gone")
    submission = await store.submissions.get(card.submission_id)
    assert submission is not None
    enterprise = await store.enterprises.get(submission.enterprise_id)
    assert enterprise is not None
    if (
        official is None
        or official.level != card.level
        or not officials.jurisdiction(official).covers(enterprise.region_code)
    ):
        return Decision("forbidden", card, submission, enterprise)
    if card.round != submission.round:
        by, at = await last_decision(store, submission.id)
        return Decision("moved", card, submission, enterprise, by, at)
    return Decision("done", card, submission, enterprise)


async def may_act(store: Store, official: Official | None, card_id: int) -> Decision:
    """Whether `official` may decide on this card now (for 退回, before the comments are asked)."""
    return await _load(store, official, card_id)


async def last_decision(store: Store, submission_id: int) -> tuple[str, datetime | None]:
    entry = await store.session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.submission_id == submission_id,
            AuditEntry.action.in_(("review.approved", "review.returned", "submission.submitted")),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return "", None
    name = entry.detail.get("by_name") or "企业"
    return str(name), entry.at


async def approve(
    store: Store,
    catalog: Catalog,
    official: Official | None,
    card_id: int,
    notifier: Notifier,
) -> Decision:
    decision = await _load(store, official, card_id)
    if decision.outcome != "done":
        return decision
    assert official and decision.card
    if not await _record_approval(store, official, decision, decision.card.level):
        await store.rollback()
        assert decision.submission is not None
        return Decision(
            "moved",
            decision.card,
            decision.submission,
            decision.enterprise,
            *(await last_decision(store, decision.submission.id)),
        )
    await store.commit()
    await _announce_approvals(store, catalog, [decision], decision.card.level, notifier)
    return decision


async def approve_many(
    store: Store,
    catalog: Catalog,
    official: Official,
    decisions: Sequence[Decision],
    notifier: Notifier,
) -> list[Decision]:
    """Forms at the official's level, each approved as `approve` does (its move, its audit
    entry, the next level's card, the contacts' notice), in one transaction and with the
    notices queued together; those that moved on meanwhile are left out. The approved."""
    done = [d for d in decisions if await _record_approval(store, official, d, official.level)]
    await store.commit()
    await _announce_approvals(store, catalog, done, official.level, notifier)
    return done


async def _record_approval(
    store: Store, official: Official, decision: Decision, level: str
) -> bool:
    """The form moves up from `level` and the audit log says who, in the caller's
    transaction; False when it is no longer there to approve (it moved on meanwhile)."""
    submission, enterprise = decision.submission, decision.enterprise
    assert submission is not None and enterprise is not None
    try:
        status = after_approval(submission.status, level)  # type: ignore[arg-type]
    except ReviewError:
        return False
    moved = await store.submissions.move(
        submission,
        submission.status,
        status,
        round=submission.round + 1,
        status_at=now(),
        changed=None,  # it reaches the next level by approval
    )
    if moved:
        await store.audit.record(
            "review.approved",
            official.telegram_user_id,
            enterprise_id=enterprise.id,
            submission_id=submission.id,
            level=level,
            status=status,
            by_name=official.display_name,
        )
    return moved


async def _announce_approvals(
    store: Store, catalog: Catalog, decisions: Sequence[Decision], level: str, notifier: Notifier
) -> None:
    """After approvals at `level` (committed): the next level's cards, and the contacts told."""
    if not decisions:
        return
    ids = [d.submission.id for d in decisions if d.submission]
    fresh = {
        s.id: s
        for s in await store.session.scalars(
            select(Submission)
            .where(Submission.id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    for d in decisions:
        d.submission = fresh[d.submission.id]  # type: ignore[union-attr]
    status = decisions[0].submission.status  # type: ignore[union-attr]
    contacts: dict[int, list[int]] = {}
    for enterprise_id, user_id in await store.session.execute(
        select(Contact.enterprise_id, Contact.telegram_user_id).where(
            Contact.enterprise_id.in_([d.enterprise.id for d in decisions if d.enterprise]),
            Contact.status == "active",
        )
    ):
        contacts.setdefault(enterprise_id, []).append(user_id)
    next_level = waiting_level(status)
    views: list[CardView] = []
    chats: dict[str, list[int]] = {}
    if next_level is not None:
        cards = [
            ReviewCard(
                submission_id=s.id, level=next_level, round=s.round, kind="form", created_at=now()
            )
            for s in fresh.values()
        ]
        store.session.add_all(cards)
        await store.commit()
        by_submission = {c.submission_id: c.id for c in cards}
        views = await form_views(store, catalog, list(fresh.values()), next_level, "approved_below")
        for view in views:
            view.card_id = by_submission[view.submission.id]
            region = view.enterprise.region_code or ""
            if region not in chats:
                chats[region] = await officials.alert_chats(
                    store, next_level, region, notifier.private_alerts
                )
    await store.release()
    async with notifier.together():
        for view in views:
            await notifier.review_card(chats[view.enterprise.region_code or ""], view)
        for d in decisions:
            assert d.enterprise is not None
            await notifier.form_progress(
                contacts.get(d.enterprise.id, []), d.enterprise, level, status
            )


async def return_form(
    store: Store,
    catalog: Catalog,
    official: Official | None,
    card_id: int,
    notes: Sequence[tuple[str, str]],
    today: date,
    notifier: Notifier,
) -> Decision:
    """退回 with comments: (field, comment) pairs; an empty field is a comment on the whole form."""
    decision = await _load(store, official, card_id)
    if decision.outcome != "done":
        return decision
    assert official and decision.card and decision.submission and decision.enterprise
    submission, level = decision.submission, decision.card.level
    if not may_return(submission.status, level, catalog.campaign, today):  # type: ignore[arg-type]
        return Decision("not_now", decision.card, submission, decision.enterprise)
    fields = list(dict.fromkeys(f for f, _ in notes if f in catalog.by_name))
    moved = await store.submissions.move(
        submission,
        submission.status,
        RETURNED,
        round=submission.round + 1,
        status_at=now(),
        returned_level=level,
        reopened=fields,
    )
    if not moved:
        await store.rollback()
        return Decision(
            "moved",
            decision.card,
            submission,
            decision.enterprise,
            *(await last_decision(store, submission.id)),
        )
    for name, comment in notes:
        store.session.add(
            ReviewNote(
                submission_id=submission.id,
                round=submission.round + 1,
                level=level,
                field=name,
                comment=comment[:1000],
                by=official.telegram_user_id,
                at=now(),
            )
        )
    await store.audit.record(
        "review.returned",
        official.telegram_user_id,
        enterprise_id=decision.enterprise.id,
        submission_id=submission.id,
        level=level,
        fields=fields,
        by_name=official.display_name,
        notes=[{"field": f, "comment": c} for f, c in notes],
    )
    await store.commit()
    submission = await store.submissions.get(submission.id)
    assert submission is not None
    contacts = await _contact_ids(store, decision.enterprise.id)
    returned = await last_notes(store, submission)
    await store.release()
    await notifier.form_returned(contacts, decision.enterprise, level, returned)
    return Decision("done", decision.card, submission, decision.enterprise)


async def _contact_ids(store: Store, enterprise_id: int) -> list[int]:
    rows = await store.session.scalars(
        select(Contact.telegram_user_id).where(
            Contact.enterprise_id == enterprise_id, Contact.status == "active"
        )
    )
    return list(rows.all())


# ---- look-ups -----------------------------------------------------------------------------


async def current_card(store: Store, submission: Submission, viewer: str) -> ReviewCard | None:
    """The card of the level the form waits at, for this round; for the province, a reported
    form's card too (it may return it during the Ministry's re-check)."""
    level = waiting_level(submission.status)
    if level is None and viewer == "province" and submission.status == REPORTED:
        level = "province"
    if level is None:
        return None
    card = await store.session.scalar(
        select(ReviewCard)
        .where(
            ReviewCard.submission_id == submission.id,
            ReviewCard.level == level,
            ReviewCard.round == submission.round,
        )
        .order_by(ReviewCard.id.desc())
        .limit(1)
    )
    return card or await _open_card(store, submission, level)


async def find(
    store: Store, official: Official, credit_code: str, campaign: int
) -> Submission | None:
    """/form <credit code>: a form of the official's jurisdiction, or None."""
    enterprise = await store.enterprises.by_credit_code(credit_code)
    if enterprise is None or not officials.jurisdiction(official).covers(enterprise.region_code):
        return None
    return await store.submissions.of(enterprise.id, campaign)


async def history(store: Store, submission_id: int) -> list[AuditEntry]:
    """The form's review history: submissions, decisions and comments, oldest first."""
    return list(
        (
            await store.session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.submission_id == submission_id,
                    AuditEntry.action.in_(
                        ("submission.submitted", "review.approved", "review.returned")
                    ),
                )
                .order_by(AuditEntry.id)
            )
        ).all()
    )


# ---- self-registrations -----------------------------------------------------------------------


async def registration_requested(
    store: Store,
    enterprise: Enterprise,
    contact: Contact,
    typed_name: str,
    notifier: Notifier,
) -> None:
    card = ReviewCard(
        level="county", round=0, kind="registration", contact_id=contact.id, created_at=now()
    )
    store.session.add(card)
    await store.commit()
    chats = await officials.alert_chats(
        store, "county", enterprise.region_code or "", notifier.private_alerts
    )
    await store.release()
    await notifier.registration_card(
        chats, RegistrationView(card.id, enterprise, contact, typed_name)
    )


async def decide_registration(
    store: Store,
    official: Official | None,
    card_id: int,
    accept: bool,
    reason: str,
    notifier: Notifier,
) -> Decision:
    card = await store.session.get(ReviewCard, card_id)
    if card is None or card.kind != "registration" or card.contact_id is None:
        return Decision("gone")
    contact = await store.session.get(Contact, card.contact_id)
    enterprise = await store.enterprises.get(contact.enterprise_id) if contact else None
    if contact is None or enterprise is None:
        return Decision("moved", card)
    if (
        official is None
        or official.level != "county"
        or not officials.jurisdiction(official).covers(enterprise.region_code)
    ):
        return Decision("forbidden", card, enterprise=enterprise)
    if contact.status != "pending":
        by, at = await _registration_decided(store, enterprise.id, contact)
        return Decision("moved", card, enterprise=enterprise, moved_by=by, moved_at=at)
    user_id = contact.telegram_user_id
    if accept:
        contact.status = "active"
        enterprise.status = "active" if enterprise.status == "pending" else enterprise.status
    else:
        contact.status = "refused"  # the person may ask again, with a better request
    await store.audit.record(
        "contact.confirmed" if accept else "contact.refused",
        official.telegram_user_id,
        enterprise_id=enterprise.id,
        contact=user_id,
        reason=reason,
        by_name=official.display_name,
    )
    await store.commit()
    await notifier.registration_decided(user_id, enterprise, accept, reason)
    return Decision("done", card, enterprise=enterprise)


async def _registration_decided(
    store: Store, enterprise_id: int, contact: Contact
) -> tuple[str, datetime | None]:
    """Who settled a request, and when: a county official, or the registrant themselves with
    an invitation link or their phone number."""
    entry = await store.session.scalar(
        select(AuditEntry)
        .where(
            or_(
                and_(
                    AuditEntry.enterprise_id == enterprise_id,
                    AuditEntry.action.in_(("contact.confirmed", "contact.refused")),
                ),
                and_(
                    AuditEntry.actor == contact.telegram_user_id,
                    AuditEntry.action == "contact.bound",
                ),
            )
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return "", None
    return str(entry.detail.get("by_name", contact.display_name)), entry.at
