"""Text that looks the same is the same: characters that show nothing are removed; NFKC only
where text is read or matched."""

from __future__ import annotations

import pytest

from domain.text import folded, same, visible

HIDDEN = [
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width space, (non-)joiner, marks
    "\u2060", "\u2066", "\u2067", "\u2068", "\u2069",  # word joiner, bidirectional isolates
    "\u202a", "\u202e",  # bidirectional embedding and override
    "\u00ad", "\u3164", "\u115f", "\uffa0",  # soft hyphen, Hangul fillers
    "\U000e0041", "\U000e007f",  # tag characters
    "\x00", "\x07", "\x1b", "\x85", "\ufeff", "\ufe0f",  # controls, BOM, a variation selector
]  # fmt: skip


@pytest.mark.parametrize("hidden", HIDDEN)
def test_what_shows_nothing_is_removed(hidden: str) -> None:
    text = "高速电主轴热变形补偿技术"
    assert visible(text[:3] + hidden + text[3:] + hidden) == text


def test_what_shows_is_kept_as_typed() -> None:
    typed = "主轴（精密），减速器：ＡＢＣ １２３\n第二行\t🚀 <b>&amp;</b>"
    assert visible(typed) == typed
    assert visible("第一段\u2029第二段") == "第一段\n第二段"


def test_folded_is_for_reading_and_matching() -> None:
    assert folded(" １２，３４５\u2060万 ") == "12,345万"
    assert folded("（集团）") == "(集团)"


def test_names_that_read_the_same_are_the_same() -> None:
    assert same("大连海创（集团）有限公司", " 大连海创(集团)有限\u2060公司")
    assert same("ABC 科技有限公司", "ａｂｃ科技有限公司")
    assert not same("大连海创智能装备有限公司", "大连海创科技有限公司")
