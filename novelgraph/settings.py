"""Settings for novelgraph: every value comes from the environment or `.env` (see .env.example)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from novelgraph.secret import installation_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def _read(cast, name: str, default):
    """Read one variable; a malformed value stops start-up with a message naming it."""
    try:
        return cast(name, default=default)
    except (ValueError, TypeError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(
            f"环境变量 {name} 的值无效 (invalid value for {name}): {exc}"
        ) from None


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    """A strict boolean: django-environ reads any unknown word as False, which hides typos."""
    value = _read(env.str, name, str(default)).strip().lower()
    if value not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"环境变量 {name} 必须是 true 或 false (must be true or false)")
    return value in _TRUE


def _positive(name: str, default: int, most: int | None = None) -> int:
    value = _read(env.int, name, default)
    if value < 1 or (most is not None and value > most):
        bound = f"1 到 {most} 之间的整数" if most else "正整数"
        raise ImproperlyConfigured(
            f"环境变量 {name} 必须是{bound} (must be within 1..{most or '∞'})"
        )
    return value


def _nonnegative(name: str, default: int) -> int:
    value = _read(env.int, name, default)
    if value < 0:
        raise ImproperlyConfigured(f"环境变量 {name} 不能是负数 (must not be negative)")
    return value


def _secret_key() -> str:
    """SECRET_KEY if set; otherwise this installation's random key in SECRET_KEY_FILE (made on
    first run, mode 0600, never printed; see novelgraph/secret.py)."""
    key = _read(env.str, "SECRET_KEY", "")
    if key:
        return key
    path = BASE_DIR / _read(env.str, "SECRET_KEY_FILE", "var/secret_key")  # relative to the project
    try:
        return installation_key(path)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"未设置 SECRET_KEY，且无法在 {path} 生成密钥 (cannot create the secret key file): "
            f"{exc.strerror or exc}；请设置环境变量 SECRET_KEY"
        ) from None


SECRET_KEY = _secret_key()
DEBUG = _bool("DEBUG", False)
ALLOWED_HOSTS = _read(env.list, "ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = _read(env.list, "CSRF_TRUSTED_ORIGINS", [])

# --- HTTPS (production behind a TLS proxy; see README "生产环境") -------------------------------
# Off by default so that the local admin (runserver on http://127.0.0.1) keeps working.
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = _nonnegative("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", False)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (else SSL redirects loop).
if _bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "graph",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "novelgraph.urls"
WSGI_APPLICATION = "novelgraph.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
except (ValueError, ImproperlyConfigured) as exc:
    raise ImproperlyConfigured(
        f"环境变量 DATABASE_URL 的值无效 (invalid value for DATABASE_URL): {exc}"
    ) from None
if not DATABASES["default"]["ENGINE"].startswith("django.db.backends."):
    raise ImproperlyConfigured(
        "环境变量 DATABASE_URL 的数据库类型不受支持 (unsupported database in DATABASE_URL): "
        "请使用 sqlite:/// 或 postgres://"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Pollers and the uploader may write at the same time: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = _read(env.str, "TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Commands report through their own output (graph.progress); only the SDK's HTTP client logs,
# and it would log every request line: keep it quiet.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"httpx": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}

# --- Zhipu API -----------------------------------------------------------------------------
ZHIPUAI_API_KEY = _read(env.str, "ZHIPUAI_API_KEY", "")
ZHIPUAI_BASE_URL = _read(env.str, "ZHIPUAI_BASE_URL", "https://open.bigmodel.cn/api/paas/v4")
ZHIPUAI_TIMEOUT = _read(env.float, "ZHIPUAI_TIMEOUT", 60.0)
USE_BATCH_API_FOR_GRAPH = _bool("USE_BATCH_API_FOR_GRAPH", True)
LLM_MODEL = _read(env.str, "LLM_MODEL", "glm-4-flash")
LLM_MAX_ATTEMPTS = _positive("LLM_MAX_ATTEMPTS", 3)
# glm-4-flash refuses every request asking for more than 4,095 completion tokens.
LLM_MAX_TOKENS = _positive("LLM_MAX_TOKENS", 512, most=4095)
REALTIME_CONCURRENCY_RELATION = _positive("REALTIME_CONCURRENCY_RELATION", 5)
REALTIME_CONCURRENCY_ATTRIBUTE = _positive("REALTIME_CONCURRENCY_ATTRIBUTE", 3)
BATCH_MAX_LINES = _positive("BATCH_MAX_LINES", 50_000)
# Zhipu documents "100 MB"; the decimal reading is the safe one (a 435 reply splits anyway).
BATCH_MAX_BYTES = _positive("BATCH_MAX_BYTES", 100_000_000)
BATCH_DIR = BASE_DIR / _read(env.str, "BATCH_DIR", "var/batches")  # relative to the project
POLL_INTERVAL = _positive("POLL_INTERVAL", 30)
# How long a poller owns a batch job; a job left by a killed poller is taken over after this.
BATCH_CLAIM_SECONDS = _positive("BATCH_CLAIM_SECONDS", 600)
# A batch still unfinished this long after submission is cancelled; its questions are answered
# realtime (when the key and quota allow) or by the offline rules, so every novel completes.
BATCH_DEADLINE_HOURS = _positive("BATCH_DEADLINE_HOURS", 24)
# Batch mode also sends the passages to the embedding model (search and evidence by meaning).
EMBED_PASSAGES = _bool("EMBED_PASSAGES", True)

# --- Graph building ------------------------------------------------------------------------
# Requests per novel (relation, evolution and attribute questions); 0: scaled to the novel's
# length (390 per million characters, at least 450; see graph/budget.py).
LLM_REQUEST_BUDGET = _read(env.int, "LLM_REQUEST_BUDGET", 0)
if LLM_REQUEST_BUDGET < 0:
    raise ImproperlyConfigured("环境变量 LLM_REQUEST_BUDGET 必须 ≥ 0（0 表示按篇幅自动）")
GRAPH_CHARACTER_LIMIT = _positive("GRAPH_CHARACTER_LIMIT", 300)
EVIDENCE_TOKEN_BUDGET = _positive("EVIDENCE_TOKEN_BUDGET", 1500)

# --- Search: passage vectors from the model (when a key is set), else a local vectorizer ---
EMBEDDING_MODEL = _read(env.str, "EMBEDDING_MODEL", "embedding-3")
EMBEDDING_DIMENSIONS = _positive("EMBEDDING_DIMENSIONS", 512)  # embedding-3 takes 256 to 2048
EMBEDDING_CONCURRENCY = _positive("EMBEDDING_CONCURRENCY", 3)  # realtime requests in flight

# --- Graph page: vis-network served locally (no CDN) ---------------------------------------
# The standalone vis-network build ships inside the `pyvis` package (requirements.txt); serve its
# folder as static/vendor/vis-network/. find_spec locates the package without importing it.
import importlib.util  # noqa: E402

_pyvis = importlib.util.find_spec("pyvis")
STATICFILES_DIRS = (
    [("vendor/vis-network", Path(_pyvis.origin).parent / "lib" / "vis-9.1.2")] if _pyvis else []
)
