"""Benchmark the relation stage against a gold character graph.

    .venv/bin/python bench/relations.py /work/shared/corpus/xiyouji.txt \
        --gold /work/shared/gold/xiyouji.json [--mode offline] [--database-url URL] \
        [--restart-from pairs|tasks]

Runs upload_novel on a scratch database (or the one given, where --restart-from reuses the
stored characters), then prints: the share of gold relation pairs present as edges, type accuracy
on those present, typed precision (of the present pairs typed other than 共现, the share right) and
coverage (typed / present), direction accuracy for directed types, a confusion table (gold ×
predicted) and
the share of gold evolutions whose timeline types appear, in order, in the edge's phases.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

# Gold notes that say who is elder: "source is father of target", "(孙策 elder)", …
_ELDER_WORDS = r"(?:father|mother|grand\w*|great-\w+|elder \w+|(?:\(\w+\) )?father|uncle|aunt)"
_YOUNGER_WORDS = r"(?:son|daughter|nephew|niece|younger \w+|grand(?:son|daughter))"


def kin_elder(note: str, source: str, target: str) -> str | None:
    """Who the gold note says is the elder of a kin pair, or None when it does not say."""
    if re.search(rf"source is (?:the )?{_YOUNGER_WORDS}\b", note):
        return target
    if re.search(rf"source is (?:the )?(?:maternal |paternal )?{_ELDER_WORDS}", note):
        return source
    for name in (source, target):
        other = target if name == source else source
        if re.search(rf"{name}(?: is)?(?: \w+'s)? elder", note):
            return name
        if re.search(rf"{name} is (?:\w+'s |her |his )?younger", note):
            return other
    return None


def senior_of(relation: dict, code: str) -> str | None:
    if code in ("master", "lord"):
        return relation["source"]
    if code == "kin":
        return kin_elder(relation["note"], relation["source"], relation["target"])
    return None


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(x == y for y in it) for x in wanted)


def character_map(novel, gold: dict) -> dict[str, object]:
    """Gold canonical name -> the extracted Character sharing a name or alias with it; when the
    character stage split one person in two, the one mentioned most."""
    characters = list(novel.characters.all())
    found = {}
    for g in gold["characters"]:
        names = {g["name"], *g["aliases"]}
        best, best_key = None, None
        for c in characters:
            overlap = names & set(c.names)
            if not overlap:
                continue
            key = (c.mention_count, g["name"] in c.names)
            if best_key is None or key > best_key:
                best, best_key = c, key
        if best is not None:
            found[g["name"]] = best
    return found


# The gold schema has no 同门: it files fellow disciples (师兄弟) under 盟友, so a predicted 同门
# counts as right on a gold 盟友 (the strict figure, without this, is printed too).
EQUIVALENT = {("ally", "fellow")}


def changes(phases) -> int:
    """How many times the type changes along an edge's phases."""
    types = [p.type for p in phases]
    return sum(x != y for x, y in zip(types, types[1:], strict=False))


def evaluate(novel, gold: dict) -> dict[str, float]:
    from graph import taxonomy
    from graph.models import Relation

    chars = character_map(novel, gold)
    edges = {
        r.pair_key: r
        for r in novel.relations.select_related("source", "target").prefetch_related("phases")
    }

    def edge(a: str, b: str):
        ca, cb = chars.get(a), chars.get(b)
        if ca is None or cb is None or ca.pk == cb.pk:
            return None
        return edges.get(Relation.key_for(ca.pk, cb.pk))

    present = typed = directed = direct_right = equivalent = labelled = 0
    confusion: Counter = Counter()
    misses = []
    mistyped = []  # pairs given a type other than 共现 that gold does not have
    for rel in gold["relations"]:
        e = edge(rel["source"], rel["target"])
        if e is None:
            misses.append((rel["source"], rel["target"]))
            continue
        present += 1
        code = taxonomy.CODE_BY_LABEL[rel["type"]]
        confusion[(rel["type"], taxonomy.label(e.type))] += 1
        labelled += e.type != taxonomy.DEFAULT_TYPE
        if e.type != code and (code, e.type) not in EQUIVALENT:
            if e.type != taxonomy.DEFAULT_TYPE:
                mistyped.append(
                    f"  ✗ {rel['source']}—{rel['target']}: 金标 {rel['type']}｜抽取 {taxonomy.label(e.type)}"
                )
            continue
        typed += 1
        equivalent += e.type != code
        senior = senior_of(rel, code)
        if code in taxonomy.DIRECTED and senior:
            directed += 1
            direct_right += chars[senior].pk == e.source_id
    evolving = {frozenset((evo["source"], evo["target"])) for evo in gold["evolutions"]}
    stable = spurious = 0
    for rel in gold["relations"]:
        e = edge(rel["source"], rel["target"])
        if e is None or frozenset((rel["source"], rel["target"])) in evolving:
            continue
        stable += 1
        spurious += changes(e.phases.all()) > 0
    evo_right = 0
    evo_lines = []
    for evo in gold["evolutions"]:
        e = edge(evo["source"], evo["target"])
        wanted = [taxonomy.CODE_BY_LABEL[t["type"]] for t in evo["timeline"]]
        seen = [p.type for p in e.phases.all()] if e else []
        ok = bool(e) and is_subsequence(wanted, seen)
        evo_right += ok
        evo_lines.append(
            f"  {'✓' if ok else '✗'} {evo['source']}—{evo['target']}: 金标 "
            + "→".join(t["type"] for t in evo["timeline"])
            + "｜抽取 "
            + (
                "→".join(
                    f"{taxonomy.label(p.type)}({p.from_chapter}-{p.to_chapter})"
                    for p in e.phases.all()
                )
                if e
                else "无此边"
            )
        )
    total = len(gold["relations"])
    right_cooccur = confusion[(taxonomy.label(taxonomy.DEFAULT_TYPE),) * 2]
    figures = {
        "present": present / total,
        "type": typed / max(1, present),
        # Of the present pairs typed other than 共现, the share typed right (同门 counts on a gold
        # 盟友); a gold 共现 pair never counts here, predicted right or not.
        "typed_precision": (typed - right_cooccur) / max(1, labelled),
        "coverage": labelled / max(1, present),
        "direction": direct_right / max(1, directed),
        "evolution": evo_right / max(1, len(gold["evolutions"])),
    }
    print(f"金标关系对出现为边 pairs present: {present}/{total} = {figures['present']:.2f}")
    if misses:
        print("  缺失:", " ".join(f"{a}—{b}" for a, b in misses))
        print("\n".join(why_missing(novel, chars, misses)))
    print(
        f"类型正确 type accuracy (on present): {typed}/{present} = {figures['type']:.2f}"
        f"（其中 {equivalent} 个同门记作盟友；严格 strict {(typed - equivalent) / max(1, present):.2f}）"
    )
    print(
        f"有类型的精确率 typed precision (present, predicted ≠ 共现): {typed - right_cooccur}/{labelled}"
        f" = {figures['typed_precision']:.2f}；覆盖率 coverage (typed / present): "
        f"{labelled}/{present} = {figures['coverage']:.2f}"
    )
    if mistyped:
        print("\n".join(mistyped))
    print(
        f"方向正确 direction accuracy (directed, typed right): {direct_right}/{directed} = {figures['direction']:.2f}"
    )
    print(
        f"演变检出 evolutions in order: {evo_right}/{len(gold['evolutions'])} = {figures['evolution']:.2f}"
    )
    tasks = Counter(novel.tasks.values_list("kind", flat=True))
    asked = [  # a grouped question's members, one by one
        member
        for q in novel.tasks.filter(kind="relation").values_list("question", flat=True)
        for member in q.get("group") or [q]
    ]
    timelines = tasks["evolution"] + sum(1 for q in asked if q.get("timeline"))
    print(
        f"演变任务 evolution questions: {timelines}/{len(asked)} 对"
        f"；金标无演变的边中出现类型变化 stable gold pairs with a change: {spurious}/{stable}"
    )
    print_confusion(confusion)
    print("\n".join(evo_lines))
    return figures


def why_missing(novel, chars: dict, misses: list[tuple[str, str]]) -> list[str]:
    """Per missing gold pair, why: a character not in the graph (discovery), one node for both
    (merged), or never asked (its meetings and its place in the pair ranking of the graph as it
    stands after merges, against the number of pairs asked)."""
    from graph import budget
    from graph.pipeline import Workspace, ranked_pairs

    ws = Workspace(novel)
    plan = budget.plan(novel.char_count, [c.mention_count for c in ws.characters.values()])
    ranked = ranked_pairs(ws, 2 * plan.pairs, share_of=plan.pairs)
    rank = {frozenset((s.a, s.b)): i for i, s in enumerate(ranked, 1)}
    lines = []
    for a, b in misses:
        absent = [name for name in (a, b) if name not in chars]
        if absent:
            why = f"缺人物 {'、'.join(absent)}（人物识别）"
        elif chars[a].pk == chars[b].pk:
            why = f"两人是同一节点 {chars[a].name}"
        else:
            key = frozenset((chars[a].pk, chars[b].pk))
            stat = ws.pair_stats.get(key)
            meets = f"同段共现 {stat.count} 次、{len(stat.chapters)} 章" if stat else "从未同段出现"
            place = rank.get(key)
            where = f"排名 {place}" if place else f"排名 > {len(ranked)}"
            if place and place <= plan.pairs:  # in range now: the merges joined its meetings
                where += "，合并后才进入提问范围：选对时其中一人还分在几个节点上"
            why = f"未提问：{meets}，{where}（问了 {plan.pairs} 对）"
        lines.append(f"    {a}—{b}：{why}")
    return lines


def print_confusion(confusion: Counter) -> None:
    from graph import taxonomy

    labels = [taxonomy.label(c) for c in taxonomy.CODES]
    rows = [g for g in labels if any(confusion[(g, p)] for p in labels)]
    cols = [p for p in labels if any(confusion[(g, p)] for g in labels)]
    print("混淆表 confusion (行=金标 gold, 列=预测 predicted):")
    print("  " + "".ljust(5, "　") + "".join(c.ljust(5, "　") for c in cols))
    for g in rows:
        print(
            "  "
            + g.ljust(5, "　")
            + "".join(str(confusion[(g, p)] or "·").ljust(5) + "　" for p in cols)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("novel")
    parser.add_argument("--gold", required=True)
    parser.add_argument("--mode", choices=["offline", "realtime", "batch"], default="offline")
    parser.add_argument("--database-url", help="默认用临时 SQLite")
    parser.add_argument("--restart-from", choices=["characters", "pairs", "tasks"])
    parser.add_argument(
        "--evaluate-only", action="store_true", help="不运行流水线，只评估数据库里已有的图谱"
    )
    parser.add_argument(
        "--model",
        choices=["offline", "gold"],
        help="对本地模拟器运行整条流水线（实时模式），模型用离线规则或按金标作答 (gold)",
    )
    args = parser.parse_args()
    if args.model:
        import emulated

        start = time.perf_counter()
        gold = json.loads(Path(args.gold).read_text(encoding="utf-8"))
        novel = emulated.run(Path(args.novel), Path(args.gold), args.model, args.database_url)
        print(f"《{gold['novel']}》 model={args.model}，用时 {time.perf_counter() - start:.1f} s")
        evaluate(novel, gold)
        return
    if args.mode != "offline" and not os.environ.get("ZHIPUAI_API_KEY"):
        print("需要 ZHIPUAI_API_KEY（--mode realtime/batch 会调用智谱 API）")
        return
    _django.setup(args.database_url)
    from django.core.management import call_command

    from graph.models import Novel

    gold = json.loads(Path(args.gold).read_text(encoding="utf-8"))
    command = [args.novel, "--mode", args.mode, "--quiet"]
    if args.restart_from:
        command += ["--restart-from", args.restart_from]
    if args.mode == "batch":
        command += ["--wait", "--interval", "60"]
    start = time.perf_counter()
    if not args.evaluate_only:
        call_command("upload_novel", *command)
    print(f"《{gold['novel']}》 mode={args.mode}，用时 {time.perf_counter() - start:.1f} s")
    digest = hashlib.sha256(Path(args.novel).read_bytes()).hexdigest()
    evaluate(Novel.objects.get(sha256=digest), gold)


if __name__ == "__main__":
    main()
