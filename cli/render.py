"""What `validate`, `score`, `import` and `status` print: JSON, or a readable report (rich)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len as visible_width
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.catalog import Catalog
from domain.review import LEVELS
from domain.validation import Report
from services.record_files import Record

if TYPE_CHECKING:  # what only `import`, `status` and `score` print, imported where printed
    from domain.scoring import Score
    from services.imports import ImportReport
    from services.overview import Overview, Tally


def _number(value: Decimal | float | None, places: int) -> int | float | None:
    """A JSON number: integral values as integers, the rest rounded."""
    if value is None:
        return None
    rounded = round(float(value), places)
    return int(rounded) if rounded.is_integer() else rounded


def credit_code(record: Record, report: Report) -> str | None:
    """The code as read, or as typed when it could not be read: how a reader finds the row."""
    code = report.values.get("credit_code", record.answers.get("credit_code"))
    return None if code is None else str(code).strip()


def validation_json(
    records: Sequence[Record], reports: Sequence[Report], catalog: Catalog
) -> list[dict[str, object]]:
    return [
        {
            "credit_code": credit_code(record, report),
            "strong": report.strong,
            "weak": report.weak,
            "messages": [
                {
                    "field": catalog.by_name[f.fields[0]].key if f.fields else None,
                    "rule": f.rule,
                    "text": f.text,
                }
                for f in report.findings
            ]
            if report.findings
            else [],
        }
        for record, report in zip(records, reports, strict=True)
    ]


def score_json(
    records: Sequence[Record], reports: Sequence[Report], scores: Sequence[Score]
) -> list[dict[str, object]]:
    return [
        {
            "credit_code": credit_code(record, report),
            "label": "预估积分",
            "stage": score.stage,
            "core": _number(score.core, 2),
            "bonus": _number(score.bonus, 2),
            "bonus_parts": {k: _number(v, 2) for k, v in score.bonus_parts.items()},
            "total": _number(score.total, 2),
            "cohort_size": score.cohort_size,
            "note": score.note,
            "indicators": [
                {
                    "id": i.id,
                    "name": i.name,
                    "unit": i.unit,
                    "raw": _number(i.raw, 4),
                    "normalised": _number(i.normalised, 4),
                    "weight": i.weight,
                    "effective_weight": _number(i.effective_weight, 2),
                    "points": _number(i.points, 2),
                    "note": i.note,
                }
                for i in score.indicators
            ],
        }
        for record, report, score in zip(records, reports, scores, strict=True)
    ]


def _name(record: Record, report: Report) -> str:
    return str(report.values.get("enterprise_name", record.answers.get("enterprise_name") or ""))


def validation_table(
    console: Console, file_name: str, records: Sequence[Record], reports: Sequence[Report]
) -> None:
    table = Table(title=f"{file_name} · 数据校验", show_lines=False)
    table.add_column("行", justify="right")
    table.add_column("统一社会信用代码", no_wrap=True, min_width=18)
    table.add_column("企业名称", max_width=24)
    table.add_column("强规则", style="red", overflow="fold")
    table.add_column("弱规则（需确认）", style="yellow", overflow="fold")
    for record, report in zip(records, reports, strict=True):
        table.add_row(
            str(record.row),
            credit_code(record, report) or "—",
            _name(record, report),
            " ".join(report.strong) or "—",
            " ".join(report.weak) or "—",
        )
    console.print(table)
    for record, report in zip(records, reports, strict=True):
        if not report.findings and not report.notes:
            continue
        console.print(
            Text(
                f"第 {record.row} 行 {credit_code(record, report) or ''} {_name(record, report)}",
                style="bold",
            )
        )
        for f in report.findings:
            style = "red" if f.rule in report.strong else "yellow"
            console.print(Text(f"  [{f.rule}] ", style=style) + Text(f.text))
        for note in report.notes.values():
            console.print(Text("  [换算] ", style="cyan") + Text(note))
    blocked = sum(1 for r in reports if r.strong)
    warned = sum(1 for r in reports if r.weak and not r.strong)
    console.print(
        f"共 {len(reports)} 条记录：{blocked} 条有强规则问题（须修改后才能提交），"
        f"{warned} 条仅有提醒（需确认），{len(reports) - blocked - warned} 条无问题。"
    )


def score_table(
    console: Console,
    file_name: str,
    records: Sequence[Record],
    reports: Sequence[Report],
    scores: Sequence[Score],
) -> None:
    table = Table(title=f"{file_name} · 预估积分（核心 0–100 + 加分 0–30）")
    table.add_column("行", justify="right")
    table.add_column("统一社会信用代码", no_wrap=True, min_width=18)
    table.add_column("企业名称", max_width=24)
    table.add_column("阶段")
    for title in ("核心", "加分", "预估总分"):
        table.add_column(title, justify="right")
    rows = sorted(
        zip(records, reports, scores, strict=True),
        key=lambda row: (row[2].total is None, -(row[2].total or 0), row[0].row),
    )
    for record, report, score in rows:  # the highest total first; JSON keeps the file's order
        table.add_row(
            str(record.row),
            credit_code(record, report) or "—",
            _name(record, report),
            score.stage or "—",
            "—" if score.core is None else f"{score.core:.2f}",
            f"{float(score.bonus):g}",
            "—" if score.total is None else f"{score.total:.2f}",
        )
    console.print(table)
    notes = sorted({s.note for s in scores if s.note and not s.note.startswith("未计分")})
    for note in notes:
        console.print(Text("注：", style="yellow") + Text(note))
    for record, report, score in zip(records, reports, scores, strict=True):
        if score.note.startswith("未计分"):
            where = f"第 {record.row} 行 {credit_code(record, report) or ''}"
            console.print(Text("注：", style="yellow") + Text(f"{where}：{score.note}"))


def import_json(report: ImportReport) -> dict[str, object]:
    from services.imports import OUTCOMES

    return {
        "counts": {o: report.counts.get(o, 0) for o in OUTCOMES},
        "ignored_columns": report.ignored_columns,
        "rows": [asdict(r) for r in report.rows],
    }


def import_table(console: Console, file_name: str, report: ImportReport, dry_run: bool) -> None:
    """The rows that need a look (rejected, values left out, contact's answers kept), then the
    counts."""
    from services.imports import OUTCOMES, explain

    table = Table(title=f"{file_name} · 导入{'（试运行，未写入）' if dry_run else ''}")
    table.add_column("行", justify="right")
    table.add_column("统一社会信用代码", no_wrap=True, min_width=18)
    table.add_column("结果")
    table.add_column("说明", overflow="fold")
    for r in report.rows:
        said = explain(r)
        if said:
            style = "red" if r.outcome == "rejected" else "yellow"
            table.add_row(
                str(r.row), r.credit_code or "—", Text(OUTCOMES[r.outcome], style=style), said
            )
    if table.row_count:
        console.print(table)
    counts = report.counts
    console.print(
        f"共 {len(report.rows):,} 行："
        + "，".join(f"{label} {counts.get(o, 0):,}" for o, label in OUTCOMES.items())
        + "。"
    )


def overview_json(view: Overview) -> dict[str, object]:
    from services.overview import BUCKETS

    def row(t: Tally) -> dict[str, object]:
        counts = {b: t.counts[b] for b in BUCKETS}
        waiting = {level: t.waiting(level) for level in LEVELS}
        return {"code": t.code, "name": t.name, "total": t.total, "submitted": t.submitted,
                "rate": round(t.rate, 4), "counts": counts, "waiting": waiting,
                "oldest_wait_days": t.oldest, "overdue": t.overdue}  # fmt: skip

    return {"scope": view.scope_name, "by": view.by, "total": row(view.total),
            "rows": [row(t) for t in view.rows]}  # fmt: skip


def overview_table(console: Console, view: Overview, year: int) -> None:
    """Two tables that fit 80 columns, one row per place and the total: the forms by status
    with the submission rate, then the review — waiting at each level, the longest wait, 逾期."""
    place = "市" if view.by == "city" else "区县"
    rows = [*view.rows, view.total]

    def table(title: str, labels: tuple[str, ...], cells: Callable[[Tally], list[str]]) -> Table:
        data = [cells(t) for t in rows]
        widths = [
            max(visible_width(label), *(visible_width(row[i]) for row in data))
            for i, label in enumerate(labels)
        ]
        room = console.width - sum(w + 3 for w in widths) - 5  # padding, dividers, edges
        grid = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1))
        grid.add_column(place, no_wrap=True, overflow="ellipsis", max_width=max(room, 8))
        for label, width in zip(labels, widths, strict=True):
            grid.add_column(label, justify="right", no_wrap=True, min_width=width)
        for t, row in zip(rows, data, strict=True):
            name = "合计" if t is view.total else t.name
            grid.add_row(name, *row, style="bold" if t is view.total else None)
        return grid

    def progress(t: Tally) -> list[str]:
        reviewing = sum(t.waiting(level) for level in LEVELS)
        counts = [t.counts[b] for b in ("not_started", "in_progress")]
        counts += [reviewing, t.counts["returned"], t.counts["reported"]]
        rate = f"{t.rate:.1%}" if t.total else "—"  # no enterprise there: no rate, not 0 %
        return [f"{t.total:,}", *(f"{n:,}" for n in counts), rate]

    def review(t: Tally) -> list[str]:
        oldest = "—" if t.oldest is None else f"{t.oldest} 天"
        return [*(f"{t.waiting(level):,}" for level in LEVELS), oldest, f"{t.overdue:,}"]

    labels = ("企业", "未开始", "填报中", "审核中", "已退回", "已上报", "提交率")
    console.print(table(f"{view.scope_name} · {year} 年填报进度", labels, progress))
    console.print("提交率：提交过（含已退回待修改）的企业 / 企业数。")
    console.print()
    labels = ("待区县", "待市级", "待省级", "最久等待", "逾期")
    console.print(table(f"{view.scope_name} · 审核进度", labels, review))
    console.print("待区县/市级/省级：在该级等待审核的表单；最久等待：其中等得最久的一份；")
    console.print("逾期：过了该级审核截止日仍在等待。")
