"""Character discovery: candidate names -> person filter -> alias groups -> ranked characters."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from graph.names import (
    ADDRESS_TITLES,
    COMPOUND_SURNAMES,
    FUNCTION_SURNAMES,
    KIN_ADDRESS,
    KIN_TERMS,
    SURNAMES,
    TITLES,
    split_surname,
)

from .aliases import courtesy_links
from .candidates import (
    CandidateStats,
    candidate_pool,
    collect_slot_candidates,
    doubtful_ok,
    gather_stats,
    identifications,
    plausible_shape,
    possible_shape,
    stated_names,
)
from .dictionary import _function_words, common_word, frequency, two_char_words, verb_phrase
from .dictionary import tag as dictionary_tag
from .enumerations import listed_names
from .grouping import build_groups
from .junk import phrase_like, used_as_person
from .lexicon import BAD_START, BROAD_RIGHT_CUES, COMMON, LEFT_CUES, NAME_SUFFIXES, RIGHT_CUES
from .scanning import MentionIndex, build_automaton, count_all, scan_mentions
from .titles import titled_name_core
from .variants import infix_variants

# Last characters of a place name (荆州, 花果山, 潼关): a two-character head ending in one is a
# place before a name (荆州刘表), not an epithet of it.
_PLACE_END = frozenset("州郡县国城山江河关府营寨")
# Last characters of a place a naming statement may introduce (叫做陈家庄, 唤做水帘洞).
STATED_PLACE_END = _PLACE_END | frozenset("庄村洞寺庙观岭峰桥")
FAMILY_PLACE_END = STATED_PLACE_END | frozenset("店堡屯集楼")
_TWO_CHAR_TITLES = frozenset(t for t in TITLES | ADDRESS_TITLES | KIN_TERMS if len(t) == 2)
# Characters that stick to a name from the sentence around it: the verbs and prepositions of
# the speaker and object slots (向莺儿, 见行者), the conjunctions 连/及/并, and the characters
# that never begin a name. One at the start of a string, or in what stands before an accepted
# name, marks a phrase rather than a name.
_GLUE = frozenset(LEFT_CUES + RIGHT_CUES + BROAD_RIGHT_CUES + "连及并") | BAD_START


MIN_SLOTS = 2
STATED_MODIFIED = 0.4
STATED_EVIDENCE = 0.15
HEAD_WORD_FREQ = 100
PLURAL_AFTER = "皆俱各齐尽"
GROUP_PREFIXES = "众诸"
PLURAL_SHARE = 0.12
CROSSED_SHARE = 0.25
# A string whose last character starts a title in most of its uses (四大天 + 王, 三个老 + 妖,
# 王太 + 守, 李公 + 子) is cut out of "name + title", not a name.
TITLE_CUT_SHARE = 0.6
MIN_STATED_USES = 2  # uses of a stated courtesy name, the statement among them, before it joins
# A listed string that is a dictionary word this common (荆州, 众将) is no name.
LISTED_WORD_FREQ = 50


@dataclass
class FoundCharacter:
    """One person found in the novel."""

    name: str
    aliases: list[str] = field(default_factory=list)
    mention_count: int = 0
    first_chapter: int = 0
    last_chapter: int = 0
    # Clause-opening references by the one-character given name (允曰 for 王允), counted for the
    # ranking only: the mention scan does not see them.
    references: int = 0
    chapters: int = 0  # chapters in which it is named


def looks_like_person(st: CandidateStats, min_evidence: float = 0.3, stated: bool = False) -> bool:
    """Decide from context statistics whether a candidate string is a person's name.

    `min_evidence` is lowered for longer forms of an accepted name (唐三藏 around 三藏), which
    the narration uses in full sentences rather than in speaker slots. A name the text `stated`
    (号做虎力大仙) also needs less: one slot, and more 那 before it (那虎力大仙道), and the
    dictionary's doubts yield to the statement (叫做漱石生: 漱石 is a verb phrase there).
    """
    return st.freq >= 3 and _contexts_fit(st, min_evidence, stated) and _form_fits(st, stated)


def _contexts_fit(st: CandidateStats, min_evidence: float, stated: bool = False) -> bool:
    """What stands around the string: the company it keeps, clause starts, and evidence of
    speaking and being spoken to."""
    f = st.freq
    if not _company_fits(st, stated):
        return False
    # Sentence connectives (所以, 后来, 毕竟不知) almost only ever start a clause; a surname +
    # title (樊太太道) may, when it is a minor speaker.
    if f >= 10 and st.initial / f > 0.9 and not _surname_title(st.text):
        return False
    # A name starts clauses now and then; 去报, 人送 (命人送…), 沙门 never do.
    if f >= 15 and st.initial / f < 0.04:
        return False
    # People speak, are spoken to, are identified (乃孔明也) and start sentences; things and
    # places rarely do.
    slots = st.right_slots + st.left_slots + st.identified
    if (slots + st.initial) / f < min_evidence:
        return False
    # A clause start alone is no evidence: 操闻之 (曹操 + 闻之) opens clauses but is never
    # in a speaker or object slot. A full name may be (林黛玉, 沙悟净 are narrated in full and
    # speak under their short names).
    return slots >= (1 if stated else MIN_SLOTS) or (f >= 5 and _surname_start(st.text))


def _company_fits(st: CandidateStats, stated: bool = False) -> bool:
    """Word boundaries, places, modifiers and groups: the company a name does not keep."""
    f = st.freq
    # Word boundaries: a fragment has one dominant neighbour (孙悟 + 空, 却 + 说行者).
    loose = f < 10
    if st.left_share > (0.67 if loose else 0.5) or st.right_share > (0.75 if loose else 0.6):
        return False
    # Places keep the company of 往/到 and 去/里 (往西天去, 灵山脚下).
    if st.place / f > 0.15:
        return False
    # Common nouns come with demonstratives and possessives (那妖精, 我师父, 一个和尚).
    if st.modified / f > (STATED_MODIFIED if stated else 0.3):
        return False
    # Groups take "all" and "each" after them (诸将皆曰, 汝二人各, 众人齐声); one person seldom.
    if f >= 20 and sum(st.right[ch] for ch in PLURAL_AFTER) / f >= PLURAL_SHARE:
        return False
    # Cut out of "name + title": its last character starts a title (四大天 + 王, 王太 + 守).
    cut = sum(n for ch, n in st.right.items() if st.text[-1] + ch in _TWO_CHAR_TITLES)
    if cut >= TITLE_CUT_SHARE * f:
        return False
    # A fragment of a longer word: its first character often makes a common word with the
    # character before it (对 + 面坐, 衙 + 门子, 父 + 母女). A surname may (大唐 + 唐御弟).
    words = two_char_words()
    crossed = sum(n for ch, n in st.left.items() if ch + st.text[0] in words)
    return crossed < CROSSED_SHARE * f or _surname_start(st.text)


def _form_fits(st: CandidateStats, stated: bool = False) -> bool:
    """What the string itself is: a common word plus a verb, a reduplication, a function word,
    a form of address, a phrase, or a bare title with a size/age prefix is no name. A `stated`
    name skips the two tests that rest on the dictionary alone (word + verb, verb phrase)."""
    # 伏兵 + 杀, 众将 + 军: a common word that happens to start with a surname, and a verb.
    head = st.text[:2]
    if (
        not stated
        and len(st.text) == 3
        and _surname_start(st.text)
        and head not in COMPOUND_SURNAMES
        and head in two_char_words(HEAD_WORD_FREQ)
    ):
        return False
    s = st.text
    if s in _function_words() or phrase_like(st):
        return False
    if verb_phrase(s) and not stated and not used_as_person(st):
        return False
    return _plain_form(s)


def _plain_form(s: str) -> bool:
    """The form tests no context can overrule: a reduplication, a form of address or a bare
    title with a size/age prefix is no name."""
    # ABB / AABB reduplications (战兢兢, 战战兢兢) describe, they do not name, unless A is a
    # surname (刘老老).
    if (len(s) == 3 and s[1] == s[2] and s[0] not in SURNAMES) or (
        len(s) == 4 and s[0] == s[1] and s[2] == s[3]
    ):
        return False
    if s in KIN_ADDRESS:
        return False
    # 众/诸 ("all the") make a group of whatever follows (众美娘, 诸佛, 诸神), unless they start a
    # compound surname (诸葛).
    if s[0] in GROUP_PREFIXES and s[:2] not in COMPOUND_SURNAMES:
        return False
    # 刘家庄, 祝家庄, 史家村: "the X family's village" is a place, not surname + given name.
    if len(s) == 3 and s[0] in SURNAMES and s[1] == "家" and s[2] in FAMILY_PLACE_END:
        return False
    # 小丫头, 老和尚: a bare title with a size/age prefix is still a title.
    return not (s[0] in "小老大" and s[1:] in TITLES)


def _ranked_title_name(s: str) -> bool:
    """Surname + a rank among brothers + a title (马二先生, 娄四公子, 凤四老爹); not 夫人, which
    after two surnames counts them (邢、王二夫人, 甘、糜二夫人)."""
    return (
        len(s) == 4
        and s[2:] != "夫人"
        and s[0] in SURNAMES
        and s[0] not in FUNCTION_SURNAMES
        and s[1] in "大二三四五六七八九十"
        and (s[2:] in TITLES or s[2:] in ADDRESS_TITLES or s[2:] in KIN_TERMS or s[2:] == "老爹")
    )


def _surname_title(s: str) -> bool:
    parts = split_surname(s)
    return parts is not None and (parts[1] in TITLES or parts[1] in ADDRESS_TITLES)


def _surname_start(s: str) -> bool:
    parts = split_surname(s)
    return parts is not None and parts[0] not in FUNCTION_SURNAMES


def _titled_name(s: str) -> bool:
    """Is `s` a two-character name + a title (鹿力大仙, 非幻道人, 金圣娘娘)? Its head may fail
    the boundary tests on its own precisely because it is nearly always written with the title,
    so no accepted shorter name vouches for it. Not a place (雍州刺史) or a sentence word
    (向薛姨妈) + a title."""
    core = titled_name_core(s)
    return (
        core is not None
        and core[-1] not in _PLACE_END
        and core not in COMMON
        and not any(ch in _GLUE for ch in core)
    )


def _is_name_variant(s: str, people: Mapping[str, object]) -> bool:
    """Is `s` an accepted name with a surname, epithet or title added (唐 + 三藏, 齐天 + 大圣,
    观音 + 菩萨), rather than a name glued to a verb (行者 + 依言, 看见 + 行者)?"""
    for k in range(2, len(s)):
        head, tail = s[:k], s[k:]
        # A title may extend a name (观音菩萨), a head count may not (行者三人, 唐僧四众).
        counted = tail[0] in "一二三四五六七八九十两众诸"
        if head in people and not counted and (tail in TITLES or tail in NAME_SUFFIXES):
            return True
        head, tail = s[: len(s) - k], s[len(s) - k :]
        if tail in people:
            if len(head) == 1 and head in SURNAMES and head not in _GLUE | FUNCTION_SURNAMES:
                return True
            if (
                len(head) == 2
                and head[-1] not in _PLACE_END
                and head not in _function_words()
                and dictionary_tag(head) != "t"  # 当下 + 武宗: a time word is no epithet
                and head not in COMMON
                and not any(ch in _GLUE for ch in head)
            ):
                return True
    return False


def _drop_phrases(
    people: dict[str, CandidateStats], stated: Collection[str] = ()
) -> dict[str, CandidateStats]:
    """Remove candidates that are a name glued to something else.

    周瑜大 (周瑜 + 大怒), 老孙打, 向莺儿 (向 + 莺儿), 向非幻 (向 + the head of 非幻道人),
    八戒沙僧 (two names): each contains an accepted name plus characters that are not a
    surname, title or name suffix.
    """
    kept = {}
    # The heads of accepted names (非幻 of 非幻道人), which a sentence word may stick to as well.
    heads = {p[:k] for p in people for k in range(2, len(p) - 1)}
    for s, st in people.items():
        if len(s) >= 3:
            # Built on another accepted name: keep only surname / epithet / title additions.
            others = {s[:k] for k in range(2, len(s))} | {s[k:] for k in range(1, len(s) - 1)}
            others -= COMPOUND_SURNAMES
            if any(o in people for o in others) and not _is_name_variant(s, people):
                continue
            head, tail = s[:-1], s[-1]
            glued_head = head in people or head in COMMON or head in TITLES
            if glued_head and head not in COMPOUND_SURNAMES and tail not in NAME_SUFFIXES:
                continue
            first, rest = s[0], s[1:]
            if (rest in people or rest in heads) and first in _GLUE:
                continue
            if len(s) == 4 and s[:2] in people and s[2:] in people:
                continue
            # Four-character strings are mostly idioms (满心欢喜, 按落云头); keep only those
            # built on a name (观音菩萨), starting with a compound surname (司马仲达), made of a
            # surname, a rank among brothers and a title (马二先生, 娄三公子), made of a name and
            # a title (鹿力大仙), or that the text states as a name (叫做玉面公主, 乃六耳猕猴也).
            if (
                len(s) == 4
                and s not in stated
                and s[:2] not in COMPOUND_SURNAMES
                and not _ranked_title_name(s)
                and not _titled_name(s)
                and not any(
                    s[i:j] in people
                    for i in range(3)
                    for j in range(i + 2, min(i + 4, 5))
                    if j - i < 4
                )
            ):
                continue
        if s in COMPOUND_SURNAMES:  # 司马, 诸葛 on their own are families, not people
            continue
        kept[s] = st
    return kept


def _drop_name_followers(
    chapters: Sequence[tuple[int, str]], people: dict[str, CandidateStats], share: float = 0.3
) -> dict[str, CandidateStats]:
    """Remove verbs and phrases that mostly come right after a name (三藏合掌, 唐僧师徒).

    People are rarely written back to back with another person's name, while the verbs that
    follow a speaker pass every other test.
    """
    automaton, keys = build_automaton({s: [s] for s in people})
    follows: dict[str, int] = dict.fromkeys(people, 0)
    seen: dict[str, int] = dict.fromkeys(people, 0)
    for _number, body in chapters:
        prev_end = -1
        for idx, start, end in automaton.find_matches_as_indexes(body):
            key = keys[idx]
            seen[key] += 1
            if start == prev_end:
                follows[key] += 1
            prev_end = end
    return {s: st for s, st in people.items() if not seen[s] or follows[s] / seen[s] <= share}


def _plain_word_ok(s: str, suffix_ok: bool = False) -> bool:
    """May a string found by a naming rule (not by the statistics) be a name? A title-like
    ending (玉面公主) is allowed when the text states the whole string as a name."""
    return plausible_shape(s) and not (
        s in TITLES
        or s in COMMON
        or s in KIN_ADDRESS
        or s in _function_words()
        or (s[-1] in NAME_SUFFIXES and not suffix_ok)
        or any(ch in _GLUE for ch in s[:1])
    )


def _stated_ok(s: str) -> bool:
    """A string the text states as a name (号做虎力大仙) that may take the easier tests: three
    characters or more (a two-character one is as often a common word: 叫做外公) and not a
    place (叫做陈家庄)."""
    return len(s) >= 3 and s[-1] not in STATED_PLACE_END and _plain_word_ok(s, suffix_ok=True)


def _animal_surname_links(
    full: str, people: Mapping[str, CandidateStats], min_uses: int = 20
) -> list[tuple[str, str]]:
    """Links for a surname the lexicon does not know, revealed by 老 + X (老猪 -> 猪).

    A character that speaks of himself as 老猪 is 猪 + his given names: 猪八戒 and 猪悟能 are
    the full forms of the accepted 八戒 and 悟能, so all of them are one person.
    """
    links = []
    for old in people:
        c = old[1:]
        if len(old) != 2 or old[0] != "老" or c in SURNAMES or c in _GLUE:
            continue
        after = Counter(re.findall(re.escape(c) + "([\u4e00-\u9fff]{2})", full))
        for given, st in people.items():
            if len(given) == 2 and st.freq >= min_uses and after[given] >= 3:
                links.append((c + given, given))
                links.append((c + given, old))
    return links


NAME_FORM_DOMINANCE = 3.0
FORMAL_DOMINANCE = 5.0


def _full_forms(
    members: list[str], member_set: set[str], counts: dict[str, int], minor: Collection[str]
) -> list[str]:
    """The members that are a surname + a given or courtesy name (not + a title or kin term)."""
    out = []
    for m in members:
        parts = split_surname(m)
        if parts is None and len(m) == 3 and m[1:] in member_set:
            parts = (m[0], m[1:])  # 猪 + 八戒: a surname the lexicon does not list
        titled = parts is None or parts[1] in ADDRESS_TITLES or parts[1] in TITLES
        titled = titled or parts[1] in KIN_TERMS or parts[1] in ("姐", "哥")  # 凤 + 姐
        if not titled and counts.get(m, 0) >= 2 and m not in minor:  # 唐圣僧 beside 唐僧
            out.append(m)
    return out


def _canonical(
    members: list[str], counts: dict[str, int], formal: set[str], minor: Collection[str] = ()
) -> str:
    """Pick the display name: the formal name the narrator introduced (刘备 of 字玄德), else the
    most used surname form that is not surname + title (孙悟空 over 孙行者 and 悟空, 唐僧 over
    三藏), else the most used name."""
    member_set = set(members)
    full_forms = _full_forms(members, member_set, counts, minor)
    stated = [m for m in members if m in formal and counts.get(m, 0) >= 2]
    if stated:
        # The formal name, unless another full name with its surname is the text's own choice
        # (徐鸣皋 over 徐鹤, 罗季芳 over 罗德; 关羽 stays over 关云长, 诸葛亮 over 孔明).
        best_stated = max(stated, key=lambda m: counts.get(m, 0))
        family = split_surname(best_stated)
        kin = [m for m in full_forms if family and m.startswith(family[0])]
        best_full = max(kin, key=lambda m: counts.get(m, 0), default=best_stated)
        if counts.get(best_full, 0) >= FORMAL_DOMINANCE * counts.get(best_stated, 0):
            return best_full
        return best_stated
    pool = full_forms or [m for m in members if m not in minor] or members
    best = max(pool, key=lambda m: (counts.get(m, 0), len(m)))
    # A surname + one-character title the text uses as the name itself (唐僧, 沙僧 beside the
    # rarer 唐三藏, 沙悟净) is shown when it clearly dominates.
    short = [
        m
        for m in members
        if len(m) == 2 and m[0] in SURNAMES and m[1] in ADDRESS_TITLES and m not in minor
    ]
    if full_forms and short:
        top = max(short, key=lambda m: counts.get(m, 0))
        if counts.get(top, 0) >= NAME_FORM_DOMINANCE * counts.get(best, 0):
            return top
    return best


def discover_characters(
    chapters: Sequence[tuple[int, str]], limit: int = 300
) -> list[FoundCharacter]:
    """Find the people of a novel, group their aliases and count their mentions.

    chapters: (chapter number, chapter body with paragraphs separated by "\\n"). Returns at
    most `limit` characters, most mentioned first, without the thin ones (see THIN_RATE).
    """
    full = "\n".join(body for _, body in chapters)
    people, stats, introduced, vouched = _accepted_people(chapters, full)
    names, courtesy, variants = _stated_links(full, people, stats, introduced)
    freq = {s: st.freq for s, st in people.items()}
    groups, _usage, never_shown = build_groups(
        chapters, full, names, freq, courtesy + variants, _plain_word_ok
    )
    preferred = {a for a, _ in courtesy}
    not_preferred = {b for _, b in variants} | never_shown
    characters = _found_characters(chapters, groups, preferred, not_preferred)
    thin = _thin_characters(characters, vouched)
    characters = [c for c in characters if id(c) not in thin]
    characters.sort(key=lambda c: (-(c.mention_count + c.references), c.first_chapter, c.name))
    return characters[:limit]


# A name is bursty: a person is named several times in each chapter he appears in, while a
# phrase of the narration (寻思, 举目, 偏生) is spread thin, about once per chapter. A string
# named in at least THIN_CHAPTERS chapters and fewer than THIN_RATE times per such chapter is
# thin, and is dropped unless the text vouches for it as a name.
THIN_CHAPTERS = 5
THIN_RATE = 1.6


def _thin_characters(characters: list[FoundCharacter], vouched: Collection[str]) -> set[int]:
    """The ids of the thin characters the text does not vouch for otherwise: by a naming
    statement (叫做X), an identification (乃X也), a list of people, or a full name whose
    surname other, not thin, people of the novel carry (贾珠 beside 贾政)."""
    thin = [
        c
        for c in characters
        if c.chapters >= THIN_CHAPTERS and c.mention_count < THIN_RATE * c.chapters
    ]
    thin_ids = {id(c) for c in thin}
    families = {
        split_surname(m)[0]
        for c in characters
        if id(c) not in thin_ids
        for m in (c.name, *c.aliases)
        if _full_name(m)
    }
    return {
        id(c)
        for c in thin
        if not any(
            m in vouched or (_full_name(m) and split_surname(m)[0] in families)
            for m in (c.name, *c.aliases)
        )
    }


def _full_name(s: str) -> bool:
    """A surname (not one that is also a function word) + a given name: not + a title, no
    character of the sentence around a name in the given name (王无, 高叫), and no common
    dictionary word (白云, 东南)."""
    if not _surname_start(s) or _surname_title(s):
        return False
    given = split_surname(s)[1]
    return (
        given not in KIN_TERMS
        and not any(ch in _GLUE for ch in given)
        and frequency(s) < LISTED_WORD_FREQ
    )


def _accepted_people(
    chapters: Sequence[tuple[int, str]], full: str
) -> tuple[dict, dict, set[str], set[str]]:
    """Candidates from speaker and object slots, kept when their contexts look like a person's;
    returns (the people, the statistics of every slot candidate, the people accepted only
    because the text introduces them by name, the strings it vouches for as names by a naming
    statement, an identification or a list)."""
    right, left, extra = collect_slot_candidates(full)
    pool = candidate_pool(right, left, extra, min_slots=3, max_pool=8000, text=full)
    stated = {s for s in stated_names(full) if _stated_ok(s)}
    # A string the text identifies someone as (乃六耳猕猴也) is judged even when rare.
    identified, whole = identifications(full)
    whole = {s for s in whole if _plain_word_ok(s, suffix_ok=True)}
    added = (stated | whole).difference(pool)
    stats = gather_stats(chapters, pool + sorted(added), right, left, identified)
    people = {s: st for s, st in stats.items() if looks_like_person(st)}
    # A name the text introduces (叫做玉面公主) needs less evidence of its own.
    introduced = set()
    for s in stated:
        if s not in people and looks_like_person(stats[s], STATED_EVIDENCE, stated=True):
            people[s] = stats[s]
            introduced.add(s)
    # Longer forms of accepted names (唐三藏, 齐天大圣) need less evidence of their own.
    for s, st in stats.items():
        if (
            s not in people
            and len(s) >= 3
            and looks_like_person(st, min_evidence=0.15)
            and _is_name_variant(s, people)
        ):
            people[s] = st
    listed = _listed_people(chapters, full, people, stats, (right, left))
    people.update(listed)
    # A four-character string the text identifies someone as twice (乃六耳猕猴也) is a name as
    # much as a stated one; once may be a phrase, and X之Y is one (乃国家之幸也).
    named = stated | {s for s in whole if stats[s].identified >= 2 and "之" not in s}
    people = _drop_phrases(people, named)
    slot_stats = {s: st for s, st in stats.items() if s not in added}
    vouched = named | listed.keys() | {s for s, st in stats.items() if st.identified}
    return _drop_name_followers(chapters, people), slot_stats, introduced, vouched


def _listed_people(
    chapters: Sequence[tuple[int, str]],
    full: str,
    people: Mapping[str, CandidateStats],
    stats: Mapping[str, CandidateStats],
    slots: tuple[Counter, Counter],
) -> dict[str, CandidateStats]:
    """Strings the text lists beside accepted people (于禁、李典、徐晃; 梦觉生、漱石生) that
    keep a name's company: they need no evidence of speaking, and only the form tests no
    context overrules."""
    listed = listed_names(full, people.keys() - COMPOUND_SURNAMES)
    new = _listed_shape_ok([s for s in listed if s not in stats], full)
    listed_stats = {**gather_stats(chapters, new, *slots), **stats}
    return {s: listed_stats[s] for s in listed if s in listed_stats and _listed_ok(listed_stats[s])}


def _listed_shape_ok(strings: list[str], full: str) -> list[str]:
    """The listed strings of a name's shape: plausible, or doubtful but bound (一瓢生, 乐进)."""
    doubtful = [s for s in strings if not plausible_shape(s) and possible_shape(s)]
    return [s for s in strings if plausible_shape(s)] + doubtful_ok(doubtful, full)


def _listed_ok(st: CandidateStats) -> bool:
    """May a listed string be a person: used a few times, not a title, common word or common
    dictionary word (荆州, 众将), and keeping a name's company."""
    s = st.text
    return (
        st.freq >= 3
        and s not in TITLES
        and s not in COMMON
        and not common_word(s, LISTED_WORD_FREQ)
        and _plain_form(s)
        and _company_fits(st)
    )


def _stated_links(
    full: str, people: dict, stats: dict, introduced: Collection[str] = ()
) -> tuple[set[str], list, list]:
    """Every name to group, the links the text states (courtesy names, animal surnames) and the
    variants (观世音 beside 观音: linked but, unlike stated names, not preferred for display)."""
    # Courtesy names stated by the narrator (姓刘，名备，字玄德) are trusted even when the
    # courtesy name itself is too rare in speaker slots to pass the statistics.
    names = set(people)
    courtesy = []
    stated = courtesy_links(full, people)
    uses = count_all([(0, full)], {s for link in stated for s in link if s not in names})
    for a, b in stated:
        if (a in names or uses[a] >= MIN_STATED_USES) and (
            b in names or uses[b] >= MIN_STATED_USES
        ):
            names.update((a, b))
            courtesy.append((a, b))
    for a, b in _animal_surname_links(full, people):
        names.update((a, b))
        courtesy.append((a, b))
    # An introduced name may still be the longer spelling of an accepted one (牛魔王, 牛王).
    plain = [s for s in people if s not in introduced]
    variants = infix_variants(plain, {s: st.freq for s, st in stats.items()}, full)
    names.update(s for link in variants for s in link)
    return names, courtesy, variants


def _found_characters(
    chapters: Sequence[tuple[int, str]],
    groups: list,
    preferred: set[str],
    not_preferred: set[str],
) -> list[FoundCharacter]:
    """One FoundCharacter per group, counted with one scan that keys every name by itself
    (per-name counts under longest match), with its references added."""
    names = {m for g in groups for m in g}
    index = scan_mentions(chapters, {s: [s] for s in names})
    present: dict[str, set[int]] = {}
    for number, _par, keys in index.paragraphs:
        for k in keys:
            present.setdefault(k, set()).add(number)
    characters = []
    for members in groups:
        members = [m for m in members if index.counts.get(m, 0) > 0]
        if not members:
            continue
        name = _canonical(members, index.counts, preferred, not_preferred)
        aliases = sorted((m for m in members if m != name), key=lambda m: -index.counts[m])
        characters.append(
            FoundCharacter(
                name=name,
                aliases=aliases,
                mention_count=sum(index.counts[m] for m in members),
                first_chapter=min(index.first[m] for m in members),
                last_chapter=max(index.last[m] for m in members),
                chapters=len({number for m in members for number in present.get(m, ())}),
            )
        )
    _count_references(chapters, index, groups, characters)
    return characters


# A one-character reference opens a clause and stands before a speech or action verb (允曰,
# 卓大怒, 操闻之).
_ONE_CHAR_REF = re.compile(
    f"(?:^|(?<=[，。！？：；“”\n]))([\u4e00-\u9fff])(?=[{RIGHT_CUES}大遂乃亦])"
)


def _count_references(
    chapters: Sequence[tuple[int, str]],
    index: MentionIndex,
    groups: list[list[str]],
    characters: list[FoundCharacter],
) -> None:
    """Credit `references` per character: in each chapter, a one-character given name (允 of
    王允) at a clause start before a verb is that person when he is the only person named in the
    chapter whose names contain the character."""
    by_name = {c.name: c for c in characters}
    owner: dict[str, FoundCharacter] = {}
    for members in groups:
        for m in members:
            if m in by_name:
                for x in members:
                    owner[x] = by_name[m]
    present: dict[int, set[str]] = {}
    for number, _par, keys in index.paragraphs:
        present.setdefault(number, set()).update(k for k in keys if k in owner)
    for number, body in chapters:
        holders: dict[str, set[int]] = {}
        given: dict[str, FoundCharacter] = {}
        for name in present.get(number, ()):
            person = owner[name]
            for ch in name:
                holders.setdefault(ch, set()).add(id(person))
            parts = split_surname(name)
            if parts and len(parts[1]) == 1 and parts[0] not in FUNCTION_SURNAMES:
                given[parts[1]] = person
        for m in _ONE_CHAR_REF.finditer(body):
            person = given.get(m.group(1))
            if person is not None and holders[m.group(1)] == {id(person)}:
                person.references += 1
