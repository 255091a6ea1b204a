"""The network boundary: the only module that imports the ``zhipuai`` SDK.

It wraps files, batches and chat completions behind small typed methods and turns
every SDK failure into one exception type, :class:`ZhipuError`, whose flags tell the
caller what to do next (retry, give up on this request, split the file, stop all work).
The SDK's own retries are switched off: callers decide when to retry.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import zhipuai
from zhipuai.core._errors import APIStatusError, APITimeoutError, ZhipuAIError

from graph.llm import codes

BATCH_ENDPOINT = "/v4/chat/completions"
ACTIVE_STATUSES = frozenset({"validating", "in_progress", "finalizing", "cancelling"})
TERMINAL_STATUSES = frozenset({"failed", "completed", "expired", "cancelled"})
BATCH_STATUSES = ACTIVE_STATUSES | TERMINAL_STATUSES
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
LIST_PAGE = 100  # the most batches the service lists per page
MAX_LISTED = 20_000  # batches looked through for a lost one before giving up for this round
_MS_THRESHOLD = 10**11  # timestamps below this are seconds, above it milliseconds
_MAX_MESSAGE = 500


class ZhipuError(Exception):
    """A failed call to the Zhipu API, classified for the caller.

    ``permanent`` means this very request is at fault: sending it again cannot help.
    ``fatal`` means every further request will fail the same way until a person acts (bad key,
    empty balance, used-up quota, no real-name verification, a batch file refused whole): stop
    the run, default nothing; ``advice`` then says in one line what to do.
    ``too_large`` means the uploaded file is over the size limit: split it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        permanent: bool = False,
        fatal: bool = False,
        too_large: bool = False,
        advice: str = "",
    ) -> None:
        self.message = " ".join(message.split())[:_MAX_MESSAGE]
        self.status = status
        self.code = code
        self.permanent = permanent
        self.fatal = fatal
        self.too_large = too_large
        self.advice = advice
        super().__init__(self.message)

    @property
    def user_line(self) -> str:
        """One line for the user: what to do, then what the server said."""
        said = f"{self.code}：{self.message}" if self.code else self.message
        return f"{self.advice}（服务器消息 {said}）" if self.advice else f"智谱 API 出错：{said}"


@dataclass(frozen=True)
class BatchInfo:
    """The state of a remote batch, normalized (``""`` ids become None, times are UTC)."""

    id: str
    status: str
    input_file_id: str | None
    output_file_id: str | None
    error_file_id: str | None
    total: int | None
    completed: int | None
    failed: int | None
    created_at: datetime | None
    in_progress_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    expired_at: datetime | None = None
    cancelled_at: datetime | None = None
    errors: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatReply:
    """The useful part of one chat completion."""

    content: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class ResultLine:
    """One line of a batch output or error file."""

    custom_id: str | None
    ok: bool
    content: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    error_code: str | None
    error_message: str | None


def to_datetime(value: int | float | None) -> datetime | None:
    """Turn a server timestamp (milliseconds, or seconds when small) into an aware UTC datetime."""
    if not value:
        return None
    seconds = value / 1000 if value >= _MS_THRESHOLD else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """Read ``{"error": {"code", "message"}}`` from an error response, if it has that shape."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return (None if code is None else str(code)), message


def _status_error(exc: APIStatusError) -> ZhipuError:
    """Classify an HTTP error by status and business code."""
    status = exc.status_code
    code, text = _error_body(exc.response)
    message = f"HTTP {status} code {code}: {text}" if text else str(exc)
    fatal = codes.is_account_fault(status, code)
    too_large = status == 435
    retryable = (
        status in _RETRYABLE_STATUSES
        or status >= 500
        or too_large
        or code in codes.TRANSIENT_ACCOUNT_CODES
    )
    advice = ""
    if fatal:
        advice = codes.advice(status, code, text or "")
    elif code == codes.BUSY_MODEL_CODE:
        advice = codes.busy_advice(text or "")
    return ZhipuError(
        message,
        status=status,
        code=code,
        permanent=not (retryable or fatal),
        fatal=fatal,
        too_large=too_large,
        advice=advice,
    )


def _convert(exc: Exception, api_key: str) -> ZhipuError:
    """Turn any SDK or transport exception into a ZhipuError with the key scrubbed."""
    if isinstance(exc, APIStatusError):
        error = _status_error(exc)
    else:
        kind = "timeout" if isinstance(exc, APITimeoutError | httpx.TimeoutException) else "error"
        error = ZhipuError(f"{kind}: {type(exc).__name__}: {exc}")
    error.message = _scrub(error.message, api_key)
    error.args = (error.message,)
    return error


def _scrub(text: str, api_key: str) -> str:
    """Remove the API key (and its secret half) from a message."""
    for secret in (api_key, api_key.partition(".")[2]):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _batch_info(batch: Any) -> BatchInfo:
    """Build a BatchInfo from the SDK's Batch object."""
    if not getattr(batch, "id", None) or getattr(batch, "status", None) not in BATCH_STATUSES:
        raise ZhipuError(f"the response is not a batch: {str(batch)[:200]}", status=200)
    counts = batch.request_counts
    errors = getattr(batch.errors, "data", None) or []
    return BatchInfo(
        id=batch.id,
        status=batch.status,
        input_file_id=batch.input_file_id or None,
        output_file_id=batch.output_file_id or None,
        error_file_id=batch.error_file_id or None,
        total=getattr(counts, "total", None),
        completed=getattr(counts, "completed", None),
        failed=getattr(counts, "failed", None),
        created_at=to_datetime(batch.created_at),
        in_progress_at=to_datetime(batch.in_progress_at),
        completed_at=to_datetime(batch.completed_at),
        failed_at=to_datetime(batch.failed_at),
        expired_at=to_datetime(batch.expired_at),
        cancelled_at=to_datetime(batch.cancelled_at),
        errors=[_batch_error_text(e) for e in errors],
        metadata=dict(batch.metadata or {}),
    )


def _batch_error_text(error: Any) -> str:
    """Format one validation error as ``line N: code message``."""
    text = f"{error.code} {error.message}"
    return f"line {error.line}: {text}" if error.line is not None else text


class ZhipuClient:
    """A thin, typed wrapper over ``zhipuai.ZhipuAI`` with SDK retries switched off."""

    def __init__(self, api_key: str, base_url: str, timeout: float = 60.0) -> None:
        if not api_key:
            raise ValueError("no Zhipu API key is configured (ZHIPUAI_API_KEY)")
        self._key = api_key
        self._sdk = zhipuai.ZhipuAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        params = inspect.signature(self._sdk.chat.completions.create).parameters
        self._chat_params = frozenset(params) - {"extra_headers", "extra_body", "timeout"}

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the SDK and convert whatever it raises."""
        try:
            return fn(*args, **kwargs)
        except (ZhipuAIError, httpx.HTTPError) as exc:
            raise _convert(exc, self._key) from None
        except json.JSONDecodeError as exc:
            raise ZhipuError(f"the response is not JSON: {exc}", status=200) from None

    def upload_batch_file(self, filename: str, data: bytes) -> str:
        """Upload a JSONL batch input file and return its file id.

        A refusal of the whole file (HTTP 400, e.g. code 1210: a model not on the batch whitelist,
        or a custom_id the service does not accept) would repeat for every retry: it is fatal."""
        file = (filename, data, "application/jsonl")
        try:
            return self._call(self._sdk.files.create, file=file, purpose="batch").id
        except ZhipuError as exc:
            if exc.permanent and not exc.fatal:
                exc.fatal = True
                exc.advice = (
                    "批处理文件被智谱整体拒绝（模型不在批处理白名单中，或 custom_id 不合规）："
                    "请检查 LLM_MODEL 后重新运行"
                )
            raise

    def create_batch(
        self,
        input_file_id: str,
        metadata: dict[str, str] | None = None,
        endpoint: str = BATCH_ENDPOINT,
    ) -> BatchInfo:
        """Start a batch over an uploaded file (chat completions unless `endpoint` says
        otherwise; one endpoint per file). The server deletes the input afterwards."""
        extra = {"metadata": metadata} if metadata is not None else {}
        batch = self._call(
            self._sdk.batches.create,
            endpoint=endpoint,
            input_file_id=input_file_id,
            auto_delete_input_file=True,
            **extra,
        )
        return _batch_info(batch)

    def retrieve_batch(self, batch_id: str) -> BatchInfo:
        """Fetch the current state of a batch."""
        return _batch_info(self._call(self._sdk.batches.retrieve, _require(batch_id)))

    def cancel_batch(self, batch_id: str) -> BatchInfo:
        """Ask the server to cancel a batch."""
        return _batch_info(self._call(self._sdk.batches.cancel, _require(batch_id)))

    def iter_batches(self, page_size: int = LIST_PAGE) -> Iterator[BatchInfo]:
        """Every batch of the account, in the order the service lists them (which is not
        promised: a recorded real listing is oldest first). Pages by hand: the SDK's own
        pagination ignores ``has_more``; we stop on an empty page or ``has_more`` false."""
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": page_size}
            if after:
                kwargs["after"] = after
            page = self._call(self._sdk.batches.list, **kwargs)
            data = page.data or []
            yield from (_batch_info(b) for b in data)
            if not data or getattr(page, "has_more", None) is False:
                return
            after = data[-1].id

    def find_batch(
        self, key: str, value: str, max_batches: int = MAX_LISTED
    ) -> tuple[BatchInfo | None, bool]:
        """The batch whose ``metadata[key] == value``, looked for in the whole listing whatever
        its order. Returns (batch or None, whether the listing was read to its end)."""
        for seen, info in enumerate(self.iter_batches(), 1):
            if info.metadata.get(key) == value:
                return info, True
            if seen >= max_batches:
                return None, False
        return None, True

    def download_file(self, file_id: str) -> bytes:
        """Download a file's raw bytes (output or error JSONL)."""
        return self._call(self._sdk.files.content, _require(file_id)).content

    def delete_file(self, file_id: str) -> None:
        """Delete a remote file."""
        self._call(self._sdk.files.delete, _require(file_id))

    def chat(self, body: dict, timeout: float | None = None) -> ChatReply:
        """Send one chat completion built from a full request body and return its reply."""
        kwargs = {k: v for k, v in body.items() if k in self._chat_params and k != "stream"}
        kwargs["messages"] = copy.deepcopy(body["messages"])
        extra_body = {k: v for k, v in body.items() if k not in self._chat_params}
        if extra_body:
            kwargs["extra_body"] = extra_body
        if timeout is not None:
            kwargs["timeout"] = timeout
        completion = self._call(self._sdk.chat.completions.create, **kwargs)
        return _chat_reply(completion)

    def embed(self, texts: list[str], *, model: str, dimensions: int) -> list[list[float]]:
        """Embed 1 to 64 texts (each at most 3,072 tokens) in one request; vectors in input order."""
        if not 0 < len(texts) <= 64:
            raise ValueError("one embedding request takes 1 to 64 texts")
        reply = self._call(
            self._sdk.embeddings.create, model=model, input=list(texts), dimensions=dimensions
        )
        data = sorted(getattr(reply, "data", None) or [], key=lambda e: e.index or 0)
        vectors = [list(getattr(e, "embedding", None) or []) for e in data]
        if len(vectors) != len(texts) or any(len(v) != dimensions for v in vectors):
            raise ZhipuError(
                f"the reply has {len(vectors)} vectors for {len(texts)} texts, or a wrong size",
                status=200,
                code="bad_embedding",
            )
        return vectors


def _require(identifier: str) -> str:
    """Refuse an empty id before it becomes a path like ``/files//content``."""
    if not identifier:
        raise ValueError("an empty id was given")
    return identifier


def _chat_reply(completion: Any) -> ChatReply:
    """Check a completion and extract its content and usage."""
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise ZhipuError("the reply has no choices", status=200, code="empty_reply")
    choice = choices[0]
    finish = choice.finish_reason
    if finish == "sensitive":
        raise ZhipuError(
            "the reply was blocked as sensitive", status=200, code=finish, permanent=True
        )
    if finish == "network_error":
        raise ZhipuError("the model reported a network error", status=200, code=finish)
    content = getattr(choice.message, "content", None)
    if not content:
        raise ZhipuError("the reply has empty content", status=200, code="empty_reply")
    usage = completion.usage
    return ChatReply(
        content=content,
        finish_reason=finish,
        prompt_tokens=getattr(usage, "prompt_tokens", None) or 0,
        completion_tokens=getattr(usage, "completion_tokens", None) or 0,
    )


def client_from_settings() -> ZhipuClient:
    """Build a client from ``ZHIPUAI_API_KEY``, ``ZHIPUAI_BASE_URL`` and ``ZHIPUAI_TIMEOUT``."""
    from django.conf import settings

    return ZhipuClient(
        api_key=settings.ZHIPUAI_API_KEY,
        base_url=settings.ZHIPUAI_BASE_URL,
        timeout=float(settings.ZHIPUAI_TIMEOUT),
    )


def _failed_line(custom_id: str | None, code: Any, message: Any) -> ResultLine:
    """A result line that carries an error."""
    return ResultLine(
        custom_id, False, None, None, 0, 0, None if code is None else str(code), message
    )


def result_lines(text: str) -> Iterator[str]:
    """The lines of a result file: split on "\\n" only (str.splitlines would also split at
    U+2028, U+2029 or U+0085 inside a model's reply)."""
    for raw in text.split("\n"):
        if raw.strip():
            yield raw.rstrip("\r")


def parse_result_line(line: str) -> ResultLine:
    """Parse one line of a batch output or error file; never raises."""
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _failed_line(None, "unparsable", f"the line does not parse as JSON: {line[:80]!r}")
    custom_id = data.get("custom_id")
    custom_id = str(custom_id) if custom_id is not None else None
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    error = data.get("error") or body.get("error")
    if isinstance(error, dict):
        return _failed_line(custom_id, error.get("code"), error.get("message"))
    status = response.get("status_code")
    if status not in (200, None):
        return _failed_line(custom_id, status, f"the response has status {status}")
    return _success_line(custom_id, body)


def _success_line(custom_id: str | None, body: dict) -> ResultLine:
    """Read content, finish reason and usage from a 200 response body."""
    choices = body.get("choices") or []
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content = message.get("content")
    finish = choice.get("finish_reason")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    if finish in ("sensitive", "network_error"):
        error = f"the reply ended with finish_reason {finish}"
        return ResultLine(custom_id, False, content, finish, prompt, completion, finish, error)
    if not choice or not content:
        error = "the reply has no content"
        return ResultLine(
            custom_id, False, content, finish, prompt, completion, "empty_reply", error
        )
    return ResultLine(custom_id, True, content, finish, prompt, completion, None, None)
