"""A filled workbook applied to the form: each readable value an answer of source `excel`.

The cells are read by the same field readers as typed answers, and written in one transaction
under the same check typed answers pass (`form.put_many`: the form editable, the field open):
a signed form never changes, and a file is applied whole or not at all. A file made before the
draft last changed is reconciled field by field: a cell is taken only where the field still
holds what the file was made with, so nothing typed in chat since is overwritten silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain import units
from domain.form import SKIP_WORDS
from domain.parsing import InputError, parse_value
from domain.rules import Finding
from domain.text import folded
from services import form
from services.workbook import Filled
from storage.codec import encode
from storage.repositories import Store

CHECKED_WORDS = frozenset({"无误", "正确", "确认", "核对无误", "ok"})
"""Written beside a pre-loaded value: it is right (as 全部正确 in chat)."""


@dataclass(slots=True)
class Applied:
    """What a workbook did to the form, for the report and for what the chat asks next."""

    refusal: str = ""  # the whole file was refused: readonly, other, campaign, submitted
    other: str = ""  # the credit code of another enterprise's file
    stale: bool = False  # the draft changed since the file was made
    taken: list[str] = field(default_factory=list)  # fields written
    skipped: list[str] = field(default_factory=list)  # optional fields left empty: skipped
    checked: list[str] = field(default_factory=list)  # pre-loaded values confirmed
    unchanged: list[str] = field(default_factory=list)  # filled with what was already stored
    refused: list[tuple[str, str]] = field(default_factory=list)  # (field, why)
    kept: list[tuple[str, object, object]] = field(default_factory=list)  # (field, chat, file)
    locked: list[str] = field(default_factory=list)  # a returned form's fields not reopened
    notes: list[tuple[str, str]] = field(default_factory=list)  # (field, conversion)
    units: list[str] = field(default_factory=list)  # money likely typed in 元: asked in chat
    findings: list[Finding] = field(default_factory=list)  # rules fired, unconfirmed
    missing: list[str] = field(default_factory=list)  # required fields still empty
    unchecked: list[str] = field(default_factory=list)  # pre-loaded values still to check


def refusal(filled: Filled, draft: form.Draft) -> Applied | None:
    """A file that cannot touch this form at all, and why."""
    stamp = filled.stamp
    if stamp.readonly:
        return Applied(refusal="readonly")
    if stamp.credit_code != draft.enterprise.credit_code:
        return Applied(refusal="other", other=stamp.credit_code)
    if stamp.campaign != draft.catalog.campaign.year or stamp.submission != draft.submission.id:
        return Applied(refusal="campaign")
    if not draft.editable:
        return Applied(refusal="submitted")
    return None


def _read(filled: Filled, draft: form.Draft) -> tuple[Applied, dict[str, object]]:
    """Each filled cell read and sorted: to write, to confirm, unchanged, refused, kept."""
    stamp = filled.stamp
    version = form.data_hash(draft.enterprise.credit_code, draft.answers)
    done = Applied(stale=stamp.version != version or stamp.round != draft.submission.round)
    writes: dict[str, object] = {}
    catalog = draft.catalog
    for f in catalog.fields:
        answer = draft.answers.get(f.name)
        if f.name not in filled.cells:
            if answer is None and not (f.required or f.required_with) and draft.may_change(f.name):
                writes[f.name] = None  # an optional field left empty: seen and skipped
            continue
        raw = filled.cells[f.name]
        current = answer.value if answer is not None else None
        if not draft.may_change(f.name):
            done.locked.append(f.name)
            continue
        word = folded(raw).strip().lower() if isinstance(raw, str) else ""
        unchecked = answer is not None and answer.source == "preloaded" and not answer.confirmed
        if word in CHECKED_WORDS:
            if unchecked:
                done.checked.append(f.name)
            elif current is None:
                done.refused.append(
                    (f.name, f"{f.label}：还没有内容可核对，请填写。例如 {f.example}")
                )
            else:
                done.unchanged.append(f.name)
            continue
        try:
            parsed = None if word in SKIP_WORDS else parse_value(f, raw, catalog)
        except InputError as exc:
            done.refused.append((f.name, str(exc)))
            continue
        if parsed is None:  # 跳过, or 无 in a cell that may be left empty
            if f.required or f.required_with:
                done.refused.append((f.name, f"{f.label}是必填项，不能跳过。例如 {f.example}"))
            elif current is not None or answer is None:
                writes[f.name] = None
            continue
        stored = encode(f, parsed.value)
        if answer is not None and stored == current and answer.source != "skipped":
            (done.checked if unchecked else done.unchanged).append(f.name)
            continue
        if done.stale and current != filled.generated.get(f.name):
            done.kept.append((f.name, current, stored))  # changed in chat since the file
            continue
        writes[f.name] = parsed.value
        if parsed.note:
            done.notes.append((f.name, parsed.note))
    return done, writes


async def apply(store: Store, draft: form.Draft, filled: Filled, user_id: int) -> Applied:
    """Apply a filled workbook to the contact's draft; `form.FormLocked` if the form moved on."""
    refused = refusal(filled, draft)
    if refused is not None:
        return refused
    done, writes = _read(filled, draft)
    if writes or done.checked:
        await form.put_many(store, draft, writes, "excel", user_id, checked=done.checked)
    done.taken = [name for name, value in writes.items() if value is not None]
    done.skipped = [name for name, value in writes.items() if value is None]
    noted = {name for name, _ in done.notes}  # 元 written out: converted, not asked about
    done.units = [
        name
        for name, value in writes.items()
        if isinstance(value, Decimal)
        and name not in noted
        and units.in_yuan(name, value, draft.values, draft.catalog) is not None
    ]
    outstanding = draft.outstanding()
    done.findings = [
        f for f in (*outstanding.blocking, *outstanding.to_confirm) if f.rule != "E-required"
    ]
    done.missing = [f.fields[0] for f in outstanding.blocking if f.rule == "E-required"]
    done.unchecked = sorted(draft.state.unconfirmed)
    return done
