"""Benchmark the character stage against a gold character list.

    .venv/bin/python bench/characters.py /work/shared/corpus/xiyouji.txt \
        --gold /work/shared/gold/xiyouji.json [--limit 300] [--show 50]

Prints recall of gold tier-1+2 characters in the top 100, strict precision of the top 50 (with the
unmatched names listed so a human can judge them), alias recall, alias errors (one extracted
character covering two gold characters) and the time taken by discovery + a mention scan.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.entities import FoundCharacter, discover_characters, scan_mentions  # noqa: E402

try:
    from graph.text import decode, split_chapters
except ImportError:  # graph/text.py not written yet: a minimal chapter split
    decode = split_chapters = None  # type: ignore[assignment]

_HEADING = re.compile(r"^\s*第[零〇一二三四五六七八九十百千0-9]+[回章]", re.M)


def load_chapters(path: Path) -> list[tuple[int, str]]:
    """(chapter number, body) pairs, using graph.text when available."""
    data = path.read_bytes()
    if decode is not None and split_chapters is not None:
        text, _enc = decode(data)
        return [(c.number, c.text) for c in split_chapters(text)]
    text = data.decode("utf-8")
    parts = _HEADING.split(text)[1:]
    return [(i, p.split("\n", 1)[-1]) for i, p in enumerate(parts, 1)]


# Endings of role and person nouns (龙王, 雷公, 驿丞, 僧官, 芳官, 院主, 樵子, 莺儿, 邢岫烟 is by surname).
_PERSON_ENDS = frozenset(
    "王公君神仙佛祖圣帝后妃主官丞吏将相侯子女儿氏郎娘姐妹哥爷婆母父叔伯老者僧尼怪魔精叉童星"
)


def person_like(name: str) -> str:
    """A rough judgement, independent of discovery, for names gold does not list:
    "person" (surname + name not in the dictionary, a role ending, a jieba name tag),
    "word" (a dictionary word with another part of speech, an action ending) or "?"."""
    from graph.entities.dictionary import _dictionary
    from graph.names import split_surname

    tag = _dictionary().get(name, ("", 0))[0]
    if name[-1] in "毕声了着罢" or (
        tag and not tag.startswith("nr") and name[-1] not in _PERSON_ENDS
    ):
        return "word"
    if tag.startswith("nr") or name[-1] in _PERSON_ENDS or (split_surname(name) and not tag):
        return "person"
    return "?"


def names_of(c: FoundCharacter) -> set[str]:
    return {c.name, *c.aliases}


def evaluate(found: list[FoundCharacter], gold: dict, show: int) -> dict[str, float]:
    """Print the report; return the headline figures."""
    owner: dict[str, str] = {}
    tiers: dict[str, int] = {}
    gold_aliases: dict[str, list[str]] = {}
    for g in gold["characters"]:
        tiers[g["name"]] = g["tier"]
        gold_aliases[g["name"]] = g["aliases"]
        for s in [g["name"], *g["aliases"]]:
            owner[s] = g["name"]

    def covered(c: FoundCharacter) -> set[str]:
        return {owner[s] for s in names_of(c) if s in owner}

    top100, top50 = found[:100], found[:50]
    major = [n for n, t in tiers.items() if t <= 2]
    found_major = [n for n in major if any(n in covered(c) for c in top100)]
    recall = len(found_major) / len(major)
    print(f"tier-1+2 recall in top 100: {len(found_major)}/{len(major)} = {recall:.2f}")
    missing = [n for n in major if n not in found_major]
    if missing:
        print("  missing:", " ".join(missing))

    matched = [c for c in top50 if covered(c)]
    precision = len(matched) / max(1, len(top50))
    print(
        f"top-50 precision (strict, gold names only): {len(matched)}/{len(top50)} = {precision:.2f}"
    )
    unmatched = [c for c in top50 if not covered(c)]
    if unmatched:
        print(
            "  not in gold (judge by hand):",
            " ".join(f"{c.name}({c.mention_count},{person_like(c.name)})" for c in unmatched),
        )
        kinds = [person_like(c.name) for c in unmatched]
        real = len(matched) + kinds.count("person")
        print(
            f"  person-like judgement: {kinds.count('person')} person, {kinds.count('?')} unsure,"
            f" {kinds.count('word')} word; gold + person-like = {real}/{len(top50)}"
            f" = {real / max(1, len(top50)):.2f}"
        )

    total = hit = 0
    for n in found_major:
        # The extracted character that best represents n: most of its gold names, then mentions.
        cands = [c for c in found if n in covered(c)]
        best = max(cands, key=lambda c: (len(names_of(c) & {n, *gold_aliases[n]}), c.mention_count))
        got = [a for a in gold_aliases[n] if a in names_of(best)]
        lost = [a for a in gold_aliases[n] if a not in names_of(best)]
        total += len(gold_aliases[n])
        hit += len(got)
        if lost:
            print(f"  {n}: as {best.name}, aliases missed: {' '.join(lost)}")
    alias_recall = hit / max(1, total)
    print(f"alias recall (tier 1+2 found): {hit}/{total} = {alias_recall:.2f}")

    errors = [c for c in found if len(covered(c)) > 1]
    print(f"alias errors (one character covering two gold characters): {len(errors)}")
    for c in errors:
        print(f"  {c.name} {c.aliases} -> {sorted(covered(c))}")

    if show:
        print(f"top {show}:")
        for i, c in enumerate(found[:show], 1):
            mark = "/".join(sorted(covered(c))) or "-"
            print(
                f"  {i:3d} {c.name} {c.mention_count} ch{c.first_chapter}-{c.last_chapter} {c.aliases[:8]} [{mark}]"
            )
    return {
        "recall": recall,
        "precision": precision,
        "alias_recall": alias_recall,
        "errors": len(errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("novel", type=Path)
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--show", type=int, default=0, help="also list the top N characters")
    ap.add_argument(
        "--model",
        choices=["offline", "gold"],
        help="run the whole pipeline against the emulator with this model (gold: answers from "
        "the gold file) and measure the graph's characters after the answers are applied",
    )
    args = ap.parse_args()
    if args.model:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import emulated

        t0 = time.perf_counter()
        found = emulated.graph_characters(emulated.run(args.novel, args.gold, args.model))
        print(f"{args.novel.name}: model {args.model}, {len(found)} people in the graph")
        evaluate(found, json.loads(args.gold.read_text(encoding="utf-8")), args.show)
        print(f"time: whole pipeline {time.perf_counter() - t0:.1f}s")
        return

    chapters = load_chapters(args.novel)
    t0 = time.perf_counter()
    found = discover_characters(chapters, limit=args.limit)
    t1 = time.perf_counter()
    scan_mentions(chapters, {i: names_of(c) for i, c in enumerate(found)})
    t2 = time.perf_counter()
    chars = sum(len(b) for _, b in chapters)
    print(f"{args.novel.name}: {len(chapters)} chapters, {chars} characters, {len(found)} found")
    evaluate(found, json.loads(args.gold.read_text(encoding="utf-8")), args.show)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"time: discover {t1 - t0:.2f}s + scan {t2 - t1:.2f}s; max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
