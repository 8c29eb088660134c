"""Copy-paste detection: copied figures and texts are flagged, honest neighbours are not."""

from __future__ import annotations

import random
from decimal import Decimal

from domain.catalog import Catalog
from domain.similarity import compare, keys, own_keys, profile
from tests.conftest import CLEAN
from tests.factories import typed_record


def test_a_copied_form_is_flagged() -> None:
    copy = {**CLEAN, "enterprise_name": "另一家公司", "taxes_paid": Decimal("211")}
    found = compare(profile(CLEAN), profile(copy))
    assert found is not None and found.reason == "13 项关键数据中 12 项相同"


def test_near_identical_figures_are_flagged() -> None:
    nudged = {k: (v * Decimal("1.003") if isinstance(v, Decimal) else v) for k, v in CLEAN.items()}
    nudged["main_products"] = "另写的产品说明，与原文不同的一段文字"
    found = compare(profile(CLEAN), profile(nudged))
    assert found is not None and "几乎相同" in found.reason


def test_identical_texts_are_flagged(catalog: Catalog) -> None:
    text = "高速电主轴热变形补偿技术及精密减速器设计"
    a = profile({"main_products": text, "rd_expense": Decimal(1)})
    b = profile({"main_products": f"  {text} ", "rd_expense": Decimal(900)})
    labels = {f.name: f.label for f in catalog.fields}
    found = compare(a, b, labels)
    assert found is not None and found.reason == "核心产品/服务完全相同"
    assert compare(profile({"main_products": "机床"}), profile({"main_products": "机床"})) is None


def test_a_copied_text_with_invisible_characters_is_flagged(catalog: Catalog) -> None:
    """Also for answers stored before input was cleaned: the digest sees the text as shown."""
    text = "高速电主轴热变形补偿技术及精密减速器设计"
    hidden = "\u2060".join(text[:6]) + text[6:] + "\u200b"
    a = profile({"key_technologies": text})
    b = profile({"key_technologies": hidden})
    assert keys(b) & own_keys(a)
    found = compare(a, b, {f.name: f.label for f in catalog.fields})
    assert found is not None and found.reason.endswith("完全相同")


def test_honest_neighbours_are_not_flagged(catalog: Catalog) -> None:
    rng = random.Random(4)
    records = [typed_record(rng, catalog) for _ in range(300)]
    profiles = [profile(r) for r in records]
    flagged = sum(1 for i, a in enumerate(profiles) for b in profiles[i + 1 :] if compare(a, b))
    assert flagged == 0


def test_copies_share_index_keys_and_strangers_mostly_do_not(catalog: Catalog) -> None:
    copy = profile({**CLEAN, "taxes_paid": Decimal("211")})
    assert own_keys(profile(CLEAN)) & keys(copy)
    nudged = profile(
        {k: (v * Decimal("1.004") if isinstance(v, Decimal) else v) for k, v in CLEAN.items()}
    )
    assert any(k.startswith("n:") for k in own_keys(profile(CLEAN)) & keys(nudged))
    stranger = profile(typed_record(random.Random(1), catalog))
    shared = own_keys(profile(CLEAN)) & keys(stranger)
    assert sum(1 for k in shared if k.startswith("f:")) < 8
    assert not any(k.startswith("n:") for k in shared)


def test_profiles_round_trip_as_json() -> None:
    from domain.similarity import Profile

    p = profile(CLEAN)
    assert Profile.from_json(p.to_json()) == p
