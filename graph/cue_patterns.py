"""Sentence patterns for relation cues: constructions joining two people, and address words.

Data only, read by graph/cues.py. `{X}` and `{Y}` are the two people; `~N` allows up to N
characters within one clause, `≈N` up to N within a sentence. No character names of any novel.
"""

from __future__ import annotations

_KIN_LEAD = "(?:(?<=[，、；：])|其|之|令|命|使|遣|及|同|并|唤|带|引|与|携|和|谓|告|见)"
_SWEAR = "(?:桃园)?(?:结义|结拜|结为兄弟|结为昆仲|结为弟兄|拜为兄弟|拜了把子|八拜之交|结为金兰|义结金兰|结为姐妹)"
# Between 的 and a kin word only what says which one (长子, 亲生女儿, 堂兄): never 师 or 徒
_BY_BLOOD = "(?:亲生|亲|生身|嫡亲|嫡|长|次|三|四|幼|小|独|爱|堂|表|胞|同胞)?"
_YOUNGER_BROTHER = "弟(?!子)"
_UNDERLINGS = "手下|部下|部将|家将|心腹|家人|丫鬟|丫头|小厮|奴才|仆人|家丁|侍女"
_SENTENCE_OPENS = "(?:^|(?<=[。！？”\n]))"
_NO_OBJECT = "(?=[，。！？；：、”\n]|$|了|一|起来|数|几|[二三四五六七八九十百]|多|良久|不|于|在|之|时|到|得|哩|呢|哪|啊|呀|着|罢|也|矣)"
_NOT_KIN_OF_A_THIRD = "(?<![父母兄弟子女叔伯舅妻夫姐妹侄孙])"
_POSTS = (
    "先锋|前部|后军|左军|右军|中军|合后|大将|上将|都督|大都督|军师|元帅|参谋|太守|刺史|将军|都尉|"
    "校尉|副将|监军|护卫|向导|前锋|副先锋|后应|接应|救应|总兵|统领|参军"
)
_HIT = "打(?!发|听|扮|点|量|算|开|从|紧|谅|坐|盹|水|趣|架子)"
# (template, type code, who is senior: "X", "Y" or None, weight). {X} and {Y} are the two people.
TEMPLATES: tuple[tuple[str, str, str | None, float], ...] = (
    # 师徒
    ("{X}~8收{Y}~2为(?:徒|弟子)", "master", "X", 3),
    ("{Y}~6拜{X}为师", "master", "X", 3),
    ("{X}~3(?:的|之)?(?:大|二|三|小)?(?:徒弟|徒儿|弟子|门徒|高徒|爱徒)~2{Y}", "master", "X", 3),
    ("{X}~8收(?:他|她)~2为(?:徒|弟子)", "master", "X", 2.5),
    ("{Y}~8拜(?:他|她)为师", "master", "X", 2.5),
    ("{Y}(?:的|之)(?:师父|师傅|恩师|师尊|老师)~2{X}", "master", "X", 3),
    # Without 的 a 老师 after a name is a title ("助X老师破Y"): only 师父 right before the name
    ("{Y}~6(?:师父|师傅|恩师|师尊){X}", "master", "X", 2),
    # 徒弟 right before a name in the other's clause: X听完徒弟Y的讲述, X看着两个徒弟Y
    ("{X}~12(?:徒弟|徒儿|爱徒|高徒)(?:[^，。！？“”]{1,4}(?:和|与|、))?{Y}", "master", "X", 2),
    ("{Y}(?:是|乃)~4{X}(?:的|之)~3(?:徒弟|弟子|门徒)", "master", "X", 3),
    ("{Y}≈12，(?:是|乃)~8{X}(?:的|之)~3(?:徒弟|弟子|门徒)", "master", "X", 3),
    ("{X}(?:是|乃)~4{Y}(?:的|之)(?:师父|师傅|恩师|师尊|老师)", "master", "X", 3),
    ("{X}~3(?:传授|传了|教他|教她|授以|指点)~2{Y}", "master", "X", 1.5),
    ("{X}~2教{Y}~4(?:诗|书|武艺|本事|剑|法)", "master", "X", 2),
    # What was taught passed on: 吾兵法皆授与Y; Y深得X传授
    (
        "{X}≈20(?:兵法|兵书|本事|本领|武艺|武功|剑法|刀法|拳法|枪法|道法|法术|平生之学|所学|衣钵)~3"
        "(?:传授|传与|授与|传给|教与|教给|传了)~1{Y}",
        "master",
        "X",
        2.5,
    ),
    (
        "{Y}~4(?:深得|得了|得|受|蒙)~2{X}(?:的|之)?(?:传授|真传|亲传|教诲|指教|点化)",
        "master",
        "X",
        3,
    ),
    # 同门
    ("{X}(?:的|之)?(?:师兄|师弟|师姐|师妹|同门)~1{Y}", "fellow", None, 2),
    ("{X}~12(?:师兄|师弟|师姐|师妹){Y}", "fellow", None, 2),
    ("{X}(?:和|与|同|、){Y}~4(?:同门|师兄弟|师姐弟|师兄妹|师姐妹)", "fellow", None, 3),
    # 亲属 (X is the elder). Brother words are "sibling": kin between two of one surname, sworn
    # brothers otherwise (刘备之弟张飞); sister words stay kin (a married woman takes another name).
    ("{X}(?:之|的)(?:子(?!弟)|女|妹|孙|侄|甥)~2{Y}", "kin", "X", 3),
    ("{X}(?:之|的)(?:堂|表)(?:弟|兄|哥|姐|妹)~2{Y}", "kin", "X", 3),
    (f"{{X}}(?:之|的){_YOUNGER_BROTHER}~2{{Y}}", "sibling", "X", 3),
    (
        "{X}(?:的|之)?(?:长子|次子|三子|幼子|儿子|长女|次女|女儿|孙子|孙女|侄儿|侄子|侄女|外甥|外孙|"
        "妹妹|妹子|犬子|爱女|小女|小儿)~2{Y}",
        "kin",
        "X",
        3,
    ),
    ("{X}(?:的|之)?(?:弟弟|兄弟|胞弟|舍弟|贤弟)~2{Y}", "sibling", "X", 3),
    # X第三个孩儿，名唤做Y; X的二女儿，乳名Y
    (
        "{X}(?:的|之)?(?:第[一二三四五六七八九十]个|[大二三四五六七八九十]|长|次|幼|小)"
        "(?:孩儿|儿子|女儿|太子|公主|姑娘|儿|女|子)[，,]?(?:名|唤|叫|做|乳名|小名|俗名|学名){1,3}{Y}",
        "kin",
        "X",
        3,
    ),
    (
        "{Y}(?:的|之)?(?:父亲|母亲|爹爹|祖母|祖父|叔叔|叔父|伯父|舅舅|姐姐|之父|之母)~2{X}",
        "kin",
        "X",
        3,
    ),
    ("{Y}(?:的|之)?(?:哥哥|兄长|之兄|胞兄|家兄)~2{X}", "sibling", "X", 3),
    (f"{{Y}}(?:是|乃|系)~3{{X}}(?:的|之){_BY_BLOOD}(?:子(?!弟)|女|孙|侄|甥|妹)", "kin", "X", 3),
    (f"{{Y}}(?:是|乃|系)~3{{X}}(?:的|之)(?:亲|胞|同胞)?{_YOUNGER_BROTHER}", "sibling", "X", 3),
    (f"{{X}}(?:是|乃|系)~3{{Y}}(?:的|之){_BY_BLOOD}(?:父|母|姐|叔|舅|伯|姑|姨)", "kin", "X", 3),
    ("{X}(?:是|乃|系)~3{Y}(?:的|之)(?:亲|胞|同胞)?(?:兄|哥)", "sibling", "X", 3),
    ("{X}、?{Y}(?:父子|母子|母女|父女|叔侄|祖孙|姑侄|舅甥)", "kin", "X", 2.5),
    # A single kin word before a name in the other's sentence: 策……使弟孙权. Not where the first
    # name has one too (谥父孙坚……兄孙策: both are kin of a third).
    (
        f"{_NOT_KIN_OF_A_THIRD}{{X}}≈15{_KIN_LEAD}(?:长|次|幼|二|三|爱|其)?(?:子|女|侄|孙)~0{{Y}}",
        "kin",
        "X",
        1.5,
    ),
    (f"{_NOT_KIN_OF_A_THIRD}{{X}}≈15{_KIN_LEAD}(?:二|三|其)?弟~0{{Y}}", "sibling", "X", 1.5),
    (f"{_NOT_KIN_OF_A_THIRD}{{Y}}≈15{_KIN_LEAD}(?:父|母|叔|伯|舅)~0{{X}}", "kin", "X", 1.5),
    (f"{_NOT_KIN_OF_A_THIRD}{{Y}}≈15{_KIN_LEAD}兄~0{{X}}", "sibling", "X", 1.5),
    ("{X}、?{Y}(?:兄弟|兄妹|姐妹|姊妹|姐弟|弟兄)", "sibling", "X", 2),
    # Adoption: Y拜X为父, X收Y为义子
    ("{Y}~4拜{X}为(?:义父|父|义母|母|干爹|干娘|干妈|寄父)", "kin", "X", 3),
    (
        "{X}~4(?:认|收|过继)~1{Y}(?:为|做|作)(?:义子|义女|干儿子|干女儿|螟蛉|嗣子|继子)",
        "kin",
        "X",
        3,
    ),
    # 夫妻恋人
    (
        "{X}~2(?:的|之)?(?:妻子|之妻|其妻|夫人|老婆|媳妇|丈夫|夫君|小妾|爱妾|侍妾|姬妾|浑家|娘子|未婚妻|未婚夫)"
        "~1{Y}",
        "lovers",
        None,
        3,
    ),
    ("{Y}(?:是|乃|为)~3{X}(?:的|之)~2(?:妻|妾|夫人|丈夫|媳妇|房里人)", "lovers", None, 3),
    # X himself marries: 聘 (betrothing someone to a third) and a far subject (X告诉……要娶Y) do not count
    # 讨 marries (讨了老婆) unless it makes a verb of its own (讨平寘鐇, 讨伐, 讨饶)
    (
        "{X}~3(?:娶|纳|迎娶|收用|偷娶|讨(?![平伐贼逆饶债救战论厌教好赏情]))(?:了)?~4{Y}",
        "lovers",
        None,
        3,
    ),
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
    (f"{{X}}，?~6(?:与|和|同|跟)~1{{Y}}≈10{_SWEAR}", "sworn", None, 3),
    # Named together in a list, then the swearing: 念X、Z、Y，虽然异姓，既结为兄弟
    (f"{{X}}、(?:[^、，。！？“”]{{1,4}}、)?{{Y}}≈16{_SWEAR}", "sworn", None, 3),
    # The speaker swore with the other: X曰：“吾与Y桃园结义……”
    (
        f"{{X}}~12(?:曰|道|说)：?“[^”]{{0,10}}(?:吾|我)(?:与|和|同|跟)~2{{Y}}~6{_SWEAR}",
        "sworn",
        None,
        3,
    ),
    (
        "{X}(?:的|之)?(?:义兄|义弟|义姐|义妹|盟兄|盟弟|结义兄弟|结拜兄弟|结义哥哥|结拜哥哥|把兄弟|"
        "结义的兄弟|结拜的兄弟|八拜之交)~2{Y}",
        "sworn",
        None,
        3,
    ),
    (
        "{Y}(?:是|乃|系)~4{X}(?:的|之)~2(?:结义|结拜|八拜|盟)(?:的)?(?:兄弟|弟兄|哥哥|兄长|之交|姐妹)",
        "sworn",
        None,
        3,
    ),
    # 盟友
    (
        "{X}(?:与|和|同|共){Y}~4(?:联手|并肩|结盟|交好|相好|合兵|会合|联合|同心|合力|协力|结伴)",
        "ally",
        None,
        2,
    ),
    ("{X}(?:与|和|同|共){Y}~6(?:同行|一同|一起|同去|商议|计议)", "ally", None, 1),
    ("{X}(?:与|和|同|共|约){Y}~6(?:共破|联兵|合兵|同心|协力|戮力|夹攻|并力)", "ally", None, 2),
    # Asking the other for help: 请X来助, 求救于X, 向X借兵
    (
        "{X}~6(?:请|求|央|拜请|恳请|去请|来请|借)~2{Y}~6(?:相助|助战|来助|助阵|帮助|帮忙|救|降|助我|出兵|借兵)",
        "ally",
        None,
        2,
    ),
    ("{X}~4(?:求救于|求助于|求援于|请救于|借兵于|告求|投书于)~1{Y}", "ally", None, 2),
    (
        "{X}~4(?:向|往|去|到|来)~1{Y}(?:处|那里|帐下)?~4(?:求救|求援|借兵|请救|讨救|告急)",
        "ally",
        None,
        2,
    ),
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
    (
        f"{_SENTENCE_OPENS}{{X}}≈30(?:吩咐|命|令|派|差|唤|叫)(?:{_UNDERLINGS})~1{{Y}}",
        "lord",
        "X",
        2,
    ),
    # A clause without a subject goes on about the one just named: 那人叫Y，……，是X的手下
    (f"{{Y}}≈12，(?:是|乃)~8{{X}}(?:的|之)~2(?:{_UNDERLINGS})", "lord", "X", 2.5),
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
    # The subject of a sentence gives an order to the other: 操出马视之，……便令许褚出马
    ("(?:^|(?<=[。！？”\n])){X}≈30(?:令|命|遣|差|唤|教)~0{Y}", "lord", "X", 1.5),
    ("{Y}~6(?:拜|奉|尊|称)~2{X}为(?:主公|主|君)", "lord", "X", 3),
    # Appointing the other to a post (X……差Y为先锋), advising him (X欲出迎，Y谏曰), reporting to
    # him (Y遣使奏闻X)
    (f"{{X}}≈30(?:差|令|命|拜|封|任|以|用|点)~2{{Y}}为(?:{_POSTS})", "lord", "X", 2),
    ("{X}≈16，{Y}~2(?:谏|进谏|苦谏|力谏)(?:曰|道|：)", "lord", "X", 1.5),
    ("{Y}≈20(?:奏闻|奏知|启奏|回奏)~1{X}", "lord", "X", 2),
    # 敌对
    ("{X}~4(?:引兵|引军|领兵|提兵|引|领)≈12(?:迎|战|拒|敌|击|攻)~1{Y}", "enemy", None, 2),
    (
        f"{{X}}~4(?:战|斩|杀|擒|捉|攻|{_HIT}|骂|刺|射|追(?!寻|随|问|思|念|忆|悔|究)|害|伐|讨|破|围|困|砍|劈|偷袭|拿住|捉住|擒住|"
        "迎敌|抵敌|拦住)~3{Y}",
        "enemy",
        None,
        1.5,
    ),
    ("{Y}~4中了{X}的(?:毒|计|埋伏|暗算|圈套)", "enemy", None, 2.5),
    # The subject of a sentence strikes the other: X大怒，一剑刺中Y的肩头
    (
        f"{_SENTENCE_OPENS}{{X}}≈20一(?:剑|刀|枪|掌|拳|脚|棒|棍|箭|戟|斧|鞭|锤|钯|杖)~3"
        "(?:刺|砍|劈|拍|打|击|射|戳|扫|挑|斩|搠|捅|踢|穿|中)~4{Y}",
        "enemy",
        None,
        2,
    ),
    (
        "{X}(?:与|和|同|共|战){Y}~10(?<!并肩|联手|一起|一同|协力|合力)"
        "(?:交战|大战|交锋|厮杀|交手|斗(?!嘴)|对敌|为敌|反目|翻脸|对阵|相持|动手|拼杀|恶斗|争斗)"
        # with each other, not side by side against a third: nothing like an object follows
        f"{_NO_OBJECT}",
        "enemy",
        None,
        2.5,
    ),
    ("{X}(?:的|之)?(?:仇人|仇敌|死敌|对头|敌人|宿敌)~2{Y}", "enemy", None, 3),
    ("{X}~6(?:恨|仇|陷害|算计|暗算|谋害|毒死|逼死|咒|背叛|出卖|反目)~4{Y}", "enemy", None, 2),
    ("{Y}~3(?:被|遭)~1{X}~6(?:杀|斩|擒|捉|打|拿|害|骂|射|败|困|捆|吊|收|降|伏)", "enemy", None, 2),
    ("{X}~3(?:降伏|降服|收伏|收服|降了|打死|杀了|斩了|擒了)~2{Y}", "enemy", None, 2.5),
)

INSULTS = "泼猴|妖猴|泼怪|泼妖|妖孽|妖怪|妖精|妖魔|泼魔|孽畜|孽障|逆贼|老贼|反贼|狗贼|贼子|匹夫|鼠辈|竖子|这厮"
# Words said in a quote, by type: (words, who says them). "junior": the junior addresses the
# senior ("师父", "主公", and self-names like "臣", "奴婢"); "senior": the other way ("徒儿");
# None: either way.
ADDRESS: tuple[tuple[str, str, str | None, float], ...] = (
    ("师父|师傅|恩师|师尊|老师", "master", "junior", 2),
    ("徒儿|徒弟|贤徒", "master", "senior", 2),
    ("师兄|师弟|师姐|师妹", "fellow", None, 1.5),
    (
        "父亲|爹爹|母亲|父王|母后|父皇|祖母|老祖宗|伯父|叔父|舅舅|姑妈|姨妈|爹|(?<![姑新婆姨大老奶])娘(?![子们])",
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
    # Insults count as the opening vocative or after 你这 (said of a third person they say nothing).
    (INSULTS, "enemy", None, 1.5),
)
# Threats and challenges count anywhere near the start of a quote.
# What the speaker holds against the one spoken to: “你盗我师门剑谱，毒伤我师父”
GRIEVANCES = "你~4(?:杀|害|盗|偷|毒|伤|掳|抢|骗|出卖|背叛|逼死|陷害)了?~2(?:我|俺|吾)"
THREATS = "哪里走|受死|拿命来|休走|看棍|看刀|看枪|吃我|饶你|纳命|找死|报仇|偿命|血债|算账"
