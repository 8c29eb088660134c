"""/chart: the campaign's progress as a PNG — each place's enterprises by status, and the forms
submitted per day against the calendar's deadlines.

Drawn with matplotlib's object API (no pyplot, no global backend: safe in a worker thread) and
Noto Sans CJK SC from the mplfonts package, so Chinese labels render alike on every machine.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from functools import cache
from importlib.util import find_spec
from itertools import accumulate
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.dates import MO, DateFormatter, WeekdayLocator
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from domain.campaign import Campaign
from services.overview import Overview

# Stacked from the most advanced status to the least, with colours that read at a glance.
STACK: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("已上报", ("reported",), "#2e7d32"),
    ("审核中", ("submitted", "city_review", "province_review"), "#66bb6a"),
    ("已退回", ("returned",), "#ef6c00"),
    ("填报中", ("in_progress",), "#42a5f5"),
    ("未开始", ("not_started",), "#cfd8dc"),
)
DEADLINES = (
    ("collection", "企业填报截止"),
    ("local_review", "区县、市审核截止"),
    ("province_review", "省级审核截止"),
)


@cache
def cjk_font() -> str:
    """Register the shipped Noto Sans CJK SC with matplotlib; its family name."""
    spec = find_spec("mplfonts")
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def progress_png(view: Overview, daily: dict[date, int], campaign: Campaign, today: date) -> bytes:
    with rc_context({"font.family": [cjk_font()], "axes.unicode_minus": False}):
        figure = Figure(figsize=(10, 10.5), dpi=110, layout="constrained")
        places, days = figure.subplots(2, 1, height_ratios=[max(len(view.rows), 4), 7])
        _places(places, view)
        _days(days, daily, campaign, today)
        figure.suptitle(
            f"{view.scope_name} · {campaign.year} 年创新积分制填报进度（截至 {today:%m月%d日}）",
            fontsize=14,
        )
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()


def _places(ax: Axes, view: Overview) -> None:
    rows = list(reversed(view.rows))  # the region table's first place on top
    names = [r.name for r in rows]
    left = [0] * len(rows)
    for label, buckets, colour in STACK:
        widths = [sum(r.counts[b] for b in buckets) for r in rows]
        ax.barh(names, widths, left=left, color=colour, label=label, height=0.7)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, r in enumerate(rows):
        if r.total:
            ax.text(left[y], y, f" {r.rate:.0%}", va="center", fontsize=9)
    ax.set_title(f"按{'市' if view.by == 'city' else '区县'}：企业数与状态（右侧为提交率）", pad=26)
    ax.set_xlabel("企业数（家）")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # enterprises come whole
    # Above the bars, under the title: never over a bar.
    ax.legend(
        ncols=len(STACK), loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=9, frameon=False
    )
    ax.margins(x=0.08)
    ax.spines[["top", "right"]].set_visible(False)


def _days(ax: Axes, daily: dict[date, int], campaign: Campaign, today: date) -> None:
    """Submissions per day on an axis spanning the campaign's stages (named along the top),
    the deadlines as dashed lines labelled each on a row of its own above the bars."""
    stages = [s for s in campaign.stages if s.end is not None]
    first, last = stages[0].start, max(s.end for s in stages if s.end)
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ax.bar(span, [daily.get(d, 0) for d in span], color="#42a5f5", label="当日首次提交（份）")
    total = ax.twinx()
    before = sum(n for d, n in daily.items() if d < first)
    shown = [d for d in span if d <= today]  # no line into the future
    cumulative = list(accumulate((daily.get(d, 0) for d in shown), initial=before))[1:]
    total.plot(shown, cumulative, color="#2e7d32", linewidth=2, label="累计提交（份）")
    for axis, top in ((ax, max(daily.values(), default=0)), (total, max(cumulative, default=0))):
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))  # forms come whole
        axis.set_ylim(0, max(top, 1) * 1.5)  # the upper third for the deadlines' labels
    deadlines = [(campaign.stage(key).end, label) for key, label in DEADLINES]
    for row, (deadline, label) in enumerate(d for d in deadlines if d[0] is not None):
        ax.axvline(deadline, color="#c62828", linestyle="--", linewidth=1)
        ax.annotate(
            f"{label} {deadline:%m/%d}",
            (deadline, 0.95 - 0.08 * row),
            xycoords=("data", "axes fraction"),
            xytext=(3, 0),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=8,
            color="#c62828",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
        )
    if first <= today <= last:
        ax.axvline(today, color="#555", linewidth=1)
    ax.set_xlim(first - timedelta(days=1), last + timedelta(days=1))
    ax.xaxis.set_major_locator(WeekdayLocator(byweekday=MO))
    ax.xaxis.set_major_formatter(DateFormatter("%m/%d"))
    names = ax.secondary_xaxis("top")
    names.set_xticks(
        [s.start + (s.end - s.start) / 2 for s in stages if s.end and s.end > s.start],
        [s.name for s in stages if s.end and s.end > s.start],
        fontsize=8,
    )
    names.tick_params(length=0)
    half = timedelta(hours=12)  # a day's bar is centred on its date
    for s in stages[1::2]:
        ax.axvspan(s.start - half, s.end + half, color="#eceff1", zorder=0)  # every other stage
    ax.set_title("每日提交与截止日期（上方为各阶段）")
    ax.set_ylabel("当日首次提交（份）")
    total.set_ylabel("累计提交（份）")
    bars, lines = ax.get_legend_handles_labels(), total.get_legend_handles_labels()
    ax.legend(
        bars[0] + lines[0],
        bars[1] + lines[1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncols=2,
        fontsize=9,
        frameon=False,
    )
    ax.spines[["top"]].set_visible(False)
