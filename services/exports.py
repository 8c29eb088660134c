"""Getting the data out: a workbook with one row per enterprise (every field in the catalog's
order, Chinese headers with units, status, weak rules and their confirmations, reviewer comments)
and a second sheet with the audit trail; and one enterprise's form with its signed commitment.

The first sheet reads back with `validate` and `import` (its headers are the catalog's labels);
the province's export of reported forms is what it uploads to the national platform.
"""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Select, select

from domain import formatting
from domain.catalog import Catalog, Field, Kind
from domain.review import LEVEL_NAMES, WAITING, Jurisdiction
from domain.rules import Finding
from domain.scoring import BONUS_PARTS, INDICATORS
from services import officials
from services.cells import formula_like
from services.form import Draft, data_hash
from services.overview import BUCKETS, bucket, with_form
from storage.codec import decode
from storage.models import (
    Answer,
    AuditEntry,
    Commitment,
    Confirmation,
    Contact,
    Enterprise,
    Official,
    ReviewNote,
    Submission,
)
from storage.repositories import Store, StoredAnswer

if TYPE_CHECKING:
    from services.scores import Ranked

# Which forms: all, submitted at least once, reported, or a level's queue (waiting there).
Which = Literal["all", "submitted", "reported", "county", "city", "province"]
WHICH_NAMES: dict[str, str] = {
    "all": "全部",
    "submitted": "已提交",
    "reported": "已上报",
    **{level: f"待{name}级审核" for level, name in LEVEL_NAMES.items()},
}
_STATUSES: dict[str, tuple[str, ...]] = {
    "submitted": ("submitted", "city_review", "province_review", "returned", "reported"),
    "reported": ("reported",),
    **{level: (status,) for level, status in WAITING.items()},
}
_UNREAD = datetime.min.replace(tzinfo=UTC)
EXCEL_ROWS = 1_048_576  # a sheet's limit, header included

# What the audit trail's actions mean, for people reading the sheet.
ACTIONS: dict[str, str] = {
    "enterprise.created": "导入新建企业",
    "enterprise.updated": "导入更新预填数据",
    "contact.bound": "联系人绑定",
    "contact.requested": "联系人申请绑定",
    "contact.confirmed": "区县确认联系人",
    "contact.refused": "区县拒绝联系人",
    "submission.opened": "开始填报",
    "answer": "填写",
    "preloaded.confirmed": "确认预填数据",
    "warning.confirmed": "确认提示无误",
    "submission.submitted": "签署承诺书并提交",
    "review.approved": "审核通过",
    "review.returned": "审核退回",
    "review.nudged": "催办",
    "unit.kept": "确认金额单位为万元",
    "deadline.extended": "延长提交截止日期",
}


@dataclass(slots=True)
class FormRecord:
    """One enterprise as exported: its answers (or pre-loaded values before it started)."""

    enterprise: Enterprise
    submission: Submission | None
    values: dict[str, object]
    status: str  # a bucket of overview.BUCKETS
    weak: list[tuple[Finding, bool]] = field(default_factory=list)  # fired, confirmed?
    notes: list[ReviewNote] = field(default_factory=list)
    commitment: Commitment | None = None
    signed_data_unchanged: bool | None = None  # the answers still hash to what was signed


def _chosen(
    scope: Jurisdiction, which: Which, campaign: int, enterprise_id: int | None = None
) -> Select[Any]:
    query = with_form(select(Enterprise, Submission), campaign).where(
        Enterprise.status == "active", officials.within(scope)
    )
    if enterprise_id is not None:
        query = query.where(Enterprise.id == enterprise_id)
    if which != "all":
        query = query.where(Submission.status.in_(_STATUSES[which]))
    return query


async def forms(
    store: Store,
    catalog: Catalog,
    scope: Jurisdiction,
    which: Which = "all",
    findings: bool = True,
    enterprise_id: int | None = None,
) -> list[FormRecord]:
    """The enterprises of the scope (only submitted or reported ones if asked; only one if
    `enterprise_id`), by region and credit code. Answers, confirmations and comments are read in
    one query each; the weak rules are checked unless `findings` is false (the scoring run needs
    only the values)."""
    campaign = catalog.campaign.year
    chosen = _chosen(scope, which, campaign, enterprise_id)
    pairs = (
        await store.session.execute(chosen.order_by(Enterprise.region_code, Enterprise.credit_code))
    ).all()
    ids = chosen.with_only_columns(Submission.id).where(Submission.id.is_not(None))
    answers: dict[int, dict[str, StoredAnswer]] = defaultdict(dict)
    for row in await store.session.execute(
        select(
            Answer.submission_id,
            Answer.field,
            Answer.value,
            Answer.source,
            Answer.confirmed,
        ).where(Answer.submission_id.in_(ids))
    ):
        # When each answer was given is not exported; not reading it saves a third of the time.
        answers[row[0]][row[1]] = StoredAnswer(*row[2:], answered_at=_UNREAD)
    confirmations = await _by_submission(store, Confirmation, ids)
    notes = await _by_submission(store, ReviewNote, ids)
    await store.release()
    # Checking 13,000 forms is seconds of CPU: off the event loop, so the bot keeps answering.
    return await asyncio.to_thread(
        _assemble, catalog, pairs, answers, confirmations, notes, findings
    )


def _assemble(
    catalog: Catalog,
    pairs: Sequence[Any],
    answers: dict[int, dict[str, StoredAnswer]],
    confirmations: dict[int, list[Confirmation]],
    notes: dict[int, list[ReviewNote]],
    findings: bool,
) -> list[FormRecord]:
    records = []
    for enterprise, submission in pairs:
        if submission is None:
            values = {
                n: decode(catalog.by_name[n], v)
                for n, v in enterprise.preloaded.items()
                if n in catalog.by_name and v is not None
            }
            records.append(FormRecord(enterprise, None, values, "not_started"))
            continue
        stored = answers.get(submission.id, {})
        draft = Draft(catalog, enterprise, submission, stored, confirmations.get(submission.id, []))
        started = any(a.source != "preloaded" or a.confirmed for a in stored.values())
        record = FormRecord(
            enterprise,
            submission,
            draft.values,
            bucket(submission.status, started),
            notes=notes.get(submission.id, []),
        )
        if findings:
            outstanding = draft.outstanding()
            record.weak = [(f, True) for f in outstanding.confirmed]
            record.weak += [(f, False) for f in outstanding.to_confirm]
        records.append(record)
    return records


async def _by_submission(store: Store, model: Any, ids: Select[Any]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    rows = await store.session.scalars(
        select(model).where(model.submission_id.in_(ids)).order_by(model.id)
    )
    for row in rows:
        found[row.submission_id].append(row)
    return found


async def one_form(
    store: Store, catalog: Catalog, scope: Jurisdiction, credit_code: str
) -> FormRecord | None:
    """One enterprise of the scope, with its latest signed commitment; None if not in scope."""
    enterprise = await store.enterprises.by_credit_code(credit_code.strip().upper())
    if enterprise is None or not scope.covers(enterprise.region_code):
        return None
    found = await forms(store, catalog, scope, enterprise_id=enterprise.id)
    record = found[0] if found else None
    if record is None or record.submission is None:
        return record
    record.commitment = await store.session.scalar(
        select(Commitment)
        .where(Commitment.submission_id == record.submission.id)
        .order_by(Commitment.id.desc())
        .limit(1)
    )
    if record.commitment is not None:
        answers = await store.submissions.answers(record.submission.id)
        record.signed_data_unchanged = (
            data_hash(enterprise.credit_code, answers) == record.commitment.data_sha256
        )
    await store.release()
    return record


async def audit_trail(
    store: Store, scope: Jurisdiction, which: Which, campaign: int
) -> list[tuple[AuditEntry, Enterprise]]:
    """Every audit entry about the exported enterprises, oldest first."""
    exported = _chosen(scope, which, campaign).with_only_columns(Enterprise.id)
    rows = await store.session.execute(
        select(AuditEntry, Enterprise)
        .join(Enterprise, Enterprise.id == AuditEntry.enterprise_id)
        .where(AuditEntry.enterprise_id.in_(exported))
        .order_by(AuditEntry.id)
        .limit(EXCEL_ROWS - 1)
    )
    trail = [(a, e) for a, e in rows.all()]
    await store.release()
    return trail


async def people(store: Store) -> dict[int, str]:
    """Display names of contacts and officials by Telegram user id, for the audit sheet."""
    names: dict[int, str] = {}
    for model in (Contact, Official):
        rows = await store.session.execute(select(model.telegram_user_id, model.display_name))
        names.update({uid: name for uid, name in rows.all() if name})
    await store.release()
    return names


# ---- the workbook -----------------------------------------------------------------------------


def cell_value(catalog: Catalog, f: Field, value: object) -> object:
    """A stored value as a spreadsheet cell: numbers stay numbers, dates dates."""
    if value is None:
        return None
    if (said := formatting.words(catalog, f, value)) is not None:
        return said
    if isinstance(value, (Decimal, int, float, date)):
        return value
    return str(value)


def weak_text(weak: Sequence[tuple[Finding, bool]]) -> str:
    return "\n".join(
        f"{f.rule} {f.text}（{'企业已确认无误' if ok else '未确认'}）" for f, ok in weak
    )


def notes_text(catalog: Catalog, notes: Sequence[ReviewNote]) -> str:
    def about(note: ReviewNote) -> str:
        f = catalog.by_name.get(note.field)
        return f"【{f.label}】" if f else "【整张表单】"

    def day(note: ReviewNote) -> str:
        return f"{note.at.astimezone(catalog.campaign.zone):%m月%d日}"

    return "\n".join(
        f"{day(n)} {LEVEL_NAMES.get(n.level, n.level)}级 {about(n)}{n.comment}" for n in notes
    )


def workbook(
    catalog: Catalog,
    records: Iterable[FormRecord],
    trail: Iterable[tuple[AuditEntry, Enterprise]],
    names: dict[int, str],
    zone: Any,
) -> bytes:
    """The XLSX: sheet 表单 (one row per enterprise) and sheet 审计记录."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("表单")
    sheet.freeze_panes = "C2"
    headers = [f.label_with_unit for f in catalog.fields]
    headers += ["填报状态", "首次提交时间", "提示规则（确认情况）", "审核意见"]
    _header(sheet, headers, [14 if f.kind is not Kind.TEXT else 24 for f in catalog.fields])
    for r in records:
        submitted_at = r.submission.submitted_at if r.submission else None
        cells = [cell_value(catalog, f, r.values.get(f.name)) for f in catalog.fields]
        cells += [
            BUCKETS[r.status],
            submitted_at.astimezone(zone).replace(tzinfo=None) if submitted_at else None,
            weak_text(r.weak) or None,
            notes_text(catalog, r.notes) or None,
        ]
        sheet.append([_cell(sheet, c) for c in cells])
    audit = book.create_sheet("审计记录")
    _header(audit, ["时间", "操作人", "统一社会信用代码", "企业名称", "操作", "详情"], [20, 16])
    for entry, enterprise in trail:
        actor = "系统" if entry.actor is None else names.get(entry.actor, "") + f"（{entry.actor}）"
        row = [
            entry.at.astimezone(zone).replace(tzinfo=None),
            actor,
            enterprise.credit_code,
            enterprise.name,
            ACTIONS.get(entry.action, entry.action),
            _detail(catalog, entry),
        ]
        audit.append([_cell(audit, c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: WriteOnlyWorksheet, headers: list[str], widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    row = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        row.append(cell)
    sheet.append(row)


def _cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """Text is always text: a company name that looks like a formula (`cells.formula_like`)
    must not become one, and control characters (which Excel refuses) are dropped. Other values
    go in as they are."""
    if not isinstance(value, str) or not (
        formula_like(value) or ILLEGAL_CHARACTERS_RE.search(value)
    ):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


VIA = {"invitation": "专属链接", "phone": "手机号", "request": "申请，待区县确认"}


def _detail(catalog: Catalog, entry: AuditEntry) -> str:
    """What happened, in words: field labels and Chinese names, never the stored keys."""
    d = entry.detail or {}

    def labels(names: Iterable[str]) -> str:
        return "、".join(catalog.by_name[n].label for n in names if n in catalog.by_name)

    if entry.action in ("enterprise.created", "enterprise.updated"):
        changed = labels(d.get("changes") or ())
        return f"第 {d.get('row')} 行" + (f"：{changed}" if changed else "")
    if entry.action in ("contact.bound", "contact.requested"):
        return VIA.get(str(d.get("via")), "") + (
            f"（{d['typed_name']}）" if d.get("typed_name") else ""
        )
    if entry.action == "preloaded.confirmed":
        return labels(d.get("fields") or ())
    if entry.action == "warning.confirmed":
        return f"{d.get('rule', '')} {d.get('text', '')}".strip()
    if entry.action == "submission.submitted":
        return "提交至" + BUCKETS.get(str(d.get("status")), "审核")
    if entry.action in ("contact.confirmed", "contact.refused"):
        return f"{d.get('by_name', '')} {d.get('reason') or ''}".strip()
    if entry.action == "answer":
        f = catalog.by_name.get(str(d.get("field")))
        label = f.label_with_unit if f else d.get("field")
        via = "（Excel 表格）" if d.get("source") == "excel" else ""
        old, new = (_shown(catalog, f, d.get(k)) for k in ("old", "new"))
        if d.get("source") == "skipped":
            new = "（跳过）"
        return f"{label}：{old} → {new}{via}"
    if entry.action.startswith("review."):
        said = f"{LEVEL_NAMES.get(str(d.get('level')), '')}级 {d.get('by_name', '')}".strip()
        if entry.action == "review.returned":
            fields = [
                catalog.by_name[n].label for n in d.get("fields") or () if n in catalog.by_name
            ]
            said += "：退回 " + ("、".join(fields) if fields else "整张表单")
        return said
    return ""


def _shown(catalog: Catalog, f: Field | None, stored: object) -> str:
    """A stored answer in the audit sheet: 是/否, choices, places in words, as on screen."""
    if stored is None:
        return "（空）"
    if f is not None and (said := formatting.words(catalog, f, decode(f, stored))) is not None:
        return said
    if isinstance(stored, list):
        return "、".join(map(str, stored))
    return str(stored)


def export_name(scope_name: str, which: Which, day: date | datetime) -> str:
    return f"创新积分制-{scope_name}-{WHICH_NAMES[which]}-{day:%Y%m%d}.xlsx"


def ranking_workbook(catalog: Catalog, title: str, ranked: Sequence[Ranked]) -> bytes:
    """A bureau's ranking: one row per scored enterprise, with every indicator's points."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])  # Excel's limit on a sheet name
    sheet.freeze_panes = "D2"
    headers = ["排名", "统一社会信用代码", "企业名称", "所在区县", "表单状态", "发展阶段"]
    headers += ["预估积分", "核心指标分", "加分"]
    headers += [f"{i.name}（分）" for i in INDICATORS]
    headers += [f"加分：{name}" for name in BONUS_PARTS.values()]
    headers += ["说明"]
    _header(sheet, headers, [6, 20, 30, 18, 12, 10])
    counties = catalog.campaign.regions.counties
    for r in ranked:
        s, e = r.stored, r.enterprise
        county = counties.get(e.region_code or "")
        points = [i.get("points") for i in s.breakdown.get("indicators", [])]
        parts = s.breakdown.get("bonus_parts", {})
        row = [
            r.rank,
            e.credit_code,
            e.name,
            county.full_name if county else "",
            BUCKETS[bucket(r.status, True)],
            s.stage or "",
            _rounded(s.total),
            _rounded(s.core),
            s.bonus,
            *(_rounded(p) for p in points),
            *(parts.get(k) for k in BONUS_PARTS),
            s.breakdown.get("note") or None,
        ]
        sheet.append([_cell(sheet, c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 2)
