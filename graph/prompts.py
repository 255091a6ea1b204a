"""The three questions we ask the model: request bodies, reading them back, parsing replies, defaults.

A request body is the full chat-completion body a Zhipu model receives. The same body goes into a
batch file, a realtime request, or the offline rules (which read the facts back with `read_request`),
so the three modes answer the same question. No I/O here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from graph import taxonomy

RELATION, EVOLUTION, ATTRIBUTE = "relation", "evolution", "attribute"
ATTRIBUTE_KEYS = ("gender", "identity", "faction", "abilities", "traits")

SYSTEM_PROMPT = (
    "你是中文小说人物关系分析助手。只依据用户提供的原文片段作答，不得编造片段中没有的事实。"
    "只输出一个 JSON 对象，不要输出解释、Markdown 或其他文字。"
)


class ReplyError(ValueError):
    """A reply we cannot trust: the task is retried or takes its default."""


@dataclass(frozen=True)
class Snippet:
    chapter: int
    text: str


@dataclass
class RequestFacts:
    """What a request asks about, read back from its body (the offline rules use it)."""

    kind: str
    names_a: list[str] = field(default_factory=list)
    names_b: list[str] = field(default_factory=list)
    snippets: list[Snippet] = field(default_factory=list)


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


def relation_request(
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
        f"以下是两人同时出现的原文片段（按章节顺序）：\n{_snippet_lines(snippets)}\n\n"
        f"请判断 A 与 B 在全书中最主要的关系，只能从以下类型中选一个：\n{_type_lines()}\n\n"
        "要求：只依据片段；看不出明确关系就选“共现”。有方向的类型（师徒、亲属、主仆）要给出方向："
        '"a->b" 表示 A 是师父、长辈或主人，"b->a" 表示 B 是；其他类型填 "none"。\n'
        '输出格式：{"type": "师徒", "direction": "a->b", "confidence": 0.9, "evidence": "不超过50字的依据"}'
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
        "要求：只依据片段；每个阶段给出起止章节号（取自片段标注）、关系类型和一句话事件；"
        "关系没有变化时只输出一个阶段。\n"
        '输出格式：{"phases": [{"from": 3, "to": 7, "type": "盟友", "event": "二人联手夺回剑谱"}, '
        '{"from": 8, "to": 20, "type": "敌对", "event": "反目成仇"}]}'
    )
    return _body(user, model, max_tokens)


def attribute_request(
    title: str, names: list[str], snippets: list[Snippet], *, model: str, max_tokens: int
) -> dict:
    user = (
        f"小说《{title}》中的人物：\n{_person_line('A', names)}\n"
        f"以下是描写此人的原文片段：\n{_snippet_lines(snippets)}\n\n"
        "请概括此人的属性：性别（男、女或未知）、身份、所属阵营或势力、本领、性格特点，"
        "以及片段中出现过的其他称呼。片段中看不出的项填空字符串。\n"
        '输出格式：{"gender": "男", "identity": "…", "faction": "…", "abilities": "…", '
        '"traits": "…", "aliases": ["…"]}'
    )
    return _body(user, model, max_tokens)


_PERSON = re.compile(
    r"^人物(?P<tag>[AB])：(?P<name>[^（\n]+)（别名：(?P<aliases>[^）\n]*)）$", re.M
)
_SNIPPET = re.compile(r"^【片段\d+｜第(?P<chapter>\d+)章】(?P<text>.*)$", re.M)


def read_request(body: dict) -> RequestFacts:
    """Read the kind, names and snippets back out of a body built above."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    facts = RequestFacts(kind=EVOLUTION if '{"phases"' in user else ATTRIBUTE)
    for m in _PERSON.finditer(user):
        aliases = [] if m["aliases"] == "无" else m["aliases"].split("、")
        names = [m["name"], *aliases]
        if m["tag"] == "A":
            facts.names_a = names
        else:
            facts.names_b = names
    if facts.kind == ATTRIBUTE and facts.names_b:
        facts.kind = RELATION
    facts.snippets = [Snippet(int(m["chapter"]), m["text"]) for m in _SNIPPET.finditer(user)]
    return facts


# --- Parsing replies -------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_PUNCT = str.maketrans(
    {"“": '"', "”": '"', "：": ":", "，": ",", "｛": "{", "｝": "}", "［": "[", "］": "]"}
)

# Label variants real models write, mapped to codes (exact labels are handled first).
_LABEL_VARIANTS = (
    ("师兄弟", "fellow"),
    ("同门", "fellow"),
    ("师徒", "master"),
    ("师父", "master"),
    ("徒弟", "master"),
    ("结拜", "sworn"),
    ("结义", "sworn"),
    ("义兄", "sworn"),
    ("夫妻", "lovers"),
    ("恋人", "lovers"),
    ("情侣", "lovers"),
    ("爱人", "lovers"),
    ("婚", "lovers"),
    ("亲属", "kin"),
    ("亲戚", "kin"),
    ("家人", "kin"),
    ("父", "kin"),
    ("母", "kin"),
    ("兄", "kin"),
    ("姐", "kin"),
    ("主仆", "lord"),
    ("君臣", "lord"),
    ("主从", "lord"),
    ("上下级", "lord"),
    ("从属", "lord"),
    ("盟友", "ally"),
    ("同盟", "ally"),
    ("朋友", "ally"),
    ("友", "ally"),
    ("同伴", "ally"),
    ("合作", "ally"),
    ("敌", "enemy"),
    ("仇", "enemy"),
    ("对手", "enemy"),
    ("共现", "cooccur"),
    ("无明确", "cooccur"),
    ("未知", "cooccur"),
    ("无关", "cooccur"),
)


def relation_code(label: str) -> str:
    """Map a relation label as a model writes it to a type code, or raise ReplyError."""
    text = str(label).strip().strip("\"'「」“”").replace("关系", "") or "?"
    if text in taxonomy.CODE_BY_LABEL:
        return taxonomy.CODE_BY_LABEL[text]
    if text.lower() in taxonomy.LABELS:
        return text.lower()
    for variant, code in _LABEL_VARIANTS:
        if variant in text:
            return code
    raise ReplyError(f"未知的关系类型：{label}")


def extract_json(content: str) -> dict:
    """The JSON object in a reply: tolerate code fences, prose around it, Chinese punctuation."""
    if not content or not content.strip():
        raise ReplyError("空回复")
    fenced = _FENCE.search(content)
    text = fenced.group(1) if fenced else content
    start = text.find("{")
    if start < 0:
        raise ReplyError("回复中没有 JSON 对象")
    for candidate in (text[start:], text[start:].translate(_PUNCT)):
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ReplyError("回复中的 JSON 无法解析")


def _confidence(value) -> float:
    try:
        number = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        return 0.5
    if number > 1:
        number /= 100
    return min(max(number, 0.0), 1.0)


def _direction(value) -> str:
    text = str(value or "").strip().lower().replace(" ", "").replace("→", "->").replace("＞", ">")
    if text in ("a->b", "a>b", "b<-a"):
        return "a->b"
    if text in ("b->a", "b>a", "a<-b"):
        return "b->a"
    return "none"


def parse_relation(content: str) -> dict:
    data = extract_json(content)
    if "type" not in data:
        raise ReplyError("回复缺少 type")
    code = relation_code(data["type"])
    direction = _direction(data.get("direction")) if code in taxonomy.DIRECTED else "none"
    return {
        "type": code,
        "direction": direction,
        "confidence": _confidence(data.get("confidence", 0.5)),
        "evidence": str(data.get("evidence") or "")[:500],
    }


def _chapter(value) -> int:
    match = re.search(r"\d+", str(value))
    if not match:
        raise ReplyError(f"章节号无效：{value}")
    return int(match.group())


def parse_evolution(content: str) -> dict:
    data = extract_json(content)
    raw = data.get("phases")
    if not isinstance(raw, list):
        raise ReplyError("回复缺少 phases 列表")
    phases = []
    for item in raw:
        if not isinstance(item, dict) or "type" not in item:
            raise ReplyError("阶段格式无效")
        start = _chapter(item.get("from", item.get("start")))
        end = _chapter(item.get("to", item.get("end", start)))
        phases.append(
            {
                "from": min(start, end),
                "to": max(start, end),
                "type": relation_code(item["type"]),
                "event": str(item.get("event") or "")[:300],
            }
        )
    return {"phases": merge_phases(sorted(phases, key=lambda p: (p["from"], p["to"])))}


def merge_phases(phases: list[dict]) -> list[dict]:
    """Merge consecutive phases of the same type (they are one phase told twice)."""
    merged: list[dict] = []
    for phase in phases:
        if merged and merged[-1]["type"] == phase["type"]:
            last = merged[-1]
            last["to"] = max(last["to"], phase["to"])
            if phase["event"] and phase["event"] not in last["event"]:
                last["event"] = "；".join(filter(None, [last["event"], phase["event"]]))[:300]
        else:
            merged.append(dict(phase))
    return merged


def parse_attribute(content: str) -> dict:
    data = extract_json(content)
    result = {key: str(data.get(key) or "").strip()[:200] for key in ATTRIBUTE_KEYS}
    if not any(result.values()) and not data.get("aliases"):
        raise ReplyError("回复中没有任何属性")
    aliases = data.get("aliases") or []
    if isinstance(aliases, str):
        aliases = re.split(r"[、,，\s]+", aliases)
    result["aliases"] = [str(a).strip() for a in aliases if str(a).strip()][:20]
    return result


PARSERS = {RELATION: parse_relation, EVOLUTION: parse_evolution, ATTRIBUTE: parse_attribute}

DEFAULTS = {
    RELATION: {
        "type": taxonomy.DEFAULT_TYPE,
        "direction": "none",
        "confidence": 0.0,
        "evidence": "",
    },
    EVOLUTION: {"phases": []},
    ATTRIBUTE: {key: "" for key in ATTRIBUTE_KEYS} | {"aliases": []},
}


def parse_reply(kind: str, content: str) -> dict:
    """Parse a reply of the given task kind, or raise ReplyError."""
    return PARSERS[kind](content)


def default_result(kind: str) -> dict:
    return json.loads(json.dumps(DEFAULTS[kind]))
