"""export_graph: write the character graph of one novel as JSON, GraphML, GEXF or CSV."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from graph import export
from graph.management.novels import find_novel


def why(exc: OSError) -> str:
    """The reason a file cannot be written, in Chinese where it is a common one."""
    reasons = {
        FileNotFoundError: "目录不存在 (no such directory)",
        PermissionError: "没有写入权限 (permission denied)",
        IsADirectoryError: "这是一个目录 (is a directory)",
    }
    return reasons.get(type(exc)) or str(exc.strerror or exc)


class Command(BaseCommand):
    help = (
        "导出小说的人物关系图谱 (export the character graph of a novel)。"
        "csv 格式写文件时另写一个 <文件名>_nodes.csv（人物表）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("novel", help="小说 id 或书名")
        parser.add_argument(
            "--format", choices=export.FORMATS, default="json", help="导出格式（默认 json）"
        )
        parser.add_argument("-o", "--output", help="输出文件（默认写到标准输出）")

    def handle(self, *args, **options) -> None:
        novel = find_novel(options["novel"])
        fmt, output = options["format"], options["output"]
        if output:
            try:
                graph = export.write_graph(novel, fmt, Path(output))
            except OSError as exc:
                raise CommandError(f"无法写入 {output}：{why(exc)}", returncode=2) from None
            where, report = output, self.stdout
            if fmt == "csv":
                where += f"（人物表：{export.nodes_path(Path(output))}）"
        else:
            buffer = io.StringIO()
            graph = export.write_graph(novel, fmt, buffer)
            self.stdout.write(buffer.getvalue(), ending="")
            where, report = "标准输出", self.stderr
        report.write(
            f"已导出 {graph.number_of_nodes()} 个人物、{graph.number_of_edges()} 条关系到 {where}",
            style_func=self.style.SUCCESS,
        )
