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
    raise CommandError(f"找不到小说：{key}", returncode=2)
