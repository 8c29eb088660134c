"""Filling in the form: the draft, answers, confirmations, the estimate and submission.

A change joins the update's transaction, committed before the bot says anything about it
(`bot.middlewares.LetGo`): an answer, its audit entry, the record that the update was applied and
the screen that comes next are stored together, or none of them; `submit` commits at once.
Contacts of one enterprise share a draft, and several instances may serve them: a draft's
answers and confirmations are read again for an update unless this process holds them at the
form's current version (`Submission.version`, read with the form on every update).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from domain import clock, units
from domain.catalog import Catalog, Field
from domain.deadlines import Where, Window, submission_window
from domain.form import KEEP_WORDS, SKIP_WORDS, FormState
from domain.parsing import InputError, parse_value
from domain.review import EDITABLE, RETURNED, WAITING, after_resubmission
from domain.rules import Finding, Severity, order_key
from domain.scoring import Score, raw_values, score_against, stage_of
from domain.text import folded
from domain.validation import check_values, evaluate
from services import deadlines, review
from services.notifier import Notifier
from storage.codec import decode, encode
from storage.db import kept
from storage.hooks import after_commit
from storage.models import (
    AuditEntry,
    Commitment,
    Confirmation,
    Contact,
    Enterprise,
    Submission,
    now,
)
from storage.repositories import FormRow, Store, StoredAnswer, cancel_reminders

DRAFTS_KEPT = 1_000  # drafts a process keeps between updates, the most recently used
SUBMITTED = (*WAITING.values(), "reported", "scored")


class FormChanged(Exception):
    """The answers are no longer those the contact was shown with the commitment: `by` (a
    contact's name, or "" for a change of pre-loaded data) changed them meanwhile."""

    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


class FormLocked(Exception):
    """The form cannot take this change: it was submitted, or it moved on (submitted and
    returned) since the contact's screen was shown. Who did it and when, for telling them."""

    def __init__(self, status: str = "", by: str = "", at: datetime | None = None) -> None:
        super().__init__(status)
        self.status, self.by, self.at = status, by, at

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE


@dataclass(slots=True)
class Outstanding:
    """What stands between the draft and submission, and what was confirmed on the way."""

    blocking: list[Finding]  # strong rules and empty required fields
    to_confirm: list[Finding]  # weak rules without a confirmation for these values
    confirmed: list[Finding]
    unchecked_sections: list[str]  # sections whose pre-loaded values await a check
    reopened: list[str] = field(default_factory=list)  # returned fields not yet answered again

    @property
    def ready(self) -> bool:
        return not (self.blocking or self.to_confirm or self.unchecked_sections or self.reopened)


@dataclass(slots=True)
class Draft:
    catalog: Catalog
    enterprise: Enterprise
    submission: Submission
    answers: dict[str, StoredAnswer]
    confirmations: list[Confirmation]
    notes: dict[str, str] = field(default_factory=dict)  # a returned form's comments by field
    extension: date | None = None  # the province's latest extension covering the enterprise
    values: dict[str, object] = field(default_factory=dict)  # the answers decoded (if not given)
    _state: FormState | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.values:
            self.values = {
                name: decode(self.catalog.by_name[name], a.value)
                for name, a in self.answers.items()
                if a.value is not None and name in self.catalog.by_name
            }

    @property
    def editable(self) -> bool:
        return self.submission.status in EDITABLE

    @property
    def returned(self) -> bool:
        return self.submission.status == RETURNED

    @property
    def window(self) -> Window:
        """When this form may be submitted (a returned form: through the review stages)."""
        return submission_window(self.catalog.campaign, self.returned, self.extension)

    @property
    def when(self) -> Where:
        """Whether today is within the form's window, before it or after."""
        return self.window.where(clock.today(self.catalog.campaign.zone))

    @property
    def reopened(self) -> frozenset[str] | None:
        """A returned form's fields not yet answered again since the return; None for a draft."""
        if not self.returned:
            return None
        since = self.submission.status_at
        return frozenset(
            n
            for n in self.submission.reopened or ()
            if n not in self.answers or since is None or self.answers[n].answered_at <= since
        )

    @property
    def changeable(self) -> frozenset[str] | None:
        """A returned form's fields the reviewer reopened; None when any field may change: a
        draft, or a form returned as a whole (comments on 整张表 only, no field named)."""
        if not self.returned or not self.submission.reopened:
            return None
        return frozenset(self.submission.reopened)

    def may_change(self, name: str) -> bool:
        """A draft changes freely; a returned form, only where the reviewer commented (all of it
        when the comment was on the whole form)."""
        if self.returned:
            return self.changeable is None or name in self.changeable
        return self.editable

    @property
    def state(self) -> FormState:
        """Worked out once (a screen asks for it several times) until an answer changes."""
        if self._state is None:
            self._state = FormState(
                self.values,
                skipped=frozenset(n for n, a in self.answers.items() if a.source == "skipped"),
                unconfirmed=frozenset(n for n, a in self.answers.items() if not a.confirmed),
            )
        return self._state

    def answer(self, name: str, answer: StoredAnswer, value: object) -> None:
        """An answer stored, `value` decoded (None: none): the draft as it now is."""
        self.answers[name] = answer
        if value is None:
            self.values.pop(name, None)
        else:
            self.values[name] = value
        self._state = None

    def confirm(self, name: str) -> None:
        """A pre-loaded value checked by the contact."""
        self.answers[name] = replace(self.answers[name], confirmed=True)
        self._state = None

    def stored(self, names: tuple[str, ...]) -> dict[str, object]:
        return {n: self.answers[n].value if n in self.answers else None for n in names}

    def is_confirmed(self, finding: Finding) -> bool:
        key = ",".join(finding.fields)
        snapshot = self.stored(finding.fields)
        return any(
            c.rule == finding.rule and c.fields == key and c.snapshot == snapshot
            for c in self.confirmations
        )

    def outstanding(self) -> Outstanding:
        findings = check_values(self.values, self.catalog)
        weak = [f for f in findings if f.severity is Severity.WEAK]
        unchecked = self.state.unconfirmed
        return Outstanding(
            blocking=[f for f in findings if f.severity is Severity.STRONG],
            to_confirm=[f for f in weak if not self.is_confirmed(f)],
            confirmed=[f for f in weak if self.is_confirmed(f)],
            unchecked_sections=list(
                dict.fromkeys(f.section for f in self.catalog.fields if f.name in unchecked)
            ),
            reopened=sorted(self.reopened or ()),
        )

    def about(self, name: str) -> list[Finding]:
        """Problems involving this field right now: strong ones and unconfirmed weak ones, of
        rules whose every field the contact has gone past (S8 waits for the rank after the
        list's name): a rule does not complain of a question not yet asked."""
        found = evaluate(self.values, self.catalog, within=self.state.passed, touching=name)
        found.sort(key=lambda f: order_key(f.rule))
        return [
            f
            for f in found
            if name in f.fields and (f.severity is Severity.STRONG or not self.is_confirmed(f))
        ]


@dataclass(frozen=True, slots=True)
class _Kept:
    """A draft's answers and confirmations as they were at the form's `version`."""

    catalog: Catalog
    version: int
    answers: dict[str, StoredAnswer]  # never changed: a draft changes its own copy
    values: dict[str, object]
    confirmations: tuple[Confirmation, ...]

    @classmethod
    def of(cls, draft: Draft) -> _Kept:
        return cls(
            draft.catalog,
            draft.submission.version,
            dict(draft.answers),
            dict(draft.values),
            tuple(draft.confirmations),
        )


@dataclass(slots=True)
class Answered:
    error: str = ""  # the answer was refused: what is wrong and how to fix it
    note: str = ""  # a conversion to confirm
    findings: list[Finding] = field(default_factory=list)
    in_yuan: Decimal | None = None  # the figure in 万元 if it was likely typed in 元: asked first
    skipped: bool = False  # "跳过" typed for an optional field


async def open_draft(
    store: Store, contact: Contact, catalog: Catalog, read: FormRow | None = None
) -> Draft:
    """The enterprise's draft for the campaign, made (with its pre-loaded values) on first use;
    from the form as `read` with the sender in this update (`bot.middlewares.Services`), if it
    is the contact's enterprise's. The reading transaction is left open (no `Store.release`):
    the update goes on to write or to speak, and before it speaks its work is committed
    (`bot.middlewares.LetGo`); ending it here cost a commit per update for nothing."""
    campaign = catalog.campaign.year
    if read is None or read.enterprise.id != contact.enterprise_id:
        read = await store.submissions.with_enterprise(contact.enterprise_id, campaign)
    enterprise, submission, extensions = read
    if submission is None:
        if await store.submissions.create(enterprise.id, campaign):
            created = await store.submissions.of(enterprise.id, campaign)
            assert created is not None
            await store.submissions.seed(created.id, _preloaded(catalog, enterprise), now())
            await store.audit.record(
                "submission.opened",
                contact.telegram_user_id,
                enterprise_id=enterprise.id,
                submission_id=created.id,
            )
        await store.commit()
        submission = await store.submissions.of(enterprise.id, campaign)
        assert submission is not None
    drafts: dict[int, _Kept] = kept(store.session, "drafts")
    known = drafts.pop(submission.id, None)  # put back last: the most recently used
    if known is None or known.version != submission.version or known.catalog is not catalog:
        answers = await store.submissions.answers(submission.id)
        confirmations = await store.submissions.confirmations(submission.id)
        known = _Kept.of(Draft(catalog, enterprise, submission, answers, list(confirmations)))
    drafts[submission.id] = known
    if len(drafts) > DRAFTS_KEPT:
        del drafts[next(iter(drafts))]
    notes = (
        {n.field: n.comment for n in await review.last_notes(store, submission)}
        if submission.status == RETURNED
        else {}
    )
    extension = (  # a submitted form's window is moot: one statement fewer for it
        await deadlines.extension_of(store.session, campaign, enterprise, extensions)
        if submission.status in EDITABLE
        else None
    )
    return Draft(
        catalog,
        enterprise,
        submission,
        dict(known.answers),
        list(known.confirmations),
        notes,
        extension,
        dict(known.values),
    )


def _keep(store: Store, draft: Draft, version: int) -> None:
    """After a change to the draft (`version`: the form's, held for it): kept as it is now once
    the change is committed, if nobody else changed the form since it was read; forgotten until
    then, and otherwise."""
    drafts: dict[int, _Kept] = kept(store.session, "drafts")
    submission_id = draft.submission.id
    drafts.pop(submission_id, None)
    if version == draft.submission.version + 1:
        set_committed_value(draft.submission, "version", version)
        now_kept = _Kept.of(draft)
        after_commit(store.session, lambda: drafts.__setitem__(submission_id, now_kept))


def _preloaded(catalog: Catalog, enterprise: Enterprise) -> dict[str, object]:
    """The enterprise's pre-loaded values that are fields of this campaign's form."""
    return {name: value for name, value in enterprise.preloaded.items() if name in catalog.by_name}


async def answer(store: Store, draft: Draft, name: str, raw: object, user_id: int) -> Answered:
    """Read what the contact typed for a field; store it if it is a valid answer."""
    f = draft.catalog.by_name[name]
    word = folded(raw).strip() if isinstance(raw, str) else ""
    if word in KEEP_WORDS and name in draft.values:
        return await keep(store, draft, name, user_id)
    try:
        parsed = None if word in SKIP_WORDS else parse_value(f, raw, draft.catalog)
    except InputError as exc:
        return Answered(error=str(exc))
    if parsed is None and word:  # 跳过, or 无 on a question that may be left empty
        if await skip(store, draft, name, user_id):
            return Answered(skipped=True)
        return Answered(error=f"{f.label}是必填项，不能跳过。例如 {f.example}")
    if parsed is None:  # nothing that shows: the question stays
        return Answered(error=f"{f.label}：请填写内容。例如 {f.example}")
    await put(store, draft, name, parsed.value, "typed", user_id)
    in_yuan = None
    if not parsed.note and isinstance(parsed.value, Decimal):  # 元 typed out is converted
        in_yuan = units.in_yuan(name, parsed.value, draft.values, draft.catalog)
    return Answered(note=parsed.note, findings=draft.about(name), in_yuan=in_yuan)


async def keep(store: Store, draft: Draft, name: str, user_id: int) -> Answered:
    """The value the field holds is right (无误, ✅ 保持不变): answered again as it is."""
    await put(store, draft, name, draft.values[name], "typed", user_id)
    return Answered(findings=draft.about(name))


def corrected_unit(draft: Draft, name: str) -> Decimal | None:
    """The one-tap correction of a figure likely typed in 元 (or with three digits too many)."""
    value = draft.values.get(name)
    if not isinstance(value, Decimal):
        return None
    suggested = units.in_yuan(name, value, draft.values, draft.catalog)
    if suggested is not None:
        return suggested
    return next(
        (
            f.suggestion
            for f in check_values(draft.values, draft.catalog)
            if f.rule == "W-unit" and f.fields == (name,)
        ),
        None,
    )


async def keep_unit(store: Store, draft: Draft, name: str, user_id: int) -> None:
    """确实是 X 万元: the contact keeps a figure asked about as 元; a W-unit warning on it is
    confirmed with it, so they are not asked the same thing twice."""
    version = await _hold(store, draft)
    for finding in check_values(draft.values, draft.catalog):
        if (
            finding.rule == "W-unit"
            and finding.fields == (name,)
            and not draft.is_confirmed(finding)
        ):
            _confirmation(store, draft, finding, user_id)
    await _audit(
        store,
        draft,
        "unit.kept",
        user_id,
        field=name,
        value=draft.answers[name].value,
    )
    _keep(store, draft, version)


async def _audit(store: Store, draft: Draft, action: str, user_id: int, **detail: object) -> None:
    """Add an entry about the form to the transaction."""
    await store.audit.record(
        action,
        user_id,
        enterprise_id=draft.enterprise.id,
        submission_id=draft.submission.id,
        **detail,
    )


async def _hold(store: Store, draft: Draft, *, last: bool = False) -> int:
    """In the transaction that writes: the form is still as the contact's screen showed it
    (editable, same round), and stays so until the commit; `FormLocked` (rolled back) if not.
    The form's new version (see `_keep`). `last`: the transaction writes nothing more to the
    form after it (`Submissions.hold`)."""
    submission_id, round_ = draft.submission.id, draft.submission.round
    try:
        version = await store.submissions.hold(submission_id, round_, last=last)
    except IntegrityError as refused:  # its statement failed, and all it carried with it
        await store.rollback()
        status, now_round = await store.submissions.status(submission_id)
        if status in EDITABLE and now_round == round_:
            raise refused  # not the hold that refused
    else:
        if version is not None:
            return version
        await store.rollback()
        status = ""  # no such form
    by, at = await review.last_decision(store, submission_id)
    raise FormLocked(status, by, at)


async def put(
    store: Store, draft: Draft, name: str, value: object, source: str, user_id: int
) -> None:
    """Store one field's value (None with source "skipped") and record the change."""
    await put_many(store, draft, {name: value}, source, user_id)


async def put_many(
    store: Store,
    draft: Draft,
    values: Mapping[str, object],
    source: str,
    user_id: int,
    checked: Sequence[str] = (),
) -> None:
    """Store several fields' values (None: skipped), each with its audit entry, and mark the
    pre-loaded values `checked` as confirmed: all in the update's transaction, or nothing
    (`FormLocked`)."""
    if not all(draft.may_change(name) for name in (*values, *checked)):
        raise FormLocked(draft.submission.status)
    written: dict[str, StoredAnswer] = {}
    for name, value in values.items():
        f: Field = draft.catalog.by_name[name]
        old = draft.answers.get(name)
        stored = encode(f, value)
        changed = old is not None and old.source == "preloaded" and old.value != stored
        # a pre-loaded value the contact changed is "corrected"; an empty one is "skipped"
        kind = "corrected" if source == "typed" and changed else source
        kind = "skipped" if value is None else kind
        await store.submissions.put(draft.submission.id, name, stored, kind, user_id)
        await _audit(
            store,
            draft,
            "answer",
            user_id,
            field=name,
            old=None if old is None else old.value,
            new=stored,
            source=kind,
        )
        written[name] = StoredAnswer(stored, kind, confirmed=True, answered_at=now())
    # held after the writes, in the same transaction: on PostgreSQL they go in the hold's own
    # statement (`storage.hot`); a form found locked rolls them back
    version = await _hold(store, draft, last=not checked)
    if checked:
        await store.submissions.confirm(draft.submission.id, checked, user_id)
        await _audit(store, draft, "preloaded.confirmed", user_id, fields=list(checked))
    for name in checked:
        draft.confirm(name)
    for name, answer in written.items():
        draft.answer(name, answer, values[name])
    _keep(store, draft, version)


async def skip(store: Store, draft: Draft, name: str, user_id: int) -> bool:
    """Leave an optional field empty; a required one cannot be skipped."""
    f = draft.catalog.by_name[name]
    if f.required or f.required_with:
        return False
    await put(store, draft, name, None, "skipped", user_id)
    return True


async def confirm_preloaded(store: Store, draft: Draft, section: str, user_id: int) -> list[str]:
    """The contact checked the section's pre-loaded values: all of them are right."""
    if not draft.editable:
        raise FormLocked(draft.submission.status)
    names = [f.name for f in draft.catalog.in_section(section) if f.name in draft.state.unconfirmed]
    if names:
        version = await _hold(store, draft)
        await store.submissions.confirm(draft.submission.id, names, user_id)
        await _audit(
            store,
            draft,
            "preloaded.confirmed",
            user_id,
            fields=names,
        )
        for name in names:
            draft.confirm(name)
        _keep(store, draft, version)
    return names


async def confirm_warnings(
    store: Store, draft: Draft, findings: list[Finding], user_id: int
) -> None:
    """数据无误: the contact confirms weak rules' figures as they are now."""
    if not draft.editable:
        raise FormLocked(draft.submission.status)
    version = await _hold(store, draft)
    for finding in findings:
        _confirmation(store, draft, finding, user_id)
        await _audit(
            store,
            draft,
            "warning.confirmed",
            user_id,
            rule=finding.rule,
            fields=list(finding.fields),
            text=finding.text,
        )
    _keep(store, draft, version)


def _confirmation(store: Store, draft: Draft, finding: Finding, user_id: int) -> None:
    confirmation = Confirmation(
        submission_id=draft.submission.id,
        rule=finding.rule,
        fields=",".join(finding.fields),
        snapshot=draft.stored(finding.fields),
        confirmed_by=user_id,
        confirmed_at=now(),
    )
    store.submissions.add_confirmation(confirmation)
    draft.confirmations.append(confirmation)


async def estimate(store: Store, draft: Draft) -> Score:
    """The 预估 score against the stage's submitted enterprises (bonus only below the minimum)."""
    stage = stage_of(draft.values, draft.catalog.campaign)
    others: list[list[float | None]] = []
    if stage is not None:
        own = draft.submission.id
        cohort = await _cohort(store, draft.submission.campaign, stage)
        others = [row for submission, row in cohort if submission != own]
    return score_against(draft.values, others, draft.catalog.campaign)


BIG_COHORT = 1_000  # submitted forms of a stage from which the cohort is read once a minute
COHORT_TTL = 60.0  # seconds
_cohorts: dict[tuple[int, str], tuple[float, list[tuple[int, list[float | None]]]]] = {}


async def _cohort(store: Store, campaign: int, stage: str) -> list[tuple[int, list[float | None]]]:
    """(submission, raw indicators) of the stage's submitted forms.

    Every summary shows the estimate; on the last days, with thousands submitted, reading and
    decoding them all for each was most of a summary's cost. A cohort that large moves little in
    a minute, so it is read once a minute per process; a smaller one every time.
    """
    cached = _cohorts.get((campaign, stage))
    if cached is not None and time.monotonic() - cached[0] < COHORT_TTL:
        return cached[1]
    query = select(Submission.id, Submission.indicators).where(
        Submission.campaign == campaign,
        Submission.status.in_(SUBMITTED),
        Submission.stage == stage,
    )
    rows = [(i, row) for i, row in await store.session.execute(query) if row]
    await store.release()
    if len(rows) >= BIG_COHORT:
        _cohorts[campaign, stage] = (time.monotonic(), rows)
    return rows


Refusal = Literal["locked", "not_ready", "not_yet", "closed"]


async def last_editor(store: Store, submission_id: int, since: datetime | None) -> str:
    """The name of the contact who last changed the form's answers since `since` ("" when none
    did: the change came with pre-loaded data)."""
    query = select(AuditEntry.actor).where(
        AuditEntry.submission_id == submission_id,
        AuditEntry.action.in_(("answer", "preloaded.confirmed", "warning.confirmed")),
    )
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    actor = await store.session.scalar(query.order_by(AuditEntry.id.desc()).limit(1))
    contact = await store.contacts.by_user(actor) if actor is not None else None
    return contact.display_name if contact else ""


def data_hash(credit_code: str, answers: Mapping[str, StoredAnswer]) -> str:
    """SHA-256 of the answers as signed: a later copy of the form can show they are unchanged."""
    data = json.dumps(
        {"credit_code": credit_code, "answers": {n: a.value for n, a in sorted(answers.items())}},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(data.encode()).hexdigest()


async def submit(
    store: Store,
    draft: Draft,
    user_id: int,
    commitment_text: str,
    notifier: Notifier,
    signed: tuple[str, datetime] | None = None,
    signer: str = "",
) -> Refusal | None:
    """Sign the commitment and submit: the form locks and the officials are told; only within
    the form's window (`not_yet`, `closed` otherwise). `signed`:
    `data_hash` of the answers when the contact was shown the commitment, and when; the form
    is submitted only if its answers are still those (`FormChanged` if another contact of the
    enterprise, or an import, changed them meanwhile). `FormLocked` if the form moved on
    meanwhile. A returned form goes back to the level that returned it.
    """
    if not draft.editable:
        return "locked"
    if (when := draft.when) != "open":
        return when
    if not draft.outstanding().ready:
        return "not_ready"
    await _hold(store, draft)
    code, submission_id = draft.enterprise.credit_code, draft.submission.id
    digest = data_hash(code, await store.submissions.answers(submission_id))
    if digest != (signed[0] if signed else data_hash(code, draft.answers)):
        by = await last_editor(store, submission_id, signed[1] if signed else None)
        await store.rollback()
        raise FormChanged(by)
    contact = await store.contacts.by_user(user_id)
    submission, status = draft.submission, draft.submission.status
    target = (
        after_resubmission(submission.returned_level)  # type: ignore[arg-type]
        if draft.returned
        else WAITING["county"]
    )
    moved = await store.submissions.move(
        submission,
        status,
        target,
        stage=stage_of(draft.values, draft.catalog.campaign),
        indicators=list(raw_values(draft.values)),
        round=submission.round + 1,
        status_at=now(),
    )
    if not moved:
        await store.rollback()
        return "locked"  # a second press, or another contact, submitted it first
    store.submissions.add_commitment(
        Commitment(
            submission_id=submission.id,
            telegram_user_id=user_id,
            signed_at=now(),
            text_sha256=hashlib.sha256(commitment_text.encode()).hexdigest(),
            data_sha256=digest,
            text=commitment_text,
            signer=signer or None,
        )
    )
    await _audit(
        store,
        draft,
        "submission.submitted",
        user_id,
        previous=status,
        status=target,
        by_name=contact.display_name if contact else "",
    )
    contacts = await store.session.scalars(
        select(Contact.telegram_user_id).where(Contact.enterprise_id == draft.enterprise.id)
    )
    await cancel_reminders(store.session, list(contacts.all()))
    await store.commit()
    refreshed = await store.submissions.get(submission.id)
    assert refreshed is not None
    draft.submission = refreshed
    await review.submitted(
        store, draft.catalog, draft.enterprise, refreshed, draft.values, notifier
    )
    return None
