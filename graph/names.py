"""Names: the one list each of surnames and titles, and the helpers that read a name.

Used by character discovery (graph.entities), the relation cues and offline rules (graph.cues,
graph.llm.offline) and pair choice (graph.pipeline), so that all of them split a name the same
way: 阮小二 and 阮小七 share a surname for every rule or for none.

Generic Chinese, nothing of one novel: a name itself always comes from the text being read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated words."""
    return frozenset(text.split())


# Single-character surnames: the most common few hundred of the 百家姓, with 典 (典韦) and 肖.
# Left out: 伯, 仲 and 公, which in the novels start courtesy names (伯符, 仲谋, 公瑾) and no
# surname (公孙 is compound); read as surnames they gave 姜维 (伯约) and 郭淮 (伯济) a family tie.
# Characters that are only part of a compound surname (上 of 上官, 令 of 令狐, 长 of 长孙) are not
# here: alone they split 长老 or 上前 as if they were names.
SURNAMES = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章"
    "云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常"
    "乐于时傅皮卞齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞"
    "熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍"
    "虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁"
    "荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋伊宫"
    "宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙"
    "池乔阴胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑桂濮牛寿通边扈燕冀郏浦尚农温"
    "别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧"
    "殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相查后荆红游"
    "竺权逯盖益桓仉督岳帅缑亢况郈有琴归海晋楚闫法汝鄢涂钦商牟佘佴赏墨哈谯笪年爱阳佟"
    "言福邝典肖"
)

# Compound surnames; a name starting with one of these has its given name after two characters.
# fmt: off
COMPOUND_SURNAMES = words(
    """
    诸葛 司马 夏侯 欧阳 上官 皇甫 公孙 东方 慕容 令狐 尉迟 太史 长孙 宇文 司徒 轩辕 独孤 南宫 西门 端木 百里 呼延 澹台 公冶 宗政 濮阳 淳于 单于 申屠 钟离 闻人
    赫连 万俟 东郭 南门 拓跋 纳兰 完颜 耶律
    """
)
# fmt: on

# Surnames that are also common function characters (然后 + 宝玉, 和 + 尚): in front of a known
# name they are far more often a word ending than a surname.
FUNCTION_SURNAMES = frozenset(
    "方后和于时从向将与把被在为也又有能可都那所以则而但及其回来去上下出入"
)

# Bare titles, roles and kinship nouns. A novel uses them for many people, so on their own
# they are never a character (王夫人 is; 夫人 is not).
# fmt: off
TITLES = words(
    """
    和尚 长老 师父 师傅 师兄 师弟 师叔 师伯 师祖 师娘 徒弟 徒儿 弟子 门人 菩萨 罗汉 佛祖 大仙 仙人 仙长 真人 道人 道士 道童 童子 仙童 仙女 神仙 天神 天将 天兵
    神将 星官 土地 山神 城隍 龙王 龙女 龙子 判官 阎王 鬼使 妖精 妖怪 妖魔 妖邪 妖王 魔王 老妖 小妖 众妖 女怪 老魔 二魔 三魔 大魔 那怪 怪物 精怪 群妖 大王 国王
    皇帝 天子 陛下 圣上 皇上 万岁 朝廷 君王 主公 主上 主人 主子 娘娘 公主 太子 王子 皇后 皇妃 妃子 贵妃 驸马 王爷 世子 太后 太监 宫女 宫娥 丞相 宰相 相国 太师
    太尉 司徒 司空 军师 都督 将军 元帅 先锋 校尉 刺史 太守 县令 知县 知府 大人 老爷 太爷 大爷 二爷 三爷 少爷 相公 官人 大官人 员外 先生 公子 小姐 姑娘 丫头
    丫鬟 丫环 侍女 使女 婢女 奶奶 太太 老太太 夫人 娘子 媳妇 婆子 婆婆 老婆 妈妈 嬷嬷 奶娘 姨娘 姨妈 姨太太 舅舅 舅母 姑妈 叔叔 婶婶 婶子 伯父 伯母 哥哥 姐姐
    妹妹 弟弟 嫂子 嫂嫂 兄弟 姊妹 姐妹 父亲 母亲 爹爹 娘亲 孩儿 儿子 女儿 孙子 老儿 老者 老汉 老翁 老头 老道 老僧 小僧 贫僧 僧人 众僧 和尚们 樵夫 渔翁 渔夫
    猎户 小厮 小子 家人 家丁 童儿 书童 管家 仆人 奴才 奴婢 小的 客官 客人 店家 店主 主顾 掌柜 伙计 妇人 女子 男子 汉子 大汉 壮士 好汉 英雄 豪杰 强盗 贼人 贼兵
    军士 军马 兵马 士卒 将士 大将 小将 部将 使者 使臣 信使 细作 刺客 百姓 庄客 村人 众人 大家 诸人 二人 三人 两人 二位 三位 诸位 列位 各位 那人 此人 这人 其人
    某人 别人 旁人 他人 外人 众将 众官 众臣 文武 百官 官员 大臣 老臣 姑娘们 孩子 小孩 婴儿 美人 佳人 才子 呆子 猴子 猴头 泼猴 妖猴 猢狲 畜生 孽畜 老爷们 爷们
    奶奶们 太太们 老太爷 老祖宗 老人家 老人 老先生 老夫人 小娘子 姑爷 姑老爷 亲家 亲戚 太君 大嫂 大嫂子 二嫂子 二奶奶 大奶奶 二姑娘 三姑娘 四姑娘 大姑娘 大姐 二姐
    三姐 大哥 二哥 三哥 长兄 兄长 贤弟 小弟 哥儿 姐儿 姐儿们 哥儿们 婆娘 丫头们 老婆子 婆子们 媳妇们 女孩儿 女孩子 男人 女人 妻子 丈夫 老公 夫妻 夫君 官家 师徒
    四众 法师 神僧 天尊 天师 真君 星君 国师 禅师 祖师 天王 老怪 大夫 太医 医生 尼姑 姑子 皇叔 国舅 国丈 宗室 侍郎 御史 学士 尚书 中书 翰林 秀才 举人 进士 状元
    监生 师长 旅长 团长 营长 连长 司令 督军 总长 次长 局长 处长 科长 校长 经理 老板 掌柜的
    """
)
# fmt: on

# A title or form of address after a surname that names one person (孙行者, 林姑娘, 关公,
# 刘皇叔, 关某). Titles that make a name of their own (王夫人, 薛姨妈, 赵姨娘) are not here.
ADDRESS_TITLES = words(
    """
    行者 大圣 长老 和尚 僧 圣僧 公 郎 某 御弟 皇叔 使君 丞相 太师 司徒 都督 将军 元帅 军师 先生 大爷
    二爷 三爷 大哥 二哥 三哥 姑娘 大姑娘 妹妹 大妹妹 丫头 大人 公子 相公 小姐
    """
)

# Kin and role terms after the first character of a given name (宝二爷, 宝兄弟, 凤丫头).
KIN_TERMS = words(
    """
    二爷 三爷 大爷 兄弟 哥哥 哥儿 叔 姑娘 姐姐 丫头 妹妹 二奶奶 大奶奶 奶奶 姐儿
    """
)

# Forms of address between kin and fellow disciples (二弟, 大哥, 师弟): they name a relation,
# not a person, and never stand as a character of their own.
KIN_ADDRESS = words(
    """
    大弟 二弟 三弟 四弟 五弟 贤弟 老弟 小弟 兄弟 大哥 二哥 三哥 四哥 五哥 大姐 二姐 三姐 大妹 二妹
    三妹 小妹 贤妹 师兄 师弟 师姐 师妹 师叔 师伯 大师兄 二师兄 三师兄 大师姐 大嫂 二嫂 三嫂 贤侄 老哥
    大叔 二叔 三叔 大伯 二伯 大爷爷 大娘 大婶
    """
)


def split_surname(name: str) -> tuple[str, str] | None:
    """(surname, rest) when `name` starts with a known surname and has 1-2 more characters."""
    if 3 <= len(name) <= 4 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    if 2 <= len(name) <= 3 and name[0] in SURNAMES:
        return name[0], name[1:]
    return None


def surnames(names: Iterable[str]) -> set[str]:
    """The surnames the names start with (see `split_surname`). A name that is another name's
    given part (孟德 of 曹孟德, 云长 of 关云长) is no surname and a name: 孟 is not 曹操's."""
    names = list(names)
    split = {name: split_surname(name) for name in names}
    given = {parts[1] for parts in split.values() if parts}
    return {parts[0] for name, parts in split.items() if parts and name not in given}


def same_surname(names_a: Iterable[str], names_b: Iterable[str]) -> bool:
    """Whether some name of A and some name of B start with one surname (阮小二, 阮小七)."""
    return bool(surnames(names_a) & surnames(names_b))


def names_pattern(names: Iterable[str]) -> str:
    """A regex alternation of the names, longest first (so 孙悟空 wins over 悟空)."""
    return "(?:" + "|".join(map(re.escape, sorted(set(names), key=len, reverse=True))) + ")"
