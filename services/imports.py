"""Importing the enterprises the provincial platform pre-loads, from a CSV or XLSX file.

An upsert by credit code, idempotent: a row whose values are already stored changes nothing. A
re-import refreshes pre-loaded values the contact has not yet checked; it never replaces what a
contact typed, corrected or confirmed (those fields are reported as kept). A submitted form is
left as it is. Rows are written in chunks, each in its own transaction, so the bot stays
responsive during a large import and a re-run after a crash picks up what is missing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

from sqlalchemy import insert, select, update

from domain.catalog import Catalog
from domain.parsing import InputError, parse_value
from domain.review import EDITABLE  # forms whose unchecked pre-loaded answers follow a re-import
from services.record_files import Record
from storage.codec import encode
from storage.models import Answer, AuditEntry, Enterprise, Submission, now
from storage.repositories import Store, unchecked

Outcome = Literal["created", "updated", "unchanged", "rejected"]
OUTCOMES = {"created": "新建", "updated": "更新", "unchanged": "未变", "rejected": "拒绝"}
IDENTITY = ("credit_code", "enterprise_name", "region_code")  # a row without these is rejected
CHUNK = 1000


@dataclass(slots=True)
class RowResult:
    row: int
    credit_code: str
    name: str
    outcome: Outcome
    reason: str = ""  # why it was rejected
    fields: list[str] = field(default_factory=list)  # what a created/updated row set
    dropped: list[str] = field(default_factory=list)  # values that could not be read, left out
    kept: list[str] = field(default_factory=list)  # fields where the contact's answer stays


@dataclass(slots=True)
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.rows)


@dataclass(slots=True)
class _Row:
    result: RowResult
    values: dict[str, Any]  # by field name, encoded as stored
    mobile: str | None


def explain(row: RowResult) -> str:
    """What a reader of the report needs to know about a row ("" when nothing)."""
    said = [row.reason] if row.reason else []
    said += [f"未带入：{d}" for d in row.dropped]
    if row.kept:
        said.append(f"保留联系人已核对或填写的：{'、'.join(row.kept)}")
    return "；".join(said)


def kept_fields(catalog: Catalog) -> list[str]:
    """What an import stores: the pre-loaded fields, and the contact mobile (binding by phone)."""
    return [f.name for f in catalog.fields if f.prefill] + ["contact_mobile"]


def _read(catalog: Catalog, record: Record, kept: Sequence[str]) -> _Row:
    values: dict[str, Any] = {}
    result = RowResult(
        record.row, str(record.answers.get("credit_code") or "").strip(), "", "created"
    )
    for name in kept:
        if name not in record.answers:
            continue
        f = catalog.by_name[name]
        try:
            parsed = parse_value(f, record.answers[name], catalog)
        except InputError as exc:
            if name in IDENTITY:
                result.outcome, result.reason = "rejected", str(exc)
                return _Row(result, {}, None)
            result.dropped.append(str(exc))
            continue
        if parsed is not None:
            values[name] = encode(f, parsed.value)
    missing = [catalog.by_name[n].label for n in IDENTITY if n not in values]
    if missing:
        result.outcome, result.reason = "rejected", f"缺少{'、'.join(missing)}"
    result.credit_code = str(values.get("credit_code", result.credit_code))
    result.name = str(values.get("enterprise_name", ""))
    return _Row(result, values, values.pop("contact_mobile", None))


def _read_chunk(catalog: Catalog, records: Iterator[Record], kept: Sequence[str]) -> list[_Row]:
    return [_read(catalog, record, kept) for record in islice(records, CHUNK)]


async def import_records(
    store: Store,
    catalog: Catalog,
    records: Iterable[Record],
    actor: int | None,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Upsert every record; the report says per row what happened and why. Records are taken
    a chunk at a time (from a file being read, they are read meanwhile)."""
    kept = kept_fields(catalog)
    report = ImportReport()
    first_row: dict[str, int] = {}
    iterator = iter(records)
    # Reading is CPU work: off the event loop, so the bot keeps answering meanwhile.
    while read := await asyncio.to_thread(_read_chunk, catalog, iterator, kept):
        rows = []
        for row in read:
            record_row = row.result.row
            report.rows.append(row.result)
            if row.result.outcome == "rejected":
                continue
            code = row.result.credit_code
            if code in first_row:
                row.result.outcome = "rejected"
                row.result.reason = f"与第 {first_row[code]} 行的统一社会信用代码重复"
                continue
            first_row[code] = record_row
            rows.append(row)
        await _write(store, catalog, rows, actor)
        if dry_run:
            await store.session.rollback()
        else:
            await store.commit()
    return report


async def _write(store: Store, catalog: Catalog, rows: list[_Row], actor: int | None) -> None:
    session = store.session
    existing = {
        e.credit_code: e
        for e in (
            await session.execute(
                select(
                    Enterprise.id,
                    Enterprise.credit_code,
                    Enterprise.name,
                    Enterprise.region_code,
                    Enterprise.contact_mobile,
                    Enterprise.preloaded,
                ).where(Enterprise.credit_code.in_([r.result.credit_code for r in rows]))
            )
        ).all()
    }
    created, updated, changed, audit = [], [], [], []
    at = now()
    for row in rows:
        result, old = row.result, existing.get(row.result.credit_code)
        if old is None:
            result.fields = sorted(row.values)
            created.append(_columns(row, row.values) | {"status": "active", "created_at": at})
            continue
        preloaded = {**old.preloaded, **row.values}
        changes = {
            name: [old.preloaded.get(name), value]
            for name, value in row.values.items()
            if old.preloaded.get(name) != value
        }
        if row.mobile is not None and row.mobile != old.contact_mobile:
            changes["contact_mobile"] = [old.contact_mobile, row.mobile]
        if not changes:
            result.outcome = "unchanged"
            continue
        result.outcome, result.fields = "updated", sorted(changes)
        changed.append((row, old.id, changes))
        columns = _columns(row, preloaded) | {"id": old.id}
        if row.mobile is None:
            columns["contact_mobile"] = old.contact_mobile
        updated.append(columns)
        audit.append(_audit("enterprise.updated", actor, old.id, at, row, changes=changes))
    if created:
        ids = await session.execute(
            insert(Enterprise).returning(Enterprise.id, Enterprise.credit_code), created
        )
        by_code = {code: enterprise_id for enterprise_id, code in ids.all()}
        for row in rows:
            if row.result.outcome == "created":
                enterprise_id = by_code[row.result.credit_code]
                audit.append(_audit("enterprise.created", actor, enterprise_id, at, row))
    if updated:
        await session.execute(update(Enterprise), updated)
        await _refresh_drafts(store, catalog, changed, at)
    if audit:
        await session.execute(insert(AuditEntry), audit)


async def _open_drafts(store: Store, catalog: Catalog, enterprise_ids: list[int]) -> dict[int, int]:
    """The enterprises' forms still open (enterprise → submission), locked until the chunk
    commits: a contact submitting meanwhile waits, then finds the refreshed values and is asked
    to check them, rather than the import writing into a form already submitted."""
    query = (
        select(Submission.enterprise_id, Submission.id)
        .where(
            Submission.enterprise_id.in_(enterprise_ids),
            Submission.campaign == catalog.campaign.year,
            Submission.status.in_(EDITABLE),
        )
        .order_by(Submission.id)  # two imports lock in the same order: no deadlock
        .with_for_update()
    )
    return dict((await store.session.execute(query)).all())


def _columns(row: _Row, preloaded: dict[str, Any]) -> dict[str, Any]:
    return {
        "credit_code": row.result.credit_code,
        "name": row.result.name,
        "region_code": preloaded.get("region_code"),
        "contact_mobile": row.mobile,
        "preloaded": preloaded,
    }


def _audit(
    action: str, actor: int | None, enterprise_id: int, at: Any, row: _Row, **detail: Any
) -> dict[str, Any]:
    return {
        "action": action,
        "actor": actor,
        "enterprise_id": enterprise_id,
        "submission_id": None,
        "detail": {"row": row.result.row, **detail},
        "at": at,
    }


async def _refresh_drafts(
    store: Store,
    catalog: Catalog,
    changed: list[tuple[_Row, int, dict[str, list[Any]]]],
    at: Any,
) -> None:
    """Open drafts take the new values where the contact has not checked or typed them."""
    session = store.session
    submissions = await _open_drafts(store, catalog, [e for _, e, _ in changed])
    if not submissions:
        return
    answers = {
        (a.submission_id, a.field): a
        for a in (
            await session.scalars(
                select(Answer).where(Answer.submission_id.in_(submissions.values()))
            )
        ).all()
    }
    fresh, seeded = [], []
    for row, enterprise_id, changes in changed:
        submission_id = submissions.get(enterprise_id)
        if submission_id is None:
            continue
        for name, (_, value) in changes.items():
            if name not in catalog.by_name or not catalog.by_name[name].prefill:
                continue
            answer = answers.get((submission_id, name))
            if answer is None:
                seeded.append(unchecked(submission_id, name, value, at))
            elif answer.source == "preloaded" and not answer.confirmed:
                fresh.append({"submission_id": submission_id, "field": name, "value": value})
            else:
                row.result.kept.append(name)
    if fresh:
        await session.execute(update(Answer), fresh)
    if seeded:
        await session.execute(insert(Answer), seeded)
    if touched := {a["submission_id"] for a in (*fresh, *seeded)}:
        # a draft a bot instance keeps is read again (services.form.open_draft)
        await session.execute(
            update(Submission)
            .where(Submission.id.in_(touched))
            .values(version=Submission.version + 1)
            .execution_options(synchronize_session=False)
        )
