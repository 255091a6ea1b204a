"""Titles and forms of address: generated, counted and resolved by who they refer back to.

`grouping.address_links` gives 林姑娘 to the only 林 with a given name. Where several people
share the surname (曹公: 曹操, 曹仁, 曹洪…), the rules here read the text instead:

* *generated forms*: surname + title (曹丞相, 周都督, 关某) and given name + kin term (琏儿,
  政老爷) are counted directly, so they join the names even when no speaker slot proposed them.
* *antecedents*: an address form names someone already on stage, so each use is credited to the
  nearest person before it who can carry that form (same surname, same given-name character).
  A form whose uses point at one person with a clear majority joins that person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence

from networkx.utils import UnionFind

from graph.names import ADDRESS_TITLES, FUNCTION_SURNAMES, KIN_TERMS, TITLES, split_surname, words

from .aliases import ordered_groups
from .dictionary import common_word
from .lexicon import NAME_SUFFIXES, RIGHT_CUES
from .scanning import build_automaton, is_cjk

# Surname + title forms worth counting for every surname of an accepted full name.
SURNAME_TITLES = ADDRESS_TITLES | words(
    "丞相 太师 太尉 司徒 司空 都督 将军 先生 皇叔 大爷 二爷 老爷 大哥 大人 公 郎 某"
)
# Wife forms (琏二奶奶 is 贾琏's wife, not 贾琏): never given to the person they are built on.
WIFE_TERMS = words("奶奶 二奶奶 大奶奶 三奶奶 嫂子 大嫂子 二嫂子")
# Given name (one character) + kin or household term: 琏儿, 环哥儿, 琏二哥, 政老爷.
GIVEN_TITLES = (KIN_TERMS | words("儿 哥儿 二哥 老爷 大爷 二爷 三爷")) - WIFE_TERMS
ORDINALS = frozenset("一二三四五六七八九十大小老")
MIN_BASE_FREQ = 10  # forms are generated only from names used at least this often

# Endings that mark a form of address, or a name, as a woman's or a man's.
_FEMALE_ENDS = tuple(
    sorted(
        words(
            "姑娘 妹妹 姐姐 丫头 奶奶 夫人 小姐 姐儿 大姐 妹子 嫂子 姨娘 太太 娘娘 氏 娘 母 女 妃 后 婆"
        )
    )
)
_MALE_ENDS = tuple(
    sorted(
        words(
            "爷 哥哥 兄弟 公子 相公 先生 叔 大哥 二哥 三哥 丞相 太师 都督 将军 皇叔 公 郎 某 父"
            " 编修 翰林 中书 知县 知府 太守 御史 员外 秀才 举人 进士 监生 老爹"
        )
    )
)


def gender(s: str) -> str:
    """ "f", "m" or "" from how a name or form of address ends (林姑娘 f, 琏二爷 m)."""
    if s.endswith(_FEMALE_ENDS):
        return "f"
    if s.endswith(_MALE_ENDS):
        return "m"
    return ""


def group_gender(members: Collection[str]) -> str:
    """The gender the members' endings agree on, "" when they say nothing or disagree."""
    found = {gender(m) for m in members} - {""}
    return found.pop() if len(found) == 1 else ""


def gender_clash(form: str, members: Collection[str]) -> bool:
    """Does the form of address mark the other sex than the person's own names do?"""
    g, h = gender(form), group_gender(members)
    return bool(g and h and g != h)


MIN_FORM_USES = 3
WINDOW = 300  # characters back to look for the person an address form refers to
MIN_VOTES = 5
MAJORITY = 0.75


_RANKS = frozenset("王侯公帝主")


def rank_title(name: str) -> bool:
    """A two- or three-character title ending in a rank (宁王, 先主, 吴侯)."""
    return 2 <= len(name) <= 3 and name[-1] in _RANKS


def full_name_parts(name: str) -> tuple[str, str] | None:
    """(surname, given) when `name` is a surname + a given name (not + a title)."""
    parts = split_surname(name)
    if not parts or parts[1] in TITLES or parts[1] in ADDRESS_TITLES:
        return None
    if len(parts[1]) == 1 and len(parts[0]) == 1 and parts[1] in NAME_SUFFIXES:
        return None  # 唐王, 贾母, 唐僧: a surname and a title or kin word
    return parts


# Characters that count or rank people (唐僧四众, 几个丫头, 韦四太爷, 大小将士): a head with one, or
# a title starting with a number, makes a group, a family or a rank, not a name + a title.
COUNTING = frozenset("一二三四五六七八九十两几众诸大小")


def titled_name_core(name: str) -> str | None:
    """The bare name of a two-character name + a title (非幻 of 非幻道人, 鹿力 of 鹿力大仙), when
    that head is neither a title, a dictionary word (增长天王, 亲家太太) nor a count or rank
    (黛玉二人, 几个丫头, 韦四太爷)."""
    core, title = name[:2], name[2:]
    if len(name) != 4 or title not in TITLES or core in TITLES or common_word(core):
        return None
    if any(ch in COUNTING for ch in core) or title[0] in COUNTING - {"大", "小"}:
        return None
    return core


def generated_forms(names: Collection[str], freq: Mapping[str, int]) -> dict[str, tuple[str, str]]:
    """Address forms built from the accepted full names: form -> ("surname"|"given", key)."""
    forms: dict[str, tuple[str, str]] = {}
    for name in names:
        parts = full_name_parts(name)
        if not parts or freq.get(name, 0) < MIN_BASE_FREQ or common_word(name):
            continue
        surname, given = parts
        if surname in FUNCTION_SURNAMES or (given[0] in ORDINALS and len(given) == 1):
            continue  # 向 + 东 (a direction), 鲍 + 二 (a rank, so 二姐儿 is not his)
        for t in SURNAME_TITLES:
            forms.setdefault(surname + t, ("surname", surname))  # 唐三藏 -> 唐长老
        if len(given) == 1:
            for t in GIVEN_TITLES:
                forms.setdefault(given + t, ("given", given))
    return {f: k for f, k in forms.items() if not common_word(f)}


# Titles that follow a bare name as part of a fuller form of it (如来佛祖, 玉皇大帝, 太宗皇帝).
NAME_TITLES = words(
    "佛祖 菩萨 大帝 皇帝 老君 大仙 真人 真君 天王 元帅 星君 长老 祖师 尊者 法师 禅师 太子 娘娘 公主"
)


def titled_forms(names: Collection[str], freq: Mapping[str, int]) -> list[str]:
    """Name + title strings (如来佛祖, 太宗皇帝) for bare two-character names: not a surname +
    given name, not a title themselves, used at least `MIN_BASE_FREQ` times. A dictionary word
    may be a name here (如来 is tagged a time word): the caller keeps only forms the text uses."""
    out = []
    for name in names:
        if len(name) != 2 or freq.get(name, 0) < MIN_BASE_FREQ or name in TITLES:
            continue
        if full_name_parts(name):
            continue
        forms = (name + t for t in NAME_TITLES if not name.endswith(t[:1]))
        out.extend(f for f in forms if not common_word(f))
    return out


def core_forms(names: Collection[str], freq: Mapping[str, int]) -> dict[str, str]:
    """Title forms on the core of a three-character name with a name suffix (镇元子 ->
    镇元大仙): form -> the name. The caller keeps the forms the text uses, and links them only
    when no other name contains the core."""
    out = {}
    for name in names:
        if len(name) != 3 or freq.get(name, 0) < MIN_BASE_FREQ or name[-1] not in NAME_SUFFIXES:
            continue
        core = name[:2]
        if full_name_parts(name) or common_word(core) or core in TITLES:
            continue
        for t in NAME_TITLES:
            if not common_word(core + t):
                out[core + t] = name
    return out


def _keys_of(members: Collection[str]) -> set[tuple[str, str]]:
    """("surname", S) and ("given", G) keys a person's full names can be addressed by."""
    keys = set()
    for m in members:
        parts = full_name_parts(m)
        if parts:
            keys.add(("surname", parts[0]))
            if len(parts[1]) == 1:
                keys.add(("given", parts[1]))
    return keys


def _single_refs(keys: Sequence[set[tuple[str, str]]]) -> dict[object, list[str]]:
    """One-character references (操曰, 卓大怒) for the given names only one person carries:
    the character + a speech or action cue, at the start of a clause."""
    holders: dict[str, set[int]] = {}
    for g, ks in enumerate(keys):
        for kind, key in ks:
            if kind == "given":
                holders.setdefault(key, set()).add(g)
    return {
        ("one", g): [c + cue for cue in RIGHT_CUES]
        for c, gs in holders.items()
        if len(gs) == 1
        for g in gs
    }


def antecedent_links(
    chapters: Sequence[tuple[int, str]],
    uf: UnionFind,
    forms: dict[str, tuple[str, str]],
    vetoed: Collection[tuple[str, str]] = (),
    apart: Callable[[str, list[str]], bool] | None = None,
) -> list[tuple[str, str]]:
    """Link each still unattached address form to the person its uses refer back to.

    `forms` maps an address form to the key it needs (("surname", "曹") for 曹公). Each use
    votes for the nearest earlier mention, within `WINDOW` characters, of a person carrying
    that key; a form joins a person given `MIN_VOTES` votes and a `MAJORITY` share.
    `vetoed` lists (form, member) pairs that must not be linked; `apart(form, members)` says
    the text names the form and that person as two actors (王凤姑 beside 王元帅): such a
    person's votes do not count, for the form cannot be theirs.
    """
    groups = ordered_groups(uf)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    keys = [_keys_of(g) for g in groups]
    pending = {f: k for f, k in forms.items() if f in group_of and not keys[group_of[f]] and k}
    if not pending:
        return []
    patterns: dict[object, list[str]] = {m: [m] for m in group_of}
    patterns.update(_single_refs(keys))
    automaton, pattern_keys = build_automaton(patterns)
    votes: dict[str, Counter] = {f: Counter() for f in pending}
    for _number, body in chapters:
        last: dict[tuple[str, str], tuple[int, int]] = {}
        for idx, start, _end in automaton.find_matches_as_indexes(body):
            name = pattern_keys[idx]
            if isinstance(name, tuple):  # 操曰: the person, named by one character
                if start == 0 or not is_cjk(body[start - 1]):
                    for k in keys[name[1]]:
                        last[k] = (start, name[1])
                continue
            if not isinstance(name, str):
                continue
            g = group_of[name]
            need = pending.get(name)
            if need is not None:
                seen = last.get(need)
                if seen is not None and start - seen[0] <= WINDOW:
                    votes[name][seen[1]] += 1
            for k in keys[g]:
                last[k] = (start, g)
    veto = set(vetoed)
    links = []
    for form, counter in votes.items():
        if apart is not None:
            counter = Counter({g: n for g, n in counter.items() if not apart(form, groups[g])})
        total = sum(counter.values())
        if not total:
            continue
        best, n = counter.most_common(1)[0]
        if n >= MIN_VOTES and n >= MAJORITY * total:
            target = groups[best][0]
            if (form, target) not in veto and not gender_clash(form, groups[best]):
                links.append((form, target))
    return links


def agreeing_in_gender(
    uf: UnionFind, links: Sequence[tuple[str, str]], counts: Mapping[str, int]
) -> list[tuple[str, str]]:
    """Drop the links whose form marks the sex that the person's other names and forms do not
    (林大爷 beside 林姑娘, 林妹妹, 林丫头): each side is weighed by its uses."""
    weight: dict[str, Counter] = {}
    for a, b in links:
        root = uf[b]
        g = gender(a)
        if g:
            weight.setdefault(root, Counter())[g] += counts.get(a, 0)
    for m in list(uf):
        g = gender(m)
        root = uf[m]
        if g and root in weight:
            weight[root][g] += counts.get(m, 0)
    kept = []
    for a, b in links:
        g, w = gender(a), weight.get(uf[b], Counter())
        other = "m" if g == "f" else "f"
        if not g or w[g] >= w[other]:
            kept.append((a, b))
    return kept
