"""Which evidence gives better answers: the co-occurrence windows the pipeline sends today, or the
passages search finds for "A 与 B" (issue step 11). Runs the offline pipeline, then asks the offline
rules each gold pair twice, once per kind of evidence of about the same size, and compares the
types with the gold. (The gold-answering emulator ignores evidence, so only the rules can tell.)

    .venv/bin/python bench/evidence.py /work/shared/corpus/sanguo.txt --gold /work/shared/gold/sanguo.json
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import _django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("novel")
    parser.add_argument("--gold", required=True)
    args = parser.parse_args()
    _django.setup()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from django.core.management import call_command
    from relations import EQUIVALENT, character_map

    from graph import prompts, replies, search, taxonomy
    from graph.llm import offline
    from graph.models import Novel, Relation

    call_command("upload_novel", args.novel, "--mode", "offline", "--quiet", stdout=io.StringIO())
    novel = Novel.objects.latest("created")
    gold = json.loads(Path(args.gold).read_text(encoding="utf-8"))
    chars = character_map(novel, gold)
    tally = {"windows": [0, 0, 0], "passages": [0, 0, 0]}  # asked, typed, typed right
    for rel in gold["relations"]:
        a, b = chars.get(rel["source"]), chars.get(rel["target"])
        edge = (
            a
            and b
            and a.pk != b.pk
            and Relation.objects.filter(novel=novel, pair_key=Relation.key_for(a.pk, b.pk)).first()
        )
        if not edge:
            continue
        windows = [prompts.Snippet(s["chapter"], s["text"]) for s in edge.snippets]
        size = sum(len(s.text) for s in windows)
        hits = search.search(novel, f"{a.name} 与 {b.name}", top=10).hits
        passages, used = [], 0
        for hit in sorted(hits, key=lambda h: h.chapter):
            if used >= size:
                break
            passages.append(prompts.Snippet(hit.chapter, hit.text))
            used += len(hit.text)
        wanted = taxonomy.CODE_BY_LABEL[rel["type"]]
        for kind, snippets in (("windows", windows), ("passages", passages)):
            question = prompts.Question(prompts.RELATION, a.names, b.names, snippets)
            got = replies.parse_reply(prompts.RELATION, offline.answer(question))["type"]
            row = tally[kind]
            row[0] += 1
            if got != taxonomy.DEFAULT_TYPE:
                row[1] += 1
                row[2] += got == wanted or (wanted, got) in EQUIVALENT
    print(f"《{gold['novel']}》 gold pairs present: {tally['windows'][0]}")
    for kind, (asked, typed, right) in tally.items():
        print(
            f"  {kind}: type accuracy {right}/{asked} = {right / max(1, asked):.2f}; "
            f"typed {typed}, typed precision {right / max(1, typed):.2f}"
        )


if __name__ == "__main__":
    main()
