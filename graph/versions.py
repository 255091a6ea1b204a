"""A file for a stored novel: a longer (or lightly edited) version of a serialized novel updates it
in place instead of starting again.

Chapters are matched by their digest (Chapter.digest_of: title and text). A file *extends* a
stored novel when its first chapters are the stored ones, up to a few edited chapters (at most
EDITED_SHARE of them and at most MAX_EDITED), and it has at least as many. The update stores the
new and edited chapters, records a NovelVersion and sends the novel back to the character stage;
graph/updates.py then reads only those chapters. A novel whose batches are still pending can be
updated too: its earlier questions stay in flight (graph/update_questions.py does not ask them
again) and the graph is written once every question of both versions is settled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from graph.ingest import (
    CHAPTER_TITLE_CHARS,
    SOURCE_CHARS,
    InputError,
    Parsed,
    chapter_row,
    ingest,
    parse,
)
from graph.models import Chapter, Novel, NovelVersion
from graph.titles import book_title

EDITED_SHARE = 0.10  # of the stored chapters, at most, may differ in a new version
MAX_EDITED = 20
PROBE = 5  # first chapters looked up by digest to find candidates
# A novel can take a new version when its graph is written, or while its questions wait for
# answers (a batch in flight): the earlier questions stay where they are and are applied with
# the new version's. Before that (local stages unfinished) it must be finished first.
UPDATABLE = (Novel.Stage.DISPATCHED, Novel.Stage.DONE)


class Refused(InputError):
    """A file that does not fit the novel it was meant for: nothing is changed."""


@dataclass(frozen=True)
class Comparison:
    """How a file's chapters stand to a stored novel's."""

    kind: str  # "extends", "same", "shorter" or "differs"
    stored: int
    edited: list[int] = field(default_factory=list)  # chapter numbers whose text changed
    added: int = 0


@dataclass(frozen=True)
class Received:
    novel: Novel
    how: str  # "created", "same" (this very file), "unchanged" (same chapters), "updated"
    version: NovelVersion | None = None


def compare(stored: list[str], new: list[str]) -> Comparison:
    """Compare digests chapter by chapter (the stored novel's chapters first)."""
    common = min(len(stored), len(new))
    edited = [i + 1 for i in range(common) if stored[i] != new[i]]
    allowed = min(MAX_EDITED, int(common * EDITED_SHARE))
    if not common or len(edited) > allowed:
        return Comparison("differs", len(stored), edited)
    if len(new) < len(stored):
        return Comparison("shorter", len(stored), edited)
    if len(new) == len(stored) and not edited:
        return Comparison("same", len(stored))
    return Comparison("extends", len(stored), edited, len(new) - len(stored))


def stored_digests(novel: Novel) -> list[str]:
    return list(novel.chapters.order_by("number").values_list("digest", flat=True))


def candidates(digests: list[str], title: str) -> list[Novel]:
    """Stored novels that may be earlier versions: one of their first chapters is one of the
    file's first chapters, or they have the book's title."""
    probed = Chapter.objects.filter(number__lte=PROBE, digest__in=digests[:PROBE])
    ids = probed.values_list("novel_id", flat=True)
    return list(Novel.objects.filter(Q(pk__in=ids) | Q(title=title)).order_by("-created"))


def receive(
    data: bytes,
    *,
    source_name: str,
    title: str | None = None,
    encoding: str | None = None,
    new: bool = False,
    target: Novel | None = None,
) -> Received:
    """Store a file: a new novel, the same one again, or a new version of a stored novel (the
    one `target` names, or the one it extends). Raises Refused for a file that does not fit:
    shorter than, or different from, the novel it is meant for."""
    parsed = _same_file(data, encoding, new, target)
    if isinstance(parsed, Received):
        return parsed
    digests = [Chapter.digest_of(c.title[:CHAPTER_TITLE_CHARS], c.text) for c in parsed.chapters]
    if target is None and not new:
        target = _extended(digests, title or book_title(parsed.text, source_name))
    if target is None:
        novel, created = ingest(
            data, source_name=source_name, title=title, encoding=encoding, parsed=parsed
        )
        return Received(novel, "created" if created else "same")
    comparison = compare(stored_digests(target), digests)
    _check(target, comparison, len(digests))
    if comparison.kind == "same":
        return Received(target, "unchanged")
    version = update(target, parsed, comparison, source_name)
    return Received(target, "updated", version)


def _same_file(data: bytes, encoding: str | None, new: bool, target: Novel | None):
    """This very file stored before (as a novel, or as an earlier version of one), else the
    file parsed."""
    parsed_sha = hashlib.sha256(data).hexdigest()
    existing = Novel.objects.filter(sha256=parsed_sha).first()
    if existing:
        if target is not None and target.pk != existing.pk:
            raise Refused(f"这个文件已作为另一部小说《{existing.title}》(id={existing.pk}) 上传过")
        return Received(existing, "same")
    old = NovelVersion.objects.filter(sha256=parsed_sha).select_related("novel").first()
    if old and not new:
        raise Refused(
            f"这个文件是《{old.novel.title}》(id={old.novel_id}) 的第 {old.number} 版，这部小说已更新到更新的版本；"
            "要单独保存为另一部小说，加 --new"
        )
    return parse(data, encoding)


def _extended(digests: list[str], title: str) -> Novel | None:
    """The stored novel this file extends (most chapters in common), if any. A file that is an
    earlier, shorter version of a stored novel is refused."""
    best, shorter = None, None
    for novel in candidates(digests, title):
        comparison = compare(stored_digests(novel), digests)
        if comparison.kind in ("extends", "same"):
            if best is None or comparison.stored > best[1].stored:
                best = (novel, comparison)
        elif comparison.kind == "shorter" and shorter is None:
            shorter = novel
    if best:
        return best[0]
    if shorter is not None:
        raise Refused(
            f"这个文件比已上传的《{shorter.title}》(id={shorter.pk}) 短（只有其前 {len(digests)} 章），"
            "没有更新；要单独保存为另一部小说，加 --new"
        )
    return None


def _check(novel: Novel, comparison: Comparison, chapters: int) -> None:
    name = f"《{novel.title}》(id={novel.pk})"
    if comparison.kind == "shorter":
        raise Refused(
            f"文件只有 {chapters} 章，比{name}的 {comparison.stored} 章短：不能用较短的文件更新，未做任何改动"
        )
    if comparison.kind == "differs":
        raise Refused(
            f"文件与{name}不符：前 {min(chapters, comparison.stored)} 章中有 {len(comparison.edited)} 章不同"
            f"（最多允许 {min(MAX_EDITED, int(min(chapters, comparison.stored) * EDITED_SHARE))} 章），未做任何改动"
        )
    if comparison.kind == "extends" and novel.stage not in UPDATABLE:
        raise Refused(
            f"{name}的本地阶段还没有完成（阶段：{novel.get_stage_display()}）：先重新运行 upload_novel "
            "原文件让它完成（问题提交后即可上传新版本，不必等批处理结果），再上传新版本"
        )


def update(novel: Novel, parsed: Parsed, comparison: Comparison, source_name: str) -> NovelVersion:
    """Store the new version: edited chapters rewritten (their counts forgotten), new chapters
    added, the novel sent back to the character stage."""
    by_number = {c.number: c for c in parsed.chapters}
    added = [c for c in parsed.chapters if c.number > comparison.stored]
    fields = {
        "sha256": parsed.sha256,
        "encoding": parsed.encoding,
        "source_name": source_name[:SOURCE_CHARS],
        "char_count": len(parsed.text),
    }
    with transaction.atomic():
        # The claim: a conditional UPDATE, so of two processes updating one novel one does it.
        rows = Novel.objects.filter(pk=novel.pk, sha256=novel.sha256, stage__in=UPDATABLE)
        if not rows.update(**fields):
            raise Refused(f"《{novel.title}》(id={novel.pk}) 刚被另一个进程更新，未做任何改动")
        for name, value in fields.items():
            setattr(novel, name, value)
        for number in comparison.edited:
            row = chapter_row(novel, by_number[number])
            novel.chapters.filter(number=number).update(
                title=row.title, text=row.text, digest=row.digest, mentions=None, pairs=None
            )
        Chapter.objects.bulk_create([chapter_row(novel, c) for c in added], batch_size=500)
        last = novel.versions.order_by("-number").values_list("number", flat=True).first() or 1
        version = NovelVersion.objects.create(
            novel=novel,
            number=last + 1,
            sha256=parsed.sha256,
            source_name=novel.source_name,
            chapters=len(parsed.chapters),
            char_count=novel.char_count,
            changed=[*comparison.edited, *(c.number for c in added)],
            added=len(added),
            edited=len(comparison.edited),
        )
        novel.reopen(Novel.Stage.UPLOADED)
        novel.advance(Novel.Stage.PARSED)
    return version


def find_novel(reference: str) -> Novel:
    """The novel `--update` names: its id, or its exact title (one novel only)."""
    if reference.isdigit():
        novel = Novel.objects.filter(pk=int(reference)).first()
        if novel:
            return novel
    found = list(Novel.objects.filter(title=reference)[:2])
    if len(found) == 1:
        return found[0]
    if found:
        raise Refused(f"有多部小说名为《{reference}》：请用 id 指定（--update ID）")
    raise Refused(f"没有找到要更新的小说：{reference}（用 id 或完整书名）")
