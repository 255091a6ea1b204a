"""Kin forms built on the first character of a two-character given name (宝二爷, 宝姐姐).

Several people may share that character (宝玉, 宝钗, 宝琴), so such a form is credited, use by
use, to the nearest earlier person who carries the character, skipping the speaker of the
quotation the form stands in (people do not call themselves 宝姐姐). A carrier who speaks the
form `SPEAKER_VETO` times, and often compared with how often it is the nearest name before the
form, is never its referent. Forms are linked greedily, clearest majority
first, and each link fixes the carrier's sex: once 宝二爷 and 宝叔 are 宝玉's, the female forms
(宝姐姐, 宝姑娘) are re-counted among the carriers not known to be male.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from networkx.utils import UnionFind

from graph.names import TITLES

from .aliases import ordered_groups
from .dictionary import common_word
from .scanning import build_automaton
from .titles import (
    GIVEN_TITLES,
    MIN_BASE_FREQ,
    ORDINALS,
    full_name_parts,
    gender,
    group_gender,
    rank_title,
)

WINDOW = 300
SPEAKER_GAP = 10  # characters between a speaker's name and the opening quotation mark
SPEAKER_VETO = 3
SPEAKER_SHARE = 0.25  # of the uses that the carrier is the nearest name before
MIN_VOTES = 5
_TO = frozenset("向对嘱问和与同叫望劝给")  # before the person spoken to, not the speaker
MAJORITY = 0.75


def _initial(group: Sequence[str]) -> str:
    """The first character of the person's two-character given name, or ""."""
    for m in group:
        parts = full_name_parts(m)
        if parts and len(parts[1]) == 2:
            return parts[1][0]
    for m in group:
        if len(m) == 2 and m not in TITLES and m[1:] not in GIVEN_TITLES and not full_name_parts(m):
            return m[0]
    return ""


def initial_forms(names: Collection[str], freq: Mapping[str, int]) -> list[str]:
    """Kin forms on the initials of the accepted names (宝 of 宝钗 -> 宝姐姐, 宝丫头), for the
    caller to count: like `titles.generated_forms`, they join the names before any speaker slot
    proposes them. Only forms that mark a sex are made, since only those can be resolved."""
    initials = set()
    for name in names:
        if freq.get(name, 0) >= MIN_BASE_FREQ:
            c = _initial([name])
            if c and c not in ORDINALS:
                initials.add(c)
    forms = (c + t for c in initials for t in GIVEN_TITLES)
    return [f for f in forms if gender(f) and not common_word(f)]


def _pending_forms(
    groups: Sequence[list[str]], initials: Sequence[str]
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """(carriers of each initial, form -> its own group) for the groups that are only kin forms
    on a carried initial (宝姐姐 standing alone)."""
    carriers: dict[str, list[int]] = {}
    for i, c in enumerate(initials):
        if c:
            carriers.setdefault(c, []).append(i)
    forms: dict[str, int] = {}
    for i, g in enumerate(groups):
        if initials[i] or any(full_name_parts(m) for m in g):
            continue
        for m in g:
            if m[0] in carriers and m[0] not in ORDINALS and m[1:] in GIVEN_TITLES and gender(m):
                forms[m] = i
    return carriers, forms


def _quote_speaker(body: str, start: int, history: Sequence[tuple[int, int, int]]) -> int:
    """The group named just before the quotation the use at `start` stands in, or -1."""
    quote = body.rfind("“", 0, start)
    if quote <= body.rfind("”", 0, start):
        return -1  # not inside a quotation
    for s, e, g in reversed(history):
        addressee = s > 0 and body[s - 1] in _TO  # 嘱宝玉道：“宝叔…”
        if s < quote and quote - e <= SPEAKER_GAP and not addressee:
            return g
        if s < quote - SPEAKER_GAP:
            break
    return -1


def _form_uses(
    chapters: Sequence[tuple[int, str]],
    groups: Sequence[list[str]],
    initials: Sequence[str],
    carriers: dict[str, list[int]],
    forms: Collection[str],
) -> tuple[dict[str, list[list[int]]], dict[str, Counter]]:
    """Per form: for each use the carriers before it within `WINDOW`, nearest first and the
    speaker left out; and how often each carrier speaks the form."""
    names: dict[object, list[str]] = {}
    for c in {f[0] for f in forms}:
        for i in carriers[c]:
            names[i] = list(groups[i])
    names.update({("form", f): [f] for f in forms})
    automaton, keys = build_automaton(names)
    uses: dict[str, list[list[int]]] = {f: [] for f in forms}
    spoke: dict[str, Counter] = {f: Counter() for f in forms}
    for _number, body in chapters:
        history: list[tuple[int, int, int]] = []  # (start, end, group)
        for idx, start, end in automaton.find_matches_as_indexes(body):
            key = keys[idx]
            if isinstance(key, int):
                history.append((start, end, key))
                continue
            if not isinstance(key, tuple):
                continue
            form = key[1]
            speaker = _quote_speaker(body, start, history)
            if speaker >= 0:
                spoke[form][speaker] += 1
            near: list[int] = []
            for s, _e, g in reversed(history):
                if start - s > WINDOW:
                    break
                if g != speaker and g not in near and initials[g] == form[0]:
                    near.append(g)
            uses[form].append(near)
    return uses, spoke


def _clear_carrier(
    form: str, uses: list[list[int]], spoke: Counter, sex: Mapping[int, str]
) -> tuple[float, int] | None:
    """(share, group) of the carrier that the form's uses clearly refer to: the nearest one of
    a fitting sex that does not speak the form itself."""
    first = Counter(near[0] for near in uses if near)
    vetoed = {g for g, n in spoke.items() if n >= SPEAKER_VETO and n >= SPEAKER_SHARE * first[g]}
    votes: Counter = Counter()
    for near in uses:
        for g in near:
            if g not in vetoed and sex[g] in ("", gender(form)):
                votes[g] += 1
                break
    total = sum(votes.values())
    if not total:
        return None
    g, n = votes.most_common(1)[0]
    share = n / total
    return (share, g) if n >= MIN_VOTES and share >= MAJORITY else None


def initial_form_links(chapters: Sequence[tuple[int, str]], uf: UnionFind) -> list[tuple[str, str]]:
    """(form, member of its person) for kin forms on a given name's first character, linked
    greedily, clearest majority first; each link fixes the carrier's sex for the next round."""
    groups = ordered_groups(uf)
    initials = [_initial(g) for g in groups]
    carriers, forms = _pending_forms(groups, initials)
    if not forms:
        return []
    uses, spoke = _form_uses(chapters, groups, initials, carriers, forms)
    sex = {i: group_gender(g) for i, g in enumerate(groups)}
    links = []
    pending = set(forms)
    while pending:
        best: tuple[float, str, int] | None = None
        for f in sorted(pending):
            found = _clear_carrier(f, uses[f], spoke[f], sex)
            if found is not None and (best is None or found[0] > best[0]):
                best = (found[0], f, found[1])
        if best is None:
            break
        _share, f, g = best
        pending.discard(f)
        links.append((f, groups[g][0]))
        sex[g] = sex[g] or gender(f)
    return links


_TAIL_KIN = GIVEN_TITLES | {"姐", "哥"}  # 凤姐, 凤丫头, 凤哥儿


def tail_form_links(uf: UnionFind) -> list[tuple[str, str]]:
    """Join a person known only by kin forms on one character (凤姐, 凤丫头, 凤哥儿) to the one
    full name whose two-character given name ends in it (王熙凤), when no other name of the
    novel uses that character in a given or bare name."""
    groups = ordered_groups(uf)
    users: dict[str, set[int]] = {}
    holders: dict[str, int] = {}
    for i, g in enumerate(groups):
        for m in g:
            parts = full_name_parts(m)
            if parts:
                for c in parts[1]:
                    users.setdefault(c, set()).add(i)
                if len(parts[1]) == 2 and not rank_title(m):  # 安化王 holds no 王老爷
                    holders[parts[1][1]] = i
            elif len(m) == 2 and m not in TITLES and m[1:] not in _TAIL_KIN:
                users.setdefault(m[0], set()).add(i)  # a bare name is shortened from the front
    links = []
    for i, g in enumerate(groups):
        if any(full_name_parts(m) for m in g):
            continue
        forms = [m for m in g if m[1:] in _TAIL_KIN and m[1:] != "儿" and m[0] not in ORDINALS]
        heads = {m[0] for m in forms}
        if len(heads) != 1 or not group_gender(forms):  # 兴儿 alone is a servant's name
            continue
        c = heads.pop()
        owner = holders.get(c)
        if owner is None or users.get(c, set()) - {i} != {owner}:
            continue
        if group_gender(forms) and group_gender(groups[owner]) not in ("", group_gender(forms)):
            continue
        links.append((forms[0], groups[owner][0]))
    return links
