"""Checking one enterprise's answers: parse each, then run every rule whose inputs are there.

The same function serves the `validate` command (a whole record) and the chat (a form being
filled): rules that miss an input are skipped, and `E-required` is reported only when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import compress, count, repeat
from operator import is_

from domain.catalog import Catalog, Kind
from domain.parsing import InputError, Noted, Reader, Readers, reader_for, readers_for
from domain.rules import RULES, RULES_BY_ID, Finding, Rule, Severity, Values, order_key
from domain.rules.base import Check

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
# Per field, the rules that may name it in a finding: those that read it, and the partial ones
# (which name what they found); in the order of `_EVALUATED`.
_PARTIAL = tuple(e for e in _EVALUATED if e[2].partial)
_TOUCHING = {
    name: tuple(e for e in _EVALUATED if e[2].partial or name in e[2].reads)
    for name in frozenset().union(*(rule.reads for _, _, rule in _EVALUATED))
}


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
    if not findings:
        return []
    return sorted({f.rule for f in findings if f.severity is severity}, key=order_key)


def parse_answers(answers: Mapping[str, object], catalog: Catalog) -> Report:
    """Typed values of the answers (by field name); malformed ones become findings."""
    return _parse_run(tuple(answers), [answers], catalog)[0]


def _parse_run(
    names: tuple[str, ...], run: Sequence[Mapping[str, object]], catalog: Catalog
) -> list[Report]:
    """The answers of records that share their keys, read column by column: each field's reader
    and memory are looked up once per column, not once per answer, and a value the field read
    before costs one dictionary look-up."""
    if not names:
        return [Report({}, []) for _ in run]
    plan = _plan(catalog)
    special: set[int] = set()  # records with a blank, refused or noted answer
    columns = [
        _column(name, column, *plan[name], special)
        for name, column in zip(names, zip(*(r.values() for r in run), strict=True), strict=True)
    ]
    return [
        _assembled(names, row)
        if index in special
        else Report(dict(zip(names, row, strict=True)), [])
        for index, row in enumerate(zip(*columns, strict=True))
    ]


def _column(
    name: str,
    column: tuple[object, ...],
    read: Reader,
    many: Readers | None,
    format_rule: str,
    known: dict[object, object] | None,
    special: set[int],
) -> list[object]:
    """One field's answers read: looked up in what the field read before, block by block
    without a Python loop, and only what is new read (and remembered while there is room).
    Answers that are each their own (texts; codes and exact figures once the memory is full
    and mostly missed) are read without being looked up."""
    values: list[object] = []
    unique = known is None  # answers each their own (texts): read, not looked up
    start, size = 0, _FIRST_BLOCK
    while start < len(column):
        block = column[start : start + size]
        direct = unique  # this block read without being looked up
        if direct:
            found, new = [_UNREAD] * len(block), range(len(block))
        else:
            try:  # every answer read before, as in most blocks of most fields: one pass
                found = list(map(known.__getitem__, block))  # type: ignore[union-attr]
                new = []
            except (KeyError, TypeError):
                try:
                    found = list(map(known.get, block, repeat(_UNREAD)))  # type: ignore[union-attr]
                except TypeError:  # a list among the answers: nothing to look up
                    found = [_UNREAD] * len(block)
                new = list(compress(count(), map(is_, found, repeat(_UNREAD))))
                # A memory full and mostly missed (credit codes, e-mails, exact figures):
                # the rest of the column is read without looking it up first.
                unique = len(known) >= _REMEMBERED and len(new) * 2 > len(block)  # type: ignore[arg-type]
        if new:
            raws = list(block) if direct else list(map(block.__getitem__, new))
            read_new = None if many is None else many(raws)
            if read_new is None:
                try:  # without a Python loop while every answer is readable
                    read_new = list(map(read, raws))
                except InputError:
                    read_new = [_read_one(name, read, format_rule, raw) for raw in raws]
            if direct and _SPECIAL.isdisjoint(map(type, read_new)):
                found = read_new  # nothing to remember, nothing to note
            else:
                room = known is not None and len(known) < _REMEMBERED
                for index, value in zip(new, read_new, strict=True):
                    found[index] = value
                    if type(value) in _SPECIAL:
                        special.add(start + index)
                        if value is not None:
                            continue  # read again, to say it again
                    if room and type(raw := block[index]) is str:
                        known[raw] = value  # type: ignore[index]
                        if value is None:
                            known[_BLANKS] = True
        if not direct and known is not None and _BLANKS in known:
            # blanks among the answers looked up
            special.update(compress(count(start), map(is_, found, repeat(None))))
        values.extend(found)
        start, size = start + size, min(size * 2, _BLOCK)
    return values


def _read_one(name: str, read: Reader, format_rule: str, raw: object) -> object:
    try:
        return read(raw)
    except InputError as exc:
        return Finding(format_rule, Severity.STRONG, (name,), str(exc))


def _assembled(names: tuple[str, ...], row: tuple[object, ...]) -> Report:
    """A record with blank, refused or noted answers: its values, findings and notes."""
    report = Report({}, [])
    for name, value in zip(names, row, strict=True):
        if value is None:
            continue
        if type(value) is Finding:
            report.findings.append(value)  # type: ignore[arg-type]
            continue
        if type(value) is Noted:
            value, report.notes[name] = value  # type: ignore[misc]
        report.values[name] = value
    return report


_UNREAD = object()
_BLANKS = object()  # in a field's memory once it holds a blank answer (None)
_SPECIAL = frozenset({type(None), Finding, Noted})  # what a record's report must say or note
# A file repeats most answers thousands of times (choices, dates, places, industries, small
# counts, round figures): what a reader made of a text is remembered, per field (its values are
# immutable; refusals and conversions to confirm are read again). Long texts are each their own.
_REMEMBERED = 4096  # answers per field
# Answers looked up at once: few at first, when a new answer repeated in the block is read
# again each time, then more as the field's memory fills.
_FIRST_BLOCK, _BLOCK = 8, 512


@cache
def _plan(
    catalog: Catalog,
) -> dict[str, tuple[Reader, Readers | None, str, dict[object, object] | None]]:
    """Per field: its readers (one answer, many), the rule a malformed answer breaks, what it
    has read."""
    return {
        f.name: (
            reader_for(f, catalog),
            readers_for(f, catalog),
            _FORMAT_RULES.get(f.kind, "E-input"),
            None if f.kind is Kind.TEXT else {},
        )
        for f in catalog.fields
    }


def evaluate(
    values: Values,
    catalog: Catalog,
    within: frozenset[str] | None = None,
    touching: str | None = None,
) -> list[Finding]:
    """Every rule whose inputs are all filled (or that works on what there is); with `within`,
    only the rules that read nothing else (the chat checks an answer against the rules of the
    questions already asked); with `touching`, only the rules that may name that field (the
    findings naming it are the same as among all of them)."""
    filled = values.keys()
    if within is None and touching is None and filled >= _READ:
        return _run(_CHECKS, values, catalog)  # a whole record, every rule: none to skip
    candidates = _EVALUATED if touching is None else _TOUCHING.get(touching, _PARTIAL)
    applicable = [
        (check, rule)
        for reads, check, rule in candidates
        if reads <= filled and (within is None or within.issuperset(rule.reads))
    ]
    return _run(applicable, values, catalog)


def _run(checks: Sequence[tuple[Check, Rule]], values: Values, catalog: Catalog) -> list[Finding]:
    findings: list[Finding] = []
    for check, rule in checks:
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
def _complete(catalog: Catalog) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """What a record has when it misses no required answer and every rule applies to it: these
    fields, and of each (field, other) pair the field wherever it has the other."""
    conditional = tuple((f.name, f.required_with) for f in catalog.fields if f.required_with)
    always = catalog.required_names - {name for name, _ in conditional}
    return always | _READ, conditional


@cache
def _position(catalog: Catalog) -> dict[str, int]:
    """Each field's place in the form: a record misses a few required fields, not most."""
    return {f.name: i for i, f in enumerate(catalog.fields)}


def check_record(answers: Mapping[str, object], catalog: Catalog) -> Report:
    """The full check a submission must pass: parsing, required fields, every rule."""
    return check_records([answers], catalog)[0]


def check_records(records: Iterable[Mapping[str, object]], catalog: Catalog) -> list[Report]:
    """`check_record` of each record of a file, read in runs of records with the same keys (a
    file's records all have the same, as a rule)."""
    reports = []
    always, conditional = _complete(catalog)
    for names, run in _runs(records):
        checked = _parse_run(names, run, catalog)
        keys = frozenset(names)
        whole = keys >= always and all(name in keys for name, other in conditional if other in keys)
        for report in checked:
            if whole and not report.findings and len(report.values) == len(names):  # most
                report.findings = _run(_CHECKS, report.values, catalog)  # nothing to skip
            else:
                wrong = frozenset(name for f in report.findings for name in f.fields)
                report.findings.extend(missing_required(report.values, catalog, wrong))
                report.findings.extend(evaluate(report.values, catalog))
            if report.findings:
                report.findings.sort(key=_finding_order)
        reports.extend(checked)
    return reports


def _runs(
    records: Iterable[Mapping[str, object]],
) -> Iterator[tuple[tuple[str, ...], list[Mapping[str, object]]]]:
    """Consecutive records with the same keys in the same order, and those keys."""
    names: tuple[str, ...] | None = None
    run: list[Mapping[str, object]] = []
    for record in records:
        keys = tuple(record)
        if keys != names:
            if run:
                yield names, run  # type: ignore[misc]
            names, run = keys, []
        run.append(record)
    if run:
        yield names, run  # type: ignore[misc]


def _finding_order(finding: Finding) -> tuple[int, int, int]:
    return order_key(finding.rule)


def check_values(values: Values, catalog: Catalog) -> list[Finding]:
    """The same check for values already read (as stored): required fields and every rule.

    Stored answers went through their field's reader when they were given or imported, so
    only what depends on the other answers is left to check.
    """
    findings = missing_required(values, catalog)
    findings.extend(evaluate(values, catalog))
    findings.sort(key=_finding_order)
    return findings
