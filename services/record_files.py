"""Reading enterprise records from the files people bring: CSV, XLSX or (on the command line) JSON.

Columns are the catalog's canonical keys or their Chinese labels. Values stay as typed; the
domain's readers interpret them. Tables are read row by row within `Limits`: `open_records`
reads the file through once to check it whole (a file refused is refused before anything is
written) and reads it again as its records are taken, so memory does not grow with the file.
A file that cannot be read raises `RecordFileError`, naming the row and the column.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from domain.catalog import Catalog
from services.bounds import LIMITS, Limits, RecordFileError

__all__ = ["LIMITS", "TABLES", "Limits", "Record", "RecordFileError", "open_records"]

TABLES = (".csv", ".xlsx", ".xlsm")  # what the bot takes; JSON is for the command line
SUFFIXES = (".json", *TABLES)
_SCALARS = (str, int, float, Decimal, bool)
# Bytes read at a time: the text a piece decodes to stays under the size glibc's malloc maps from
# the kernel afresh each time (128 KiB), so the pieces reuse one another's memory.
_BLOCK = 2**16


class Record(NamedTuple):  # a tuple: made in a third of a frozen dataclass's time, per record
    row: int  # the spreadsheet row (header = 1) or the position in a JSON array (from 1)
    answers: Mapping[str, object]  # by field name


class Answers(Mapping[str, object]):
    """A record's answers by field name, over its values as the file gave them: a file's
    records share their columns, so none makes a dictionary of its own (making them took 4 µs
    of the ~60 a record costs `validate`)."""

    __slots__ = ("_names", "_places", "_values")

    def __init__(
        self, names: tuple[str, ...], places: dict[str, int], values: tuple[object, ...]
    ) -> None:
        self._names, self._places, self._values = names, places, values

    def __getitem__(self, name: str) -> object:
        return self._values[self._places[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def values(self) -> tuple[object, ...]:  # type: ignore[override]
        """In the names' order, as a tuple: read column by column without a look-up each."""
        return self._values


def _columns_of(names: Sequence[str]) -> tuple[tuple[str, ...], dict[str, int]]:
    """Field names, and each one's place, for the `Answers` of the records that share them."""
    return tuple(names), {name: place for place, name in enumerate(names)}


@dataclass(slots=True)
class RecordStream:
    records: Iterator[Record]
    ignored_columns: list[str]  # complete once the records are


@dataclass(slots=True)
class Records:
    """A checked file's records, read again from the file each time they are iterated."""

    path: Path
    catalog: Catalog
    limits: Limits
    count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Record]:
        return _records(self.path, self.catalog, self.limits, _Ignored())


def open_records(path: Path, catalog: Catalog, limits: Limits = LIMITS) -> Records:
    """The file checked whole (structure, limits, encoding): its record count and the headers
    it ignores. Raises `RecordFileError`."""
    ignored = _Ignored()
    count = sum(1 for _ in _records(path, catalog, limits, ignored))
    return Records(path, catalog, limits, count, ignored.columns)


def stream_records(path: Path, catalog: Catalog, limits: Limits = LIMITS) -> RecordStream:
    """The records as they are read, once through: for a command that is done with each batch
    before the next (`validate`). Raises `RecordFileError` when it reaches what is wrong."""
    ignored = _Ignored()
    return RecordStream(_records(path, catalog, limits, ignored), ignored.columns)


def _records(path: Path, catalog: Catalog, limits: Limits, ignored: _Ignored) -> Iterator[Record]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RecordFileError("unsupported", suffixes="、".join(SUFFIXES))
    try:
        if suffix == ".json":
            yield from _from_json(path, catalog, limits, ignored)
        else:
            rows = _csv_rows(path, limits) if suffix == ".csv" else _xlsx_rows(path, limits)
            yield from _from_rows(rows, catalog, limits, ignored)
    except OSError as exc:
        raise RecordFileError("unreadable") from exc


def _from_json(path: Path, catalog: Catalog, limits: Limits, ignored: _Ignored) -> Iterator[Record]:
    names: dict[str, str | None] = {}  # each key read once per file, not once per record
    keys: list[str] = []  # the last record's keys; `fields`, the field names they map to
    fields: tuple[tuple[str, ...], dict[str, int]] | None = None
    try:
        for position, item in enumerate(_json_items(path), start=1):
            if position > limits.rows:
                raise RecordFileError("too_many_rows", row=limits.rows + 1, limit=limits.rows)
            if not isinstance(item, dict):
                raise RecordFileError("json_not_object", record=position)
            if (keys_now := list(item)) != keys:
                one_to_one = _one_to_one([_json_name(names, k, catalog, ignored) for k in keys_now])
                fields = None if one_to_one is None else _columns_of(one_to_one)
            keys = keys_now  # the same key objects as the next record's, unless a piece ends
            if fields is not None and _short_texts(values := tuple(item.values()), limits):
                yield Record(position, Answers(*fields, values))
                continue
            yield Record(position, _json_answers(item, position, names, catalog, limits, ignored))
    except RecursionError as exc:
        raise RecordFileError("json_nested") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordFileError("not_json") from exc


def _json_answers(
    item: dict[str, object],
    position: int,
    names: dict[str, str | None],
    catalog: Catalog,
    limits: Limits,
    ignored: _Ignored,
) -> dict[str, object]:
    """A record read key by key, which says what is wrong with it if anything is."""
    answers: dict[str, object] = {}
    for key, value in item.items():
        name = _json_name(names, key, catalog, ignored)
        if name is None:
            continue
        if name in answers:
            raise RecordFileError("json_same_field", record=position, key=key)
        if type(value) is not str:  # most values are text: one test, not three
            _check_value(value, position, key)
        for v in value if isinstance(value, list) else (value,):
            if isinstance(v, str) and len(v) > limits.cell:
                raise RecordFileError(
                    "json_too_long", record=position, key=key, length=len(v), limit=limits.cell
                )
        answers[name] = value
    return answers


def _no_constants(name: str) -> object:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants)
_LONGEST_PIECE = 2**26  # bytes, read at once for an item that long
_SPACE = re.compile(r"[ \t\n\r]*")  # what JSON takes for white space
_NEXT = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")  # after an item: another, or the end


def _json_items(path: Path) -> Iterator[object]:
    """The items of the JSON array a file holds, decoded from pieces of its text: neither the
    file nor all its records are held at once (a province's file is 50 MB of JSON, its objects
    five times that). The items that end in a piece are decoded in one call where they can be
    (the decoder then makes each key once per piece, not once per record); otherwise one by
    one. Raises ValueError or UnicodeDecodeError where the text is not JSON, RecordFileError
    where it is JSON but not an array."""
    with path.open("rb") as file:
        head = file.read(max(_BLOCK, 4))  # the encoding is told by the first four bytes
        decoder = codecs.getincrementaldecoder(json.detect_encoding(head))("surrogatepass")
        text, at, block = decoder.decode(head, final=not head), 0, _BLOCK
        single = 0  # up to here, items are decoded one by one: they did not decode together

        def more() -> bool:
            """The text from `at` on, and the next piece of the file (a piece twice as long
            each time one item spans it); False at the end of the file."""
            nonlocal text, at, block, single
            data = file.read(block)
            text, at, single = text[at:] + decoder.decode(data, final=not data), 0, single - at
            block = min(block * 2, _LONGEST_PIECE)
            return bool(data)

        def space() -> None:
            """Past white space, into the next piece where it reaches the end of this one."""
            nonlocal at
            while (at := _SPACE.match(text, at).end()) == len(text) and more():  # type: ignore[union-attr]
                pass

        space()
        if not text.startswith("[", at):
            _refuse_other_json(path)
        at += 1
        space()
        if text.startswith("]", at):
            at += 1
        else:
            while True:
                if text.find("}", at) < 0 and more():  # no item ends in what is left: read on
                    continue
                last = text.rfind("},", max(at, single))  # where items end, most likely
                if last > at:
                    together = f"[{text[at : last + 1]}]"
                    try:
                        items, end = _DECODER.raw_decode(together)
                    except ValueError:
                        end = 0
                    if end == len(together):
                        yield from items
                        at, block = last + 2, _BLOCK
                        space()
                        continue
                    single = last + 1  # "}," in a text: decoded one by one past it
                else:
                    single = len(text)  # items not ended by "},": one by one, as read
                try:
                    item, end = _DECODER.raw_decode(text, at)
                except ValueError:
                    if more():  # an item cut by the end of the piece read
                        continue
                    raise
                if (after := _NEXT.match(text, end)) is None:
                    if more():  # the item or the comma after it cut (a number: 12|34)
                        continue
                    raise ValueError("expected , or ] after an item")
                yield item
                at, block = after.end(), _BLOCK
                space()
                if after.group(1) == "]":
                    break
        space()
        if at < len(text):
            raise ValueError("extra data after the array")


def _refuse_other_json(path: Path) -> None:
    """A file whose text does not begin an array: not JSON, or JSON of another shape."""
    json.loads(path.read_bytes(), parse_float=Decimal, parse_constant=_no_constants)
    raise RecordFileError("json_not_array")


def _json_name(
    names: dict[str, str | None], key: str, catalog: Catalog, ignored: _Ignored
) -> str | None:
    try:
        return names[key]
    except KeyError:
        name = names[key] = _field_name(catalog, str(key), ignored)
        return name


def _one_to_one(names: list[str | None]) -> tuple[str, ...] | None:
    """The field names of a record's keys when each key names its own field, else None (the
    record is then read key by key, which says what is wrong)."""
    if None in names or len(set(names)) < len(names):
        return None
    return tuple(names)  # type: ignore[arg-type]


def _short_texts(values: Iterable[object], limits: Limits) -> bool:
    """Every value a text within the cell limit: the common record, checked without a Python
    loop (a file of 40,000 records × 45 values). Texts that all fit in one cell together are
    each within it."""
    try:
        together = "".join(values)  # type: ignore[arg-type]
    except TypeError:  # a number, a list, null: read key by key
        return False
    return len(together) <= limits.cell or max(map(len, values)) <= limits.cell  # type: ignore[arg-type]


def _xlsx_rows(path: Path, limits: Limits) -> Iterator[tuple[int, Sequence[object]]]:
    from services import xlsx  # openpyxl: a third of `validate`'s start, for XLSX files only

    return xlsx.rows(path, limits)


def _csv_rows(path: Path, limits: Limits) -> Iterator[tuple[int, Sequence[object]]]:
    longest = limits.columns * (limits.cell + 3)  # a line of full cells, quoted
    with path.open(encoding=_encoding(path), newline="") as file:

        def lines() -> Iterator[str]:
            number = 0
            while line := file.readline(longest + 1):
                number += 1
                if len(line) > longest:
                    raise RecordFileError("line_too_long", line=number, limit=longest)
                yield line

        reader = csv.reader(lines())
        number = 0
        try:
            for number, row in enumerate(reader, start=1):
                yield number, row
        except csv.Error as exc:
            raise RecordFileError("csv_broken", row=number + 1, limit=limits.cell) from exc


def _encoding(path: Path) -> str:
    """UTF-8 (with or without the BOM Excel writes), UTF-16 with a BOM, or the GBK that Excel in
    China saves: decoded block by block, so the whole file is never held."""
    with path.open("rb") as file:
        utf16 = file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
            file.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while block := file.read(_BLOCK):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    raise RecordFileError("encoding")


def _from_rows(
    rows: Iterable[tuple[int, Sequence[object]]],
    catalog: Catalog,
    limits: Limits,
    ignored: _Ignored,
) -> Iterator[Record]:
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        raise RecordFileError("empty")
    number, header = first
    header = _within(header, number, [], limits)
    if number != 1:
        raise RecordFileError("no_header")
    columns = _columns(header, catalog, ignored)
    indices = [i for i, _ in columns]
    fields = _columns_of([name for _, name in columns])
    widest = indices[-1]
    seen = 0
    for number, raw in iterator:
        row = _within(raw, number, header, limits)
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        seen += 1
        if seen > limits.rows:
            raise RecordFileError("too_many_rows", row=number, limit=limits.rows)
        if len(row) > len(header):
            raise RecordFileError("wider_than_header", row=number, column=len(header) + 1)
        if len(row) > widest:
            values = tuple(map(row.__getitem__, indices))
        else:
            values = tuple(row[i] if i < len(row) else None for i in indices)
        yield Record(number, Answers(*fields, values))


def _columns(
    header: Sequence[object], catalog: Catalog, ignored: _Ignored
) -> list[tuple[int, str]]:
    """(column index, field name) of the columns the header names."""
    columns: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, title in enumerate(header):
        if title is None or not str(title).strip():
            continue
        name = _field_name(catalog, str(title), ignored)
        if name is None:
            continue
        if name in seen:
            raise RecordFileError(
                "same_field",
                first=seen[name] + 1,
                second=index + 1,
                label=catalog.by_name[name].label,
            )
        seen[name] = index
        columns.append((index, name))
    if not columns:
        raise RecordFileError("no_header")
    return columns


def _within(
    row: Sequence[object], number: int, header: Sequence[object], limits: Limits
) -> list[object]:
    """The row without the empty cells past its last one; refused past the limits."""
    end = len(row)
    while end and row[end - 1] in (None, ""):
        end -= 1
    if end > limits.columns:
        raise RecordFileError("too_many_columns", row=number, column=end, limit=limits.columns)
    cells = list(row[:end])
    if _short_texts(cells, limits):  # a CSV row: only text
        return cells
    for index, cell in enumerate(cells):
        title = header[index] if index < len(header) else None
        _check_length(cell, limits, number, title, index + 1)
    return cells


def _check_value(value: object, record: int, key: str) -> None:
    """A JSON value the form can read: text, a number, a list of those, or null."""
    if isinstance(value, list):
        if not all(isinstance(v, _SCALARS) for v in value):
            raise RecordFileError("json_list", record=record, key=key)
    elif value is not None and not isinstance(value, _SCALARS):
        raise RecordFileError("json_value", record=record, key=key)


def _check_length(cell: object, limits: Limits, row: int, title: object, column: int) -> None:
    if isinstance(cell, str) and len(cell) > limits.cell:
        raise RecordFileError(
            "cell_too_long",
            row=row,
            column=column,
            title=str(title or "").strip()[:40],
            length=len(cell),
            limit=limits.cell,
        )


class _Ignored:
    """Column headers that name no field, reported once each."""

    def __init__(self) -> None:
        self.columns: list[str] = []

    def add(self, header: str) -> None:
        if header not in self.columns:
            self.columns.append(header)


def _field_name(catalog: Catalog, header: str, ignored: _Ignored) -> str | None:
    found = catalog.field_for_header(header)
    if found is None:
        ignored.add(header)
        return None
    return found.name
