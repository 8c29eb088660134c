"""The scoring run: every submitted form's estimate (domain.scoring, per scoring.md) stored with
its breakdown; each enterprise told its score, each bureau given a ranked summary.

Forms under review or reported are scored (a returned one is being corrected and is left out;
its earlier score is removed). A run that gives the same numbers changes nothing and sends
nothing: a score's news is keyed by the change (previous → new fingerprint), a bureau's summary
by the fingerprint of its whole ranking.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from domain.catalog import Catalog
from domain.review import Jurisdiction
from domain.scoring import Score, score_cohort
from services import exports
from services.notifier import Notifier
from services.officials import within
from storage.models import (
    Contact,
    Delivery,
    Enterprise,
    Official,
    ReviewChat,
    StoredScore,
    Submission,
    now,
)
from storage.repositories import Store, dialect_insert

SCORED = ("submitted", "city_review", "province_review", "reported")
SHOWN = 10  # enterprises listed in a bureau's summary message; the XLSX has them all


@dataclass(frozen=True, slots=True)
class ScoreNews:
    """An enterprise's new estimate, for its contacts."""

    key: str
    chat_ids: list[int]
    enterprise: Enterprise
    score: Score


@dataclass(slots=True)
class Ranked:
    rank: int
    enterprise: Enterprise
    status: str
    stored: StoredScore


@dataclass(frozen=True, slots=True)
class BureauSummary:
    """A bureau's ranking, for its groups and officials."""

    key: str
    chat_ids: list[int]
    level: str
    code: str
    ranked: list[Ranked]


@dataclass(slots=True)
class RunReport:
    scored: int = 0
    changed: int = 0
    removed: int = 0
    without_core: int = 0  # stage unknown or its cohort too small: bonus only
    enterprises_told: int = 0
    bureaus_told: int = 0
    stages: dict[str, int] = field(default_factory=dict)


def fingerprint(score: Score) -> str:
    """The numbers a person would see; floats rounded so the same data gives the same print."""

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 6)

    data = {
        "stage": score.stage,
        "core": r(score.core),
        "bonus": str(score.bonus),
        "parts": {k: str(v) for k, v in sorted(score.bonus_parts.items())},
        "points": [r(i.points) for i in score.indicators],
        "cohort": score.cohort_size,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def breakdown(score: Score) -> dict[str, Any]:
    return {
        "indicators": [
            {"id": i.id, "raw": i.raw, "normalised": i.normalised, "points": i.points}
            for i in score.indicators
        ],
        "bonus_parts": {k: float(v) for k, v in score.bonus_parts.items()},
        "note": score.note,
    }


async def run(store: Store, catalog: Catalog, notifier: Notifier, actor: int | None) -> RunReport:
    campaign = catalog.campaign
    province = Jurisdiction("province", campaign.regions.code)
    records = [
        r
        for r in await exports.forms(store, catalog, province, "submitted", findings=False)
        if r.submission is not None and r.submission.status in SCORED
    ]
    scores = await asyncio.to_thread(score_cohort, [r.values for r in records], campaign)
    before = dict(
        (
            await store.session.execute(
                select(StoredScore.submission_id, StoredScore.digest).where(
                    StoredScore.campaign == campaign.year
                )
            )
        ).all()
    )
    report = RunReport(scored=len(records))
    news: list[ScoreNews] = []
    contacts = await _contacts(store)
    at = now()
    changed: list[dict[str, Any]] = []
    for record, score in zip(records, scores, strict=True):
        assert record.submission is not None
        sid, digest = record.submission.id, fingerprint(score)
        report.stages[score.stage or "未知"] = report.stages.get(score.stage or "未知", 0) + 1
        report.without_core += score.core is None
        if before.get(sid) == digest:
            continue
        report.changed += 1
        changed.append(
            {
                "submission_id": sid,
                "campaign": campaign.year,
                "stage": score.stage,
                "core": score.core,
                "bonus": float(score.bonus),
                "total": score.total,
                "cohort_size": score.cohort_size,
                "breakdown": breakdown(score),
                "digest": digest,
                "computed_at": at,
            }
        )
        chats = contacts.get(record.enterprise.id, [])
        if chats:
            key = f"score:{campaign.year}:{sid}:{(before.get(sid) or '-')[:12]}>{digest[:12]}"
            news.append(ScoreNews(key, chats, record.enterprise, score))
    await _put(store, changed)
    gone = set(before) - {r.submission.id for r in records if r.submission}
    if gone:
        await store.session.execute(
            delete(StoredScore).where(StoredScore.submission_id.in_(list(gone)))
        )
    report.removed = len(gone)
    await store.session.flush()
    summaries = await _summaries(store, campaign.year, notifier.private_alerts)
    report.enterprises_told = len(news)
    report.bureaus_told = len(summaries)
    await store.audit.record(
        "scores.computed",
        actor,
        scored=report.scored,
        changed=report.changed,
        removed=report.removed,
    )
    await notifier.scores(news, summaries)  # queued in this transaction, which it commits
    await store.commit()
    return report


async def _put(store: Store, rows: list[dict[str, Any]]) -> None:
    """Insert or replace the changed scores, 1,000 rows a statement."""
    if not rows:
        return
    statement = dialect_insert(store.session.bind.dialect.name, StoredScore.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["submission_id"],
        set_={c: statement.excluded[c] for c in rows[0] if c != "submission_id"},
    )
    for start in range(0, len(rows), 1000):
        await store.session.execute(statement, rows[start : start + 1000])


async def _contacts(store: Store) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    rows = await store.session.execute(
        select(Contact.enterprise_id, Contact.telegram_user_id).where(Contact.status == "active")
    )
    for enterprise_id, user_id in rows.all():
        found[enterprise_id].append(user_id)
    return found


async def _summaries(store: Store, campaign: int, private: bool) -> list[BureauSummary]:
    """A summary for every bureau with a chat to tell, unless its ranking was already sent."""
    chats: dict[tuple[str, str], list[int]] = defaultdict(list)
    for level, code, chat in (
        await store.session.execute(
            select(ReviewChat.level, ReviewChat.region_code, ReviewChat.chat_id)
        )
    ).all():
        chats[(level, code)].append(chat)
    if private:
        for level, code, user in (
            await store.session.execute(
                select(Official.level, Official.region_code, Official.telegram_user_id)
            )
        ).all():
            chats[(level, code)].append(user)
    summaries = []
    for (level, code), chat_ids in sorted(chats.items()):
        ranked = await ranking(store, campaign, Jurisdiction(level, code))  # type: ignore[arg-type]
        if not ranked:
            continue
        digest = hashlib.sha256(
            "|".join(f"{r.stored.submission_id}:{r.stored.digest}" for r in ranked).encode()
        ).hexdigest()
        key = f"score-summary:{campaign}:{level}:{code}:{digest[:16]}"
        sent = await store.session.scalar(
            select(Delivery.id).where(Delivery.key.like(f"{key}:%")).limit(1)
        )
        if sent is None:
            summaries.append(BureauSummary(key, list(dict.fromkeys(chat_ids)), level, code, ranked))
    return summaries


async def ranking(store: Store, campaign: int, scope: Jurisdiction) -> list[Ranked]:
    """The stored scores of the scope, highest first (a form without a core score ranks by its
    bonus, after those with one); ties share a rank."""
    rows = (
        await store.session.execute(
            select(StoredScore, Enterprise, Submission.status)
            .join(Submission, Submission.id == StoredScore.submission_id)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
            .where(StoredScore.campaign == campaign, within(scope))
        )
    ).all()
    rows.sort(key=lambda r: (r[0].total is None, -(r[0].total or r[0].bonus), r[1].credit_code))
    ranked: list[Ranked] = []
    for i, (stored, enterprise, status) in enumerate(rows):
        same = ranked and _points(ranked[-1].stored) == _points(stored)
        ranked.append(Ranked(ranked[-1].rank if same else i + 1, enterprise, status, stored))
    return ranked


def _points(s: StoredScore) -> tuple[bool, float]:
    return (s.total is None, round(s.total if s.total is not None else s.bonus, 6))
