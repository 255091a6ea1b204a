"""poll_batches: advance pending Zhipu batches and write finished graphs (run by cron)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from graph import dispatch
from graph.llm.zhipu import ZhipuError, client_from_settings
from graph.management.loop import Rounds
from graph.progress import Progress


class Command(BaseCommand):
    help = "轮询批处理任务：收取结果、重新提交失败的任务、写入图谱 (poll Zhipu batches)"

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="常驻运行，每隔 --interval 秒轮询一次"
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=None,
            help=f"--loop 的轮询间隔（秒，至少 1），默认 POLL_INTERVAL（{settings.POLL_INTERVAL}）",
        )

    def handle(self, *args, **options):
        if not settings.ZHIPUAI_API_KEY:
            raise CommandError("未设置 ZHIPUAI_API_KEY，无法轮询批处理任务", returncode=2)
        client, progress = client_from_settings(), Progress(self.stdout)
        interval = options["interval"]
        rounds = None
        if options["loop"]:
            rounds = Rounds(settings.POLL_INTERVAL if interval is None else interval)
        while True:
            try:
                handled = dispatch.poll(client, progress)
            except ZhipuError as exc:
                if rounds is None:
                    raise CommandError(exc.user_line) from None
                # A daemon outlives an account problem: say what to do, try again next round.
                self.stderr.write(exc.user_line)
                handled = 0
            if rounds is None or not rounds.wait():
                return f"本轮处理了 {handled} 个批处理任务"
