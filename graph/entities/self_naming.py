"""Self-introductions: a speaker who names himself ("弟子陈玄奘", "我原有个法名，叫做孙悟空").

A person introduced by a title or epithet (猴王, 玄奘 before he is called 三藏) tells who he is
in his own words. Each such statement is a vote: the speaker (the name just before 道：“) is
the person named in the quote. A speaker joins the person his statements name when at least
`MIN_VOTES` of them agree and they are a `MAJORITY` of all his self-introductions (a disguise,
"我是牛魔王", stays a minority among the speaker's own names).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from networkx.utils import UnionFind

from graph.names import SURNAMES

from .aliases import ordered_groups
from .scanning import build_automaton
from .titles import full_name_parts

MIN_VOTES = 2
MAJORITY = 0.75
_SPEAKER_GAP = 6  # characters between the speaker's name and 道：“ (合掌道, 笑道)
_QUOTE_SPAN = 80

_SPEECH = re.compile(r"(?:道|曰|说)：“")
_FIRST_PERSON = r"(?:弟子|贫僧|小僧|贫道|小道|在下|小人|老身|老汉|小可|末将|奴家|妾身|我|俺|吾)"
# The words right before a name that make it the speaker's own: "弟子陈玄奘" (a surname before the
# name it is known by), "我乃曹操",
# "贫僧俗家姓陈，法名玄奘", "我原有个法名，叫做孙悟空".
_SELF_BEFORE = re.compile(
    _FIRST_PERSON
    + r"(?:(?:本|原|就|便|乃)?(?:是|乃)?["
    + "".join(sorted(SURNAMES))
    + "]?"
    + r"|[^，。！？他她你徒儿女子父母兄弟妹师将把与给替为]{0,6}[，,]?(?:法名|叫做|唤做|名唤|名叫|道号|号曰))$"
)
# "我非别人，即江湖上所称一枝梅是也": a disclosure, as good as `MIN_VOTES` self-introductions.
_DISCLOSURE = re.compile(
    _FIRST_PERSON
    + r"(?:非别人|不是别人)[，,](?:即|就|便|乃|正)?(?:是)?(?:江湖上?(?:人)?(?:所|都)?称(?:为|的)?)?$"
)
_DISCLOSED_AFTER = ("是也", "便是", "就是")
_SELF_SURNAME = re.compile(_FIRST_PERSON + r"(?:今|本|原)?姓([\u4e00-\u9fff])[。，！,]")
_AFTER = frozenset("，。！？；”,")
_NO_SPEAKER_GAP = re.compile(r"[，。！？；：“”\n]")


def self_naming_links(chapters: Sequence[tuple[int, str]], uf: UnionFind) -> list[tuple[str, str]]:
    """(speaker, member of the person he names as himself), by majority of his statements."""
    groups = ordered_groups(uf)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    by_surname: dict[str, set[int]] = {}
    for i, g in enumerate(groups):
        for m in g:
            parts = full_name_parts(m)
            if parts:
                by_surname.setdefault(parts[0], set()).add(i)
    automaton, keys = build_automaton({m: [m] for m in group_of})
    votes: dict[str, Counter] = {}
    for _number, body in chapters:
        matches = [(keys[i], s, e) for i, s, e in automaton.find_matches_as_indexes(body)]
        starts = [s for _k, s, _e in matches]
        j = 0
        for sp in _SPEECH.finditer(body):
            while j < len(matches) and matches[j][2] <= sp.start():
                j += 1
            if not j:
                continue
            speaker, _s, end = matches[j - 1]
            gap = body[end : sp.start()]
            if len(gap) > _SPEAKER_GAP or _NO_SPEAKER_GAP.search(gap):
                continue
            close = body.find("”", sp.end(), sp.end() + _QUOTE_SPAN)
            quote_end = close if close >= 0 else sp.end() + _QUOTE_SPAN
            named: list[int] = []
            k = j
            while k < len(matches) and starts[k] < quote_end:
                name, s, e = matches[k]
                k += 1
                if s < sp.end():
                    continue
                if body[e : e + 2] in _DISCLOSED_AFTER and _DISCLOSURE.search(
                    body, max(sp.end(), s - 20), s
                ):
                    named.extend([group_of[name]] * MIN_VOTES)
                elif body[e : e + 1] in _AFTER and _SELF_BEFORE.search(
                    body, max(sp.end(), s - 14), s
                ):
                    named.append(group_of[name])
            quote = body[sp.end() : quote_end]
            for m in _SELF_SURNAME.finditer(quote):
                owners = by_surname.get(m.group(1), set())
                if len(owners) == 1:
                    named.extend(owners)
            for g in named:
                votes.setdefault(speaker, Counter())[g] += 1
    links = []
    for speaker, counter in votes.items():
        g, n = counter.most_common(1)[0]
        if g != group_of[speaker] and n >= MIN_VOTES and n >= MAJORITY * sum(counter.values()):
            links.append((speaker, groups[g][0]))
    return links
