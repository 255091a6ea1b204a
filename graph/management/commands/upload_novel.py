"""upload_novel: read a novel file, build its character graph (offline) or submit its model tasks."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from graph import batches, budget, dispatch, embeddings, ingest, pipeline, upload_notes, versions
from graph.llm.realtime import RunStopped
from graph.llm.zhipu import ZhipuClient, ZhipuError, client_from_settings
from graph.management.loop import Rounds
from graph.models import LLMTask, Mode, Novel
from graph.progress import Progress


class Command(BaseCommand):
    help = "上传小说并构建人物关系图谱 (upload a novel and build its character graph)"

    def add_arguments(self, parser):
        parser.add_argument("path", help="小说文本文件 (.txt)")
        parser.add_argument(
            "--title",
            help="书名（默认取文件开头写明的书名，没有时取文件名）；对已上传的文件即改名",
        )
        parser.add_argument(
            "--encoding",
            help="强制使用的编码，如 gb18030、big5、utf-8（默认自动识别；对已上传的文件无效）",
        )
        parser.add_argument(
            "--mode",
            choices=Mode.values,
            help="batch（批处理 API）、realtime（实时 API）或 offline（离线规则）。默认：有 "
            "ZHIPUAI_API_KEY 时按 USE_BATCH_API_FOR_GRAPH（true 为 batch，false 为 realtime），"
            "没有 Key 时用 offline",
        )
        parser.add_argument(
            "--restart-from",
            choices=[stage.value for stage in Novel.RESTARTABLE],
            help="从此阶段起重新计算（人工修改的别名保留）",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只生成任务并估算请求数和 tokens，不提交"
        )
        parser.add_argument(
            "--wait", action="store_true", help="批处理模式下留在前台轮询，直到图谱写入"
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=None,
            help=f"--wait 的轮询间隔（秒，至少 1），默认 POLL_INTERVAL（现为 {settings.POLL_INTERVAL}）",
        )
        parser.add_argument("--quiet", action="store_true", help="只输出最后的汇总")
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--new",
            action="store_true",
            help="作为一部新小说保存，即使它是已上传小说的加长版（默认会更新那部小说）",
        )
        which.add_argument(
            "--update",
            metavar="NOVEL",
            help="更新这部小说（id 或完整书名）：文件的前面各章须与它已存的章节一致（允许少量修改）",
        )

    def handle(self, *args, **options):
        progress = Progress(self.stdout, quiet=options["quiet"])
        novel = self.load(options, progress)
        if options["restart_from"]:
            pipeline.restart_from(novel, options["restart_from"])
        mode, note = dispatch.choose_mode(options["mode"])
        if note:
            progress.line(note)
        pipeline.prepare(novel, progress)
        if options["dry_run"]:
            self.print_estimate(novel)
            self.stdout.write(upload_notes.dry_run_end(novel, mode))
            return
        try:
            client = client_from_settings() if mode != Mode.OFFLINE else None
            dispatch.run(novel, mode=mode, progress=progress, client=client)
            if options["wait"] and mode == Mode.BATCH:
                self.wait(novel, client, options["interval"], progress)
        except RunStopped as exc:
            self.stop(novel, str(exc))
        except ZhipuError as exc:
            self.stop(novel, f"{exc.user_line}。已保存的进度不会丢失，重新运行即可继续")
        self.print_summary(novel)

    def stop(self, novel: Novel, message: str) -> None:
        """Stop with one line, and keep the reason on the novel for the admin and novel_status."""
        novel.record_error(message)
        raise CommandError(message)

    def load(self, options, progress: Progress) -> Novel:
        path = Path(options["path"])
        try:
            data = ingest.read_novel_file(path)
            target = versions.find_novel(options["update"]) if options["update"] else None
            received = versions.receive(
                data,
                source_name=path.name,
                title=options["title"],
                encoding=options["encoding"],
                new=options["new"],
                target=target,
            )
        except ingest.InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        novel = received.novel
        if received.how == "created":
            progress.line(
                f"已读取《{novel.title}》：编码 {novel.encoding}，{novel.char_count} 字，"
                f"{novel.chapters.count()} 章"
            )
            notes = upload_notes.created(novel, title_given=bool(options["title"]))
        elif received.how == "updated":
            progress.line(upload_notes.updated(novel, received.version))
            notes = upload_notes.reuse(novel, title=options["title"], encoding=None)
        else:
            same = "这本小说已上传过" if received.how == "same" else "文件的章节与已上传的一致"
            progress.line(
                f"{same}（《{novel.title}》，id={novel.pk}，阶段：{novel.get_stage_display()}），"
                "继续未完成的阶段"
            )
            notes = upload_notes.reuse(novel, title=options["title"], encoding=options["encoding"])
        for line in notes:
            progress.line(line)
        return novel

    def wait(
        self, novel: Novel, client: ZhipuClient, interval: int | None, progress: Progress
    ) -> None:
        """Poll in the foreground until the graph is written (instead of cron)."""
        rounds = Rounds(settings.POLL_INTERVAL if interval is None else interval)
        while True:
            dispatch.poll(client, progress)
            novel.refresh_from_db()
            if novel.stage == Novel.Stage.DONE:
                return
            if not rounds.wait():
                progress.line("已停止等待；之后由 poll_batches 收取结果 (stopped waiting)")
                return

    def print_estimate(self, novel: Novel) -> None:
        version = pipeline.latest_version(novel)
        lines = (
            upload_notes.update_plan(novel, version)
            if version and version.is_update
            else budget.describe(novel)
        )
        for line in lines:
            self.stdout.write(line)
        figures = dispatch.estimate(novel)
        labels = dict(LLMTask.Kind.choices)
        total_requests = sum(f["requests"] for f in figures.values())
        total_tokens = sum(f["input_tokens"] for f in figures.values())
        for kind, f in figures.items():
            self.stdout.write(
                f"{labels[kind]}：{f['requests']} 个请求，约 {f['input_tokens']} 输入 tokens"
            )
        self.stdout.write(f"合计：{total_requests} 个请求，约 {total_tokens} 输入 tokens（未提交）")
        if settings.EMBED_PASSAGES and settings.ZHIPUAI_API_KEY:
            embed = embeddings.estimate(novel)
            self.stdout.write(
                f"段落向量化（{settings.EMBEDDING_MODEL}）：{embed['requests']} 个请求，"
                f"约 {embed['input_tokens']} 输入 tokens，{embed['files']} 个批处理文件"
            )
        for number, batch in enumerate(batches.plan(novel), 1):
            self.stdout.write(
                f"批处理文件 {number}：{batch['requests']} 个请求，{batch['bytes'] / 1024 / 1024:.1f} MB，"
                f"约 {batch['input_tokens']} 输入 tokens"
            )

    def print_summary(self, novel: Novel) -> None:
        novel.refresh_from_db()
        info = pipeline.summary(novel)
        self.stdout.write(
            f"《{novel.title}》(id={novel.pk}) 阶段：{novel.get_stage_display()}｜章节 {info['chapters']}｜"
            f"{upload_notes.cast(info['characters'])}｜关系 {info['pairs']}｜关系类型 {info['types']}"
        )
        if novel.stage != Novel.Stage.DONE:
            self.stdout.write(
                "结果尚未全部返回：请运行 python manage.py poll_batches（或交给 cron）"
            )
