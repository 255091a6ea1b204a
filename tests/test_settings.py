"""Settings come from the environment; a malformed value stops start-up naming the variable."""

import os
import re
import secrets
import stat
import subprocess
import sys

import pytest

from tests.conftest import REPO


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=environment, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LLM_MAX_ATTEMPTS", "three"),
        ("LLM_MAX_ATTEMPTS", "0"),
        ("USE_BATCH_API_FOR_GRAPH", "maybe"),
        ("LLM_REQUEST_BUDGET", "-5"),
        ("LLM_MAX_TOKENS", "5000"),  # glm-4-flash refuses every request above 4095
        ("ZHIPUAI_TIMEOUT", "soon"),
        ("DATABASE_URL", "nosuchdb://x"),
    ],
)
def test_a_malformed_value_stops_start_up_with_one_line_naming_it(name, value):
    result = manage("check", **{name: value})
    assert result.returncode == 2
    assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_well_formed_values_are_read(tmp_path):
    result = manage(
        "shell", "-c",
        "from django.conf import settings as s; print(s.LLM_MAX_ATTEMPTS, s.USE_BATCH_API_FOR_GRAPH, s.LLM_REQUEST_BUDGET)",
        LLM_MAX_ATTEMPTS="5", USE_BATCH_API_FOR_GRAPH="false", LLM_REQUEST_BUDGET="50",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["5", "False", "50"]


# Every helper that reads a variable passes its name as the first string argument:
# _read(env.int, "NAME", …), _bool("NAME", …), _positive("NAME", …), env.db("NAME", …).
READ_NAME = re.compile(r'\b(?:_\w+|env\.\w+)\(\s*(?:env\.\w+,\s*)?"([A-Z][A-Z0-9_]*)"')


def settings_read(settings_source: str) -> set[str]:
    return set(READ_NAME.findall(settings_source))


def unlisted(settings_source: str, example: str) -> set[str]:
    """Variables the settings read that .env.example does not list as `NAME=`."""
    return settings_read(settings_source) - set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))


def test_env_example_lists_every_setting_read_from_the_environment():
    settings_source = (REPO / "novelgraph" / "settings.py").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    found = settings_read(settings_source)
    # Every kind of reader is seen: a string, a boolean, a positive integer, a list, the database.
    assert {"SECRET_KEY", "DEBUG", "USE_BATCH_API_FOR_GRAPH", "LLM_MAX_ATTEMPTS", "ALLOWED_HOSTS",
            "DATABASE_URL", "SECURE_HSTS_SECONDS"} <= found  # fmt: skip
    assert unlisted(settings_source, example) == set()


def test_the_env_example_check_notices_a_missing_boolean():
    settings_source = (REPO / "novelgraph" / "settings.py").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    without_debug = re.sub(r"^DEBUG=.*$", "", example, flags=re.M)
    assert unlisted(settings_source, without_debug) == {"DEBUG"}


def shell(code: str, **env: str) -> subprocess.CompletedProcess:
    return manage("shell", "-c", code, **env)


KEY_DIGEST = (
    "import hashlib; from django.conf import settings as s; "
    "print(hashlib.sha256(s.SECRET_KEY.encode()).hexdigest(), len(s.SECRET_KEY))"
)


def digest(result: subprocess.CompletedProcess) -> str:
    return re.findall(r"\b[0-9a-f]{64}\b", result.stdout)[-1]


def test_without_secret_key_each_installation_gets_its_own_random_key_kept_private(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    key_file = tmp_path / "var" / "secret_key"
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", "shell", "-c", KEY_DIGEST], cwd=REPO, capture_output=True,
        text=True, timeout=60, env=environment | {"SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file),
                                                  "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
    )  # fmt: skip
    first, second = run(), run()
    assert first.returncode == 0, first.stderr
    key = key_file.read_text().strip()
    assert len(key) >= 50 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key not in first.stdout + first.stderr  # never printed
    assert digest(first) == digest(second)  # the same key on every run
    other = tmp_path / "other" / "secret_key"
    third = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", KEY_DIGEST], cwd=REPO, capture_output=True,
        text=True, timeout=60, env=environment | {"SECRET_KEY_FILE": str(other),
                                                  "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
    )  # fmt: skip
    assert digest(third) != digest(first)  # another installation, another key


def test_a_set_secret_key_is_used_and_no_key_file_is_made(tmp_path):
    key_file = tmp_path / "secret_key"
    result = shell(
        "from django.conf import settings as s; print(s.SECRET_KEY == 'k' * 60)",
        SECRET_KEY="k" * 60, SECRET_KEY_FILE=str(key_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )  # fmt: skip
    assert result.stdout.split()[-1] == "True", result.stderr
    assert not key_file.exists()


def test_the_repository_holds_no_fallback_secret_key():
    settings_source = (REPO / "novelgraph" / "settings.py").read_text(encoding="utf-8")
    assert not re.search(r'"SECRET_KEY",\s*"[^"]', settings_source)
    assert re.search(r"^SECRET_KEY=$", (REPO / ".env.example").read_text(encoding="utf-8"), re.M)


def readme_production_settings() -> dict[str, str]:
    """The variables of the README's production example (the block under "### 生产环境")."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### 生产环境") :]
    start = section.index("```bash") + len("```bash")
    block = section[start : section.index("```", start)]
    pairs = (line.split("#")[0].strip().split("=", 1) for line in block.splitlines() if "=" in line)
    return {name: value for name, value in pairs}


def test_check_deploy_with_the_readmes_production_settings_warns_only_of_what_it_explains(tmp_path):
    production = readme_production_settings()
    assert production["DEBUG"] == "false" and "SECURE_SSL_REDIRECT" in production
    production["SECRET_KEY"] = secrets.token_urlsafe(50)  # the README's placeholder, done
    production["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"  # no server needed to check
    result = manage("check", "--deploy", **production)
    warnings = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", result.stdout + result.stderr))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert warnings <= {w for w in warnings if f"`{w}`" in readme}, result.stderr
    assert not any(w.split(".")[1].startswith("E") for w in warnings)
    assert warnings == {"security.W005", "security.W021"}


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from novelgraph.secret import installation_key

    path = tmp_path / "var" / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: installation_key(path), range(32)))
    assert keys == {path.read_text().strip()}
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary left
