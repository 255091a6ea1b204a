"""What upload_novel tells the user beyond the stage lines: where a title came from, what a re-upload
changes or ignores, a text without chapter headings, what a dry run leaves behind, an empty cast.

The one change made here is a re-upload's new title (`reuse`); everything else only reads.
"""

from __future__ import annotations

from collections import Counter

from graph import budget
from graph.models import TO_SEND, Mode, Novel, NovelVersion
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


def updated(novel: Novel, version: NovelVersion) -> str:
    """The line that says a file updated a stored novel instead of starting a new one."""
    edited = f"、修改 {version.edited} 章" if version.edited else ""
    return (
        f"这是已上传的《{novel.title}》(id={novel.pk}) 的新版本：已更新为第 {version.number} 版，"
        f"新增 {version.added} 章{edited}（共 {version.chapters} 章），只分析新增和修改的章节、"
        "只问可能变化的问题；人物保留原 id、别名和人工修改（要单独保存为新小说，加 --new）"
    )


def update_plan(novel: Novel, version: NovelVersion) -> list[str]:
    """A dry run of an update: what it asks, against what a fresh run of the book would."""
    kinds = Counter(version.tasks().values_list("kind", flat=True))
    return [
        f"第 {version.number} 版更新：新增或修改 {len(version.changed)} 章，"
        f"本次 {sum(kinds.values())} 个问题（全书重新构建的预算为 {budget.requests_for(novel.char_count)} 个）",
        f"  关系问题 {kinds['relation']} 个：新进入的人物对，以及新章节中相遇明显增多的人物对",
        f"  演变问题 {kinds['evolution']} 个：在新章节中多次相遇的人物对，接着已知的阶段往下问",
        f"  属性问题 {kinds['attribute']} 个：新出现或出场明显增多的人物",
    ]


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
