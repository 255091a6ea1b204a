"""A book's title from what its file says, the file name only as a last resort. Pure Python.

Where a title is found, in this order:
1. the top of the text (the non-empty lines above the first chapter heading, at most `TOP_LINES`):
   a line ``书名：X`` (or 書名/标题/題名); a line starting with ``《X》`` (``《三国演义》 罗贯中 著``);
   a first line that reads as a bare title (short, no punctuation) when the next line names the
   author (``作者：…``) or is the first chapter heading, or when the first line itself ends with the
   author (``七剑十三侠 作者：唐芸洲``);
2. the file name: ``《X》…`` (``《书名》作者：某.txt``), else the file name without its extension
   and without an author part (``书名 作者：某.txt`` → 书名).
"""

from __future__ import annotations

import re
from pathlib import PurePath

from graph.text import is_heading

TOP_LINES = 8
TOP_CHARS = 4000  # only the start of the text is read
MAX_TITLE = 40

_LABELLED = re.compile(r"(?:书名|書名|标题|標題|题名|題名)\s*[:：]\s*(?P<title>.+)")
_BRACKETED = re.compile(r"《(?P<title>[^《》]{1,40})》")
_AUTHOR_LINE = re.compile(r"(?:作\s*者|著\s*者|原\s*著)\s*[:：]")
_AUTHOR_TAIL = re.compile(r"[\s(（\[【_-]*(?:作\s*者|著\s*者)\s*[:：].*$")
_PUNCTUATION = set("，。：；！？、,.:;!?“”\"'‘’…「」『』")
_NOT_TITLES = {"目录", "目錄", "正文", "简介", "簡介", "内容简介", "內容簡介", "序", "前言", "引言"}
_INVISIBLE = "\ufeff\u200b\u3000 \t"


def book_title(text: str, file_name: str) -> str:
    """The title the text states, else the one in the file name, else the file name's stem."""
    return title_in_text(text) or title_in_file_name(file_name)


def title_in_text(text: str) -> str | None:
    """The title stated at the top of `text`, or None (rules in the module docstring)."""
    top = _top_lines(text)
    for line in top:
        if m := _LABELLED.fullmatch(line):
            return _clean(m["title"])
        if line.startswith("《") and (m := _BRACKETED.match(line)):
            return _clean(m["title"])
    if not top:
        return None
    first = top[0]
    if _AUTHOR_LINE.search(first):
        return _clean(first)
    following = top[1] if len(top) > 1 else ""
    if not following or _AUTHOR_LINE.match(following) or is_heading(following):
        return _clean(first)
    return None


def title_in_file_name(file_name: str) -> str:
    """`《书名》作者：某.txt` → 书名; otherwise the stem without an author part."""
    stem = PurePath(file_name).stem.strip(_INVISIBLE) or file_name
    if m := _BRACKETED.search(stem):
        return m["title"].strip(_INVISIBLE) or stem
    return _AUTHOR_TAIL.sub("", stem).strip(_INVISIBLE) or stem


def _top_lines(text: str) -> list[str]:
    """The non-empty lines above the first heading, the heading itself last (if within reach)."""
    lines: list[str] = []
    for raw in text[:TOP_CHARS].splitlines():
        line = raw.strip(_INVISIBLE)
        if not line:
            continue
        lines.append(line)
        if is_heading(line) or len(lines) >= TOP_LINES:
            break
    return lines


def _clean(title: str) -> str | None:
    """A plausible title, or None: short, no sentence punctuation, not a heading or a section name."""
    title = _AUTHOR_TAIL.sub("", title.strip(_INVISIBLE)).strip("《》【】[]").strip(_INVISIBLE)
    if not title or len(title) > MAX_TITLE or title in _NOT_TITLES:
        return None
    if any(c in _PUNCTUATION for c in title) or is_heading(title):
        return None
    return title
