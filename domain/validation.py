"""Checking one enterprise's answers: parse each, then run every rule whose inputs are there.

The same function serves the `validate` command (a whole record) and the chat (a form being
filled): rules that miss an input are skipped, and `E-required` is reported only when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from domain.catalog import Catalog, Kind
from domain.parsing import InputError, Noted, Reader, reader_for
from domain.rules import RULES, RULES_BY_ID, Finding, Severity, Values, order_key

# Malformed answers of these kinds break a named rule rather than the generic E-input.
_FORMAT_RULES = {Kind.USCC: "E-uscc", Kind.MOBILE: "S5", Kind.EMAIL: "S5", Kind.PERSON: "S5"}
# Per rule: the fields that must all be filled (none for a partial rule), its check, itself.
_EVALUATED = tuple(
    (frozenset() if rule.partial else frozenset(rule.reads), rule.check, rule)
    for rule in RULES
    if rule.check is not None
)
_READ = frozenset().union(*(reads for reads, _, _ in _EVALUATED))
_CHECKS = tuple((check, rule) for _, check, rule in _EVALUATED)


@dataclass(slots=True)
class Report:
    """What the checks found in one record."""

    values: dict[str, object]
    findings: list[Finding]
    notes: dict[str, str] = field(default_factory=dict)  # conversions to confirm, by field

    @property
    def strong(self) -> list[str]:
        return _ids(self.findings, Severity.STRONG)

    @property
    def weak(self) -> list[str]:
        return _ids(self.findings, Severity.WEAK)

    @property
    def unscorable(self) -> str:
        """Why the record may not be scored (scoring.md: the cohort holds only scorable
        enterprises), or "" when it may."""
        broken = "、".join(f"{rule}（{RULES_BY_ID[rule].title}）" for rule in self.strong)
        return f"未通过 {broken}" if broken else ""


def _ids(findings: list[Finding], severity: Severity) -> list[str]:
    return sorted({f.rule for f in findings if f.severity is severity}, key=order_key)


def parse_answers(answers: Mapping[str, object], catalog: Catalog) -> Report:
    """Typed values of the answers (by field name); malformed ones become findings."""
    values: dict[str, object] = {}
    findings: list[Finding] = []
    notes: dict[str, str] = {}
    plan = _plan(catalog)
    for name, raw in answers.items():
        read, format_rule, known = plan[name]
        text = known is not None and type(raw) is str
        value = known.get(raw, _UNREAD) if text else _UNREAD  # type: ignore[union-attr]
        if value is _UNREAD:
            try:
                value = read(raw)
            except InputError as exc:
                findings.append(Finding(format_rule, Severity.STRONG, (name,), str(exc)))
                continue
            if text and len(known) < _REMEMBERED:  # type: ignore[arg-type]
                known[raw] = value  # type: ignore[index]
        if value is None:
            continue
        if type(value) is Noted:
            value, notes[name] = value
        values[name] = value
    return Report(values, findings, notes)


_UNREAD = object()
# A file repeats most answers thousands of times (choices, dates, places, industries, small
# counts, round figures): what a reader made of a text is remembered, per field (its values are
# immutable; what it refuses is read again, to raise again). Long texts are each their own.
_REMEMBERED = 4096  # answers per field


@cache
def _plan(catalog: Catalog) -> dict[str, tuple[Reader, str, dict[str, object] | None]]:
    """Per field: its reader, the rule a malformed answer breaks, what it has read."""
    return {
        f.name: (
            reader_for(f, catalog),
            _FORMAT_RULES.get(f.kind, "E-input"),
            None if f.kind is Kind.TEXT else {},
        )
        for f in catalog.fields
    }


def evaluate(
    values: Values, catalog: Catalog, within: frozenset[str] | None = None
) -> list[Finding]:
    """Every rule whose inputs are all filled (or that works on what there is); with `within`,
    only the rules that read nothing else (the chat checks an answer against the rules of the
    questions already asked)."""
    findings: list[Finding] = []
    filled = values.keys()
    applicable = (
        _CHECKS  # a whole record, every rule: none to skip
        if within is None and filled >= _READ
        else [
            (check, rule)
            for reads, check, rule in _EVALUATED
            if reads <= filled and (within is None or within.issuperset(rule.reads))
        ]
    )
    for check, rule in applicable:
        result = check(values, catalog)
        if result is not None:
            findings.extend(rule.findings(result))
    return findings


def missing_required(
    values: Values, catalog: Catalog, skip: frozenset[str] = frozenset()
) -> list[Finding]:
    """E-required: required fields without an answer (those answered wrongly are in `skip`)."""
    unanswered = catalog.required_names - values.keys() - skip
    if not unanswered:
        return []
    findings = []
    for name in sorted(unanswered, key=_position(catalog).__getitem__):  # in the form's order
        f = catalog.by_name[name]
        if f.required_with:
            if f.required_with not in values:
                continue
            why = f"填写了{catalog.by_name[f.required_with].label}时，{f.label}为必填项"
        elif f.required:
            why = f"{f.label}为必填项，尚未填写"
        else:
            continue
        findings.append(
            Finding("E-required", Severity.STRONG, (f.name,), f"{why}。例如 {f.example}")
        )
    return findings


@cache
def _position(catalog: Catalog) -> dict[str, int]:
    """Each field's place in the form: a record misses a few required fields, not most."""
    return {f.name: i for i, f in enumerate(catalog.fields)}


def check_record(answers: Mapping[str, object], catalog: Catalog) -> Report:
    """The full check a submission must pass: parsing, required fields, every rule."""
    report = parse_answers(answers, catalog)
    wrong = frozenset(name for f in report.findings for name in f.fields)
    report.findings.extend(missing_required(report.values, catalog, wrong))
    report.findings.extend(evaluate(report.values, catalog))
    report.findings.sort(key=lambda f: order_key(f.rule))
    return report


def check_values(values: Values, catalog: Catalog) -> list[Finding]:
    """The same check for values already read (as stored): required fields and every rule.

    Stored answers went through their field's reader when they were given or imported, so
    only what depends on the other answers is left to check.
    """
    findings = missing_required(values, catalog)
    findings.extend(evaluate(values, catalog))
    findings.sort(key=lambda f: order_key(f.rule))
    return findings
