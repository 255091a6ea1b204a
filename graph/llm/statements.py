"""What a sentence states about names, for the offline answers to the identity questions: "X，字Y",
"X号Y", "人称Y", "绰号Y", "X即Y", "X便是Y". Only explicit statements: a name standing next to
another proves nothing."""

from __future__ import annotations

import re

from graph import cues

# Words that introduce another name of the person just named.
NAMING = (
    "表字|字(?![条迹据句眼样里幅])|道号|法号|法名|雅号|绰号|诨号|混名|外号|别号"
    "|号(?![令召叫哭啕角炮兵])|人称|人都称|小名|乳名|又名|一名"
)
# Words that say two names are one person.
SAME = "即是|就是|便是|乃是"
_END = "(?=[，。；！？”」\\s]|$)"  # the second name ends there: "王夫人的婆婆" is no statement
_NAME = r"[“「]?([\u4e00-\u9fff]{2,4}?)[”」]?(?=[，。；、！？\s“”「」]|$)"


def other_names(text: str, names: list[str]) -> list[str]:
    """Names the text gives the person right after naming them ("刘备，字玄德"), or as an
    epithet introduced before them ("人称豹子头林冲")."""
    pattern = cues.names_pattern(names)
    after = re.compile(f"(?:{pattern})[，,]?(?:{NAMING})" + _NAME)
    before = re.compile(f"(?:{NAMING})[“「]?([\\u4e00-\\u9fff]{{2,4}}?)[”」]?的?(?:{pattern})")
    found = [m.group(1) for m in after.finditer(text)] + [m.group(1) for m in before.finditer(text)]
    return [n for n in dict.fromkeys(found) if n not in names]


def states_same(text: str, names_a: list[str], names_b: list[str]) -> bool:
    """Whether the text says A and B are one person ("刘备字玄德" with B = 玄德, "X即Y")."""
    a, b = cues.names_pattern(names_a), cues.names_pattern(names_b)
    link = f"(?:{NAMING}|{SAME})"
    return bool(
        re.search(
            f"(?:{a})[，,]?{link}[“「]?(?:{b}){_END}|(?:{b})[，,]?{link}[“「]?(?:{a}){_END}", text
        )
    )
