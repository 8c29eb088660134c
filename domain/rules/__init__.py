"""The data-check rules, with the briefing's ids: S1–S8 and W1–W16, plus our E-… and W-… ."""

from domain.rules.base import Finding, Hit, Rule, Severity, Values, order_key
from domain.rules.beyond import BEYOND_RULES
from domain.rules.strong import STRONG_RULES
from domain.rules.weak import WEAK_RULES

RULES: tuple[Rule, ...] = tuple(
    sorted((*STRONG_RULES, *WEAK_RULES, *BEYOND_RULES), key=lambda r: order_key(r.id))
)
RULES_BY_ID = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Finding", "Hit", "Rule", "Severity", "Values", "order_key"]
