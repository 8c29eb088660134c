"""A JSON file read in pieces (`services.record_files._json_items`) gives what `json.loads` of
the whole gives, wherever the pieces end: inside a string, a number, a character of several
bytes, the white space between items, a "}," within a text; and refuses what `json.loads`
refuses."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import record_files
from services.record_files import RecordFileError, _json_items

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["},", "}, {", '"},{"', "]", "[{"]),  # what ends items, within a text
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
documents = st.lists(st.one_of(st.dictionaries(st.text(max_size=6), values), scalars), max_size=6)
pieces = st.sampled_from([1, 2, 3, 7, 64])
fixture = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read(path: Path, block: int, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    monkeypatch.setattr(record_files, "_BLOCK", block)
    return list(_json_items(path))


@fixture
@given(
    items=documents,
    space=st.text(" \t\r\n", max_size=3),
    between=st.sampled_from([", ", ",\n  ", "\n,", " , "]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    block=pieces,
)
def test_items_read_in_pieces_are_the_items_read_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    items: list[object],
    space: str,
    between: str,
    encoding: str,
    block: int,
) -> None:
    """Items written as json.dumps writes them ("}, {" between records: decoded many at once)
    and as other writers may ("}\n,{": one by one)."""
    listed = between.join(json.dumps(item, ensure_ascii=False) for item in items)
    text = f"{space}[{space}{listed}{space}]{space}"
    path = tmp_path / "records.json"
    path.write_bytes(text.encode(encoding))
    assert _read(path, block, monkeypatch) == json.loads(path.read_bytes(), parse_float=Decimal)


@fixture
@given(
    items=documents.filter(bool),
    cut=st.integers(min_value=1),
    tail=st.sampled_from(["", "x", "]", ",", "}", "1", " ]", "{}"]),
    block=pieces,
)
def test_what_json_refuses_is_refused_in_pieces(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    items: list[object],
    cut: int,
    tail: str,
    block: int,
) -> None:
    text = json.dumps(items, ensure_ascii=False)
    text = text[: cut % len(text)] + tail  # cut short, and something after
    path = tmp_path / "records.json"
    path.write_text(text, encoding="utf-8")
    try:
        whole = json.loads(text, parse_float=Decimal)
    except ValueError:
        with pytest.raises(ValueError):
            _read(path, block, monkeypatch)
        return
    if isinstance(whole, list):
        assert _read(path, block, monkeypatch) == whole
    else:
        with pytest.raises(RecordFileError):
            _read(path, block, monkeypatch)


def test_items_not_ended_by_a_comma_right_after_are_read_piece_by_piece(tmp_path: Path) -> None:
    """Records written "}\\n,{" are decoded one by one, each piece of the file still read once
    (not a piece more for every record, the text growing to the whole file)."""
    items = [{"企业名称": f"第{i}家", "说明": "x" * 100} for i in range(2000)]
    path = tmp_path / "records.json"
    path.write_text("[" + "\n,".join(json.dumps(i, ensure_ascii=False) for i in items) + "]")
    reads: list[int] = []

    class Counted(type(path)):  # type: ignore[misc]
        def open(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            file = super().open(*args, **kwargs)  # type: ignore[arg-type]
            read = file.read
            file.read = lambda size=-1: reads.append(size) or read(size)  # type: ignore[method-assign]
            return file

    assert list(_json_items(Counted(path))) == items
    assert len(reads) <= path.stat().st_size // record_files._BLOCK + 3
