"""The relation taxonomy: ASCII codes stored in the database, Chinese labels shown to people and the model."""

from __future__ import annotations

# code -> (Chinese label, one-line definition used in prompts, directed?)
RELATION_TYPES: dict[str, tuple[str, str, bool]] = {
    "master": ("师徒", "一方向另一方传授本领或学问，拜师、收徒（方向：师父在前）", True),
    "fellow": ("同门", "同一师父门下的师兄弟、师姐妹", False),
    "kin": (
        "亲属",
        "血缘或婚姻带来的家族关系：父母子女、兄弟姐妹、叔侄祖孙等（方向：长辈在前）",
        True,
    ),
    "lovers": ("夫妻恋人", "夫妻、未婚夫妻或彼此相爱的恋人", False),
    "sworn": ("结义", "结拜为异姓兄弟姐妹", False),
    "ally": ("盟友", "朋友、同伴或为同一目标合作的人", False),
    "lord": ("主仆", "君臣、主人与仆人、上司与部下（方向：主人、君主在前）", True),
    "enemy": ("敌对", "彼此为敌、交战、仇恨或加害对方", False),
    "cooccur": ("共现", "仅在同一场景出现，文本中看不出明确关系", False),
}

DEFAULT_TYPE = "cooccur"
# An answer to the relation question that is not a relation: A and B are one person (merged at
# apply time, never an edge).
SAME_PERSON, SAME_PERSON_LABEL = "same", "同一人物"
CODES = tuple(RELATION_TYPES)
LABELS = {code: label for code, (label, _, _) in RELATION_TYPES.items()}
CODE_BY_LABEL = {label: code for code, label in LABELS.items()}
DIRECTED = frozenset(code for code, (_, _, directed) in RELATION_TYPES.items() if directed)


def label(code: str) -> str:
    """The Chinese label of a type code (the code itself if unknown)."""
    return LABELS.get(code, code)
