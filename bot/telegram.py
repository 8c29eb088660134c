"""What Telegram accepts, as its Bot API checks it: HTML it can parse, texts and captions within
their length after the markup is parsed, callback data within 64 bytes, keyboards within 100
buttons. The offline Bot API refuses what Telegram refuses, with Telegram's own error texts, and
screens whose length depends on data use `visible_length` and `pages` to fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

TEXT_LIMIT = 4096  # a message's text, after its markup is parsed (UTF-16 code units)
CAPTION_LIMIT = 1024  # a document's or photo's caption, likewise
CALLBACK_LIMIT = 64  # a button's callback data, in bytes
BUTTONS_LIMIT = 100  # buttons on one inline keyboard

# Tags Telegram's HTML knows (https://core.telegram.org/bots/api#html-style)
# fmt: off
TAGS = frozenset({
    "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "tg-emoji", "code", "pre", "blockquote",
})
# fmt: on
_SPACE = " \t\r\n\f\v"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_PLAIN = re.compile(r"[^<&]*")


class Refused(Exception):
    """What Telegram answers a call it refuses: the HTTP status and its description."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description, self.status = description, status


def _entity(text: str, at: int) -> tuple[str, int] | None:
    """An HTML entity at `at` (`&lt;`, `&#20320;`, `&#x4F60;`), as Telegram decodes it: the
    character and where the text goes on; None where `&` is a plain ampersand."""
    match = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);?").match(text, at)
    if match is None:
        return None
    name = match.group(1)
    if name.startswith("#"):
        digits = name[2:] if name[1] in "xX" else name[1:]
        code = int(digits, 16 if name[1] in "xX" else 10)
        if code == 0 or code >= 0x10FFFF or len(match.group(0).rstrip(";")) >= 10:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise Refused("Bad Request: can't parse entities: Invalid UTF-8 in the text")
        return chr(code), match.end()
    if name not in _NAMED:
        return None
    return _NAMED[name], match.end()


def _offset(text: str, at: int) -> int:
    return len(text[:at].encode())


def parse_html(text: str) -> str:
    """The text a person sees once Telegram has parsed the HTML; `Refused` with Telegram's
    description when it cannot parse it."""

    def refuse(problem: str) -> Refused:
        return Refused(f"Bad Request: can't parse entities: {problem}")

    out: list[str] = []
    open_tags: list[str] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char == "&" and (decoded := _entity(text, i)) is not None:
            out.append(decoded[0])
            i = decoded[1]
            continue
        if char != "<":  # it and the plain text after it, up to the next tag or entity
            end = _PLAIN.match(text, i + 1).end()  # type: ignore[union-attr]
            out.append(text[i:end])
            i = end
            continue
        begin = i
        i += 1
        if i < size and text[i] == "/":
            if not open_tags:
                raise refuse(f"Unexpected end tag at byte offset {_offset(text, begin)}")
            end = i + 1
            while end < size and text[end] not in _SPACE and text[end] != ">":
                end += 1
            name = text[i + 1 : end].lower()
            while end < size and text[end] in _SPACE:
                end += 1
            if end >= size or text[end] != ">":
                raise refuse(f"Unclosed end tag at byte offset {_offset(text, begin)}")
            if name and name != open_tags[-1]:
                raise refuse(
                    f"Unmatched end tag at byte offset {_offset(text, begin)}, "
                    f'expected "</{open_tags[-1]}>", found "</{name}>"'
                )
            open_tags.pop()
            i = end + 1
            continue
        end = i
        while end < size and text[end] not in _SPACE and text[end] != ">":
            end += 1
        if end >= size:
            raise refuse(f"Unclosed start tag at byte offset {_offset(text, begin)}")
        name = text[i:end].lower()
        if name not in TAGS:
            raise refuse(f'Unsupported start tag "{name}" at byte offset {_offset(text, begin)}')
        close = _attributes_end(text, end, name, begin, refuse)
        open_tags.append(name)
        i = close + 1
    if open_tags:
        raise refuse(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def _attributes_end(text: str, at: int, tag: str, begin: int, refuse: Any) -> int:
    """Where a start tag's attributes end (its `>`), checked as Telegram checks them."""
    size, i = len(text), at
    while True:
        while i < size and text[i] in _SPACE:
            i += 1
        if i >= size:
            raise refuse(f"Unclosed start tag at byte offset {_offset(text, begin)}")
        if text[i] == ">":
            return i
        start = i
        while i < size and text[i] not in _SPACE and text[i] != "=":
            i += 1
        if i == start:
            raise refuse(
                f'Empty attribute name in the tag "{tag}" at byte offset {_offset(text, start)}'
            )
        while i < size and text[i] in _SPACE:
            i += 1
        if i >= size or text[i] != "=":
            raise refuse(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {_offset(text, start)}'
            )
        i += 1
        while i < size and text[i] in _SPACE:
            i += 1
        if i < size and text[i] in "'\"":
            quote = text[i]
            i = text.find(quote, i + 1)
            if i < 0:
                raise refuse(f"Unclosed start tag at byte offset {_offset(text, begin)}")
            i += 1
        else:
            token = i
            while i < size and (text[i].isascii() and (text[i].isalnum() or text[i] in ".-")):
                i += 1
            if i >= size or (text[i] not in _SPACE and text[i] != ">"):
                raise refuse(f"Unexpected end of name token at byte offset {_offset(text, token)}")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(text: str, parse_mode: str | None = "HTML") -> int:
    """A text's length as Telegram limits it: after parsing, without surrounding whitespace."""
    shown = parse_html(text) if parse_mode == "HTML" else text
    return utf16_length(shown.strip(_SPACE))


def check_text(text: str | None, parse_mode: str | None, caption: bool = False) -> None:
    """Refused as Telegram refuses a message text (or a caption) it will not send."""
    if text is None:
        if caption:
            return
        raise Refused("Bad Request: message text is empty")
    length = visible_length(text, parse_mode)
    if caption:
        if length > CAPTION_LIMIT:
            raise Refused("Bad Request: message caption is too long")
        return
    if length == 0:
        raise Refused("Bad Request: message text is empty")
    if length > TEXT_LIMIT:
        raise Refused("Bad Request: message is too long")


def check_markup(markup: Mapping[str, Any] | None) -> None:
    """Refused as Telegram refuses an inline keyboard: callback data of 1–64 bytes, at most 100
    buttons."""
    if not markup or "inline_keyboard" not in markup:
        return
    buttons = [button for row in markup["inline_keyboard"] for button in row]
    if len(buttons) > BUTTONS_LIMIT:
        raise Refused("Bad Request: reply markup is too long")
    for button in buttons:
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_LIMIT:
            raise Refused("Bad Request: BUTTON_DATA_INVALID")


def pages(blocks: Iterable[str], limit: int = TEXT_LIMIT - 96) -> list[str]:
    """HTML blocks (lines, rows, sections: each well-formed on its own) joined into as few
    messages as fit under `limit` visible characters; a block too long for one message is split
    at its lines. The margin under 4,096 leaves room for a heading a caller adds to each page.
    A single line longer than a message is the caller's bug (its data must be bounded)."""
    result: list[str] = []
    current: list[str] = []
    used = 0
    for block in blocks:
        for piece in _fitting(block, limit):
            size = visible_length(piece) + 1
            if current and used + size > limit:
                result.append("\n".join(current))
                current, used = [], 0
            current.append(piece)
            used += size
    if current:
        result.append("\n".join(current))
    return result


def _fitting(block: str, limit: int) -> list[str]:
    if visible_length(block) <= limit:
        return [block]
    lines = block.split("\n")
    if len(lines) == 1:
        raise ValueError(f"a line of {visible_length(block)} characters cannot be sent")
    return [piece for line in lines for piece in _fitting(line, limit)]
