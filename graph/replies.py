"""Reading what the model replies: the JSON of each task kind, checked and normalised, or a
ReplyError so the task is retried or takes its default. Accepts what real models write (code
fences, prose around the JSON, Chinese punctuation, labels written slightly differently)."""

from __future__ import annotations

import contextlib
import json
import re

from graph import taxonomy
from graph.phases import story
from graph.prompts import ATTRIBUTE, ATTRIBUTE_KEYS, EVOLUTION, RELATION


class ReplyError(ValueError):
    """A reply we cannot trust: the task is retried or takes its default."""


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_PUNCT = str.maketrans(
    {"“": '"', "”": '"', "：": ":", "，": ",", "｛": "{", "｝": "}", "［": "[", "］": "]"}
)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_LITERAL = re.compile(r'("(?:[^"\\]|\\.)*")|\b(True|False|None)\b')
_LINE_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|//[^\n]*')

# Label variants real models write, by type, most specific types first (exact labels are
# handled before these).
_LABEL_VARIANTS = tuple(
    (word, code)
    for code, words in (
        ("fellow", "师兄弟 同门"),
        ("master", "师徒 师生 师父 徒弟 老师"),
        ("sworn", "结拜 结义 义兄 金兰"),
        ("lovers", "夫妻 夫妇 恋人 情侣 爱人 爱慕 婚 妾"),
        ("kin", "亲属 亲戚 亲人 家人 血缘 父 母 兄 姐"),
        ("lord", "主仆 君臣 主从 上下级 上司 下属 从属 仆 君 臣"),
        ("ally", "盟友 同盟 朋友 友 同伴 同僚 合作"),
        ("enemy", "敌 仇 对手 对立"),
        ("cooccur", "共现 无明确 未知 无关 不明"),
    )
    for word in words.split()
)
_ENGLISH = {
    word: code
    for code, words in (
        ("master", "teacher mentor disciple"),
        ("kin", "family relative"),
        ("lovers", "spouse lover couple"),
        ("ally", "friend friends allies"),
        ("lord", "servant"),
        ("enemy", "enemies rival"),
        ("cooccur", "none"),
    )
    for word in words.split()
}
# Keys a model may write in Chinese or differently.
_KEYS = {
    key: tuple(names.split())
    for key, names in {
        "type": "type 类型 关系类型 关系 relation relation_type",
        "direction": "direction 方向",
        "confidence": "confidence 置信度 可信度",
        "evidence": "evidence 依据 证据 理由",
        "phases": "phases 阶段 stages",
        "from": "from start 起始章节 开始章节 起 from_chapter",
        "to": "to end 结束章节 止 to_chapter",
        "event": "event 事件 描述",
        "gender": "gender 性别",
        "identity": "identity 身份",
        "faction": "faction 阵营 势力",
        "abilities": "abilities 本领 能力",
        "traits": "traits 性格 性格特点",
        "aliases": "aliases 别名 称呼",
        "is_person": "is_person 是否人物 是人物 person isPerson",
    }.items()
}


def _get(data: dict, key: str, default=None):
    for name in _KEYS.get(key, (key,)):
        if name in data:
            return data[name]
    return default


def relation_code(label) -> str:
    """Map a relation label as a model writes it to a type code, or raise ReplyError.
    Two different types in one label ("师徒/主仆") are not trusted."""
    if isinstance(label, list) and len(label) == 1:
        label = label[0]
    if not isinstance(label, str):
        raise ReplyError(f"关系类型无效：{label}")
    text = re.sub(r"[（(][^）)]*[）)]", "", label).strip().strip("\"'「」“”")
    codes = {_one_code(part) for part in re.split(r"[/、,，|或及和]+", text) if part.strip()}
    if len(codes) != 1:
        raise ReplyError(f"关系类型不明确：{label}")
    return codes.pop()


_SAME_PERSON = frozenset({"同一人物", "同一人", "同一个人", "同一角色", "same", "same person"})


def _one_code(label: str) -> str:
    text = label.strip().replace("关系", "") or "?"
    if text in _SAME_PERSON or text.lower().replace("_", " ") in _SAME_PERSON:
        return taxonomy.SAME_PERSON
    if text in taxonomy.CODE_BY_LABEL:
        return taxonomy.CODE_BY_LABEL[text]
    if text.lower() in taxonomy.LABELS:
        return text.lower()
    if text.lower() in _ENGLISH:
        return _ENGLISH[text.lower()]
    for variant, code in _LABEL_VARIANTS:
        if variant in text:
            return code
    raise ReplyError(f"未知的关系类型：{label}")


def _repairs(text: str):
    """The text as written, then with the usual slips mended: Chinese punctuation, trailing
    commas, // comments, Python literals, single quotes."""
    yield text
    mended = _TRAILING_COMMA.sub(r"\1", _LINE_COMMENT.sub(lambda m: m[1] or "", text))
    mended = _PY_LITERAL.sub(
        lambda m: m[1] or {"True": "true", "False": "false", "None": "null"}[m[2]], mended
    )
    yield mended
    yield _TRAILING_COMMA.sub(r"\1", mended.translate(_PUNCT))
    if "'" in mended and '"' not in mended:
        yield mended.replace("'", '"')


def _json_values(text: str) -> list:
    """Every JSON object or array that starts at some bracket of `text` and parses, in order,
    skipping the ones nested inside an earlier hit (braces in prose are skipped too)."""
    values, end = [], 0
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text):
        if match.start() < end:
            continue
        for candidate in _repairs(text[match.start() :]):
            try:
                value, length = decoder.raw_decode(candidate)
            except json.JSONDecodeError:
                continue
            if isinstance(value, (dict, list)) and value:
                values.append(value)
                end = match.start() + min(length, len(text) - match.start())
                break
    return values


def extract_json(content, expect: tuple[str, ...] = ("type",)) -> dict:
    """The JSON object in a reply: tolerate code fences, prose around it (braces in the prose
    too), Chinese punctuation, trailing commas, Python literals, single quotes, a wrapper
    object ({"result": {...}}) and a list around the object. Two different objects, or a
    truncated one, are not trusted."""
    if not isinstance(content, str) or not content.strip():
        raise ReplyError("空回复")
    if content.strip().startswith('"'):  # the object encoded as a JSON string
        try:
            inner = json.loads(content.strip())
        except json.JSONDecodeError:
            inner = None
        if isinstance(inner, str):
            content = inner
    if "{" not in content and "｛" in content:
        content = content.translate(_PUNCT)
    fenced = _FENCE.findall(content)
    values = _json_values("\n".join(fenced)) if fenced else []
    values = values or _json_values(content)
    found = [obj for value in values for obj in _objects(value, expect)]
    if not found:
        if "{" in content:
            raise ReplyError("回复中的 JSON 无法解析或不完整")
        raise ReplyError("回复中没有 JSON 对象")
    if any(obj != found[0] for obj in found[1:]):
        raise ReplyError("回复中有多个互相矛盾的 JSON 对象")
    return found[0]


def _objects(value, expect: tuple[str, ...]) -> list[dict]:
    """The objects holding `expect` in a parsed value: itself, one wrapped inside it, or the
    items of a list (a list of phases becomes {"phases": [...]})."""
    if isinstance(value, dict):
        if any(_get(value, key) is not None for key in expect):
            return [value]
        inner = [v for v in value.values() if isinstance(v, (dict, list))]
        return [obj for v in inner for obj in _objects(v, expect)][:5]
    if isinstance(value, list):
        if (
            "phases" in expect
            and value
            and all(isinstance(v, dict) and _get(v, "type") is not None for v in value)
        ):
            return [{"phases": value}]
        return [obj for v in value if isinstance(v, dict) for obj in _objects(v, expect)]
    return []


def _confidence(value) -> float:
    words = {"高": 0.8, "较高": 0.7, "中": 0.5, "中等": 0.5, "低": 0.3, "较低": 0.3}
    if isinstance(value, str) and value.strip() in words:
        return words[value.strip()]
    try:
        number = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        return 0.5
    if number > 1:
        number /= 100
    return min(max(number, 0.0), 1.0)


def _direction(value) -> str:
    text = str(value or "").strip().lower().replace(" ", "")
    for arrow in ("→", "=>", "-->", "—>", "－>", "➝", "——>", "＞", "到"):
        text = text.replace(arrow, "->")
    text = text.replace(">>", ">").replace("-->", "->")
    if text in ("a->b", "a>b", "b<-a", "a"):
        return "a->b"
    if text in ("b->a", "b>a", "a<-b", "b"):
        return "b->a"
    return "none"


def parse_relation(content: str) -> dict:
    """The relation, and the phases when the reply has them (a question with a timeline): a
    timeline that cannot be trusted is dropped, the relation still stands."""
    data = extract_json(content, ("type",))
    code = relation_code(_get(data, "type"))
    direction = _direction(_get(data, "direction")) if code in taxonomy.DIRECTED else "none"
    result = {
        "type": code,
        "direction": direction,
        "confidence": _confidence(_get(data, "confidence", 0.5)),
        "evidence": str(_get(data, "evidence") or "")[:500],
    }
    raw = _get(data, "phases")
    if raw is not None and code != taxonomy.SAME_PERSON:
        with contextlib.suppress(ReplyError):
            result["phases"] = _timeline(raw)
    return result


_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int | None:
    """一百零八 → 108, 十二 → 12, 三 → 3; None when `text` holds no Chinese number."""
    match = re.search("[零〇一二两三四五六七八九十百千]+", text)
    if not match:
        return None
    total, digit = 0, None
    for ch in match.group():
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return total + (digit or 0)


def _chapter(value) -> int:
    if isinstance(value, bool):
        raise ReplyError(f"章节号无效：{value}")
    if isinstance(value, (int, float)):
        number = int(value)
    else:
        match = re.search(r"\d+", str(value))
        number = int(match.group()) if match else chinese_number(str(value))
    if number is None or number <= 0:
        raise ReplyError(f"章节号无效：{value}")
    return number


def parse_evolution(content: str) -> dict:
    data = extract_json(content, ("phases",))
    return {"phases": _timeline(_get(data, "phases"))}


def _timeline(raw) -> list[dict]:
    """Phases that read like a story (graph.phases.story). A phase written backwards
    (from > to) is turned round; an empty list, a phase without a type or chapters, or an
    unknown type make the reply untrusted."""
    if not isinstance(raw, list):
        raise ReplyError("回复缺少 phases 列表")
    if not raw:
        raise ReplyError("phases 为空")
    phases = []
    for item in raw:
        if not isinstance(item, dict) or _get(item, "type") is None:
            raise ReplyError("阶段格式无效")
        start = _chapter(_get(item, "from"))
        end = _get(item, "to")
        end = start if end is None else _chapter(end)
        phases.append(
            {
                "from": min(start, end),
                "to": max(start, end),
                "type": relation_code(_get(item, "type")),
                "event": str(_get(item, "event") or "")[:300],
            }
        )
    kept = [p for p in phases if p["type"] != taxonomy.SAME_PERSON]
    if not kept:
        raise ReplyError("phases 中没有关系类型")
    return story(kept)


def _yes_no(value, default: bool = True) -> bool:
    """A model's yes or no: true/false, 是/否, yes/no; anything else is `default`."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "是", "1", "是人物"):
        return True
    if text in ("false", "no", "否", "0", "不是", "非人物"):
        return False
    return default


def parse_attribute(content: str) -> dict:
    data = extract_json(content, (*ATTRIBUTE_KEYS, "aliases", "is_person"))
    result = {}
    for key in ATTRIBUTE_KEYS:
        value = _get(data, key) or ""
        if isinstance(value, list):
            value = "、".join(map(str, value))
        result[key] = str(value).strip()[:200]
    if not any(result.values()) and not _get(data, "aliases") and _get(data, "is_person") is None:
        raise ReplyError("回复中没有任何属性")
    result["is_person"] = _yes_no(_get(data, "is_person"))
    aliases = _get(data, "aliases") or []
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
    ATTRIBUTE: {key: "" for key in ATTRIBUTE_KEYS} | {"aliases": [], "is_person": True},
}


def parse_reply(kind: str, content: str, members: int = 0) -> dict:
    """Parse a reply of the given task kind (a grouped question's: `members` entries), or raise
    ReplyError."""
    if members:
        return parse_group(kind, content, members)
    return PARSERS[kind](content)


def parse_group(kind: str, content: str, members: int) -> dict:
    """A grouped question's reply: one entry per member, keyed by its number ("1", "第1对") or
    in a list, each read like a reply of its own, as {"items": [...]}. A missing or untrusted
    entry makes the whole reply untrusted (asked again)."""
    keys = [str(i) for i in range(1, members + 1)]
    entries = None
    with contextlib.suppress(ReplyError):
        data = extract_json(content, (keys[0], f"第{keys[0]}对", f"第{keys[0]}人"))
        entries = [_entry(data, key) for key in keys]
    if entries is None or any(e is None for e in entries):
        listed = [v for v in _json_values(content) if isinstance(v, list)]
        entries = listed[0] if listed else []
    if len(entries) != members or not all(isinstance(e, dict) for e in entries):
        raise ReplyError(f"回复应有 {members} 个条目")
    return {"items": [PARSERS[kind](json.dumps(e, ensure_ascii=False)) for e in entries]}


def _entry(data: dict, key: str):
    for name in (key, f"第{key}对", f"第{key}人", int(key)):
        if isinstance(data.get(name), dict):
            return data[name]
    return None


def default_result(kind: str) -> dict:
    return json.loads(json.dumps(DEFAULTS[kind]))
