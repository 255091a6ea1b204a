"""novel_status: where each novel stands — stages, batch jobs, progress, failures, tokens."""

from django.core.management.base import BaseCommand
from django.db.models import Count, Q, Sum
from django.utils.timezone import localtime

from graph.management.novels import find_novel
from graph.models import LLMTask, Novel, Origin


def answer_sources(novel: Novel) -> dict[str, int]:
    """Where the settled answers came from: a batch, realtime requests, the rules, defaults."""
    model = Q(origin=Origin.LLM)
    filters = {
        "批处理": model & Q(batch_job__isnull=False),
        "实时 API": model & Q(batch_job__isnull=True),
        "离线规则": Q(origin=Origin.OFFLINE),
        "默认值": Q(origin=Origin.DEFAULT),
    }
    counts = novel.tasks.settled().aggregate(
        **{f"n{i}": Count("pk", filter=f) for i, f in enumerate(filters.values())}
    )
    return {label: counts[f"n{i}"] for i, label in enumerate(filters)}


def passage_vectors(novel: Novel) -> list[tuple[str, int, int]]:
    """(vectorizer, passages, passages with a vector), per vectorizer."""
    rows = novel.passages.values("vectorizer").annotate(
        total=Count("pk"), done=Count("pk", filter=~Q(vector=b""))
    )
    return [(r["vectorizer"], r["total"], r["done"]) for r in rows.order_by("vectorizer")]


class Command(BaseCommand):
    help = "查看小说的处理状态：阶段、批处理任务、进度、失败和 tokens 用量 (novel status)"

    def add_arguments(self, parser):
        parser.add_argument("novel", nargs="?", help="小说 id 或书名（省略则列出全部）")

    def handle(self, *args, **options):
        novels = (
            [find_novel(options["novel"])]
            if options["novel"]
            else list(Novel.objects.order_by("pk"))
        )
        if not novels:
            self.stdout.write("还没有上传任何小说")
        for novel in novels:
            self.show(novel)

    def show(self, novel: Novel) -> None:
        w = self.stdout.write
        w(
            f"《{novel.title}》 id={novel.pk}  模式：{novel.get_mode_display()}  阶段：{novel.get_stage_display()}"
        )
        stamps = [
            (Novel.Stage(stage).label, getattr(novel, field))
            for stage, field in Novel.STAGE_TIMESTAMPS.items()
        ]
        w("  " + "  ".join(f"{label} {localtime(ts):%m-%d %H:%M:%S}" for label, ts in stamps if ts))
        tasks = novel.tasks.aggregate(
            total=Count("pk"),
            prompt=Sum("prompt_tokens"),
            completion=Sum("completion_tokens"),
            **{status: Count("pk", filter=Q(status=status)) for status in LLMTask.Status.values},
        )
        if not tasks["total"]:
            w(f"  任务：{self.no_tasks(novel)}")
            self.show_error(novel)
            return
        settled = tasks["succeeded"] + tasks["defaulted"]
        share = 100 * settled / tasks["total"]
        w(
            f"  任务：{settled}/{tasks['total']} 已完成 ({share:.1f}%)｜成功 {tasks['succeeded']}｜"
            f"待提交 {tasks['pending']}｜已提交 {tasks['submitted']}｜失败待重试 {tasks['failed']}｜"
            f"使用默认值 {tasks['defaulted']}"
        )
        w(f"  tokens：输入 {tasks['prompt'] or 0}，输出 {tasks['completion'] or 0}")
        w("  答案来源：" + "｜".join(f"{label} {n}" for label, n in answer_sources(novel).items()))
        for name, total, done in passage_vectors(novel):
            w(f"  段落向量（{name}）：{done}/{total} 个段落已向量化")
        for job in novel.batch_jobs.order_by("pk"):
            total = job.total or job.line_count
            w(
                f"  批处理 {job.remote_id or '(未提交)'}：{job.get_status_display()}｜远程 {job.remote_status or '-'}｜"
                f"{job.completed or 0}/{total}｜失败 {job.failed or 0}"
                + (f"｜错误：{job.last_error[:120]}" if job.last_error else "")
            )
        failures = novel.tasks.exclude(last_error="").filter(
            status__in=[LLMTask.Status.FAILED, LLMTask.Status.DEFAULTED]
        )[:5]
        for task in failures:
            w(
                f"  ✗ {task.custom_id}（{task.get_kind_display()} {task.subject}）：{task.last_error[:120]}"
            )
        self.show_error(novel)

    def show_error(self, novel: Novel) -> None:
        if novel.last_error:
            self.stdout.write(f"  最近错误：{novel.last_error[:200]}")

    @staticmethod
    def no_tasks(novel: Novel) -> str:
        """Why a novel has no model tasks: not generated yet, or none were needed."""
        stage = novel.get_stage_display()
        if not novel.reached(Novel.Stage.TASKS):
            return (
                f"还没有任务（阶段：{stage}；任务在“生成任务”阶段生成，"
                "再次运行 upload_novel 这个文件即可继续）"
            )
        return f"没有任务（阶段：{stage}；没有找到需要模型判断的人物或人物对）"
