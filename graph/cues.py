"""Relation cues: what a sentence says about two people standing in it.

Shared by evidence selection (prefer snippets that show a relation) and the offline rules
(which type, and who is senior). Three kinds of cue, strongest first:

- constructions that join the two names ("X之子Y", "Y拜X为师", "X令Y…", "X与Y交战");
- what one of them says to the other (“师父”, “主公”, “泼猴”, a quote opened by "Y对X道");
- plain cue words near the names (weak: they may speak of someone else).

Pure data and small helpers; no I/O. No character names of any novel belong here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_BREAK = "，。！？；：“”‘’「」\n"


def _expand(template: str) -> str:
    """`~N`: up to N characters within one clause; `≈N`: up to N characters within a sentence."""
    template = re.sub(r"~(\d+)", lambda m: f"[^{_BREAK}]{{0,{m[1]}}}", template)
    return re.sub(r"≈(\d+)", lambda m: f"[^。！？\n]{{0,{m[1]}}}", template)


_HIT = "打(?!发|听|扮|点|量|算|开|从|紧|谅|坐|盹|水|趣|架子)"
# (template, type code, who is senior: "X", "Y" or None, weight). {X} and {Y} are the two people.
TEMPLATES: tuple[tuple[str, str, str | None, float], ...] = (
    # 师徒
    ("{X}~8收{Y}~2为(?:徒|弟子)", "master", "X", 3),
    ("{Y}~6拜{X}为师", "master", "X", 3),
    ("{X}~3(?:的|之)?(?:大|二|三|小)?(?:徒弟|徒儿|弟子|门徒|高徒|爱徒)~2{Y}", "master", "X", 3),
    ("{X}~8收(?:他|她)~2为(?:徒|弟子)", "master", "X", 2.5),
    ("{Y}~8拜(?:他|她)为师", "master", "X", 2.5),
    ("{Y}(?:的|之)?(?:师父|师傅|恩师|师尊|老师)~2{X}", "master", "X", 3),
    ("{Y}(?:是|乃)~4{X}(?:的|之)~3(?:徒弟|弟子|门徒)", "master", "X", 3),
    ("{X}~3(?:传授|传了|教他|教她|授以|指点)~2{Y}", "master", "X", 1.5),
    ("{X}~2教{Y}~4(?:诗|书|武艺|本事|剑|法)", "master", "X", 2),
    # 同门
    ("{X}(?:的|之)?(?:师兄|师弟|师姐|师妹|同门)~1{Y}", "fellow", None, 2),
    # 亲属 (X is the elder)
    ("{X}(?:之|的)(?:子|女|弟|妹|孙|侄|甥)~2{Y}", "kin", "X", 3),
    (
        "{X}(?:的|之)?(?:长子|次子|三子|幼子|儿子|长女|次女|女儿|孙子|孙女|侄儿|侄子|侄女|外甥|外孙|"
        "弟弟|妹妹|妹子|犬子|爱女|小女|小儿)~2{Y}",
        "kin",
        "X",
        3,
    ),
    (
        "{Y}(?:的|之)?(?:父亲|母亲|爹爹|祖母|祖父|叔叔|叔父|伯父|舅舅|哥哥|姐姐|兄长|之父|之母|之兄)~2{X}",
        "kin",
        "X",
        3,
    ),
    ("{Y}(?:是|乃|系)~3{X}(?:的|之)~2(?:子|女|孙|侄|甥|弟|妹)", "kin", "X", 3),
    ("{X}(?:是|乃|系)~3{Y}(?:的|之)~3(?:父|母|兄|姐|叔|舅|伯|姑|姨)", "kin", "X", 3),
    ("{X}、?{Y}(?:父子|母子|母女|父女|叔侄|祖孙|姑侄|舅甥)", "kin", "X", 2.5),
    ("{X}、?{Y}(?:兄弟|兄妹|姐妹|姊妹|姐弟|弟兄)", "sibling", "X", 2),
    # 夫妻恋人
    (
        "{X}~2(?:的|之)?(?:妻子|之妻|其妻|夫人|老婆|媳妇|丈夫|夫君|小妾|爱妾|侍妾|姬妾|浑家|娘子|未婚妻|未婚夫)"
        "~1{Y}",
        "lovers",
        None,
        3,
    ),
    ("{Y}(?:是|乃|为)~3{X}(?:的|之)~2(?:妻|妾|夫人|丈夫|媳妇|房里人)", "lovers", None, 3),
    ("{X}~6(?:娶|纳|迎娶|聘|收用|偷娶)(?:了)?~4{Y}", "lovers", None, 3),
    ("{Y}~4(?:嫁给|嫁与|嫁了|许配|许与|许给|配与|配给)~3{X}", "lovers", None, 3),
    (
        "{X}(?:与|和|同){Y}~6(?:成亲|成婚|完婚|拜堂|定亲|结亲|圆房|相爱|相恋|恩爱|私奔|有情)",
        "lovers",
        None,
        3,
    ),
    ("{X}、?{Y}(?:夫妻|夫妇|两口子)", "lovers", None, 3),
    ("{X}~4(?:爱慕|倾心|钟情|思念|想念)~3{Y}", "lovers", None, 1.5),
    # 结义
    (
        "{X}≈20{Y}≈12(?:结义|结拜|结为兄弟|结为昆仲|结为弟兄|拜为兄弟|八拜之交|结为金兰|义结)",
        "sworn",
        None,
        3,
    ),
    ("{X}(?:的|之)?(?:义兄|义弟|结义兄弟|结拜兄弟|把兄弟)~2{Y}", "sworn", None, 3),
    # 盟友
    (
        "{X}(?:与|和|同|共){Y}~4(?:联手|并肩|结盟|交好|相好|合兵|会合|联合|同心|合力|协力|结伴)",
        "ally",
        None,
        2,
    ),
    ("{X}(?:与|和|同|共){Y}~6(?:同行|一同|一起|同去|商议|计议)", "ally", None, 1),
    ("{X}≈12(?:是|乃)(?:我|他|她)~8(?:朋友|好友|知己|故交|至交)", "ally", None, 1.5),
    (
        "{X}~4(?:救了|搭救|相救|援救|救出|救得|来救|相助|援助|帮助|帮着|保护)~4{Y}",
        "ally",
        None,
        1.5,
    ),
    ("{X}(?:的|之)?(?:好友|朋友|故友|故人|知己|挚友|至交|老友|相知)~2{Y}", "ally", None, 3),
    (
        "{X}(?:与|和){Y}~4(?:是|为|乃)?~2(?:好友|朋友|知己|故交|至交|旧交|世交|相好)",
        "ally",
        None,
        3,
    ),
    # 主仆 (X is the lord / master)
    (
        "{X}(?:的|之)?(?:手下|部下|麾下|帐下|属下|部将|家将|大将|爱将|谋士|臣子|丫鬟|丫头|小厮|家人|奴才|"
        "仆人|家丁|侍女|心腹)~2{Y}",
        "lord",
        "X",
        3,
    ),
    (
        "{Y}(?:是|乃|为)~8{X}(?:的|之)~2(?:手下|部下|部将|大将|谋士|臣|丫鬟|丫头|小厮|奴才|仆人|心腹)",
        "lord",
        "X",
        3,
    ),
    ("{X}~2(?:令|命|遣|差|派|唤|吩咐|打发|传)~1{Y}", "lord", "X", 1.5),
    ("{Y}~4(?:奉|遵|领|受)~2{X}~3(?:之命|命|将令|令|旨|差遣)", "lord", "X", 3),
    (
        "{Y}~4(?:参见|拜见|叩见|朝见|谒见|进谏|谏|禀|启奏|奏|回禀|回复|请安|叩谢|拜谢)~2{X}",
        "lord",
        "X",
        2,
    ),
    ("{X}~2(?:封|拜|任|授)~1{Y}(?:为|作)(?!师)", "lord", "X", 3),
    ("{Y}~6(?:投奔|来投|投降|归顺|归降|归附|依附)~2{X}", "lord", "X", 2.5),
    ("{Y}~4(?:服侍|伏侍|伺候|侍奉|侍候|跟随|追随|效忠|辅佐)~2{X}", "lord", "X", 2.5),
    ("{X}(?:屋里|房里|房中|身边|跟前)(?:的)?~2{Y}", "lord", "X", 1.5),
    # 敌对
    (
        f"{{X}}~4(?:战|斩|杀|擒|捉|攻|{_HIT}|骂|刺|射|追|害|伐|讨|破|围|困|砍|劈|偷袭|拿住|捉住|擒住|"
        "迎敌|抵敌|拦住)~3{Y}",
        "enemy",
        None,
        1.5,
    ),
    ("{Y}~4中了{X}的(?:毒|计|埋伏|暗算|圈套)", "enemy", None, 2.5),
    (
        "{X}(?:与|和|同|共|战){Y}~10(?<!并肩|联手|一起|一同|协力|合力)"
        "(?:交战|大战|交锋|厮杀|交手|斗(?!嘴)|对敌|为敌|反目|翻脸|对阵|相持|动手|拼杀|恶斗|争斗)",
        "enemy",
        None,
        2.5,
    ),
    ("{X}(?:的|之)?(?:仇人|仇敌|死敌|对头|敌人|宿敌)~2{Y}", "enemy", None, 3),
    ("{X}~6(?:恨|仇|陷害|算计|暗算|谋害|毒死|逼死|咒|背叛|出卖|反目)~4{Y}", "enemy", None, 2),
    ("{Y}~3(?:被|遭)~1{X}~6(?:杀|斩|擒|捉|打|拿|害|骂|射|败|困|捆|吊|收|降|伏)", "enemy", None, 2),
    ("{X}~3(?:降伏|降服|收伏|收服|降了|打死|杀了|斩了|擒了)~2{Y}", "enemy", None, 2.5),
)

# Words said in a quote, by type: (words, who says them). "junior": the junior addresses the
# senior ("师父", "主公", and self-names like "臣", "奴婢"); "senior": the other way ("徒儿");
# None: either way.
ADDRESS: tuple[tuple[str, str, str | None, float], ...] = (
    ("师父|师傅|恩师|师尊|老师", "master", "junior", 2),
    ("徒儿|徒弟|贤徒", "master", "senior", 2),
    ("师兄|师弟|师姐|师妹", "fellow", None, 1.5),
    (
        "父亲|爹爹|母亲|父王|母后|父皇|祖母|老祖宗|伯父|叔父|舅舅|姑妈|姨妈|爹|娘",
        "kin",
        "junior",
        2,
    ),
    ("我儿|吾儿|儿啊|孩儿", "kin", "senior", 1.5),
    ("兄长|哥哥|大哥|贤兄|仁兄|姐姐", "sibling_address", "junior", 1),
    ("贤弟|二弟|三弟|兄弟|妹妹|贤妹", "sibling_address", "senior", 1),
    ("主公|陛下|主上|明公|万岁|吾主|主人|大王|二爷|奶奶|姑娘", "lord", "junior", 2),
    ("臣|奴婢|奴才|小的", "lord", "junior", 1),
    ("夫君|相公|娘子|贤妻|官人|夫人|卿卿", "lovers", None, 1.5),
    (
        "泼猴|妖猴|泼怪|泼妖|妖孽|哪里走|妖怪|妖精|妖魔|泼魔|孽畜|孽障|逆贼|老贼|反贼|狗贼|贼子|匹夫|鼠辈|竖子|这厮|受死|拿命来|休走|"
        "看棍|看刀|看枪|吃我|饶你|纳命|找死|报仇|偿命|血债|算账",
        "enemy",
        None,
        1.5,
    ),
)

# Plain words near the names (weak; only 2+ characters: single ones are everywhere). Role
# nouns (师父, 丫鬟, 主公) are left to the constructions and addresses: as plain words they
# mostly name a third person's role.
TYPE_CUES: dict[str, tuple[str, ...]] = {
    code: tuple(words.split())
    for code, words in {
        "master": "拜师 为徒 为师 收徒 传授 授艺",
        "fellow": "师兄 师弟 师姐 师妹 同门 师兄弟",
        "kin": "父亲 母亲 爹爹 娘亲 儿子 女儿 孩儿 叔叔 侄儿 侄女 祖母 祖父 孙儿 孙子 舅舅 外甥 "
        "父子 母子 亲生 骨肉 外孙 母女 父女",
        "sibling": "兄长 哥哥 弟弟 姐姐 妹妹 兄弟 姐妹 兄妹 姐弟",
        "lovers": "娘子 妻子 丈夫 相公 夫君 未婚妻 未婚夫 成亲 婚事 定亲 夫妻 心上人 相爱 情意 "
        "爱慕 倾心 夫妇 姻缘",
        "sworn": "结义 结拜 义兄 义弟 八拜之交 金兰 结为兄弟",
        "ally": "联手 并肩 同伴 盟友 结盟 相助 援救 救了 朋友 好友 知己 同行",
        "lord": "奉命 遵命 效忠 投奔 服侍 伏侍 伺候 归顺 听令",
        "enemy": "仇人 仇敌 报仇 背叛 反目 叛徒 厮杀 交手 交战 大战 杀了 捉拿 拿住 擒住 交锋 "
        "为敌 敌人 对头",
    }.items()
}

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤关"
    "甄尤邢柳赖诸司欧上公慕皇令长宇尉东西南夏颜庞鲁华伍典乐霍凌云萧封甘"
)

# Markers that name the role of the person they stand next to: "师父X" / "X师父" → X is senior.
ROLE_MARKERS: dict[str, tuple[str, str]] = {
    **{w: ("master", "senior") for w in ("师父", "师傅", "师尊", "恩师")},
    **{w: ("master", "junior") for w in ("徒弟", "徒儿", "弟子")},
    **{
        w: ("kin", "senior")
        for w in ("父亲", "母亲", "爹爹", "娘亲", "叔叔", "祖父", "祖母", "舅舅")
    },
    **{
        w: ("kin", "junior")
        for w in ("儿子", "女儿", "孩儿", "侄儿", "侄女", "孙儿", "孙子", "外甥")
    },
    **{w: ("lord", "senior") for w in ("主公", "主人", "陛下", "主上")},
    **{
        w: ("lord", "junior")
        for w in ("丫鬟", "丫头", "小厮", "仆人", "家丁", "手下", "部下", "部将")
    },
}

_ALL_CUES = sorted({cue for cues in TYPE_CUES.values() for cue in cues}, key=len, reverse=True)
CUE_PATTERN = re.compile("|".join(map(re.escape, _ALL_CUES)))
CODE_OF_CUE = {cue: code for code, cues in TYPE_CUES.items() for cue in cues}
_SPEECH_VERB = "(?:曰|道|说|问|叫|喝|骂|答|叹|笑|哭|嚷|喊|告诉)"


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: a type, who it makes senior ("a", "b" or None) and how strong."""

    code: str
    senior: str | None
    weight: float


def cue_count(text: str) -> int:
    """How many relation cue words a snippet holds (used to rank evidence)."""
    return len(CUE_PATTERN.findall(text))


def names_pattern(names) -> str:
    return "(?:" + "|".join(map(re.escape, sorted(set(names), key=len, reverse=True))) + ")"


# The two people are written into the text as one private-use character each, so the
# templates are compiled once, not once per pair.
MARK_A, MARK_B = "\ue000", "\ue001"


def _compile_templates() -> list[tuple[re.Pattern, Signal]]:
    compiled = []
    for template, code, senior, weight in TEMPLATES:
        for x, y, sx in ((MARK_A, MARK_B, "a"), (MARK_B, MARK_A, "b")):
            regex = re.compile(_expand(template).replace("{X}", x).replace("{Y}", y))
            who = None if senior is None else (sx if senior == "X" else ("b" if sx == "a" else "a"))
            compiled.append((regex, Signal(code, who, weight)))
    return compiled


_TEMPLATES = _compile_templates()
_MARKS = {"a": re.compile(MARK_A), "b": re.compile(MARK_B)}


@lru_cache(maxsize=1024)
def _name_finder(names_a: tuple[str, ...], names_b: tuple[str, ...]):
    owner = {name: MARK_B for name in names_b} | {name: MARK_A for name in names_a}
    return re.compile(names_pattern(owner)), owner


def mark_names(text: str, names_a, names_b) -> str:
    """`text` with every name of A written as MARK_A and every name of B as MARK_B."""
    finder, owner = _name_finder(tuple(names_a), tuple(names_b))
    return finder.sub(lambda m: owner[m.group()], text)


# Words that count anywhere near the start of a quote, not only as the opening vocative.
_ANYWHERE = frozenset({"lord", "enemy"})
_VOCATIVE = re.compile(r"^[^，,！!。？?：:]{1,6}(?=[，,！!。？?：:])")


def _address_signals(quote: str, speaker: str, weight: float) -> list[Signal]:
    other = "b" if speaker == "a" else "a"
    vocative = _VOCATIVE.match(quote)
    opening = vocative.group() if vocative else ""
    found = []
    for words, code, role, w in ADDRESS:
        scope = quote[:40] if code in _ANYWHERE and w < 2 else opening
        if re.search(words, scope):
            senior = None if role is None else (other if role == "junior" else speaker)
            found.append(Signal(code, senior, w * weight))
    return found


_QUOTE = re.compile(f"(?:{_SPEECH_VERB}[^“”。\n]{{0,3}}|：)“(?P<q>[^”]{{1,120}})")
# What a speaker says of the two of them, or of the other by name ("你我联手", "我的师父X").
_MUTUAL = (
    ("(?:你我|咱们|咱俩|我们|我俩)~12(?:联手|同伴|朋友|盟友|好友|知己|同心)", "ally"),
    ("(?:你我|咱们|咱俩|我们|我俩)~12(?:反目|仇敌|仇人|为敌|了断|势不两立)", "enemy"),
    ("(?:你我|咱们|咱俩|我们|我俩)~12(?:结拜|结义|兄弟)", "sworn"),
)
_MINE = (  # 我的 + role + the other's name: (role words, type, the other is "senior" / "junior")
    ("师父|师傅|恩师", "master", "senior"),
    ("徒弟|徒儿|弟子", "master", "junior"),
    ("父亲|爹爹|爹|母亲|娘|哥哥|兄长|姐姐", "kin", "senior"),
    ("儿子|女儿|孩儿|弟弟|妹妹", "kin", "junior"),
    ("主公|主人|主上", "lord", "senior"),
    ("好友|朋友|知己|同伴|老友|故交", "ally", None),
    ("结拜大哥|结拜兄弟|结义兄弟|义兄|义弟|结拜", "sworn", None),
    ("妻子|夫人|娘子|丈夫|夫君|未婚妻|未婚夫|心上人", "lovers", None),
)
_SENTENCE_START = re.compile("[。！？”\n][^。！？”\n]*$")
_OBJECT_MARK = "对|向|朝|冲着|问|谓|指着|叫|劝|骂|喝|和|与|同|跟|把|被"


def _clause_subject(clause: str, names: dict[str, re.Pattern]) -> str | None:
    """Which of the two opens the clause (its subject, most likely)."""
    for side, pattern in names.items():
        match = pattern.search(clause)
        if (
            match
            and match.start() <= 3
            and not re.search(f"(?:{_OBJECT_MARK})$", clause[: match.start()])
        ):
            return side
    return None


def _speaker_and_weight(
    lead: str, quote: str, before: str, names: dict
) -> tuple[str, float] | None:
    """Who of the two speaks, and how sure we are that the other is the one spoken to."""
    clauses = re.split("[，；]", lead)
    verb_clause = clauses[-1]
    speaker = _clause_subject(verb_clause, names)
    for side, pattern in names.items():  # "X对Y道": X speaks to Y
        if re.search(f"(?:{_OBJECT_MARK}){pattern.pattern}", verb_clause):
            subject = speaker or (_clause_subject(clauses[-2], names) if len(clauses) > 1 else None)
            if subject and subject != side:
                return subject, 1.0
    if speaker is None and len(verb_clause) <= 6 and len(clauses) > 1:
        speaker = _clause_subject(clauses[-2], names)
    for side, pattern in names.items():  # “X，……”: X is spoken to
        if pattern.match(quote):
            other = "b" if side == "a" else "a"
            if speaker == other or (speaker is None and names[other].search(before)):
                return other, 0.8
    if speaker is None:
        return None
    other = names["b" if speaker == "a" else "a"]
    if other.search(lead):
        return speaker, 0.8  # named in the sentence that opens the quote
    if other.search(before) and not other.search(quote):
        return speaker, 0.5  # the other is in the scene, probably the one spoken to
    return None


def _mine_signals(lead: str, quote: str, names: dict) -> list[Signal]:
    """“这是我的师父X”: the speaker (one of the two, opening the sentence) names the other."""
    clauses = re.split("[，；]", lead)
    speaker = _clause_subject(clauses[-1], names) or (
        _clause_subject(clauses[-2], names) if len(clauses) > 1 and len(clauses[-1]) <= 8 else None
    )
    if speaker is None:
        return []
    other = "b" if speaker == "a" else "a"
    found = []
    for words, code, role in _MINE:
        if re.search(f"我(?:的)?(?:{words}){names[other].pattern}", quote):
            senior = None if role is None else (other if role == "senior" else speaker)
            found.append(Signal(code, senior, 2.0))
    return found


def _speech_signals(text: str, name_a: re.Pattern, name_b: re.Pattern) -> list[Signal]:
    """Address words in the quotes one of the two speaks to the other."""
    names = {"a": name_a, "b": name_b}
    signals = []
    for match in _QUOTE.finditer(text):
        head = max(0, match.start() - 40)
        opening = _SENTENCE_START.search(text, head, match.start())
        start = opening.start() + 1 if opening else head
        lead = text[start : match.end("q") - len(match["q"]) - 1]
        quote = match["q"]
        signals.extend(_mine_signals(lead, quote, names))
        found = _speaker_and_weight(lead, match["q"], text[max(0, start - 80) : start], names)
        if not found:
            continue
        speaker, weight = found
        signals.extend(_address_signals(match["q"], speaker, weight))
        for regex, code in _MUTUAL:
            if re.search(_expand(regex), match["q"][:60]):
                signals.append(Signal(code, None, 1.5 * weight / max(weight, 0.8)))
        if re.search("骂|喝", lead[-6:]):
            signals.append(Signal("enemy", None, weight))
    return signals


def relation_signals(text: str, names_a, names_b) -> list[Signal]:
    """Every construction and address in `text` that ties A to B."""
    text = mark_names(text, names_a, names_b)
    if MARK_A not in text or MARK_B not in text:
        return []
    signals = [signal for regex, signal in _TEMPLATES for _ in regex.finditer(text)]
    if "“" in text:
        signals.extend(_speech_signals(text, _MARKS["a"], _MARKS["b"]))
    return signals


def near_signals(text: str, anchors: list[int]) -> list[Signal]:
    """Weak signals: cue words, weighted down by their distance from the nearest name."""
    found = []
    for match in CUE_PATTERN.finditer(text):
        if not anchors:
            break
        distance = min(abs(match.start() - a) for a in anchors)
        found.append(Signal(CODE_OF_CUE[match.group()], None, 0.5 * max(0.2, 1 - distance / 40)))
    return found


def same_surname(names_a, names_b) -> bool:
    """Whether some full name of A and some full name of B share a common surname."""
    full_a = {
        n[:2] if n[:2] in ("诸葛", "司马", "夏侯", "欧阳", "上官", "公孙", "皇甫") else n[0]
        for n in names_a
        if len(n) >= 2 and n[0] in SURNAMES
    }
    full_b = {
        n[:2] if n[:2] in ("诸葛", "司马", "夏侯", "欧阳", "上官", "公孙", "皇甫") else n[0]
        for n in names_b
        if len(n) >= 2 and n[0] in SURNAMES
    }
    return bool(full_a & full_b)


def snippet_strength(text: str, names_a, names_b=()) -> float:
    """How much a snippet says about the pair (evidence ranking): constructions and addresses
    count fully, plain cue words a little."""
    if not names_b:
        return float(cue_count(text))
    return sum(s.weight for s in relation_signals(text, names_a, names_b)) + 0.2 * cue_count(text)
