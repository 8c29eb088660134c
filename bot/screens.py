"""The form's screens: each is a message (from a template) and its buttons."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aiogram.types import InlineKeyboardMarkup
from markupsafe import Markup

from bot.keyboards import Keys
from bot.texts import fitted, money, phrase, render, shown
from domain import formatting
from domain.catalog import SECTIONS, Catalog, Field, Kind
from domain.form import Step, next_step, previous_field, progress
from domain.regions import Desk
from domain.review import LEVEL_NAMES, WAITING
from domain.rules import Finding, Severity
from domain.scoring import Score
from services.form import Draft, Outstanding
from storage.models import AuditEntry

NUMERALS = "一二三四五六七"
STATUS_NAMES = {
    "draft": "填报中",
    "returned": "已退回，待修改",
    "submitted": "已提交，待区县科技局审核",
    "county_review": "区县科技局审核中",
    "city_review": "市科技局审核中",
    "province_review": "省科技厅审核中",
    "reported": "已上报科技部",
    "scored": "已计算积分",
}
SUMMARY_LIMIT = 6  # problems listed with buttons at once; the rest follow as these are fixed


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _header(draft: Draft, section: str) -> dict[str, object]:
    step = Step("field", section=section)
    return {
        "progress": progress(draft.catalog, draft.state, step),
        "section_title": draft.catalog.section(section).title,
    }


def question_text(f: Field) -> str:
    if f.kind in (Kind.MONEY, Kind.COUNT, Kind.RANK):
        return f"{f.label}是多少？"
    if f.kind is Kind.DATE:
        return f"{f.label}是哪一天？"
    if f.kind is Kind.YES_NO:
        return f"{f.label}？"
    if f.kind is Kind.MULTI:
        return f"请选择{f.label}（可多选，选好后点“完成”）"
    if f.kind in (Kind.CHOICE, Kind.REGION):
        return f"请选择{f.label}"
    return f"请填写{f.label}"


def _guide(f: Field) -> str:
    """Where the figure comes from, and an example unless buttons show the options."""
    parts = [f.help] if f.help else []
    if f.kind is Kind.REGION:
        parts.append(f"点按钮选择，也可以直接发送，例如 {f.example}")
    elif "例如" not in f.help and f.kind not in (Kind.CHOICE, Kind.YES_NO, Kind.MULTI):
        parts.append(f"例如 {f.example}")
    return "。".join(parts)


def question(
    draft: Draft,
    name: str,
    screen: int,
    *,
    picked: list[int] | None = None,
    city: str = "",
    error: str = "",
    saved: str = "",
    wrapped: str = "",
    offer: str = "",
) -> Screen:
    """A field's question. `wrapped`: the section the form went back to, the later ones being
    done; `offer`: a value the contact gave already (the phone they shared), one tap to use."""
    catalog = draft.catalog
    f = catalog.by_name[name]
    current = shown(catalog, f, draft.values[name]) if name in draft.values else ""
    text = render(
        "question",
        note=draft.notes.get(name, ""),
        question=question_text(f),
        field=f,
        guide=_guide(f),
        current=current,
        error=error,
        saved=saved,
        wrapped=wrapped,
        **_header(draft, f.section),
    )
    keys = Keys(screen)
    if offer:
        keys.row(keys.button(phrase("use_this", value=offer), "offer"))
    if f.kind in (Kind.CHOICE, Kind.YES_NO):
        options = f.choices if f.kind is Kind.CHOICE else ("是", "否")
        keys.grid(
            [keys.button(o, "pick", i) for i, o in enumerate(options)],
            width=2 if len(options) > 3 else len(options),
        )
    elif f.kind is Kind.MULTI:
        chosen = set(picked or [])
        keys.grid(
            [
                keys.button(
                    phrase("picked" if i in chosen else "unpicked", label=o),
                    "tog",
                    f"{i}-" if i in chosen else f"{i}+",
                )
                for i, o in enumerate(f.choices)
            ],
            width=2,
        )
        keys.row(keys.button(phrase("done"), "done"))
    elif f.kind is Kind.REGION:
        keys.regions(catalog.campaign.regions, city)
    elif f.kind is Kind.RANK:
        keys.row(keys.button(phrase("listed"), "pick", 0))
    if current and name in (draft.reopened or ()):  # returned: the reviewer may be satisfied
        value = current if len(current) <= 24 else current[:23] + "…"
        keys.row(keys.button(phrase("keep", value=value), "keep"))
    if not (f.required or f.required_with):
        keys.row(keys.button(phrase("skip"), "skip"))
    keys.navigation(back=bool(previous_field(catalog, draft.state, name, draft.changeable)))
    return Screen(text, keys.markup())


def preloaded(
    draft: Draft, section: str, screen: int, saved: str = "", wrapped: str = ""
) -> Screen:
    catalog = draft.catalog
    unconfirmed = draft.state.unconfirmed
    rows = [
        (f.label, shown(catalog, f, draft.values.get(f.name)))
        for f in catalog.in_section(section)
        if f.name in unconfirmed
    ]
    text = render("preloaded", rows=rows, saved=saved, wrapped=wrapped, **_header(draft, section))
    keys = Keys(screen)
    keys.row(keys.button(phrase("all_right"), "ok"), keys.button(phrase("fix_some"), "fix"))
    return Screen(text, keys.navigation(back=False).markup())


def fix_pick(draft: Draft, section: str, screen: int) -> Screen:
    keys = Keys(screen)
    fields = [f for f in draft.catalog.in_section(section) if f.name in draft.state.unconfirmed]
    keys.grid([keys.button(f.label, "go", f.name) for f in fields], width=1)
    keys.row(keys.button(phrase("all_right"), "ok"))
    return Screen(render("fix_pick"), keys.navigation(back=False).markup())


def conversion(draft: Draft, name: str, note: str, screen: int, saved: str) -> Screen:
    keys = Keys(screen)
    keys.row(keys.button(phrase("conversion_ok"), "conv"), keys.button(phrase("retype"), "redo"))
    return Screen(render("conversion", note=note, saved=saved), keys.markup())


def in_yuan(draft: Draft, name: str, corrected: Decimal, screen: int) -> Screen:
    """您填的是元吗: the correction first, keeping the figure after it, retyping last."""
    f = draft.catalog.by_name[name]
    value: Decimal = draft.values[name]  # type: ignore[assignment]
    others = [
        v
        for n, v in draft.values.items()
        if n != name
        and isinstance(v, Decimal)
        and v > 0
        and draft.catalog.by_name[n].unit == "万元"
    ]
    keys = Keys(screen)
    keys.row(keys.button(phrase("use", value=money(corrected)), "unit"))
    keys.row(keys.button(phrase("as_is", value=money(value)), "asis"))
    keys.row(keys.button(phrase("retype"), "redo"))
    text = render(
        "in_yuan",
        label=f.label,
        value=money(value),
        yi=money((value / 10000).quantize(Decimal("0.01"))),
        typical=formatting.magnitude(statistics.median(others)) if others else "",
        corrected=money(corrected),
    )
    return Screen(text, keys.markup())


def problems(draft: Draft, name: str, found: list[Finding], screen: int) -> Screen:
    """What an answer set off, on one screen: the figure, what looks wrong in plain words, the
    fixes first, then one 数据无误 for the warnings shown (a contradiction must be fixed)."""
    catalog = draft.catalog
    strong = [f for f in found if f.severity is Severity.STRONG]
    weak = [f for f in found if f.severity is Severity.WEAK]
    keys = Keys(screen)
    corrected = next((f.suggestion for f in weak if f.suggestion is not None), None)
    if corrected is not None:
        keys.row(keys.button(phrase("use", value=money(corrected)), "unit"))
    involved = [
        n
        for n in dict.fromkeys((name, *(n for finding in found for n in finding.fields)))
        if draft.may_change(n)  # a returned form's other fields are locked: no dead button
    ]
    keys.grid(
        [keys.button(phrase("fix", label=catalog.by_name[n].label), "go", n) for n in involved],
        width=1,
    )
    if strong:
        keys.row(keys.button(phrase("later"), "next"))
    else:
        keys.row(keys.button(phrase("all_checked"), "okall"))
    f = catalog.by_name[name]
    text = render(
        "problems",
        label=f.label,
        value=shown(catalog, f, draft.values.get(name)),
        strong=strong,
        weak=weak,
    )
    return Screen(text, keys.markup())


def _fixable(draft: Draft, finding: Finding) -> Field | None:
    """The first field of a finding the contact may change (a returned form locks the rest)."""
    return next((draft.catalog.by_name[n] for n in finding.fields if draft.may_change(n)), None)


def finding_refs(draft: Draft, findings: list[Finding]) -> list[str]:
    return [_finding_ref(draft, f) for f in findings]


def _finding_ref(draft: Draft, finding: Finding) -> str:
    """An opaque, short reference: rule id and the position of its first field."""
    names = [f.name for f in draft.catalog.fields]
    return f"{finding.rule}|{names.index(finding.fields[0])}"


def find_finding(draft: Draft, ref: str, candidates: list[Finding]) -> Finding | None:
    return next((f for f in candidates if _finding_ref(draft, f) == ref), None)


def summary(
    draft: Draft, outstanding: Outstanding, score: Score, screen: int, saved: str = ""
) -> Screen:
    catalog = draft.catalog
    state = draft.state
    rows = []
    for section in SECTIONS:
        names = {f.name for f in catalog.in_section(section.key)}
        issues = sum(
            1 for f in (*outstanding.blocking, *outstanding.to_confirm) if names & set(f.fields)
        )
        unchecked = section.key in outstanding.unchecked_sections
        mark = (
            "✅"
            if not issues and not unchecked
            else (f"❗ {issues} 项需处理" if issues else "🔎 待核对")
        )
        rows.append({"numeral": NUMERALS[section.number - 1], "title": section.title, "mark": mark})
    keys = Keys(screen)
    for name in outstanding.reopened:
        keys.row(keys.button(phrase("fix", label=catalog.by_name[name].label), "go", name))
    for finding in outstanding.blocking[:SUMMARY_LIMIT]:
        if first := _fixable(draft, finding):
            label = phrase("fill" if finding.rule == "E-required" else "fix", label=first.label)
            keys.row(keys.button(label, "go", first.name))
    for number, finding in enumerate(outstanding.to_confirm[:SUMMARY_LIMIT], start=1):
        checked = keys.button(
            phrase("checked", number=number), "warn", _finding_ref(draft, finding)
        )
        if first := _fixable(draft, finding):
            keys.row(checked, keys.button(phrase("fix", label=first.label), "go", first.name))
        else:
            keys.row(checked)
    for key in outstanding.unchecked_sections:
        keys.row(
            keys.button(phrase("check_section", title=catalog.section(key).title), "check", key)
        )
    open_now = draft.when == "open"
    if outstanding.ready and open_now:
        keys.row(keys.button(phrase("sign"), "sign"))
    keys.row(keys.button(phrase("menu"), "menu"))
    keys.workbook()
    text = fitted(
        "summary",
        progress=progress(catalog, state, next_step(catalog, state)),
        sections=rows,
        outstanding=outstanding,
        unchecked=[catalog.section(k).title for k in outstanding.unchecked_sections],
        score=score,
        campaign=catalog.campaign,
        limit=SUMMARY_LIMIT,
        notes=[(_label(catalog, n), c) for n, c in draft.notes.items()],
        reopened=[catalog.by_name[n].label for n in outstanding.reopened],
        saved=saved,
        window=window_notice(draft),
        open_now=open_now,
    )
    return Screen(text, keys.markup())


def commitment(draft: Draft, text: str, screen: int) -> Screen:
    keys = Keys(screen)
    keys.row(keys.button(phrase("agree"), "agree"))
    keys.row(keys.button(phrase("cancel"), "sum"))
    # the text was rendered with every name escaped: shown as it is, not escaped again
    shown_text = render("commitment_screen", text=Markup(text), county=county_name(draft))
    return Screen(shown_text, keys.markup())


def commitment_text(draft: Draft, signer: str, when: datetime) -> str:
    zone = draft.catalog.campaign.zone
    return render(
        "commitment",
        enterprise=draft.enterprise,
        campaign=draft.catalog.campaign,
        signer=signer,
        day=when.astimezone(zone).strftime("%Y年%m月%d日"),
    )


def desk(draft: Draft) -> Desk | None:
    """Whom the contact asks: their county bureau's desk, or else their city's."""
    code = str(draft.values.get("region_code") or draft.enterprise.region_code)
    return draft.catalog.campaign.regions.desk(code)


def window_notice(draft: Draft) -> str:
    """The form's submission window, said before anyone fills 60 fields to be refused: when it
    opens, that it closed and whom to ask, or that it was extended; "" on the usual dates."""
    when, window = draft.when, draft.window
    if when == "open" and not window.extended:
        return ""
    return render(
        "window",
        when=when,
        window=window,
        returned=draft.returned,
        desk=desk(draft),
        county=county_name(draft),
    )


def county_name(draft: Draft) -> str:
    counties = draft.catalog.campaign.regions.counties
    code = draft.values.get("region_code") or draft.enterprise.region_code
    county = counties.get(str(code))
    return county.full_name if county else "所在区县"


def menu(draft: Draft, screen: int) -> Screen:
    if draft.changeable is not None:  # returned with fields named: only those
        return returned_menu(draft, screen)
    catalog = draft.catalog
    state = draft.state
    keys = Keys(screen)
    buttons = []
    for section in SECTIONS:
        fields = [f for f in catalog.in_section(section.key) if state.applies(f)]
        done = sum(1 for f in fields if state.settled(f))
        mark = "✅" if done == len(fields) else f"{done}/{len(fields)}"
        buttons.append(
            keys.button(
                phrase("section", number=section.number, title=section.title, mark=mark),
                "sec",
                section.key,
            )
        )
    keys.grid(buttons, width=1)
    keys.row(keys.button(phrase("to_summary"), "sum"))
    keys.workbook()
    step = next_step(catalog, state)
    return Screen(render("menu", progress=progress(catalog, state, step)), keys.markup())


def returned_menu(draft: Draft, screen: int) -> Screen:
    """A returned form's menu: only the fields the reviewers reopened, with their comments;
    the rest of the form is locked."""
    catalog = draft.catalog
    reopened = draft.reopened or frozenset()
    fields = [f for f in catalog.fields if f.name in (draft.changeable or ())]
    keys = Keys(screen)
    keys.grid(
        [
            keys.button(
                phrase("field", label=f.label, mark="✏️" if f.name in reopened else "✅"),
                "go",
                f.name,
            )
            for f in fields
        ],
        width=1,
    )
    keys.row(keys.button(phrase("to_summary"), "sum"))
    keys.workbook()
    rows = [(f.label, draft.notes.get(f.name, "")) for f in fields]
    return Screen(fitted("menu_returned", rows=rows), keys.markup())


def section(draft: Draft, key: str, screen: int) -> Screen:
    catalog = draft.catalog
    state = draft.state
    info = catalog.section(key)
    keys = Keys(screen)
    applying = [f for f in catalog.in_section(key) if state.applies(f)]
    fields = [f for f in applying if draft.may_change(f.name)]
    keys.grid(
        [
            keys.button(
                phrase("field", label=f.label, mark="✅" if state.settled(f) else "⬜"),
                "go",
                f.name,
            )
            for f in fields
        ],
        width=1,
    )
    keys.row(keys.button(phrase("menu"), "menu"), keys.button(phrase("to_summary"), "sum"))
    text = render(
        "section",
        numeral=NUMERALS[info.number - 1],
        title=info.title,
        locked=len(applying) - len(fields),
    )
    return Screen(text, keys.markup())


def local_time(draft: Draft, when: datetime | None) -> str:
    if when is None:
        return ""
    zone = draft.catalog.campaign.zone
    return when.astimezone(zone).strftime("%Y年%m月%d日 %H:%M")


def reviewer(draft: Draft) -> str:
    """The bureau the form waits for now."""
    regions = draft.catalog.campaign.regions
    code = str(draft.values.get("region_code") or draft.enterprise.region_code)
    status = draft.submission.status
    if status == WAITING["province"]:
        return f"{regions.name}科技厅"
    if status == WAITING["city"] and code in regions.counties:
        return f"{regions.city_of(code).name}科技局"
    return f"{county_name(draft)}科技局"


def submitted(draft: Draft, screen: int) -> Screen:
    """Just submitted: when, and who reviews it next."""
    keys = Keys(screen)
    keys.row(keys.button(phrase("view_form"), "view"))
    submission = draft.submission
    return Screen(
        render(
            "submitted",
            enterprise=draft.enterprise,
            reviewer=reviewer(draft),
            first=submission.status == WAITING["county"] and submission.round <= 1,
            when=local_time(draft, submission.status_at or submission.submitted_at),
        ),
        keys.markup(),
    )


def status(draft: Draft, screen: int = 0) -> Screen:
    """Where the form stands. A submitted form's status is the contact's screen (`screen`):
    its one button shows the form as submitted."""
    catalog = draft.catalog
    keys = Keys(screen)
    if not draft.editable:
        keys.row(keys.button(phrase("view_form"), "view"))
    text = render(
        "status",
        enterprise=draft.enterprise,
        status_name=STATUS_NAMES.get(draft.submission.status, draft.submission.status),
        editable=draft.editable,
        progress=progress(catalog, draft.state, next_step(catalog, draft.state)),
        submitted_at=local_time(draft, draft.submission.submitted_at),
        reviewer=reviewer(draft) if draft.submission.status in WAITING.values() else "",
        deadline=f"{draft.window.closes:%Y年%m月%d日}",
    )
    return Screen(text, keys.markup() if keys.rows else None)


def locked(draft: Draft) -> Screen:
    return Screen(
        render(
            "locked",
            when=local_time(draft, draft.submission.submitted_at),
            status_name=STATUS_NAMES.get(draft.submission.status, ""),
        )
    )


def view(draft: Draft) -> list[str]:
    """The whole form, one message per section (a section fits Telegram's 4,096 characters)."""
    return form_pages(
        draft.catalog, draft.values, set(draft.answers), draft.outstanding().confirmed
    )


def review(draft: Draft, screen: int) -> list[Screen]:
    """Before signing: every value, section by section, its confirmed warnings in place, and a
    way into each section to change it."""
    pages = view(draft)
    screens = []
    for info, page in zip(SECTIONS, pages, strict=True):
        keys = Keys(screen)
        names = {f.name for f in draft.catalog.in_section(info.key)}
        if draft.changeable is None or names & draft.changeable:
            keys.row(keys.button(phrase("edit_section"), "sec", info.key))
        screens.append(Screen(page, keys.markup() if keys.rows else None))
    return screens


def signer(draft: Draft, screen: int, error: str = "") -> Screen:
    """Who signs: the form's contact unless the contact types another name."""
    keys = Keys(screen)
    name = str(draft.values.get("contact_name", ""))
    keys.row(keys.button(phrase("sign_as", who=name), "signer"))
    keys.row(keys.button(phrase("cancel"), "sum"))
    total = progress(draft.catalog, draft.state, next_step(draft.catalog, draft.state)).total
    return Screen(render("signer", name=name, total=total, error=error), keys.markup())


def form_pages(
    catalog: Catalog,
    values: dict[str, object],
    answered: set[str],
    confirmed: Sequence[Finding] = (),
) -> list[str]:
    """A form's answers section by section, for the contact or for its reviewers, with the
    warnings the enterprise confirmed beside the section they concern."""
    pages = []
    for info in SECTIONS:
        fields = catalog.in_section(info.key)
        rows = [
            (f.label, shown(catalog, f, values.get(f.name))) for f in fields if f.name in answered
        ]
        names = {f.name for f in fields}
        warnings = [w.text for w in confirmed if w.fields[0] in names]
        pages.append(
            render(
                "view",
                numeral=NUMERALS[info.number - 1],
                title=info.title,
                rows=rows,
                warnings=warnings,
            )
        )
    return pages


def history_lines(
    catalog: Catalog, entries: Sequence[AuditEntry]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """A form's review history: a line per submission, approval or return, and a return's
    comments as (field label, comment) under its line."""
    zone = catalog.campaign.zone
    lines: list[tuple[str, list[tuple[str, str]]]] = []
    for entry in entries:
        when = entry.at.astimezone(zone).strftime("%m月%d日 %H:%M")
        level = LEVEL_NAMES.get(str(entry.detail.get("level", "")), "")
        who = entry.detail.get("by_name") or ""
        if entry.action == "submission.submitted":
            lines.append((f"{when} 企业提交", []))
        elif entry.action == "review.approved":
            lines.append((f"{when} {level}级 {who} 通过", []))
        else:
            notes = [
                (_label(catalog, str(n["field"])), str(n["comment"]))
                for n in entry.detail.get("notes", [])
            ]
            lines.append((f"{when} {level}级 {who} 退回", notes))
    return lines


def _label(catalog: Catalog, name: str) -> str:
    return catalog.by_name[name].label if name in catalog.by_name else phrase("whole_form")
