"""Names vouched for by the enumerations they stand in (于禁、李典、徐晃).

A list written with 、 names things of one kind: when most of its items are people the
discovery already accepted, the others are people too, even those that seldom speak or are
spoken to (于禁 is mostly listed among Cao Cao's generals, 漱石生 among the other hermits).
Lists of places (荆州、襄阳), of troops (魏兵、吴兵) or of things vouch for nothing, because
none of their items is an accepted person.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterator

# Anything but a CJK character or 、 ends the clause a list stands in.
_CLAUSE_BREAK = re.compile(r"[^\u4e00-\u9fff、]+")
MIN_ITEM, MAX_ITEM = 2, 4

# A list vouches for its items when at least this share of the other items are people.
PEOPLE_SHARE = 0.5
# A string is vouched for when it stands in this many lists of people, and they are at least
# this share of all the lists it stands in (马匹 is listed 21 times, twice beside a person).
MIN_LISTS = 2
LIST_SHARE = 0.5


def enumerations(text: str) -> Iterator[list[str]]:
    """The 、 lists of the text, each as its items: a clause cut at every 、. The first item
    keeps what precedes it in the clause (只见钱龙) and the last what follows (程咬金等)."""
    for clause in _CLAUSE_BREAK.split(text):
        if "、" in clause:
            items = clause.split("、")
            if all(items):
                yield items


def _named_person(item: str, last: bool, people: Collection[str]) -> bool:
    """Does the item name an accepted person: the whole item, or an accepted name at its end
    (临淄侯曹植, 只见钱龙) or, for the last item, at its start (秦叔宝等)?"""
    if item in people:
        return True
    for k in range(MAX_ITEM, MIN_ITEM - 1, -1):
        if len(item) > k and (item[:k] if last else item[-k:]) in people:
            return True
    return False


def _holds_person(item: str, people: Collection[str]) -> bool:
    """Is the item an accepted name, or a name with words of the sentence (忽报郭淮, 令关兴)?
    Lists vouch for new people, not for what sticks to known ones."""
    n = len(item)
    return any(item[i:j] in people for i in range(n) for j in range(i + MIN_ITEM, n + 1))


def listed_names(text: str, people: Collection[str]) -> Counter:
    """Strings that are a whole item of enumerations mostly made of accepted people, with the
    number of such lists, kept when they pass MIN_LISTS and LIST_SHARE. Only whole items are
    counted (the first and last items of a list may carry words of the sentence), and only
    those that hold no accepted name."""
    vouched: Counter = Counter()
    seen: Counter = Counter()
    for items in enumerations(text):
        named = [_named_person(s, i == len(items) - 1, people) for i, s in enumerate(items)]
        for i, s in enumerate(items):
            if not MIN_ITEM <= len(s) <= MAX_ITEM or _holds_person(s, people):
                continue
            seen[s] += 1
            others = named[:i] + named[i + 1 :]
            if sum(others) >= PEOPLE_SHARE * len(others):
                vouched[s] += 1
    return Counter(
        {s: n for s, n in vouched.items() if n >= MIN_LISTS and n >= LIST_SHARE * seen[s]}
    )
