"""Copy-paste detection (数据雷同): submissions of one city whose figures or texts are the same.

A submission's profile yields index keys; only submissions sharing keys are compared, so a new
submission is checked against 20,000 others without comparing it with each of them.
- Exact figures: one key per non-zero key figure; a pair sharing most of them is flagged.
- Near-identical figures: one key per rounding bucket of the two largest figures; a pair whose
  key figures all lie within a tiny relative distance is flagged.
- Texts: one key per long enough free-text answer; identical texts are flagged. Texts are
  compared as they look (`domain.text.visible`, spaces and case aside), also texts stored before
  invisible characters were removed at input. No NFKC here: it would change the digest of almost
  every Chinese text (full-width punctuation), so the digests indexed before would no longer
  match.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.text import visible

KEY_FIGURES = (
    "rd_expense",
    "employees",
    "rd_staff",
    "high_edu_staff",
    "invention_patents",
    "ip_count",
    "tech_contract_output",
    "main_business_revenue",
    "operating_revenue",
    "operating_revenue_prev",
    "net_profit",
    "total_assets",
    "taxes_paid",
)
TEXTS = ("main_products", "key_technologies", "tech_needs")
SAME_SHARE = 0.8  # of the non-zero key figures equal …
SAME_AT_LEAST = 8  # … and at least this many
NEAR = 0.005  # every key figure within 0.5 %
MIN_TEXT = 12  # characters: shorter texts ("无", "数控机床") say nothing
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Profile:
    figures: dict[str, float]  # key figures present, as numbers
    texts: dict[str, str]  # field → digest of the normalised text

    def to_json(self) -> dict[str, dict[str, object]]:
        return {"figures": dict(self.figures), "texts": dict(self.texts)}

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, object]]) -> Profile:
        return cls(
            {k: float(v) for k, v in data.get("figures", {}).items()},  # type: ignore[arg-type]
            {k: str(v) for k, v in data.get("texts", {}).items()},
        )


def profile(values: Mapping[str, object]) -> Profile:
    figures = {
        name: float(value)  # type: ignore[arg-type]
        for name in KEY_FIGURES
        if isinstance(value := values.get(name), int | float | Decimal)
    }
    texts = {}
    for name in TEXTS:
        text = values.get(name)
        if isinstance(text, str):
            normalised = _SPACES.sub("", visible(text)).lower()
            if len(normalised) >= MIN_TEXT:
                texts[name] = hashlib.sha256(normalised.encode()).hexdigest()[:32]
    return Profile(figures, texts)


def _bucket(value: float) -> int:
    """About 1 % wide on a log scale, so near-identical figures share a bucket or a neighbour."""
    return math.floor(math.log(value) / math.log1p(0.01)) if value > 0 else 0


def keys(p: Profile) -> set[str]:
    """Index keys: two submissions are compared only if they share at least one."""
    found = {f"f:{name}:{value:.4f}" for name, value in p.figures.items() if value}
    largest = sorted((v for v in p.figures.values() if v > 0), reverse=True)[:2]
    if len(largest) == 2:
        a, b = _bucket(largest[0]), _bucket(largest[1])
        found |= {f"n:{x}:{y}" for x in (a - 1, a, a + 1) for y in (b - 1, b, b + 1)}
    found |= {f"t:{name}:{digest}" for name, digest in p.texts.items()}
    return found


def own_keys(p: Profile) -> set[str]:
    """The keys stored for a submission (its own bucket only; lookups try the neighbours)."""
    found = {k for k in keys(p) if not k.startswith("n:")}
    largest = sorted((v for v in p.figures.values() if v > 0), reverse=True)[:2]
    if len(largest) == 2:
        found.add(f"n:{_bucket(largest[0])}:{_bucket(largest[1])}")
    return found


@dataclass(frozen=True, slots=True)
class Likeness:
    reason: str  # in Chinese, for the officials' card
    same: int = 0
    of: int = 0


def compare(a: Profile, b: Profile, labels: Mapping[str, str] | None = None) -> Likeness | None:
    """Why these two profiles look copied, or None. `labels` names the text fields."""
    texts = [name for name, digest in a.texts.items() if b.texts.get(name) == digest]
    shared = [n for n in KEY_FIGURES if n in a.figures and n in b.figures]
    nonzero = [n for n in shared if a.figures[n] or b.figures[n]]
    same = sum(1 for n in nonzero if a.figures[n] == b.figures[n])
    if nonzero and same >= SAME_AT_LEAST and same >= SAME_SHARE * len(nonzero):
        return Likeness(f"{len(nonzero)} 项关键数据中 {same} 项相同", same, len(nonzero))
    if len(nonzero) >= SAME_AT_LEAST and all(
        abs(a.figures[n] - b.figures[n]) <= NEAR * max(abs(a.figures[n]), abs(b.figures[n]))
        for n in nonzero
    ):
        return Likeness(f"{len(nonzero)} 项关键数据几乎相同（相差不到 0.5%）", same, len(nonzero))
    if texts:
        names = "、".join((labels or {}).get(n, n) for n in texts)
        return Likeness(f"{names}完全相同")
    return None


FIGURE_KEYS_NEEDED = SAME_AT_LEAST  # shared exact-figure keys that make a pair worth comparing
