"""Reading a novel file and storing it: the bytes checked, decoded and cut into chapters, the novel
and its chapters saved as its first version (the pipeline's first stage)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction

from graph.models import Chapter, Novel, NovelVersion
from graph.text import ChapterText, TextError, decode, split_chapters
from graph.titles import book_title

MAX_FILE_BYTES = 200 * 1024 * 1024
TITLE_CHARS, SOURCE_CHARS, CHAPTER_TITLE_CHARS = 200, 255, 255  # field sizes


class InputError(Exception):
    """A file we refuse: the message is one line for the user."""


def read_novel_file(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"文件不存在：{path}")
    if path.is_dir():
        raise InputError(f"这是一个目录，不是小说文件：{path}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"文件太大（{size // 1024 // 1024} MB），上限 {MAX_FILE_BYTES // 1024 // 1024} MB：{path}"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件：{path}（{exc.strerror}）") from None
    if not data.strip():
        raise InputError(f"文件为空：{path}")
    return data


@dataclass(frozen=True)
class Parsed:
    """A file read: its sha256, text, the encoding used, its chapters."""

    sha256: str
    text: str
    encoding: str
    chapters: list[ChapterText]


def parse(data: bytes, encoding: str | None = None) -> Parsed:
    try:
        text, used = decode(data, encoding)
        chapters = split_chapters(text)
    except TextError as exc:
        raise InputError(str(exc)) from None
    if not chapters:
        raise InputError("文件中没有可用的正文")
    return Parsed(hashlib.sha256(data).hexdigest(), text, used, chapters)


def chapter_row(novel: Novel, chapter: ChapterText) -> Chapter:
    title = chapter.title[:CHAPTER_TITLE_CHARS]
    return Chapter(
        novel=novel,
        number=chapter.number,
        title=title,
        text=chapter.text,
        digest=Chapter.digest_of(title, chapter.text),
    )


def ingest(
    data: bytes,
    *,
    source_name: str,
    title: str | None = None,
    encoding: str | None = None,
    parsed: Parsed | None = None,
) -> tuple[Novel, bool]:
    """Store a novel and its chapters (its first version); the same bytes again return the
    stored novel (created=False). `parsed`: the file already parsed by the caller."""
    digest = parsed.sha256 if parsed else hashlib.sha256(data).hexdigest()
    existing = Novel.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    parsed = parsed or parse(data, encoding)
    try:
        with transaction.atomic():
            novel = Novel.objects.create(
                title=(title or book_title(parsed.text, source_name))[:TITLE_CHARS],
                sha256=digest,
                source_name=source_name[:SOURCE_CHARS],
                encoding=parsed.encoding,
                char_count=len(parsed.text),
            )
            Chapter.objects.bulk_create(
                [chapter_row(novel, c) for c in parsed.chapters], batch_size=500
            )
            NovelVersion.objects.create(
                novel=novel,
                number=1,
                sha256=digest,
                source_name=novel.source_name,
                chapters=len(parsed.chapters),
                char_count=novel.char_count,
                added=len(parsed.chapters),
                changed=[c.number for c in parsed.chapters],
            )
            novel.advance(Novel.Stage.PARSED)
    except IntegrityError:  # the same file uploaded by another process a moment ago
        return Novel.objects.get(sha256=digest), False
    return novel, True
