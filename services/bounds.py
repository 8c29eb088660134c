"""What a file of records may hold, and the error that says why one cannot be read.

An upload is read by a bot that serves everyone else meanwhile, so what it may cost is bounded
before and while it is read: rows, columns, characters in a cell, and for an XLSX the sizes its
zip declares. The limits are far above any real province's list (13,000–30,000 enterprises,
52 fields) and keep the reader's memory under ~300 MiB whatever the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    rows: int = 100_000  # rows with content below the header
    columns: int = 300
    cell: int = 2_000  # characters; the longest field takes 500
    sheet: int = 256 * 2**20  # an XLSX's worksheet, unpacked: the time it takes to read
    strings: int = 24 * 2**20  # its shared strings, unpacked: all of them are kept while reading
    part: int = 2 * 2**20  # any other XML part, read whole (workbook, styles, relationships)
    parts: int = 1_000  # entries in the zip


LIMITS = Limits()


class RecordFileError(Exception):
    """The file cannot be read as records. `problem` names a macro of the bot's
    `file_problems.j2` template; `details` are its arguments (row, column, limit …)."""

    def __init__(self, problem: str, **details: object) -> None:
        super().__init__(problem, details)
        self.problem = problem
        self.details = details
