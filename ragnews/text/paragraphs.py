"""Find an article's paragraphs and sentences as character spans.

A text with blank lines has paragraphs separated by blank lines (lines inside one are wrapped
text); a text without blank lines has one paragraph per non-empty line, as wire copy often does.

Example:
    >>> paragraph_spans("One.\\nTwo.")
    ((0, 4), (5, 9))
    >>> paragraph_spans("One\\nstill one.\\n\\nTwo.")
    ((0, 14), (16, 20))
"""

from __future__ import annotations

import re

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")


def paragraph_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the paragraphs of ``text``, without their surrounding whitespace."""
    separator = _BLANK_LINE if _BLANK_LINE.search(text.strip()) else re.compile(r"\n")
    spans = []
    start = 0
    for match in separator.finditer(text):
        spans.append(strip_span(text, start, match.start()))
        start = match.end()
    spans.append(strip_span(text, start, len(text)))
    return tuple(s for s in spans if s[0] < s[1])


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]`` (a paragraph), covering it without gaps."""
    spans = []
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append(strip_span(text, start, match.end()))
        start = match.end()
    spans.append(strip_span(text, start, end))
    return [s for s in spans if s[0] < s[1]]


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` narrowed to exclude whitespace at either edge."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
