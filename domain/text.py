"""Text as people see it, wherever it enters: form answers, names, comments, notices.

Characters that show nothing (zero-width spaces and joiners, bidirectional controls, soft
hyphens, Hangul fillers, tag characters, control codes) are removed, so two texts that look the
same are stored the same: a copied text cannot hide from the 数据雷同 check behind a U+2060, nor a
name turn itself around with a U+202E.

`visible` keeps everything that shows as it was typed: it is for what is stored and shown.
`folded` also applies NFKC (full-width digits, letters and punctuation to ASCII, ligatures and
circled numbers to their parts): it is for reading numbers, dates and codes and for matching,
never for what is shown, since "，" and "（）" are right in Chinese prose and NFKC turns them into
"," and "()".
"""

from __future__ import annotations

import re
import unicodedata

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), the interlinear annotation
# controls U+FFF9–FFFB, and the C0 and C1 control codes except tab and line breaks; and the line
# and paragraph separators U+2028–2029, which become line breaks.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_SPACES = re.compile(r"\s+")


def visible(text: str) -> str:
    """The text without the characters that show nothing; all else as typed."""
    return _HIDDEN.sub(_replace, text)  # no match: the same string, at the cost of a search


def visible_throughout(text: str) -> bool:
    """Nothing hidden in the text: `visible` would return it as it is."""
    return _HIDDEN.search(text) is None


def _replace(match: re.Match[str]) -> str:
    return "\n" if match[0] in "\u2028\u2029" else ""


def folded(text: str) -> str:
    """For reading and matching: visible, NFKC-folded, without outer whitespace."""
    if text.isascii() and text.isprintable():  # most codes, numbers and addresses: as they are
        return text.strip()
    return unicodedata.normalize("NFKC", visible(text)).strip()


def same(a: str, b: str) -> bool:
    """Two names that read the same: equal once folded, spaces and letter case aside."""
    return _SPACES.sub("", folded(a)).casefold() == _SPACES.sub("", folded(b)).casefold()
