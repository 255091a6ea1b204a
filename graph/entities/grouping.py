"""Alias grouping from usage: forms of address, naming phrases and shared given names.

`aliases.py` links names by their spelling alone (悟空 inside 孙悟空, 字玄德). The rules here
also look at how the names are used:

* *together*: how often two names stand in one clause as two separate actors (宝玉 and 宝钗,
  "X与Y", "X对Y道"). A person is rarely named twice in one clause, so a high rate vetoes a link.
* *chapters*: where in the book a name is used. A bare given name shared by two full names
  (宝玉: 贾宝玉, 甄宝玉) goes to the one whose chapter profile it matches, if the match is clear.
* *address forms*: surname + title (林姑娘, 孙行者, 关公, 刘皇叔), 老 + surname (老孙), and the
  first character of a given name + a kin term (宝二爷, 宝兄弟) go to the one person they can
  denote, when that person clearly dominates the others who could be meant.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import ahocorasick_rs
from networkx.utils import UnionFind

from graph.names import ADDRESS_TITLES, COMPOUND_SURNAMES, FUNCTION_SURNAMES, TITLES

from .aliases import containment_links, ordered_groups
from .bare_titles import bare_title_links, conferred_titles
from .dictionary import common_word, two_char_words
from .epithets import epithet_links, nickname_links
from .initials import initial_form_links, initial_forms, tail_form_links
from .scanning import build_automaton, count_all, is_cjk
from .self_naming import self_naming_links
from .titles import (
    GIVEN_TITLES,
    MIN_FORM_USES,
    ORDINALS,
    agreeing_in_gender,
    antecedent_links,
    core_forms,
    full_name_parts,
    gender_clash,
    generated_forms,
    titled_forms,
    titled_name_core,
)
from .variants import abbreviation_links

# Clause boundaries for the "together" count. Quotation marks and colons split a speaker from
# what they say, so "行者道：“老孙去也”" does not count 行者 and 老孙 as two actors.
_CLAUSE = re.compile(r"[。！？\n；：“”「」『』]")
# "江湖人称黑鸦", "江湖上都称他玄机子", "绰号豹子头", "道号玄机子": an alias introduced for the
# person named just before it in the same sentence.
_NAMING = re.compile(
    r"(?:江湖(?:上)?(?:的)?(?:人)?(?:都)?(?:人)?(?:称|叫|唤)(?:他|她)?(?:做|作|为)?|"
    r"(?<![令命使教差遣着叫])人(?:都)?(?:称|唤)(?!赞|呼|道|谢|是|奇|羡|醒|起|颂|快)(?:他|她)?(?:做|作|为)?|都称(?:他|她)(?:做|作|为)?|"
    r"绰号|外号|诨号|道号|法号)"
    r"(?:叫做|唤做|叫作|唤作)?[“「]?([\u4e00-\u9fff]{2,4}?)[”」]?(?=[，。！？、；]|$)",
    re.M,
)
_SENTENCE_START = re.compile(r"[。！？\n“：]")
# Words between two names that make the second a name of the first (御弟，号曰三藏; 唐王御弟
# 唐三藏 is adjacent already): such a pair is one person named twice, not two actors.
_APPOSITION = re.compile(
    r"[，,]?(?:号曰|号作|号为|叫做|唤做|叫作|唤作|名唤|名叫|法名|乃是|便是|就是)"
)

TOGETHER_VETO = 0.05  # clause co-occurrence rate above which two names are two people
# An address form's votes go to the people it refers back to; a person named beside it as
# another actor even this often (杨小舫 beside 杨元帅 in 4 of 144 clauses) is not one of them.
ANTECEDENT_VETO = 0.02
MIN_TOGETHER = 2  # clause co-occurrences below which the rate is taken as 0
DOMINANCE = 3.0  # the chosen person must have this many times the mentions of the others
# A bare given name shared by several full names (宝玉: 贾宝玉, 甄宝玉) goes to the one it is not
# named beside: a clause co-occurrence rate of SEPARATE_ACTORS marks two clearly different
# people. Failing that, to the one whose chapter profile is CHAPTER_MARGIN times as similar to
# the bare name's as the second best's.
SEPARATE_ACTORS = 0.2
CHAPTER_MARGIN = 1.5
MIN_GIVEN_ALONE = 2  # uses of a given name outside its full name before it joins the names
MIN_FULL_USES = 2  # uses of a surname + a given name before the full form joins the names
MIN_NAMED_ALIAS_USES = 2  # uses of an alias from "江湖人称Y" that is not a candidate yet


@dataclass
class Usage:
    """Per-name counts, chapter profiles and clause co-occurrence (longest-match scan)."""

    counts: Counter = field(default_factory=Counter)
    chapters: dict[str, Counter] = field(default_factory=dict)
    together: Counter = field(default_factory=Counter)  # (a, b) with a < b

    def pair(self, a: str, b: str) -> int:
        return self.together[(a, b) if a < b else (b, a)]

    def together_rate(self, xs: Collection[str], ys: Collection[str]) -> float:
        """Clause co-occurrences of two name sets over the rarer set's mentions."""
        hits = sum(self.pair(x, y) for x in xs for y in ys if x != y)
        if hits < MIN_TOGETHER:  # one slip of the narration (唐长老 beside 三藏 once) is no veto
            return 0.0
        base = min(sum(self.counts[x] for x in xs), sum(self.counts[y] for y in ys))
        return hits / base if base else 0.0

    def profile(self, members: Collection[str]) -> Counter:
        out: Counter = Counter()
        for m in members:
            out.update(self.chapters.get(m, {}))
        return out


def measure_usage(chapters: Sequence[tuple[int, str]], names: Collection[str]) -> Usage:
    usage = Usage()
    if not names:
        return usage
    automaton, keys = build_automaton({s: [s] for s in names})
    counts, together = usage.counts, usage.together
    for number, body in chapters:
        ends = [m.end() for m in _CLAUSE.finditer(body)]
        clause, items = -1, []
        per_chapter: Counter = Counter()
        for idx, start, end in automaton.find_matches_as_indexes(body):
            key = keys[idx]
            per_chapter[key] += 1
            c = bisect_right(ends, start)
            if c != clause:
                clause, items = c, []
            for other, other_end in items:
                if other == key or other_end == start:  # adjacent = apposition (唐僧三藏)
                    continue
                if start - other_end <= 4 and _APPOSITION.fullmatch(body, other_end, start):
                    continue
                together[(other, key) if other < key else (key, other)] += 1
            items.append((key, end))
        counts.update(per_chapter)
        for key, n in per_chapter.items():
            usage.chapters.setdefault(key, Counter())[number] = n
    return usage


def cosine(a: Mapping[int, int], b: Mapping[int, int]) -> float:
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def naming_links(text: str, known: Collection[str]) -> list[tuple[str, str]]:
    """(person, alias) from "X，江湖人称Y": the person is the known name nearest before."""
    links = []
    longest = sorted(known, key=len, reverse=True)
    for m in _NAMING.finditer(text):
        alias = m.group(1)
        starts = [
            s.end() for s in _SENTENCE_START.finditer(text, max(0, m.start() - 80), m.start())
        ]
        head = text[starts[-1] if starts else max(0, m.start() - 80) : m.start()]
        best, best_pos = None, -1
        for name in longest:
            pos = head.rfind(name)
            if pos > best_pos and name != alias:
                best, best_pos = name, pos
        if best is not None:
            links.append((best, alias))
    return links


def shared_name_choice(short: str, owners: list[list[str]], usage: Usage) -> int | None:
    """Index of the owner the bare name clearly means, else None.

    A full name that often stands in one clause with the bare name as a second actor (甄宝玉
    beside 宝玉) is someone else; if one owner is left it is chosen, otherwise the one whose
    chapter profile the bare name clearly matches best.
    """
    apart = [usage.together_rate([short], o) >= SEPARATE_ACTORS for o in owners]
    if sum(apart) == len(owners) - 1:
        return apart.index(False)
    target = usage.chapters.get(short, Counter())
    sims = [cosine(target, usage.profile(o)) for o in owners]
    order = sorted(range(len(owners)), key=lambda i: -sims[i])
    if len(order) < 2 or sims[order[0]] >= CHAPTER_MARGIN * sims[order[1]]:
        return order[0]
    return None


def _address_targets(name: str) -> list[tuple[str, str]]:
    """How an address form could point at a person: ("surname", S) or ("given", first char)."""
    out = []
    if len(name) == 2 and name[0] == "老":
        out.append(("surname", name[1]))  # 老孙, 老猪: self-reference by surname
    for prefix in PREFIX_TITLES:  # 密斯何: Miss + surname
        if name.startswith(prefix) and len(name) == len(prefix) + 1:
            out.append(("surname", name[-1]))
    for k in (1, 2):
        head, rest = name[:k], name[k:]
        if rest in ADDRESS_TITLES:
            out.append(("surname", head))
        if k == 1 and rest in GIVEN_TITLES and head not in ORDINALS:  # 四丫头 is a rank
            out.append(("given", head))
    return out


FORM_OVERUSE = 2.0
# Titles written before a surname in modern prose (密斯何 "Miss He", 密司脱王 "Mr Wang").
PREFIX_TITLES = ("密斯脱", "密司脱", "密斯", "密司")


def address_links(uf: UnionFind, usage: Usage, skip: Collection[str] = ()) -> list[tuple[str, str]]:
    """Link address forms (林姑娘, 孙行者, 老孙, 宝二爷) to the one person they can mean;
    forms in `skip` are left to the vote-based rules."""
    groups = ordered_groups(uf)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    mentions = [sum(usage.counts[m] for m in g) for g in groups]
    by_surname: dict[str, set[int]] = {}
    by_given: dict[str, set[int]] = {}
    for i, g in enumerate(groups):
        for m in g:
            parts = full_name_parts(m)
            if parts:
                by_surname.setdefault(parts[0], set()).add(i)
                by_given.setdefault(parts[1][0], set()).add(i)
            elif len(m) == 2 and m not in TITLES and not _address_targets(m):
                by_given.setdefault(m[0], set()).add(i)  # a bare given name (宝玉)
    links = []
    for name in list(group_of):
        own = group_of[name]
        if name in skip or any(full_name_parts(m) for m in groups[own]):
            continue  # already under a full name
        for kind, key in _address_targets(name):
            owners = (by_surname if kind == "surname" else by_given).get(key, set()) - {own}
            # People named together with this form in one clause are someone else, and so
            # are people of the other sex.
            kept = {
                o
                for o in owners
                if usage.together_rate(groups[own], groups[o]) <= TOGETHER_VETO
                and not gender_clash(name, groups[o])
            }
            if not kept:
                continue
            best = max(kept, key=lambda o: mentions[o])
            rest = sum(mentions[o] for o in kept if o != best)
            # A form used far more than the one person it could mean names someone the list
            # lacks (刘将军 289 times beside the servant 刘福, 53).
            if mentions[own] > FORM_OVERUSE * mentions[best]:
                continue
            if mentions[best] >= DOMINANCE * rest:
                links.append((name, groups[best][0]))
                break
    return links


def _add_named_aliases(
    full: str,
    names: set[str],
    links: list[tuple[str, str]],
    extra_ok: Callable[[str], bool],
) -> None:
    """Aliases introduced by "X，江湖人称Y" join the names, linked to the person before them."""
    for person, alias in naming_links(full, names):
        if alias in names or (full.count(alias) >= MIN_NAMED_ALIAS_USES and extra_ok(alias)):
            names.add(alias)
            links.append((person, alias))


def _add_given_names(
    chapters: Sequence[tuple[int, str]], names: set[str], extra_ok: Callable[[str], bool]
) -> None:
    """A full name's given name used on its own (青锋 for 沈青锋), or a titled name's bare name
    (非幻 for 非幻道人), even when too rare to pass the statistics: its uses outside the full
    name must be at least `MIN_GIVEN_ALONE`, and a bare name must stand alone there."""
    pending = {}
    titled = set()
    for name in names:
        parts = full_name_parts(name)
        given = parts[1] if parts else titled_name_core(name)
        if given and len(given) == 2 and given not in names:
            pending[name] = given
            if not parts:
                titled.add(name)
    found = count_all(chapters, [*pending, *pending.values()])
    for name, given in pending.items():
        if (
            found[given] - found[name] >= MIN_GIVEN_ALONE
            and extra_ok(given)
            and (name not in titled or _stands_alone(chapters, name, given))
        ):
            names.add(given)


def full_forms(chapters: Sequence[tuple[int, str]], names: Collection[str]) -> dict[str, str]:
    """Given names' full forms (关秀姑 for 秀姑, 陈玄奘 for 玄奘), even when too rare to pass the
    statistics: full form -> given name.

    A full form is a surname that heads another accepted full name, written before a
    two-character name that has no full form yet and is not a dictionary word (盐商, 舅爷), a
    rank (老六) or a count (二公). It needs `MIN_FULL_USES` uses where the character before the
    surname does not make a word with it (东吴 + 孙权, 太白 + 金星, 诸葛 + 孔明), one of them
    standing clear (after punctuation or 这/那: "，曹子孝", "这刘伯钦"), and it may hold no other
    accepted name (曹操 + 相 is no full form of 操相)."""
    parsed = {n: p for n in names if (p := full_name_parts(n))}
    surnames = {surname for surname, _ in parsed.values() if len(surname) == 1} - FUNCTION_SURNAMES
    covered = {given for _, given in parsed.values()}
    # A given name may start with a character that can be a surname (凤喜: 凤), unless that
    # surname heads another accepted full name (the count holds the name itself when it parses
    # as surname + given name).
    heads = Counter(surname for surname, _ in parsed.values())
    givens = [
        n for n in names if n not in covered and _bare_given(n) and heads[n[0]] == (n in parsed)
    ]
    if not givens or not surnames:
        return {}
    words = two_char_words() | COMPOUND_SURNAMES
    automaton = ahocorasick_rs.AhoCorasick(givens)
    uses: Counter = Counter()
    clear: set[str] = set()
    for _number, body in chapters:
        for index, start, _end in automaton.find_matches_as_indexes(body, overlapping=True):
            if start and body[start - 1] in surnames and body[start - 2 : start] not in words:
                full = body[start - 1] + givens[index]
                uses[full] += 1
                if start < 2 or body[start - 2] in "这那" or not is_cjk(body[start - 2]):
                    clear.add(full)
    return {
        full: full[1:]
        for full, n in uses.items()
        if n >= MIN_FULL_USES and full in clear and full not in names and full[:2] not in names
    }


def _bare_given(name: str) -> bool:
    """Could `name` be a given name used without its surname: two characters, no compound
    surname, title, dictionary word, rank or count."""
    return (
        len(name) == 2
        and name not in COMPOUND_SURNAMES
        and name not in TITLES
        and name not in ADDRESS_TITLES
        and not common_word(name)
        and name[0] not in "老小阿"
        and not any(c in "一二三四五六七八九十两百千" for c in name)
    )


# Share of a titled name's core uses (outside the name) that one following character may take:
# 朱紫 of 朱紫国王 is nearly always 朱紫国, a place, and not a name on its own.
CORE_BOUND_SHARE = 0.6


def _stands_alone(chapters: Sequence[tuple[int, str]], name: str, core: str) -> bool:
    """Is the core of a titled name (非幻 of 非幻道人) a word of its own outside the name, rather
    than the start of another word (朱紫 of 朱紫国)?"""
    pattern = re.compile(re.escape(core) + "(?!" + re.escape(name[len(core) :]) + ")(.?)")
    after = Counter(m.group(1) for _n, body in chapters for m in pattern.finditer(body))
    total = sum(after.values())
    return bool(total) and max(after.values()) <= CORE_BOUND_SHARE * total


def _add_core_forms(
    chapters: Sequence[tuple[int, str]],
    names: set[str],
    freq: Mapping[str, int],
    links: list[tuple[str, str]],
) -> None:
    """Title forms on a name's core (镇元子 -> 镇元大仙), when no other name holds the core."""
    cores = core_forms(names, freq)
    found = count_all(chapters, [f for f in cores if f not in names])
    for form, name in cores.items():
        core = form[:2]
        if (form in names or found[form] >= MIN_FORM_USES) and not any(
            core in m for m in names if m not in (form, name)
        ):
            names.add(form)
            links.append((name, form))


def _add_address_forms(
    chapters: Sequence[tuple[int, str]],
    names: set[str],
    freq: Mapping[str, int],
    links: list[tuple[str, str]],
) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Add the forms built on accepted names that the text uses `MIN_FORM_USES` times.

    Returns the surname + title and given name + kin forms (曹丞相, 琏儿) with the key each
    needs, and the kin forms on a given name's first character (宝姐姐), which are kept only if
    they find their person."""
    forms = generated_forms(names, freq)
    found = count_all(chapters, [f for f in forms if f not in names])
    names.update(f for f, n in found.items() if n >= MIN_FORM_USES)
    found = count_all(chapters, [f for f in initial_forms(names, freq) if f not in names])
    tentative = {f for f, n in found.items() if n >= MIN_FORM_USES}
    names.update(tentative)
    # Bare names with a title added (如来佛祖, 玉皇大帝): the containment rule links them.
    found = count_all(chapters, [f for f in titled_forms(names, freq) if f not in names])
    names.update(f for f, n in found.items() if n >= MIN_FORM_USES)
    _add_core_forms(chapters, names, freq, links)
    return forms, tentative


def _join_contained(
    chapters: Sequence[tuple[int, str]],
    uf: UnionFind,
    names: set[str],
    freq: Mapping[str, int],
    usage: Usage,
) -> None:
    """Join short names to the longer names containing them (see `containment_links`)."""
    found = count_all(chapters, [s for s in names if not freq.get(s)])
    counts = {s: freq.get(s) or found[s] for s in names}

    def by_chapters(short: str, owners: list[list[str]]) -> int | None:
        return shared_name_choice(short, owners, usage)

    for a, b in containment_links(counts, tie_break=by_chapters):
        uf.union(a, b)


def _two_actors(usage: Usage) -> Callable[[str, list[str]], bool]:
    """Does the text name a form and a person in one clause as two actors (王凤姑 beside 王元帅)?"""

    def two_actors(form: str, group: list[str]) -> bool:
        return usage.together_rate([form], group) > ANTECEDENT_VETO

    return two_actors


def _usage_links(
    chapters: Sequence[tuple[int, str]],
    uf: UnionFind,
    usage: Usage,
    forms: dict[str, tuple[str, str]],
    tentative: Collection[str],
) -> list[tuple[str, str]]:
    """Links of the address, antecedent, kin-form and self-naming rules, each vetoed when the
    two sides stand in one clause as two actors; a form keeps the first rule's link."""
    links = address_links(uf, usage, tentative)
    members = {m: g for g in ordered_groups(uf) for m in g}

    def apart(xs: Collection[str], b: str) -> bool:
        return usage.together_rate(xs, members[b]) <= TOGETHER_VETO

    two_actors = _two_actors(usage)
    # The antecedent rule applies the veto itself, before it counts the votes.
    linked = {a for a, _ in links}
    links.extend(
        (a, b)
        for a, b in antecedent_links(chapters, uf, forms, apart=two_actors)
        if a not in linked
    )
    linked = {a for a, _ in links}
    links.extend(
        (a, b) for a, b in initial_form_links(chapters, uf) if a not in linked and apart([a], b)
    )
    links.extend((a, b) for a, b in tail_form_links(uf) if apart(members[a], b))
    links.extend((a, b) for a, b in self_naming_links(chapters, uf) if apart(members[a], b))
    return links


def build_groups(
    chapters: Sequence[tuple[int, str]],
    full: str,
    names: set[str],
    freq: Mapping[str, int],
    stated: Sequence[tuple[str, str]],
    extra_ok: Callable[[str], bool],
) -> tuple[list[list[str]], Usage, set[str]]:
    """Group accepted names into people; also return the names never shown as the name: the
    bare titles given to a holder (宁王) and the full forms found for given names (关秀姑).

    `stated` are links the narrator spelled out (courtesy names); `freq` the overlapping
    frequency of each name; `extra_ok` vets strings that are not candidates yet (a given name
    used alone, an alias from "江湖人称…") before they join.
    """
    names = set(names)
    links = list(stated)
    _add_named_aliases(full, names, links, extra_ok)
    _add_given_names(chapters, names, extra_ok)
    # Found after the names, joined after the rules that read who carries which surname: a
    # full form the text writes a few times names the person, it does not make a scene's 薛大爷
    # someone else's than 薛蟠's.
    spelled = full_forms(chapters, names)
    forms, tentative = _add_address_forms(chapters, names, freq, links)
    links.extend(abbreviation_links(names))
    usage = measure_usage(chapters, names)
    # A title conferred on someone (尊操为魏公) is left to the bare-title rule, which weighs the
    # conferral, rather than given to whoever else bears that surname (魏延).
    conferred = conferred_titles(full, names)
    titles = {t for t, _ in conferred}
    uf = UnionFind(names)
    for a, b in links:
        uf.union(a, b)
    _join_contained(chapters, uf, names, freq, usage)
    for a, b in agreeing_in_gender(
        uf, _usage_links(chapters, uf, usage, forms, tentative | titles), usage.counts
    ):
        uf.union(a, b)
    for full_form, given in spelled.items():
        uf.union(given, full_form)
    # The full forms give their surname to the given name (沈凤喜 to 凤喜): the address forms
    # still unattached (沈小姐) are read again, and may go only to a person whose new surname
    # they carry (唐老爷 is not 唐僧's for his 陈玄奘).
    if spelled:
        gained = {(uf[given], ("surname", full[0])) for full, given in spelled.items()}
        lent = {key for _, key in gained}
        unread = {f: key for f, key in forms.items() if key in lent}
        again = antecedent_links(chapters, uf, unread, apart=_two_actors(usage))
        again = [(a, b) for a, b in again if (uf[b], forms[a]) in gained]
        for a, b in agreeing_in_gender(uf, again, usage.counts):
            uf.union(a, b)
    titles_held = set()
    for title, holder in bare_title_links(chapters, uf, conferred=conferred):
        uf.union(holder, title)  # adds the title if it is not a name yet
        titles_held.add(title)
    for form, name in epithet_links(chapters, uf):
        uf.union(name, form)
    for nickname, name in nickname_links(chapters, uf):
        uf.union(name, nickname)
    groups = [g for g in ordered_groups(uf) if len(g) > 1 or g[0] not in tentative]
    return groups, usage, titles_held | spelled.keys()
