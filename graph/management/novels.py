"""Finding the novel a command names: by id, or by its exact title."""

from django.core.management.base import CommandError

from graph.models import Novel


def find_novel(key: str) -> Novel:
    """The novel whose id or (exact, unique) title is `key`; a CommandError (exit 2) otherwise."""
    if key.isdigit() and (novel := Novel.objects.filter(pk=int(key)).first()):
        return novel
    matches = list(Novel.objects.filter(title=key)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError(f"找不到小说：《{key}》有多部同名小说，请改用 id", returncode=2)
    raise CommandError(f"找不到小说：{key}{_known_titles()}", returncode=2)


def _known_titles(shown: int = 5) -> str:
    """A hint naming the stored novels, since a title often differs from what one expects."""
    novels = list(Novel.objects.order_by("pk").values_list("pk", "title")[: shown + 1])
    if not novels:
        return "（还没有上传任何小说）"
    listed = "、".join(f"《{title}》(id={pk})" for pk, title in novels[:shown])
    more = " 等" if len(novels) > shown else ""
    return (
        f"（已有：{listed}{more}；python manage.py novel_status 列出全部；"
        "要改书名，再次运行 upload_novel 同一文件并加 --title）"
    )
