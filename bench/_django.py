"""Set up Django for a benchmark script on a scratch database (SQLite in a temp folder by default)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NOVELGRAPH_SHARED", REPO.parent / "shared"))


def setup(database_url: str | None = None) -> Path:
    """Point Django at `database_url` (or a fresh SQLite file), migrate, and return the temp folder."""
    workdir = Path(tempfile.mkdtemp(prefix="novelgraph-bench-"))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("BATCH_DIR", str(workdir / "batches"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "novelgraph.settings")
    sys.path.insert(0, str(REPO))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return workdir


def big_input(workdir: Path, chars: int) -> Path:
    """The benchmark input built by shared/tools/make_big_novel.py (`chars` characters), in `workdir`."""
    path = workdir / "big_novel.txt"
    tool = SHARED / "tools" / "make_big_novel.py"
    subprocess.run([sys.executable, str(tool), "--chars", str(chars), "-o", str(path)], check=True)
    return path
