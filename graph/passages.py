"""Cutting a chapter into passages: a few hundred characters each, ending on paragraph or sentence ends.

A passage is a slice of the chapter body, so ``body[offset:offset + len(text)] == text`` always holds
and a passage can be found again in the chapter. Passages do not overlap and skip only whitespace.
Pure Python: no Django here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

TARGET_CHARS = 300  # a passage grows up to this many characters
MAX_CHARS = 500  # a sentence longer than this is cut where it reaches it
# A sentence ends after 。！？… (and any closing quotes); a paragraph after its newline.
_SENTENCE = re.compile(r".*?(?:[。！？!?…]+[”’」』）)\"']*|$)")


@dataclass(frozen=True)
class Piece:
    """One passage of a chapter: where it starts in the chapter body, and its text."""

    offset: int
    text: str


def _sentences(body: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, ends a paragraph) for every sentence of `body`, whitespace trimmed."""
    for line in re.finditer(r"[^\n]+", body):
        spans = [m.span() for m in _SENTENCE.finditer(line.group())]
        spans = [(line.start() + a, line.start() + b) for a, b in spans if a < b]
        spans = [_trim(body, a, b) for a, b in spans]
        spans = [(a, b) for a, b in spans if a < b]
        for i, (start, end) in enumerate(spans):
            yield start, end, i == len(spans) - 1


def _trim(body: str, start: int, end: int) -> tuple[int, int]:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    return start, end


def _hard_cut(start: int, end: int, limit: int) -> Iterator[tuple[int, int, bool]]:
    """A sentence longer than `limit`, in `limit`-sized parts (only the last one may end a paragraph)."""
    while end - start > limit:
        yield start, start + limit, False
        start += limit
    yield start, end, True


def cut(body: str, target: int = TARGET_CHARS, limit: int = MAX_CHARS) -> list[Piece]:
    """The passages of one chapter body, in order.

    Sentences are packed while the passage stays within `target` characters; a passage that has
    reached half of `target` ends at the first paragraph end. A sentence longer than `limit` is
    cut every `limit` characters.
    """
    if not 0 < target <= limit:
        raise ValueError("need 0 < target <= limit")
    pieces: list[Piece] = []
    start = end = -1
    for s_start, s_end, para_end in _sentences(body):
        parts = (
            _hard_cut(s_start, s_end, limit)
            if s_end - s_start > limit
            else [(s_start, s_end, True)]
        )
        for a, b, last in parts:
            if start >= 0 and b - start > target:
                pieces.append(Piece(start, body[start:end]))
                start = -1
            if start < 0:
                start = a
            end = b
            if para_end and last and end - start >= target // 2:
                pieces.append(Piece(start, body[start:end]))
                start = -1
    if start >= 0:
        pieces.append(Piece(start, body[start:end]))
    return pieces
