"""A small made-up novel for the search tests: three chapters, four people, distinct scenes."""

from __future__ import annotations

from graph.models import Chapter, Character, Novel

MARKET = (
    "张三与李四清早便到集市上去。集市里人声鼎沸，卖梨花酒的摊子前挤满了人。"
    "张三买了两坛梨花酒，李四笑他贪杯。两人一路说笑，把酒坛挂在扁担两头，慢慢走回村里。"
    "路上张三说起小时候偷喝梨花酒的事，李四听了哈哈大笑，说明年还要一同来赶集。"
    "回到村口，张三把一坛梨花酒送给李四，两人约好中秋再一起喝酒赏月，说罢各自回家去了。"
)
QUARREL = (
    "王五听说张三得了一口宝剑，连夜找上门来，要借宝剑去看。张三不肯，王五便骂他小气。"
    "两人越吵越凶，王五一掌拍碎了桌子，张三拔出宝剑指着他，说从此一刀两断，再不往来。"
    "邻居们围在门外，谁也劝不住。王五临走时放下狠话，说迟早要把这口宝剑夺到手。"
    "张三关上门，把宝剑擦了又擦，心里明白，王五这个朋友是再也做不成了，往后见面只当不认识。"
)
FISHING = (
    "李四独自坐在河边钓鱼。河水清澈，柳枝低垂，鱼儿在水草间游来游去。"
    "他从早上钓到傍晚，钓鱼竿一动不动，鱼篓里只有两条小鲫鱼。"
    "李四也不着急，躺在河边的草地上看云，听着河水哗哗地流，直到月亮升起才收起钓鱼竿回家。"
    "第二天一早他又扛着钓鱼竿来到河边，换了一处深水，这回钓上来一条两尺长的大鲤鱼。"
)
DUEL = (
    "王五带着一群人拦住李四，逼他说出宝剑藏在哪里。李四冷笑一声，抄起扁担便打。"
    "两人从村口打到山脚，王五的刀砍在石头上，火星四溅。李四一扁担扫中王五的腿，王五跌倒在地。"
    "众人见王五败了，一哄而散。李四扶起王五，劝他不要再打宝剑的主意。"
    "王五羞愧难当，一瘸一拐地走了。从那以后，村里再没人敢提起宝剑的事，李四的名声也传开了。"
)
FEAST = (
    "赵六娶亲那天，全村人都来喝喜酒。新娘穿着大红嫁衣，坐在堂上，赵六乐得合不拢嘴。"
    "厨房里蒸笼冒着白气，八仙桌摆满了鸡鸭鱼肉，孩子们追着新郎要喜糖。"
    "喝到半夜，赵六被众人灌醉，倒在门槛上呼呼大睡，新娘只好叫人把他抬进屋里。"
    "第二天赵六醒来，头疼欲裂，新娘端来一碗醒酒汤，笑他昨夜出尽了洋相，赵六只是嘿嘿地笑。"
)
CHAPTERS = [
    ("第一章 赶集", [MARKET, FEAST]),
    ("第二章 绝交", [QUARREL, FISHING]),
    ("第三章 比武", [DUEL]),
]
PEOPLE = [("张三", ["三郎"]), ("李四", []), ("王五", []), ("赵六", [])]


def make_story(title: str = "乡野传", sha: str = "s" * 64) -> Novel:
    """The novel with its chapters and characters, as the pipeline would leave them."""
    novel = Novel.objects.create(title=title, sha256=sha, stage=Novel.Stage.DONE)
    for number, (heading, paragraphs) in enumerate(CHAPTERS, 1):
        Chapter.objects.create(
            novel=novel, number=number, title=heading, text="\n".join(paragraphs)
        )
    for rank, (name, aliases) in enumerate(PEOPLE, 1):
        Character.objects.create(novel=novel, name=name, aliases=aliases, rank=rank)
    return novel
