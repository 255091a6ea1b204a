"""What upload_novel tells the user beyond the stage lines: where a title came from, what a re-upload
changes or ignores, a text without chapter headings, what a dry run leaves behind, an empty cast.

The one change made here is a re-upload's new title (`reuse`); everything else only reads.
"""

from __future__ import annotations

from graph.models import TO_SEND, Mode, Novel
from graph.text import PART_CHARS, headingless
from graph.titles import title_in_file_name


def created(novel: Novel, *, title_given: bool) -> list[str]:
    """Lines after a new upload: a title taken from the file name, chapters cut without headings."""
    lines = []
    if not title_given and novel.title == title_in_file_name(novel.source_name):
        lines.append(
            f"书名取自文件名：《{novel.title}》（文件开头没有写明书名）。"
            "要改名，再次运行 upload_novel 同一文件并加 --title 书名"
        )
    titles = list(novel.chapters.order_by("number").values_list("title", flat=True))
    if headingless(titles):
        lines.append(
            f"没有找到章节标题（如“第一章”“第一回”“卷一”）：正文按段落切成 {len(titles)} 个部分"
            f"（每部分不超过 {PART_CHARS} 字），章节号即部分号"
        )
    return lines


def reuse(novel: Novel, *, title: str | None, encoding: str | None) -> list[str]:
    """Apply a re-upload's --title (a rename) and say so; say that --encoding no longer applies."""
    lines = []
    new = (title or "").strip()[:200]
    if new and new != novel.title:
        old, novel.title = novel.title, new
        novel.save(update_fields=["title"])
        line = f"书名已改为《{new}》（原为《{old}》）"
        if Novel.objects.filter(title=new).exclude(pk=novel.pk).exists():
            line += f"；另有同名小说，命令中请用 id={novel.pk} 指代这一部"
        lines.append(line)
    if encoding:
        lines.append(
            f"--encoding {encoding} 被忽略：这个文件已经保存过（按 {novel.encoding} 读取）；"
            "要换编码重新读取，请先在 admin 中删除这部小说再上传"
        )
    return lines


def dry_run_end(novel: Novel, mode: str) -> str:
    """The last line of a dry run: what is stored and what the next upload_novel will do."""
    waiting = novel.tasks.filter(status__in=TO_SEND).count()
    stage = novel.get_stage_display()
    if not waiting:
        return (
            f"试运行结束：没有待提交的任务（阶段：{stage}），下次运行 upload_novel 不会提交任何请求"
        )
    return (
        f"试运行结束，未提交任何请求。已保存 {waiting} 个待提交的任务（阶段：{stage}）；"
        f"下次运行 upload_novel 这个文件（不加 --dry-run）会直接提交它们"
        f"（模式由那次运行的 --mode 或 .env 决定，本次为 {Mode(mode).label}）；要先改设置再重新生成任务，加 --restart-from tasks"
    )


def cast(characters: int) -> str:
    """The summary's character figure: a count, or that none were found."""
    if characters:
        return f"人物 {characters}"
    return "未识别出人物（没有反复出现的人名，图谱为空）"
