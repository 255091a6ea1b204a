"""Time collecting a 50,000-line batch result and applying it to the graph.

    .venv/bin/python bench/batch_apply.py [--lines 50000] [--database-url URL]

Builds a novel with enough characters, relations and tasks, writes a Zhipu-shaped output file
(answers from the offline rules) onto a BatchJob, then times `batches.collect` (match lines to
tasks by custom_id, parse, store) and `results.apply_if_settled` (one transaction).
"""

import argparse
import json
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    _django.setup(args.database_url)

    from graph import batches, prompts, results
    from graph.models import BatchJob, Character, LLMTask, Novel, Relation
    from tests import offline_model

    t0 = time.perf_counter()
    novel = Novel.objects.create(
        title="基准", sha256="0" * 64, stage=Novel.Stage.DISPATCHED, mode="batch"
    )
    people = Character.objects.bulk_create(
        [Character(novel=novel, name=f"人物{i:03d}", rank=i) for i in range(400)]
    )
    attribute_count = len(people)
    pair_count = (args.lines - attribute_count + 1) // 2
    pairs = list(combinations(people, 2))[:pair_count]
    relations = Relation.objects.bulk_create(
        [
            Relation(novel=novel, source=a, target=b, pair_key=Relation.key_for(a.pk, b.pk))
            for a, b in pairs
        ],
        batch_size=2000,
    )
    snippets = [
        prompts.Snippet(3, "{a}拜{b}为师，{b}收他为徒。"),
        prompts.Snippet(9, "{a}与{b}反目成仇，二人交手。"),
    ]
    job = BatchJob.objects.create(novel=novel, status=BatchJob.Status.COLLECTING, remote_id="bench")
    tasks = []
    for relation, (a, b) in zip(relations, pairs, strict=True):
        texts = [prompts.Snippet(s.chapter, s.text.format(a=a.name, b=b.name)) for s in snippets]
        for kind, build in (
            ("relation", prompts.relation_request),
            ("evolution", prompts.evolution_request),
        ):
            if len(tasks) >= args.lines - attribute_count:
                break
            body = build("基准", [a.name], [b.name], texts, model="glm-4-flash", max_tokens=256)
            tasks.append(
                LLMTask(
                    novel=novel,
                    kind=kind,
                    subject="x",
                    relation=relation,
                    character=a,
                    custom_id=LLMTask.custom_id_for(novel.pk, kind, relation.pk),
                    request=body,
                    batch_job=job,
                    status=LLMTask.Status.SUBMITTED,
                )
            )
    for person in people:
        body = prompts.attribute_request(
            "基准",
            [person.name],
            [prompts.Snippet(1, f"{person.name}是个剑客，他笑道。")],
            model="glm-4-flash",
            max_tokens=256,
        )
        tasks.append(
            LLMTask(
                novel=novel,
                kind="attribute",
                subject=person.name,
                character=person,
                custom_id=LLMTask.custom_id_for(novel.pk, "attribute", person.pk),
                request=body,
                batch_job=job,
                status=LLMTask.Status.SUBMITTED,
            )
        )
    LLMTask.objects.bulk_create(tasks, batch_size=2000)
    lines = []
    for task in tasks:
        body = {
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": offline_model.answer(task.request)},
                }
            ],
            "usage": {"prompt_tokens": 500, "completion_tokens": 40, "total_tokens": 540},
        }
        lines.append(
            json.dumps(
                {
                    "response": {"status_code": 200, "body": body},
                    "custom_id": task.custom_id,
                    "id": "bench",
                },
                ensure_ascii=False,
            )
        )
    job.output_content = "\n".join(lines)
    job.save()
    print(
        f"准备：{len(tasks)} 个任务、{len(relations)} 条关系、输出文件 {len(job.output_content.encode()) / 1e6:.1f} MB，"
        f"用时 {time.perf_counter() - t0:.1f} s"
    )

    t1 = time.perf_counter()
    settled = batches.collect(job)
    t2 = time.perf_counter()
    applied = results.apply_if_settled(novel)
    t3 = time.perf_counter()
    print(
        f"收取 collect: {settled} 行 {t2 - t1:.2f} s；写入图谱 apply: {t3 - t2:.2f} s（applied={applied}）"
    )
    print(f"合计 total: {t3 - t1:.2f} s（目标 ≤ 30 s）")


if __name__ == "__main__":
    main()
