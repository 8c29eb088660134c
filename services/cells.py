"""Cells of the files the project writes, which stay what they are when a bureau opens them in
Excel or WPS.

A text starting with `=`, `+`, `-` or `@` (or with a tab or carriage return, which they skip
first) is read as a formula: a company that registers as `=HYPERLINK("http://x","y")` would put
a live link, or a command, in the file a bureau opens. An XLSX cell can say it is text; a CSV
cell cannot, so it gets a leading apostrophe, which makes it text (OWASP's advice). A text that
is a plain number (`-5`, `+3.2`, `-1,200`) is read as that number, which is what it says, and
stays as it is: a negative figure must stay a figure.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TypeGuard

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?%?")


def formula_like(value: object) -> TypeGuard[str]:
    """A text a spreadsheet would take for a formula."""
    return isinstance(value, str) and value.startswith(_FORMULA) and not _NUMBER.fullmatch(value)


def csv_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as a CSV that Excel opens (UTF-8 with a BOM), formula-like texts made text."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["'" + cell if formula_like(cell) else cell for cell in row])
    return out.getvalue().encode("utf-8-sig")
