"""poll_batches: advance pending Zhipu batches and write finished graphs (run by cron)."""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from graph import batches
from graph.llm.zhipu import ZhipuError, client_from_settings


class Command(BaseCommand):
    help = "轮询批处理任务：收取结果、重新提交失败的任务、写入图谱 (poll Zhipu batches)"

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="常驻运行，每隔 --interval 秒轮询一次"
        )
        parser.add_argument(
            "--interval", type=int, default=None, help="轮询间隔（秒），默认 POLL_INTERVAL"
        )

    def handle(self, *args, **options):
        if not settings.ZHIPUAI_API_KEY:
            raise CommandError("未设置 ZHIPUAI_API_KEY，无法轮询批处理任务", returncode=2)
        client = client_from_settings()
        interval = max(
            1, settings.POLL_INTERVAL if options["interval"] is None else options["interval"]
        )
        self._stop = False
        if options["loop"]:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        while True:
            try:
                handled = self.poll_once(client)
            except CommandError as exc:
                if not options["loop"]:
                    raise
                # A daemon outlives a bad minute (or an empty balance): say so, try next round.
                self.stderr.write(str(exc))
                handled = 0
            if not options["loop"] or self._stop:
                return f"本轮处理了 {handled} 个批处理任务"
            # Sleep in 1 s steps so SIGTERM is honoured promptly.
            for _ in range(interval):
                if self._stop:
                    return f"本轮处理了 {handled} 个批处理任务"
                time.sleep(1)

    def poll_once(self, client) -> int:
        try:
            return batches.poll_once(client, self.stdout.write)
        except ZhipuError as exc:
            raise CommandError(exc.user_line) from None

    def _request_stop(self, *_):
        self._stop = True
