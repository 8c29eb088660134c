"""Files people open outside the chat: one enterprise's form as an HTML page (print it to PDF
from any browser), with its signed commitment."""

from __future__ import annotations

from markupsafe import Markup

from bot.texts import render, shown
from domain.catalog import SECTIONS, Catalog
from services.exports import FormRecord, notes_text
from services.overview import BUCKETS
from storage.models import Commitment, now


def signed_by(commitment: Commitment, names: dict[int, str]) -> str:
    """承诺人 as the enterprise named them, and the Telegram account that signed beside it."""
    account = names.get(commitment.telegram_user_id, "")
    who = f"Telegram 账号 {account}，id {commitment.telegram_user_id}".replace(" ，", "，")
    return f"{commitment.signer or account}（{who}）"


def form_html(catalog: Catalog, record: FormRecord, names: dict[int, str]) -> str:
    zone = catalog.campaign.zone
    e, submission, commitment = record.enterprise, record.submission, record.commitment
    county = catalog.campaign.regions.counties.get(e.region_code or "")
    sections = [
        (
            section,
            [
                (
                    f.label,
                    shown(catalog, f, v) if (v := record.values.get(f.name)) is not None else None,
                )
                for f in catalog.in_section(section.key)
            ],
        )
        for section in SECTIONS
    ]
    when = "%Y年%m月%d日 %H:%M"
    return render(
        "form_document.html",
        e=e,
        campaign=catalog.campaign,
        region=county.full_name if county else "",
        status=BUCKETS[record.status],
        submitted_at=submission.submitted_at.astimezone(zone).strftime(when)
        if submission and submission.submitted_at
        else "",
        generated_at=now().astimezone(zone).strftime(when),
        sections=sections,
        weak=record.weak,
        notes=notes_text(catalog, record.notes).splitlines(),
        commitment=commitment,
        # The text was rendered from a template with every name escaped when it was signed.
        commitment_text=Markup(commitment.text) if commitment and commitment.text else "",
        signer=signed_by(commitment, names) if commitment else "",
        signed_at=commitment.signed_at.astimezone(zone).strftime(when) if commitment else "",
        unchanged=record.signed_data_unchanged,
    )
