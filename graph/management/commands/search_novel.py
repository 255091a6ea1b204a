"""search_novel: the passages of a novel that best match a query, with chapter and excerpt."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from graph import search
from graph.llm.zhipu import ZhipuError
from graph.management.novels import find_novel


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "在小说中搜索段落 (search the passages of a novel)。查询中的人物名或别名会限定结果："
        "只列出同时提到这些人物的段落。首次搜索时建立段落向量。"
    )

    def add_arguments(self, parser):
        parser.add_argument("novel", help="小说 id 或书名")
        parser.add_argument("query", help="查询，例如 “孙悟空 与 唐僧”")
        parser.add_argument("--top", type=positive, default=10, help="列出多少条（默认 10）")
        parser.add_argument(
            "--chapter-max", type=positive, default=None, help="只看到第 N 章为止（防剧透）"
        )
        parser.add_argument(
            "--vectorizer",
            choices=search.VECTORIZERS,
            default="auto",
            help="向量化方法：local 本地、model 智谱 embedding-3、auto（默认：有 Key 且为实时模式时用模型）",
        )

    def handle(self, *args, **options) -> None:
        novel = find_novel(options["novel"])
        started = time.monotonic()
        try:
            results = search.search(
                novel,
                options["query"],
                top=options["top"],
                chapter_max=options["chapter_max"],
                vectorizer=options["vectorizer"],
            )
        except search.SearchError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except ZhipuError as exc:
            raise CommandError(exc.user_line) from None
        if results.built:
            self.stderr.write(
                f"已为《{novel.title}》的 {results.built} 个段落建立向量（{results.vectorizer}）"
            )
        self.stdout.write(self.header(novel, results, options["chapter_max"]))
        for number, hit in enumerate(results.hits, 1):
            people = "、".join(name for _, name in hit.characters) or "（无）"
            self.stdout.write(
                f"{number:>2}. 第{hit.chapter}章 位置 {hit.offset} 得分 {hit.score:.3f}｜人物：{people}"
            )
            excerpt = "".join(f"【{text}】" if marked else text for text, marked in hit.excerpt)
            self.stdout.write(f"    {excerpt}")
        self.stderr.write(f"用时 {time.monotonic() - started:.2f} 秒")

    def header(self, novel, results: search.Results, chapter_max: int | None) -> str:
        parts = [f"《{novel.title}》搜索「{results.query}」：{len(results.hits)} 条结果"]
        parts.append(f"向量：{results.vectorizer}")
        if results.required:
            parts.append("须同时提到：" + "、".join(name for _, name in results.required))
        if chapter_max:
            parts.append(f"只看到第 {chapter_max} 章")
        return "｜".join(parts)
