"""The form as a workbook in chat: the contact's own to fill, a reviewer's read-only copy."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.texts import plain
from domain.catalog import Catalog
from services import workbook
from services.exports import FormRecord
from services.form import Draft, data_hash
from storage.models import now
from storage.repositories import StoredAnswer

_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def file_name(record_name: str, year: int, readonly: bool = False) -> str:
    kind = "只读" if readonly else "填报表"
    return f"{year}创新积分{kind}-{_UNSAFE.sub('', record_name)[:40]}.xlsx"


def contact_copy(draft: Draft) -> bytes:
    """The contact's workbook: every field open on a draft, the reopened ones on a returned form,
    none once submitted (then it is a read-only copy)."""
    readonly = not draft.editable
    return workbook.build(
        draft.catalog,
        draft.enterprise,
        draft.submission,
        draft.answers,
        data_hash(draft.enterprise.credit_code, draft.answers),
        changeable=draft.changeable,
        notes=draft.notes,
        readonly=readonly,
        when=now(),
        guide=plain("workbook_guide", campaign=draft.catalog.campaign, readonly=readonly),
    )


def reviewer_copy(
    catalog: Catalog, record: FormRecord, answers: Mapping[str, StoredAnswer]
) -> bytes:
    """An official's or admin's read-only copy of one form (its pre-loaded values before the
    enterprise started)."""
    if record.submission is None:
        at = now()
        answers = {
            name: StoredAnswer(value, "preloaded", False, at)
            for name, value in record.enterprise.preloaded.items()
            if name in catalog.by_name
        }
    return workbook.build(
        catalog,
        record.enterprise,
        record.submission,
        answers,
        data_hash(record.enterprise.credit_code, answers),
        readonly=True,
        when=now(),
        guide=plain("workbook_guide", campaign=catalog.campaign, readonly=True),
    )
