"""Generic Chinese word lists used by character discovery.

Nothing here is specific to one novel: these are common words, function characters and the
verbs and prepositions around a person that any Chinese text uses (surnames and titles are in
graph.names). They only *filter* candidates; every name itself comes from the statistics of
the text being read.
"""

from __future__ import annotations

from graph.names import words

# Common words that show up next to speech verbs but are not people (adverbs, verbs, pronoun
# phrases). Most non-names are rejected by statistics; these are the frequent leftovers.
# fmt: off
COMMON = words(
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
    礼毕 前来 伏于 勒马 哨马 拨马 摇身一变 五行 马匹 老师 切莫 莫要 莫念 莫非 莫不 莫说 莫道 莫怪 莫管 莫慌 天色 祸事 好歹 挺枪
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

# The part of those lists that no name breaks: particles, pronouns, demonstratives and (at the
# end) collective and place nouns. The rest
# (一 of 一枝梅, 进 of 范进, 喜 of 凤喜, 道 of 狄洪道) is only a hint: a string that breaks it
# still becomes a candidate when the text often uses it as a speaker, and is judged by its
# contexts like any other.
HARD_BAD_START = frozenset("个们的了着我你他她它咱那这此其该每各某")
HARD_BAD_END = frozenset("的了着们么吗呢吧啊呀哩你我他她等处军兵营寨城府州县郡寺庙殿")
HARD_BAD_ANY = frozenset("的了着们么吗呢吧啊呀这那你我他她它，。、；：？！“”‘’（）《》")

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
