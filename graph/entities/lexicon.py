"""Generic Chinese word lists used by character discovery.

Nothing here is specific to one novel: these are surnames, titles, kinship and role nouns,
and function characters that any Chinese text uses. They only *filter* candidates; every
name itself comes from the statistics of the text being read.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated words."""
    return frozenset(text.split())


# Common single-character surnames (百家姓, most frequent few hundred).
SURNAMES_1 = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章"
    "云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常"
    "乐于时傅皮卞齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞"
    "熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍"
    "虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁"
    "荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫"
    "宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙"
    "池乔阴胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑桂濮牛寿通边扈燕冀郏浦尚农温"
    "别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧"
    "殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯相查后荆红游"
    "竺权逯盖益桓公仉督岳帅缑亢况郈有琴归海晋楚闫法汝鄢涂钦商牟佘佴伯赏墨哈谯笪年爱阳佟"
    "言福邝"
)

# Compound surnames; a name starting with one of these has its given name after two characters.
# fmt: off
SURNAMES_2 = _words(
    """
    诸葛 司马 夏侯 欧阳 上官 皇甫 公孙 东方 慕容 令狐 尉迟 太史 长孙 宇文 司徒 轩辕 独孤 南宫 西门 端木 百里 呼延 澹台 公冶 宗政 濮阳 淳于 单于 申屠 钟离 闻人
    赫连 万俟 东郭 南门 拓跋 纳兰 完颜 耶律
    """
)
# fmt: on

# Bare titles, roles and kinship nouns. A novel uses them for many people, so on their own
# they are never a character (王夫人 is; 夫人 is not).
# fmt: off
TITLES = _words(
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
    监生
    """
)
# fmt: on

# Common words that show up next to speech verbs but are not people (adverbs, verbs, pronoun
# phrases). Most non-names are rejected by statistics; these are the frequent leftovers.
# fmt: off
COMMON = _words(
    """
    闻言 听了 听见 看见 见了 说道 笑道 问道 说话 言语 只见 但见 却说 且说 话说 原来 不知 不期 不料 忽然 忽见 一声 大惊 大喜 大怒 欢喜 心中 暗想 暗喜 暗笑 冷笑
    大笑 陪笑 叩头 磕头 跪下 上前 近前 施礼 作礼 答礼 还礼 起来 出来 进来 回来 下来 上来 过来 怎么 这等 那等 如此 如今 今日 明日 当时 此时 那时 一面 一边 一齐
    一同 自己 自家 我们 你们 他们 咱们 大家 众人 一个 两个 这个 那个 几个 甚么 什么 宝贝 东西 消息 性命 兵器 天下 人马 天地 世界 江山 乾坤 常言 自古 古人 俗语
    常言道 不好 不要 不敢 不消 不必 不曾 不肯 只是 只得 只管 便是 就是 正是 却是 乃是 原是 也是 还是 不是 有人 无人 何人 谁人 那里 这里 哪里 何处 此处 回头
    转身 抬头 低头 点头 摇头 拍手 笑嘻嘻 笑吟吟 慌忙 连忙 急忙 赶忙 忙忙 匆匆 吩咐 分付 应声 答应 商议 计议 心下 心里 口里 手里 面前 跟前 身边 左右 两边 四下
    上下 前后 里面 外面 后面 前面 旁边 门外 门前 帐下 阶下 殿上 殿下 堂上 房中 屋里 我老孙 俺老孙 本官 本帅 下官 小人 在下 晚生 学生 老夫 老朽 寡人 朕躬 孤家
    末将 贫道 贫尼 洒家 咱家 奴家 妾身 臣妾 小弟 愚兄 为兄 兄台 足下 阁下 贤侄 侄儿 孩儿们 圣僧 高僧 今儿 明儿 昨儿 前儿 后儿 今年 明年 去年 当日 次日 当夜
    连夜 星夜 后来 先前 从前 方才 刚才 适才 命人 使人 令人 多官 众官 人报 回报 唤做 叫做 名唤 用手 传旨 传令 喊声 明公 外头 里头 上头 前头 后头 大众 君臣 小神
    亲友 诸侯 群臣 武士 先帝 四人 五人 众将 并无 并没 人皆 索性 倒要 说到 近来 天气 嗳哟 赌气 拿起 站起来 站起 跳起 方可 定要 安能 古人云 锡杖 旌旗 败阵 望空
    礼毕 前来 伏于 勒马 哨马 拨马 摇身一变 五行 马匹 老师 师长 切莫 莫要 莫念 莫非 莫不 莫说 莫道 莫怪 莫管 莫慌 天色 祸事 好歹 挺枪
    开口 张口 饶命 情愿 思量 哀告 救人 水火 四海 三宫 六院 向东 向西 向南 向北 高声 低声 齐声 厉声
    """
)
# fmt: on

# Characters that never begin a name: demonstratives, pronouns, prepositions, particles and
# adverbs. 那长老 is "that elder", so a candidate starting with 那 is a phrase, not a name.
BAD_START = frozenset(
    "群有个一众两往即尽特做怎甚那这此其该每各某我你他她它咱们的了着是在对与和同把被将叫请问见又也便就都却乃遂亦只不没无且因若但而或就才再还已曾正"
)

# Characters that never end a name: speech verbs (行者笑 is 行者 + 笑), particles and
# place/collective suffixes (贾母处, 刘备军).
BAD_END = frozenset(
    "一大暗甚闻再打住曾敢喜怒惊寺庙殿阁楼州县郡的了着道曰笑说问叫听见忙也又便就都却乃遂亦只不与和同对把被将们在是得地等处家军兵营寨城府"
    "喝骂哭答应看想去回进出入上下里中内外前后边旁时日年月个些么吗呢吧啊呀哩罢你我他她"
)

# Characters that never occur inside a name at all.
BAD_ANY = frozenset("一的了着们么吗呢吧啊呀这那你我他她它，。、；：？！“”‘’（）《》")

# Speech and action verbs that follow a person: "X道", "X笑道", "X曰", "X听了", "X大喜".
RIGHT_CUES = "道曰笑问叫说听忙喝骂哭答见叹怒慌想看吩分拜"
# Narration verbs and particles after a subject, only used to propose candidates.
BROAD_RIGHT_CUES = "之为引亦乃遂必虽便即又却也领率等与出入回来去"
# Prepositions and verbs that precede a person: "对X", "与X", "叫X", "请X", "见X".
LEFT_CUES = "对与和同叫请问见被令教拜随跟谓向遣命唤喊骂谢劝"
# Words before a noun that mark it as a common noun (那长老, 一个和尚, 众小妖, 我师父).
MODIFIER_CHARS = frozenset("那这此该众某每个位些我你他她的")

# Characters a title or kinship word can add to a name (凤姐 + 儿, 罗刹 + 女, 王 + 夫人). A
# candidate made of a name plus any other single character is a phrase (周瑜 + 大, 老孙 + 打).
NAME_SUFFIXES = frozenset(
    "儿氏女子公君王郎爷姐妹哥嫂娘婆姑叔伯翁侯帝后妃仙神星僧师生母父怪精魔将相主"
)

# Before / after a place (往西天, 到灵山, 灵山脚下): places pass the other tests, so they are
# told apart by the company they keep.
PLACE_LEFT = frozenset("往到至赴奔离")
PLACE_RIGHT = frozenset("去里中内外界路边处")

# A title or form of address after a surname that names one person (孙行者, 林姑娘, 关公,
# 刘皇叔, 关某). Titles that make a name of their own (王夫人, 薛姨妈, 赵姨娘) are not here.
ADDRESS_TITLES = _words(
    """
    行者 大圣 长老 和尚 僧 圣僧 公 郎 某 御弟 皇叔 使君 丞相 太师 司徒 都督 将军 元帅 军师 先生 大爷
    二爷 三爷 大哥 二哥 三哥 姑娘 大姑娘 妹妹 大妹妹 丫头 大人 公子 相公
    """
)

# Kin and role terms after the first character of a given name (宝二爷, 宝兄弟, 凤丫头).
KIN_TERMS = _words(
    """
    二爷 三爷 大爷 兄弟 哥哥 哥儿 叔 姑娘 姐姐 丫头 妹妹 二奶奶 大奶奶 奶奶 姐儿
    """
)

# Forms of address between kin and fellow disciples (二弟, 大哥, 师弟): they name a relation,
# not a person, and never stand as a character of their own.
KIN_ADDRESS = _words(
    """
    大弟 二弟 三弟 四弟 五弟 贤弟 老弟 小弟 兄弟 大哥 二哥 三哥 四哥 五哥 大姐 二姐 三姐 大妹 二妹
    三妹 小妹 贤妹 师兄 师弟 师姐 师妹 师叔 师伯 大师兄 二师兄 三师兄 大师姐 大嫂 二嫂 三嫂 贤侄 老哥
    大叔 二叔 三叔 大伯 二伯 大爷爷 大娘 大婶
    """
)

# Surnames that are also common function characters (然后 + 宝玉, 和 + 尚): in front of a known
# name they are far more often a word ending than a surname.
FUNCTION_SURNAMES = frozenset(
    "方后和于时从向将与把被在为也又有能可都那所以则而但及其回来去上下出入"
)
