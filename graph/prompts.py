"""The three questions we ask the model: what is asked (a `Question`: names and snippets) and
the request body rendered from it.

A request body is the full chat-completion body a Zhipu model receives; the same body goes into a
batch file or a realtime request. The offline rules answer the `Question` itself, so data flows one
way: built once by the task builder, stored on the task, never parsed back out of the prompt text.
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph import taxonomy

RELATION, EVOLUTION, ATTRIBUTE = "relation", "evolution", "attribute"
ATTRIBUTE_KEYS = ("gender", "identity", "faction", "abilities", "traits")

SYSTEM_PROMPT = (
    "你是中文小说人物关系分析助手。只依据用户提供的原文片段作答，不得编造片段中没有的事实。"
    "只输出一个 JSON 对象，不要输出解释、Markdown 或其他文字。"
)


@dataclass(frozen=True)
class Snippet:
    chapter: int
    text: str


def stored_snippets(snippets: list[Snippet]) -> list[dict]:
    """Snippets as Relation.snippets stores them."""
    return [{"chapter": s.chapter, "text": s.text} for s in snippets]


@dataclass
class Question:
    """What one task asks: its kind, the names of person A (and B for pair questions), the
    snippets the answer must rest on. A relation question with `timeline` also asks how the
    relation changes (the evolution question's phases), so a pair whose meetings span a long
    stretch needs one request, not two.

    A grouped question (`members`) asks several subjects of one kind in one request, each with
    its own names and snippets; it is answered with one entry per member (graph/grouped_questions.py)."""

    kind: str
    names_a: list[str] = field(default_factory=list)
    names_b: list[str] = field(default_factory=list)
    snippets: list[Snippet] = field(default_factory=list)
    timeline: bool = False
    members: list[Question] = field(default_factory=list)

    def to_json(self) -> dict:
        """The shape stored on the task (`LLMTask.question`)."""
        if self.members:
            return {"kind": self.kind, "group": [m.to_json() for m in self.members]}
        data = {
            "kind": self.kind,
            "names_a": self.names_a,
            "names_b": self.names_b,
            "snippets": [[s.chapter, s.text] for s in self.snippets],
        }
        return data | ({"timeline": True} if self.timeline else {})

    @classmethod
    def from_json(cls, data: dict) -> Question:
        if data.get("group"):
            members = [cls.from_json(m) for m in data["group"]]
            return cls(kind=data["kind"], members=members)
        return cls(
            kind=data["kind"],
            names_a=list(data.get("names_a") or []),
            names_b=list(data.get("names_b") or []),
            snippets=[Snippet(int(c), t) for c, t in data.get("snippets") or []],
            timeline=bool(data.get("timeline")),
        )


def request_body(title: str, question: Question, *, model: str, max_tokens: int) -> dict:
    """The chat-completion body that asks `question` about the novel `title`."""
    q = question
    if q.members:
        return group_request(
            title, q, model=model, max_tokens=min(4095, max_tokens * len(q.members))
        )
    if q.kind == RELATION:
        return relation_request(
            title, q.names_a, q.names_b, q.snippets,
            model=model, max_tokens=max_tokens, timeline=q.timeline,
        )  # fmt: skip
    if q.kind == EVOLUTION:
        return evolution_request(title, q.names_a, q.names_b, q.snippets, model=model, max_tokens=max_tokens)  # fmt: skip
    return attribute_request(title, q.names_a, q.snippets, model=model, max_tokens=max_tokens)


def _type_lines() -> str:
    return "\n".join(
        f"- {label}：{definition}" for label, definition, _ in taxonomy.RELATION_TYPES.values()
    )


def _person_line(tag: str, names: list[str]) -> str:
    aliases = "、".join(names[1:]) or "无"
    return f"人物{tag}：{names[0]}（别名：{aliases}）"


def _snippet_lines(snippets: list[Snippet]) -> str:
    return "\n".join(f"【片段{i}｜第{s.chapter}章】{s.text}" for i, s in enumerate(snippets, 1))


def _body(user: str, model: str, max_tokens: int) -> dict:
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user},
        ],
        "temperature": 0.1,
        "max_tokens": max_tokens,
    }


_PHASE_RULES = (
    "每个阶段给出起止章节号（取自片段标注）、关系类型和一句话事件；关系没有变化时只输出一个阶段。"
)
_PHASES_EXAMPLE = (
    '"phases": [{"from": 3, "to": 7, "type": "盟友", "event": "二人联手夺回剑谱"}, '
    '{"from": 8, "to": 20, "type": "敌对", "event": "反目成仇"}]'
)


_RELATION_RULES = (
    "如果片段表明 A 与 B 其实是同一个人（同一人的别名、字号、称号），type 填“同一人物”。\n"
    "要求：只依据片段；看不出明确关系就选“共现”。有方向的类型（师徒、亲属、主仆）要给出方向："
    '"a->b" 表示 A 是师父、长辈或主人，"b->a" 表示 B 是；其他类型填 "none"。\n'
)
_ATTRIBUTE_RULES = (
    "先判断“A”是不是一个人物（is_person：地名、物品、官职、群体或泛称填 false）。"
    "再概括此人的属性：性别（男、女或未知）、身份、所属阵营或势力、本领、性格特点，"
    "以及片段中用来指此人的其他称呼（只写片段里出现过的原文称呼）。片段中看不出的项填空字符串。\n"
)
_ATTRIBUTE_FIELDS = (
    '"is_person": true, "gender": "男", "identity": "…", "faction": "…", '
    '"abilities": "…", "traits": "…", "aliases": ["…"]'
)
_RELATION_FIELDS = (
    '"type": "师徒", "direction": "a->b", "confidence": 0.9, "evidence": "不超过50字的依据"'
)
TIMELINE_MARK = "需描述关系变化"


def relation_request(
    title: str,
    names_a: list[str],
    names_b: list[str],
    snippets: list[Snippet],
    *,
    model: str,
    max_tokens: int,
    timeline: bool = False,
) -> dict:
    """The relation question; with `timeline`, the evolution question's phases are asked too."""
    fields = _RELATION_FIELDS
    then = ""
    if timeline:  # an example whose overall type agrees with its phases
        then = f"再按章节顺序描述 A 与 B 的关系如何变化（phases，类型同上）：{_PHASE_RULES}\n"
        fields = (
            '"type": "敌对", "direction": "none", "confidence": 0.9, "evidence": "不超过50字的依据"'
        )
        fields += f", {_PHASES_EXAMPLE}"
    user = (
        f"小说《{title}》中的两个人物：\n{_person_line('A', names_a)}\n{_person_line('B', names_b)}\n"
        f"以下是两人同时出现的原文片段（按章节顺序）：\n{_snippet_lines(snippets)}\n\n"
        f"请判断 A 与 B 在全书中最主要的关系，只能从以下类型中选一个：\n{_type_lines()}\n\n"
        f"{_RELATION_RULES}{then}输出格式：{{{fields}}}"
    )
    return _body(user, model, max_tokens)


def evolution_request(
    title: str,
    names_a: list[str],
    names_b: list[str],
    snippets: list[Snippet],
    *,
    model: str,
    max_tokens: int,
) -> dict:
    user = (
        f"小说《{title}》中的两个人物：\n{_person_line('A', names_a)}\n{_person_line('B', names_b)}\n"
        f"以下是两人同时出现的原文片段，按章节先后排列：\n{_snippet_lines(snippets)}\n\n"
        f"请按章节顺序描述 A 与 B 的关系如何变化，类型只能从以下选择：\n{_type_lines()}\n\n"
        f"要求：只依据片段；{_PHASE_RULES}\n"
        f"输出格式：{{{_PHASES_EXAMPLE}}}"
    )
    return _body(user, model, max_tokens)


def continued_evolution_request(
    title: str,
    question: Question,
    earlier: list[dict],
    since: int,
    *,
    model: str,
    max_tokens: int,
) -> dict:
    """An update's evolution question (graph/continuation.py): the chapters from `since` on, with
    the last known phase of the `earlier` timeline."""
    last = earlier[-1]
    known = (
        f"此前（第{earlier[0]['from']}–{last['to']}章）两人关系的最后阶段：第{last['from']}–{last['to']}章，"
        f"{taxonomy.label(last['type'])}" + (f"——{last['event']}" if last.get("event") else "")
    )
    user = (
        f"小说《{title}》中的两个人物：\n{_person_line('A', question.names_a)}\n"
        f"{_person_line('B', question.names_b)}\n{known}\n"
        f"以下是两人在第{since}章及以后同时出现的原文片段，按章节先后排列：\n"
        f"{_snippet_lines(question.snippets)}\n\n"
        f"请接着描述从第{since}章起 A 与 B 的关系如何变化，类型只能从以下选择：\n{_type_lines()}\n\n"
        f"要求：只依据片段；每个阶段给出起止章节号（取自片段标注，不早于第{since}章）、关系类型和一句话事件；"
        "关系没有变化时只输出一个阶段（类型可与此前相同）。\n"
        f"输出格式：{{{_PHASES_EXAMPLE}}}"
    )
    return _body(user, model, max_tokens)


def attribute_request(
    title: str, names: list[str], snippets: list[Snippet], *, model: str, max_tokens: int
) -> dict:
    user = (
        f"小说《{title}》中的人物：\n{_person_line('A', names)}\n"
        f"以下是描写此人的原文片段：\n{_snippet_lines(snippets)}\n\n"
        f"{_ATTRIBUTE_RULES}输出格式：{{{_ATTRIBUTE_FIELDS}}}"
    )
    return _body(user, model, max_tokens)


def _member_block(number: int, member: Question) -> str:
    if member.kind == ATTRIBUTE:
        return (
            f"【第{number}人】\n{_person_line('A', member.names_a)}\n"
            f"描写此人的原文片段：\n{_snippet_lines(member.snippets)}"
        )
    mark = f"｜{TIMELINE_MARK}" if member.timeline else ""
    return (
        f"【第{number}对{mark}】\n{_person_line('A', member.names_a)}\n"
        f"{_person_line('B', member.names_b)}\n"
        f"两人同时出现的原文片段（按章节顺序）：\n{_snippet_lines(member.snippets)}"
    )


def group_request(title: str, question: Question, *, model: str, max_tokens: int) -> dict:
    """Several subjects of one kind asked in one request, each answered in its own entry of one
    JSON object keyed by its number ("1", "2", …): the relation question of several pairs, or
    the attribute question of several people."""
    members = question.members
    blocks = "\n\n".join(_member_block(i, m) for i, m in enumerate(members, 1))
    keys = [str(i) for i in range(1, len(members) + 1)]
    if question.kind == ATTRIBUTE:
        intro = f"小说《{title}》中的 {len(members)} 个人物，每人附有描写此人的原文片段：\n"
        ask = f"请对每个人物分别作答（A 指该人物）。{_ATTRIBUTE_RULES}"
        entry = _ATTRIBUTE_FIELDS
    else:
        intro = f"小说《{title}》中的 {len(members)} 对人物，每对附有两人同时出现的原文片段：\n"
        ask = (
            "请对每一对分别判断 A 与 B 在全书中最主要的关系，只能从以下类型中选一个：\n"
            f"{_type_lines()}\n\n{_RELATION_RULES}"
        )
        if any(m.timeline for m in members):
            ask += (
                f"标有“{TIMELINE_MARK}”的人物对，其条目中再按章节顺序描述 A 与 B 的关系如何变化"
                f"（phases，类型同上）：{_PHASE_RULES}例如 {_PHASES_EXAMPLE}\n"
            )
        entry = _RELATION_FIELDS
    shape = ", ".join(f'"{k}": {{{entry if k == "1" else "…"}}}' for k in keys)
    user = (
        f"{intro}\n{blocks}\n\n{ask}"
        f"每个条目只依据该条目自己的片段，条目之间互不参考。\n"
        f"输出格式：一个 JSON 对象，按编号各一个条目：{{{shape}}}"
    )
    return _body(user, model, max_tokens)
