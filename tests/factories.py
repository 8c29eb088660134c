"""Plausible enterprises for tests and benchmarks: typed values by field name, or as a file row."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc

from domain import sme
from domain.catalog import Catalog, Kind
from domain.identifiers import organisation_check_digit
from storage.codec import encode
from storage.models import Answer, AuditEntry, Contact, Enterprise, Submission, now

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "139.com", "foxmail.com")
NAME_WORDS = (
    "海创",
    "辽科",
    "北方",
    "新松",
    "华晨",
    "恒信",
    "中德",
    "瑞泽",
    "东软",
    "鸿蒙",
    "远航",
)
PRODUCTS = (
    "数控机床主轴",
    "精密减速器",
    "工业机器人关节",
    "医用检测试剂",
    "锂电池隔膜",
    "智能电表",
)
TECHNOLOGIES = ("热变形补偿技术", "高精度伺服控制", "纳米涂层工艺", "机器视觉检测", "低温烧结技术")
NAME_TRADES = ("智能装备", "生物科技", "新材料", "信息技术", "电子", "精密机械", "环保科技")


def uscc_of(head: str, organisation: str) -> str:
    """A valid USCC: `head` (authority, entity type, region: 8 characters) and the first eight
    characters of its organisation code, both check characters added."""
    body = head + organisation + organisation_check_digit(organisation)
    return body + uscc.calc_check_digit(body)


def credit_code(rng: random.Random, region: str) -> str:
    """A valid USCC of an enterprise registered in `region` (never ending in 000)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        code = uscc_of("91" + region, "".join(rng.choice(alphabet) for _ in range(8)))
        if not code.endswith("000"):
            return code


def numbered_code(i: int, series: str) -> str:
    """The i-th valid USCC of a two-letter series in 甘井子区 (series keep users apart)."""
    return uscc_of("91210211", f"{series}{i:06d}")


def typed_record(rng: random.Random, catalog: Catalog) -> dict[str, object]:
    """A complete, clean submission that fires no strong rule."""
    record = _figures(rng, catalog)
    category = catalog.campaign.sme.categories[
        sme.category_of(record["industry_code"], catalog.campaign.sme)  # type: ignore[arg-type]
    ]
    record["enterprise_scale"] = sme.classify(
        category,
        record["employees"],
        record["operating_revenue"],
        record["total_assets"],  # type: ignore[arg-type]
    )
    return record


def _figures(rng: random.Random, catalog: Catalog) -> dict[str, object]:
    county = rng.choice(list(catalog.campaign.regions.counties))
    employees = rng.randint(20, 280)
    rd_staff = rng.randint(3, employees // 3)
    revenue = Decimal(rng.randint(800, 9000))
    prev = (revenue * Decimal(rng.uniform(0.6, 1.1))).quantize(Decimal("0.01"))
    profit = (revenue * Decimal(rng.uniform(0.02, 0.15))).quantize(Decimal("0.01"))
    equity_begin = Decimal(rng.randint(1000, 5000))
    liabilities = Decimal(rng.randint(500, 7000))
    ip = rng.randint(5, 120)
    who = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    registered = date(2005, 1, 1) + timedelta(days=rng.randint(0, 6500))
    return {
        "enterprise_name": f"{rng.choice(('大连', '沈阳', '鞍山'))}{rng.choice(NAME_WORDS)}"
        f"{rng.choice(NAME_TRADES)}有限公司",
        "credit_code": credit_code(rng, county),
        "registration_date": registered,
        "region_code": county,
        "operating_status": rng.choice(("存续", "在业")),
        "qualifications": rng.choice(
            (("高新技术企业",), ("科技型中小企业",), ("高新技术企业", "专精特新中小企业"))
        ),
        "contact_name": who,
        "contact_mobile": f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}",
        "contact_email": f"user{rng.randint(1, 10**6)}@{rng.choice(MAIL_DOMAINS)}",
        "enterprise_scale": "",  # set below from the SME standard
        "tech_field": "先进制造与自动化",
        "industry_code": rng.choice(("C3421", "C3511", "C3831", "C4011")),
        "is_private": True,
        "has_party_org": rng.random() < 0.4,
        "rd_institution": rng.choice(("省级", "市级", "企业自建", "无")),
        "main_products": f"{rng.choice(PRODUCTS)}（型号 {rng.randint(1, 10**6)}）",
        "key_technologies": f"{rng.choice(TECHNOLOGIES)}，专利号 ZL{rng.randint(10**8, 10**9)}",
        "rd_expense": (revenue * Decimal(rng.uniform(0.03, 0.12))).quantize(Decimal("0.01")),
        "employees": employees,
        "rd_staff": rd_staff,
        "high_edu_staff": rng.randint(rd_staff, employees),
        "invention_patents": rng.randint(0, min(ip, 40)),
        "ip_count": ip,
        "tech_contract_absorbed": Decimal(rng.randint(0, 200)),
        "tech_contract_output": Decimal(rng.randint(0, 300)),
        "standards_count": rng.randint(0, 3),
        "main_business_revenue": (revenue * Decimal("0.9")).quantize(Decimal("0.01")),
        "operating_revenue": revenue,
        "operating_revenue_prev": prev,
        "net_profit": profit,
        "equity_begin": equity_begin,
        "equity_end": equity_begin + profit,
        "total_assets": equity_begin + profit + liabilities,  # the balance sheet balances
        "total_liabilities": liabilities,
        "taxes_paid": Decimal(rng.randint(50, 600)),
        "municipal_projects": rng.randint(0, 4),
        "provincial_projects": rng.randint(0, 2),
        "municipal_awards": rng.randint(0, 2),
        "provincial_awards": rng.randint(0, 1),
        "financing_amount": Decimal(rng.choice((0, 300, 800, 1500, 2600))),
        "financing_history": ("银行贷款",),
    }


def as_row(record: dict[str, object], catalog: Catalog, labels: bool = False) -> dict[str, object]:
    """The record as a file row: canonical keys (or Chinese labels), values as people type them."""
    row: dict[str, object] = {}
    for name, value in record.items():
        f = catalog.by_name[name]
        if f.kind is Kind.MULTI:
            text = "、".join(value)  # type: ignore[arg-type]
        elif f.kind is Kind.YES_NO:
            text = "是" if value else "否"
        else:
            text = str(value)
        row[f.label if labels else f.key] = text
    return row


async def waiting_forms(
    session: AsyncSession,
    catalog: Catalog,
    kinds: Sequence[str],
    series: str = "WB",
    status: str = "submitted",
    contacts_from: int = 0,
) -> list[int]:
    """Complete forms of 甘井子区 waiting in review (`status`), one per kind — "clean", "warned"
    (a weak rule confirmed), "copied" (a copy-paste flag), "again" (resubmitted with two fields
    changed) — the first the longest waiting, each with one bound contact (Telegram ids from
    `contacts_from`) when that is given. Committed; the submission ids, in order."""
    rng = random.Random(len(kinds))
    at = now()
    codes = [numbered_code(i, series) for i in range(len(kinds))]
    records = []
    for i, code in enumerate(codes):
        record = typed_record(rng, catalog)
        record.update(
            credit_code=code, region_code="210211", enterprise_name=f"企业{series}{i:05d}"
        )
        records.append(record)
    await session.execute(
        insert(Enterprise),
        [{"credit_code": r["credit_code"], "name": r["enterprise_name"], "region_code": "210211",
          "status": "active", "preloaded": {}, "created_at": at} for r in records],
    )  # fmt: skip
    enterprises = dict(
        (
            await session.execute(
                select(Enterprise.credit_code, Enterprise.id).where(
                    Enterprise.credit_code.in_(codes)
                )
            )
        ).all()
    )
    flags = {
        "clean": (0, 0, None),
        "warned": (1, 0, None),
        "copied": (0, 1, None),
        "again": (0, 0, 2),
    }
    await session.execute(
        insert(Submission),
        [{"enterprise_id": enterprises[code], "campaign": catalog.campaign.year, "status": status,
          "submitted_at": at - timedelta(minutes=len(codes) - i),
          "status_at": at - timedelta(minutes=len(codes) - i), "created_at": at, "round": 1,
          "returned_level": "county" if kind == "again" else None,
          "similar": [{"submission_id": 0, "enterprise": "某公司", "credit_code": codes[0],
                       "reason": "13 项关键数据中 12 项相同"}] if kind == "copied" else [],
          "warnings": flags[kind][0], "copies": flags[kind][1], "changed": flags[kind][2]}
         for i, (code, kind) in enumerate(zip(codes, kinds, strict=True))],
    )  # fmt: skip
    submissions = dict(
        (
            await session.execute(
                select(Submission.enterprise_id, Submission.id).where(
                    Submission.enterprise_id.in_(list(enterprises.values()))
                )
            )
        ).all()
    )
    ids = [submissions[enterprises[code]] for code in codes]
    answers = [
        {"submission_id": sid, "field": name, "value": encode(catalog.by_name[name], value),
         "source": "typed", "confirmed": True, "answered_at": at, "answered_by": 1}
        for sid, record in zip(ids, records, strict=True)
        for name, value in record.items()
    ]  # fmt: skip
    for start in range(0, len(answers), 10_000):
        await session.execute(insert(Answer), answers[start : start + 10_000])
    await session.execute(
        insert(AuditEntry),
        [{"at": at - timedelta(minutes=len(codes) - i), "actor": 1, "enterprise_id": enterprises[c],
          "submission_id": sid, "action": "submission.submitted", "detail": {}}
         for i, (c, sid) in enumerate(zip(codes, ids, strict=True))],
    )  # fmt: skip
    if contacts_from:
        await session.execute(
            insert(Contact),
            [{"telegram_user_id": contacts_from + i, "enterprise_id": enterprises[code],
              "status": "active", "bound_via": "invitation", "display_name": f"联系人{i}",
              "created_at": at} for i, code in enumerate(codes)],
        )  # fmt: skip
    await session.commit()
    return ids
