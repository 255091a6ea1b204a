"""Bytes to text, text to chapters and paragraphs. Pure Python: no Django here.

Heading rules (see `split_chapters`):
- chapter: ``第N章/回/节/篇/部分`` with N in Chinese numerals or (full-width) digits, optionally after a
  volume prefix on the same line (``第一卷 风起 第一章 …``, ``上卷 …``, ``卷一 …``); or one of
  ``序章 楔子 引子 序言 尾声 后记 番外 番外篇 终章`` alone, with a number, or with a separated title.
- volume: ``第N卷/部/集``, ``上卷/中卷/下卷``, ``卷N`` on a line of their own. Not a chapter: the line
  is dropped, and any text between it and the next chapter heading is put in front of that chapter.
- the part after a heading (the title) is at most 40 characters and reads as a title, not a sentence:
  no ``。；`` before its last character, no trailing ``，、``, and when there is no separator after
  the number it has no ``，。；、`` at all ("第四回中，既将薛家母子…" is body text); with one, at most
  one ``，``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


class TextError(ValueError):
    """Input that cannot be used; the message is one line of Chinese shown to the user as is."""


@dataclass(frozen=True)
class ChapterText:
    number: int
    title: str
    text: str


# ---------------------------------------------------------------- decoding

_BINARY_PROBE = 8192  # bytes checked for NUL
_SAMPLE = 100_000  # characters scored / checked for control chars
_COMMON = "的一是了不人我在有他这中大来上个国到说们为子和你地出道也时年之曰而"
_COMMON += "這來個國說們為時"  # traditional forms of the same characters
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
_MIN_PLAUSIBLE = 0.03  # share of very common characters; real Chinese prose is ~0.1-0.2
_MAX_BAD_SHARE = 0.001  # lenient decode: at most 0.1 % undecodable bytes


def _score(text: str) -> float:
    """Plausibility of decoded Chinese: share of very common characters, plus a little for CJK."""
    sample = text[:_SAMPLE]
    if not sample:
        return 0.0
    common = sum(sample.count(c) for c in _COMMON)
    return (common + 0.01 * len(_CJK.findall(sample))) / len(sample)


def _finish(text: str, name: str) -> tuple[str, str]:
    """Shared checks after decoding: control characters, emptiness, newlines."""
    text = text.removeprefix("\ufeff")
    sample = text[:_SAMPLE]
    if sample and len(_CONTROL.findall(sample)) > 0.01 * len(sample):
        raise TextError("无法识别文件编码：看起来是二进制文件")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TextError("文件为空：没有可读的文字")
    return text, name


def _strict(data: bytes, name: str) -> str | None:
    """Strict decode, except that a file cut inside its last character still counts."""
    try:
        return data.decode(name)
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 3:
            try:
                return data[: e.start].decode(name)
            except UnicodeDecodeError:
                return None
        return None


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """bytes -> (text, encoding name used). `encoding` forces one."""
    if not data.strip():
        raise TextError("文件为空：没有可读的文字")
    if encoding:
        try:
            name = codecs.lookup(encoding).name
            text = data.decode(name)  # LookupError too for non-text codecs such as base64
        except LookupError:
            raise TextError(f"未知的文件编码：{encoding}") from None
        except UnicodeDecodeError:
            raise TextError(f"无法用 {encoding} 编码读取这个文件") from None
        return _finish(text, name)
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[3:], "utf-8")
        if text is None:
            raise TextError("无法识别文件编码：UTF-8 内容已损坏")
        return _finish(text, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _finish(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            raise TextError("无法识别文件编码：UTF-16 内容已损坏") from None
    if b"\x00" in data[:_BINARY_PROBE]:
        raise TextError("无法识别文件编码：看起来是二进制文件")
    text = _strict(data, "utf-8")
    if text is not None:
        return _finish(text, "utf-8")
    # GB18030 decodes almost any byte string, so Big5 text must win on plausibility.
    found: list[tuple[float, str, str]] = []
    for name in ("gb18030", "big5"):
        text = _strict(data, name)
        if text is not None:
            found.append((_score(text), name, text))
    best = max(found, default=None)
    if best and (best[0] >= _MIN_PLAUSIBLE or len(best[2]) < 200):
        return _finish(best[2], best[1])
    # Last resort: a few damaged bytes in an otherwise readable file are replaced, not fatal.
    lenient: list[tuple[float, str, str]] = []
    for name in ("utf-8", "gb18030", "big5"):
        text = data.decode(name, errors="replace")
        if text.count("\ufffd") <= _MAX_BAD_SHARE * len(text):
            lenient.append((_score(text), name, text))
    best = max(lenient, default=None)
    if best and best[0] >= _MIN_PLAUSIBLE:
        return _finish(best[2], best[1])
    raise TextError("无法识别文件编码：请确认文件是 UTF-8、GBK/GB18030 或 Big5 编码的中文文本")


# ---------------------------------------------------------------- chapters

_NUM = r"[0-9０-９零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟]+"
_SEP = r"[ \t\u3000\xa0:：]"
_VOLUME = rf"(?:第{_NUM}(?:卷|部(?!分)|集)|[上中下]卷|卷{_NUM})"
_SPECIAL = r"(?:序章|楔子|引子|序言|尾声|后记|番外篇|番外|终章)"
_CHAPTER_RE = re.compile(
    rf"(?:{_VOLUME}[^第，。；！？]{{0,30}}?)?"
    rf"(?:(?P<ordinal>第{_NUM}(?:章|回|节|篇|部分))|{_SPECIAL}(?:{_SEP}*(?P<num>{_NUM}))?)"
    rf"(?P<sep>{_SEP}*)(?P<rest>.*)"
)
_VOLUME_RE = re.compile(rf"(?P<head>{_VOLUME})(?P<sep>{_SEP}*)(?P<rest>.*)")
_HEADING_FIRST = set("第上中下卷序楔引尾后番终")
_HEADING_MAX_LINE = 100
_TITLE_MAX = 40

_NOISE_RE = re.compile(
    r"本章字[数數]\s*[:：]?\s*\d+.*"
    r"|更新时间\s*[:：]?\s*\d.*"
    r"|[-－—=＝*]{2,}\s*(?:章节内容|正文)(?:开始|结束)\s*[-－—=＝*]{2,}"
    r"|手机(?:阅读|用户|访问)[^。，！？]{0,40}"
    r"|(?:https?://)?(?:[A-Za-z0-9-]+\.)+(?:com|net|org|cn|cc|info|la|me|co|tw)(?:[/?#:]\S*)?"
)
_NOISE_MAX_LINE = 80

_SENTENCE_END = "。！？!?"
_CLOSERS = "”’」』\"'）)》"


def _title_ok(sep: str, rest: str) -> bool:
    """Does `rest` (after a heading's number) read like a title rather than a sentence?"""
    if not rest:
        return True
    if len(rest) > _TITLE_MAX or rest[-1] in "，、,":
        return False
    if any(c in rest[:-1] for c in "。；;"):
        return False
    if sep:
        return rest.count("，") + rest.count(",") <= 1  # a title has at most one comma
    return not any(c in rest for c in "，。；、,;")


def _classify(line: str) -> str | None:
    """'chapter', 'volume' or None for a stripped, non-empty line."""
    if line[0] not in _HEADING_FIRST or len(line) > _HEADING_MAX_LINE:
        return None
    m = _CHAPTER_RE.fullmatch(line)
    # 序章/楔子/… need a separator, a number or nothing after them ("后记得…" is prose).
    if (
        m
        and (m["ordinal"] or m["num"] or m["sep"] or not m["rest"])
        and _title_ok(m["sep"], m["rest"])
    ):
        return "chapter"
    m = _VOLUME_RE.fullmatch(line)
    # "上卷起袖子" is prose: bare 上卷/卷N need a separator before any title.
    if (
        m
        and (m["head"].startswith("第") or m["sep"] or not m["rest"])
        and _title_ok(m["sep"], m["rest"])
    ):
        return "volume"
    return None


def is_heading(line: str) -> bool:
    """Whether a line is a chapter or volume heading (the rules of `split_chapters`)."""
    line = line.strip()
    return bool(line) and _classify(line) is not None


def paragraphs(text: str) -> list[str]:
    """Chapter body -> non-empty, stripped paragraphs (one per line)."""
    return [p for p in (line.strip() for line in text.split("\n")) if p]


def _cut_long(paragraph: str, limit: int) -> list[str]:
    """Cut a paragraph longer than `limit` at sentence ends, hard-cutting only when there is none."""
    pieces, start, n = [], 0, len(paragraph)
    while n - start > limit:
        window_end = start + limit
        end = max(paragraph.rfind(c, start, window_end) for c in _SENTENCE_END)
        if end < 0:
            cut = window_end
        else:
            cut = end + 1
            while cut < window_end and paragraph[cut] in _CLOSERS:
                cut += 1  # keep a closing quote with its sentence
        pieces.append(paragraph[start:cut])
        start = cut
    pieces.append(paragraph[start:])
    return [p for p in (piece.strip() for piece in pieces) if p]


def _pack(paras: list[str], limit: int) -> list[str]:
    """Group paragraphs into bodies of at most `limit` characters (joined by newlines)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for para in paras:
        for piece in _cut_long(para, limit) if len(para) > limit else [para]:
            if current and size + 1 + len(piece) > limit:
                parts.append("\n".join(current))
                current, size = [], 0
            size += len(piece) + (1 if current else 0)
            current.append(piece)
    if current:
        parts.append("\n".join(current))
    return parts


PART_CHARS = 20000  # default size of the parts of a text without headings
PART_TITLE = "第{}部分"


def headingless(titles: list[str]) -> bool:
    """Whether chapter titles are the parts `split_chapters` cut from a text without headings.

    (A text whose own headings are exactly "第1部分", "第2部分", … reads the same.)
    """
    return bool(titles) and titles == [PART_TITLE.format(i) for i in range(1, len(titles) + 1)]


def split_chapters(text: str, max_part_chars: int = PART_CHARS) -> list[ChapterText]:
    """Split a novel into chapters (rules in the module docstring).

    Front matter before the first heading is dropped unless it is longer than a third of
    `max_part_chars`; then it becomes a chapter titled "前言". Chapters with no body (e.g. a heading
    repeated by a download site) are dropped. A text with volume headings but no chapter headings
    uses the volumes as chapters. A text with no headings at all is cut into "第N部分" parts of at most
    `max_part_chars` characters at paragraph boundaries (an over-long paragraph at sentence ends).
    """
    if max_part_chars < 1:
        raise ValueError("max_part_chars must be positive")
    lines: list[tuple[str | None, str]] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip().strip("\u200b\ufeff")
        if not line or (len(line) <= _NOISE_MAX_LINE and _NOISE_RE.fullmatch(line)):
            continue
        lines.append((_classify(line), line))

    kinds = {kind for kind, _ in lines}
    if "chapter" not in kinds and "volume" in kinds:
        lines = [("chapter" if kind == "volume" else None, line) for kind, line in lines]
    elif "chapter" not in kinds:
        bodies = _pack([line for _, line in lines], max_part_chars)
        return [ChapterText(i, PART_TITLE.format(i), body) for i, body in enumerate(bodies, 1)]

    found: list[tuple[str, list[str]]] = []
    front: list[str] = []
    body: list[str] = front  # where body lines go right now
    pending: list[str] = []  # text after a volume line, waiting for the next chapter
    for kind, line in lines:
        if kind == "chapter":
            body = pending + []
            pending = []
            found.append((line, body))
        elif kind == "volume":
            body = pending = []
        else:
            body.append(line)
    if pending and found:
        found[-1][1].extend(pending)  # a trailing volume line's text still belongs to the story
    if sum(map(len, front)) > max_part_chars // 3:
        found.insert(0, ("前言", front))
    chapters = [(title, "\n".join(b)) for title, b in found if b]
    return [ChapterText(i, title, body) for i, (title, body) in enumerate(chapters, 1)]
